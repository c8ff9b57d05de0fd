//! The officials' list of chairs.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::html;
use crate::services::accounts::signin_links;
use crate::web::error::AppError;
use crate::web::guards::{Official, Require};
use crate::web::state::AppState;
use crate::web::views::chairs::list;

#[derive(Deserialize)]
struct StreetQuery {
    street: Option<i64>,
}

/// The chairs of one of the official's streets (the first by default), with their sign-in state.
#[get("/street/chairs")]
async fn chairs(
    state: web::Data<AppState>,
    me: Require<Official>,
    q: web::Query<StreetQuery>,
) -> Result<HttpResponse, AppError> {
    let page = signin_links::chairs_page(&state.db, &me.scope(), q.street).await?;
    Ok(html(list(&me.ctx, &page)))
}

/// A chair's training record (officials of her street).
#[get(r"/street/chairs/{id:\d+}")]
async fn history(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let h = crate::services::home::chair_history(&state.db, &me.scope(), *id).await?;
    Ok(html(crate::web::views::chairs::history(&me.ctx, &h)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(chairs).service(history);
}
