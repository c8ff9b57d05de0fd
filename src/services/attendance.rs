//! Attendance as one rule: who was present in a session, for how long, over which window. The quiz
//! gate, the session page, the session report and its exports all read it from here, so a chair
//! refused at the gate and the report's figure for her can never disagree.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::quiz::QuizRecord;
use crate::db::training::{self, SessionRecord};
use crate::domain::attendance::{Interval, lecture_window, open_until, presence, share};

#[derive(Debug, Clone)]
pub struct Attendance {
    /// Lecture start → quiz opening (or the end, or now); `None` before the lecture starts.
    pub window: Option<Interval>,
    by_person: HashMap<i64, Vec<Interval>>,
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
        let mut by_person: HashMap<i64, Vec<Interval>> = HashMap::new();
        for (p, i) in training::intervals(db, session.id).await? {
            by_person.entry(p).or_default().push(i);
        }
        if let Some(q) = quiz {
            for a in crate::db::quiz::attempts_of_quiz(db, q.id).await? {
                // An attempt created for a chair who never looked at it is not time spent on it.
                let Some(from) = a.started_at else { continue };
                let to = a.submitted_at.unwrap_or_else(|| open_until(a.deadline.min(now), now));
                by_person.entry(a.person_id).or_default().push(Interval { from, to });
            }
        }
        Ok(Attendance {
            window: lecture_window(
                session.started_at,
                quiz.and_then(|q| q.opened_at),
                session.ended_at,
                now,
            ),
            by_person,
        })
    }

    fn intervals(&self, person: i64) -> Vec<Interval> {
        self.by_person.get(&person).cloned().unwrap_or_default()
    }

    /// Whole minutes present within the window.
    pub fn minutes(&self, person: i64) -> i64 {
        self.window
            .map_or(0, |w| presence(self.intervals(person), w).num_minutes())
    }

    /// Share of the window present, 0.0–1.0.
    pub fn share(&self, person: i64) -> f64 {
        self.window.map_or(0.0, |w| share(self.intervals(person), w))
    }

    /// Whether the person meets an attendance requirement in percent (0 always does).
    pub fn meets(&self, person: i64, gate_percent: u32) -> bool {
        gate_percent == 0 || self.window.is_some() && self.share(person) * 100.0 + 1e-9 >= gate_percent as f64
    }

    /// Everyone with any presence recorded.
    pub fn people(&self) -> impl Iterator<Item = i64> + '_ {
        self.by_person.keys().copied()
    }
}
