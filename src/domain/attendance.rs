//! Attendance: the server records join/leave intervals from the live connection; a chair's presence is the
//! union of their intervals (reconnects overlap or leave gaps) clipped to the lecture.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A connection still open whose last heartbeat is this recent counts as present up to now (the room
/// records a heartbeat at most every 30 s, the page sends one every 15 s). Past it, the connection is
/// taken to have died at its last heartbeat (a crashed process leaves no goodbye).
pub const HEARTBEAT_SILENCE: Duration = Duration::seconds(90);

/// Where an interval with no recorded leave ends, as seen at `now`.
pub fn open_until(last_seen: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    if now - last_seen <= HEARTBEAT_SILENCE {
        now.max(last_seen)
    } else {
        last_seen
    }
}

/// The part of a session that attendance is measured over: from the lecture's start to the quiz's
/// closing, or else to the end of the session, or else to now. `None` before the lecture starts.
///
/// The quiz runs inside the room, so the lecture and attendance go on while it is open: a chair below
/// the gate when it opened can still reach it by staying (and is let in then), and the time spent on
/// the quiz counts as presence. What follows the quiz (questions, the closing words) is not measured,
/// so a chair who passed and left is not marked down for it.
pub fn lecture_window(
    started: Option<DateTime<Utc>>,
    quiz_closed: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Interval> {
    let from = started?;
    // A quiz closed after the session ended does not stretch the window past the end.
    let to = match (quiz_closed, ended) {
        (Some(q), Some(e)) => q.min(e),
        (q, e) => q.or(e).unwrap_or(now),
    };
    let to = to.min(now).max(from);
    Some(Interval { from, to })
}

/// The time an in-class attempt counts as presence: from when she began it; once she has submitted,
/// until the quiz closes (the window ends there: she is done, and leaving the room then costs her
/// nothing), else until her deadline or now, whichever is first. `None` for an attempt not begun.
pub fn attempt_presence(
    started: Option<DateTime<Utc>>,
    submitted: Option<DateTime<Utc>>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Interval> {
    let from = started?;
    let to = match submitted {
        Some(_) => now,
        None => open_until(deadline.min(now), now),
    };
    Some(Interval { from, to })
}

/// Merges overlapping or touching intervals (sorted output).
pub fn merge(mut list: Vec<Interval>) -> Vec<Interval> {
    list.retain(|i| i.to > i.from);
    list.sort_by_key(|i| i.from);
    let mut out: Vec<Interval> = Vec::with_capacity(list.len());
    for i in list {
        match out.last_mut() {
            Some(last) if i.from <= last.to => last.to = last.to.max(i.to),
            _ => out.push(i),
        }
    }
    out
}

/// Time present within `window`.
pub fn presence(list: Vec<Interval>, window: Interval) -> Duration {
    merge(list)
        .into_iter()
        .map(|i| {
            let from = i.from.max(window.from);
            let to = i.to.min(window.to);
            if to > from { to - from } else { Duration::zero() }
        })
        .fold(Duration::zero(), |a, b| a + b)
}

/// `window` without the `gaps` (stretches nobody can attend again, such as a paused recording).
pub fn without(window: Interval, gaps: &[Interval]) -> Vec<Interval> {
    let mut parts = vec![window];
    for g in merge(gaps.to_vec()) {
        parts = parts
            .into_iter()
            .flat_map(|p| {
                [
                    Interval {
                        from: p.from,
                        to: g.from.min(p.to),
                    },
                    Interval {
                        from: g.to.max(p.from),
                        to: p.to,
                    },
                ]
            })
            .filter(|p| p.to > p.from)
            .collect();
    }
    parts
}

/// Time present within any of `parts`.
pub fn presence_in(list: Vec<Interval>, parts: &[Interval]) -> Duration {
    let merged = merge(list);
    parts
        .iter()
        .map(|w| presence(merged.clone(), *w))
        .fold(Duration::zero(), |a, b| a + b)
}

/// Share of `parts` present, 0.0–1.0 (0 when they are empty).
pub fn share_in(list: Vec<Interval>, parts: &[Interval]) -> f64 {
    let total: i64 = parts.iter().map(|w| (w.to - w.from).num_milliseconds()).sum();
    if total <= 0 {
        return 0.0;
    }
    presence_in(list, parts).num_milliseconds() as f64 / total as f64
}

/// Share of the window present, 0.0–1.0 (0 for an empty window).
pub fn share(list: Vec<Interval>, window: Interval) -> f64 {
    let total = (window.to - window.from).num_milliseconds();
    if total <= 0 {
        return 0.0;
    }
    presence(list, window).num_milliseconds() as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap() + Duration::minutes(min)
    }

    fn iv(a: i64, b: i64) -> Interval {
        Interval { from: at(a), to: at(b) }
    }

    #[test]
    fn an_open_connection_counts_up_to_now() {
        let now = at(10);
        assert_eq!(open_until(now - Duration::seconds(29), now), now);
        assert_eq!(
            open_until(at(2), now),
            at(2),
            "silent for minutes: died at its last heartbeat"
        );
    }

    #[test]
    fn the_window_ends_when_the_quiz_closes() {
        assert_eq!(lecture_window(None, None, None, at(5)), None);
        assert_eq!(lecture_window(Some(at(0)), None, None, at(5)), Some(iv(0, 5)));
        assert_eq!(
            lecture_window(Some(at(0)), Some(at(3)), Some(at(9)), at(20)),
            Some(iv(0, 3))
        );
        assert_eq!(lecture_window(Some(at(0)), None, Some(at(9)), at(20)), Some(iv(0, 9)));
        assert_eq!(
            lecture_window(Some(at(0)), Some(at(12)), Some(at(9)), at(20)),
            Some(iv(0, 9))
        );
    }

    #[test]
    fn a_gap_leaves_the_window_for_everyone() {
        let parts = without(iv(0, 60), &[iv(20, 30)]);
        assert_eq!(parts, vec![iv(0, 20), iv(30, 60)]);
        // Live 0–25 and replay 15–60: 50 minutes of the 50 that can be attended, each moment once.
        assert_eq!(presence_in(vec![iv(0, 25), iv(15, 60)], &parts), Duration::minutes(50));
        assert!((share_in(vec![iv(0, 10)], &parts) - 0.2).abs() < 1e-9);
        assert_eq!(without(iv(0, 60), &[]), vec![iv(0, 60)]);
    }

    #[test]
    fn a_submitted_attempt_counts_until_the_quiz_closes() {
        let now = at(30);
        assert_eq!(attempt_presence(None, None, at(40), now), None, "not begun");
        assert_eq!(
            attempt_presence(Some(at(10)), Some(at(15)), at(40), now),
            Some(iv(10, 30)),
            "submitted: on until the window (the quiz's closing) ends it"
        );
        assert_eq!(
            attempt_presence(Some(at(10)), None, at(20), now),
            Some(iv(10, 20)),
            "overdue"
        );
    }

    #[test]
    fn reconnects_merge_and_clip() {
        // Joined early, dropped at 20, back at 22 on a second tab overlapping, left after the end.
        let list = vec![iv(-5, 20), iv(22, 40), iv(30, 50), iv(60, 100)];
        assert_eq!(merge(list.clone()), vec![iv(-5, 20), iv(22, 50), iv(60, 100)]);
        let p = presence(list.clone(), iv(0, 90));
        assert_eq!(p, Duration::minutes(20 + 28 + 30));
        assert!((share(list, iv(0, 90)) - 78.0 / 90.0).abs() < 1e-9);
        assert_eq!(share(vec![], iv(0, 0)), 0.0);
    }
}
