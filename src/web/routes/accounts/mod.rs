//! Accounts: the ways in (a password, a code by SMS, a personal link) and a person's own settings.

pub mod links;
pub mod password;
pub mod settings;
pub mod sms_code;

use actix_web::HttpResponse;

use crate::config::Settings;
use crate::domain::person::Person;
use crate::domain::privacy::must_accept;
use crate::services::accounts::NewSession;
use crate::web::context::session_cookie;
use crate::web::error::AppError;
use crate::web::routes::{redirect, with_cookie};

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    password::configure(cfg);
    sms_code::configure(cfg);
    settings::configure(cfg);
    links::configure(cfg);
}

/// Goes to `next` signed in (by way of the personal-information notice when she has not accepted the
/// one in force): the new session's cookie rides on the redirect.
fn signed_in(s: &NewSession, next: &str, settings: &Settings) -> Result<HttpResponse, AppError> {
    let cookie = session_cookie(&s.token, s.max_age_days, settings.cookie_secure());
    with_cookie(redirect(&after_signin(&s.person, next)), &cookie)
}

/// Where she goes once signed in: the notice first, when she has not accepted the one in force.
pub(crate) fn after_signin(person: &Person, next: &str) -> String {
    if must_accept(person.notice_version) {
        crate::web::urls::notice_then(next)
    } else {
        next.to_string()
    }
}
