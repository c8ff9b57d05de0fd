//! Account pages: choosing a password, and the welcome after a sign-in link.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::has_csrf;
use crate::services::accounts;
use crate::web::csrf::CsrfForm;
use crate::web::error::AppError;
use crate::web::guards::{Require, SignedIn};
use crate::web::routes::{form_status, html, html_status, rejected_fields};
use crate::web::state::AppState;
use crate::web::views::account::password_form;

#[get("/account/password")]
async fn password_page(me: Require<SignedIn>) -> HttpResponse {
    html(password_form(&me.ctx, &[], false, false))
}

/// Where a personal sign-in link lands: set a password now, or keep this phone signed in.
#[get("/account/welcome")]
async fn welcome(me: Require<SignedIn>) -> HttpResponse {
    html(password_form(&me.ctx, &[], false, true))
}

#[derive(Deserialize)]
struct PasswordInput {
    csrf: String,
    password: String,
    confirm: String,
}
has_csrf!(PasswordInput);

#[post("/account/password")]
async fn password_submit(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    CsrfForm(f): CsrfForm<PasswordInput>,
) -> Result<HttpResponse, AppError> {
    let errors = rejected_fields(accounts::set_password(&state.db, &me.user, &f.password, &f.confirm).await)?;
    let page = password_form(&me.ctx, &errors, errors.is_empty(), false);
    Ok(html_status(form_status(&errors), page))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(password_page).service(welcome).service(password_submit);
}
