//! The in-class quiz: settings, opening and closing from the room, the chair's attempt.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status, redirect, rejected_fields};
use crate::db::{quiz as quiz_db, training};
use crate::domain::quiz::{BlueprintRule, Given, QuizSettings, Reveal};
use crate::domain::session::RoomRole;
use crate::error::AppError;
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::accounts::CurrentUser;
use crate::services::quiz::{self, Entry};
use crate::services::{ServiceError, banks, sessions};
use crate::web::csrf::{self, CsrfForm, OnlyCsrf};
use crate::web::guards::{Chair, Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::quiz::{self as views, SettingsPage};

/// The session and the user's role; quiz settings are for moderators and lecturers.
async fn staff(
    state: &AppState,
    user: &CurrentUser,
    session: i64,
) -> Result<(training::SessionRecord, RoomRole), AppError> {
    let s = training::get(&state.db, session).await?.ok_or(AppError::NotFound)?;
    match sessions::room_role(&state.db, user, &s).await? {
        Some(r @ (RoomRole::Moderator | RoomRole::Lecturer)) => Ok((s, r)),
        _ => Err(AppError::Forbidden),
    }
}

/// The session, for its moderators only (opening and closing the quiz is theirs, not the lecturer's).
async fn moderated(state: &AppState, user: &CurrentUser, session: i64) -> Result<training::SessionRecord, AppError> {
    match staff(state, user, session).await? {
        (s, RoomRole::Moderator) => Ok(s),
        _ => Err(AppError::Forbidden),
    }
}

async fn render_settings(
    state: &AppState,
    me: &Require<SignedIn>,
    session: i64,
    settings: Option<QuizSettings>,
    errors: &[(&'static str, Text)],
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let (s, role) = staff(state, &me.user, session).await?;
    let (stored, quiz) = quiz::settings(&state.db, s.id).await?;
    let pools = quiz::pools(&state.db).await?;
    let mut topics: Vec<(String, usize)> = pools.iter().map(|(t, p)| (t.clone(), p.len())).collect();
    topics.sort();
    let counter = match &quiz {
        Some(q) => Some(quiz::counter(&state.db, q.id, state.rooms.present_viewers(s.id).await.len()).await?),
        None => None,
    };
    let settings = settings.unwrap_or(stored);
    let page = SettingsPage {
        session: &s,
        settings: &settings,
        quiz: quiz.as_ref(),
        topics: &topics,
        errors,
        saved,
        counter,
        moderator: role == RoomRole::Moderator,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html_status(status, views::settings_page(&me.ctx, &page)))
}

#[get("/sessions/{id}/quiz")]
async fn settings_page(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    render_settings(&state, &me, *id, None, &[], false).await
}

#[post("/sessions/{id}/quiz")]
async fn save_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    // Topic fields are named after the topics ("topic:业主大会"), so the form is read as pairs.
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&body).map_err(|_| AppError::Csrf)?;
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    csrf::check(&req, &get("csrf"))?;
    staff(&state, &me.user, *id).await?;
    let num = |k: &str| get(k).parse::<u32>().unwrap_or(u32::MAX);
    let blueprint = pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("topic:")
                .map(|t| (t.to_string(), v.trim().parse::<u32>().unwrap_or(0)))
        })
        .filter(|(_, n)| *n > 0)
        .map(|(topic, count)| BlueprintRule { topic, count })
        .collect();
    let settings = QuizSettings {
        blueprint,
        pass_mark: num("pass_mark"),
        time_limit_minutes: num("time_limit_minutes"),
        attempts_allowed: num("attempts_allowed"),
        // Empty means no wait; anything else that is not a whole number is refused by the check.
        retake_wait_minutes: match get("retake_wait_minutes").as_str() {
            "" => 0,
            v => v.parse().unwrap_or(u32::MAX),
        },
        attendance_gate: num("attendance_gate"),
        reveal: Reveal::parse(&get("reveal")).unwrap_or(Reveal::AfterSubmit),
    };
    let errors = rejected_fields(quiz::save_settings(&state.db, *id, &settings).await)?;
    if errors.is_empty() {
        render_settings(&state, &me, *id, None, &[], true).await
    } else {
        render_settings(&state, &me, *id, Some(settings), &errors, false).await
    }
}

/// Opens the quiz for the chairs in the room now, and switches their pages to it.
#[post("/sessions/{id}/quiz/open")]
async fn open(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let s = moderated(&state, &me.user, *id).await?;
    let present = state.rooms.present_viewers(s.id).await;
    let opened = quiz::open(&state.db, s.id, &present).await?;
    state
        .rooms
        .quiz_opened(s.id, opened.quiz_id, urls::quiz(opened.quiz_id));
    Ok(redirect(&urls::quiz_settings(s.id)))
}

#[post("/sessions/{id}/quiz/close")]
async fn close(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let s = moderated(&state, &me.user, *id).await?;
    let q = quiz_db::for_session(&state.db, s.id).await?.ok_or(AppError::NotFound)?;
    quiz::close_quiz(&state.db, q.id).await?;
    Ok(redirect(&urls::quiz_settings(s.id)))
}

/// The link every chair's page is sent to. Only looks: starting the clock is the POST below.
#[get("/quiz/{id}")]
async fn enter(state: web::Data<AppState>, me: Require<Chair>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let e = quiz::entry(&state.db, *id, &me.user).await?;
    Ok(entry_page(&me, *id, e))
}

/// 开始答题.
#[post("/quiz/{id}/start")]
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
        Entry::Ready {
            number,
            counting,
            questions,
            minutes,
            attempts_allowed,
        } => html(views::ready(
            &me.ctx,
            quiz,
            (number, attempts_allowed),
            (questions, minutes),
            counting,
        )),
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

#[get("/attempts/{id}")]
async fn attempt_page(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    q: web::Query<AttemptQuery>,
) -> Result<HttpResponse, AppError> {
    let v = quiz::view(&state.db, *id, &me.user).await?;
    if v.attempt.status == quiz_db::AttemptStatus::Submitted {
        let reveal = quiz::may_reveal(&v);
        let mut articles = Vec::new();
        if reveal {
            for item in &v.items {
                articles.push(banks::cited_articles(&state.db, &item.version).await?);
            }
        }
        return Ok(html(views::result_page(&me.ctx, &v, reveal, &articles)));
    }
    let all = q.layout.as_deref() == Some("all");
    Ok(html(views::attempt_page(
        &me.ctx,
        &v,
        q.q.unwrap_or(0),
        all,
        q.saved,
        None,
    )))
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

/// Saving without JavaScript: one form post per answer, then the next question.
#[post("/attempts/{id}/answer")]
async fn answer(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<AnswerForm>,
) -> Result<HttpResponse, AppError> {
    let all = f.layout.as_deref() == Some("all");
    let Some(g) = given(f.choice, f.truth) else {
        let v = quiz::view(&state.db, *id, &me.user).await?;
        let e = Text::new("请先选择一个答案。", "Choose an answer first.");
        return Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::attempt_page(&me.ctx, &v, f.position, all, None, Some(&e)),
        ));
    };
    match quiz::save_answer(&state.db, *id, &me.user, f.position, g).await? {
        Ok(()) => {
            let base = if all {
                format!("{}?layout=all", urls::attempt(*id))
            } else {
                urls::attempt_question(*id, f.next.unwrap_or(f.position))
            };
            Ok(redirect(&format!("{base}&saved={}", f.position)))
        }
        Err(refused) => {
            let v = quiz::view(&state.db, *id, &me.user).await?;
            Ok(html_status(
                StatusCode::CONFLICT,
                views::attempt_page(&me.ctx, &v, f.position, all, None, Some(&refused.text())),
            ))
        }
    }
}

#[derive(Deserialize)]
struct AnswerJson {
    position: i32,
    #[serde(default)]
    choice: Vec<usize>,
    truth: Option<bool>,
}

/// Saving in the background (quiz.js). The reply comes after the answer is committed.
#[post("/api/attempts/{id}/answers")]
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
        return Ok(HttpResponse::UnprocessableEntity().json(serde_json::json!({"saved": false, "error": Text::new("请先选择一个答案。", "Choose an answer first.").get(lang)})));
    };
    match quiz::save_answer(&state.db, *id, &me.user, body.position, g).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(serde_json::json!({"saved": true, "position": body.position}))),
        Ok(Err(r)) => {
            Ok(HttpResponse::Conflict().json(serde_json::json!({"saved": false, "error": r.text().get(lang)})))
        }
        Err(ServiceError::Forbidden) => Err(AppError::Forbidden),
        Err(e) => Err(e.into()),
    }
}

#[post("/attempts/{id}/submit")]
async fn submit(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
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
