//! The HTTP edge: routes, views, request context, CSRF, permissions.

pub mod context;
pub mod csrf;
pub mod error;
pub mod guards;
pub mod headers;
pub mod routes;
pub mod state;
pub mod urls;
pub mod views;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};

use crate::web::error::AppError;

/// The route table: one `configure` per feature.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::health::configure(cfg);
    routes::assets::configure(cfg);
    routes::home::configure(cfg);
    routes::accounts::configure(cfg);
    routes::chairs::configure(cfg);
    routes::roster::configure(cfg);
    routes::admin_org::configure(cfg);
    routes::admin_people::configure(cfg);
    routes::admin_audit::configure(cfg);
    routes::privacy::configure(cfg);
    routes::sessions::configure(cfg);
    routes::room::configure(cfg);
    routes::replay::configure(cfg);
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

/// A short random id per request: a field of the request's span (so on every log line the request
/// causes), the `X-Request-Id` header and the error page, so what a chair reads out on the phone leads
/// to the log lines. Random, not a counter: it says nothing about traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u64);

impl RequestId {
    fn new() -> RequestId {
        // 48 bits: twelve hex digits, plenty to tell a day's requests apart.
        RequestId(rand::random::<u64>() >> 16)
    }

    pub fn of(req: &actix_web::HttpRequest) -> Option<RequestId> {
        req.extensions().get::<RequestId>().copied()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:012x}", self.0)
    }
}

/// A span per request (id, method, route pattern — never the raw path: sign-in links carry tokens in
/// it) around everything the request does, and one log line when it ends with status and duration.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let id = RequestId::new();
    req.extensions_mut().insert(id);
    let method = req.method().clone();
    let route = route_of(req.request());
    let span = tracing::info_span!("request", id = %id, %method, route);
    let mut res = next.call(req).instrument(span.clone()).await?;
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id.to_string()) {
        res.headers_mut()
            .insert(actix_web::http::header::HeaderName::from_static("x-request-id"), v);
    }
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "request"
        )
    });
    Ok(res)
}

/// Renders every `AppError` response again, now with the request: the site's layout and navigation,
/// the person's language and the request id. (The fallback from `ResponseError` cannot see any of it.)
/// Headers already set (cookies, security headers) are kept.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::http::header;
    let res = next.call(req).await?;
    let explained = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .filter(|e| !matches!(e, AppError::SignInRequired { .. }))
        .map(AppError::explain);
    let (Some((title, detail)), Ok(ctx)) = (explained, context::RequestCtx::of(res.request())) else {
        return Ok(res.map_into_boxed_body());
    };
    let id = RequestId::of(res.request()).map(|id| id.to_string());
    let status = res.status();
    let markup = views::errors::page_for(&ctx, status.as_u16(), &title, &detail, id.as_deref());
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.append_header((name.clone(), value.clone()));
        }
    }
    let new = new.content_type("text/html; charset=utf-8").body(markup.into_string());
    Ok(ServiceResponse::new(req, new))
}
