//! Several app processes ("nodes") on one database: each registers with a heartbeat, each session's room
//! is hosted by one node under a lease it renews, and what a room must be told by another node goes
//! through the database (a `room_commands` row, and on PostgreSQL a `NOTIFY` so its owner reads it at
//! once). No broker: the database the service already uses is the only shared thing.
//!
//! The rules (when a lease holds, where a room goes) are `domain::placement`; this is acting on them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::db::nodes::{self, NodeInfo};
use crate::domain::placement::{self, Node, Placement};

/// The PostgreSQL channel a node listens on; the payload is the id of the node a command is for.
const CHANNEL: &str = "quorum_room_commands";

/// This node, as configured (`[cluster]`).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub node_id: String,
    /// Where pages reach this node itself (no trailing `/`).
    pub node_url: String,
    /// The address its media is offered on (shown in the registry, for operators).
    pub media_address: String,
    /// How long a heartbeat and a lease last.
    pub lease: Duration,
}

/// Where a session's room is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Here,
    /// Another node, reached at `url`. `settle`: that node has missed a heartbeat, and this is how long
    /// its lease still has to run (zero while it beats): a page that could not reach it waits this long
    /// before asking again, by when the room has moved if the node is gone.
    There {
        node: String,
        url: String,
        settle: Duration,
    },
    /// No node holds the room now, but one did a moment ago (it died or is stopping): its pages are on
    /// their way to wherever the room goes next.
    Moving,
    /// No node hosts it (nobody is connected), or none can (every node is stopping).
    Nowhere,
}

/// How long after its lease ran out a room still counts as moving rather than empty.
const MOVING_FOR: chrono::Duration = chrono::Duration::seconds(30);

/// What one node asks of the node hosting a room. The state they announce is stored already; a room
/// that moves meanwhile reads it from the database, so a command lost with a dying node loses nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RemoteCmd {
    Status {
        status: String,
    },
    QuizOpened {
        quiz: i64,
    },
    QuizClosed {
        quiz: i64,
    },
    /// Which chairs are connected (the answer is a JSON list of person ids).
    Present,
}

pub struct Cluster {
    db: DatabaseConnection,
    cfg: ClusterConfig,
    /// The registry as last read (for the origin check of room sockets).
    nodes: RwLock<Vec<Node>>,
    /// Commands for this node may be waiting.
    pub(super) wake: Notify,
    /// Set once the node is draining: the heartbeat stops re-registering it.
    stopping: AtomicBool,
    /// When an unknown socket origin last made the registry be read again.
    origins_read: Mutex<Option<std::time::Instant>>,
}

impl Cluster {
    pub fn new(db: DatabaseConnection, cfg: ClusterConfig) -> Cluster {
        Cluster {
            db,
            cfg,
            nodes: RwLock::new(Vec::new()),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            origins_read: Mutex::new(None),
        }
    }

    pub fn url(&self) -> &str {
        &self.cfg.node_url
    }

    pub fn heartbeat_every(&self) -> Duration {
        self.cfg.lease / 3
    }

    fn ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.cfg.lease).unwrap_or(chrono::Duration::seconds(6))
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Joins the registry (again, after a restart: not draining, no load).
    pub async fn register(&self) -> Result<(), DbErr> {
        let info = NodeInfo {
            id: &self.cfg.node_id,
            url: &self.cfg.node_url,
            media_address: &self.cfg.media_address,
        };
        nodes::register(&self.db, &info, Utc::now()).await?;
        self.refresh().await?;
        tracing::info!(node = %self.cfg.node_id, "node registered");
        Ok(())
    }

    /// Reads the registry.
    async fn refresh(&self) -> Result<Vec<Node>, DbErr> {
        let all = nodes::all(&self.db).await?;
        if let Ok(mut cached) = self.nodes.write() {
            cached.clone_from(&all);
        }
        Ok(all)
    }

    fn owner(&self, node: &str, until: chrono::DateTime<Utc>, all: &[Node]) -> Owner {
        if node == self.cfg.node_id {
            return Owner::Here;
        }
        let Some(n) = all.iter().find(|n| n.id == node) else {
            return Owner::Moving;
        };
        let now = Utc::now();
        // Half a beat of slack: a node whose heartbeat is merely in flight is not suspected.
        let beat = chrono::Duration::from_std(self.heartbeat_every()).unwrap_or(chrono::Duration::seconds(2));
        let missed = n.heartbeat_at + beat + beat / 2 < now;
        Owner::There {
            node: n.id.clone(),
            url: n.url.clone(),
            settle: if missed {
                (until - now).to_std().unwrap_or_default()
            } else {
                Duration::ZERO
            },
        }
    }

    /// Where the session's room is, placing it when no lease holds: on this node when `arrived_here`
    /// (a participant's socket reached it), else on the least loaded node.
    pub async fn place(&self, session: i64, arrived_here: bool) -> Result<Owner, DbErr> {
        // A claim lost to another node's at the same moment: read again and follow the winner.
        for _ in 0..3 {
            let all = self.refresh().await?;
            let lease = nodes::lease(&self.db, session).await?;
            let now = Utc::now();
            let arrived = arrived_here.then_some(self.cfg.node_id.as_str());
            match placement::place(lease.as_ref(), &all, arrived, now, self.ttl()) {
                Placement::Stays(node) => {
                    let until = lease.map_or(now, |l| l.expires_at);
                    return Ok(self.owner(&node, until, &all));
                }
                Placement::MoveTo(node) => {
                    let until = now + self.ttl();
                    if nodes::take(&self.db, session, lease.as_ref(), &node, until).await? {
                        let from = lease.as_ref().map(|l| l.node.as_str()).unwrap_or("-");
                        tracing::info!(session, from, to = %node, "room placed");
                        return Ok(self.owner(&node, until, &all));
                    }
                }
                Placement::Nowhere => return Ok(Owner::Nowhere),
            }
        }
        Ok(Owner::Nowhere)
    }

    /// Where the session's room is now, without placing it.
    pub async fn owner_of(&self, session: i64) -> Result<Owner, DbErr> {
        let all = self.refresh().await?;
        let now = Utc::now();
        Ok(match nodes::lease(&self.db, session).await? {
            Some(l) if l.holds(&all, now, self.ttl()) => self.owner(&l.node, l.expires_at, &all),
            Some(l) if l.expires_at + MOVING_FOR > now => Owner::Moving,
            _ => Owner::Nowhere,
        })
    }

    /// The heartbeat: this node's load, its rooms' leases renewed. Returns the rooms it no longer holds
    /// (taken over while it could not renew them: their pages must go to the new owner).
    pub async fn beat(&self, rooms: &[i64], viewers: usize) -> Result<Vec<i64>, DbErr> {
        if self.is_stopping() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        if !nodes::heartbeat(&self.db, &self.cfg.node_id, count(rooms.len()), count(viewers), now).await? {
            self.register().await?;
        }
        let held = nodes::renew(&self.db, &self.cfg.node_id, rooms, now + self.ttl()).await?;
        nodes::purge_commands(&self.db, now - chrono::Duration::minutes(1)).await?;
        nodes::forget_silent(&self.db, now - chrono::Duration::days(1)).await?;
        self.refresh().await?;
        Ok(rooms.iter().copied().filter(|s| !held.contains(s)).collect())
    }

    /// The node is being stopped: no new rooms come to it, and each of `rooms` is handed to the least
    /// loaded other node (when there is none, the lease runs out and whichever node a page reaches
    /// first takes the room).
    pub async fn drain(&self, rooms: &[i64]) -> Result<(), DbErr> {
        self.stopping.store(true, Ordering::Relaxed);
        nodes::set_draining(&self.db, &self.cfg.node_id).await?;
        let mut all = self.refresh().await?;
        let now = Utc::now();
        for &session in rooms {
            // Chosen again for each room, counting the rooms handed over so far.
            let Some(next) = placement::successor(&all, &self.cfg.node_id, now, self.ttl()).map(|n| n.id.clone())
            else {
                tracing::warn!("draining with no other node: rooms wait for a node to come back");
                return Ok(());
            };
            let lease = nodes::lease(&self.db, session).await?;
            if let Some(l) = lease.filter(|l| l.node == self.cfg.node_id)
                && nodes::take(&self.db, session, Some(&l), &next, now + self.ttl()).await?
            {
                tracing::info!(session, to = %next, "room handed over");
                if let Some(n) = all.iter_mut().find(|n| n.id == next) {
                    n.rooms += 1;
                }
            }
        }
        Ok(())
    }

    /// Leaves the registry (after draining).
    pub async fn deregister(&self) -> Result<(), DbErr> {
        nodes::deregister(&self.db, &self.cfg.node_id).await
    }

    /// Whether a socket's `Origin` is one of the nodes' sites: a page served by one node opens its room
    /// socket on another. The registry as last read, read again when the origin is not in it (a node
    /// that registered since).
    pub async fn known_origin(&self, origin: &str) -> bool {
        let known = |all: &[Node]| all.iter().any(|n| origin_of(&n.url).eq_ignore_ascii_case(origin));
        if self.nodes.read().is_ok_and(|all| known(&all)) {
            return true;
        }
        // At most once a second: any signed-in page elsewhere could send unknown origins.
        let due = self.origins_read.lock().is_ok_and(|mut last| {
            let due = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        });
        if !due {
            return false;
        }
        match self.refresh().await {
            Ok(all) => known(&all),
            Err(e) => {
                tracing::warn!(error = %e, "reading the node registry failed");
                false
            }
        }
    }

    /// The registered nodes' sites (`https://host:port`): live audio redirected to another node plays
    /// from there.
    pub fn origins(&self) -> Vec<String> {
        self.nodes
            .read()
            .map(|all| all.iter().map(|n| origin_of(&n.url).to_string()).collect())
            .unwrap_or_default()
    }

    /// Leaves a command for the node hosting `session`'s room and wakes it.
    pub async fn tell(&self, node: &str, session: i64, cmd: &RemoteCmd) -> Result<i64, DbErr> {
        let body = serde_json::to_string(cmd).map_err(|e| DbErr::Custom(e.to_string()))?;
        let id = nodes::push_command(&self.db, node, session, &body, Utc::now()).await?;
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let notify = Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), node.into()],
            );
            self.db.execute_raw(notify).await?;
        }
        Ok(id)
    }

    /// Asks the owner which chairs are connected; `None` when it does not answer within `within`.
    pub async fn ask_present(&self, node: &str, session: i64, within: Duration) -> Result<Option<Vec<i64>>, DbErr> {
        let id = self.tell(node, session, &RemoteCmd::Present).await?;
        let started = tokio::time::Instant::now();
        let answer = loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Some(reply) = nodes::reply(&self.db, id).await? {
                break reply.and_then(|r| serde_json::from_str::<Vec<i64>>(&r).ok());
            }
            if started.elapsed() > within {
                break None;
            }
        };
        nodes::delete_command(&self.db, id).await?;
        Ok(answer)
    }

    /// The commands left for this node, oldest first (`None`: a body this version cannot read).
    pub async fn take_commands(&self) -> Result<Vec<(i64, i64, Option<RemoteCmd>)>, DbErr> {
        Ok(nodes::pending(&self.db, &self.cfg.node_id)
            .await?
            .into_iter()
            .map(|c| (c.id, c.session, serde_json::from_str(&c.body).ok()))
            .collect())
    }

    /// A command carried out; its answer, if it asked something. Commands that only announce are
    /// deleted at once; questions stay until their sender has read the answer.
    pub async fn finish(&self, id: i64, reply: Option<String>) -> Result<(), DbErr> {
        match reply {
            Some(r) => nodes::done(&self.db, id, Some(r)).await,
            None => nodes::delete_command(&self.db, id).await,
        }
    }

    /// On PostgreSQL, wakes the command loop as soon as a command for this node is stored (the loop
    /// also polls, so a lost notification or a reconnecting listener only delays it).
    pub fn spawn_listener(self: &Arc<Cluster>) {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = me.listen().await {
                    tracing::warn!(error = %e, "room command listener lost its connection; reconnecting");
                }
                if me.is_stopping() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    async fn listen(&self) -> Result<(), sea_orm::sqlx::Error> {
        let pool = self.db.get_postgres_connection_pool();
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // Anything stored while the listener was away.
        self.wake.notify_one();
        loop {
            let n = listener.recv().await?;
            if n.payload() == self.cfg.node_id {
                self.wake.notify_one();
            }
        }
    }

    /// How often the command loop looks without being woken: seldom on PostgreSQL (NOTIFY wakes it),
    /// often on SQLite (nothing does).
    pub fn poll_every(&self) -> Duration {
        match self.db.get_database_backend() {
            DatabaseBackend::Postgres => Duration::from_secs(1),
            _ => Duration::from_millis(250),
        }
    }
}

/// `https://host:port` of a URL (`https://host:port/n/a` → `https://host:port`).
fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or(url, |j| &url[..i + 3 + j])
        }
        None => url,
    }
}

/// The same address for a WebSocket (`http://…` → `ws://…`, `https://…` → `wss://…`).
pub fn websocket_scheme(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        url.to_string()
    }
}

/// The room socket's URL on a node.
pub fn socket_url(node_url: &str, session: i64) -> String {
    format!(
        "{}/sessions/{session}/ws",
        websocket_scheme(node_url).trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_socket_urls() {
        assert_eq!(origin_of("https://q.example.org/n/a"), "https://q.example.org");
        assert_eq!(origin_of("http://127.0.0.1:8081"), "http://127.0.0.1:8081");
        assert_eq!(
            socket_url("https://q.example.org/n/a/", 5),
            "wss://q.example.org/n/a/sessions/5/ws"
        );
        assert_eq!(
            socket_url("http://127.0.0.1:8081", 7),
            "ws://127.0.0.1:8081/sessions/7/ws"
        );
        assert_eq!(websocket_scheme("https://q.example.org"), "wss://q.example.org");
    }

    #[test]
    fn commands_read_back_as_written() {
        for cmd in [
            RemoteCmd::Status { status: "live".into() },
            RemoteCmd::QuizOpened { quiz: 3 },
            RemoteCmd::QuizClosed { quiz: 3 },
            RemoteCmd::Present,
        ] {
            let json = serde_json::to_string(&cmd).unwrap_or_default();
            assert_eq!(serde_json::from_str::<RemoteCmd>(&json).ok(), Some(cmd));
        }
    }
}
