//! The HTTP edge: routes, views, request context, CSRF, permissions.

pub mod context;
pub mod csrf;
pub mod guards;
pub mod routes;
pub mod state;
pub mod urls;
pub mod views;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::error::AppError;

/// The route table: one `configure` per feature.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::health::configure(cfg);
    routes::assets::configure(cfg);
    routes::home::configure(cfg);
    routes::auth::configure(cfg);
    routes::account::configure(cfg);
    routes::links::configure(cfg);
    routes::chairs::configure(cfg);
    routes::roster::configure(cfg);
    routes::admin_org::configure(cfg);
    routes::admin_people::configure(cfg);
    routes::sessions::configure(cfg);
    routes::room::configure(cfg);
    routes::quiz::configure(cfg);
    routes::certificates::configure(cfg);
    // Reports before banks: `/banks/analysis` must not be taken for `/banks/{id}`.
    routes::reports::configure(cfg);
    routes::banks::configure(cfg);
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// What a log line may say about a request's address: its route pattern (`/l/{token}`), never the raw
/// path or query, which carry sign-in tokens, verification codes and serials.
pub fn route_of(req: &actix_web::HttpRequest) -> String {
    req.match_pattern().unwrap_or_else(|| "(unmatched)".into())
}

/// One log line per request: method, route pattern (never the raw path: sign-in links carry tokens in
/// it), status and duration.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = route_of(req.request());
    let res = next.call(req).await?;
    tracing::info!(
        %method,
        route,
        status = res.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(res)
}
