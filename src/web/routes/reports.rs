//! Reports and their exports.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::html;
use crate::error::AppError;
use crate::export::{self, Table};
use crate::i18n::Text;
use crate::services::{reports, streets};
use crate::web::guards::{Lawyer, Official, Require, SignedIn};
use crate::web::state::AppState;
use crate::web::views::reports as views;

fn download(t: &Table, format: &str, name: &str) -> Result<HttpResponse, AppError> {
    let (bytes, mime) = match format {
        "csv" => (export::csv(t).map_err(AppError::Internal)?, "text/csv; charset=utf-8"),
        "xlsx" => (
            export::xlsx(t).map_err(AppError::Internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(AppError::NotFound),
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{format}\""),
        ))
        .body(bytes))
}

#[get("/sessions/{id}/report")]
async fn session_report(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let r = reports::session_report(&state.db, &me.scope(), me.user.person.id, *id).await?;
    Ok(html(views::session_report(&me.ctx, &r)))
}

#[get("/sessions/{id}/report.{format}")]
async fn session_export(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, format) = path.into_inner();
    let r = reports::session_report(&state.db, &me.scope(), me.user.person.id, id).await?;
    download(
        &crate::services::reports::tables::session_table(me.ctx.lang, &r),
        &format,
        &format!("session-{id}"),
    )
}

/// One zip with the session's attendance, results, certificates and the statute texts used.
#[get("/sessions/{id}/evidence.zip")]
async fn evidence(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let files = reports::evidence_files(&state.db, &me.scope(), me.user.person.id, *id, me.ctx.lang).await?;
    let bytes = export::zip(&files).map_err(AppError::Internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"session-{id}-evidence.zip\""),
        ))
        .body(bytes))
}

#[derive(Deserialize)]
struct RangeQuery {
    unit: Option<i64>,
    from: Option<String>,
    to: Option<String>,
}

/// Parses the range (Shanghai dates, `to` inclusive); defaults to the current year.
fn range(q: &RangeQuery) -> Result<(String, String, chrono::DateTime<Utc>, chrono::DateTime<Utc>), AppError> {
    let year = crate::domain::time::to_shanghai(Utc::now()).format("%Y").to_string();
    let from = q
        .from
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{year}-01-01"));
    let to =
        q.to.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{year}-12-31"));
    let parse = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            AppError::BadRequest(Text::new(
                format!("日期“{s}”格式应为 2026-01-31"),
                format!("date “{s}” should look like 2026-01-31"),
            ))
        })
    };
    let at = |d: NaiveDate| {
        crate::domain::time::from_shanghai_local(d.and_hms_opt(0, 0, 0).unwrap_or_default()).unwrap_or_default()
    };
    let (f, t) = (parse(&from)?, parse(&to)?);
    Ok((from, to, at(f), at(t + chrono::Duration::days(1))))
}

async fn load(
    state: &AppState,
    me: &Require<Official>,
    q: &RangeQuery,
) -> Result<(reports::Dashboard, String, String), AppError> {
    let scope = me.scope();
    let unit = match q.unit {
        Some(u) => u,
        None => streets::visible(&state.db, &scope)
            .await?
            .first()
            .map(|s| s.id)
            .ok_or(AppError::NotFound)?,
    };
    let (from, to, f, t) = range(q)?;
    Ok((reports::dashboard(&state.db, &scope, unit, f, t).await?, from, to))
}

#[get("/street/dashboard")]
async fn dashboard(
    state: web::Data<AppState>,
    me: Require<Official>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let (d, from, to) = load(&state, &me, &q).await?;
    Ok(html(views::dashboard(&me.ctx, &d, &from, &to)))
}

#[get("/street/dashboard.{format}")]
async fn dashboard_export(
    state: web::Data<AppState>,
    me: Require<Official>,
    format: web::Path<String>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let (d, _, _) = load(&state, &me, &q).await?;
    download(
        &crate::services::reports::tables::dashboard_table(me.ctx.lang, &d),
        &format,
        &format!("dashboard-{}", d.unit.id),
    )
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
    let list = reports::item_analysis(&state.db, &f).await?;
    let banks = crate::db::banks::banks(&state.db).await?;
    Ok(html(views::items(&me.ctx, &list, &banks, &f)))
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
        &crate::services::reports::tables::items_table(me.ctx.lang, &list),
        &format,
        "item-analysis",
    )
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(evidence)
        .service(session_export)
        .service(session_report)
        .service(dashboard_export)
        .service(dashboard)
        .service(items_export)
        .service(items);
}
