//! Route handlers, a file per feature. Each exposes `configure`; `web::configure` composes them.

pub mod account;
pub mod admin_org;
pub mod admin_people;
pub mod assets;
pub mod auth;
pub mod banks;
pub mod certificates;
pub mod chairs;
pub mod health;
pub mod home;
pub mod links;
pub mod quiz;
pub mod reports;
pub mod room;
pub mod roster;
pub mod sessions;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use maud::Markup;

use crate::config::Settings;

pub fn html(markup: Markup) -> HttpResponse {
    html_status(StatusCode::OK, markup)
}

pub fn html_status(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// 303 See Other: after a POST, the browser GETs the target.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// The client's address for throttling: the peer, or the proxy's `X-Forwarded-For` when configured.
pub fn client_ip(req: &HttpRequest, settings: &Settings) -> String {
    let info = req.connection_info();
    let addr = if settings.server.behind_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    addr.map(|a| a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a).to_string())
        .unwrap_or_default()
}
