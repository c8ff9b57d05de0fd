//! Replay: how a position in a recording maps back to the lecture, and how a player's heartbeats turn
//! into watched time.
//!
//! A recording holds the lecture minus its paused stretches, as segments of wall-clock time laid end to
//! end. A chair watching the replay reports her position every few seconds; the server credits the part
//! of the lecture she played since her last report, as wall-clock intervals of the lecture, so that the
//! attendance gate can unite them with her live presence: a minute she saw live and again on replay
//! counts once.
//!
//! The rules the issue asks for fall out of that:
//! - seeking back credits nothing new (the union already holds those moments);
//! - skipping ahead credits nothing (a jump larger than the time since the last report allows);
//! - playing at 1.5× credits lecture time, at most 1.5 times the wall-clock time that passed;
//! - two devices at once share one allowance: the wall-clock time since her previous credited report
//!   on any device, so four tabs at four positions do not finish the lecture four times as fast.

use chrono::{DateTime, Duration, Utc};

use super::attendance::Interval;

/// The fastest playback the page offers; credit never exceeds this many lecture seconds per second.
pub const MAX_RATE: f64 = 1.5;
/// Timer and network jitter tolerated on top of `MAX_RATE` before an advance counts as a skip.
const SLACK_MS: i64 = 2_000;
/// A report further apart than this from the device's previous one starts afresh (the phone slept,
/// the tab was closed): nothing is credited across the gap.
pub const MAX_REPORT_GAP: Duration = Duration::seconds(60);

/// A stretch of the recording: media from `media_from_ms` on is the lecture from `wall_from` on, up to
/// the next segment (or the end of the recording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub media_from_ms: i64,
    pub wall_from: DateTime<Utc>,
    pub wall_to: Option<DateTime<Utc>>,
}

/// The wall-clock moments of the lecture that media `[from_ms, to_ms)` shows.
pub fn to_wall(segments: &[Segment], duration_ms: i64, from_ms: i64, to_ms: i64) -> Vec<Interval> {
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let end_ms = segments.get(i + 1).map_or(duration_ms, |n| n.media_from_ms);
        let a = from_ms.max(s.media_from_ms);
        let b = to_ms.min(end_ms);
        if b > a {
            out.push(Interval {
                from: s.wall_from + Duration::milliseconds(a - s.media_from_ms),
                to: s.wall_from + Duration::milliseconds(b - s.media_from_ms),
            });
        }
    }
    out
}

/// The stretches between segments: the lecture went on but nothing was recorded (paused, or the server
/// was down). They are left out of the attendance window for everyone: nobody can watch them again.
/// A segment ends where its media ends (the next segment's start in the file), not at its stored
/// `wall_to`, which a crashed process never wrote.
pub fn gaps(segments: &[Segment]) -> Vec<Interval> {
    segments
        .windows(2)
        .filter_map(|w| {
            let to = w[1].wall_from;
            let from = (w[0].wall_from + Duration::milliseconds(w[1].media_from_ms - w[0].media_from_ms)).min(to);
            (to > from).then_some(Interval { from, to })
        })
        .collect()
}

/// Where a device was at its previous report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub position_ms: i64,
    pub at: DateTime<Utc>,
}

/// A new report from a playing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub position_ms: i64,
    pub at: DateTime<Utc>,
    /// The page jumped since its last report (it seeked, or just started): nothing between them was
    /// played, so nothing is credited; the report only sets where the next one counts from.
    pub jumped: bool,
}

/// The media range `[from, to)` a heartbeat credits, given the same device's previous report and when
/// her last report on any device was (`last_any`).
pub fn credited(
    previous: Option<Report>,
    last_any: Option<DateTime<Utc>>,
    hb: Heartbeat,
    duration_ms: i64,
) -> Option<(i64, i64)> {
    let prev = previous?;
    if hb.jumped || hb.at <= prev.at || hb.at - prev.at > MAX_REPORT_GAP {
        return None;
    }
    let advanced = hb.position_ms - prev.position_ms;
    let elapsed = (hb.at - prev.at).num_milliseconds();
    if advanced <= 0 || advanced as f64 > elapsed as f64 * MAX_RATE + SLACK_MS as f64 {
        return None;
    }
    // The allowance: wall-clock time no other report of hers has used yet, at `MAX_RATE`. No slack on
    // top: a slack per report adds up with the number of reports (a script posting every 100 ms would
    // earn a second of lecture each time); a report that arrives early loses only those few ms.
    let since = last_any.map_or(prev.at, |t| t.max(prev.at)).min(hb.at);
    let allowance = ((hb.at - since).num_milliseconds() as f64 * MAX_RATE) as i64;
    let to = hb.position_ms.min(duration_ms);
    let from = (hb.position_ms - advanced.min(allowance)).max(0);
    (to > from).then_some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(sec: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + sec, 0).unwrap_or_default()
    }

    fn report(pos_s: i64, at_s: i64) -> Option<Report> {
        Some(Report {
            position_ms: pos_s * 1000,
            at: at(at_s),
        })
    }

    fn beat(pos_s: i64, at_s: i64) -> Heartbeat {
        Heartbeat {
            position_ms: pos_s * 1000,
            at: at(at_s),
            jumped: false,
        }
    }

    const HOUR: i64 = 3_600_000;

    #[test]
    fn playing_credits_what_was_played() {
        assert_eq!(
            credited(report(100, 0), Some(at(0)), beat(110, 10), HOUR),
            Some((100_000, 110_000))
        );
        assert_eq!(
            credited(None, None, beat(10, 10), HOUR),
            None,
            "the first report only starts"
        );
    }

    #[test]
    fn seeking_and_skipping_credit_nothing() {
        assert_eq!(credited(report(100, 0), Some(at(0)), beat(90, 10), HOUR), None, "back");
        assert_eq!(
            credited(report(100, 0), Some(at(0)), beat(400, 10), HOUR),
            None,
            "ahead"
        );
        let jump = Heartbeat {
            jumped: true,
            ..beat(105, 5)
        };
        assert_eq!(credited(report(100, 0), Some(at(0)), jump, HOUR), None);
        assert_eq!(
            credited(report(100, 0), Some(at(0)), beat(110, 100), HOUR),
            None,
            "slept"
        );
    }

    #[test]
    fn one_and_a_half_speed_counts_lecture_seconds() {
        assert_eq!(
            credited(report(0, 0), Some(at(0)), beat(15, 10), HOUR),
            Some((0, 15_000))
        );
        assert_eq!(
            credited(report(0, 0), Some(at(0)), beat(30, 10), HOUR),
            None,
            "3× is a skip"
        );
    }

    #[test]
    fn two_devices_share_one_allowance() {
        // Device B reported 2 s ago; device A's 10 s of play since its own report gets 2 s × 1.5.
        let c = credited(report(0, 0), Some(at(8)), beat(10, 10), HOUR);
        assert_eq!(c, Some((7_000, 10_000)));
        // Both report at the same moment: the second gets nothing.
        let c = credited(report(500, 0), Some(at(10)), beat(510, 10), HOUR);
        assert_eq!(c, None);
    }

    #[test]
    fn credit_stops_at_the_end_of_the_recording() {
        assert_eq!(
            credited(report(55, 0), Some(at(0)), beat(62, 7), 60_000),
            Some((55_000, 60_000))
        );
    }

    #[test]
    fn media_maps_to_the_lecture_around_a_pause() {
        // Recorded 0–10 min, paused 10–15, recorded again from 15 min.
        let segs = [
            Segment {
                media_from_ms: 0,
                wall_from: at(0),
                wall_to: Some(at(600)),
            },
            Segment {
                media_from_ms: 600_000,
                wall_from: at(900),
                wall_to: None,
            },
        ];
        assert_eq!(
            to_wall(&segs, 1_200_000, 590_000, 610_000),
            vec![
                Interval {
                    from: at(590),
                    to: at(600)
                },
                Interval {
                    from: at(900),
                    to: at(910)
                },
            ]
        );
        assert_eq!(
            gaps(&segs),
            vec![Interval {
                from: at(600),
                to: at(900)
            }]
        );
        // A process that died never closed its segment: its media says where it ended.
        let crashed = [
            Segment {
                wall_to: None,
                ..segs[0]
            },
            segs[1],
        ];
        assert_eq!(
            gaps(&crashed),
            vec![Interval {
                from: at(600),
                to: at(900)
            }]
        );
    }
}
