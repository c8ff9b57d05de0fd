//! Attendance: the server records join/leave intervals from the live connection; a chair's presence is the
//! union of their intervals (reconnects overlap or leave gaps) clipped to the lecture.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
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
