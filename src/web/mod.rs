//! The HTTP edge: routes, views, request context, CSRF, permissions.

pub mod context;
pub mod csrf;
pub mod guards;
pub mod headers;
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

/// The largest urlencoded form body (a question with its explanation is a few KB).
pub const FORM_MAX_BYTES: usize = 256 * 1024;

/// Multipart uploads (roster, bank import) that break the size limit get the site's error page naming the
/// limit; other malformed uploads a plain "cannot read" page, instead of actix's bare English text.
pub fn multipart_error(err: actix_multipart::MultipartError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::ResponseError;
    if err.status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
        || matches!(
            err,
            actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow)
        )
    {
        AppError::TooLarge {
            limit_bytes: crate::services::roster::MAX_FILE_BYTES,
        }
        .into()
    } else {
        AppError::BadRequest(crate::i18n::Text::new(
            format!("上传的内容无法读取，请重新选择文件后再试（{err}）。"),
            format!("the upload could not be read; choose the file again and retry ({err})."),
        ))
        .into()
    }
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
