//! Error pages. They are rendered without the request (see `error.rs`), so they carry both languages.

use maud::{DOCTYPE, Markup, html};

use crate::i18n::Text;
use crate::web::urls;

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
