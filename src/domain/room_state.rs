//! What a live room remembers about its participants beyond their sockets, and how it is rebuilt.
//!
//! A raised hand, the right to speak, a moderator's mute and a removal belong to the person: a phone that
//! drops its connection for a moment, or a server that restarts, must not lower her hand, take back her
//! turn to speak, unmute her or let a removed participant walk back in.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

/// One participant's remembered state, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantState {
    pub person: i64,
    pub hand_raised_at: Option<DateTime<Utc>>,
    pub may_speak: bool,
    pub muted: bool,
    pub removed: bool,
}

/// One change to a participant's remembered state (each is stored on its own, so two changes to
/// different fields never overwrite each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantChange {
    /// Raised now (`Some`) or lowered (`None`).
    Hand(Option<DateTime<Utc>>),
    MaySpeak(bool),
    Muted(bool),
    Removed {
        by: i64,
    },
}

/// The room's view of all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomState {
    /// Raised hands, first raised first.
    pub hands: Vec<i64>,
    pub speakers: BTreeSet<i64>,
    pub muted: BTreeSet<i64>,
    pub removed: HashSet<i64>,
}

impl RoomState {
    pub fn from_rows(rows: &[ParticipantState]) -> RoomState {
        let mut raised: Vec<(DateTime<Utc>, i64)> = rows
            .iter()
            .filter_map(|r| r.hand_raised_at.map(|at| (at, r.person)))
            .collect();
        raised.sort();
        RoomState {
            hands: raised.into_iter().map(|(_, p)| p).collect(),
            speakers: rows.iter().filter(|r| r.may_speak).map(|r| r.person).collect(),
            muted: rows.iter().filter(|r| r.muted).map(|r| r.person).collect(),
            removed: rows.iter().filter(|r| r.removed).map(|r| r.person).collect(),
        }
    }

    /// The hand queue as the room shows it: only people connected now, in the order raised. A hand
    /// stays raised while its owner's phone reconnects, and shows again when she is back.
    pub fn visible_hands(&self, connected: &BTreeSet<i64>) -> Vec<i64> {
        self.hands.iter().copied().filter(|p| connected.contains(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn row(person: i64) -> ParticipantState {
        ParticipantState {
            person,
            hand_raised_at: None,
            may_speak: false,
            muted: false,
            removed: false,
        }
    }

    #[test]
    fn hands_come_back_in_the_order_they_were_raised() {
        let t = Utc::now();
        let rows = [
            ParticipantState {
                hand_raised_at: Some(t + Duration::seconds(5)),
                ..row(1)
            },
            ParticipantState {
                hand_raised_at: Some(t),
                ..row(2)
            },
            ParticipantState {
                may_speak: true,
                muted: true,
                ..row(3)
            },
            ParticipantState {
                removed: true,
                ..row(4)
            },
        ];
        let s = RoomState::from_rows(&rows);
        assert_eq!(s.hands, vec![2, 1]);
        assert_eq!(s.speakers, BTreeSet::from([3]));
        assert_eq!(s.muted, BTreeSet::from([3]));
        assert_eq!(s.removed, HashSet::from([4]));
    }

    #[test]
    fn the_queue_shows_only_people_connected_now() {
        let s = RoomState {
            hands: vec![7, 3, 9],
            ..RoomState::default()
        };
        assert_eq!(s.visible_hands(&BTreeSet::from([9, 7])), vec![7, 9]);
    }
}
