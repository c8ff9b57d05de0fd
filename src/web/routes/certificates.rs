//! Certificates: download, public verification, revocation, officials' list and resend.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status, redirect};
use crate::db::certificates as db;
use crate::domain::person::Role;
use crate::error::AppError;
use crate::has_csrf;
use crate::services::access::StreetScope;
use crate::services::accounts::CurrentUser;
use crate::services::certificates::{self, status_of};
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::guards::{Admin, Official, Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::certificates::{self as views, Row};
use crate::web::views::errors::error_page;

/// The holder, officials of the issuing street, and admins may download a certificate.
fn may_see(user: &CurrentUser, c: &db::CertificateRecord) -> bool {
    c.person_id == user.person.id || StreetScope::of(user).allows(c.street_id)
}

#[get("/certificates/{id}.pdf")]
async fn pdf(state: web::Data<AppState>, me: Require<SignedIn>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let c = db::get(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    if !may_see(&me.user, &c) {
        return Err(AppError::Forbidden);
    }
    let serial = c.serial.clone();
    match certificates::render_async(c, state.settings.public_url()).await? {
        Ok(bytes) => Ok(HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"certificate-{serial}.pdf\""),
            ))
            .body(bytes)),
        Err(e) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_page(
                422,
                crate::i18n::Text::new("无法生成证书", "Cannot render the certificate"),
                e.text(),
            ),
        )),
    }
}

#[derive(Deserialize)]
struct VerifyQuery {
    serial: Option<String>,
    code: Option<String>,
}

/// Public: anyone can check a certificate by its verification code, optionally with its serial. A serial
/// alone finds nothing: serials are sequential and would let anyone list every certificate.
#[get("/verify")]
async fn verify_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<VerifyQuery>,
) -> Result<HttpResponse, AppError> {
    let serial = q.serial.clone().unwrap_or_default();
    let code = q.code.clone().unwrap_or_default();
    let outcome = if serial.trim().is_empty() && code.trim().is_empty() {
        views::Verified::NotAsked
    } else if code.trim().is_empty() {
        views::Verified::CodeMissing
    } else {
        certificates::find(&state.db, &serial, &code)
            .await?
            .map_or(views::Verified::NoMatch, |c| views::Verified::Found(Box::new(c)))
    };
    let admin = ctx.user.as_ref().is_some_and(|u| u.person.roles.has(Role::Admin));
    let status = match outcome {
        views::Verified::NoMatch => StatusCode::NOT_FOUND,
        views::Verified::CodeMissing => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    Ok(html_status(
        status,
        views::verify(&ctx, &serial, &code, &outcome, admin),
    ))
}

/// Public: the URL in the certificate's QR code.
#[get("/verify/{code}")]
async fn verify_code(state: web::Data<AppState>, ctx: Ctx, code: web::Path<String>) -> Result<HttpResponse, AppError> {
    let outcome = certificates::find(&state.db, "", &code)
        .await?
        .map_or(views::Verified::NoMatch, |c| views::Verified::Found(Box::new(c)));
    let admin = ctx.user.as_ref().is_some_and(|u| u.person.roles.has(Role::Admin));
    let status = match outcome {
        views::Verified::Found(_) => StatusCode::OK,
        _ => StatusCode::NOT_FOUND,
    };
    Ok(html_status(status, views::verify(&ctx, "", &code, &outcome, admin)))
}

#[derive(Deserialize)]
struct RevokeInput {
    csrf: String,
    reason: String,
}
has_csrf!(RevokeInput);

#[post("/certificates/{id}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<RevokeInput>,
) -> Result<HttpResponse, AppError> {
    certificates::revoke(&state.db, *id, &f.reason, me.user.person.id).await?;
    let c = db::get(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    Ok(redirect(&urls::verify_code(&c.code)))
}

#[get("/sessions/{id}/certificates")]
async fn session_list(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = crate::services::sessions::managed(&state.db, &me.scope(), *id).await?;
    let certs = db::for_session(&state.db, s.id).await?;
    let jobs = db::jobs_for_certificates(&state.db, &certs.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let rows: Vec<Row> = certs
        .iter()
        .map(|c| {
            let job = jobs.iter().rev().find(|j| j.certificate_id == c.id);
            Row {
                cert: c,
                status: status_of(job),
                last_error: job
                    .and_then(|j| j.last_error.as_deref())
                    .filter(|_| job.is_some_and(|j| j.status != db::JobStatus::Sent)),
            }
        })
        .collect();
    Ok(html(views::session_list(&me.ctx, &s.title, &rows)))
}

#[post("/certificates/{id}/resend")]
async fn resend(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let c = db::get(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    if !me.scope().allows(c.street_id) {
        return Err(AppError::Forbidden);
    }
    certificates::resend(&state.db, c.id).await?;
    Ok(redirect(&urls::session_certificates(c.session_id)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(pdf)
        .service(verify_form)
        .service(verify_code)
        .service(revoke)
        .service(session_list)
        .service(resend);
}
