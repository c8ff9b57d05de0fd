//! Certificate pages: public verification, the officials' list, and admin revocation.

use maud::{Markup, html};

use super::When;
use super::forms::{csrf, notice};
use super::layout::page;
use crate::db::certificates::CertificateRecord;
use crate::domain::person::mask_name;
use crate::services::certificates::EmailStatus;
use crate::web::context::Ctx;
use crate::web::urls;

/// What a verification lookup found.
pub enum Verified {
    NotAsked,
    /// A serial without its code: refused, or serials (sequential) would list every certificate.
    CodeMissing,
    /// No certificate with this code, or the serial does not match it: one answer for both.
    NoMatch,
    Found(Box<CertificateRecord>),
}

pub fn verify(ctx: &Ctx, serial: &str, code: &str, outcome: &Verified, admin: bool) -> Markup {
    page(
        ctx,
        ctx.t("证书验证", "Verify a certificate"),
        html! {
            form.search method="get" action=(urls::VERIFY) role="search" {
                div.field {
                    label for="f-serial" { (ctx.t("证书编号（选填）", "Serial (optional)")) }
                    input #f-serial type="text" name="serial" value=(serial) autocomplete="off";
                }
                div.field {
                    label for="f-code" { (ctx.t("验证码", "Verification code")) }
                    input #f-code type="text" name="code" value=(code) autocomplete="off" aria-describedby="f-code-hint";
                    p #f-code-hint .hint { (ctx.t("验证码共12位，印在证书二维码下方的验证网址末尾；扫描二维码可直接验证。",
                        "The 12-character code ends the verification address printed below the certificate's QR code; scanning the QR code verifies directly.")) }
                }
                button.primary type="submit" { (ctx.t("验证", "Verify")) }
            }
            @match outcome {
                Verified::NotAsked => {},
                Verified::CodeMissing => (notice("error", ctx.t("请填写验证码。仅凭证书编号无法查询证书。",
                    "Enter the verification code. A serial alone does not look a certificate up."))),
                Verified::NoMatch => (notice("error", ctx.t("查无此证书：验证码不正确，或与证书编号不符。请核对后再试。",
                    "No such certificate: the code is wrong or does not match the serial. Check and try again."))),
                Verified::Found(c) => {
                        @if let Some(at) = c.revoked_at {
                            div.notice.error role="alert" {
                                p { strong { (ctx.t("此证书已撤销", "This certificate was revoked")) } " · " (When(at, ctx.lang)) }
                                @if let Some(r) = &c.revoke_reason { p { (ctx.t("原因：", "Reason: ")) (r) } }
                            }
                        } @else {
                            div.notice.ok role="status" { p { strong { (ctx.t("证书有效", "Valid certificate")) } } }
                        }
                        dl.facts {
                            dt { (ctx.t("持证人", "Holder")) } dd { (mask_name(&c.content.name)) }
                            dt { (ctx.t("业委会", "Committee")) } dd { (c.content.committee) }
                            dt { (ctx.t("培训", "Session")) } dd { (c.content.session_title) }
                            dt { (ctx.t("培训日期", "Date")) } dd { (c.content.session_date) }
                            dt { (ctx.t("发证单位", "Issued by")) } dd { (c.content.street) }
                            dt { (ctx.t("证书编号", "Serial")) } dd { (c.serial) }
                        }
                        @if admin && c.revoked_at.is_none() {
                            form.stack method="post" action=(urls::certificate_revoke(c.id)) {
                                (csrf(ctx))
                                div.field { label for="f-reason" { (ctx.t("撤销原因（管理员）", "Reason to revoke (administrators)")) } input #f-reason type="text" name="reason" required; }
                                button.danger type="submit" { (ctx.t("撤销此证书", "Revoke this certificate")) }
                            }
                        }
                    },
            }
        },
    )
}

pub struct Row<'a> {
    pub cert: &'a CertificateRecord,
    pub status: EmailStatus,
    pub last_error: Option<&'a str>,
}

pub fn session_list(ctx: &Ctx, title: &str, rows: &[Row]) -> Markup {
    page(
        ctx,
        &format!("{} · {}", ctx.t("结业证书", "Certificates"), title),
        html! {
            @if rows.is_empty() { p.empty { (ctx.t("还没有颁发证书。", "No certificates issued yet.")) } }
            table.list {
                thead { tr {
                    th scope="col" { (ctx.t("姓名", "Name")) } th scope="col" { (ctx.t("证书编号", "Serial")) }
                    th scope="col" { (ctx.t("邮件", "Email")) } th scope="col" { span.visually-hidden { (ctx.t("操作", "Actions")) } }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td data-label=(ctx.t("姓名", "Name")) { (r.cert.content.name) @if r.cert.revoked_at.is_some() { " " span.tag.warn { (ctx.t("已撤销", "revoked")) } } }
                            td data-label=(ctx.t("证书编号", "Serial")) { a href=(urls::certificate_pdf(r.cert.id)) { (r.cert.serial) } }
                            td data-label=(ctx.t("邮件", "Email")) {
                                span.tag .ok[r.status == EmailStatus::Sent] .warn[r.status == EmailStatus::Failed] { (r.status.label(ctx.lang)) }
                                @if let Some(e) = r.last_error { br; span.meta { (e) } }
                            }
                            td {
                                @if r.status != EmailStatus::NoEmail {
                                    form.inline method="post" action=(urls::certificate_resend(r.cert.id)) {
                                        (csrf(ctx))
                                        button type="submit" { (ctx.t("重新发送", "Resend")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
