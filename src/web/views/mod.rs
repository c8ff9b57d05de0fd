//! maud views: small functions over view data. The layout and form helpers are shared; each feature has
//! its own file.

pub mod account;
pub mod admin_org;
pub mod admin_people;
pub mod audit;
pub mod auth;
pub mod banks;
pub mod certificates;
pub mod chairs;
pub mod code_signin;
pub mod errors;
pub mod forms;
pub mod home;
pub mod layout;
pub mod privacy;
pub mod quiz;
pub mod replay;
pub mod reports;
pub mod room;
pub mod roster;
pub mod sessions;

use chrono::{DateTime, Utc};
use maud::{Markup, Render, html};

use crate::domain::time::to_shanghai;
use crate::i18n::Lang;

/// A moment shown in Shanghai time.
pub struct When(pub DateTime<Utc>, pub Lang);

impl Render for When {
    fn render(&self) -> Markup {
        let t = to_shanghai(self.0);
        let text = match self.1 {
            Lang::Zh => t.format("%Y年%m月%d日 %H:%M").to_string(),
            Lang::En => t.format("%Y-%m-%d %H:%M").to_string(),
        };
        html! { time datetime=(t.to_rfc3339()) { (text) } }
    }
}

/// A QR code as an `<img>` with an SVG data URI (no inline markup to escape, no JavaScript).
pub fn qr_image(content: &str, alt: &str) -> Markup {
    use base64::Engine;
    let svg = match qrcode::QrCode::new(content.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(_) => return html! {},
    };
    let uri = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    );
    html! { img.qr src=(uri) alt=(alt) width="240" height="240"; }
}
