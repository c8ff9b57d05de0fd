use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status, rejected_fields, reply};
use crate::db::{org as org_db, people as people_db};
use crate::domain::org::OrgKind;
use crate::domain::person::Person;
use crate::error::AppError;
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::FieldErrors;
use crate::services::people::{self, AccountInput};
use crate::web::csrf::CsrfForm;
use crate::web::guards::{Admin, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::admin_people::{AccountPage, AccountValues, form, list};

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[get("/admin/people")]
async fn index(
    state: web::Data<AppState>,
    me: Require<Admin>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let found = people_db::search(&state.db, &q.q, 200).await?;
    Ok(html(list(&me.ctx, &q.q, &found)))
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
    committee: String,
    #[serde(default)]
    position: String,
}
has_csrf!(AccountForm);

impl AccountForm {
    fn values(&self) -> AccountValues {
        AccountValues {
            name: self.name.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            roles: self.roles.clone(),
            streets: self.streets.clone(),
            committee: self.committee.parse().ok(),
            position: self.position.clone(),
        }
    }

    fn parse(&self) -> Result<AccountInput, FieldErrors> {
        let v = self.values();
        AccountInput::parse(
            &v.name,
            &v.phone,
            &v.email,
            &v.roles,
            &v.streets,
            v.committee,
            &v.position,
        )
    }
}

fn values_of(p: &Person, streets: Vec<i64>) -> AccountValues {
    AccountValues {
        name: p.name.as_str().to_string(),
        phone: p.phone.as_str().to_string(),
        email: p.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
        roles: p.roles.iter().map(|r| r.code().to_string()).collect(),
        streets,
        committee: p.committee_id,
        position: p.position.clone().unwrap_or_default(),
    }
}

async fn render(
    state: &AppState,
    me: &Require<Admin>,
    person: Option<&Person>,
    values: &AccountValues,
    errors: &[(&'static str, Text)],
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let streets = org_db::all_of_kind(&state.db, OrgKind::Street).await?;
    let committees = crate::services::org::committee_choices(&state.db).await?;
    let page = form(
        &me.ctx,
        &AccountPage {
            person,
            values,
            errors,
            streets: &streets,
            committees: &committees,
            saved,
        },
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(status, page))
}

#[get("/admin/people/new")]
async fn new_page(state: web::Data<AppState>, me: Require<Admin>) -> Result<HttpResponse, AppError> {
    render(&state, &me, None, &AccountValues::default(), &[], false).await
}

#[post("/admin/people/new")]
async fn create(
    state: web::Data<AppState>,
    me: Require<Admin>,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let outcome = async { people::create(&state.db, &f.parse()?, None).await }.await;
    reply(outcome, urls::person, async |e| {
        render(&state, &me, None, &f.values(), &e, false).await
    })
    .await
}

#[get("/admin/people/{id}")]
async fn edit_page(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let person = people_db::get(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    let streets = people_db::official_street_ids(&state.db, person.id).await?;
    render(&state, &me, Some(&person), &values_of(&person, streets), &[], false).await
}

#[post("/admin/people/{id}")]
async fn update(
    state: web::Data<AppState>,
    me: Require<Admin>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<HttpResponse, AppError> {
    let person = people_db::get(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    let errors = rejected_fields(async { people::update(&state.db, person.id, &f.parse()?).await }.await)?;
    let saved = errors.is_empty();
    let person = people_db::get(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    render(&state, &me, Some(&person), &f.values(), &errors, saved).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(new_page)
        .service(create)
        .service(edit_page)
        .service(update);
}
