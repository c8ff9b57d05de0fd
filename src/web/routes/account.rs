use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status};
use crate::error::AppError;
use crate::has_csrf;
use crate::services::{ServiceError, accounts};
use crate::web::csrf::CsrfForm;
use crate::web::guards::{Require, SignedIn};
use crate::web::state::AppState;
use crate::web::views::account::password_form;

#[get("/account/password")]
async fn password_page(me: Require<SignedIn>) -> HttpResponse {
    html(password_form(&me.ctx, None, false, false))
}

/// Where a personal sign-in link lands: set a password now, or keep this phone signed in.
#[get("/account/welcome")]
async fn welcome(me: Require<SignedIn>) -> HttpResponse {
    html(password_form(&me.ctx, None, false, true))
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
    match accounts::set_password(&state.db, &me.user, &f.password, &f.confirm).await {
        Ok(()) => Ok(html(password_form(&me.ctx, None, true, false))),
        Err(ServiceError::Refused(t)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            password_form(&me.ctx, Some(&t), false, false),
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(password_page).service(welcome).service(password_submit);
}
