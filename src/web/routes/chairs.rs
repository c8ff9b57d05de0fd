use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::html;
use crate::error::AppError;
use crate::services::{people, signin_links, streets};
use crate::web::guards::{Official, Require};
use crate::web::state::AppState;
use crate::web::views::chairs::{ChairRow, list};

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
    let scope = me.scope();
    let streets = streets::visible(&state.db, &scope).await?;
    let current = match q.street {
        Some(id) => Some(streets.iter().find(|s| s.id == id).ok_or(AppError::Forbidden)?),
        None => streets.first(),
    };
    let listing = match current {
        Some(s) => people::chairs_of_street(&state.db, &scope, s.id).await?,
        None => Vec::new(),
    };
    let ids: Vec<i64> = listing.iter().map(|c| c.person.id).collect();
    let links = signin_links::latest_for(&state.db, &ids).await?;
    let rows: Vec<ChairRow> = listing
        .iter()
        .map(|c| ChairRow {
            chair: c,
            link: links.get(&c.person.id),
        })
        .collect();
    Ok(html(list(&me.ctx, &streets, current, &rows)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(chairs);
}
