use actix_multipart::form::{MultipartForm, bytes::Bytes, text::Text};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

use super::{html, html_status, redirect};
use crate::error::AppError;
use crate::services::{ServiceError, roster, streets};
use crate::web::csrf::{self, CsrfForm, OnlyCsrf};
use crate::web::guards::{Official, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::roster as views;

#[get("/street/roster")]
async fn upload_page(state: web::Data<AppState>, me: Require<Official>) -> Result<HttpResponse, AppError> {
    let streets = streets::visible(&state.db, &me.scope()).await?;
    Ok(html(views::upload_form(&me.ctx, &streets, None)))
}

#[derive(MultipartForm)]
struct UploadInput {
    csrf: Text<String>,
    street: Text<i64>,
    #[multipart(limit = "6MB")]
    file: Bytes,
}

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
    match roster::upload(
        &state.db,
        &me.scope(),
        me.user.person.id,
        *form.street,
        &filename,
        bytes,
    )
    .await
    {
        Ok((id, _)) => Ok(redirect(&urls::roster_preview(id))),
        Err(ServiceError::Invalid(t)) => {
            let streets = streets::visible(&state.db, &me.scope()).await?;
            Ok(html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::upload_form(&me.ctx, &streets, Some(t.get(me.ctx.lang))),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/street/roster/{id}")]
async fn preview(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (up, plan) = roster::preview(&state.db, &me.scope(), *id).await?;
    let street = crate::db::org::get(&state.db, up.street_id)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let status = if plan.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(
        status,
        views::preview(&me.ctx, up.id, &up.filename, &street, &plan),
    ))
}

#[post("/street/roster/{id}/apply")]
async fn apply(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let outcome = roster::apply_upload(&state.db, &me.scope(), *id).await?;
    Ok(html(views::done(&me.ctx, &outcome)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_page).service(upload).service(preview).service(apply);
}
