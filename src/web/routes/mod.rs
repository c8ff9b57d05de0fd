//! Route handlers, a file per feature. Each exposes `configure`; `web::configure` composes them.

pub mod accounts;
pub mod admin_audit;
pub mod admin_org;
pub mod admin_people;
pub mod assets;
pub mod banks;
pub mod certificates;
pub mod chairs;
pub mod health;
pub mod home;
pub mod privacy;
pub mod quiz;
pub mod replay;
pub mod reports;
pub mod room;
pub mod roster;
pub mod sessions;

use actix_web::HttpResponse;
use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use maud::Markup;

use crate::i18n::Text;
use crate::services::{FieldErrors, ServiceError};
use crate::web::error::AppError;

pub fn html(markup: Markup) -> HttpResponse {
    html_status(StatusCode::OK, markup)
}

pub fn html_status(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// A form shown again: 200 when it has no problems (or was just saved), 422 when it carries some.
pub fn form_status(errors: &[(&'static str, Text)]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A file the browser offers to save under `filename` (an export, a download).
pub fn attachment(content_type: &str, filename: &str, body: impl MessageBody + 'static) -> HttpResponse {
    file_response(content_type, format!("attachment; filename=\"{filename}\""), body)
}

/// A file the browser shows (a picture), named `filename` if she saves it.
pub fn inline(content_type: &str, filename: &str, body: impl MessageBody + 'static) -> HttpResponse {
    file_response(content_type, format!("inline; filename=\"{filename}\""), body)
}

fn file_response(content_type: &str, disposition: String, body: impl MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .body(body)
}

/// `res` carrying `cookie` (adding fails only for a cookie that is not valid header text).
pub fn with_cookie(mut res: HttpResponse, cookie: &Cookie) -> Result<HttpResponse, AppError> {
    res.add_cookie(cookie).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(res)
}

/// 303 See Other: after a POST, the browser GETs the target.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// The one way a form submission answers: on success, 303 to where the person goes next; on rejected
/// input, the same form again with 422 and each message beside its field (never a dead-end error page).
/// Anything else (refused, not found, internal) travels on to the error renderer.
///
/// Parse the form and call the service inside one `async` block so that a form that does not parse and
/// a service that rejects the input end in the same place:
/// `reply(async { sessions::create(db, &f.try_into()?).await }.await, urls::session, |e| again(e))`.
pub async fn reply<T>(
    outcome: Result<T, ServiceError>,
    next: impl FnOnce(T) -> String,
    form_again: impl AsyncFnOnce(FieldErrors) -> Result<HttpResponse, AppError>,
) -> Result<HttpResponse, AppError> {
    match outcome {
        Ok(value) => Ok(redirect(&next(value))),
        Err(ServiceError::Rejected(errors)) => {
            let mut page = form_again(errors).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

/// For forms that show themselves again once saved (with a "saved" note) rather than moving on: the
/// rejected fields (none when it was saved); anything else travels on as `reply` does.
pub fn rejected_fields(outcome: Result<(), ServiceError>) -> Result<FieldErrors, AppError> {
    match outcome {
        Ok(()) => Ok(FieldErrors::new()),
        Err(ServiceError::Rejected(errors)) => Ok(errors),
        Err(e) => Err(e.into()),
    }
}

pub use super::context::client_ip;
