//! The officials' list of chairs, and printable sign-in links.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::layout::page;
use super::{When, qr_image};
use crate::domain::org::OrgUnit;
use crate::domain::signin_link::LinkState;
use crate::services::accounts::signin_links::{ChairRow, ChairsPage};
use crate::web::context::Ctx;
use crate::web::urls;

fn link_state(ctx: &Ctx, row: &ChairRow, now: DateTime<Utc>) -> Markup {
    if row.chair.person.has_password {
        return html! { span.tag.ok { (ctx.t("已设密码", "Has a password")) } };
    }
    match row.link.as_ref().map(|l| (l, l.state(now))) {
        Some((_, LinkState::Used)) => html! { span.tag.ok { (ctx.t("已用链接登录", "Signed in by link")) } },
        Some((l, LinkState::Usable)) => {
            html! { span.tag { (ctx.t("链接有效至 ", "Link valid until ")) (When(l.expires_at, ctx.lang)) } }
        }
        Some(_) => html! { span.tag.warn { (ctx.t("链接已失效", "Link no longer valid")) } },
        None => html! { span.tag.warn { (ctx.t("尚未登录", "Never signed in")) } },
    }
}

fn street_tabs(ctx: &Ctx, p: &ChairsPage) -> Markup {
    html! {
        @if p.streets.len() > 1 {
            nav.tabs aria-label=(ctx.t("街道", "Streets")) {
                @for s in &p.streets {
                    a href=(urls::chairs_of_street(s.id)) aria-current=[(p.current.as_ref().map(|c| c.id) == Some(s.id)).then_some("page")] { (s.name) }
                }
            }
        }
    }
}

fn print_all_form(ctx: &Ctx, street: &OrgUnit) -> Markup {
    html! {
        form.stack method="post" action=(format!("{}/signin-links", urls::CHAIRS)) {
            input type="hidden" name="csrf" value=(ctx.csrf_token);
            input type="hidden" name="street" value=(street.id);
            button type="submit" { (ctx.t("为所有尚未设置密码的主任生成登录二维码（可打印）",
                                        "Sign-in QR codes for everyone without a password (printable)")) }
        }
    }
}

fn chair_row(ctx: &Ctx, r: &ChairRow, now: DateTime<Utc>) -> Markup {
    let p = &r.chair.person;
    html! {
        tr {
            td data-label=(ctx.t("姓名", "Name")) { a href=(urls::chair_history(p.id)) { (p.name.as_str()) } @if let Some(pos) = &p.position { " " span.meta { (pos) } } }
            td data-label=(ctx.t("居委 / 小区", "Area / estate")) { (r.chair.neighbourhood) " / " (r.chair.estate) }
            td data-label=(ctx.t("手机号", "Mobile")) { (p.phone.as_str()) }
            td data-label=(ctx.t("登录状态", "Sign-in")) { (link_state(ctx, r, now)) }
            td {
                form.inline method="post" action=(urls::chair_signin_link(p.id)) {
                    input type="hidden" name="csrf" value=(ctx.csrf_token);
                    button type="submit" {
                        @if r.link.is_some() { (ctx.t("重新生成登录链接", "New sign-in link")) }
                        @else { (ctx.t("生成登录链接", "Make sign-in link")) }
                    }
                }
            }
        }
    }
}

fn chair_table(ctx: &Ctx, rows: &[ChairRow]) -> Markup {
    let now = Utc::now();
    html! {
        table.list {
            thead { tr {
                th scope="col" { (ctx.t("姓名", "Name")) }
                th scope="col" { (ctx.t("居委 / 小区", "Area / estate")) }
                th scope="col" { (ctx.t("手机号", "Mobile")) }
                th scope="col" { (ctx.t("登录状态", "Sign-in")) }
                th scope="col" { span.visually-hidden { (ctx.t("操作", "Actions")) } }
            } }
            tbody { @for r in rows { (chair_row(ctx, r, now)) } }
        }
    }
}

pub fn list(ctx: &Ctx, p: &ChairsPage) -> Markup {
    let body = html! {
        (street_tabs(ctx, p))
        @if let Some(street) = &p.current {
            p.meta { (street.name) " · " (p.rows.len()) (ctx.t(" 人", " people")) }
            @if p.rows.is_empty() {
                p.empty { (ctx.t("还没有主任。请先导入名单。", "No chairs yet. Import a roster first.")) }
                p { a.button href=(urls::ROSTER) { (ctx.t("导入名单", "Import roster")) } }
            } @else {
                (print_all_form(ctx, street))
                (chair_table(ctx, &p.rows))
            }
        } @else {
            p.empty { (ctx.t("您还没有负责的街道，请联系管理员。", "You are not assigned to a street yet; ask an administrator.")) }
        }
    };
    page(ctx, ctx.t("主任名单", "Chairs"), body)
}

/// One printable card per chair: name, where they belong, the QR code and the link written out.
pub struct PrintedLink {
    pub name: String,
    pub place: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// The training the card leads into, if it was made for one.
    pub training: Option<String>,
}

pub fn printable(ctx: &Ctx, links: &[PrintedLink]) -> Markup {
    page(
        ctx,
        ctx.t("专属登录二维码", "Personal sign-in QR codes"),
        html! {
            p.noprint { (ctx.t("每张卡片只能使用一次，请分别交给本人。重新生成后，旧的卡片作废。用浏览器的“打印”即可打印。",
                               "Each card works once; hand it to that person only. Making a new one voids the old card. Use the browser's Print.")) }
            @if links.is_empty() {
                p.empty { (ctx.t("没有需要生成的登录链接：所有人都已设置密码。", "Nothing to print: everyone has a password.")) }
            }
            div.print-cards {
                @for l in links {
                    article.print-card {
                        h2 { (l.name) }
                        p.meta { (l.place) }
                        @if let Some(t) = &l.training {
                            p { (ctx.t("培训：", "Training: ")) (t) }
                        }
                        (qr_image(&l.url, ctx.t("登录二维码", "Sign-in QR code")))
                        p { (ctx.t("用手机微信或相机扫一扫，点击“是我本人，登录”。", "Scan with your phone camera or WeChat, then press “That's me — sign in”.")) }
                        p.url { (l.url) }
                        p.meta { (ctx.t("有效期至 ", "Valid until ")) (When(l.expires_at, ctx.lang)) }
                    }
                }
            }
        },
    )
}

/// A chair's record for officials: each training with her attendance (live, replay, together), the
/// attempt that counts and the certificate.
pub fn history(ctx: &Ctx, h: &crate::services::home::ChairHistory) -> Markup {
    let c = |zh, en| ctx.t(zh, en);
    page(
        ctx,
        &format!("{} · {}", h.person.name.as_str(), c("培训记录", "Training record")),
        html! {
            p.meta { (h.committee.as_ref().map(|u| u.name.as_str()).unwrap_or_default()) }
            @if h.trainings.is_empty() {
                p.empty { (c("还没有参加过培训。", "No trainings yet.")) }
            } @else {
                table.list {
                    thead { tr {
                        th scope="col" { (c("培训", "Session")) }
                        th scope="col" { (c("直播分钟", "Live minutes")) }
                        th scope="col" { (c("回看增加分钟", "Added by replay")) }
                        th scope="col" { (c("合计分钟", "Minutes")) }
                        th scope="col" { (c("占比", "Share")) }
                        th scope="col" { (c("随堂测试", "Quiz")) }
                        th scope="col" { (c("证书", "Certificate")) }
                    } }
                    tbody { @for t in &h.trainings { (history_row(ctx, t)) } }
                }
                p.meta { (c("出勤按随堂测试的同一规则计算：直播与观看录像合计，每一段只算一次。", "Attendance follows the quiz gate's rule: live and replay together, each moment once.")) }
            }
        },
    )
}

fn history_row(ctx: &Ctx, t: &crate::services::home::Training) -> Markup {
    let c = |zh, en| ctx.t(zh, en);
    let a = t.attended;
    let quiz = match t.quiz.as_ref().map(|q| &q.attempt) {
        None => c("未参加", "Not taken").to_string(),
        Some(q) => match (q.correct, q.passed) {
            (Some(n), Some(p)) => format!(
                "{n} / {} {}{}",
                q.total,
                if p {
                    c("通过", "passed")
                } else {
                    c("未通过", "not passed")
                },
                if q.makeup {
                    c("（回看补测）", " (make-up)")
                } else {
                    ""
                }
            ),
            _ => c("答题中", "In progress").to_string(),
        },
    };
    html! {
        tr {
            td data-label=(c("培训", "Session")) { (t.session.title) br; span.meta { (When(t.session.starts_at, ctx.lang)) } }
            td data-label=(c("直播分钟", "Live minutes")) { (a.map_or(0, |a| a.live_minutes)) }
            td data-label=(c("回看增加分钟", "Added by replay")) { (a.map_or(0, |a| a.minutes - a.live_minutes)) }
            td data-label=(c("合计分钟", "Minutes")) { (a.map_or(0, |a| a.minutes)) }
            td data-label=(c("占比", "Share")) { (format!("{:.0}%", a.map_or(0.0, |a| a.share) * 100.0)) }
            td data-label=(c("随堂测试", "Quiz")) { (quiz) }
            td data-label=(c("证书", "Certificate")) {
                @match &t.certificate {
                    Some(cert) => {
                        a href=(urls::verify_code(&cert.code)) { (cert.serial) }
                        @if cert.revoked_at.is_some() { " " span.tag.warn { (c("已撤销", "revoked")) } }
                    },
                    None => (c("无", "None")),
                }
            }
        }
    }
}
