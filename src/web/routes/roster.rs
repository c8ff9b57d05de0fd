//! Roster import: upload, preview, confirm.

use actix_multipart::form::{MultipartForm, bytes::Bytes, text::Text};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::{html, html_status, redirect, reply};
use crate::services::{roster, streets};
use crate::web::csrf::{self, CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Official, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::roster as views;

#[get("/street/roster")]
async fn upload_page(state: web::Data<AppState>, me: Require<Official>) -> Result<HttpResponse, AppError> {
    let streets = streets::visible(&state.db, &me.scope()).await?;
    Ok(html(views::upload_form(&me.ctx, &streets, &[])))
}

#[derive(MultipartForm)]
struct UploadInput {
    csrf: Text<String>,
    street: Text<i64>,
    #[multipart(limit = "6MB")]
    file: Bytes,
}

/// Stores the file with its plan and shows the preview; a wrong street or file goes back to the form.
#[post("/street/roster")]
async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<Official>,
    form: MultipartForm<UploadInput>,
) -> Result<HttpResponse, AppError> {
    csrf::check(&req, &form.csrf)?;
    let filename = form.file.file_name.clone().unwrap_or_default();
    let bytes = form.file.data.to_vec();
    let (scope, uploader) = (me.scope(), me.user.person.id);
    let outcome = roster::upload(&state.db, &scope, uploader, *form.street, &filename, bytes).await;
    reply(outcome, urls::roster_preview, async |errors| {
        let streets = streets::visible(&state.db, &scope).await?;
        Ok(html(views::upload_form(&me.ctx, &streets, &errors)))
    })
    .await
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    page: Option<usize>,
    /// Set when a confirmation found the street changed since this preview.
    changed: Option<u8>,
}

#[get("/street/roster/{id:\\d+}")]
async fn preview(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    let p = roster::preview(&state.db, &me.scope(), *id, q.page.unwrap_or(1)).await?;
    let status = if p.total_errors == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(status, views::preview(&me.ctx, &p, q.changed.is_some())))
}

#[post("/street/roster/{id:\\d+}/apply")]
async fn apply(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    match roster::apply_upload(&state.db, &me.scope(), &me.user.actor(), *id).await? {
        roster::Applied::Imported(outcome) => Ok(html(views::done(&me.ctx, &outcome))),
        roster::Applied::PlanChanged => Ok(redirect(&format!("{}?changed=1", urls::roster_preview(*id)))),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_page).service(upload).service(preview).service(apply);
}
