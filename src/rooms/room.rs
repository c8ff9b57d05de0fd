//! One live room: an actor task owning the participants, chat, raised hands, who may speak, the
//! session's status and its media (`Sfu`). Connections talk to it through commands; it answers through
//! each connection's outbox. Status changes go through the one life-cycle path
//! (`services::sessions::change_status`); the room only applies and announces them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use super::protocol::{AttendanceOut, ChatOut, ClientMsg, PersonOut, ServerMsg};
use super::recorder::{LiveAudio, Recorder, RecordingConfig};
use super::sfu::{LegEvent, LegHandle, Sfu, Source};
use crate::db::{people, rooms as rooms_db, sessions as sessions_db};
use crate::domain::audit::Action;
use crate::domain::chat::{ChatBucket, ChatRate, ChatText};
use crate::domain::room_state::{ParticipantChange, RoomState};
use crate::domain::session::{RoomRole, SessionRecord, SessionStatus};
use crate::domain::time::to_shanghai;
use crate::services::access::{Moderates, SessionAccess};
use crate::services::sessions::{self, NoRoom};
use crate::services::{ServiceError, audit};

pub type ConnId = u64;

/// Who is joining.
#[derive(Debug, Clone)]
pub struct Member {
    pub person_id: i64,
    pub name: String,
    pub role: RoomRole,
}

/// A leg to open: a viewer's, or a publisher's (answering the page's offer when it made one).
enum LegKind {
    View { audio_only: bool },
    Publish(Source, Option<String>),
}

/// A session description for the page: the server's offer, or its answer to the page's offer.
pub enum Sdp {
    Offer(String),
    Answer(String),
}

pub enum Cmd {
    Join {
        conn: ConnId,
        member: Member,
        outbox: mpsc::UnboundedSender<ServerMsg>,
    },
    Leave {
        conn: ConnId,
    },
    /// A command from a page; `access` is the sender's part in the session as checked just before, for
    /// commands that need more than a viewer's rights.
    Client {
        conn: ConnId,
        msg: ClientMsg,
        access: Option<Box<SessionAccess>>,
    },
    LegOpened {
        conn: ConnId,
        leg: String,
        handle: LegHandle,
        /// The server's offer, or its answer to the page's offer.
        sdp: Sdp,
    },
    LegFailed {
        conn: ConnId,
        leg: String,
        error: String,
    },
    /// `id` is the leg's (`LegHandle::id`): a late event of a leg already replaced is ignored.
    LegEvent {
        conn: ConnId,
        leg: String,
        id: usize,
        event: LegEvent,
    },
    /// From outside the room: send to everyone.
    Broadcast(ServerMsg),
    /// The session's status changed without the room (the session page's buttons, a forgotten session
    /// ended by itself): tell everyone.
    StatusChanged(SessionStatus),
    /// The viewers connected now (for opening the quiz).
    Present(tokio::sync::oneshot::Sender<Vec<i64>>),
    /// The quiz opened: send chairs there and start the moderators' counter.
    QuizOpened {
        quiz_id: i64,
        url: String,
    },
    /// The quiz closed: the moderators see the closing numbers at once.
    QuizClosed {
        quiz_id: i64,
    },
    /// How many are connected (tests and monitoring).
    Count(tokio::sync::oneshot::Sender<usize>),
    /// The live audio stream, while the lecture is live.
    Listen(tokio::sync::oneshot::Sender<Option<tokio::sync::broadcast::Receiver<Arc<LiveAudio>>>>),
    /// A connection's rights changed since it joined.
    SetRole {
        conn: ConnId,
        role: RoomRole,
    },
    /// Another node hosts the room now: tell the pages to reconnect (they find it there) and end this
    /// copy at once, its recording left to the new host.
    GiveUp,
}

struct Conn {
    member: Member,
    outbox: mpsc::UnboundedSender<ServerMsg>,
    view: Option<LegHandle>,
    publish: HashMap<Source, LegHandle>,
    interval: Option<i64>,
    last_touch: std::time::Instant,
}

pub struct Room {
    session_id: i64,
    status: SessionStatus,
    db: DatabaseConnection,
    sfu: Arc<Sfu>,
    conns: HashMap<ConnId, Conn>,
    /// Hands, speakers, mutes, removals: stored as they change (`db::rooms`) and restored with the room.
    hands: Vec<i64>,
    speakers: BTreeSet<i64>,
    muted: BTreeSet<i64>,
    removed: HashSet<i64>,
    cmds: mpsc::UnboundedSender<Cmd>,
    quiz: Option<i64>,
    /// The open quiz's entry page, sent in the welcome to chairs who arrive while it runs (cleared when
    /// it closes; `quiz` stays for the moderators' closing numbers).
    quiz_url: Option<String>,
    /// Chat allowance per person (see `ChatRate`).
    chat_buckets: HashMap<i64, ChatBucket>,
    /// Where recordings go (`None`: recording is off).
    recording: Option<RecordingConfig>,
    /// The tap on the media while the lecture is live (recording and the live audio stream).
    recorder: Option<Recorder>,
}

const TOUCH_EVERY: Duration = Duration::from_secs(30);

fn error(message: &str) -> ServerMsg {
    ServerMsg::Error {
        message: message.into(),
    }
}

impl Room {
    /// A room for `record`, knowing its quiz (id and entry page) if one is open and what it remembered
    /// about its participants; `cmds` is its own command channel.
    pub fn new(
        record: &SessionRecord,
        quiz: Option<(i64, String)>,
        remembered: RoomState,
        db: DatabaseConnection,
        sfu: Arc<Sfu>,
        cmds: mpsc::UnboundedSender<Cmd>,
        recording: Option<RecordingConfig>,
    ) -> Room {
        Room {
            session_id: record.id,
            status: record.status,
            db,
            sfu,
            conns: HashMap::new(),
            hands: remembered.hands,
            speakers: remembered.speakers,
            muted: remembered.muted,
            removed: remembered.removed,
            cmds,
            quiz: quiz.as_ref().map(|q| q.0),
            quiz_url: quiz.map(|q| q.1),
            chat_buckets: HashMap::new(),
            recording,
            recorder: None,
        }
    }

    /// Runs until the room has been empty for `idle`.
    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Cmd>, idle: Duration) {
        // Before the first join is handled (joins wait in `rx`): intervals still open from before this
        // room existed were counted by a process that died or a node that lost the room, and end at
        // their last heartbeat. The chairs' connections here open intervals of their own.
        if let Err(e) = sessions_db::close_open_intervals(&self.db, self.session_id, Utc::now()).await {
            tracing::error!(error = %e, "closing earlier attendance failed");
        }
        let mut attendance_tick = tokio::time::interval(Duration::from_secs(30));
        let mut counter_tick = tokio::time::interval(Duration::from_secs(3));
        let mut empty_since: Option<tokio::time::Instant> = None;
        if self.status == SessionStatus::Live {
            self.start_recorder().await;
        }
        loop {
            let idle_deadline = empty_since.map(|t| t + idle);
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Cmd::GiveUp) => {
                        self.give_up().await;
                        break;
                    }
                    Some(c) => self.handle(c).await,
                    None => break,
                },
                _ = attendance_tick.tick() => self.send_attendance().await,
                _ = counter_tick.tick(), if self.quiz.is_some() => self.send_counter().await,
                _ = async { match idle_deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => break,
            }
            empty_since = if self.conns.is_empty() {
                empty_since.or(Some(tokio::time::Instant::now()))
            } else {
                None
            };
        }
        for (_, c) in self.conns.drain() {
            close_legs(c).await;
        }
        // The lecture may still be live: the files stay open for the next room to continue.
        if let Some(r) = self.recorder.take() {
            r.stop(false).await;
        }
        tracing::info!(session = self.session_id, "room closed");
    }

    fn send(&self, conn: ConnId, msg: ServerMsg) {
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.outbox.send(msg);
        }
    }

    /// A person may be connected from several devices; collected so the caller can mutate `conns`.
    fn conn_ids_of(&self, person: i64) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(_, c)| c.member.person_id == person)
            .map(|(id, _)| *id)
            .collect()
    }

    fn send_person(&self, person: i64, msg: ServerMsg) {
        for c in self.conns.values().filter(|c| c.member.person_id == person) {
            let _ = c.outbox.send(msg.clone());
        }
    }

    fn send_role(&self, role: RoomRole, msg: ServerMsg) {
        for c in self.conns.values().filter(|c| c.member.role == role) {
            let _ = c.outbox.send(msg.clone());
        }
    }

    fn broadcast(&self, msg: ServerMsg) {
        for c in self.conns.values() {
            let _ = c.outbox.send(msg.clone());
        }
    }

    fn broadcast_people(&self) {
        self.broadcast(ServerMsg::People { people: self.people() });
    }

    fn broadcast_hands(&self) {
        self.broadcast(ServerMsg::Hands {
            queue: self.visible_hands(None),
        });
        self.broadcast_people();
    }

    /// The hand queue of the people connected now (and `joining`, who is about to be).
    fn visible_hands(&self, joining: Option<i64>) -> Vec<i64> {
        let mut connected: BTreeSet<i64> = self.conns.values().map(|c| c.member.person_id).collect();
        connected.extend(joining);
        let remembered = RoomState {
            hands: self.hands.clone(),
            ..RoomState::default()
        };
        remembered.visible_hands(&connected)
    }

    /// Stores a change to what the room remembers about a person, before it is announced: what the
    /// pages are told survives a restart.
    async fn remember(&self, person: i64, change: ParticipantChange) {
        if let Err(e) = rooms_db::record(&self.db, self.session_id, person, change).await {
            tracing::error!(session = self.session_id, error = %e, "storing the room's state failed");
        }
    }

    fn people(&self) -> Vec<PersonOut> {
        let mut seen = HashSet::new();
        let mut out: Vec<PersonOut> = self
            .conns
            .values()
            .filter(|c| seen.insert(c.member.person_id))
            .map(|c| PersonOut {
                id: c.member.person_id,
                name: c.member.name.clone(),
                role: c.member.role.code(),
                hand: self.hands.contains(&c.member.person_id),
                speaking: self.speakers.contains(&c.member.person_id),
                muted: self.muted.contains(&c.member.person_id),
            })
            .collect();
        out.sort_by_key(|p| (p.role != "lecturer", p.role != "moderator", p.id));
        out
    }

    /// The chairs connected now, each once.
    fn viewers(&self) -> BTreeSet<i64> {
        self.conns
            .values()
            .filter(|c| c.member.role == RoomRole::Viewer)
            .map(|c| c.member.person_id)
            .collect()
    }

    async fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Join { conn, member, outbox } => self.join(conn, member, outbox).await,
            Cmd::Leave { conn } => self.leave(conn).await,
            Cmd::Client { conn, msg, access } => self.traced(conn, msg, access.map(|a| *a)).await,
            Cmd::LegOpened { conn, leg, handle, sdp } => self.leg_opened(conn, leg, handle, sdp).await,
            Cmd::LegFailed { conn, leg, error } => self.leg_failed(conn, &leg, &error),
            Cmd::LegEvent { conn, leg, id, event } => self.leg_event(conn, leg, id, event).await,
            Cmd::Broadcast(msg) => self.broadcast(msg),
            Cmd::StatusChanged(status) => self.applied(status).await,
            Cmd::Present(reply) => {
                let _ = reply.send(self.viewers().into_iter().collect());
            }
            Cmd::QuizOpened { quiz_id, url } => self.quiz_opened(quiz_id, url).await,
            Cmd::QuizClosed { quiz_id } if self.quiz == Some(quiz_id) => {
                self.quiz_url = None;
                self.send_counter().await
            }
            Cmd::QuizClosed { .. } => {}
            Cmd::Count(reply) => {
                let _ = reply.send(self.conns.len());
            }
            Cmd::Listen(reply) => {
                let _ = reply.send(self.recorder.as_ref().map(|r| r.listen()));
            }
            Cmd::SetRole { conn, role } => self.set_role(conn, role).await,
            // Handled by `run`, which ends the room.
            Cmd::GiveUp => {}
        }
    }

    /// A span per room command (ids and the command's name only), so what a command logs — a refusal,
    /// a failed write — says whose command it was.
    async fn traced(&mut self, conn: ConnId, msg: ClientMsg, access: Option<SessionAccess>) {
        let span = tracing::info_span!("room_cmd", session = self.session_id, conn, cmd = msg.kind());
        tracing::Instrument::instrument(self.client(conn, msg, access), span).await
    }

    fn leg_failed(&self, conn: ConnId, leg: &str, error: &str) {
        tracing::warn!(session = self.session_id, %leg, %error, "opening a media leg failed");
        self.send(
            conn,
            self::error("媒体连接失败，请刷新重试 / Media connection failed; reload to retry"),
        );
    }

    async fn leg_opened(&mut self, conn: ConnId, leg: String, handle: LegHandle, sdp: Sdp) {
        let Some(c) = self.conns.get_mut(&conn) else {
            handle.close().await;
            return;
        };
        let old = if leg == "view" {
            c.view.replace(handle)
        } else {
            match source_of(&leg) {
                Some(s) => c.publish.insert(s, handle),
                None => Some(handle),
            }
        };
        if let Some(old) = old {
            old.close().await;
        }
        self.send(
            conn,
            match sdp {
                Sdp::Offer(sdp) => ServerMsg::Offer { leg, sdp },
                Sdp::Answer(sdp) => ServerMsg::Answer { leg, sdp },
            },
        );
    }

    /// A leg's state, told to its page: down (the page says 重新连接中 and waits a moment), up again, or
    /// failed (closed here; the page asks for a fresh leg).
    async fn leg_event(&mut self, conn: ConnId, leg: String, id: usize, event: LegEvent) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        let current = if leg == "view" {
            c.view.as_ref()
        } else {
            source_of(&leg).and_then(|s| c.publish.get(&s))
        };
        if current.map(LegHandle::id) != Some(id) {
            return;
        }
        let state = match event {
            LegEvent::AutoAudioOnly(on) => return self.send(conn, ServerMsg::AutoAudioOnly { on }),
            LegEvent::Connected => "up",
            LegEvent::Down => "down",
            LegEvent::Gone => {
                let h = if leg == "view" {
                    c.view.take()
                } else {
                    source_of(&leg).and_then(|s| c.publish.remove(&s))
                };
                if let Some(h) = h {
                    h.close().await;
                }
                "failed"
            }
        };
        self.send(conn, ServerMsg::Leg { leg, state });
    }

    async fn quiz_opened(&mut self, quiz_id: i64, url: String) {
        if let Some(r) = &self.recorder {
            r.chapter(crate::domain::recording::ChapterKind::QuizOpened);
        }
        self.quiz = Some(quiz_id);
        self.quiz_url = Some(url.clone());
        self.send_role(RoomRole::Viewer, ServerMsg::Quiz { url });
        self.send_counter().await;
    }

    /// Applies a changed role: a former lecturer or moderator stops publishing camera and screen, and
    /// the page is told so it can drop the controls it may no longer use.
    async fn set_role(&mut self, conn: ConnId, role: RoomRole) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if c.member.role == role {
            return;
        }
        tracing::info!(
            session = self.session_id,
            person = c.member.person_id,
            from = c.member.role.code(),
            to = role.code(),
            "room role changed"
        );
        c.member.role = role;
        if role == RoomRole::Viewer {
            let legs: Vec<(Source, LegHandle)> = [Source::Camera, Source::Screen]
                .into_iter()
                .filter_map(|s| c.publish.remove(&s).map(|h| (s, h)))
                .collect();
            for (source, h) in legs {
                h.close().await;
                self.send(conn, ServerMsg::Unpublished { source });
            }
        }
        self.send(conn, ServerMsg::Role { role: role.code() });
        self.broadcast_people();
    }

    /// Every page is told to reconnect and its attendance ends now; the recorder stops without a word
    /// to the database (the new host's recorder owns the recording's row).
    async fn give_up(&mut self) {
        self.broadcast(ServerMsg::Restarting);
        let now = Utc::now();
        for (_, c) in self.conns.drain() {
            if let Some(id) = c.interval
                && let Err(e) = sessions_db::close_interval(&self.db, id, now).await
            {
                tracing::error!(error = %e, "closing attendance failed");
            }
            close_legs(c).await;
        }
        if let Some(r) = self.recorder.take() {
            r.abandon().await;
        }
        tracing::info!(session = self.session_id, "room given up to another node");
    }

    async fn join(&mut self, conn: ConnId, member: Member, outbox: mpsc::UnboundedSender<ServerMsg>) {
        if self.removed.contains(&member.person_id) {
            let _ = outbox.send(ServerMsg::Removed);
            return;
        }
        let interval = match sessions_db::open_interval(&self.db, self.session_id, member.person_id, Utc::now()).await {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::error!(error = %e, "recording attendance failed");
                None
            }
        };
        let _ = outbox.send(self.welcome(&member).await);
        let _ = outbox.send(self.recording_msg());
        let hand_up = self.hands.contains(&member.person_id);
        tracing::info!(
            session = self.session_id,
            person = member.person_id,
            role = member.role.code(),
            "joined room"
        );
        let c = Conn {
            member,
            outbox,
            view: None,
            publish: HashMap::new(),
            interval,
            last_touch: std::time::Instant::now(),
        };
        self.conns.insert(conn, c);
        if hand_up {
            // Her hand stayed raised while she was away: the queue shows it again.
            self.broadcast_hands();
        } else {
            self.broadcast_people();
        }
    }

    async fn welcome(&self, member: &Member) -> ServerMsg {
        ServerMsg::Welcome {
            you: member.person_id,
            role: member.role.code(),
            status: self.status.code(),
            people: Vec::new(),
            chat: self.chat_history().await,
            hands: self.visible_hands(Some(member.person_id)),
            can_speak: self.speakers.contains(&member.person_id),
            quiz: self.quiz_url.clone().filter(|_| member.role == RoomRole::Viewer),
        }
    }

    async fn leave(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else { return };
        if let Some(id) = c.interval
            && let Err(e) = sessions_db::close_interval(&self.db, id, Utc::now()).await
        {
            tracing::error!(error = %e, "closing attendance failed");
        }
        let person = c.member.person_id;
        tracing::info!(session = self.session_id, person, "left room");
        close_legs(c).await;
        // Her hand stays raised (it is hers, not this connection's); the queue shows it when she is back.
        if self.hands.contains(&person) {
            self.broadcast_hands();
        } else {
            self.broadcast_people();
        }
    }

    async fn chat_history(&self) -> Vec<ChatOut> {
        let rows = sessions_db::recent_chat(&self.db, self.session_id, 50)
            .await
            .unwrap_or_default();
        let ids: Vec<i64> = rows
            .iter()
            .map(|m| m.person_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let names: HashMap<i64, String> = people::get_many(&self.db, &ids)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.id, p.name.as_str().to_string()))
            .collect();
        rows.into_iter()
            .map(|m| ChatOut {
                id: m.id,
                person: m.person_id,
                name: names.get(&m.person_id).cloned().unwrap_or_default(),
                text: m.body,
                at: to_shanghai(m.created_at).format("%H:%M").to_string(),
            })
            .collect()
    }

    fn open_leg(&self, conn: ConnId, leg: String, kind: LegKind) {
        let sfu = self.sfu.clone();
        let cmds = self.cmds.clone();
        tokio::spawn(async move {
            let (etx, mut erx) = mpsc::unbounded_channel();
            let opened = match kind {
                LegKind::View { audio_only } => sfu.open_viewer(audio_only, etx).await.map(|(h, o)| (h, Sdp::Offer(o))),
                LegKind::Publish(s, None) => sfu.open_publisher(s, etx).await.map(|(h, o)| (h, Sdp::Offer(o))),
                LegKind::Publish(s, Some(offer)) => sfu
                    .answer_publisher(s, offer, etx)
                    .await
                    .map(|(h, a)| (h, Sdp::Answer(a))),
            };
            let (handle, sdp) = match opened {
                Ok(o) => o,
                Err(error) => {
                    let _ = cmds.send(Cmd::LegFailed { conn, leg, error });
                    return;
                }
            };
            let id = handle.id();
            let _ = cmds.send(Cmd::LegOpened {
                conn,
                leg: leg.clone(),
                handle,
                sdp,
            });
            while let Some(event) = erx.recv().await {
                let leg = leg.clone();
                let _ = cmds.send(Cmd::LegEvent { conn, leg, id, event });
            }
        });
    }

    /// A command from a page. What needs more than a viewer's rights is judged by the access that came
    /// with it (checked against current roles just before); everything else by the member's role.
    async fn client(&mut self, conn: ConnId, msg: ClientMsg, access: Option<SessionAccess>) {
        let Some((person, role)) = self.conns.get(&conn).map(|c| (c.member.person_id, c.member.role)) else {
            return;
        };
        if msg.needs_staff() {
            return self.staff(conn, person, msg, access).await;
        }
        match msg {
            ClientMsg::Heartbeat => self.heartbeat(conn),
            ClientMsg::Subscribe { audio_only } => self.subscribe(conn, role, audio_only),
            ClientMsg::AudioOnly { on } => self.audio_only(conn, on),
            ClientMsg::Publish { source, sdp } => {
                let allowed = self.may_speak(person, role);
                self.publish(conn, person, source, sdp, allowed).await
            }
            ClientMsg::Unpublish { source } => self.unpublish(conn, source).await,
            ClientMsg::Answer { leg, sdp } => self.answer(conn, leg, sdp),
            ClientMsg::Chat { text } => self.chat(conn, person, role, &text).await,
            ClientMsg::RaiseHand => self.raise_hand(person).await,
            ClientMsg::LowerHand => {
                self.hands.retain(|p| *p != person);
                self.remember(person, ParticipantChange::Hand(None)).await;
                self.broadcast_hands();
            }
            // Commands that need staff rights went to `staff` above.
            _ => {}
        }
    }

    /// The microphone (the only source a viewer may ask for): staff, or a chair let speak and not muted.
    fn may_speak(&self, person: i64, role: RoomRole) -> bool {
        role != RoomRole::Viewer || (self.speakers.contains(&person) && !self.muted.contains(&person))
    }

    async fn raise_hand(&mut self, person: i64) {
        if !self.hands.contains(&person) && !self.speakers.contains(&person) {
            self.hands.push(person);
            self.remember(person, ParticipantChange::Hand(Some(Utc::now()))).await;
            self.broadcast_hands();
        }
    }

    async fn unpublish(&mut self, conn: ConnId, source: Source) {
        if let Some(h) = self.conns.get_mut(&conn).and_then(|c| c.publish.remove(&source)) {
            h.close().await;
        }
    }

    /// Publishing camera or screen (lecturers and moderators) and moderating (moderators only).
    async fn staff(&mut self, conn: ConnId, person: i64, msg: ClientMsg, access: Option<SessionAccess>) {
        if let ClientMsg::Publish { source, sdp } = msg {
            let allowed = access.is_some_and(|a| a.role() != RoomRole::Viewer);
            return self.publish(conn, person, source, sdp, allowed).await;
        }
        match access.map(SessionAccess::moderates) {
            Some(Ok(m)) => self.moderate(person, m, msg).await,
            _ => self.send(conn, error("只有主持人可以这样做 / Moderators only")),
        }
    }

    fn heartbeat(&mut self, conn: ConnId) {
        let Some(c) = self.conns.get_mut(&conn) else { return };
        if c.last_touch.elapsed() < TOUCH_EVERY {
            return;
        }
        c.last_touch = std::time::Instant::now();
        if let Some(id) = c.interval {
            let db = self.db.clone();
            tokio::spawn(async move {
                let _ = sessions_db::touch_interval(&db, id, Utc::now()).await;
            });
        }
    }

    fn subscribe(&self, conn: ConnId, role: RoomRole, audio_only: bool) {
        if self.status != SessionStatus::Live && role == RoomRole::Viewer {
            return self.send(
                conn,
                ServerMsg::Status {
                    status: self.status.code(),
                },
            );
        }
        self.open_leg(conn, "view".into(), LegKind::View { audio_only });
    }

    fn audio_only(&self, conn: ConnId, on: bool) {
        if let Some(v) = self.conns.get(&conn).and_then(|c| c.view.as_ref()) {
            v.set_audio_only(on);
            if !on {
                self.sfu.request_all_keyframes();
            }
        }
    }

    /// Opens a publisher leg if `allowed`; one publisher per slot: whoever published this source before
    /// stops.
    async fn publish(&mut self, conn: ConnId, person: i64, source: Source, offer: Option<String>, allowed: bool) {
        if !allowed {
            return self.send(conn, error("现在不能发言 / You may not publish now"));
        }
        let mut taken = Vec::new();
        for (id, c) in self.conns.iter_mut() {
            if let Some(h) = c.publish.remove(&source) {
                taken.push((*id, h));
            }
        }
        for (id, h) in taken {
            h.close().await;
            if id != conn {
                self.send(id, ServerMsg::Unpublished { source });
            }
        }
        self.sfu.set_muted(source, self.muted.contains(&person));
        self.open_leg(conn, leg_name(source).into(), LegKind::Publish(source, offer));
    }

    fn answer(&self, conn: ConnId, leg: String, sdp: String) {
        let handle = self.conns.get(&conn).and_then(|c| {
            if leg == "view" {
                c.view.as_ref()
            } else {
                source_of(&leg).and_then(|s| c.publish.get(&s))
            }
        });
        if let Some(h) = handle {
            let fut = h.answer(sdp);
            let cmds = self.cmds.clone();
            tokio::spawn(async move {
                if let Err(error) = fut.await {
                    let _ = cmds.send(Cmd::LegFailed { conn, leg, error });
                }
            });
        }
    }

    /// Whether the person may send a chat message now; per person, not per connection: a second phone
    /// gives no second allowance. `Err` is the seconds to wait.
    fn chat_allowed(&mut self, person: i64, role: RoomRole) -> Result<(), u64> {
        let rate = if role == RoomRole::Viewer {
            ChatRate::PARTICIPANT
        } else {
            ChatRate::STAFF
        };
        let now = std::time::Instant::now();
        let bucket = self
            .chat_buckets
            .entry(person)
            .or_insert_with(|| ChatBucket::new(rate, now));
        bucket.take(rate, now)
    }

    async fn chat(&mut self, conn: ConnId, person: i64, role: RoomRole, text: &str) {
        let text = match ChatText::parse(text) {
            Ok(t) => t,
            Err(e) => return self.send(conn, error(&format!("{} / {}", e.zh, e.en))),
        };
        if let Err(seconds) = self.chat_allowed(person, role) {
            return self.send(conn, ServerMsg::ChatWait { seconds });
        }
        match sessions_db::insert_chat(&self.db, self.session_id, person, text.as_str()).await {
            Ok(m) => {
                let name = self.conns.get(&conn).map(|c| c.member.name.clone()).unwrap_or_default();
                let at = to_shanghai(m.created_at).format("%H:%M").to_string();
                let message = ChatOut {
                    id: m.id,
                    person,
                    name,
                    text: m.body,
                    at,
                };
                self.broadcast(ServerMsg::Chat { message });
            }
            Err(e) => tracing::error!(error = %e, "saving chat failed"),
        }
    }

    /// A moderator's command; `m` proves the rights as they are now.
    async fn moderate(&mut self, person: i64, m: Moderates, msg: ClientMsg) {
        match msg {
            ClientMsg::RemoveChat { id } => {
                if let Ok(true) = sessions_db::remove_chat(&self.db, self.session_id, id, person).await {
                    self.broadcast(ServerMsg::ChatRemoved { id });
                }
            }
            ClientMsg::AllowSpeak { person: p } => {
                self.hands.retain(|x| *x != p);
                self.speakers.insert(p);
                self.remember(p, ParticipantChange::Hand(None)).await;
                self.remember(p, ParticipantChange::MaySpeak(true)).await;
                self.send_person(p, ServerMsg::Speak { allowed: true });
                self.broadcast_hands();
            }
            ClientMsg::RevokeSpeak { person: p } => {
                self.speakers.remove(&p);
                self.remember(p, ParticipantChange::MaySpeak(false)).await;
                self.stop_publishing(p, Source::Mic).await;
                self.send_person(p, ServerMsg::Speak { allowed: false });
                self.broadcast_people();
            }
            ClientMsg::Mute { person: p } => self.mute(p, true).await,
            ClientMsg::Unmute { person: p } => self.mute(p, false).await,
            ClientMsg::Remove { person: p } => self.remove(&m, p).await,
            ClientMsg::Start => self.change_status(&m, SessionStatus::Live).await,
            ClientMsg::End => self.change_status(&m, SessionStatus::Ended).await,
            ClientMsg::Record { on } => {
                if let Some(r) = self.recorder.as_mut() {
                    r.pause(!on);
                    tracing::info!(session = self.session_id, recording = on, "recording paused or resumed");
                }
                self.broadcast(self.recording_msg());
            }
            _ => {}
        }
    }

    async fn mute(&mut self, p: i64, mute: bool) {
        if mute {
            self.muted.insert(p);
        } else {
            self.muted.remove(&p);
        }
        self.remember(p, ParticipantChange::Muted(mute)).await;
        for c in self.conns.values().filter(|c| c.member.person_id == p) {
            for s in c.publish.keys() {
                self.sfu.set_muted(*s, mute);
            }
        }
        self.send_person(p, ServerMsg::Muted { muted: mute });
        self.broadcast_people();
    }

    async fn remove(&mut self, m: &Moderates, p: i64) {
        let by = m.person();
        if p == by {
            return;
        }
        let object = format!("session:{}", self.session_id);
        let summary = format!("移出参会者（人员编号 {p}）");
        if let Err(e) = audit::record(&self.db, &m.actor(), Action::ParticipantRemove, object, summary).await {
            tracing::error!(error = %e, "auditing a removal failed");
        }
        self.removed.insert(p);
        self.remember(p, ParticipantChange::Removed { by }).await;
        // Removed, she neither waits to speak nor keeps the right to.
        if self.hands.contains(&p) {
            self.hands.retain(|x| *x != p);
            self.remember(p, ParticipantChange::Hand(None)).await;
        }
        if self.speakers.remove(&p) {
            self.remember(p, ParticipantChange::MaySpeak(false)).await;
        }
        self.send_person(p, ServerMsg::Removed);
        for id in self.conn_ids_of(p) {
            self.leave(id).await;
        }
        self.broadcast_hands();
        tracing::info!(session = self.session_id, person = p, by, "participant removed");
    }

    async fn stop_publishing(&mut self, person: i64, source: Source) {
        for id in self.conn_ids_of(person) {
            if let Some(h) = self.conns.get_mut(&id).and_then(|c| c.publish.remove(&source)) {
                h.close().await;
            }
        }
    }

    /// Start or end from the room, by the one life-cycle path; the room applies the change itself. A
    /// refusal (another path changed it first) means the stored status won: the room adopts it.
    async fn change_status(&mut self, m: &Moderates, status: SessionStatus) {
        match sessions::change_status(&self.db, m, status, &NoRoom::default()).await {
            Ok(()) => self.applied(status).await,
            Err(ServiceError::Refused(_)) => match sessions_db::get(&self.db, self.session_id).await {
                Ok(Some(s)) => self.applied(s.status).await,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "reading the session failed"),
            },
            Err(e) => tracing::error!(error = %e, "changing the session status failed"),
        }
    }

    /// The session's status is now `status`: remember it, tell everyone, and on the end stop all media.
    async fn applied(&mut self, status: SessionStatus) {
        if status == self.status {
            return;
        }
        self.status = status;
        tracing::info!(session = self.session_id, status = status.code(), "room status changed");
        self.broadcast(ServerMsg::Status { status: status.code() });
        if status == SessionStatus::Live {
            self.start_recorder().await;
            self.broadcast(self.recording_msg());
        }
        if status == SessionStatus::Ended {
            if let Some(r) = self.recorder.take() {
                r.stop(true).await;
            }
            self.broadcast(self.recording_msg());
            // (Stored hands were lowered by the status change itself, `services::sessions`.)
            self.hands.clear();
            for c in self.conns.values_mut() {
                let view = c.view.take();
                let publish: Vec<LegHandle> = c.publish.drain().map(|(_, h)| h).collect();
                for h in view.into_iter().chain(publish) {
                    h.close().await;
                }
            }
        }
    }

    /// Starts the tap on the media (recording and the live audio stream), once.
    async fn start_recorder(&mut self) {
        if self.recorder.is_none() {
            let r = Recorder::start(
                self.sfu.clone(),
                self.db.clone(),
                self.session_id,
                self.recording.clone(),
            )
            .await;
            self.recorder = Some(r);
        }
    }

    /// What the room's 录制中 badge shows.
    fn recording_msg(&self) -> ServerMsg {
        use crate::domain::recording::RecordingState;
        let state = match self.recorder.as_ref().and_then(|r| r.state) {
            Some(RecordingState::Recording) => "recording",
            Some(RecordingState::Paused) => "paused",
            _ => "off",
        };
        ServerMsg::Recording { state }
    }

    /// present / started / submitted / passed, for the moderators while the quiz runs.
    async fn send_counter(&self) {
        let Some(quiz) = self.quiz else { return };
        let Ok(c) = crate::services::quiz::counter(&self.db, quiz, self.viewers().len()).await else {
            return;
        };
        let msg = ServerMsg::QuizCounter {
            present: c.present,
            started: c.started,
            submitted: c.submitted,
            passed: c.passed,
        };
        self.send_role(RoomRole::Moderator, msg);
    }

    /// Minutes present per person so far, for the moderators' panel (the rule of the quiz gate).
    async fn send_attendance(&self) {
        let moderators = self.conns.values().any(|c| c.member.role == RoomRole::Moderator);
        if self.status == SessionStatus::Scheduled || !moderators {
            return;
        }
        let Ok(panel) = crate::services::attendance::panel(&self.db, self.session_id).await else {
            return;
        };
        let present: HashSet<i64> = self.conns.values().map(|c| c.member.person_id).collect();
        let rows = panel
            .into_iter()
            .map(|r| AttendanceOut {
                present: present.contains(&r.person),
                person: r.person,
                name: r.name,
                minutes: r.minutes,
            })
            .collect();
        self.send_role(RoomRole::Moderator, ServerMsg::Attendance { rows });
    }
}

async fn close_legs(c: Conn) {
    if let Some(v) = c.view {
        v.close().await;
    }
    for (_, h) in c.publish {
        h.close().await;
    }
}

fn leg_name(source: Source) -> &'static str {
    match source {
        Source::Camera => "camera",
        Source::Screen => "screen",
        Source::Mic => "mic",
    }
}

fn source_of(leg: &str) -> Option<Source> {
    match leg {
        "camera" => Some(Source::Camera),
        "screen" => Some(Source::Screen),
        "mic" => Some(Source::Mic),
        _ => None,
    }
}
