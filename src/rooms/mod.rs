//! Live rooms: signaling, chat, raised hands, moderation, attendance and the SFU. This is the only
//! module that imports webrtc (in `sfu`).
//!
//! A room lives in this process (room affinity: with several app processes, route a session's room page
//! and WebSocket to one process). Media and room actors run on their own multi-thread runtime, not on the
//! HTTP workers.

mod nack;
pub mod protocol;
pub mod recorder;
pub mod room;
pub mod sfu;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use crate::domain::room_state::RoomState;
use crate::domain::session::{RoomRole, SessionStatus};
use crate::services::access::SessionAccess;
use crate::services::sessions::LiveRoom;
use protocol::{ClientMsg, ServerMsg};
use recorder::{LiveAudio, RecordingConfig};
use room::{Cmd, ConnId, Member, Room};
use sfu::{MediaConfig, Sfu};

/// The dedicated runtime for media; shut down without blocking when the app goes away.
struct MediaRuntime(Option<tokio::runtime::Runtime>);

impl Drop for MediaRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

struct Inner {
    db: DatabaseConnection,
    /// Where recordings go (`None`: recording is off).
    recording: Option<RecordingConfig>,
    media: MediaConfig,
    threads: usize,
    runtime: Mutex<Option<Arc<MediaRuntime>>>,
    rooms: Mutex<HashMap<i64, mpsc::UnboundedSender<Cmd>>>,
    next_conn: AtomicU64,
    idle: Duration,
    /// Where the room sends chairs when the quiz opens (the web layer's page for a quiz).
    quiz_page: fn(i64) -> String,
}

/// The handle the web layer holds.
#[derive(Clone)]
pub struct Rooms {
    inner: Arc<Inner>,
}

/// A participant's connection to a room. Dropping it leaves the room.
pub struct Connection {
    pub id: ConnId,
    pub events: mpsc::UnboundedReceiver<ServerMsg>,
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl Connection {
    /// A command from the page. Commands that need more than a viewer's rights (`ClientMsg::needs_staff`)
    /// carry the sender's access as checked just now; without it the room refuses them.
    pub fn send(&self, msg: ClientMsg, access: Option<Box<SessionAccess>>) {
        let _ = self.cmds.send(Cmd::Client {
            conn: self.id,
            msg,
            access,
        });
    }

    /// The person's rights changed since they connected (an admin removed a role or a street): the
    /// room applies the new role before any later command.
    pub fn set_role(&self, role: RoomRole) {
        let _ = self.cmds.send(Cmd::SetRole { conn: self.id, role });
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.cmds.send(Cmd::Leave { conn: self.id });
    }
}

impl Rooms {
    /// `quiz_page` is where chairs are sent when the quiz opens.
    pub fn new(
        db: DatabaseConnection,
        media: MediaConfig,
        threads: usize,
        quiz_page: fn(i64) -> String,
        recording: Option<RecordingConfig>,
    ) -> Rooms {
        Rooms {
            inner: Arc::new(Inner {
                recording,
                db,
                media,
                threads: threads.max(1),
                runtime: Mutex::new(None),
                rooms: Mutex::new(HashMap::new()),
                next_conn: AtomicU64::new(1),
                idle: Duration::from_secs(120),
                quiz_page,
            }),
        }
    }

    /// Started on first use: most processes (and most tests) never open a room.
    fn runtime(&self) -> Result<tokio::runtime::Handle, String> {
        let mut guard = self
            .inner
            .runtime
            .lock()
            .map_err(|_| "media runtime lock poisoned".to_string())?;
        if let Some(rt) = guard.as_ref().and_then(|r| r.0.as_ref()) {
            return Ok(rt.handle().clone());
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.inner.threads)
            .thread_name("quorum-media")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let handle = rt.handle().clone();
        *guard = Some(Arc::new(MediaRuntime(Some(rt))));
        Ok(handle)
    }

    /// The command channel of a session's room, starting the room if needed.
    async fn room(&self, session: i64) -> Result<mpsc::UnboundedSender<Cmd>, String> {
        if let Some(tx) = self.room_of(session) {
            return Ok(tx);
        }
        let record = crate::db::sessions::get(&self.inner.db, session)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no such session")?;
        // A room (re)opened while its quiz is open counts for the moderators at once.
        let quiz = crate::services::quiz::open_now(&self.inner.db, session)
            .await
            .map_err(|e| e.to_string())?
            .map(|q| (q, (self.inner.quiz_page)(q)));
        // Hands, speakers, mutes and removals as they were (a restart, or the room closed while empty).
        let remembered = crate::db::rooms::participants(&self.inner.db, session)
            .await
            .map(|rows| RoomState::from_rows(&rows))
            .map_err(|e| e.to_string())?;
        let mut rooms = self.inner.rooms.lock().map_err(|e| e.to_string())?;
        // Another connection may have opened it meanwhile.
        if let Some(tx) = rooms.get(&session).filter(|tx| !tx.is_closed()) {
            return Ok(tx.clone());
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let sfu = Arc::new(Sfu::new(self.inner.media.clone()));
        let room = Room::new(
            &record,
            quiz,
            remembered,
            self.inner.db.clone(),
            sfu,
            tx.clone(),
            self.inner.recording.clone(),
        );
        self.runtime()?.spawn(room.run(rx, self.inner.idle));
        rooms.insert(session, tx.clone());
        tracing::info!(session, "room opened");
        Ok(tx)
    }

    pub async fn join(&self, session: i64, member: Member) -> Result<Connection, String> {
        let cmds = self.room(session).await?;
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let (outbox, events) = mpsc::unbounded_channel();
        cmds.send(Cmd::Join {
            conn: id,
            member,
            outbox,
        })
        .map_err(|_| "room closed".to_string())?;
        Ok(Connection { id, events, cmds })
    }

    /// Sends a message to everyone in a session's room, if it is open.
    pub fn broadcast(&self, session: i64, msg: ServerMsg) {
        if let Ok(rooms) = self.inner.rooms.lock()
            && let Some(tx) = rooms.get(&session)
        {
            let _ = tx.send(Cmd::Broadcast(msg));
        }
    }

    /// The process is stopping: every open room tells its pages to reconnect in a moment (their sockets
    /// close with 1012). What the rooms remember is already stored.
    pub fn restarting(&self) {
        if let Ok(rooms) = self.inner.rooms.lock() {
            for tx in rooms.values() {
                let _ = tx.send(Cmd::Broadcast(ServerMsg::Restarting));
            }
        }
    }

    fn room_of(&self, session: i64) -> Option<mpsc::UnboundedSender<Cmd>> {
        self.inner
            .rooms
            .lock()
            .ok()
            .and_then(|r| r.get(&session).filter(|t| !t.is_closed()).cloned())
    }

    /// The chairs connected to a session's room now.
    pub async fn present_viewers(&self, session: i64) -> Vec<i64> {
        let Some(tx) = self.room_of(session) else {
            return Vec::new();
        };
        let (reply, rx) = tokio::sync::oneshot::channel();
        if tx.send(Cmd::Present(reply)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// The live lecture's audio (opening the room if needed); `None` when the session is not live.
    pub async fn listen(&self, session: i64) -> Option<tokio::sync::broadcast::Receiver<Arc<LiveAudio>>> {
        let tx = self.room(session).await.ok()?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        tx.send(Cmd::Listen(reply)).ok()?;
        rx.await.ok().flatten()
    }

    /// How many connections a room has (0 when it is not open).
    pub async fn connections(&self, session: i64) -> usize {
        let Some(tx) = self.room_of(session) else { return 0 };
        let (reply, rx) = tokio::sync::oneshot::channel();
        if tx.send(Cmd::Count(reply)).is_err() {
            return 0;
        }
        rx.await.unwrap_or(0)
    }
}

/// What the use cases tell a session's room, if it is open in this process.
impl LiveRoom for Rooms {
    async fn present_chairs(&self, session: i64) -> Vec<i64> {
        self.present_viewers(session).await
    }

    fn status_changed(&self, session: i64, status: SessionStatus) {
        if let Some(tx) = self.room_of(session) {
            let _ = tx.send(Cmd::StatusChanged(status));
        }
    }

    /// Every chair's room page shows the quiz at once, and the moderators' counter starts.
    fn quiz_opened(&self, session: i64, quiz: i64) {
        if let Some(tx) = self.room_of(session) {
            let url = (self.inner.quiz_page)(quiz);
            let _ = tx.send(Cmd::QuizOpened { quiz_id: quiz, url });
        }
    }

    fn quiz_closed(&self, session: i64, quiz: i64) {
        if let Some(tx) = self.room_of(session) {
            let _ = tx.send(Cmd::QuizClosed { quiz_id: quiz });
        }
    }
}
