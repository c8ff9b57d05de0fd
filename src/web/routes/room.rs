//! The live room: the page (lobby, room or ended), its WebSocket, invitation links, and start/end
//! buttons that also work without JavaScript.

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use actix_ws::AggregatedMessage;

use super::{html, redirect};
use crate::db::{org, people, training};
use crate::domain::session::{RoomRole, SessionStatus};
use crate::error::AppError;
use crate::rooms::Connection;
use crate::rooms::protocol::{ClientMsg, ServerMsg};
use crate::rooms::room::Member;
use crate::services::{quiz, sessions};
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::guards::{Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::room::{RoomPage, room_page};

/// Loads the session and the user's role in it; 403 for people who are not invited.
async fn entry(
    state: &AppState,
    me: &Require<SignedIn>,
    id: i64,
) -> Result<(training::SessionRecord, RoomRole), AppError> {
    let s = training::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let role = sessions::room_role(&state.db, &me.user, &s)
        .await?
        .ok_or(AppError::Forbidden)?;
    Ok((s, role))
}

#[get("/sessions/{id}/room")]
async fn page(state: web::Data<AppState>, me: Require<SignedIn>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (s, role) = entry(&state, &me, *id).await?;
    let street = org::get(&state.db, s.street_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let lecturers = people::get_many(&state.db, &s.lecturers).await?;
    let ice = serde_json::to_string(&state.settings.rooms.ice_servers).unwrap_or_else(|_| "[]".into());
    // A chair who arrives (or reloads) after the quiz opened missed the socket's redirect: the page
    // itself must lead to the quiz.
    let open_quiz = quiz::open_now(&state.db, s.id).await?;
    Ok(html(room_page(
        &me.ctx,
        &RoomPage {
            session: &s,
            role,
            street: &street,
            lecturers: &lecturers,
            ice_servers: &ice,
            you: me.user.person.id,
            open_quiz,
        },
    )))
}

/// The invitation link from the chat group: sign in (then come back), then the room.
#[get("/s/{token}")]
async fn invitation(state: web::Data<AppState>, ctx: Ctx, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let s = training::by_invite(&state.db, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    if ctx.user.is_none() {
        return Ok(redirect(&urls::signin_with_next(&urls::invitation(&token))));
    }
    Ok(redirect(&urls::room(s.id)))
}

#[get("/sessions/{id}/ws")]
async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !same_origin(&req, &state.settings.public_url()) {
        tracing::info!(person = me.user.person.id, "cross-origin WebSocket refused");
        return Err(AppError::Forbidden);
    }
    let (s, role) = entry(&state, &me, *id).await?;
    if s.status == SessionStatus::Cancelled {
        return Err(AppError::NotFound);
    }
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| AppError::Internal(e.to_string()))?;
    let member = Member {
        person_id: me.user.person.id,
        name: me.user.person.name.as_str().to_string(),
        role,
    };
    let conn = state.rooms.join(s.id, member).await.map_err(AppError::Internal)?;
    let rights = Rights {
        db: state.db.clone(),
        person: me.user.person.id,
        session: s.id,
        role,
    };
    actix_web::rt::spawn(bridge(conn, ws, stream, rights));
    Ok(response)
}

/// What a socket may do, re-checked while it stays open: the role computed when it connected may be
/// stale by the time a moderator command arrives.
struct Rights {
    db: sea_orm::DatabaseConnection,
    person: i64,
    session: i64,
    role: RoomRole,
}

/// What to do with a command after re-checking the sender's rights.
enum Verdict {
    Forward,
    /// The rights could not be confirmed (database trouble): refuse this command, keep the socket.
    Refuse,
    /// The person may no longer be in the room at all.
    Leave,
}

impl Rights {
    /// Before a command that needs more than a viewer's rights, reloads the person's roles and streets
    /// and tells the room if the role changed, so the room judges the command by the current role.
    async fn refresh(&mut self, conn: &Connection, msg: &ClientMsg) -> Verdict {
        if !msg.needs_staff() {
            return Verdict::Forward;
        }
        self.check(conn).await
    }

    /// Reloads a staff member's rights (a viewer has nothing to lose that matters here).
    async fn check(&mut self, conn: &Connection) -> Verdict {
        if self.role == RoomRole::Viewer {
            return Verdict::Forward;
        }
        match sessions::current_room_role(&self.db, self.person, self.session).await {
            Ok(Some(role)) => {
                if role != self.role {
                    self.role = role;
                    conn.set_role(role);
                }
                Verdict::Forward
            }
            Ok(None) => Verdict::Leave,
            Err(e) => {
                tracing::error!(error = %e, "re-checking room rights failed");
                Verdict::Refuse
            }
        }
    }
}

/// WebSockets are not covered by CORS or SameSite=Lax alone, so a page on another site could open the room
/// socket with the chair's cookie (cross-site WebSocket hijacking). Browsers always send `Origin` on a
/// WebSocket handshake: it must be this site, as the browser reached it (`Host`) or as configured
/// (`server.public_url`, behind a proxy that rewrites `Host`). A handshake without `Origin` does not come
/// from a web page (the synthetic clients of the tests and load generators, `testkit::room_client`); it
/// still needs a valid session cookie.
fn same_origin(req: &HttpRequest, public_url: &str) -> bool {
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https") {
        return false;
    }
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    host.is_some_and(|h| h.eq_ignore_ascii_case(authority)) || public_url.eq_ignore_ascii_case(origin)
}

/// Relays between the browser and the room until either side goes away. A connection that sends
/// nothing (not even a pong) for 45 s is closed, which ends its attendance interval.
async fn bridge(mut conn: Connection, mut ws: actix_ws::Session, stream: actix_ws::MessageStream, mut rights: Rights) {
    let mut stream = stream
        .max_frame_size(256 * 1024)
        .aggregate_continuations()
        .max_continuation_size(256 * 1024);
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            msg = stream.recv() => match msg {
                Some(Ok(AggregatedMessage::Text(text))) => {
                    last_seen = Instant::now();
                    match serde_json::from_str::<ClientMsg>(&text) {
                        Ok(m) => match rights.refresh(&conn, &m).await {
                            Verdict::Forward => conn.send(m),
                            Verdict::Refuse => {
                                let e = ServerMsg::Error { message: "暂时无法确认权限，请稍后再试 / Could not confirm your rights; try again".into() };
                                if ws.text(serde_json::to_string(&e).unwrap_or_default()).await.is_err() { break; }
                            }
                            Verdict::Leave => {
                                let e = ServerMsg::Error { message: "您已无权进入本直播间 / You may no longer be in this room".into() };
                                let _ = ws.text(serde_json::to_string(&e).unwrap_or_default()).await;
                                break;
                            }
                        },
                        Err(_) => {
                            let e = ServerMsg::Error { message: "无法识别的消息 / Unrecognised message".into() };
                            if ws.text(serde_json::to_string(&e).unwrap_or_default()).await.is_err() { break; }
                        }
                    }
                }
                Some(Ok(AggregatedMessage::Ping(b))) => {
                    last_seen = Instant::now();
                    if ws.pong(&b).await.is_err() { break; }
                }
                Some(Ok(AggregatedMessage::Pong(_))) => last_seen = Instant::now(),
                Some(Ok(AggregatedMessage::Binary(_))) => {}
                Some(Ok(AggregatedMessage::Close(_))) | Some(Err(_)) | None => break,
            },
            ev = conn.events.recv() => match ev {
                Some(m) => {
                    let last = matches!(m, ServerMsg::Removed);
                    let Ok(json) = serde_json::to_string(&m) else { continue };
                    if ws.text(json).await.is_err() || last { break; }
                }
                None => break,
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > Duration::from_secs(45) || ws.ping(b"").await.is_err() { break; }
                // A demoted moderator who sends nothing still stops receiving the moderators' panel.
                if let Verdict::Leave = rights.check(&conn).await { break; }
            }
        }
    }
    let _ = ws.close(None).await;
}

async fn control(
    state: &AppState,
    me: &Require<SignedIn>,
    id: i64,
    status: SessionStatus,
) -> Result<HttpResponse, AppError> {
    let (s, role) = entry(state, me, id).await?;
    if role != RoomRole::Moderator {
        return Err(AppError::Forbidden);
    }
    if !s.status.may_become(status) {
        return Err(crate::services::ServiceError::Refused(s.status.refusal(status)).into());
    }
    state.rooms.set_status(&s, status).await?;
    // Give an open room a moment to record the change before the page reloads.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(redirect(&urls::room(id)))
}

#[post("/sessions/{id}/start")]
async fn start_session(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    control(&state, &me, *id, SessionStatus::Live).await
}

#[post("/sessions/{id}/end")]
async fn end_session(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    control(&state, &me, *id, SessionStatus::Ended).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(invitation)
        .service(socket)
        .service(start_session)
        .service(end_session);
}
