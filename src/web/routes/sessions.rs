//! Officials schedule sessions and hand out invitations.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{html, html_status, redirect, reply};
use crate::db::{org, people, training};
use crate::domain::org::OrgKind;
use crate::domain::person::Role;
use crate::domain::session::Schedule;
use crate::domain::time::to_shanghai;
use crate::error::AppError;
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::FieldErrors;
use crate::services::sessions::{self, Invitees, SessionInput};
use crate::services::streets;
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::guards::{Official, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::sessions::{self as views, Detail, FormChoices, SessionValues};

#[get("/sessions")]
async fn index(state: web::Data<AppState>, me: Require<Official>) -> Result<HttpResponse, AppError> {
    let ids: Vec<i64> = streets::visible(&state.db, &me.scope())
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let list = training::for_streets(&state.db, &ids, 200).await?;
    Ok(html(views::list(&me.ctx, &list)))
}

#[derive(Deserialize)]
struct SessionForm {
    csrf: String,
    title: String,
    #[serde(default)]
    description: String,
    starts_at: String,
    ends_at: String,
    street: i64,
    #[serde(default)]
    lecturers: Vec<i64>,
    #[serde(default)]
    moderators: Vec<i64>,
    #[serde(default)]
    invite: String,
    #[serde(default)]
    neighbourhoods: Vec<i64>,
    #[serde(default)]
    committees: Vec<i64>,
}
has_csrf!(SessionForm);

impl SessionForm {
    fn values(&self) -> SessionValues {
        SessionValues {
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            street: Some(self.street),
            lecturers: self.lecturers.clone(),
            moderators: self.moderators.clone(),
            invite: self.invite.clone(),
            neighbourhoods: self.neighbourhoods.clone(),
            committees: self.committees.clone(),
        }
    }

    /// The form as a command. Dates are bounded against now; an edit may keep the start it had.
    fn input(&self, current_start: Option<DateTime<Utc>>) -> Result<SessionInput, FieldErrors> {
        let schedule = Schedule::parse(&self.title, &self.description, &self.starts_at, &self.ends_at).and_then(|s| {
            let errors = s.check_dates(Utc::now(), current_start);
            if errors.is_empty() { Ok(s) } else { Err(errors) }
        });
        // Report a missing lecturer together with schedule problems, not one round later.
        let schedule = match (schedule, self.lecturers.is_empty()) {
            (Ok(s), false) => s,
            (result, no_lecturer) => {
                let mut errors = FieldErrors::from(result.err().unwrap_or_default());
                if no_lecturer {
                    errors.push((
                        "lecturers",
                        Text::new("请至少选择一位主讲律师", "choose at least one lecturer"),
                    ));
                }
                return Err(errors);
            }
        };
        let invitees = match self.invite.as_str() {
            "neighbourhoods" => Invitees::Neighbourhoods(self.neighbourhoods.clone()),
            "committees" => Invitees::Committees(self.committees.clone()),
            _ => Invitees::WholeStreet,
        };
        Ok(SessionInput {
            schedule,
            street: self.street,
            lecturers: self.lecturers.clone(),
            moderators: self.moderators.clone(),
            invitees,
        })
    }
}

/// Renders the form with the choices an official has.
async fn render_form(
    state: &AppState,
    me: &Require<Official>,
    action: &str,
    editing: bool,
    v: &SessionValues,
    errors: &[(&'static str, Text)],
) -> Result<HttpResponse, AppError> {
    let scope = me.scope();
    let streets = streets::visible(&state.db, &scope).await?;
    let lawyers = people::with_role(&state.db, Role::Lawyer).await?;
    let mut officials = Vec::new();
    for p in people::with_role(&state.db, Role::Official).await? {
        let theirs = people::official_street_ids(&state.db, p.id).await?;
        if streets.iter().any(|s| theirs.contains(&s.id)) {
            officials.push(p);
        }
    }
    let mut neighbourhoods = Vec::new();
    let mut committees = Vec::new();
    for s in &streets {
        for n in org::in_street(&state.db, s.id, OrgKind::Neighbourhood).await? {
            neighbourhoods.push((n.id, format!("{} · {}", s.name, n.name)));
        }
        let labels = crate::services::org::committee_labels(&state.db, s.id).await?;
        let mut list: Vec<_> = labels
            .into_iter()
            .map(|(id, (n, _, c))| (id, format!("{} · {n} · {c}", s.name)))
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        committees.extend(list);
    }
    let choices = FormChoices {
        streets: &streets,
        lawyers: &lawyers,
        officials: &officials,
        neighbourhoods: &neighbourhoods,
        committees: &committees,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(
        status,
        views::form(&me.ctx, action, editing, v, &choices, errors),
    ))
}

#[get("/sessions/new")]
async fn new_page(state: web::Data<AppState>, me: Require<Official>) -> Result<HttpResponse, AppError> {
    render_form(&state, &me, urls::SESSION_NEW, false, &SessionValues::default(), &[]).await
}

#[post("/sessions/new")]
async fn create(
    state: web::Data<AppState>,
    me: Require<Official>,
    CsrfForm(f): CsrfForm<SessionForm>,
) -> Result<HttpResponse, AppError> {
    let outcome = async { sessions::create(&state.db, &me.scope(), me.user.person.id, &f.input(None)?).await }.await;
    reply(outcome, urls::session, async |e| {
        render_form(&state, &me, urls::SESSION_NEW, false, &f.values(), &e).await
    })
    .await
}

#[get("/sessions/{id}")]
async fn detail(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    let street = org::get(&state.db, s.street_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let lecturers = people::get_many(&state.db, &s.lecturers).await?;
    let attendance = sessions::attendance(&state.db, &s).await?;
    let invite_url = format!("{}{}", state.settings.public_url(), urls::invitation(&s.invite_token));
    let d = Detail {
        session: &s,
        street: &street,
        lecturers: &lecturers,
        invited: s.committees.len(),
        invite_url: &invite_url,
        attendance: &attendance,
    };
    Ok(html(views::detail(&me.ctx, &d)))
}

#[get("/sessions/{id}/edit")]
async fn edit_page(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    let fmt = |t| to_shanghai(t).format("%Y-%m-%dT%H:%M").to_string();
    let v = SessionValues {
        title: s.title.clone(),
        description: s.description.clone(),
        starts_at: fmt(s.starts_at),
        ends_at: fmt(s.ends_at),
        street: Some(s.street_id),
        lecturers: s.lecturers.clone(),
        moderators: s.moderators.clone(),
        invite: "committees".into(),
        neighbourhoods: vec![],
        committees: s.committees.clone(),
    };
    render_form(&state, &me, &urls::session(s.id), true, &v, &[]).await
}

#[post("/sessions/{id}")]
async fn update(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<SessionForm>,
) -> Result<HttpResponse, AppError> {
    let current = sessions::managed(&state.db, &me.scope(), *id).await?;
    let input = f.input(Some(current.starts_at));
    let outcome = async { sessions::update(&state.db, &me.scope(), *id, &input?).await }.await;
    reply(
        outcome,
        |()| urls::session(*id),
        async |e| render_form(&state, &me, &urls::session(*id), true, &f.values(), &e).await,
    )
    .await
}

#[post("/sessions/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    sessions::cancel(&state.db, &me.scope(), *id).await?;
    Ok(redirect(&urls::session(*id)))
}

#[get("/sessions/{id}/qr.svg")]
async fn qr(state: web::Data<AppState>, me: Require<Official>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    let url = format!("{}{}", state.settings.public_url(), urls::invitation(&s.invite_token));
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(480, 480)
        .build();
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"session-{}.svg\"", s.id),
        ))
        .body(svg))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(new_page)
        .service(create)
        .service(detail)
        .service(edit_page)
        .service(update)
        .service(cancel)
        .service(qr);
}
