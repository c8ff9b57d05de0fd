//! Officials schedule sessions and hand out invitations.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{attachment, form_status, html, html_status, inline, redirect, reply};
use crate::domain::session::Schedule;
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::FieldErrors;
use crate::services::sessions::{self, Invitees, SessionInput};
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Official, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::sessions::{self as views, SessionValues};

#[get("/sessions")]
async fn index(state: web::Data<AppState>, me: Require<Official>) -> Result<HttpResponse, AppError> {
    let list = sessions::list_page(&state.db, &me.scope()).await?;
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

    /// The schedule, its dates bounded against now (an edit may keep the start it had). A missing
    /// lecturer is reported with schedule problems, not one round later.
    fn schedule(&self, current_start: Option<DateTime<Utc>>) -> Result<Schedule, FieldErrors> {
        let schedule = Schedule::parse(&self.title, &self.description, &self.starts_at, &self.ends_at).and_then(|s| {
            let errors = s.check_dates(Utc::now(), current_start);
            if errors.is_empty() { Ok(s) } else { Err(errors) }
        });
        match (schedule, self.lecturers.is_empty()) {
            (Ok(s), false) => Ok(s),
            (result, no_lecturer) => {
                let mut errors = FieldErrors::from(result.err().unwrap_or_default());
                if no_lecturer {
                    errors.add("lecturers", "请至少选择一位主讲律师", "choose at least one lecturer");
                }
                Err(errors)
            }
        }
    }

    /// The form as a command.
    fn input(&self, current_start: Option<DateTime<Utc>>) -> Result<SessionInput, FieldErrors> {
        let invitees = match self.invite.as_str() {
            "neighbourhoods" => Invitees::Neighbourhoods(self.neighbourhoods.clone()),
            "committees" => Invitees::Committees(self.committees.clone()),
            _ => Invitees::WholeStreet,
        };
        Ok(SessionInput {
            schedule: self.schedule(current_start)?,
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
    let choices = sessions::form_choices(&state.db, &me.scope()).await?;
    let page = views::form(&me.ctx, action, editing, v, &choices, errors);
    Ok(html_status(form_status(errors), page))
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
    let outcome = async { sessions::create(&state.db, &me.scope(), &me.user.actor(), &f.input(None)?).await }.await;
    reply(outcome, urls::session, async |e| {
        render_form(&state, &me, urls::SESSION_NEW, false, &f.values(), &e).await
    })
    .await
}

/// The address a chair opens the session from (the group link, its QR code and the poster).
fn invitation_url(state: &AppState, token: &str) -> String {
    format!("{}{}", state.settings.public_url(), urls::invitation(token))
}

#[get(r"/sessions/{id:\d+}")]
async fn detail(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let d = sessions::detail_page(&state.db, &me.scope(), *id).await?;
    let invite_url = invitation_url(&state, &d.session.invite_token);
    Ok(html(views::detail(&me.ctx, &d, &invite_url)))
}

#[get(r"/sessions/{id:\d+}/edit")]
async fn edit_page(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    render_form(&state, &me, &urls::session(s.id), true, &SessionValues::of(&s), &[]).await
}

#[post(r"/sessions/{id:\d+}")]
async fn update(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<SessionForm>,
) -> Result<HttpResponse, AppError> {
    let current = sessions::managed(&state.db, &me.scope(), *id).await?;
    let input = f.input(Some(current.starts_at));
    let outcome = async { sessions::update(&state.db, &me.scope(), &me.user.actor(), *id, &input?).await }.await;
    reply(
        outcome,
        |()| urls::session(*id),
        async |e| render_form(&state, &me, &urls::session(*id), true, &f.values(), &e).await,
    )
    .await
}

#[post(r"/sessions/{id:\d+}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    sessions::cancel_by(&state.db, &me.scope(), &me.user.actor(), *id).await?;
    Ok(redirect(&urls::session(*id)))
}

#[get(r"/sessions/{id:\d+}/qr.svg")]
async fn qr(state: web::Data<AppState>, me: Require<Official>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    let url = invitation_url(&state, &s.invite_token);
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(480, 480)
        .build();
    Ok(attachment("image/svg+xml", &format!("session-{}.svg", s.id), svg))
}

/// A picture for the chat group: WeChat sends PNGs as pictures, not SVGs. Drawn off the async threads.
pub(super) async fn png(
    draw: impl FnOnce() -> Result<Vec<u8>, crate::raster::RasterError> + Send + 'static,
    filename: &str,
) -> Result<HttpResponse, AppError> {
    let bytes = web::block(draw)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(crate::services::ServiceError::from)?;
    Ok(inline("image/png", filename, bytes))
}

#[get(r"/sessions/{id:\d+}/qr.png")]
async fn qr_png(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    let url = invitation_url(&state, &s.invite_token);
    png(
        move || crate::raster::qr_png(&url, 720),
        &format!("session-{}.png", s.id),
    )
    .await
}

/// The printable poster: title, time, street, lecturers and the QR code.
#[get(r"/sessions/{id:\d+}/poster.png")]
async fn poster(
    state: web::Data<AppState>,
    me: Require<Official>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = sessions::managed(&state.db, &me.scope(), *id).await?;
    let inv = sessions::invitation(&state.db, &s.invite_token).await?;
    let url = invitation_url(&state, &s.invite_token);
    let draw = move || {
        crate::raster::invitation_poster(&crate::raster::Poster {
            title: &inv.session.title,
            when: &inv.when_text(),
            street: &inv.street,
            lecturers: &inv.lecturers.join("、"),
            url: &url,
        })
    };
    png(draw, &format!("poster-{}.png", s.id)).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(new_page)
        .service(create)
        .service(detail)
        .service(edit_page)
        .service(update)
        .service(cancel)
        .service(qr)
        .service(qr_png)
        .service(poster);
}
