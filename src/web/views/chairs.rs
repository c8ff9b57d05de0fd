//! The officials' list of chairs, and printable sign-in links.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::layout::page;
use super::{When, qr_image};
use crate::db::signin::SigninLink;
use crate::domain::org::OrgUnit;
use crate::services::people::ChairListing;
use crate::web::context::Ctx;
use crate::web::urls;

pub struct ChairRow<'a> {
    pub chair: &'a ChairListing,
    pub link: Option<&'a SigninLink>,
}

fn link_state(ctx: &Ctx, row: &ChairRow, now: DateTime<Utc>) -> Markup {
    let p = &row.chair.person;
    match row.link {
        _ if p.has_password => html! { span.tag.ok { (ctx.t("已设密码", "Has a password")) } },
        Some(l) if l.used_at.is_some() => html! { span.tag.ok { (ctx.t("已用链接登录", "Signed in by link")) } },
        Some(l) if l.revoked_at.is_none() && l.expires_at > now => {
            html! { span.tag { (ctx.t("链接有效至 ", "Link valid until ")) (When(l.expires_at, ctx.lang)) } }
        }
        Some(_) => html! { span.tag.warn { (ctx.t("链接已失效", "Link no longer valid")) } },
        None => html! { span.tag.warn { (ctx.t("尚未登录", "Never signed in")) } },
    }
}

pub fn list(ctx: &Ctx, streets: &[OrgUnit], current: Option<&OrgUnit>, rows: &[ChairRow]) -> Markup {
    let now = Utc::now();
    page(
        ctx,
        ctx.t("主任名单", "Chairs"),
        html! {
            @if streets.len() > 1 {
                nav.tabs aria-label=(ctx.t("街道", "Streets")) {
                    @for s in streets {
                        a href=(urls::chairs_of_street(s.id)) aria-current=[(current.map(|c| c.id) == Some(s.id)).then_some("page")] { (s.name) }
                    }
                }
            }
            @if let Some(street) = current {
                p.meta { (street.name) " · " (rows.len()) (ctx.t(" 人", " people")) }
                @if rows.is_empty() {
                    p.empty { (ctx.t("还没有主任。请先导入名单。", "No chairs yet. Import a roster first.")) }
                    p { a.button href=(urls::ROSTER) { (ctx.t("导入名单", "Import roster")) } }
                } @else {
                    form.stack method="post" action=(format!("{}/signin-links", urls::CHAIRS)) {
                        input type="hidden" name="csrf" value=(ctx.csrf_token);
                        input type="hidden" name="street" value=(street.id);
                        button type="submit" { (ctx.t("为所有尚未设置密码的主任生成登录二维码（可打印）",
                                                    "Sign-in QR codes for everyone without a password (printable)")) }
                    }
                    table.list {
                        thead { tr {
                            th scope="col" { (ctx.t("姓名", "Name")) }
                            th scope="col" { (ctx.t("居委 / 小区", "Area / estate")) }
                            th scope="col" { (ctx.t("手机号", "Mobile")) }
                            th scope="col" { (ctx.t("登录状态", "Sign-in")) }
                            th scope="col" { span.visually-hidden { (ctx.t("操作", "Actions")) } }
                        } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td data-label=(ctx.t("姓名", "Name")) { (r.chair.person.name.as_str())
                                        @if let Some(pos) = &r.chair.person.position { " " span.meta { (pos) } } }
                                    td data-label=(ctx.t("居委 / 小区", "Area / estate")) { (r.chair.neighbourhood) " / " (r.chair.estate) }
                                    td data-label=(ctx.t("手机号", "Mobile")) { (r.chair.person.phone.as_str()) }
                                    td data-label=(ctx.t("登录状态", "Sign-in")) { (link_state(ctx, r, now)) }
                                    td {
                                        form.inline method="post" action=(urls::chair_signin_link(r.chair.person.id)) {
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
                    }
                }
            } @else {
                p.empty { (ctx.t("您还没有负责的街道，请联系管理员。", "You are not assigned to a street yet; ask an administrator.")) }
            }
        },
    )
}

/// One printable card per chair: name, where they belong, the QR code and the link written out.
pub struct PrintedLink {
    pub name: String,
    pub place: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
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
