//! The personal-information notice and a person's own data.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{attachment, html, redirect};
use crate::domain::privacy::must_accept;
use crate::has_csrf;
use crate::services::privacy;
use crate::web::context::Ctx;
use crate::web::csrf::CsrfForm;
use crate::web::error::AppError;
use crate::web::guards::{Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::privacy as views;

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The notice, for anyone; a signed-in person who has not accepted it yet accepts it here.
#[get("/privacy")]
async fn notice(state: web::Data<AppState>, ctx: Ctx, q: web::Query<NextQuery>) -> HttpResponse {
    let pending = ctx.user.as_ref().is_some_and(|u| must_accept(u.person.notice_version));
    let next = urls::safe_next(q.next.as_deref());
    let keeping = views::Keeping {
        recording_days: state.settings.recordings.retention_days,
        retention: state.settings.retention.clone(),
    };
    html(views::notice(&ctx, &keeping, pending, &next))
}

#[derive(Deserialize)]
struct AcceptInput {
    csrf: String,
    next: Option<String>,
}
has_csrf!(AcceptInput);

#[post("/privacy")]
async fn accept(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    CsrfForm(f): CsrfForm<AcceptInput>,
) -> Result<HttpResponse, AppError> {
    privacy::accept_notice(&state.db, &me.user).await?;
    Ok(redirect(&urls::safe_next(f.next.as_deref())))
}

#[get("/me/data")]
async fn my_data(state: web::Data<AppState>, me: Require<SignedIn>) -> Result<HttpResponse, AppError> {
    let d = privacy::my_data(&state.db, &me.user).await?;
    Ok(html(views::my_data(&me.ctx, &d)))
}

/// Her data as one JSON file.
#[get("/me/data.json")]
async fn my_data_json(state: web::Data<AppState>, me: Require<SignedIn>) -> Result<HttpResponse, AppError> {
    let d = privacy::my_data(&state.db, &me.user).await?;
    let bytes = serde_json::to_vec_pretty(&d).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(attachment("application/json; charset=utf-8", "my-data.json", bytes))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(notice)
        .service(accept)
        .service(my_data_json)
        .service(my_data);
}
