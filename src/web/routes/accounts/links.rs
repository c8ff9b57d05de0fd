//! Personal sign-in links: the landing page, spending a link, and officials making them.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::has_csrf;
use crate::services::accounts::signin_links::{self, IssuedLink, Redeemed};
use crate::services::audit;
use crate::web::context::{Ctx, session_cookie};
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Official, Require};
use crate::web::routes::{html, redirect};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views;
use crate::web::views::chairs::PrintedLink;

#[get("/l/{token}")]
async fn landing(state: web::Data<AppState>, ctx: Ctx, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let status = signin_links::status(&state.db, &token).await?;
    Ok(html(views::account::link_landing(&ctx, &token, &status)))
}

#[post("/l/{token}")]
async fn redeem(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ctx: Ctx,
    token: web::Path<String>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    // A link is for someone's own phone: keep it signed in for long.
    let days = i64::from(state.settings.security.remembered_session_days);
    match signin_links::redeem(&state.db, &token, days).await? {
        Redeemed::SignedIn { session, into } => {
            let ip = crate::web::routes::client_ip(&req, &state.settings);
            audit::signin_event(&state.db, "signin", "link", Some(session.person.id), &ip).await;
            // A card made for a session leads into its lobby; the welcome page (set a password) can wait.
            let next = into.map_or_else(|| urls::WELCOME.to_string(), urls::room);
            let mut res = redirect(&super::after_signin(&session.person, &next));
            res.add_cookie(&session_cookie(&session.token, days, state.settings.cookie_secure()))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(res)
        }
        Redeemed::Unusable(status) => Ok(html(views::account::link_landing(&ctx, &token, &status))),
    }
}

fn printed(state: &AppState, links: Vec<IssuedLink>) -> Vec<PrintedLink> {
    let base = state.settings.public_url();
    links
        .into_iter()
        .map(|l| PrintedLink {
            name: l.name,
            place: l.place,
            url: format!("{base}{}", urls::signin_link(&l.token)),
            expires_at: l.expires_at,
            training: l.training,
        })
        .collect()
}

/// Makes (or remakes) one chair's link and shows it ready to print. The token exists only in this
/// response: the database keeps its hash.
#[post("/street/chairs/{id:\\d+}/signin-link")]
async fn issue_one(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let days = i64::from(state.settings.security.signin_link_days);
    let link = signin_links::issue(&state.db, &me.scope(), &me.user.actor(), *id, days).await?;
    Ok(html(views::chairs::printable(&me.ctx, &printed(&state, vec![link]))))
}

#[derive(Deserialize)]
struct StreetInput {
    csrf: String,
    street: i64,
}
has_csrf!(StreetInput);

#[post("/street/chairs/signin-links")]
async fn issue_street(
    state: web::Data<AppState>,
    me: Require<Official>,
    CsrfForm(f): CsrfForm<StreetInput>,
) -> Result<HttpResponse, AppError> {
    let days = i64::from(state.settings.security.signin_link_days);
    let links = signin_links::issue_for_street(&state.db, &me.scope(), &me.user.actor(), f.street, days).await?;
    Ok(html(views::chairs::printable(&me.ctx, &printed(&state, links))))
}

/// Cards for the invited chairs of one session who have no password, leading into its lobby.
#[post("/sessions/{id:\\d+}/signin-links")]
async fn issue_session(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let days = i64::from(state.settings.security.signin_link_days);
    let links = signin_links::issue_for_session(&state.db, &me.scope(), &me.user.actor(), *id, days).await?;
    Ok(html(views::chairs::printable(&me.ctx, &printed(&state, links))))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(landing)
        .service(issue_session)
        .service(redeem)
        .service(issue_street)
        .service(issue_one);
}
