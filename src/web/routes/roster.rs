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
        Ok(id) => Ok(redirect(&urls::roster_preview(id))),
        Err(ServiceError::Refused(t)) => {
            let streets = streets::visible(&state.db, &me.scope()).await?;
            Ok(html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                views::upload_form(&me.ctx, &streets, Some(t.get(me.ctx.lang))),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    page: Option<usize>,
    /// Set when a confirmation found the street changed since this preview.
    changed: Option<u8>,
}

#[get("/street/roster/{id}")]
async fn preview(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AppError> {
    let p = roster::preview(&state.db, &me.scope(), *id, q.page.unwrap_or(1)).await?;
    let street = crate::db::org::get(&state.db, p.street_id)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let status = if p.total_errors == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(
        status,
        views::preview(&me.ctx, &p, &street, q.changed.is_some()),
    ))
}

#[post("/street/roster/{id}/apply")]
async fn apply(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    match roster::apply_upload(&state.db, &me.scope(), *id).await? {
        roster::Applied::Imported(outcome) => Ok(html(views::done(&me.ctx, &outcome))),
        roster::Applied::PlanChanged => Ok(redirect(&format!("{}?changed=1", urls::roster_preview(*id)))),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_page).service(upload).service(preview).service(apply);
}
