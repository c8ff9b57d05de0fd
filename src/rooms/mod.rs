//! Live rooms: signaling, chat, raised hands, moderation, attendance and the SFU. This is the only
//! module that imports webrtc (in `sfu`).
//!
//! A room lives in one process. With several processes on one database (`[cluster]`), `cluster` decides
//! which: a room is placed on a node under a lease, its page's socket goes to that node, and what other
//! nodes must tell it arrives through the database. Media and room actors run on their own multi-thread
//! runtime, not on the HTTP workers.

pub mod cluster;
mod mux;
mod nack;
pub mod protocol;
pub mod recorder;
pub mod room;
pub mod sfu;
mod temporal;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use crate::domain::room_state::RoomState;
use crate::domain::session::{RoomRole, SessionStatus};
use crate::services::ServiceError;
use crate::services::access::SessionAccess;
use crate::services::sessions::LiveRoom;
use cluster::{Cluster, ClusterConfig, Owner, RemoteCmd};
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
    viewer_loops: Arc<sfu::ViewerLoops>,
    threads: usize,
    runtime: Mutex<Option<Arc<MediaRuntime>>>,
    rooms: Mutex<HashMap<i64, mpsc::UnboundedSender<Cmd>>>,
    next_conn: AtomicU64,
    idle: Duration,
    /// Where the room sends chairs when the quiz opens (the web layer's page for a quiz).
    quiz_page: fn(i64) -> String,
    /// Several nodes on one database; `None`: this process hosts every room.
    cluster: Option<Arc<Cluster>>,
}

/// Why a room could not be reached here.
#[derive(Debug)]
pub enum RoomError {
    /// Another node hosts it: the page goes there (its URL).
    Elsewhere(String),
    /// No node can host it now (every node is stopping, or its last one just went): try again soon.
    NoNode,
    /// Something failed (the database, the media runtime).
    Failed(String),
}

impl std::fmt::Display for RoomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoomError::Elsewhere(url) => write!(f, "the room is on the node at {url}"),
            RoomError::NoNode => write!(f, "no node can host the room now"),
            RoomError::Failed(e) => write!(f, "room failed: {e}"),
        }
    }
}

impl From<String> for RoomError {
    fn from(e: String) -> Self {
        RoomError::Failed(e)
    }
}

impl From<sea_orm::DbErr> for RoomError {
    fn from(e: sea_orm::DbErr) -> Self {
        RoomError::Failed(e.to_string())
    }
}

/// What the heartbeat carries from one beat to the next.
struct Beat {
    /// Connections counted after the last beat, reported with the next.
    viewers: usize,
}

/// Where a page opens the room's socket (several nodes).
#[derive(Debug, Clone)]
pub struct Located {
    pub socket: String,
    /// Zero while the hosting node beats; once it has missed a heartbeat, how long its lease has to
    /// run: a page that could not reach it waits this long before asking again, when the room will have
    /// moved if the node is gone.
    pub settle: Duration,
}

/// How long a moderator's request waits for the node hosting the room to say who is there.
const ASK_WITHIN: Duration = Duration::from_secs(3);

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
        cluster: Option<ClusterConfig>,
    ) -> Rooms {
        let cluster = cluster.map(|c| Arc::new(Cluster::new(db.clone(), c)));
        Rooms {
            inner: Arc::new(Inner {
                recording,
                db,
                media,
                viewer_loops: Arc::default(),
                threads: threads.max(1),
                runtime: Mutex::new(None),
                rooms: Mutex::new(HashMap::new()),
                next_conn: AtomicU64::new(1),
                idle: Duration::from_secs(120),
                quiz_page,
                cluster,
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

    /// The command channel of a session's room, starting the room if needed; with several nodes, only
    /// on the node hosting it (placing it here when no node does).
    async fn room(&self, session: i64) -> Result<mpsc::UnboundedSender<Cmd>, RoomError> {
        if let Some(cluster) = &self.inner.cluster {
            match cluster.place(session, true).await? {
                Owner::Here => {}
                Owner::There { url, .. } => return Err(RoomError::Elsewhere(url)),
                Owner::Moving | Owner::Nowhere => return Err(RoomError::NoNode),
            }
        }
        if let Some(tx) = self.room_of(session) {
            return Ok(tx);
        }
        let record = crate::db::sessions::get(&self.inner.db, session)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "no such session".to_string())?;
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
        let sfu = Arc::new(Sfu::new(self.inner.media.clone(), self.inner.viewer_loops.clone()));
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

    /// Joins the room here; `RoomError::Elsewhere` when another node hosts it.
    pub async fn join(&self, session: i64, member: Member) -> Result<Connection, RoomError> {
        let cmds = self.room(session).await?;
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let (outbox, events) = mpsc::unbounded_channel();
        cmds.send(Cmd::Join {
            conn: id,
            member,
            outbox,
        })
        .map_err(|_| RoomError::Failed("room closed".into()))?;
        Ok(Connection { id, events, cmds })
    }

    /// Where a page opens the room's socket: `None` for this process (one process hosts every room),
    /// else the hosting node's socket URL, placing the room on the least loaded node if no node hosts it
    /// (a page asks again each time it reconnects, so after a node dies it finds the new one).
    pub async fn locate(&self, session: i64) -> Result<Option<Located>, RoomError> {
        let Some(cluster) = &self.inner.cluster else {
            return Ok(None);
        };
        match cluster.place(session, false).await? {
            Owner::Here => Ok(Some(Located {
                socket: cluster::socket_url(cluster.url(), session),
                settle: Duration::ZERO,
            })),
            Owner::There { url, settle, .. } => Ok(Some(Located {
                socket: cluster::socket_url(&url, session),
                settle,
            })),
            Owner::Moving | Owner::Nowhere => Err(RoomError::NoNode),
        }
    }

    /// The nodes' sites (live audio redirected to another node plays from there).
    pub fn node_origins(&self) -> Vec<String> {
        self.inner.cluster.as_ref().map(|c| c.origins()).unwrap_or_default()
    }

    /// Whether a socket's `Origin` is the site of one of the nodes (a page served by one node opens the
    /// room's socket on another).
    pub async fn known_origin(&self, origin: &str) -> bool {
        match &self.inner.cluster {
            Some(c) => c.known_origin(origin).await,
            None => false,
        }
    }

    /// Sends a message to everyone in a session's room, if it is open.
    pub fn broadcast(&self, session: i64, msg: ServerMsg) {
        if let Ok(rooms) = self.inner.rooms.lock()
            && let Some(tx) = rooms.get(&session)
        {
            let _ = tx.send(Cmd::Broadcast(msg));
        }
    }

    /// The process is stopping: with other nodes, its rooms are handed to them first; then every open
    /// room tells its pages to reconnect in a moment (their sockets close with 1012), and they find the
    /// room where it is now. What the rooms remember is already stored.
    pub async fn restarting(&self) {
        if let Some(cluster) = &self.inner.cluster
            && let Err(e) = cluster.drain(&self.open_sessions()).await
        {
            tracing::error!(error = %e, "handing rooms over failed");
        }
        if let Ok(rooms) = self.inner.rooms.lock() {
            for tx in rooms.values() {
                let _ = tx.send(Cmd::Broadcast(ServerMsg::Restarting));
            }
        }
    }

    /// The process has stopped serving: it leaves the registry.
    pub async fn stopped(&self) {
        if let Some(cluster) = &self.inner.cluster
            && let Err(e) = cluster.deregister().await
        {
            tracing::warn!(error = %e, "leaving the node registry failed");
        }
    }

    fn open_sessions(&self) -> Vec<i64> {
        self.inner
            .rooms
            .lock()
            .map(|r| r.iter().filter(|(_, t)| !t.is_closed()).map(|(s, _)| *s).collect())
            .unwrap_or_default()
    }

    /// With several nodes: registers this one, then keeps its heartbeat (load, leases) and carries out
    /// the commands other nodes leave for its rooms, until the process stops.
    pub async fn start_cluster(&self) -> Result<(), sea_orm::DbErr> {
        let Some(cluster) = self.inner.cluster.clone() else {
            return Ok(());
        };
        cluster.register().await?;
        cluster.spawn_listener();
        let me = self.clone();
        let c = cluster.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(c.heartbeat_every());
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut beat = Beat { viewers: 0 };
            while !c.is_stopping() {
                tick.tick().await;
                me.heartbeat(&c, &mut beat).await;
            }
        });
        let me = self.clone();
        tokio::spawn(async move {
            while !cluster.is_stopping() {
                tokio::select! {
                    _ = cluster.wake.notified() => {}
                    _ = tokio::time::sleep(cluster.poll_every()) => {}
                }
                me.carry_out(&cluster).await;
            }
        });
        Ok(())
    }

    /// One heartbeat: leases renewed first (a busy room must not hold the renewal up), then the load
    /// counted for the next one. Rooms are given up only when the database says another node holds
    /// them: a database that does not answer at all is down for every node, and the lectures here go
    /// on meanwhile (no other node can take them either).
    async fn heartbeat(&self, cluster: &Cluster, beat: &mut Beat) {
        let sessions = self.open_sessions();
        match cluster.beat(&sessions, beat.viewers).await {
            Ok(lost) => {
                for session in lost {
                    tracing::warn!(session, "room taken over by another node");
                    self.give_up(session);
                }
            }
            Err(e) => tracing::error!(error = %e, "node heartbeat failed"),
        }
        // All rooms at once, under one deadline: a room busy with a crowd joining counts as 0 this time.
        let counts = self.open_sessions().into_iter().map(|s| async move {
            tokio::time::timeout(Duration::from_millis(500), self.connections(s))
                .await
                .unwrap_or(0)
        });
        beat.viewers = futures_util::future::join_all(counts).await.into_iter().sum();
    }

    /// Another node hosts the room now: this copy tells its pages to reconnect (they find the room
    /// there) and ends at once, leaving the recording to the new host.
    fn give_up(&self, session: i64) {
        if let Ok(mut rooms) = self.inner.rooms.lock()
            && let Some(tx) = rooms.remove(&session)
        {
            let _ = tx.send(Cmd::GiveUp);
        }
    }

    /// The commands other nodes left for the rooms here.
    async fn carry_out(&self, cluster: &Cluster) {
        let commands = match cluster.take_commands().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "reading room commands failed");
                return;
            }
        };
        for (id, session, cmd) in commands {
            let reply = match cmd {
                Some(RemoteCmd::Status { status }) => {
                    if let Some(s) = SessionStatus::parse(&status) {
                        self.tell_status(session, s);
                    }
                    None
                }
                Some(RemoteCmd::QuizOpened { quiz }) => {
                    self.tell_quiz_opened(session, quiz);
                    None
                }
                Some(RemoteCmd::QuizClosed { quiz }) => {
                    self.tell_quiz_closed(session, quiz);
                    None
                }
                // `null` when the room is not open here yet (just placed or handed over): its pages
                // are on their way, so "nobody" would be wrong.
                Some(RemoteCmd::Present) => Some(match self.room_of(session) {
                    Some(_) => serde_json::to_string(&self.present_viewers(session).await).unwrap_or_default(),
                    None => "null".into(),
                }),
                None => None,
            };
            if let Err(e) = cluster.finish(id, reply).await {
                tracing::error!(error = %e, "finishing a room command failed");
            }
        }
    }

    /// Where another node's command for `session` goes: the node hosting its room, when that is not
    /// this one (`None`: here, or nowhere).
    async fn remote_owner(&self, session: i64) -> Option<(Arc<Cluster>, String)> {
        let cluster = self.inner.cluster.clone()?;
        match cluster.owner_of(session).await {
            Ok(Owner::There { node, .. }) => Some((cluster, node)),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "finding a room's node failed");
                None
            }
        }
    }

    /// Tells the node hosting the room, wherever it is.
    async fn tell(&self, session: i64, cmd: RemoteCmd, here: impl FnOnce(&Rooms)) {
        match self.remote_owner(session).await {
            Some((cluster, node)) => {
                if let Err(e) = cluster.tell(&node, session, &cmd).await {
                    tracing::error!(error = %e, "telling a room on another node failed");
                }
            }
            None => here(self),
        }
    }

    fn tell_status(&self, session: i64, status: SessionStatus) {
        if let Some(tx) = self.room_of(session) {
            let _ = tx.send(Cmd::StatusChanged(status));
        }
    }

    fn tell_quiz_opened(&self, session: i64, quiz: i64) {
        if let Some(tx) = self.room_of(session) {
            let url = (self.inner.quiz_page)(quiz);
            let _ = tx.send(Cmd::QuizOpened { quiz_id: quiz, url });
        }
    }

    fn tell_quiz_closed(&self, session: i64, quiz: i64) {
        if let Some(tx) = self.room_of(session) {
            let _ = tx.send(Cmd::QuizClosed { quiz_id: quiz });
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

    /// The live lecture's audio (opening the room if needed); `Ok(None)` when the session is not live,
    /// `RoomError::Elsewhere` when another node hosts the room.
    pub async fn listen(
        &self,
        session: i64,
    ) -> Result<Option<tokio::sync::broadcast::Receiver<Arc<LiveAudio>>>, RoomError> {
        let tx = self.room(session).await?;
        let (reply, rx) = tokio::sync::oneshot::channel();
        if tx.send(Cmd::Listen(reply)).is_err() {
            return Ok(None);
        }
        Ok(rx.await.ok().flatten())
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

/// What the use cases tell a session's room, on whichever node hosts it.
impl LiveRoom for Rooms {
    async fn present_chairs(&self, session: i64) -> Result<Vec<i64>, ServiceError> {
        let Some(cluster) = &self.inner.cluster else {
            return Ok(self.present_viewers(session).await);
        };
        let moving = || {
            ServiceError::refused(
                "直播间正在切换服务器，暂时无法确认谁在场，请几秒钟后再试。",
                "The room is moving between servers and cannot tell who is present; try again in a few seconds.",
            )
        };
        match cluster.owner_of(session).await? {
            // Nobody is connected anywhere.
            Owner::Nowhere => Ok(Vec::new()),
            Owner::Here if self.room_of(session).is_some() => Ok(self.present_viewers(session).await),
            Owner::Here | Owner::Moving => Err(moving()),
            Owner::There { node, .. } => cluster
                .ask_present(&node, session, ASK_WITHIN)
                .await?
                .ok_or_else(moving),
        }
    }

    async fn status_changed(&self, session: i64, status: SessionStatus) {
        let cmd = RemoteCmd::Status {
            status: status.code().into(),
        };
        self.tell(session, cmd, |r| r.tell_status(session, status)).await;
    }

    /// Every chair's room page shows the quiz at once, and the moderators' counter starts.
    async fn quiz_opened(&self, session: i64, quiz: i64) {
        self.tell(session, RemoteCmd::QuizOpened { quiz }, |r| {
            r.tell_quiz_opened(session, quiz)
        })
        .await;
    }

    async fn quiz_closed(&self, session: i64, quiz: i64) {
        self.tell(session, RemoteCmd::QuizClosed { quiz }, |r| {
            r.tell_quiz_closed(session, quiz)
        })
        .await;
    }
}
