//! The admin pages of the organisation tree: a unit, its children, adding, renaming and deleting.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html_status, redirect, rejected_fields, reply};
use crate::domain::org::{OrgUnitId, Term, parse_term_fields, parse_unit_name};
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::{FieldErrors, ServiceError, org};
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Admin, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::admin_org::{Attempted, UnitForm, UnitValues, unit_page};

/// What the page says besides the unit itself: a refusal, a confirmation, or a form sent back.
#[derive(Default)]
struct Outcome<'a> {
    refused: Option<&'a Text>,
    saved: bool,
    attempted: Option<Attempted>,
}

/// A unit's page (or the top level), 422 when it carries a refusal or rejected input.
async fn render(
    state: &AppState,
    me: &Require<Admin>,
    id: Option<OrgUnitId>,
    outcome: Outcome<'_>,
) -> Result<HttpResponse, AppError> {
    let data = org::unit_page(&state.db, id).await?;
    let failed = outcome.refused.is_some() || outcome.attempted.as_ref().is_some_and(|a| !a.errors.is_empty());
    let saved = outcome.saved.then(|| me.ctx.t("已保存。", "Saved."));
    let page = unit_page(&me.ctx, &data, outcome.refused, saved, outcome.attempted.as_ref());
    let status = if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(html_status(status, page))
}

#[get("/admin/org")]
async fn top(state: web::Data<AppState>, me: Require<Admin>) -> Result<HttpResponse, AppError> {
    render(&state, &me, None, Outcome::default()).await
}

#[get("/admin/org/{id:\\d+}")]
async fn unit(state: web::Data<AppState>, me: Require<Admin>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    render(&state, &me, Some(*id), Outcome::default()).await
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

/// A unit's name and term as typed, checked field by field.
struct UnitCommand {
    name: String,
    term: Option<Term>,
}

impl TryFrom<&UnitInput> for UnitCommand {
    type Error = FieldErrors;

    fn try_from(f: &UnitInput) -> Result<UnitCommand, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = parse_unit_name(&f.name).map_err(|t| errors.push(("name", t))).ok();
        let term = parse_term_fields(&f.term_start, &f.term_end)
            .map_err(|e| errors.extend(e))
            .ok();
        match (name, term) {
            (Some(name), Some(term)) => errors.or_ok(UnitCommand { name, term }),
            _ => Err(errors),
        }
    }
}

impl UnitInput {
    fn attempted(&self, form: UnitForm, errors: FieldErrors) -> Outcome<'static> {
        let values = UnitValues {
            name: self.name.clone(),
            term_start: self.term_start.clone(),
            term_end: self.term_end.clone(),
        };
        Outcome {
            attempted: Some(Attempted { form, values, errors }),
            ..Outcome::default()
        }
    }
}

fn unit_or_top(id: Option<OrgUnitId>) -> String {
    id.map(urls::org_unit).unwrap_or_else(|| urls::ADMIN_ORG.into())
}

#[post("/admin/org")]
async fn create(
    state: web::Data<AppState>,
    me: Require<Admin>,
    CsrfForm(f): CsrfForm<UnitInput>,
) -> Result<HttpResponse, AppError> {
    let outcome = async {
        let c = UnitCommand::try_from(&f)?;
        org::create_unit_by(&state.db, &me.user.actor(), f.parent, &c.name, c.term).await
    }
    .await;
    reply(
        outcome,
        |u| unit_or_top(u.parent_id),
        async |errors| render(&state, &me, f.parent, f.attempted(UnitForm::Add, errors)).await,
    )
    .await
}

#[post("/admin/org/{id:\\d+}")]
async fn update(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<UnitInput>,
) -> Result<HttpResponse, AppError> {
    let outcome = async {
        let c = UnitCommand::try_from(&f)?;
        org::update_unit_by(&state.db, &me.user.actor(), *id, &c.name, c.term).await
    }
    .await;
    let errors = rejected_fields(outcome)?;
    let outcome = if errors.is_empty() {
        Outcome {
            saved: true,
            ..Outcome::default()
        }
    } else {
        f.attempted(UnitForm::Rename, errors)
    };
    render(&state, &me, Some(*id), outcome).await
}

#[post("/admin/org/{id:\\d+}/delete")]
async fn delete(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    match org::delete_unit_by(&state.db, &me.user.actor(), *id).await {
        Ok(u) => Ok(redirect(&unit_or_top(u.parent_id))),
        Err(ServiceError::Refused(t)) => {
            let outcome = Outcome {
                refused: Some(&t),
                ..Outcome::default()
            };
            render(&state, &me, Some(*id), outcome).await
        }
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
