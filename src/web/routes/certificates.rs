//! Certificates: the page, download, public verification, revocation, officials' list and resend.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status, redirect, reply};
use crate::domain::person::Role;
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::FieldErrors;
use crate::services::certificates::{self, Rendered, Verified};
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Admin, Official, Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::certificates as views;
use crate::web::views::errors::error_page;

/// The certificate as a page: its picture inline, the facts, the downloads and the verification link.
/// Android WeChat neither shows nor downloads PDFs; this page and its picture work there.
#[get("/certificates/{id:\\d+}")]
async fn show(state: web::Data<AppState>, me: Require<SignedIn>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let c = certificates::page(&state.db, &me.user, *id).await?;
    Ok(html(views::certificate_page(&me.ctx, &c)))
}

#[get("/certificates/{id:\\d+}.pdf")]
async fn pdf(state: web::Data<AppState>, me: Require<SignedIn>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let public_url = state.settings.public_url();
    match certificates::pdf(&state.db, &me.user, *id, public_url).await? {
        (serial, Rendered::Pdf(bytes)) => Ok(HttpResponse::Ok()
            .content_type("application/pdf")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"certificate-{serial}.pdf\""),
            ))
            .body(bytes)),
        (_, Rendered::Unprintable(e)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_page(
                422,
                Text::new("无法生成证书", "Cannot render the certificate"),
                e.text(),
            ),
        )),
    }
}

/// The certificate as a picture (same permission as the PDF).
#[get("/certificates/{id:\\d+}.png")]
async fn png(state: web::Data<AppState>, me: Require<SignedIn>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (serial, bytes) = certificates::png(&state.db, &me.user, *id, state.settings.public_url()).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"certificate-{serial}.png\""),
        ))
        .body(bytes))
}

/// The verification page for a lookup, with the status that says what was found.
fn verification(ctx: &Ctx, serial: &str, code: &str, outcome: &Verified, errors: &FieldErrors) -> HttpResponse {
    let admin = ctx.user.as_ref().is_some_and(|u| u.person.roles.has(Role::Admin));
    let status = match outcome {
        Verified::NoMatch => StatusCode::NOT_FOUND,
        Verified::CodeMissing => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let page = views::VerifyPage {
        serial,
        code,
        outcome,
        admin,
        errors,
    };
    html_status(status, views::verify(ctx, &page))
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
    let outcome = certificates::verify(&state.db, &serial, &code).await?;
    Ok(verification(&ctx, &serial, &code, &outcome, &FieldErrors::new()))
}

/// Public: the URL in the certificate's QR code.
#[get("/verify/{code}")]
async fn verify_code(state: web::Data<AppState>, ctx: Ctx, code: web::Path<String>) -> Result<HttpResponse, AppError> {
    let outcome = certificates::verify(&state.db, "", &code).await?;
    Ok(verification(&ctx, "", &code, &outcome, &FieldErrors::new()))
}

#[derive(Deserialize)]
struct RevokeInput {
    csrf: String,
    reason: String,
}
has_csrf!(RevokeInput);

/// Revokes and goes to the certificate's page; without a reason, that page again with the form.
#[post("/certificates/{id:\\d+}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<RevokeInput>,
) -> Result<HttpResponse, AppError> {
    let outcome = certificates::revoke_by(&state.db, &me.user.actor(), *id, &f.reason).await;
    reply(
        outcome,
        |code| urls::verify_code(&code),
        async |errors| {
            let (code, found) = certificates::verified(&state.db, *id).await?;
            Ok(verification(&me.ctx, "", &code, &found, &errors))
        },
    )
    .await
}

#[get("/sessions/{id:\\d+}/certificates")]
async fn session_list(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (session, rows) = certificates::session_list(&state.db, &me.scope(), *id).await?;
    Ok(html(views::session_list(&me.ctx, &session.title, &rows)))
}

#[post("/certificates/{id:\\d+}/resend")]
async fn resend(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let session = certificates::resend_by(&state.db, &me.user.actor(), &me.scope(), *id).await?;
    Ok(redirect(&urls::session_certificates(session)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(show)
        .service(pdf)
        .service(png)
        .service(verify_form)
        .service(verify_code)
        .service(revoke)
        .service(session_list)
        .service(resend);
}
