use actix_web::{HttpResponse, get, web};

use crate::web::state::AppState;

/// 200 when the database answers, 503 otherwise (for load balancers and monitoring).
#[get("/healthz")]
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz);
}
