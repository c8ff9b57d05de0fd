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
    pub fn code(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Live => "live",
            SessionStatus::Ended => "ended",
            SessionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<SessionStatus> {
        [
            SessionStatus::Scheduled,
            SessionStatus::Live,
            SessionStatus::Ended,
            SessionStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.code() == code)
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
        if title.is_empty() {
            errors.push(("title", Text::new("请填写标题", "the title is required")));
        } else if title.chars().count() > 200 {
            errors.push((
                "title",
                Text::new("标题不能超过200个字", "the title is longer than 200 characters"),
            ));
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
