//! Accounts: the ways in (a password, a code by SMS, a personal link) and a person's own settings.

pub mod links;
pub mod password;
pub mod settings;
pub mod sms_code;

use actix_web::HttpResponse;

use crate::config::Settings;
use crate::web::context::session_cookie;
use crate::web::error::AppError;
use crate::web::routes::{redirect, with_cookie};

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    password::configure(cfg);
    sms_code::configure(cfg);
    settings::configure(cfg);
    links::configure(cfg);
}

/// Goes to `next` signed in: the new session's cookie rides on the redirect.
fn signed_in(next: &str, token: &str, days: i64, settings: &Settings) -> Result<HttpResponse, AppError> {
    with_cookie(redirect(next), &session_cookie(token, days, settings.cookie_secure()))
}
