//! Admin pages for accounts: search, create, edit.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{form_status, html, html_status, rejected_fields, reply};
use crate::has_csrf;
use crate::services::FieldErrors;
use crate::services::people::{self, AccountFields, AccountInput};
use crate::services::privacy;
use crate::web::csrf::CsrfForm;
use crate::web::error::AppError;
use crate::web::guards::{Admin, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::admin_people::{AccountForm as FormPage, form, list};

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    /// Set after erasing a person, to say it was done.
    erased: Option<String>,
}

#[get("/admin/people")]
async fn index(
    state: web::Data<AppState>,
    me: Require<Admin>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let found = people::search(&state.db, &q.q).await?;
    Ok(html(list(&me.ctx, &q.q, &found, q.erased.is_some())))
}

#[derive(Deserialize)]
struct AccountForm {
    csrf: String,
    name: String,
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    streets: Vec<i64>,
    #[serde(default)]
    districts: Vec<i64>,
    #[serde(default)]
    committee: String,
    #[serde(default)]
    position: String,
}
has_csrf!(AccountForm);

impl AccountForm {
    fn fields(&self) -> AccountFields {
        AccountFields {
            name: self.name.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            roles: self.roles.clone(),
            streets: self.streets.clone(),
            districts: self.districts.clone(),
            committee: self.committee.parse().ok(),
            position: self.position.clone(),
        }
    }

    fn input(&self) -> Result<AccountInput, FieldErrors> {
        AccountInput::try_from(&self.fields())
    }
}

/// The account form (new when `id` is none) with these values, 422 when it carries errors.
async fn render(
    state: &AppState,
    me: &Require<Admin>,
    id: Option<i64>,
    values: Option<AccountFields>,
    errors: &FieldErrors,
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let data = people::account_page(&state.db, id).await?;
    let values = values.unwrap_or_else(|| data.fields());
    let page = form(
        &me.ctx,
        &FormPage {
            data: &data,
            values: &values,
            errors,
            saved,
        },
    );
    Ok(html_status(form_status(errors), page))
}

#[get("/admin/people/new")]
async fn new_page(state: web::Data<AppState>, me: Require<Admin>) -> Result<HttpResponse, AppError> {
    render(&state, &me, None, None, &FieldErrors::new(), false).await
}

#[post("/admin/people/new")]
async fn create(
    state: web::Data<AppState>,
    me: Require<Admin>,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let outcome = async { people::create_by(&state.db, &me.user.actor(), &f.input()?).await }.await;
    reply(outcome, urls::person, async |e| {
        render(&state, &me, None, Some(f.fields()), &e, false).await
    })
    .await
}

#[get("/admin/people/{id:\\d+}")]
async fn edit_page(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    render(&state, &me, Some(*id), None, &FieldErrors::new(), false).await
}

#[post("/admin/people/{id:\\d+}")]
async fn update(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let outcome = async { people::update(&state.db, &me.user.actor(), *id, &f.input()?).await }.await;
    let errors = rejected_fields(outcome)?;
    let saved = errors.is_empty();
    render(&state, &me, Some(*id), Some(f.fields()), &errors, saved).await
}

#[derive(Deserialize)]
struct EraseInput {
    csrf: String,
    #[serde(default)]
    reason: String,
}
has_csrf!(EraseInput);

/// Erases the person's information; the account list then says so, or the form shows the problem.
#[post("/admin/people/{id:\\d+}/erase")]
async fn erase(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<EraseInput>,
) -> Result<HttpResponse, AppError> {
    match privacy::erase_person(&state.db, &me.user.actor(), *id, &f.reason).await {
        Ok(_) => Ok(super::redirect(&format!("{}?erased=1", urls::ADMIN_PEOPLE))),
        Err(crate::services::ServiceError::Rejected(errors)) => {
            render(&state, &me, Some(*id), None, &errors, false).await
        }
        Err(e) => Err(e.into()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(new_page)
        .service(create)
        .service(edit_page)
        .service(update)
        .service(erase);
}
