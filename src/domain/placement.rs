//! Which node hosts a session's room when several app processes share one database: the rules, free of
//! how nodes and leases are stored (`db::nodes`) or acted on (`rooms::cluster`).
//!
//! A node is alive while its heartbeat is recent. A room's lease names its owner; it holds while it has
//! not expired and its owner is alive and not draining. A room without a lease that holds is placed on
//! the least loaded live node that is not draining.

use chrono::{DateTime, Duration, Utc};

/// A node as the others see it in the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    /// Where pages reach it (`https://quorum.example.org/n/a`): the room's WebSocket and live audio.
    pub url: String,
    pub rooms: i32,
    pub viewers: i32,
    pub draining: bool,
    pub heartbeat_at: DateTime<Utc>,
}

impl Node {
    /// Alive: its heartbeat is younger than `ttl`.
    pub fn alive(&self, now: DateTime<Utc>, ttl: Duration) -> bool {
        self.heartbeat_at + ttl > now
    }

    /// May be given rooms: alive and not being stopped.
    pub fn open_for_rooms(&self, now: DateTime<Utc>, ttl: Duration) -> bool {
        self.alive(now, ttl) && !self.draining
    }
}

/// Who hosts a session's room, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub session: i64,
    pub node: String,
    /// Raised at each change of owner: taking a lease over is a compare-and-set on it.
    pub epoch: i64,
    pub expires_at: DateTime<Utc>,
}

impl Lease {
    /// The owner still hosts the room: the lease is current and its node alive and not draining.
    pub fn holds(&self, nodes: &[Node], now: DateTime<Utc>, ttl: Duration) -> bool {
        self.expires_at > now && nodes.iter().any(|n| n.id == self.node && n.open_for_rooms(now, ttl))
    }
}

/// What to do about a session's room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The lease holds: the room is on this node.
    Stays(String),
    /// Place the room on this node (no lease yet, or the one stored no longer holds).
    MoveTo(String),
    /// No live node can take it.
    Nowhere,
}

/// Where a session's room is, or should go. `arrived` is the node a participant's connection reached:
/// a room without an owner goes there when that node may take rooms (her socket is already open on
/// it), else to the least loaded node.
pub fn place(
    lease: Option<&Lease>,
    nodes: &[Node],
    arrived: Option<&str>,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Placement {
    if let Some(l) = lease.filter(|l| l.holds(nodes, now, ttl)) {
        return Placement::Stays(l.node.clone());
    }
    let candidates = || nodes.iter().filter(|n| n.open_for_rooms(now, ttl));
    if let Some(here) = arrived.and_then(|a| candidates().find(|n| n.id == a)) {
        return Placement::MoveTo(here.id.clone());
    }
    least_loaded(candidates()).map_or(Placement::Nowhere, |n| Placement::MoveTo(n.id.clone()))
}

/// Where a draining node's room goes: the least loaded other node that may take rooms.
pub fn successor<'a>(nodes: &'a [Node], leaving: &str, now: DateTime<Utc>, ttl: Duration) -> Option<&'a Node> {
    least_loaded(nodes.iter().filter(|n| n.id != leaving && n.open_for_rooms(now, ttl)))
}

/// Fewest viewers first (they are what costs: each one is a media stream), then fewest rooms, then the
/// id so that every node picks the same one.
fn least_loaded<'a>(nodes: impl Iterator<Item = &'a Node>) -> Option<&'a Node> {
    nodes.min_by(|a, b| (a.viewers, a.rooms, &a.id).cmp(&(b.viewers, b.rooms, &b.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, viewers: i32, rooms: i32, age_secs: i64, draining: bool, now: DateTime<Utc>) -> Node {
        Node {
            id: id.into(),
            url: format!("http://{id}"),
            rooms,
            viewers,
            draining,
            heartbeat_at: now - Duration::seconds(age_secs),
        }
    }

    fn lease(node: &str, expires_in: i64, now: DateTime<Utc>) -> Lease {
        Lease {
            session: 1,
            node: node.into(),
            epoch: 3,
            expires_at: now + Duration::seconds(expires_in),
        }
    }

    const TTL: Duration = Duration::seconds(6);

    #[test]
    fn a_lease_holds_while_its_owner_is_alive_and_not_draining() {
        let now = Utc::now();
        let nodes = [node("a", 50, 1, 1, false, now), node("b", 0, 0, 1, false, now)];
        assert_eq!(
            place(Some(&lease("a", 4, now)), &nodes, Some("b"), now, TTL),
            Placement::Stays("a".into()),
            "a busier owner keeps its room"
        );
        // Its heartbeat stopped: the room moves even though the lease has not run out.
        let dead = [node("a", 50, 1, 7, false, now), node("b", 0, 0, 1, false, now)];
        assert_eq!(
            place(Some(&lease("a", 4, now)), &dead, None, now, TTL),
            Placement::MoveTo("b".into())
        );
        // The lease ran out (a node that lost the database cannot renew it).
        assert_eq!(
            place(Some(&lease("a", -1, now)), &nodes, None, now, TTL),
            Placement::MoveTo("b".into())
        );
        // Its owner is being stopped.
        let draining = [node("a", 0, 1, 1, true, now), node("b", 10, 0, 1, false, now)];
        assert_eq!(
            place(Some(&lease("a", 4, now)), &draining, None, now, TTL),
            Placement::MoveTo("b".into())
        );
        // An owner missing from the registry altogether.
        assert_eq!(
            place(Some(&lease("z", 4, now)), &nodes, None, now, TTL),
            Placement::MoveTo("b".into())
        );
    }

    #[test]
    fn a_room_goes_where_its_first_participant_arrived_else_to_the_least_loaded() {
        let now = Utc::now();
        let nodes = [
            node("a", 30, 2, 1, false, now),
            node("b", 10, 5, 1, false, now),
            node("c", 10, 3, 1, false, now),
            node("d", 0, 0, 9, false, now),
            node("e", 0, 0, 1, true, now),
        ];
        assert_eq!(place(None, &nodes, Some("a"), now, TTL), Placement::MoveTo("a".into()));
        // Fewest viewers, then fewest rooms; dead and draining nodes are never chosen.
        assert_eq!(place(None, &nodes, None, now, TTL), Placement::MoveTo("c".into()));
        assert_eq!(place(None, &nodes, Some("d"), now, TTL), Placement::MoveTo("c".into()));
        assert_eq!(place(None, &nodes, Some("e"), now, TTL), Placement::MoveTo("c".into()));
        assert_eq!(place(None, &nodes[3..], None, now, TTL), Placement::Nowhere);
    }

    #[test]
    fn a_draining_node_hands_over_to_the_least_loaded_other() {
        let now = Utc::now();
        let nodes = [
            node("a", 0, 0, 1, false, now),
            node("b", 5, 1, 1, false, now),
            node("c", 1, 1, 8, false, now),
        ];
        assert_eq!(successor(&nodes, "a", now, TTL).map(|n| n.id.as_str()), Some("b"));
        assert_eq!(successor(&nodes[..1], "a", now, TTL), None);
    }
}
