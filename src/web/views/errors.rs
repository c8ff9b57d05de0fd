//! Error pages: the site's page in the person's language with the request id (`page_for`), and a
//! bilingual fallback for when the request's context is not there (`error_page`, see `error.rs`).

use maud::{DOCTYPE, Markup, html};

use super::layout::page;
use crate::i18n::Text;
use crate::web::context::Ctx;
use crate::web::urls;

/// The error page with the site's header and navigation, so nobody lands on a dead end, and the request
/// id to quote when calling the street office (it finds the request's log lines).
pub fn page_for(ctx: &Ctx, status: u16, title: &Text, detail: &Text, request_id: Option<&str>) -> Markup {
    page(
        ctx,
        title.get(ctx.lang),
        html! {
            div.error-page {
                p.status { (status) }
                p { (detail.get(ctx.lang)) }
                @if let Some(id) = request_id {
                    p.meta { (ctx.t("问题编号：", "Reference: ")) span.request-id { (id) } }
                }
                p {
                    a.button href=(urls::HOME) { (ctx.t("返回首页", "Home")) }
                    @if ctx.user.is_none() {
                        " " a.button href=(urls::signin_with_next(&ctx.here)) { (ctx.t("登录", "Sign in")) }
                    }
                }
            }
        },
    )
}

pub fn error_page(status: u16, title: Text, detail: Text) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title.zh) " · 业委会学堂" }
                link rel="stylesheet" href=(urls::STYLESHEET);
            }
            body {
                header.site { a.brand href=(urls::HOME) { "业委会学堂" } }
                main #main.error-page {
                    p.status { (status) }
                    h1 { (title.zh) }
                    p { (detail.zh) }
                    p lang="en" .en { (title.en) ". " (detail.en) }
                    p { a.button href=(urls::HOME) { "返回首页" } }
                }
            }
        }
    }
}
