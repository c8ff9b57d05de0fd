//! Reports and their exports.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::{attachment, html, html_status};
use crate::domain::audit::Action;
use crate::export::{self, Table};
use crate::services::ServiceError;
use crate::services::audit::{self, Actor};
use crate::services::reports::{self, DashboardQuery, tables};
use crate::web::error::AppError;
use crate::web::guards::{Lawyer, Official, Require, SignedIn};
use crate::web::state::AppState;
use crate::web::views::reports as views;

/// A table as CSV or XLSX, its download recorded in the audit trail (exports carry personal data).
pub(super) async fn download(
    state: &AppState,
    who: &Actor,
    t: &Table,
    format: &str,
    name: &str,
) -> Result<HttpResponse, AppError> {
    let (bytes, mime) = match format {
        "csv" => (export::csv(t).map_err(AppError::Internal)?, "text/csv; charset=utf-8"),
        "xlsx" => (
            export::xlsx(t).map_err(AppError::Internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(AppError::NotFound),
    };
    let summary = format!("{}（{format}，{} 行）", t.title, t.rows.len());
    audit::record(
        &state.db,
        who,
        Action::ExportDownload,
        format!("export:{name}"),
        summary,
    )
    .await?;
    Ok(attachment(mime, &format!("{name}.{format}"), bytes))
}

#[get("/sessions/{id:\\d+}/report")]
async fn session_report(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let r = reports::session_report(&state.db, &me.scope(), me.user.person.id, *id).await?;
    Ok(html(views::session_report(&me.ctx, &r)))
}

#[get("/sessions/{id:\\d+}/report.{format}")]
async fn session_export(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, format) = path.into_inner();
    let r = reports::session_report(&state.db, &me.scope(), me.user.person.id, id).await?;
    download(
        &state,
        &me.user.actor(),
        &tables::session_table(me.ctx.lang, &r.lines),
        &format,
        &format!("session-{id}"),
    )
    .await
}

/// One zip with the session's attendance, results, certificates and the statute texts used.
#[get("/sessions/{id:\\d+}/evidence.zip")]
async fn evidence(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let files = reports::evidence_files(&state.db, &me.scope(), me.user.person.id, *id, me.ctx.lang).await?;
    let bytes = export::zip(&files).map_err(AppError::Internal)?;
    let summary = format!("{} 个文件", files.len());
    audit::record(
        &state.db,
        &me.user.actor(),
        Action::EvidenceDownload,
        format!("session:{id}"),
        summary,
    )
    .await?;
    Ok(attachment(
        "application/zip",
        &format!("session-{id}-evidence.zip"),
        bytes,
    ))
}

#[derive(Deserialize)]
struct RangeQuery {
    unit: Option<i64>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl RangeQuery {
    fn query(&self) -> DashboardQuery<'_> {
        DashboardQuery {
            unit: self.unit,
            from: &self.from,
            to: &self.to,
        }
    }
}

/// The dashboard; dates that do not parse give the form again with the problem beside the date.
#[get("/street/dashboard")]
async fn dashboard(
    state: web::Data<AppState>,
    me: Require<Official>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    match reports::dashboard_page(&state.db, &me.scope(), &q.query()).await {
        Ok(page) => Ok(html(views::dashboard(&me.ctx, &page))),
        Err(ServiceError::Rejected(errors)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::dashboard_again(&me.ctx, crate::web::urls::DASHBOARD, &q.query(), &errors),
        )),
        Err(e) => Err(e.into()),
    }
}

#[get("/street/dashboard.{format}")]
async fn dashboard_export(
    state: web::Data<AppState>,
    me: Require<Official>,
    format: web::Path<String>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let page = reports::dashboard_page(&state.db, &me.scope(), &q.query()).await?;
    let d = &page.dashboard;
    download(
        &state,
        &me.user.actor(),
        &tables::dashboard_table(me.ctx.lang, d),
        &format,
        &format!("dashboard-{}", d.unit.id),
    )
    .await
}

/// What the chairs of a district, street or 居委 answered worst; bad dates come back at their fields.
#[get("/street/mistakes")]
async fn mistakes(
    state: web::Data<AppState>,
    me: Require<Official>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    match reports::mistakes::mistakes_page(&state.db, &me.scope(), &q.query()).await {
        Ok(page) => Ok(html(views::mistakes(&me.ctx, &page))),
        Err(ServiceError::Rejected(errors)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::dashboard_again(&me.ctx, crate::web::urls::MISTAKES, &q.query(), &errors),
        )),
        Err(e) => Err(e.into()),
    }
}

#[get("/street/mistakes.{format}")]
async fn mistakes_export(
    state: web::Data<AppState>,
    me: Require<Official>,
    format: web::Path<String>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let page = reports::mistakes::mistakes_page(&state.db, &me.scope(), &q.query()).await?;
    download(
        &state,
        &me.user.actor(),
        &tables::mistakes_table(me.ctx.lang, &page.rules, &page.few),
        &format,
        &format!("mistakes-{}", page.unit.id),
    )
    .await
}

#[derive(Deserialize)]
struct ItemQuery {
    bank: Option<String>,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    citation: String,
}

impl ItemQuery {
    fn filter(&self) -> reports::ItemFilter {
        reports::ItemFilter {
            bank: self.bank.as_deref().and_then(|b| b.parse().ok()),
            topic: self.topic.trim().to_string(),
            citation: self.citation.trim().to_string(),
        }
    }
}

#[get("/banks/analysis")]
async fn items(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    q: web::Query<ItemQuery>,
) -> Result<HttpResponse, AppError> {
    let f = q.filter();
    let page = reports::item_analysis_page(&state.db, &f).await?;
    Ok(html(views::items(&me.ctx, &page, &f)))
}

#[get("/banks/analysis.{format}")]
async fn items_export(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    format: web::Path<String>,
    q: web::Query<ItemQuery>,
) -> Result<HttpResponse, AppError> {
    let list = reports::item_analysis(&state.db, &q.filter()).await?;
    download(
        &state,
        &me.user.actor(),
        &tables::items_table(me.ctx.lang, &list),
        &format,
        "item-analysis",
    )
    .await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(evidence)
        .service(session_export)
        .service(session_report)
        .service(dashboard_export)
        .service(dashboard)
        .service(mistakes_export)
        .service(mistakes)
        .service(items_export)
        .service(items);
}
