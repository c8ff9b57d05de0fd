//! The in-class quiz: settings, opening and closing from the room, the chair's attempt.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status, redirect, rejected_fields};
use crate::domain::quiz::{BlueprintRule, Given, QuizSettings, Reveal};
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::access::SessionAccess;
use crate::services::quiz::{self, AttemptPage, Entry};
use crate::services::{FieldErrors, ServiceError};
use crate::web::csrf::{self, CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Chair, Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::quiz as views;

/// The settings page for the session's moderators and lecturers; `shown` are the settings in the form
/// (the stored ones, or what was typed when it is shown again with errors).
async fn settings_again(
    state: &AppState,
    me: &Require<SignedIn>,
    access: SessionAccess,
    shown: Option<QuizSettings>,
    errors: &FieldErrors,
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let page = quiz::settings_page(&state.db, access, &state.rooms).await?;
    let shown = shown.unwrap_or_else(|| page.stored.clone());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(
        status,
        views::settings_page(&me.ctx, &page, &shown, errors, saved),
    ))
}

#[get(r"/sessions/{id:\d+}/quiz")]
async fn settings_page(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let access = SessionAccess::of(&state.db, &me.user, *id).await?;
    settings_again(&state, &me, access, None, &FieldErrors::new(), false).await
}

/// The settings form, read as pairs: topic fields are named after the topics ("topic:业主大会").
struct SettingsForm(Vec<(String, String)>);

impl SettingsForm {
    fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// Numbers that do not parse become `u32::MAX`, which the settings check refuses by field.
    fn settings(&self) -> QuizSettings {
        let num = |k: &str| self.get(k).parse::<u32>().unwrap_or(u32::MAX);
        let blueprint = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("topic:")
                    .map(|t| (t.to_string(), v.trim().parse::<u32>().unwrap_or(0)))
            })
            .filter(|(_, n)| *n > 0)
            .map(|(topic, count)| BlueprintRule { topic, count })
            .collect();
        QuizSettings {
            blueprint,
            pass_mark: num("pass_mark"),
            time_limit_minutes: num("time_limit_minutes"),
            attempts_allowed: num("attempts_allowed"),
            // Empty means no wait; anything else that is not a whole number is refused by the check.
            retake_wait_minutes: match self.get("retake_wait_minutes").as_str() {
                "" => 0,
                v => v.parse().unwrap_or(u32::MAX),
            },
            attendance_gate: num("attendance_gate"),
            reveal: Reveal::parse(&self.get("reveal")).unwrap_or(Reveal::AfterSubmit),
        }
    }
}

#[post(r"/sessions/{id:\d+}/quiz")]
async fn save_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form = SettingsForm(serde_html_form::from_bytes(&body).map_err(|_| AppError::Csrf)?);
    csrf::check(&req, &form.get("csrf"))?;
    let access = SessionAccess::of(&state.db, &me.user, *id).await?.staff()?;
    let settings = form.settings();
    let saved = quiz::save_settings_by(&state.db, &access.actor(), *id, &settings).await;
    let errors = rejected_fields(saved)?;
    let saved = errors.is_empty();
    let shown = (!saved).then_some(settings);
    settings_again(&state, &me, access, shown, &errors, saved).await
}

/// The open/close buttons: from the room (`back=room`) the moderator stays in the room, from the quiz
/// settings she comes back to them.
#[derive(Deserialize)]
struct QuizSwitch {
    csrf: String,
    back: Option<String>,
}
has_csrf!(QuizSwitch);

impl QuizSwitch {
    fn back_to(&self, session: i64) -> String {
        match self.back.as_deref() {
            Some("room") => urls::room(session),
            _ => urls::quiz_settings(session),
        }
    }
}

/// Opens the quiz for the chairs in the room now; the room shows it inside their room pages.
#[post(r"/sessions/{id:\d+}/quiz/open")]
async fn open(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<QuizSwitch>,
) -> Result<HttpResponse, AppError> {
    let moderates = SessionAccess::of(&state.db, &me.user, *id).await?.moderates()?;
    quiz::open(&state.db, &moderates, &state.rooms).await?;
    Ok(redirect(&f.back_to(*id)))
}

#[post(r"/sessions/{id:\d+}/quiz/close")]
async fn close(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<QuizSwitch>,
) -> Result<HttpResponse, AppError> {
    let moderates = SessionAccess::of(&state.db, &me.user, *id).await?.moderates()?;
    quiz::close(&state.db, &moderates, &state.rooms).await?;
    Ok(redirect(&f.back_to(*id)))
}

/// The link every chair's page is sent to. Only looks: starting the clock is the POST below.
#[get(r"/quiz/{id:\d+}")]
async fn enter(state: web::Data<AppState>, me: Require<Chair>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let e = quiz::entry(&state.db, *id, &me.user).await?;
    Ok(entry_page(&me, *id, e))
}

/// 开始答题.
#[post(r"/quiz/{id:\d+}/start")]
async fn start(
    state: web::Data<AppState>,
    me: Require<Chair>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let e = quiz::start(&state.db, *id, &me.user).await?;
    Ok(entry_page(&me, *id, e))
}

fn entry_page(me: &Require<Chair>, quiz: i64, e: Entry) -> HttpResponse {
    match e {
        Entry::Attempt(a) => redirect(&urls::attempt(a)),
        Entry::Ready(r) => html(views::ready(&me.ctx, quiz, &r)),
        Entry::Finished { attempt, blocked } => html(views::blocked(&me.ctx, &blocked, Some(attempt))),
        Entry::Blocked(b) => html_status(StatusCode::FORBIDDEN, views::blocked(&me.ctx, &b, None)),
    }
}

#[derive(Deserialize)]
struct AttemptQuery {
    q: Option<i32>,
    layout: Option<String>,
    saved: Option<i32>,
}

/// The attempt while it is open, else the result. Only reads: an attempt past its deadline shows its
/// result already; the deadline job records it.
#[get(r"/attempts/{id:\d+}")]
async fn attempt_page(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    q: web::Query<AttemptQuery>,
) -> Result<HttpResponse, AppError> {
    Ok(html(match quiz::attempt_page(&state.db, *id, &me.user).await? {
        AttemptPage::Result { view, reveal, articles } => views::result_page(&me.ctx, &view, reveal, &articles),
        AttemptPage::Questions(v) => {
            let all = q.layout.as_deref() == Some("all");
            views::attempt_page(&me.ctx, &v, q.q.unwrap_or(0), all, q.saved, None)
        }
    }))
}

#[derive(Deserialize)]
struct AnswerForm {
    csrf: String,
    position: i32,
    #[serde(default)]
    choice: Vec<usize>,
    truth: Option<bool>,
    next: Option<i32>,
    layout: Option<String>,
}
has_csrf!(AnswerForm);

fn given(choice: Vec<usize>, truth: Option<bool>) -> Option<Given> {
    match truth {
        Some(t) => Some(Given::Truth(t)),
        None if !choice.is_empty() => Some(Given::Choices(choice.into_iter().collect::<BTreeSet<_>>())),
        None => None,
    }
}

fn choose_first() -> Text {
    Text::new("请先选择一个答案。", "Choose an answer first.")
}

/// Saving without JavaScript: one form post per answer, then the next question.
#[post(r"/attempts/{id:\d+}/answer")]
async fn answer(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<AnswerForm>,
) -> Result<HttpResponse, AppError> {
    let all = f.layout.as_deref() == Some("all");
    let (status, why) = match given(f.choice, f.truth) {
        None => (StatusCode::UNPROCESSABLE_ENTITY, choose_first()),
        Some(g) => match quiz::save_answer(&state.db, *id, &me.user, f.position, g).await {
            Ok(()) => {
                let base = if all {
                    format!("{}?layout=all", urls::attempt(*id))
                } else {
                    urls::attempt_question(*id, f.next.unwrap_or(f.position))
                };
                return Ok(redirect(&format!("{base}&saved={}", f.position)));
            }
            Err(ServiceError::Refused(why)) => (StatusCode::CONFLICT, why),
            Err(e) => return Err(e.into()),
        },
    };
    let v = quiz::view(&state.db, *id, &me.user).await?;
    let page = views::attempt_page(&me.ctx, &v, f.position, all, None, Some(&why));
    Ok(html_status(status, page))
}

#[derive(Deserialize)]
struct AnswerJson {
    position: i32,
    #[serde(default)]
    choice: Vec<usize>,
    truth: Option<bool>,
}

/// Saving in the background (quiz.js). The reply comes after the answer is committed.
#[post(r"/api/attempts/{id:\d+}/answers")]
async fn answer_api(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    body: web::Json<AnswerJson>,
) -> Result<HttpResponse, AppError> {
    let token = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    csrf::check(&req, token)?;
    let body = body.into_inner();
    let lang = me.ctx.lang;
    let Some(g) = given(body.choice, body.truth) else {
        let error = choose_first().get(lang).to_string();
        return Ok(HttpResponse::UnprocessableEntity().json(serde_json::json!({"saved": false, "error": error})));
    };
    match quiz::save_answer(&state.db, *id, &me.user, body.position, g).await {
        Ok(()) => Ok(HttpResponse::Ok().json(serde_json::json!({"saved": true, "position": body.position}))),
        Err(ServiceError::Refused(why)) => {
            Ok(HttpResponse::Conflict().json(serde_json::json!({"saved": false, "error": why.get(lang)})))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct SubmitForm {
    csrf: String,
    /// "yes" once she has been asked (by quiz.js, or by the confirmation page).
    #[serde(default)]
    confirm: String,
}
has_csrf!(SubmitForm);

#[post(r"/attempts/{id:\d+}/submit")]
async fn submit(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<SubmitForm>,
) -> Result<HttpResponse, AppError> {
    if f.confirm != "yes" {
        // Not asked yet (no JavaScript): ask, unless the attempt no longer takes answers anyway.
        return Ok(match quiz::attempt_page(&state.db, *id, &me.user).await? {
            AttemptPage::Questions(v) => html(views::confirm_submit(&me.ctx, &v)),
            AttemptPage::Result { .. } => redirect(&urls::attempt(*id)),
        });
    }
    quiz::submit_mine(&state.db, *id, &me.user).await?;
    Ok(redirect(&urls::attempt(*id)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(settings_page)
        .service(save_settings)
        .service(open)
        .service(close)
        .service(enter)
        .service(start)
        .service(attempt_page)
        .service(answer)
        .service(answer_api)
        .service(submit);
}
