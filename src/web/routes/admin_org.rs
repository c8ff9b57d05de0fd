use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html_status, redirect};
use crate::db::{org as org_db, people};
use crate::domain::org::{OrgKind, Term};
use crate::error::AppError;
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::{ServiceError, org};
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::guards::{Admin, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::admin_org::{UnitPage, unit_page};

/// Renders a unit (or the top level) with an optional error or confirmation.
async fn render(
    state: &AppState,
    me: &Require<Admin>,
    id: Option<i64>,
    error: Option<&Text>,
    saved: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let path = match id {
        Some(id) => {
            let p = org_db::path(&state.db, id).await?;
            if p.is_empty() {
                return Err(AppError::NotFound);
            }
            p
        }
        None => Vec::new(),
    };
    let children = org_db::children(&state.db, id).await?;
    let members = match path.last() {
        Some(u) if u.kind == OrgKind::Committee => people::members_of_committees(&state.db, &[u.id]).await?,
        _ => Vec::new(),
    };
    let page = unit_page(
        &me.ctx,
        &UnitPage {
            path: &path,
            children: &children,
            members: &members,
            error,
            saved,
        },
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(html_status(status, page))
}

#[get("/admin/org")]
async fn top(state: web::Data<AppState>, me: Require<Admin>) -> Result<HttpResponse, AppError> {
    render(&state, &me, None, None, None).await
}

#[get("/admin/org/{id}")]
async fn unit(state: web::Data<AppState>, me: Require<Admin>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    render(&state, &me, Some(*id), None, None).await
}

#[derive(Deserialize)]
struct UnitInput {
    csrf: String,
    parent: Option<i64>,
    name: String,
    #[serde(default)]
    term_start: String,
    #[serde(default)]
    term_end: String,
}
has_csrf!(UnitInput);

fn term(f: &UnitInput) -> Result<Option<Term>, ServiceError> {
    Term::parse(&f.term_start, &f.term_end).map_err(ServiceError::Refused)
}

#[post("/admin/org")]
async fn create(
    state: web::Data<AppState>,
    me: Require<Admin>,
    CsrfForm(f): CsrfForm<UnitInput>,
) -> Result<HttpResponse, AppError> {
    let result = match term(&f) {
        Ok(t) => org::create_unit(&state.db, f.parent, &f.name, t).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(redirect(
            &f.parent.map(urls::org_unit).unwrap_or_else(|| urls::ADMIN_ORG.into()),
        )),
        Err(ServiceError::Refused(t)) => render(&state, &me, f.parent, Some(&t), None).await,
        Err(e) => Err(e.into()),
    }
}

#[post("/admin/org/{id}")]
async fn update(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<UnitInput>,
) -> Result<HttpResponse, AppError> {
    let result = match term(&f) {
        Ok(t) => org::update_unit(&state.db, *id, &f.name, t).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => render(&state, &me, Some(*id), None, Some(me.ctx.t("已保存。", "Saved."))).await,
        Err(ServiceError::Refused(t)) => render(&state, &me, Some(*id), Some(&t), None).await,
        Err(e) => Err(e.into()),
    }
}

#[post("/admin/org/{id}/delete")]
async fn delete(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    match org::delete_unit(&state.db, *id).await {
        Ok(u) => Ok(redirect(
            &u.parent_id
                .map(urls::org_unit)
                .unwrap_or_else(|| urls::ADMIN_ORG.into()),
        )),
        Err(ServiceError::Refused(t)) => render(&state, &me, Some(*id), Some(&t), None).await,
        Err(e) => Err(e.into()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(top)
        .service(create)
        .service(unit)
        .service(update)
        .service(delete);
}
