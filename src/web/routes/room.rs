//! The live room: the page (lobby, room or ended), its WebSocket, invitation links, and start/end
//! buttons that also work without JavaScript.

use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use actix_ws::AggregatedMessage;
use serde::Deserialize;

use super::{html, redirect};
use crate::domain::session::{RoomRole, SessionStatus};
use crate::has_csrf;
use crate::rooms::cluster;
use crate::rooms::protocol::{ClientMsg, ServerMsg};
use crate::rooms::room::Member;
use crate::rooms::{Connection, RoomError, Rooms};
use crate::services::access::SessionAccess;
use crate::services::sessions;
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views;
use crate::web::views::code_signin::invitation_page;
use crate::web::views::room::room_page;

#[get(r"/sessions/{id:\d+}/room")]
async fn page(state: web::Data<AppState>, me: Require<SignedIn>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let access = SessionAccess::of(&state.db, &me.user, *id).await?;
    let page = sessions::room_page(&state.db, access).await?;
    // TURN credentials are minted per page load and expire (see `rooms.turn_ttl_secs`).
    let servers = state
        .settings
        .rooms
        .ice_servers_for(me.user.person.id, chrono::Utc::now().timestamp());
    let ice = serde_json::to_string(&servers).unwrap_or_else(|_| "[]".into());
    // With several nodes, the page opens its socket on the node hosting the room (placing it now).
    let node_socket = state.rooms.locate(*id).await.map_err(room_error)?.map(|l| l.socket);
    Ok(html(room_page(&me.ctx, &page, &ice, node_socket.as_deref())))
}

/// Where the room's page opens its socket now (several nodes): asked again before each reconnect, so
/// a page whose node died or was stopped finds the room on the node that took it over.
#[get(r"/sessions/{id:\d+}/room/socket")]
async fn locate(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    SessionAccess::of(&state.db, &me.user, *id).await?;
    let (ws, settle) = match state.rooms.locate(*id).await.map_err(room_error)? {
        Some(l) => (l.socket, l.settle),
        None => (urls::room_socket(*id), Duration::ZERO),
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({ "ws": ws, "settle_ms": settle.as_millis() })))
}

/// A room that cannot be reached here.
fn room_error(e: RoomError) -> AppError {
    match e {
        RoomError::NoNode => AppError::Unavailable(e.to_string()),
        RoomError::Failed(e) => AppError::Internal(e),
        // Only `join` and `listen` answer Elsewhere; their handlers deal with it.
        RoomError::Elsewhere(url) => AppError::Internal(format!("room elsewhere: {url}")),
    }
}

/// The invitation link from the chat group. Signed in: the room. Signed out: the training and the SMS
/// sign-in right there (most chairs have no password), coming back to the room afterwards.
#[get("/s/{token}")]
async fn invitation(state: web::Data<AppState>, ctx: Ctx, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let invitation = sessions::invitation(&state.db, &token).await?;
    if ctx.user.is_some() {
        return Ok(redirect(&urls::room(invitation.session.id)));
    }
    Ok(html(invitation_page(&ctx, &invitation)))
}

#[get(r"/sessions/{id:\d+}/ws")]
async fn socket(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    if !same_origin(&req, &state.settings.public_url(), &state.rooms).await {
        tracing::info!(person = me.user.person.id, "cross-origin WebSocket refused");
        return Err(AppError::Forbidden);
    }
    let access = SessionAccess::of(&state.db, &me.user, *id).await?;
    if access.session().status == SessionStatus::Cancelled {
        return Err(AppError::NotFound);
    }
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| AppError::Internal(e.to_string()))?;
    let member = Member {
        person_id: access.person(),
        name: me.user.person.name.as_str().to_string(),
        role: access.role(),
    };
    let room = access.session().id;
    let conn = match state.rooms.join(room, member).await {
        Ok(conn) => conn,
        // Another node hosts the room (it moved since the page asked): the page asks where, again.
        Err(RoomError::Elsewhere(url)) => {
            return Ok(HttpResponse::Conflict().json(serde_json::json!({ "ws": cluster::socket_url(&url, room) })));
        }
        Err(e) => return Err(room_error(e)),
    };
    let rights = Rights::of(&state, &access);
    let settings = state.settings.clone();
    let person = access.person();
    let ice = Box::new(move || {
        let servers = settings.rooms.ice_servers_for(person, chrono::Utc::now().timestamp());
        serde_json::to_value(servers).unwrap_or_default()
    });
    actix_web::rt::spawn(Bridge::new(conn, ws, rights, ice).run(stream));
    Ok(response)
}

/// What a socket may do, re-checked while it stays open: the role computed when it connected may be
/// stale by the time a moderator command arrives.
struct Rights {
    db: sea_orm::DatabaseConnection,
    person: i64,
    session: i64,
    role: RoomRole,
    /// Where the socket was opened from (moderators' actions through it are audited with it).
    address: String,
}

/// What to do with a command after re-checking the sender's rights.
enum Verdict {
    /// Pass it on, with the access just checked when the command needs more than a viewer's rights.
    Forward(Option<Box<SessionAccess>>),
    /// The rights could not be confirmed (database trouble): refuse this command, keep the socket.
    Refuse,
    /// The person may no longer be in the room at all.
    Leave,
}

impl Rights {
    fn of(state: &AppState, access: &SessionAccess) -> Rights {
        Rights {
            db: state.db.clone(),
            person: access.person(),
            session: access.session().id,
            role: access.role(),
            address: access.address().to_string(),
        }
    }

    /// Before a command that needs more than a viewer's rights, reloads the person's access and tells
    /// the room if the role changed, so the room judges the command by the current role.
    async fn refresh(&mut self, conn: &Connection, msg: &ClientMsg) -> Verdict {
        if !msg.needs_staff() {
            return Verdict::Forward(None);
        }
        self.check(conn).await
    }

    /// Reloads a staff member's access (a viewer has nothing to lose that matters here).
    async fn check(&mut self, conn: &Connection) -> Verdict {
        if self.role == RoomRole::Viewer {
            return Verdict::Forward(None);
        }
        match SessionAccess::current(&self.db, self.person, self.session).await {
            Ok(Some(access)) => {
                if access.role() != self.role {
                    self.role = access.role();
                    conn.set_role(self.role);
                }
                Verdict::Forward(Some(Box::new(access.from_address(self.address.clone()))))
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
/// still needs a valid session cookie. With several nodes, a page served by one node opens the socket
/// on another: the origins of the registered nodes count as this site too.
async fn same_origin(req: &HttpRequest, public_url: &str, rooms: &Rooms) -> bool {
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
    host.is_some_and(|h| h.eq_ignore_ascii_case(authority))
        || public_url.eq_ignore_ascii_case(origin)
        || rooms.known_origin(origin).await
}

/// Whether the socket stays open after a step of the bridge.
enum Next {
    Continue,
    Close,
    /// The server is restarting: tell the page and close.
    Restart,
}

fn error(message: &str) -> ServerMsg {
    ServerMsg::Error {
        message: message.into(),
    }
}

/// A protocol ping this often; a connection silent (no message, no pong) for `SILENT_FOR` is closed,
/// which ends its attendance interval. Short, because a phone that lost its network leaves a half-open
/// socket behind, and the page does the same from its side (it sends a heartbeat every 5 s, answered by
/// `pong`, and reconnects when the answers stop).
const PING_EVERY: Duration = Duration::from_secs(5);
const SILENT_FOR: Duration = Duration::from_secs(15);
/// A staff member's rights are re-read this often even when she sends nothing.
const RIGHTS_EVERY: u32 = 3;

/// Fresh ICE servers for this person (TURN credentials minted now).
type IceServers = Box<dyn Fn() -> serde_json::Value>;

/// Relays between the browser and the room until either side goes away.
struct Bridge {
    conn: Connection,
    ws: actix_ws::Session,
    rights: Rights,
    ice: IceServers,
    last_seen: Instant,
    ticks: u32,
}

impl Bridge {
    fn new(conn: Connection, ws: actix_ws::Session, rights: Rights, ice: IceServers) -> Bridge {
        Bridge {
            conn,
            ws,
            rights,
            ice,
            last_seen: Instant::now(),
            ticks: 0,
        }
    }

    async fn run(mut self, stream: actix_ws::MessageStream) {
        let mut stream = stream
            .max_frame_size(256 * 1024)
            .aggregate_continuations()
            .max_continuation_size(256 * 1024);
        let mut ping = tokio::time::interval(PING_EVERY);
        loop {
            let next = tokio::select! {
                frame = stream.recv() => self.on_frame(frame).await,
                event = self.conn.events.recv() => self.on_event(event).await,
                _ = ping.tick() => self.tick().await,
            };
            match next {
                Next::Continue => {}
                Next::Close => break,
                Next::Restart => return self.restarting().await,
            }
        }
        let _ = self.ws.close(None).await;
    }

    /// The server is going down: say so, and close with 1012 (service restart) so the page reconnects
    /// at once instead of backing off.
    async fn restarting(self) {
        let json = serde_json::to_string(&ServerMsg::Restarting).unwrap_or_default();
        let mut ws = self.ws;
        let _ = ws.text(json).await;
        let reason = actix_ws::CloseReason {
            code: actix_ws::CloseCode::Restart,
            description: None,
        };
        let _ = ws.close(Some(reason)).await;
    }

    async fn send(&mut self, msg: &ServerMsg) -> Next {
        let json = serde_json::to_string(msg).unwrap_or_default();
        match self.ws.text(json).await {
            Ok(()) => Next::Continue,
            Err(_) => Next::Close,
        }
    }

    async fn on_frame(&mut self, frame: Option<Result<AggregatedMessage, actix_ws::ProtocolError>>) -> Next {
        let Some(Ok(frame)) = frame else { return Next::Close };
        match frame {
            AggregatedMessage::Text(text) => {
                self.last_seen = Instant::now();
                self.command(&text).await
            }
            AggregatedMessage::Ping(b) => {
                self.last_seen = Instant::now();
                if self.ws.pong(&b).await.is_err() {
                    Next::Close
                } else {
                    Next::Continue
                }
            }
            AggregatedMessage::Pong(_) => {
                self.last_seen = Instant::now();
                Next::Continue
            }
            AggregatedMessage::Binary(_) => Next::Continue,
            AggregatedMessage::Close(_) => Next::Close,
        }
    }

    /// A command from the page, re-checked and passed to the room.
    async fn command(&mut self, text: &str) -> Next {
        let Ok(msg) = serde_json::from_str::<ClientMsg>(text) else {
            return self.send(&error("无法识别的消息 / Unrecognised message")).await;
        };
        if matches!(msg, ClientMsg::Heartbeat)
            && let Next::Close = self.send(&ServerMsg::Pong).await
        {
            return Next::Close;
        }
        match self.rights.refresh(&self.conn, &msg).await {
            Verdict::Forward(access) => {
                self.conn.send(msg, access);
                Next::Continue
            }
            Verdict::Refuse => {
                self.send(&error(
                    "暂时无法确认权限，请稍后再试 / Could not confirm your rights; try again",
                ))
                .await
            }
            Verdict::Leave => {
                let _ = self
                    .send(&error("您已无权进入本直播间 / You may no longer be in this room"))
                    .await;
                Next::Close
            }
        }
    }

    async fn on_event(&mut self, event: Option<ServerMsg>) -> Next {
        match event {
            Some(ServerMsg::Restarting) => Next::Restart,
            Some(m @ ServerMsg::Welcome { .. }) => {
                // Before the page asks for media: the credentials it will use.
                let ice = ServerMsg::Ice { servers: (self.ice)() };
                match self.send(&ice).await {
                    Next::Continue => self.send(&m).await,
                    other => other,
                }
            }
            Some(m @ ServerMsg::Removed) => {
                let _ = self.send(&m).await;
                Next::Close
            }
            Some(m) => self.send(&m).await,
            None => Next::Close,
        }
    }

    /// A ping, closing a connection silent for too long; and now and then a re-check, so a demoted
    /// moderator who sends nothing still stops receiving the moderators' panel.
    async fn tick(&mut self) -> Next {
        if self.last_seen.elapsed() > SILENT_FOR || self.ws.ping(b"").await.is_err() {
            return Next::Close;
        }
        self.ticks += 1;
        if !self.ticks.is_multiple_of(RIGHTS_EVERY) {
            return Next::Continue;
        }
        match self.rights.check(&self.conn).await {
            Verdict::Leave => Next::Close,
            _ => Next::Continue,
        }
    }
}

/// Starts or ends the session by the one life-cycle path, which also tells its room.
async fn control(
    state: &AppState,
    me: &Require<SignedIn>,
    id: i64,
    status: SessionStatus,
) -> Result<HttpResponse, AppError> {
    let moderates = SessionAccess::of(&state.db, &me.user, id).await?.moderates()?;
    sessions::change_status(&state.db, &moderates, status, &state.rooms).await?;
    Ok(redirect(&urls::room(id)))
}

#[post(r"/sessions/{id:\d+}/start")]
async fn start_session(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    control(&state, &me, *id, SessionStatus::Live).await
}

#[derive(Deserialize)]
struct EndForm {
    csrf: String,
    /// "yes" once the moderator has been asked (room.js asks before it ends over the socket).
    #[serde(default)]
    confirm: String,
}
has_csrf!(EndForm);

#[post(r"/sessions/{id:\d+}/end")]
async fn end_session(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<EndForm>,
) -> Result<HttpResponse, AppError> {
    if f.confirm != "yes" {
        // Without JavaScript nothing asked yet: the moderator confirms on a page of its own.
        let moderates = SessionAccess::of(&state.db, &me.user, *id).await?.moderates()?;
        return Ok(html(views::room::confirm_end(&me.ctx, moderates.session())));
    }
    control(&state, &me, *id, SessionStatus::Ended).await
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(locate)
        .service(invitation)
        .service(socket)
        .service(start_session)
        .service(end_session);
}
