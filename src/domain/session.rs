//! Training sessions (培训场次): schedule rules and the room's life cycle.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::time::from_shanghai_local;
use crate::i18n::{Lang, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Scheduled; joiners wait in the lobby.
    Scheduled,
    /// The moderator started it: the live room is open.
    Live,
    Ended,
    Cancelled,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 4] = [
        SessionStatus::Scheduled,
        SessionStatus::Live,
        SessionStatus::Ended,
        SessionStatus::Cancelled,
    ];

    /// The one rule applied: the next status, or why not (in words for the person who asked).
    pub fn change_to(self, next: SessionStatus) -> Result<SessionStatus, Text> {
        if self.may_become(next) {
            Ok(next)
        } else {
            Err(self.refusal(next))
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Live => "live",
            SessionStatus::Ended => "ended",
            SessionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The one rule for a session's life cycle, used by the room, the no-room path, cancellation and the
    /// job that ends forgotten sessions: scheduled → live → ended, and scheduled → cancelled. Nothing
    /// goes backwards (an ended session restarted would overwrite when it started).
    pub fn may_become(self, next: SessionStatus) -> bool {
        matches!(
            (self, next),
            (SessionStatus::Scheduled, SessionStatus::Live)
                | (SessionStatus::Live, SessionStatus::Ended)
                | (SessionStatus::Scheduled, SessionStatus::Cancelled)
        )
    }

    /// The statuses from which `self` can be reached (for conditional updates in the database).
    pub fn reachable_from(self) -> Vec<SessionStatus> {
        SessionStatus::ALL
            .into_iter()
            .filter(|from| from.may_become(self))
            .collect()
    }

    /// Why a change is refused, in words for the person who asked for it.
    pub fn refusal(self, next: SessionStatus) -> Text {
        match (self, next) {
            (SessionStatus::Ended, _) => Text::new("本场培训已经结束。", "This session has ended."),
            (SessionStatus::Cancelled, _) => Text::new("本场培训已取消。", "This session was cancelled."),
            (SessionStatus::Live, SessionStatus::Cancelled) => Text::new(
                "培训已经开始，不能取消；请结束培训。",
                "The session has started: end it instead of cancelling.",
            ),
            (SessionStatus::Live, _) => Text::new("培训已经开始。", "The session has already started."),
            (SessionStatus::Scheduled, _) => Text::new(
                "培训尚未开始，不能结束。",
                "The session has not started, so it cannot end.",
            ),
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            SessionStatus::Scheduled => lang.t("未开始", "Scheduled"),
            SessionStatus::Live => lang.t("直播中", "Live"),
            SessionStatus::Ended => lang.t("已结束", "Ended"),
            SessionStatus::Cancelled => lang.t("已取消", "Cancelled"),
        }
    }
}

/// A session as listed (home page, the official's list, reports).
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub id: i64,
    pub title: String,
    pub street_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: SessionStatus,
}

/// A session with everything about it.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub street_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: SessionStatus,
    pub invite_token: String,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The end of the make-up quiz window (回看补测), if an official opened one.
    pub makeup_until: Option<DateTime<Utc>>,
    pub lecturers: Vec<i64>,
    pub moderators: Vec<i64>,
    pub committees: Vec<i64>,
}

impl SessionRecord {
    /// Whether a chair of this committee is invited.
    pub fn invites(&self, committee: Option<i64>) -> bool {
        committee.is_some_and(|c| self.committees.contains(&c))
    }
}

/// A session's schedule as entered by an official, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub title: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

fn local(field: &'static str, s: &str) -> Result<DateTime<Utc>, (&'static str, Text)> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()
        .and_then(from_shanghai_local)
        .ok_or((
            field,
            Text::new(
                "请填写日期和时间，例如 2026-12-01 14:00",
                "enter a date and time such as 2026-12-01 14:00",
            ),
        ))
}

fn title_problem(title: &str) -> Option<Text> {
    if title.is_empty() {
        Some(Text::new("请填写标题", "the title is required"))
    } else if title.chars().count() > 200 {
        Some(Text::new(
            "标题不能超过200个字",
            "the title is longer than 200 characters",
        ))
    } else {
        None
    }
}

impl Schedule {
    /// Parses the form; times are Shanghai wall-clock times.
    pub fn parse(
        title: &str,
        description: &str,
        starts: &str,
        ends: &str,
    ) -> Result<Schedule, Vec<(&'static str, Text)>> {
        let mut errors = Vec::new();
        let title = title.trim();
        if let Some(e) = title_problem(title) {
            errors.push(("title", e));
        }
        let starts_at = local("starts_at", starts).map_err(|e| errors.push(e)).ok();
        let ends_at = local("ends_at", ends).map_err(|e| errors.push(e)).ok();
        if let (Some(s), Some(e)) = (starts_at, ends_at)
            && e <= s
        {
            errors.push((
                "ends_at",
                Text::new("结束时间必须晚于开始时间", "the end must be after the start"),
            ));
        }
        match (starts_at, ends_at) {
            (Some(starts_at), Some(ends_at)) if errors.is_empty() => Ok(Schedule {
                title: title.to_string(),
                description: description.trim().to_string(),
                starts_at,
                ends_at,
            }),
            _ => Err(errors),
        }
    }
}

/// How far ahead a session may be scheduled, and how long it may last.
pub const MAX_DAYS_AHEAD: i64 = 2 * 365;
pub const MAX_HOURS_LONG: i64 = 12;
/// A start time typed a few minutes late ("14:00" at 14:03) is still accepted.
pub const START_SLACK_MINUTES: i64 = 10;

/// A session that is still live this long after its scheduled end was forgotten by its moderator: it
/// ends by itself (see `forgotten_end`).
pub const AUTO_END_AFTER_HOURS: i64 = 2;

/// When a forgotten live session is taken to have ended: the later of its scheduled end and the last
/// time anyone was seen in its room, but never later than `now`. `None` while it may still be running.
pub fn forgotten_end(
    status: SessionStatus,
    scheduled_end: DateTime<Utc>,
    last_seen: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if status != SessionStatus::Live || now < scheduled_end + chrono::Duration::hours(AUTO_END_AFTER_HOURS) {
        return None;
    }
    Some(last_seen.map_or(scheduled_end, |l| l.max(scheduled_end)).min(now))
}

impl Schedule {
    /// Dates an official may choose now: not in the past (an edit may keep the start it had), at most
    /// two years ahead, at most twelve hours long.
    pub fn check_dates(&self, now: DateTime<Utc>, current_start: Option<DateTime<Utc>>) -> Vec<(&'static str, Text)> {
        let mut errors = Vec::new();
        let kept = current_start == Some(self.starts_at);
        if !kept && self.starts_at < now - chrono::Duration::minutes(START_SLACK_MINUTES) {
            errors.push((
                "starts_at",
                Text::new("开始时间已经过去了，请选择以后的时间", "the start is in the past"),
            ));
        }
        if self.starts_at > now + chrono::Duration::days(MAX_DAYS_AHEAD) {
            errors.push((
                "starts_at",
                Text::new(
                    "开始时间最多只能安排在两年以内",
                    "the start can be at most two years ahead",
                ),
            ));
        }
        if self.ends_at - self.starts_at > chrono::Duration::hours(MAX_HOURS_LONG) {
            errors.push((
                "ends_at",
                Text::new("一场培训最长12小时", "a session lasts at most 12 hours"),
            ));
        }
        errors
    }
}

/// What a person may do in a session's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoomRole {
    /// A chair: watches, chats, raises a hand, speaks when allowed.
    Viewer,
    /// A lawyer lecturing: publishes camera, microphone and screen.
    Lecturer,
    /// An official running the session: starts and ends it, lets chairs speak, mutes, removes.
    Moderator,
}

impl RoomRole {
    pub fn code(self) -> &'static str {
        match self {
            RoomRole::Viewer => "viewer",
            RoomRole::Lecturer => "lecturer",
            RoomRole::Moderator => "moderator",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::*;

    #[test]
    fn status_never_goes_backwards() {
        assert!(Scheduled.may_become(Live));
        assert!(Live.may_become(Ended));
        assert!(Scheduled.may_become(Cancelled));
        for (from, to) in [
            (Ended, Live),
            (Ended, Scheduled),
            (Scheduled, Ended),
            (Cancelled, Live),
            (Live, Cancelled),
            (Live, Live),
            (Ended, Ended),
        ] {
            assert!(!from.may_become(to), "{from:?} → {to:?}");
        }
        assert_eq!(Live.reachable_from(), vec![Scheduled]);
        assert_eq!(Ended.reachable_from(), vec![Live]);
    }

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default() + chrono::Duration::hours(h)
    }

    #[test]
    fn forgotten_sessions_end_at_the_last_sign_of_life() {
        let end = at(2);
        assert_eq!(forgotten_end(Live, end, None, at(3)), None, "within the allowance");
        assert_eq!(forgotten_end(Live, end, None, at(5)), Some(end));
        assert_eq!(forgotten_end(Live, end, Some(at(3)), at(5)), Some(at(3)), "ran over");
        assert_eq!(forgotten_end(Live, end, Some(at(1)), at(5)), Some(end));
        assert_eq!(forgotten_end(Ended, end, None, at(9)), None);
    }

    #[test]
    fn dates_are_bounded() {
        let now = at(0);
        let s = |from: i64, to: i64| Schedule {
            title: "t".into(),
            description: String::new(),
            starts_at: at(from),
            ends_at: at(to),
        };
        assert!(s(1, 2).check_dates(now, None).is_empty());
        assert_eq!(s(-1, 2).check_dates(now, None)[0].0, "starts_at");
        assert!(
            s(-1, 2).check_dates(now, Some(at(-1))).is_empty(),
            "an edit keeps its start"
        );
        assert_eq!(s(24 * 800, 24 * 800 + 1).check_dates(now, None)[0].0, "starts_at");
        assert_eq!(s(1, 14).check_dates(now, None)[0].0, "ends_at");
    }
}
