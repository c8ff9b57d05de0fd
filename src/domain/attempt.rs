//! A chair's quiz attempt and its life: open until its deadline (plus a grace for answers in flight),
//! then submitted — by her, by the closing of the quiz, or by the deadline job. Reading an attempt never
//! changes it: an attempt past its deadline and grace *reads* as finished (graded in memory) until the
//! job or the next write records it. Only a graded, passing attempt yields a `PassedAttempt`, the one
//! thing a certificate is issued from.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::question::QuestionContent;
use super::quiz::{Given, QuizRecord, QuizStatus, Score, is_correct};
use crate::i18n::Text;

/// Answers arriving this long after the deadline are still accepted (they were sent in time).
pub const GRACE: Duration = Duration::seconds(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    Open,
    Submitted,
}

#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: i64,
    pub quiz_id: i64,
    pub person_id: i64,
    pub number: i32,
    pub seed: u64,
    pub status: AttemptStatus,
    pub created_at: DateTime<Utc>,
    /// When she began: pressed 开始答题, or saved her first answer (looking at it does not count).
    pub started_at: Option<DateTime<Utc>>,
    pub deadline: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<String>,
    pub correct: Option<i32>,
    pub total: i32,
    pub passed: Option<bool>,
    /// Taken in the make-up window after the session (回看补测), not in class.
    pub makeup: bool,
}

/// One drawn question of an attempt, with the chair's answer.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub position: i32,
    pub question_id: i64,
    pub version_id: i64,
    /// `order[shown] = original option index`.
    pub order: Vec<usize>,
    pub answer: Option<Given>,
    pub answered_at: Option<DateTime<Utc>>,
    pub correct: Option<bool>,
}

/// How an attempt reads at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// Taking answers (until its deadline plus `GRACE`).
    Open,
    /// Past its deadline and grace, not yet recorded as submitted: it reads as finished, graded with
    /// what was saved; the deadline job (or the next write) submits it.
    Overdue,
    Submitted,
}

impl AttemptState {
    /// Whether the chair sees her result rather than the questions.
    pub fn finished(self) -> bool {
        self != AttemptState::Open
    }
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefused {
    #[error("the deadline has passed")]
    AfterDeadline,
    #[error("the attempt was submitted")]
    Submitted,
    #[error("question {0} is not in this attempt")]
    NotInAttempt(i32),
    #[error("option not in the question")]
    NotAnOption,
    #[error("answer does not fit the question")]
    WrongShape,
}

impl AnswerRefused {
    pub fn text(&self) -> Text {
        match self {
            AnswerRefused::AfterDeadline => Text::new(
                "答题时间已到，这个答案没有保存。",
                "Time is up: this answer was not saved.",
            ),
            AnswerRefused::Submitted => Text::new(
                "答卷已经提交，不能再修改。",
                "The attempt was submitted; it cannot change.",
            ),
            AnswerRefused::NotInAttempt(_) => {
                Text::new("这道题不在您的答卷中。", "That question is not in your attempt.")
            }
            AnswerRefused::NotAnOption => Text::new(
                "所选的选项不属于这道题。",
                "That option does not belong to the question.",
            ),
            AnswerRefused::WrongShape => Text::new(
                "答案格式不对（单选题只能选一个）。",
                "That answer does not fit the question (single choice takes one option).",
            ),
        }
    }
}

impl AttemptRecord {
    pub fn state_at(&self, now: DateTime<Utc>) -> AttemptState {
        match self.status {
            AttemptStatus::Submitted => AttemptState::Submitted,
            AttemptStatus::Open if self.deadline + GRACE < now => AttemptState::Overdue,
            AttemptStatus::Open => AttemptState::Open,
        }
    }

    /// Whether an answer is accepted now (the database update checks the same deadline again).
    pub fn accepts_answers_at(&self, now: DateTime<Utc>) -> Result<(), AnswerRefused> {
        match self.state_at(now) {
            AttemptState::Open => Ok(()),
            AttemptState::Overdue => Err(AnswerRefused::AfterDeadline),
            AttemptState::Submitted => Err(AnswerRefused::Submitted),
        }
    }

    /// How the attempt reads at `now`, `graded` in memory: an overdue attempt as the deadline job will
    /// record it. Open and submitted attempts read as they are.
    pub fn as_read(mut self, now: DateTime<Utc>, g: &Graded) -> AttemptRecord {
        if self.state_at(now) == AttemptState::Overdue {
            self.correct = Some(g.score.correct as i32);
            self.passed = Some(g.passed);
            self.submitted_by = Some(SubmittedBy::Deadline.code().to_string());
        }
        self
    }

    /// Whether the chair may see answers and explanations now.
    pub fn may_reveal(&self, quiz: &QuizRecord, now: DateTime<Utc>) -> bool {
        self.state_at(now).finished()
            && (quiz.settings.reveal == super::quiz::Reveal::AfterSubmit || quiz.status == QuizStatus::Closed)
    }
}

/// Who ended an attempt (stored as its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmittedBy {
    /// She pressed 交卷.
    Chair,
    /// Its time ran out (the deadline job).
    Deadline,
    /// The moderator closed the quiz.
    Closed,
}

impl SubmittedBy {
    pub fn code(self) -> &'static str {
        match self {
            SubmittedBy::Chair => "chair",
            SubmittedBy::Deadline => "deadline",
            SubmittedBy::Closed => "closed",
        }
    }
}

/// The outcome of grading an attempt's saved answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    pub score: Score,
    pub passed: bool,
    /// (position, right) per item.
    pub items: Vec<(i32, bool)>,
}

/// Grades saved answers against the pinned question versions: all or nothing per question, a missing
/// version or answer counts as wrong.
pub fn grade<'a>(
    items: &[ItemRecord],
    content_of: impl Fn(i64) -> Option<&'a QuestionContent>,
    pass_mark: u32,
) -> Graded {
    let results: Vec<(i32, bool)> = items
        .iter()
        .map(|i| {
            let right = content_of(i.version_id).is_some_and(|c| is_correct(c, i.answer.as_ref()));
            (i.position, right)
        })
        .collect();
    let score = Score {
        correct: results.iter().filter(|(_, ok)| *ok).count() as u32,
        total: items.len() as u32,
    };
    Graded {
        passed: score.passes(pass_mark),
        score,
        items: results,
    }
}

/// A submitted attempt that passed: what issuing a certificate needs, and the only way to ask for one.
/// Built here only, from a recorded pass (`#[non_exhaustive]` keeps other modules from building one).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PassedAttempt {
    pub id: i64,
    pub quiz_id: i64,
    pub person_id: i64,
    pub correct: u32,
    pub total: u32,
    /// Earned in the make-up window through the replay (the certificate says so).
    pub makeup: bool,
}

impl PassedAttempt {
    /// The pass recorded for this attempt, if it was submitted and passed.
    pub fn of(a: &AttemptRecord) -> Option<PassedAttempt> {
        match (a.status, a.passed, a.correct) {
            (AttemptStatus::Submitted, Some(true), Some(correct)) => Some(PassedAttempt {
                id: a.id,
                quiz_id: a.quiz_id,
                person_id: a.person_id,
                correct: correct.max(0) as u32,
                total: a.total.max(0) as u32,
                makeup: a.makeup,
            }),
            _ => None,
        }
    }
}

/// What the counting rule reads of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Outcome {
    number: i32,
    submitted: bool,
    passed: bool,
    correct: i32,
    total: i32,
}

impl AttemptRecord {
    fn outcome(&self) -> Outcome {
        Outcome {
            number: self.number,
            submitted: self.status == AttemptStatus::Submitted,
            passed: self.passed == Some(true),
            correct: self.correct.unwrap_or(0),
            total: self.total,
        }
    }
}

/// The one rule for which of a chair's attempts counts, used by her quiz page, the session report,
/// its exports, the dashboard and certificates: a pass is kept a pass (the first passing attempt,
/// the one her certificate was issued with); otherwise the best submitted score (the later on a tie);
/// with nothing submitted, the latest attempt.
///
/// The same rule is written in SQL once, in the migration that marked the attempts submitted before
/// the mark existed (`migrations::MARK_COUNTING`); a test checks that the two agree.
pub fn counting_attempt<'a>(attempts: impl IntoIterator<Item = &'a AttemptRecord>) -> Option<&'a AttemptRecord> {
    let rank = |a: &AttemptRecord| {
        let o = a.outcome();
        let score = if o.submitted && o.total > 0 {
            // Compared as a fraction scaled to integers (attempts of one quiz share a total, but be safe).
            i64::from(o.correct) * 1_000_000 / i64::from(o.total)
        } else {
            -1
        };
        // Among passes the first counts, whatever it scored; otherwise the best, the later of equals.
        if o.passed {
            (o.submitted, o.passed, -i64::from(o.number), 0)
        } else {
            (o.submitted, o.passed, score, i64::from(o.number))
        }
    };
    attempts.into_iter().max_by_key(|a| rank(a))
}

/// Maps an answer given in shown option order to the question's own order; `None` when a shown index
/// is not an option.
pub fn from_shown(shown: Given, order: &[usize]) -> Option<Given> {
    match shown {
        Given::Truth(t) => Some(Given::Truth(t)),
        Given::Choices(c) => c
            .iter()
            .map(|s| order.get(*s).copied())
            .collect::<Option<BTreeSet<usize>>>()
            .map(Given::Choices),
    }
}

/// Maps a stored answer to the order the options are shown in.
pub fn to_shown(given: &Given, order: &[usize]) -> Given {
    match given {
        Given::Truth(t) => Given::Truth(*t),
        Given::Choices(c) => Given::Choices(
            c.iter()
                .filter_map(|orig| order.iter().position(|o| o == orig))
                .collect(),
        ),
    }
}

/// Why a chair cannot take the quiz (now).
#[derive(Debug, Clone, PartialEq)]
pub enum Blocked {
    NotInvited,
    NotOpen,
    Closed,
    BelowGate {
        minutes: i64,
        share: f64,
        required: u32,
    },
    NoAttemptsLeft,
    RetakeWait {
        until: DateTime<Utc>,
    },
    /// She passed: nothing to retake, her result stands.
    Passed,
    /// The quiz is over and the make-up window (回看补测) is not open now: these are its dates.
    OutsideMakeup {
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    },
}

/// The make-up window (回看补测) an official opened for an ended session: from the session's end to the
/// date she set. Chairs who reach the attendance gate with live and replay time together may take the
/// quiz in it, with the same settings and their own attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MakeupWindow {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl MakeupWindow {
    /// The window of a session that ended at `ended_at`, if an official set `until`.
    pub fn of(ended_at: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Option<MakeupWindow> {
        Some(MakeupWindow {
            from: ended_at?,
            until: until?,
        })
    }

    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        self.from <= now && now <= self.until
    }
}

/// What a chair finds when opening the quiz link. Deciding it never changes anything: opening a link
/// again (a reload, a chat-app preview, the room's push) must not start a timed attempt.
#[derive(Debug, Clone)]
pub enum Entry {
    /// An attempt is open: go on with it.
    Attempt(i64),
    /// She may start attempt `number` (a POST behind 开始答题 starts it).
    Ready(Ready),
    /// Her attempt that counts (`counting_attempt`), with why no new one starts.
    Finished {
        attempt: i64,
        blocked: Blocked,
    },
    Blocked(Blocked),
}

/// A new attempt she may start: what it holds, and her result so far, if she has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    pub number: i32,
    pub counting: Option<i64>,
    pub questions: u32,
    pub minutes: u32,
    pub attempts_allowed: u32,
    /// A make-up attempt (taken in the make-up window, after the session).
    pub makeup: bool,
}

/// A chair's presence in the lecture, as the attendance gate reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Presence {
    pub meets_gate: bool,
    pub minutes: i64,
    pub share: f64,
}

/// The entry decided as far as it can be without attendance: either final, or she may start if her
/// presence meets the gate (`Decision::with_presence`).
#[derive(Debug, Clone)]
pub enum Decision {
    Final(Entry),
    IfPresent(Ready),
}

impl Decision {
    pub fn with_presence(self, quiz: &QuizRecord, mine: &[AttemptRecord], p: Presence) -> Entry {
        match self {
            Decision::Final(e) => e,
            Decision::IfPresent(r) if p.meets_gate => Entry::Ready(r),
            Decision::IfPresent(_) => finished(
                mine,
                Blocked::BelowGate {
                    minutes: p.minutes,
                    share: p.share,
                    required: quiz.settings.attendance_gate,
                },
            ),
        }
    }
}

fn finished(mine: &[AttemptRecord], blocked: Blocked) -> Entry {
    match counting_attempt(mine) {
        Some(a) => Entry::Finished { attempt: a.id, blocked },
        None => Entry::Blocked(blocked),
    }
}

/// What the quiz link gives a chair with these attempts (in number order), up to the attendance gate.
/// Once the in-class quiz no longer takes answers, the make-up window (if any) decides.
pub fn decide(
    quiz: &QuizRecord,
    invited: bool,
    mine: &[AttemptRecord],
    makeup: Option<MakeupWindow>,
    now: DateTime<Utc>,
) -> Decision {
    if !invited {
        return Decision::Final(Entry::Blocked(Blocked::NotInvited));
    }
    if let Some(a) = mine.iter().find(|a| a.status == AttemptStatus::Open) {
        return Decision::Final(Entry::Attempt(a.id));
    }
    let in_makeup = !quiz.takes_answers_at(now) && makeup.is_some();
    let blocked = match makeup {
        Some(w) if in_makeup => why_not_makeup(quiz, mine, w, now),
        _ => why_not(quiz, mine, now),
    };
    match blocked {
        Some(blocked) => Decision::Final(finished(mine, blocked)),
        None => Decision::IfPresent(Ready {
            number: mine.len() as i32 + 1,
            counting: counting_attempt(mine).map(|a| a.id),
            questions: quiz.settings.total(),
            minutes: quiz.settings.time_limit_minutes,
            attempts_allowed: quiz.settings.attempts_allowed,
            makeup: in_makeup,
        }),
    }
}

/// Why no new in-class attempt starts, attendance aside.
fn why_not(quiz: &QuizRecord, mine: &[AttemptRecord], now: DateTime<Utc>) -> Option<Blocked> {
    if mine.iter().any(|a| a.passed == Some(true)) {
        return Some(Blocked::Passed);
    }
    match quiz.status {
        QuizStatus::Draft => return Some(Blocked::NotOpen),
        QuizStatus::Closed => return Some(Blocked::Closed),
        QuizStatus::Open if !quiz.takes_answers_at(now) => return Some(Blocked::Closed),
        QuizStatus::Open => {}
    }
    limits(quiz, mine.iter().collect(), now)
}

/// Why no new make-up attempt starts, attendance aside: a pass stands; outside the window she is told
/// its dates; in it she has her own allowance of attempts, whatever she used in class.
fn why_not_makeup(quiz: &QuizRecord, mine: &[AttemptRecord], w: MakeupWindow, now: DateTime<Utc>) -> Option<Blocked> {
    if mine.iter().any(|a| a.passed == Some(true)) {
        return Some(Blocked::Passed);
    }
    if !w.contains(now) {
        return Some(Blocked::OutsideMakeup {
            from: w.from,
            until: w.until,
        });
    }
    limits(quiz, mine.iter().filter(|a| a.makeup).collect(), now)
}

/// The allowance of attempts and the wait between them.
fn limits(quiz: &QuizRecord, counted: Vec<&AttemptRecord>, now: DateTime<Utc>) -> Option<Blocked> {
    if counted.len() as u32 >= quiz.settings.attempts_allowed {
        return Some(Blocked::NoAttemptsLeft);
    }
    let until = counted
        .last()
        .and_then(|a| a.submitted_at)
        .map(|at| at + Duration::minutes(i64::from(quiz.settings.retake_wait_minutes)));
    until.filter(|u| *u > now).map(|until| Blocked::RetakeWait { until })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(number: i32, submitted: bool, correct: i32, passed: bool) -> AttemptRecord {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        AttemptRecord {
            id: i64::from(number),
            quiz_id: 1,
            person_id: 1,
            number,
            seed: 0,
            status: if submitted {
                AttemptStatus::Submitted
            } else {
                AttemptStatus::Open
            },
            created_at: t,
            started_at: Some(t),
            deadline: t,
            submitted_at: submitted.then_some(t),
            submitted_by: None,
            correct: submitted.then_some(correct),
            total: 10,
            passed: submitted.then_some(passed),
            makeup: false,
        }
    }

    fn counting(list: &[AttemptRecord]) -> Option<i32> {
        counting_attempt(list).map(|a| a.number)
    }

    #[test]
    fn a_pass_stays_a_pass_and_otherwise_the_best_counts() {
        // Passed, then a later attempt scored 0 (the old GET-started attempt): the pass counts.
        assert_eq!(
            counting(&[attempt(1, true, 8, true), attempt(2, true, 0, false)]),
            Some(1)
        );
        // Two passes: the first, the one the certificate was issued with.
        assert_eq!(
            counting(&[attempt(1, true, 6, true), attempt(2, true, 9, true)]),
            Some(1)
        );
        // Failed twice: the better score, the later on a tie.
        assert_eq!(
            counting(&[attempt(1, true, 5, false), attempt(2, true, 3, false)]),
            Some(1)
        );
        assert_eq!(
            counting(&[attempt(1, true, 5, false), attempt(2, true, 5, false)]),
            Some(2)
        );
        // A submitted attempt beats one still open; with none submitted, the latest.
        assert_eq!(
            counting(&[attempt(1, true, 0, false), attempt(2, false, 0, false)]),
            Some(1)
        );
        assert_eq!(counting(&[attempt(1, false, 0, false)]), Some(1));
        assert_eq!(counting(&[]), None);
    }

    #[test]
    fn an_overdue_attempt_reads_as_finished_and_refuses_answers() {
        let a = attempt(1, false, 0, false);
        let at = |s: i64| a.deadline + Duration::seconds(s);
        assert_eq!(a.state_at(at(-1)), AttemptState::Open);
        assert_eq!(a.state_at(at(5)), AttemptState::Open, "inside the grace");
        assert_eq!(a.accepts_answers_at(at(5)), Ok(()));
        assert_eq!(a.state_at(at(11)), AttemptState::Overdue);
        assert_eq!(a.accepts_answers_at(at(11)), Err(AnswerRefused::AfterDeadline));
        let g = Graded {
            score: Score { correct: 7, total: 10 },
            passed: true,
            items: vec![],
        };
        assert_eq!(
            a.clone().as_read(at(5), &g).correct,
            None,
            "an open attempt reads as it is"
        );
        let read = a.clone().as_read(at(11), &g);
        assert_eq!((read.correct, read.passed), (Some(7), Some(true)));
        assert_eq!(read.submitted_by.as_deref(), Some("deadline"));
        assert!(
            PassedAttempt::of(&read).is_none(),
            "a pass is issued only once recorded"
        );
        assert_eq!(
            attempt(1, true, 8, true).accepts_answers_at(at(-1)),
            Err(AnswerRefused::Submitted)
        );
    }

    #[test]
    fn only_a_recorded_pass_yields_a_passed_attempt() {
        assert!(PassedAttempt::of(&attempt(1, true, 5, false)).is_none());
        assert!(PassedAttempt::of(&attempt(1, false, 0, false)).is_none());
        let p = PassedAttempt::of(&attempt(2, true, 8, true)).unwrap_or_else(|| panic!("a pass"));
        assert_eq!((p.id, p.correct, p.total), (2, 8, 10));
    }

    fn quiz(status: QuizStatus, attempts_allowed: u32) -> QuizRecord {
        QuizRecord {
            id: 1,
            session_id: 1,
            settings: crate::domain::quiz::QuizSettings {
                attempts_allowed,
                ..Default::default()
            },
            status,
            opened_at: None,
            closes_at: None,
            closed_at: None,
        }
    }

    #[test]
    fn the_entry_is_decided_before_attendance_only_when_it_must_be() {
        let now = DateTime::from_timestamp(1_800_000_100, 0).unwrap_or_default();
        let open = quiz(QuizStatus::Open, 2);
        let final_entry = |d: Decision| match d {
            Decision::Final(e) => e,
            Decision::IfPresent(r) => panic!("needs attendance: {r:?}"),
        };
        assert!(matches!(
            final_entry(decide(&open, false, &[], None, now)),
            Entry::Blocked(Blocked::NotInvited)
        ));
        assert!(matches!(
            final_entry(decide(&open, true, &[attempt(1, false, 0, false)], None, now)),
            Entry::Attempt(1)
        ));
        assert!(matches!(
            final_entry(decide(&quiz(QuizStatus::Draft, 1), true, &[], None, now)),
            Entry::Blocked(Blocked::NotOpen)
        ));
        let failed = [attempt(1, true, 2, false)];
        let Decision::IfPresent(ready) = decide(&open, true, &failed, None, now) else {
            panic!("a second attempt is allowed");
        };
        assert_eq!((ready.number, ready.counting), (2, Some(1)));
        let absent = Presence {
            meets_gate: false,
            minutes: 3,
            share: 0.1,
        };
        assert!(matches!(
            decide(&open, true, &failed, None, now).with_presence(&open, &failed, absent),
            Entry::Finished {
                attempt: 1,
                blocked: Blocked::BelowGate { minutes: 3, .. }
            }
        ));
        assert!(matches!(
            final_entry(decide(&quiz(QuizStatus::Open, 1), true, &failed, None, now)),
            Entry::Finished {
                blocked: Blocked::NoAttemptsLeft,
                ..
            }
        ));
    }

    #[test]
    fn the_makeup_window_gives_her_own_attempts_and_says_its_dates_outside_it() {
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default();
        let closed = quiz(QuizStatus::Closed, 1);
        let window = Some(MakeupWindow {
            from: t(1_000),
            until: t(2_000),
        });
        let failed_in_class = [attempt(1, true, 2, false)];
        let Decision::IfPresent(ready) = decide(&closed, true, &failed_in_class, window, t(1_500)) else {
            panic!("a make-up attempt of her own, though her one class attempt is used");
        };
        assert_eq!((ready.number, ready.makeup), (2, true));
        for at in [t(900), t(2_001)] {
            let Decision::Final(Entry::Finished { blocked, .. }) = decide(&closed, true, &failed_in_class, window, at)
            else {
                panic!("outside the window");
            };
            assert_eq!(
                blocked,
                Blocked::OutsideMakeup {
                    from: t(1_000),
                    until: t(2_000)
                }
            );
        }
        let mut used = attempt(2, true, 3, false);
        used.makeup = true;
        assert!(matches!(
            decide(&closed, true, &[attempt(1, true, 2, false), used], window, t(1_500)),
            Decision::Final(Entry::Finished {
                blocked: Blocked::NoAttemptsLeft,
                ..
            })
        ));
        assert!(matches!(
            decide(&closed, true, &[attempt(1, true, 9, true)], window, t(1_500)),
            Decision::Final(Entry::Finished {
                blocked: Blocked::Passed,
                ..
            })
        ));
        assert!(matches!(
            decide(&closed, true, &[], None, t(1_500)),
            Decision::Final(Entry::Blocked(Blocked::Closed))
        ));
    }

    #[test]
    fn answers_map_between_shown_and_stored_order() {
        let order = [2, 0, 1];
        let shown = Given::Choices([0, 2].into());
        let stored = from_shown(shown.clone(), &order).unwrap_or_else(|| panic!("options exist"));
        assert_eq!(stored, Given::Choices([2, 1].into()));
        assert_eq!(to_shown(&stored, &order), shown);
        assert_eq!(from_shown(Given::Choices([5].into()), &order), None);
    }
}
