//! Attendance as one rule: who was present in a session, for how long, over which window. The quiz
//! gate, the session page, the session report and its exports all read it from here, so a chair
//! refused at the gate and the report's figure for her can never disagree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::sessions as sessions_db;
use crate::domain::attempt::Presence;
use crate::domain::attendance::{Interval, attempt_presence, lecture_window, presence_in, share_in, without};
use crate::domain::quiz::QuizRecord;
use crate::domain::replay::gaps;
use crate::domain::session::SessionRecord;

/// A session's attendance rows: live intervals, attempts, replay intervals (person, interval).
type Rows = (
    Vec<(i64, Interval)>,
    Vec<crate::domain::attempt::AttemptRecord>,
    Vec<(i64, Interval)>,
);

#[derive(Debug, Clone)]
pub struct Attendance {
    /// Lecture start → quiz closing (or the end, or now); `None` before the lecture starts.
    pub window: Option<Interval>,
    /// Stretches of the window nobody can attend any more (the recording was paused or the server
    /// down): left out of the measure for everyone, live or replay.
    pub gaps: Vec<Interval>,
    /// Live presence: the room, the live audio stream, the in-class quiz.
    by_person: HashMap<i64, Vec<Interval>>,
    /// Moments of the lecture watched on replay, kept apart so reports can show them apart.
    replay_by_person: HashMap<i64, Vec<Interval>>,
}

impl Attendance {
    /// Reads a session's room intervals and, as presence too, the time its chairs spent on the
    /// in-class quiz (the quiz page replaces the room page on their phones).
    pub async fn of(
        db: &impl ConnectionTrait,
        session: &SessionRecord,
        quiz: Option<&QuizRecord>,
        now: DateTime<Utc>,
    ) -> Result<Attendance, DbErr> {
        let live = sessions_db::intervals(db, session.id).await?;
        let attempts = match quiz {
            Some(q) => crate::db::quiz::attempts_of_quiz(db, q.id).await?,
            None => Vec::new(),
        };
        let replay = crate::db::recordings::replay_intervals(db, session.id).await?;
        Attendance::from_rows(db, session, quiz, (live, attempts, replay), now).await
    }

    /// As `of`, reading one person's rows only (a replay page's frequent progress reports must not
    /// read the whole session each time): her figures are the same as `of` would give.
    pub async fn of_person(
        db: &impl ConnectionTrait,
        session: &SessionRecord,
        quiz: Option<&QuizRecord>,
        person: i64,
        now: DateTime<Utc>,
    ) -> Result<Attendance, DbErr> {
        let ids = [session.id];
        let live = sessions_db::intervals_of_person(db, person, &ids).await?;
        let attempts = match quiz {
            Some(q) => crate::db::quiz::attempts_of(db, q.id, person).await?,
            None => Vec::new(),
        };
        let replay = crate::db::recordings::replay_intervals_of_person(db, person, &ids).await?;
        let live = live.into_iter().map(|(_, i)| (person, i)).collect();
        let replay = replay.into_iter().map(|(_, i)| (person, i)).collect();
        Attendance::from_rows(db, session, quiz, (live, attempts, replay), now).await
    }

    async fn from_rows(
        db: &impl ConnectionTrait,
        session: &SessionRecord,
        quiz: Option<&QuizRecord>,
        (live, attempts, replay): Rows,
        now: DateTime<Utc>,
    ) -> Result<Attendance, DbErr> {
        let mut by_person: HashMap<i64, Vec<Interval>> = HashMap::new();
        for (p, i) in live {
            by_person.entry(p).or_default().push(i);
        }
        for a in attempts {
            // An attempt she has not begun (created for her when the quiz opened, no answer yet)
            // is not time spent on it.
            if let Some(i) = attempt_presence(a.started_at, a.submitted_at, a.deadline, now) {
                by_person.entry(a.person_id).or_default().push(i);
            }
        }
        let mut replay_by_person: HashMap<i64, Vec<Interval>> = HashMap::new();
        for (p, i) in replay {
            replay_by_person.entry(p).or_default().push(i);
        }
        let gaps = crate::db::recordings::for_session(db, session.id)
            .await?
            .map(|r| gaps(&r.segments))
            .unwrap_or_default();
        Ok(Attendance {
            gaps,
            replay_by_person,
            window: lecture_window(
                session.started_at,
                quiz.and_then(|q| q.measured_until(now)),
                session.ended_at,
                now,
            ),
            by_person,
        })
    }

    /// As `of`, with the session's quiz read here.
    pub async fn of_session(
        db: &impl ConnectionTrait,
        session: &SessionRecord,
        now: DateTime<Utc>,
    ) -> Result<Attendance, DbErr> {
        let quiz = crate::db::quiz::for_session(db, session.id).await?;
        Attendance::of(db, session, quiz.as_ref(), now).await
    }

    /// Live and replay together.
    fn intervals(&self, person: i64) -> Vec<Interval> {
        let mut all = self.live(person);
        all.extend(self.replay_by_person.get(&person).cloned().unwrap_or_default());
        all
    }

    fn live(&self, person: i64) -> Vec<Interval> {
        self.by_person.get(&person).cloned().unwrap_or_default()
    }

    /// The parts of the window that count.
    fn parts(&self) -> Vec<Interval> {
        self.window.map(|w| without(w, &self.gaps)).unwrap_or_default()
    }

    /// Whole minutes present within the window, live and replay together (each moment once).
    pub fn minutes(&self, person: i64) -> i64 {
        presence_in(self.intervals(person), &self.parts()).num_minutes()
    }

    /// Whole minutes present live.
    pub fn live_minutes(&self, person: i64) -> i64 {
        presence_in(self.live(person), &self.parts()).num_minutes()
    }

    /// Whole minutes the replay added to what she saw live.
    pub fn replay_minutes(&self, person: i64) -> i64 {
        self.minutes(person) - self.live_minutes(person)
    }

    /// Share of the window present, 0.0–1.0, live and replay together.
    pub fn share(&self, person: i64) -> f64 {
        share_in(self.intervals(person), &self.parts())
    }

    /// Whether the person meets an attendance requirement in percent (0 always does).
    pub fn meets(&self, person: i64, gate_percent: u32) -> bool {
        gate_percent == 0 || self.window.is_some() && self.share(person) * 100.0 + 1e-9 >= gate_percent as f64
    }

    /// The person's presence as the quiz gate reads it.
    pub fn presence(&self, person: i64, gate_percent: u32) -> Presence {
        Presence {
            meets_gate: self.meets(person, gate_percent),
            minutes: self.minutes(person),
            share: self.share(person),
        }
    }

    /// Everyone with any presence recorded.
    pub fn people(&self) -> impl Iterator<Item = i64> + '_ {
        let replay_only = self.replay_by_person.keys().filter(|p| !self.by_person.contains_key(p));
        self.by_person.keys().chain(replay_only).copied()
    }

    /// Whether the person watched any of the replay.
    pub fn watched_replay(&self, person: i64) -> bool {
        self.replay_by_person.contains_key(&person)
    }
}

/// One line of the moderators' attendance panel in the room.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRow {
    pub person: i64,
    pub name: String,
    pub minutes: i64,
}

/// Minutes present so far per person, most first, for the moderators' panel: the same rule as the quiz
/// gate and the report, so the panel never tells the moderator something the gate then contradicts.
pub async fn panel(db: &impl ConnectionTrait, session: i64) -> Result<Vec<PanelRow>, DbErr> {
    let Some(s) = sessions_db::get(db, session).await? else {
        return Ok(Vec::new());
    };
    let attendance = Attendance::of_session(db, &s, Utc::now()).await?;
    let ids: Vec<i64> = attendance.people().collect();
    let names: HashMap<i64, String> = crate::db::people::get_many(db, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name.as_str().to_string()))
        .collect();
    let mut rows: Vec<PanelRow> = ids
        .into_iter()
        .map(|p| PanelRow {
            person: p,
            name: names.get(&p).cloned().unwrap_or_default(),
            minutes: attendance.minutes(p),
        })
        .collect();
    rows.sort_by(|a, b| b.minutes.cmp(&a.minutes).then(a.person.cmp(&b.person)));
    Ok(rows)
}
