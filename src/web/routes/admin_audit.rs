//! The admin's audit trail: filter and read, export, check the chain.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};

use super::{html, html_status};
use crate::services::ServiceError;
use crate::services::audit::{self, AuditForm, EXPORT_MAX, PAGE};
use crate::web::error::AppError;
use crate::web::guards::{Admin, Require};
use crate::web::state::AppState;
use crate::web::views::audit as views;

#[get("/admin/audit")]
async fn index(
    state: web::Data<AppState>,
    me: Require<Admin>,
    f: web::Query<AuditForm>,
) -> Result<HttpResponse, AppError> {
    match f.parse() {
        Ok(q) => {
            let p = audit::page(&state.db, &q, PAGE).await?;
            Ok(html(views::audit_page(&me.ctx, &f, Some(&p), &[])))
        }
        Err(ServiceError::Rejected(errors)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::audit_page(&me.ctx, &f, None, &errors),
        )),
        Err(e) => Err(e.into()),
    }
}

#[get("/admin/audit/check")]
async fn check(state: web::Data<AppState>, me: Require<Admin>) -> Result<HttpResponse, AppError> {
    let result = audit::check(&state.db).await?;
    Ok(html(views::check_page(&me.ctx, &result)))
}

/// The matching entries as CSV or XLSX; downloading the trail is itself recorded.
#[get("/admin/audit.{format}")]
async fn export(
    state: web::Data<AppState>,
    me: Require<Admin>,
    format: web::Path<String>,
    f: web::Query<AuditForm>,
) -> Result<HttpResponse, AppError> {
    let q = f.parse()?;
    let p = audit::page(&state.db, &q, EXPORT_MAX).await?;
    let table = audit::table(me.ctx.lang, &p);
    super::reports::download(&state, &me.user.actor(), &table, &format, "audit-trail").await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The check and the export before nothing else: `/admin/audit.{format}` cannot read as the others.
    cfg.service(check).service(export).service(index);
}
