//! The in-class quiz: settings, opening it from the room, attempts, answers, grading and results.
//!
//! Integrity rules: an answer is acknowledged only after it is committed; answers after the deadline
//! (plus a short grace for answers in flight), to a question not in the attempt, or with an option not
//! in the question are refused and logged; a chair can only read and change their own attempt;
//! submitting twice is harmless; at the deadline the server submits what was saved.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::accounts::CurrentUser;
use super::attendance::Attendance;
use crate::db::quiz::{self as db, AttemptRecord, AttemptStatus, ItemRecord, NewAttempt, QuizRecord, QuizStatus};
use crate::db::{banks, training};
use crate::domain::bank::{QuestionStatus, QuestionVersion};
use crate::domain::quiz::{
    AnswerProblem, Candidate, Given, QuizSettings, Reveal, Score, check_given, draw, is_correct,
};
use crate::domain::session::SessionStatus;
use crate::i18n::Text;

/// Answers arriving this long after the deadline are still accepted (they were sent in time).
pub const GRACE: Duration = Duration::seconds(10);

/// Drawable questions per topic: active questions of banks that are in use.
pub async fn pools(db: &impl ConnectionTrait) -> Result<HashMap<String, Vec<Candidate>>, ServiceError> {
    let mut out: HashMap<String, Vec<Candidate>> = HashMap::new();
    for bank in banks::banks(db).await?.into_iter().filter(|b| !b.retired) {
        for q in banks::questions_of_bank(db, bank.id).await? {
            if q.status == QuestionStatus::Active {
                out.entry(bank.topic.clone()).or_default().push(Candidate {
                    question_id: q.id,
                    version_id: q.current.id,
                    options: q.current.content.options.len(),
                });
            }
        }
    }
    Ok(out)
}

/// The settings to show: saved ones, or defaults.
/// The session's quiz when chairs can enter it now (for the room page's link).
pub async fn open_now(db: &impl ConnectionTrait, session: i64) -> Result<Option<i64>, ServiceError> {
    let now = Utc::now();
    Ok(db::for_session(db, session)
        .await?
        .filter(|q| q.takes_answers_at(now))
        .map(|q| q.id))
}

pub async fn settings(
    db: &impl ConnectionTrait,
    session: i64,
) -> Result<(QuizSettings, Option<QuizRecord>), ServiceError> {
    let q = db::for_session(db, session).await?;
    Ok((q.as_ref().map(|q| q.settings.clone()).unwrap_or_default(), q))
}

/// Saves settings after checking them against the questions available now.
#[tracing::instrument(skip_all, fields(session))]
pub async fn save_settings(db: &impl ConnectionTrait, session: i64, s: &QuizSettings) -> Result<(), ServiceError> {
    if let Some(q) = db::for_session(db, session).await?
        && q.status != QuizStatus::Draft
    {
        return Err(ServiceError::refused(
            "测试已经开始，不能再修改设置",
            "the quiz has started; its settings are fixed",
        ));
    }
    let pools = pools(db).await?;
    let problems = s.check(&|topic| pools.get(topic).map(|p| p.len() as u32).unwrap_or(0));
    if !problems.is_empty() {
        return Err(ServiceError::Rejected(problems.into()));
    }
    db::save_settings(db, session, s).await?;
    Ok(())
}

fn seed_for(quiz: i64, person: i64, number: i32) -> u64 {
    // Reproducible per attempt, different between chairs and attempts; mixed by the PRNG itself.
    (quiz as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (person as u64).rotate_left(21)
        ^ (number as u64).rotate_left(42)
        ^ rand::random::<u32>() as u64
}

fn new_attempt(
    quiz: &QuizRecord,
    pools: &HashMap<String, Vec<Candidate>>,
    person: i64,
    number: i32,
    now: DateTime<Utc>,
) -> Result<NewAttempt, ServiceError> {
    let seed = seed_for(quiz.id, person, number);
    let items = draw(
        &quiz.settings.blueprint,
        &|t| pools.get(t).cloned().unwrap_or_default(),
        seed,
    )
    .map_err(ServiceError::Refused)?;
    let limit = now + Duration::minutes(i64::from(quiz.settings.time_limit_minutes));
    let deadline = quiz.closes_at.map(|c| c.min(limit)).unwrap_or(limit);
    Ok(NewAttempt {
        person_id: person,
        number,
        seed,
        deadline,
        items,
    })
}

#[derive(Debug, Default)]
pub struct Opened {
    pub quiz_id: i64,
    pub attempts_created: usize,
    /// Present chairs below the attendance gate.
    pub below_gate: Vec<i64>,
}

/// Opens the quiz from the room: attempts for every present chair who meets the attendance gate are
/// created up front in one transaction, so hundreds of chairs starting together cost almost nothing.
#[tracing::instrument(skip_all, fields(session = session_id, present = present_chairs.len()))]
pub async fn open(db: &DatabaseConnection, session_id: i64, present_chairs: &[i64]) -> Result<Opened, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let session = training::get(&txn, session_id).await?.ok_or(ServiceError::NotFound)?;
    if session.status != SessionStatus::Live && session.status != SessionStatus::Ended {
        return Err(ServiceError::refused(
            "培训开始后才能开始随堂测试",
            "start the session before the quiz",
        ));
    }
    let quiz = db::for_session(&txn, session_id)
        .await?
        .ok_or_else(|| ServiceError::refused("请先设置随堂测试", "set up the quiz first"))?;
    let pools = pools(&txn).await?;
    let problems = quiz
        .settings
        .check(&|t| pools.get(t).map(|p| p.len() as u32).unwrap_or(0));
    if let Some((_, p)) = problems.into_iter().next() {
        return Err(ServiceError::Refused(p));
    }
    let now = Utc::now();
    let s = quiz.settings.clone();
    let closes_at = now + Duration::minutes(s.open_minutes());
    if !db::open(&txn, quiz.id, now, closes_at).await? {
        return Err(ServiceError::refused(
            "随堂测试已经开始过了",
            "the quiz has already been opened",
        ));
    }
    let quiz = QuizRecord {
        status: QuizStatus::Open,
        opened_at: Some(now),
        closes_at: Some(closes_at),
        ..quiz
    };
    let mut list = Vec::new();
    let mut below_gate = Vec::new();
    let attendance = Attendance::of(&txn, &session, Some(&quiz), now).await?;
    for person in present_chairs.iter().copied().collect::<BTreeSet<i64>>() {
        if !attendance.meets(person, s.attendance_gate) {
            below_gate.push(person);
            continue;
        }
        list.push(new_attempt(&quiz, &pools, person, 1, now)?);
    }
    let created = db::insert_attempts(&txn, quiz.id, list).await?.len();
    txn.commit().await?;
    tracing::info!(
        session = session_id,
        quiz = quiz.id,
        created,
        below_gate = below_gate.len(),
        "quiz opened"
    );
    Ok(Opened {
        quiz_id: quiz.id,
        attempts_created: created,
        below_gate,
    })
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
}

/// What a chair finds when opening the quiz link. Deciding it never changes anything: opening a link
/// again (a reload, a chat-app preview, the room's push) must not start a timed attempt.
#[derive(Debug, Clone)]
pub enum Entry {
    /// An attempt is open: go on with it.
    Attempt(i64),
    /// She may start attempt `number` (a POST behind 开始答题 starts it); `counting` is her result so
    /// far, if she has one.
    Ready {
        number: i32,
        counting: Option<i64>,
        questions: u32,
        minutes: u32,
        attempts_allowed: u32,
    },
    /// Her attempt that counts (`counting_attempt`), with why no new one starts.
    Finished {
        attempt: i64,
        blocked: Blocked,
    },
    Blocked(Blocked),
}

/// Decides the entry from what is stored, without writing.
async fn decide(
    db: &impl ConnectionTrait,
    quiz: &QuizRecord,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<Entry, ServiceError> {
    let session = training::get(db, quiz.session_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let person = user.person.id;
    if !user
        .person
        .committee_id
        .is_some_and(|c| session.committees.contains(&c))
    {
        return Ok(Entry::Blocked(Blocked::NotInvited));
    }
    let mine = db::attempts_of(db, quiz.id, person).await?;
    if let Some(a) = mine.iter().find(|a| a.status == AttemptStatus::Open) {
        return Ok(Entry::Attempt(a.id));
    }
    let finished = |blocked: Blocked| match counting_attempt(&mine) {
        Some(a) => Entry::Finished { attempt: a.id, blocked },
        None => Entry::Blocked(blocked),
    };
    if mine.iter().any(|a| a.passed == Some(true)) {
        return Ok(finished(Blocked::Passed));
    }
    match quiz.status {
        QuizStatus::Draft => return Ok(finished(Blocked::NotOpen)),
        QuizStatus::Closed => return Ok(finished(Blocked::Closed)),
        QuizStatus::Open if !quiz.takes_answers_at(now) => return Ok(finished(Blocked::Closed)),
        QuizStatus::Open => {}
    }
    if mine.len() as u32 >= quiz.settings.attempts_allowed {
        return Ok(finished(Blocked::NoAttemptsLeft));
    }
    if let Some(last) = mine.last()
        && let Some(at) = last.submitted_at
    {
        let until = at + Duration::minutes(i64::from(quiz.settings.retake_wait_minutes));
        if until > now {
            return Ok(finished(Blocked::RetakeWait { until }));
        }
    }
    let attendance = Attendance::of(db, &session, Some(quiz), now).await?;
    if !attendance.meets(person, quiz.settings.attendance_gate) {
        return Ok(finished(Blocked::BelowGate {
            minutes: attendance.minutes(person),
            share: attendance.share(person),
            required: quiz.settings.attendance_gate,
        }));
    }
    Ok(Entry::Ready {
        number: mine.len() as i32 + 1,
        counting: counting_attempt(&mine).map(|a| a.id),
        questions: quiz.settings.total(),
        minutes: quiz.settings.time_limit_minutes,
        attempts_allowed: quiz.settings.attempts_allowed,
    })
}

/// What the quiz link shows this chair now (read only).
pub async fn entry(db: &impl ConnectionTrait, quiz_id: i64, user: &CurrentUser) -> Result<Entry, ServiceError> {
    let quiz = db::get(db, quiz_id).await?.ok_or(ServiceError::NotFound)?;
    decide(db, &quiz, user, Utc::now()).await
}

/// Starts an attempt if the chair may (开始答题); otherwise says why not, as `entry` would. Two taps at
/// once start one attempt.
#[tracing::instrument(skip_all, fields(quiz = quiz_id, person = user.person.id))]
pub async fn start(db: &DatabaseConnection, quiz_id: i64, user: &CurrentUser) -> Result<Entry, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let quiz = db::get(&txn, quiz_id).await?.ok_or(ServiceError::NotFound)?;
    let now = Utc::now();
    let number = match decide(&txn, &quiz, user, now).await? {
        Entry::Ready { number, .. } => number,
        other => return Ok(other),
    };
    let pools = pools(&txn).await?;
    let a = new_attempt(&quiz, &pools, user.person.id, number, now)?;
    let id = match db::insert_attempts(&txn, quiz.id, vec![a]).await {
        Ok(ids) => ids[0],
        // Two taps at once: the other request created it.
        Err(e) if crate::db::is_unique_violation(&e) => {
            drop(txn);
            return entry(db, quiz_id, user).await;
        }
        Err(e) => return Err(e.into()),
    };
    db::mark_started(&txn, id, now).await?;
    txn.commit().await?;
    Ok(Entry::Attempt(id))
}

/// The one rule for which of a chair's attempts counts, used by her quiz page, the session report,
/// its exports, the dashboard and certificates: a pass is kept a pass (the first passing attempt,
/// the one her certificate was issued with); otherwise the best submitted score (the later on a tie);
/// with nothing submitted, the latest attempt.
pub fn counting_attempt<'a, I>(attempts: I) -> Option<&'a AttemptRecord>
where
    I: IntoIterator<Item = &'a AttemptRecord>,
{
    let rank = |a: &AttemptRecord| {
        let submitted = a.status == AttemptStatus::Submitted;
        let passed = a.passed == Some(true);
        let score = if submitted && a.total > 0 {
            // Compared as a fraction scaled to integers (attempts of one quiz share a total, but be safe).
            i64::from(a.correct.unwrap_or(0)) * 1_000_000 / i64::from(a.total)
        } else {
            -1
        };
        // Among passes the first counts, whatever it scored; otherwise the best, the later of equals.
        if passed {
            (submitted, passed, -i64::from(a.number), 0)
        } else {
            (submitted, passed, score, i64::from(a.number))
        }
    };
    attempts.into_iter().max_by_key(|a| rank(a))
}

/// One question as shown to the chair, options in the attempt's order.
#[derive(Debug, Clone)]
pub struct ShownItem {
    pub position: i32,
    pub version: QuestionVersion,
    /// (shown index, option text)
    pub options: Vec<String>,
    /// The chair's answer in shown indices (or the truth value).
    pub chosen: Option<Given>,
    pub correct: Option<bool>,
    pub order: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct AttemptView {
    pub attempt: AttemptRecord,
    pub quiz: QuizRecord,
    pub session_title: String,
    pub items: Vec<ShownItem>,
}

fn to_shown(given: &Given, order: &[usize]) -> Given {
    match given {
        Given::Truth(t) => Given::Truth(*t),
        Given::Choices(c) => Given::Choices(
            c.iter()
                .filter_map(|orig| order.iter().position(|o| o == orig))
                .collect(),
        ),
    }
}

fn owned(attempt: &AttemptRecord, user: &CurrentUser) -> Result<(), ServiceError> {
    if attempt.person_id != user.person.id {
        tracing::warn!(
            attempt = attempt.id,
            person = user.person.id,
            "refused: someone else's attempt"
        );
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

async fn load_view(db: &impl ConnectionTrait, attempt: AttemptRecord) -> Result<AttemptView, ServiceError> {
    let quiz = db::get(db, attempt.quiz_id).await?.ok_or(ServiceError::NotFound)?;
    let session_title = training::get(db, quiz.session_id)
        .await?
        .map(|s| s.title)
        .unwrap_or_default();
    let items: Vec<ItemRecord> = db::items(db, attempt.id).await?;
    let versions: HashMap<i64, QuestionVersion> =
        banks::versions(db, &items.iter().map(|i| i.version_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
    let mut shown = Vec::with_capacity(items.len());
    for it in items {
        let version = versions.get(&it.version_id).cloned().ok_or(ServiceError::NotFound)?;
        let options = it
            .order
            .iter()
            .filter_map(|i| version.content.options.get(*i).cloned())
            .collect();
        shown.push(ShownItem {
            position: it.position,
            options,
            chosen: it.answer.as_ref().map(|g| to_shown(g, &it.order)),
            correct: it.correct,
            order: it.order,
            version,
        });
    }
    Ok(AttemptView {
        attempt,
        quiz,
        session_title,
        items: shown,
    })
}

/// The chair's attempt (submitting it first if its deadline has passed).
pub async fn view(db: &DatabaseConnection, attempt_id: i64, user: &CurrentUser) -> Result<AttemptView, ServiceError> {
    let a = db::attempt(db, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    owned(&a, user)?;
    let now = Utc::now();
    if a.status == AttemptStatus::Open && a.deadline + GRACE < now {
        submit_attempt(db, attempt_id, "deadline").await?;
    } else if a.started_at.is_none() {
        db::mark_started(db, attempt_id, now).await?;
    }
    let a = db::attempt(db, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    load_view(db, a).await
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
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

impl Refused {
    pub fn text(&self) -> Text {
        match self {
            Refused::AfterDeadline => Text::new(
                "答题时间已到，这个答案没有保存。",
                "Time is up: this answer was not saved.",
            ),
            Refused::Submitted => Text::new(
                "答卷已经提交，不能再修改。",
                "The attempt was submitted; it cannot change.",
            ),
            Refused::NotInAttempt(_) => Text::new("这道题不在您的答卷中。", "That question is not in your attempt."),
            Refused::NotAnOption => Text::new(
                "所选的选项不属于这道题。",
                "That option does not belong to the question.",
            ),
            Refused::WrongShape => Text::new(
                "答案格式不对（单选题只能选一个）。",
                "That answer does not fit the question (single choice takes one option).",
            ),
        }
    }
}

/// Saves one answer. `shown` is in the attempt's option order. Committed before returning `Ok`.
#[tracing::instrument(skip_all, fields(attempt = attempt_id, position))]
pub async fn save_answer(
    db: &DatabaseConnection,
    attempt_id: i64,
    user: &CurrentUser,
    position: i32,
    shown: Given,
) -> Result<Result<(), Refused>, ServiceError> {
    let a = db::attempt(db, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    owned(&a, user)?;
    let refuse = |r: Refused| {
        tracing::warn!(attempt = attempt_id, position, reason = %r, "answer refused");
        Ok(Err(r))
    };
    if a.status == AttemptStatus::Submitted {
        return refuse(Refused::Submitted);
    }
    let now = Utc::now();
    if a.deadline + GRACE < now {
        return refuse(Refused::AfterDeadline);
    }
    let items = db::items(db, attempt_id).await?;
    let Some(item) = items.iter().find(|i| i.position == position) else {
        return refuse(Refused::NotInAttempt(position));
    };
    let given = match shown {
        Given::Truth(t) => Given::Truth(t),
        Given::Choices(c) => {
            let mapped: Option<BTreeSet<usize>> = c.iter().map(|s| item.order.get(*s).copied()).collect();
            match mapped {
                Some(m) => Given::Choices(m),
                None => return refuse(Refused::NotAnOption),
            }
        }
    };
    let version = banks::versions(db, &[item.version_id])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    match check_given(&version.content, &given) {
        Ok(()) => {}
        Err(AnswerProblem::NotAnOption) => return refuse(Refused::NotAnOption),
        Err(_) => return refuse(Refused::WrongShape),
    }
    if db::save_answer(db, attempt_id, position, &given, now, now - GRACE).await? {
        Ok(Ok(()))
    } else {
        // Lost a race with the deadline or a submission.
        let a = db::attempt(db, attempt_id).await?.ok_or(ServiceError::NotFound)?;
        refuse(if a.status == AttemptStatus::Submitted {
            Refused::Submitted
        } else {
            Refused::AfterDeadline
        })
    }
}

/// Grades and closes an attempt; harmless if it was already submitted. Returns whether this call
/// submitted it.
#[tracing::instrument(skip_all, fields(attempt = attempt_id, by))]
pub async fn submit_attempt(db: &DatabaseConnection, attempt_id: i64, by: &str) -> Result<bool, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let a = db::attempt(&txn, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    if a.status == AttemptStatus::Submitted {
        return Ok(false);
    }
    let quiz = db::get(&txn, a.quiz_id).await?.ok_or(ServiceError::NotFound)?;
    let items = db::items(&txn, attempt_id).await?;
    let versions: HashMap<i64, QuestionVersion> =
        banks::versions(&txn, &items.iter().map(|i| i.version_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
    let results: Vec<(i32, bool)> = items
        .iter()
        .map(|i| {
            (
                i.position,
                versions
                    .get(&i.version_id)
                    .is_some_and(|v| is_correct(&v.content, i.answer.as_ref())),
            )
        })
        .collect();
    let score = Score {
        correct: results.iter().filter(|(_, ok)| *ok).count() as u32,
        total: items.len() as u32,
    };
    let passed = score.passes(quiz.settings.pass_mark);
    let done = db::finish(&txn, attempt_id, by, score.correct as i32, passed, &results, Utc::now()).await?;
    if done {
        // The certificate and its email job are written with the result, or not at all.
        let graded = db::attempt(&txn, attempt_id).await?.ok_or(ServiceError::NotFound)?;
        super::certificates::issue_in(&txn, &graded).await?;
    }
    txn.commit().await?;
    if done {
        tracing::info!(
            attempt = attempt_id,
            by,
            correct = score.correct,
            total = score.total,
            passed,
            "attempt submitted"
        );
    }
    Ok(done)
}

#[tracing::instrument(skip_all, fields(attempt = attempt_id))]
pub async fn submit_mine(db: &DatabaseConnection, attempt_id: i64, user: &CurrentUser) -> Result<(), ServiceError> {
    let a = db::attempt(db, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    owned(&a, user)?;
    submit_attempt(db, attempt_id, "chair").await?;
    Ok(())
}

/// Submits every attempt past its deadline (and grace) and closes quizzes past their closing time.
/// One step of the background loop; tests call it directly.
pub async fn submit_due(db: &DatabaseConnection) -> Result<usize, ServiceError> {
    let now = Utc::now();
    let mut n = 0;
    for id in db::overdue(db, now - GRACE).await? {
        if submit_attempt(db, id, "deadline").await? {
            n += 1;
        }
    }
    // The announced grace holds for every attempt, also those whose deadline is the quiz's closing
    // time (every attempt of a single-attempt quiz): the quiz closes only once the grace has passed.
    for quiz in db::due_to_close(db, now - GRACE).await? {
        n += close_quiz(db, quiz).await?;
    }
    Ok(n)
}

/// Closes a quiz (moderator, or its time ran out) and submits its open attempts.
///
/// Open attempts end now, but like every deadline this one has the grace: answers already on their way
/// are still taken, and attempts still inside it are submitted by the deadline job a few seconds later.
#[tracing::instrument(skip_all, fields(quiz = quiz_id))]
pub async fn close_quiz(db: &DatabaseConnection, quiz_id: i64) -> Result<usize, ServiceError> {
    let now = Utc::now();
    db::close(db, quiz_id, now).await?;
    db::end_open_attempts_by(db, quiz_id, now).await?;
    let mut n = 0;
    for id in db::open_attempts_of_quiz(db, quiz_id).await? {
        let past_grace = db::attempt(db, id).await?.is_some_and(|a| a.deadline + GRACE < now);
        if past_grace && submit_attempt(db, id, "closed").await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Whether the chair may see answers and explanations now.
pub fn may_reveal(view: &AttemptView) -> bool {
    view.attempt.status == AttemptStatus::Submitted
        && (view.quiz.settings.reveal == Reveal::AfterSubmit || view.quiz.status == QuizStatus::Closed)
}

/// The moderator's live counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counter {
    pub present: usize,
    pub started: u64,
    pub submitted: u64,
    pub passed: u64,
}

pub async fn counter(db: &impl ConnectionTrait, quiz_id: i64, present: usize) -> Result<Counter, ServiceError> {
    let (started, submitted, passed) = db::counts(db, quiz_id).await?;
    Ok(Counter {
        present,
        started,
        submitted,
        passed,
    })
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
}
