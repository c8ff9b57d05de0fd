//! Certificate pages: public verification, the officials' list, and admin revocation.

use maud::{Markup, html};

use super::When;
use super::forms::{Input, csrf, error_for, notice};
use super::layout::page;
use crate::domain::certificate::CertificateRecord;
use crate::domain::person::mask_name;
use crate::i18n::Text;
use crate::services::certificates::{CertificateRow, EmailStatus, Verified};
use crate::web::context::Ctx;
use crate::web::urls;

/// The verification page: what was typed, what it found, and whether the revocation form is offered
/// (to admins), with its problems when it came back.
pub struct VerifyPage<'a> {
    pub serial: &'a str,
    pub code: &'a str,
    pub outcome: &'a Verified,
    pub admin: bool,
    pub errors: &'a [(&'static str, Text)],
}

fn lookup_form(ctx: &Ctx, serial: &str, code: &str) -> Markup {
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
    }
}

fn validity(ctx: &Ctx, c: &CertificateRecord) -> Markup {
    html! {
        @if let Some(at) = c.revoked_at {
            div.notice.error role="alert" {
                p { strong { (ctx.t("此证书已撤销", "This certificate was revoked")) } " · " (When(at, ctx.lang)) }
                @if let Some(r) = &c.revoke_reason { p { (ctx.t("原因：", "Reason: ")) (r) } }
            }
        } @else {
            div.notice.ok role="status" { p { strong { (ctx.t("证书有效", "Valid certificate")) } } }
        }
    }
}

fn facts(ctx: &Ctx, c: &CertificateRecord) -> Markup {
    html! {
        dl.facts {
            dt { (ctx.t("持证人", "Holder")) } dd { (mask_name(&c.content.name)) }
            dt { (ctx.t("业委会", "Committee")) } dd { (c.content.committee) }
            dt { (ctx.t("培训", "Session")) } dd { (c.content.session_title) }
            dt { (ctx.t("培训日期", "Date")) } dd { (c.content.session_date) }
            @if c.content.via_replay {
                dt { (ctx.t("取得方式", "Earned by")) } dd { (ctx.t("回看补测", "Make-up quiz after the replay")) }
            }
            dt { (ctx.t("发证单位", "Issued by")) } dd { (c.content.street) }
            dt { (ctx.t("证书编号", "Serial")) } dd { (c.serial) }
        }
    }
}

fn revoke_form(ctx: &Ctx, c: &CertificateRecord, errors: &[(&'static str, Text)]) -> Markup {
    let label = ctx.t("撤销原因（管理员）", "Reason to revoke (administrators)");
    html! {
        form.stack method="post" action=(urls::certificate_revoke(c.id)) {
            (csrf(ctx))
            (Input::new("reason", label, "").required().error(error_for(errors, "reason")).render(ctx.lang))
            button.danger type="submit" { (ctx.t("撤销此证书", "Revoke this certificate")) }
        }
    }
}

pub fn verify(ctx: &Ctx, p: &VerifyPage) -> Markup {
    // The answer first: someone arriving by a certificate's link should not scroll past the form to it.
    let body = html! {
        @match p.outcome {
            Verified::NotAsked => {},
            Verified::CodeMissing => (notice("error", ctx.t("请填写验证码。仅凭证书编号无法查询证书。",
                "Enter the verification code. A serial alone does not look a certificate up."))),
            Verified::NoMatch => (notice("error", ctx.t("查无此证书：验证码不正确，或与证书编号不符。请核对后再试。",
                "No such certificate: the code is wrong or does not match the serial. Check and try again."))),
            Verified::Found(c) => {
                (validity(ctx, c))
                (facts(ctx, c))
                @if p.admin && c.revoked_at.is_none() { (revoke_form(ctx, c, p.errors)) }
            },
        }
        (lookup_form(ctx, p.serial, p.code))
    };
    page(ctx, ctx.t("证书验证", "Verify a certificate"), body)
}

fn email_cell(ctx: &Ctx, r: &CertificateRow) -> Markup {
    html! {
        span.tag .ok[r.status == EmailStatus::Sent] .warn[r.status == EmailStatus::Failed] { (r.status.label(ctx.lang)) }
        @if let Some(e) = &r.last_error { br; span.meta { (e) } }
    }
}

fn row(ctx: &Ctx, r: &CertificateRow) -> Markup {
    html! {
        tr {
            td data-label=(ctx.t("姓名", "Name")) { (r.cert.content.name) @if r.cert.revoked_at.is_some() { " " span.tag.warn { (ctx.t("已撤销", "revoked")) } } }
            td data-label=(ctx.t("证书编号", "Serial")) { a href=(urls::certificate_pdf(r.cert.id)) { (r.cert.serial) } }
            td data-label=(ctx.t("邮件", "Email")) { (email_cell(ctx, r)) }
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

pub fn session_list(ctx: &Ctx, title: &str, rows: &[CertificateRow]) -> Markup {
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
                tbody { @for r in rows { (row(ctx, r)) } }
            }
        },
    )
}

/// The certificate as a page its holder can open in WeChat: the picture (which WeChat shows and saves by
/// a long press), what it certifies, the downloads and the public verification link.
pub fn certificate_page(ctx: &Ctx, c: &CertificateRecord) -> Markup {
    let t = &c.content;
    let alt = format!(
        "{}：{}，{}《{}》，{}",
        ctx.t("结业证书", "Certificate"),
        t.name,
        t.session_date,
        t.session_title,
        t.street
    );
    page(
        ctx,
        ctx.t("结业证书", "Certificate"),
        html! {
            (validity(ctx, c))
            dl.facts {
                dt { (ctx.t("持证人", "Holder")) } dd { (t.name) }
                dt { (ctx.t("业委会", "Committee")) } dd { (t.committee) }
                dt { (ctx.t("培训", "Session")) } dd { (t.session_title) }
                dt { (ctx.t("培训日期", "Date")) } dd { (t.session_date) }
                @if t.via_replay {
                    dt { (ctx.t("取得方式", "Earned by")) } dd { (ctx.t("观看录像并通过回看补测", "Watching the replay and passing the make-up quiz")) }
                }
                dt { (ctx.t("发证单位", "Issued by")) } dd { (t.street) }
                dt { (ctx.t("发证日期", "Issued on")) } dd { (t.issued_on) }
                dt { (ctx.t("证书编号", "Serial")) } dd.code { (c.serial) }
                dt { (ctx.t("验证码", "Verification code")) } dd.code { (c.code) }
            }
            figure.certificate-picture {
                img src=(urls::certificate_png(c.id)) alt=(alt) width="1200" height="1600";
                figcaption.hint { (ctx.t("在微信里：长按证书图片，可以保存到手机或发给别人。",
                    "In WeChat: press and hold the picture to save it to the phone or send it on.")) }
            }
            p.actions {
                a.button.primary href=(urls::certificate_png(c.id)) { (ctx.t("打开证书图片（PNG）", "Open the picture (PNG)")) } " "
                a.button href=(urls::certificate_pdf(c.id)) { (ctx.t("下载证书（PDF，用于打印）", "Download (PDF, for printing)")) }
            }
            p {
                (ctx.t("任何人都可以在公开验证页面核对这张证书：", "Anyone can check this certificate on its public verification page: "))
                a href=(urls::verify_code(&c.code)) { (ctx.t("公开验证页面", "Public verification page")) }
            }
            p { a.button href=(urls::HOME) { (ctx.t("返回首页", "Home")) } }
        },
    )
}
