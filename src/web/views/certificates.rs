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

pub fn verify(ctx: &Ctx, query: &str, found: Option<&CertificateRecord>, searched: bool, admin: bool) -> Markup {
    page(
        ctx,
        ctx.t("证书验证", "Verify a certificate"),
        html! {
            form.search method="get" action=(urls::VERIFY) role="search" {
                div.field {
                    label for="f-code" { (ctx.t("验证码或证书编号", "Verification code or serial")) }
                    input #f-code type="text" name="code" value=(query) autocomplete="off";
                }
                button.primary type="submit" { (ctx.t("验证", "Verify")) }
            }
            @if searched {
                @match found {
                    None => (notice("error", ctx.t("查无此证书。请核对验证码或编号。", "No such certificate. Check the code or serial."))),
                    Some(c) => {
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
