//! The in-class quiz: settings, opening and closing it from the room, attempts, answers, grading and
//! results. The rules (states, deadline and grace, the entry decision, grading) are in
//! `domain::attempt`; this module reads and writes them.
//!
//! Integrity rules: an answer is acknowledged only after it is committed; answers after the deadline
//! (plus a short grace for answers in flight), to a question not in the attempt, or with an option not
//! in the question are refused and logged; a chair can only read and change their own attempt;
//! submitting twice is harmless; at the deadline the server submits what was saved. Reading changes
//! nothing: an overdue attempt reads as finished until the deadline job submits it.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::{Moderates, SessionAccess};
use super::accounts::CurrentUser;
use super::attendance::Attendance;
use super::banks::CitedArticle;
use super::certificates::EmailStatus;
use super::live_room::LiveRoom;
use crate::db::quiz::{self as db, NewAttempt};
use crate::db::{banks, sessions as sessions_db};
use crate::domain::attempt::{
    AnswerRefused, AttemptRecord, AttemptState, AttemptStatus, Decision, Graded, ItemRecord, MakeupWindow,
    PassedAttempt, SubmittedBy, decide, from_shown, grade, to_shown,
};
use crate::domain::audit::Action;
use crate::domain::bank::{QuestionStatus, QuestionVersion};
use crate::domain::quiz::{
    AnswerProblem, Candidate, Given, QuizRecord, QuizSettings, check_given, distinct_rules, draw,
};
use crate::domain::session::{RoomRole, SessionRecord, SessionStatus};

pub use crate::domain::attempt::{Blocked, Entry, GRACE, Ready, counting_attempt};

/// Drawable questions per topic: active questions of banks that are in use.
pub async fn pools(db: &impl ConnectionTrait) -> Result<HashMap<String, Vec<Candidate>>, ServiceError> {
    let topics: HashMap<i64, String> = banks::banks(db)
        .await?
        .into_iter()
        .filter(|b| !b.retired)
        .map(|b| (b.id, b.topic))
        .collect();
    let mut out: HashMap<String, Vec<Candidate>> = HashMap::new();
    for q in banks::questions_with_status(db, QuestionStatus::Active).await? {
        // Only the approved version is drawn; a question without one (new, awaiting its first
        // approval) is not.
        if let (Some(topic), Some(v)) = (topics.get(&q.bank_id), &q.approved) {
            let rule = v.content.rule_key();
            out.entry(topic.clone()).or_default().push(Candidate {
                question_id: q.id,
                version_id: v.id,
                options: v.content.options.len(),
                // A question citing nothing (none is valid, but be safe) is a rule of its own.
                rule: if rule.is_empty() {
                    format!("question-{}", q.id)
                } else {
                    rule
                },
            });
        }
    }
    Ok(out)
}

fn available(pools: &HashMap<String, Vec<Candidate>>) -> impl Fn(&str) -> u32 + '_ {
    |topic| pools.get(topic).map_or(0, |p| distinct_rules(p) as u32)
}

/// The session's quiz when chairs can enter it now (for the room page's link).
pub async fn open_now(db: &impl ConnectionTrait, session: i64) -> Result<Option<i64>, ServiceError> {
    let now = Utc::now();
    Ok(db::for_session(db, session)
        .await?
        .filter(|q| q.takes_answers_at(now))
        .map(|q| q.id))
}

/// The quiz settings page, for the session's moderators and lecturers.
pub struct SettingsPage {
    pub session: SessionRecord,
    /// The saved settings, or the defaults.
    pub stored: QuizSettings,
    pub quiz: Option<QuizRecord>,
    /// (topic, drawable questions), by topic.
    pub topics: Vec<(String, usize)>,
    pub counter: Option<Counter>,
    /// Moderators open and close the quiz; lecturers only set it up.
    pub moderator: bool,
}

pub async fn settings_page(
    db: &impl ConnectionTrait,
    access: SessionAccess,
    room: &impl LiveRoom,
) -> Result<SettingsPage, ServiceError> {
    let access = access.staff()?;
    let session = access.session().clone();
    let quiz = db::for_session(db, session.id).await?;
    let mut topics: Vec<(String, usize)> = pools(db)
        .await?
        .into_iter()
        .map(|(t, p)| (t, distinct_rules(&p)))
        .collect();
    topics.sort();
    let counter = match &quiz {
        // A node that does not answer now only leaves the count at zero on this page.
        Some(q) => {
            let present = room.present_chairs(session.id).await.map(|p| p.len()).unwrap_or(0);
            Some(counter(db, q.id, present).await?)
        }
        None => None,
    };
    Ok(SettingsPage {
        stored: quiz.as_ref().map(|q| q.settings.clone()).unwrap_or_default(),
        quiz,
        topics,
        counter,
        moderator: access.role() == RoomRole::Moderator,
        session,
    })
}

/// Saves settings after checking them against the questions available now.
#[tracing::instrument(skip_all, fields(session))]
pub async fn save_settings(db: &impl ConnectionTrait, session: i64, s: &QuizSettings) -> Result<(), ServiceError> {
    if db::for_session(db, session).await?.is_some_and(|q| !q.editable()) {
        return Err(ServiceError::refused(
            "测试已经开始，不能再修改设置",
            "the quiz has started; its settings are fixed",
        ));
    }
    let pools = pools(db).await?;
    let problems = s.check(&available(&pools));
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
    makeup: Option<MakeupWindow>,
    now: DateTime<Utc>,
) -> Result<NewAttempt, ServiceError> {
    let seed = seed_for(quiz.id, person, number);
    let items = draw(
        &quiz.settings.blueprint,
        &|t| pools.get(t).cloned().unwrap_or_default(),
        seed,
    )
    .map_err(ServiceError::Refused)?;
    Ok(NewAttempt {
        person_id: person,
        number,
        seed,
        // A make-up attempt has the quiz's time limit, and ends with the window at the latest.
        deadline: match makeup {
            Some(w) => (now + chrono::Duration::minutes(i64::from(quiz.settings.time_limit_minutes))).min(w.until),
            None => quiz.attempt_deadline(now),
        },
        items,
        makeup: makeup.is_some(),
    })
}

#[derive(Debug, Default)]
pub struct Opened {
    pub quiz_id: i64,
    pub attempts_created: usize,
    /// Present chairs below the attendance gate.
    pub below_gate: Vec<i64>,
}

/// Opens the quiz for the chairs in the room now, then tells the room. Attempts for every present chair
/// who meets the attendance gate are created up front in one transaction, so hundreds of chairs
/// starting together cost almost nothing.
#[tracing::instrument(skip_all, fields(session = who.session().id))]
pub async fn open(db: &DatabaseConnection, who: &Moderates, room: &impl LiveRoom) -> Result<Opened, ServiceError> {
    let session = who.session().id;
    let present = room.present_chairs(session).await?;
    let opened = open_for(db, session, &present, &who.actor()).await?;
    room.quiz_opened(session, opened.quiz_id).await;
    Ok(opened)
}

async fn open_for(
    db: &DatabaseConnection,
    session_id: i64,
    present: &[i64],
    by: &super::audit::Actor,
) -> Result<Opened, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let (session, quiz, pools) = openable(&txn, session_id).await?;
    let now = Utc::now();
    let quiz = quiz.opened(now);
    if !db::open(&txn, quiz.id, now, quiz.closes_at.unwrap_or(now)).await? {
        return Err(ServiceError::refused(
            "随堂测试已经开始过了",
            "the quiz has already been opened",
        ));
    }
    let attendance = Attendance::of(&txn, &session, Some(&quiz), now).await?;
    let (list, below_gate) = first_attempts(&quiz, &pools, &attendance, present, now)?;
    let created = db::insert_attempts(&txn, quiz.id, list).await?.len();
    let below = below_gate.len();
    let summary = format!(
        "在场 {} 人，生成 {created} 份答卷，{below} 人未达出勤要求",
        present.len()
    );
    super::audit::record_in(&txn, by, Action::QuizOpen, format!("session:{session_id}"), summary).await?;
    txn.commit().await?;
    tracing::info!(
        session = session_id,
        quiz = quiz.id,
        created,
        below_gate = below,
        "quiz opened"
    );
    Ok(Opened {
        quiz_id: quiz.id,
        attempts_created: created,
        below_gate,
    })
}

/// The first attempts of the present chairs who meet the attendance gate, and those below it.
fn first_attempts(
    quiz: &QuizRecord,
    pools: &HashMap<String, Vec<Candidate>>,
    attendance: &Attendance,
    present: &[i64],
    now: DateTime<Utc>,
) -> Result<(Vec<NewAttempt>, Vec<i64>), ServiceError> {
    let mut list = Vec::new();
    let mut below_gate = Vec::new();
    for person in present.iter().copied().collect::<BTreeSet<i64>>() {
        if attendance.meets(person, quiz.settings.attendance_gate) {
            list.push(new_attempt(quiz, pools, person, 1, None, now)?);
        } else {
            below_gate.push(person);
        }
    }
    Ok((list, below_gate))
}

/// The session, its quiz and the question pools, if the quiz may open: the session has started, the
/// quiz is set up, and its blueprint can still be drawn.
async fn openable(
    db: &impl ConnectionTrait,
    session_id: i64,
) -> Result<(SessionRecord, QuizRecord, HashMap<String, Vec<Candidate>>), ServiceError> {
    let session = sessions_db::get(db, session_id).await?.ok_or(ServiceError::NotFound)?;
    if !matches!(session.status, SessionStatus::Live | SessionStatus::Ended) {
        return Err(ServiceError::refused(
            "培训开始后才能开始随堂测试",
            "start the session before the quiz",
        ));
    }
    let quiz = db::for_session(db, session_id)
        .await?
        .ok_or_else(|| ServiceError::refused("请先设置随堂测试", "set up the quiz first"))?;
    let pools = pools(db).await?;
    if let Some((_, p)) = quiz.settings.check(&available(&pools)).into_iter().next() {
        return Err(ServiceError::Refused(p));
    }
    Ok((session, quiz, pools))
}

/// The moderator closes the quiz: open attempts are submitted (see `close_by_id`), and the room is told.
#[tracing::instrument(skip_all, fields(session = who.session().id))]
pub async fn close(db: &DatabaseConnection, who: &Moderates, room: &impl LiveRoom) -> Result<usize, ServiceError> {
    let session = who.session().id;
    let quiz = db::for_session(db, session).await?.ok_or(ServiceError::NotFound)?;
    let n = close_by_id(db, quiz.id).await?;
    let summary = format!("结束随堂测试，代交 {n} 份答卷");
    super::audit::record(
        db,
        &who.actor(),
        Action::QuizClose,
        format!("session:{session}"),
        summary,
    )
    .await?;
    room.quiz_closed(session, quiz.id).await;
    Ok(n)
}

/// What a chair's quiz link decides for her now, from what is stored (never writing).
async fn decide_entry(
    db: &impl ConnectionTrait,
    quiz: &QuizRecord,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<Entry, ServiceError> {
    let session = sessions_db::get(db, quiz.session_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let person = user.person.id;
    let invited = session.invites(user.person.committee_id);
    let mine = if invited {
        db::attempts_of(db, quiz.id, person).await?
    } else {
        Vec::new()
    };
    let makeup = MakeupWindow::of(session.ended_at, session.makeup_until);
    Ok(match decide(quiz, invited, &mine, makeup, now) {
        Decision::Final(e) => e,
        pending => {
            let attendance = Attendance::of_person(db, &session, Some(quiz), person, now).await?;
            pending.with_presence(quiz, &mine, attendance.presence(person, quiz.settings.attendance_gate))
        }
    })
}

/// What the quiz link shows this chair now (read only).
pub async fn entry(db: &impl ConnectionTrait, quiz_id: i64, user: &CurrentUser) -> Result<Entry, ServiceError> {
    let quiz = db::get(db, quiz_id).await?.ok_or(ServiceError::NotFound)?;
    decide_entry(db, &quiz, user, Utc::now()).await
}

/// Starts an attempt if the chair may (开始答题); otherwise says why not, as `entry` would. Two taps at
/// once start one attempt.
#[tracing::instrument(skip_all, fields(quiz = quiz_id, person = user.person.id))]
pub async fn start(db: &DatabaseConnection, quiz_id: i64, user: &CurrentUser) -> Result<Entry, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let quiz = db::get(&txn, quiz_id).await?.ok_or(ServiceError::NotFound)?;
    let now = Utc::now();
    let ready = match decide_entry(&txn, &quiz, user, now).await? {
        Entry::Ready(r) => r,
        other => return Ok(other),
    };
    let makeup = match ready.makeup {
        true => {
            let session = sessions_db::get(&txn, quiz.session_id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            MakeupWindow::of(session.ended_at, session.makeup_until)
        }
        false => None,
    };
    let pools = pools(&txn).await?;
    let a = new_attempt(&quiz, &pools, user.person.id, ready.number, makeup, now)?;
    let id = match db::insert_attempts(&txn, quiz.id, vec![a]).await {
        Ok(ids) => ids.first().copied().ok_or(ServiceError::NotFound)?,
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

/// One question as shown to the chair, options in the attempt's order.
#[derive(Debug, Clone)]
pub struct ShownItem {
    pub position: i32,
    pub version: QuestionVersion,
    pub options: Vec<String>,
    /// The chair's answer in shown indices (or the truth value).
    pub chosen: Option<Given>,
    pub correct: Option<bool>,
    pub order: Vec<usize>,
}

/// A chair's attempt as it reads now.
#[derive(Debug, Clone)]
pub struct AttemptView {
    /// As read: an overdue attempt carries the grade the deadline job will record.
    pub attempt: AttemptRecord,
    pub state: AttemptState,
    pub quiz: QuizRecord,
    pub session_title: String,
    pub items: Vec<ShownItem>,
    /// What became of the certificate; read for the result page only.
    pub certificate: Option<CertificateNote>,
}

/// What the result page says about the certificate of the attempt's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateNote {
    /// Her certificate of this session (issued with this attempt or an earlier passing one), and how
    /// its email went.
    Issued { id: i64, revoked: bool, email: EmailStatus },
    /// Passed as read but not recorded yet: the deadline job records it within seconds and issues the
    /// certificate then.
    BeingRecorded,
    /// Recorded as passed, yet no certificate (issuing is part of recording a pass, so this should
    /// not happen): she is told to ask her street office.
    Missing,
    /// Not passed and no certificate from another attempt; `retake` when she may try again now.
    NotPassed { retake: Option<Retake> },
}

/// A new attempt she may start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retake {
    pub quiz_id: i64,
    pub attempts_left: u32,
}

impl AttemptView {
    pub fn accepts_answers(&self) -> bool {
        self.state == AttemptState::Open
    }
}

/// The attempt page: the questions while it is open, otherwise the result (with answers, explanations
/// and the cited articles when they may be revealed).
pub enum AttemptPage {
    Questions(AttemptView),
    Result {
        view: AttemptView,
        reveal: bool,
        /// Per item, when revealed.
        articles: Vec<Vec<CitedArticle>>,
    },
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

async fn mine(db: &impl ConnectionTrait, attempt_id: i64, user: &CurrentUser) -> Result<AttemptRecord, ServiceError> {
    let a = db::attempt(db, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    owned(&a, user)?;
    Ok(a)
}

async fn versions_of(
    db: &impl ConnectionTrait,
    items: &[ItemRecord],
) -> Result<HashMap<i64, QuestionVersion>, ServiceError> {
    Ok(
        banks::versions(db, &items.iter().map(|i| i.version_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect(),
    )
}

fn graded(items: &[ItemRecord], versions: &HashMap<i64, QuestionVersion>, pass_mark: u32) -> Graded {
    grade(items, |v| versions.get(&v).map(|x| &x.content), pass_mark)
}

fn shown_item(it: ItemRecord, versions: &HashMap<i64, QuestionVersion>, g: Option<&Graded>) -> Option<ShownItem> {
    let version = versions.get(&it.version_id)?.clone();
    let options = it
        .order
        .iter()
        .filter_map(|i| version.content.options.get(*i).cloned())
        .collect();
    let graded = g.and_then(|g| g.items.iter().find(|(p, _)| *p == it.position).map(|(_, ok)| *ok));
    Some(ShownItem {
        position: it.position,
        options,
        chosen: it.answer.as_ref().map(|a| to_shown(a, &it.order)),
        correct: graded.or(it.correct),
        order: it.order,
        version,
    })
}

async fn load_view(db: &impl ConnectionTrait, attempt: AttemptRecord) -> Result<AttemptView, ServiceError> {
    let now = Utc::now();
    let quiz = db::get(db, attempt.quiz_id).await?.ok_or(ServiceError::NotFound)?;
    let session_title = sessions_db::get(db, quiz.session_id)
        .await?
        .map(|s| s.title)
        .unwrap_or_default();
    let items = db::items(db, attempt.id).await?;
    let versions = versions_of(db, &items).await?;
    let state = attempt.state_at(now);
    let g = (state == AttemptState::Overdue).then(|| graded(&items, &versions, quiz.settings.pass_mark));
    let attempt = match &g {
        Some(g) => attempt.as_read(now, g),
        None => attempt,
    };
    let items = items
        .into_iter()
        .map(|it| shown_item(it, &versions, g.as_ref()).ok_or(ServiceError::NotFound))
        .collect::<Result<_, _>>()?;
    Ok(AttemptView {
        attempt,
        state,
        quiz,
        session_title,
        items,
        certificate: None,
    })
}

/// The chair's attempt as it reads now. Never writes: an attempt past its deadline reads as finished.
pub async fn view(db: &impl ConnectionTrait, attempt_id: i64, user: &CurrentUser) -> Result<AttemptView, ServiceError> {
    load_view(db, mine(db, attempt_id, user).await?).await
}

pub async fn attempt_page(
    db: &impl ConnectionTrait,
    attempt_id: i64,
    user: &CurrentUser,
) -> Result<AttemptPage, ServiceError> {
    let mut view = view(db, attempt_id, user).await?;
    if view.accepts_answers() {
        return Ok(AttemptPage::Questions(view));
    }
    view.certificate = Some(certificate_note(db, &view).await?);
    let reveal = view.attempt.may_reveal(&view.quiz, Utc::now());
    let mut articles = Vec::new();
    if reveal {
        for item in &view.items {
            articles.push(super::banks::cited_articles(db, &item.version).await?);
        }
    }
    Ok(AttemptPage::Result { view, reveal, articles })
}

/// Whether a certificate was issued for the attempt's session, and where; if not, why and what next.
async fn certificate_note(db: &impl ConnectionTrait, v: &AttemptView) -> Result<CertificateNote, ServiceError> {
    let a = &v.attempt;
    let certs = crate::db::certificates::for_person_in_session(db, a.person_id, v.quiz.session_id).await?;
    if let Some(c) = certs.iter().find(|c| c.revoked_at.is_none()).or(certs.first()) {
        let jobs = crate::db::certificates::jobs_for_certificates(db, &[c.id]).await?;
        return Ok(CertificateNote::Issued {
            id: c.id,
            revoked: c.revoked_at.is_some(),
            email: super::certificates::status_of(jobs.last()),
        });
    }
    Ok(match (a.passed == Some(true), a.status) {
        (true, AttemptStatus::Open) => CertificateNote::BeingRecorded,
        (true, AttemptStatus::Submitted) => CertificateNote::Missing,
        (false, _) => {
            let now = Utc::now();
            let used = db::attempts_of(db, v.quiz.id, a.person_id).await?.len() as u32;
            let left = v.quiz.settings.attempts_allowed.saturating_sub(used);
            CertificateNote::NotPassed {
                retake: (v.quiz.takes_answers_at(now) && left > 0).then_some(Retake {
                    quiz_id: v.quiz.id,
                    attempts_left: left,
                }),
            }
        }
    })
}

/// Saves one answer. `shown` is in the attempt's option order. Committed before returning `Ok`; a
/// refusal (late, submitted, not a question or option of the attempt) is `Refused` with the reason.
#[tracing::instrument(skip_all, fields(attempt = attempt_id, position))]
pub async fn save_answer(
    db: &DatabaseConnection,
    attempt_id: i64,
    user: &CurrentUser,
    position: i32,
    shown: Given,
) -> Result<(), ServiceError> {
    let a = mine(db, attempt_id, user).await?;
    let outcome = try_save(db, &a, position, shown, Utc::now()).await;
    if let Err(Refusal::Answer(r)) = &outcome {
        tracing::warn!(attempt = attempt_id, position, reason = %r, "answer refused");
    }
    outcome.map_err(ServiceError::from)
}

/// The answer checked against the attempt (open, has the question, the options exist and fit), then
/// stored.
async fn try_save(
    db: &DatabaseConnection,
    a: &AttemptRecord,
    position: i32,
    shown: Given,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    a.accepts_answers_at(now)?;
    let items = db::items(db, a.id).await?;
    let item = items
        .iter()
        .find(|i| i.position == position)
        .ok_or(AnswerRefused::NotInAttempt(position))?;
    let given = from_shown(shown, &item.order).ok_or(AnswerRefused::NotAnOption)?;
    let version = banks::versions(db, &[item.version_id])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    check_given(&version.content, &given).map_err(|p| match p {
        AnswerProblem::NotAnOption => AnswerRefused::NotAnOption,
        _ => AnswerRefused::WrongShape,
    })?;
    store_answer(db, a, position, &given, now).await
}

/// Why saving stopped: the answer was refused, or something failed.
enum Refusal {
    Answer(AnswerRefused),
    Failed(ServiceError),
}

impl From<AnswerRefused> for Refusal {
    fn from(r: AnswerRefused) -> Self {
        Refusal::Answer(r)
    }
}

impl From<ServiceError> for Refusal {
    fn from(e: ServiceError) -> Self {
        Refusal::Failed(e)
    }
}

impl From<sea_orm::DbErr> for Refusal {
    fn from(e: sea_orm::DbErr) -> Self {
        Refusal::Failed(e.into())
    }
}

impl From<Refusal> for ServiceError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Answer(r) => ServiceError::Refused(r.text()),
            Refusal::Failed(e) => e,
        }
    }
}

/// Writes the answer if — in the same statement — the attempt is still open and within its grace; the
/// first answer marks the attempt started.
async fn store_answer(
    db: &DatabaseConnection,
    a: &AttemptRecord,
    position: i32,
    given: &Given,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if db::save_answer(db, a.id, position, given, now, now - GRACE).await? {
        if a.started_at.is_none() {
            db::mark_started(db, a.id, now).await?;
        }
        return Ok(());
    }
    // Lost a race with the deadline or a submission.
    let a = db::attempt(db, a.id).await?.ok_or(ServiceError::NotFound)?;
    Err(Refusal::Answer(match a.status {
        AttemptStatus::Submitted => AnswerRefused::Submitted,
        AttemptStatus::Open => AnswerRefused::AfterDeadline,
    }))
}

/// Grades and closes an attempt; harmless if it was already submitted. Returns whether this call
/// submitted it. A pass issues the certificate (and queues its email) in the same transaction.
#[tracing::instrument(skip_all, fields(attempt = attempt_id, by = by.code()))]
pub async fn submit_attempt(db: &DatabaseConnection, attempt_id: i64, by: SubmittedBy) -> Result<bool, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let a = db::attempt(&txn, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    if a.status == AttemptStatus::Submitted {
        return Ok(false);
    }
    let quiz = db::get(&txn, a.quiz_id).await?.ok_or(ServiceError::NotFound)?;
    let items = db::items(&txn, attempt_id).await?;
    let g = graded(&items, &versions_of(&txn, &items).await?, quiz.settings.pass_mark);
    let (correct, passed) = (g.score.correct as i32, g.passed);
    if !db::finish(&txn, attempt_id, by.code(), correct, passed, &g.items, Utc::now()).await? {
        return Ok(false);
    }
    recount(&txn, a.quiz_id, a.person_id).await?;
    // The certificate and its email job are written with the result, or not at all.
    let recorded = db::attempt(&txn, attempt_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(pass) = PassedAttempt::of(&recorded) {
        super::certificates::issue_in(&txn, &pass).await?;
    }
    txn.commit().await?;
    let (correct, total) = (g.score.correct, g.score.total);
    tracing::info!(
        attempt = attempt_id,
        by = by.code(),
        correct,
        total,
        passed,
        "attempt submitted"
    );
    Ok(true)
}

/// Marks which of the chair's attempts at the quiz counts (`counting_attempt`), after one of them got
/// a result: reports sum the marked attempts instead of ranking every attempt on each request.
pub(crate) async fn recount(txn: &impl ConnectionTrait, quiz: i64, person: i64) -> Result<(), ServiceError> {
    let mine = db::attempts_of(txn, quiz, person).await?;
    if let Some(counting) = counting_attempt(&mine) {
        db::mark_counting(txn, quiz, person, counting.id).await?;
    }
    Ok(())
}

/// 交卷. An attempt already past its deadline was shown to her as finished by the deadline: it is
/// recorded so.
#[tracing::instrument(skip_all, fields(attempt = attempt_id))]
pub async fn submit_mine(db: &DatabaseConnection, attempt_id: i64, user: &CurrentUser) -> Result<(), ServiceError> {
    let a = mine(db, attempt_id, user).await?;
    let by = match a.state_at(Utc::now()) {
        AttemptState::Overdue => SubmittedBy::Deadline,
        _ => SubmittedBy::Chair,
    };
    submit_attempt(db, attempt_id, by).await?;
    Ok(())
}

/// Submits every attempt past its deadline (and grace) and closes quizzes past their closing time.
/// One step of the background loop; tests call it directly.
pub async fn submit_due(db: &DatabaseConnection) -> Result<usize, ServiceError> {
    let now = Utc::now();
    let mut n = 0;
    for id in db::overdue(db, now - GRACE).await? {
        if submit_attempt(db, id, SubmittedBy::Deadline).await? {
            n += 1;
        }
    }
    // The announced grace holds for every attempt, also those whose deadline is the quiz's closing
    // time (every attempt of a single-attempt quiz): the quiz closes only once the grace has passed.
    for quiz in db::due_to_close(db, now - GRACE).await? {
        n += close_by_id(db, quiz).await?;
    }
    Ok(n)
}

/// Closes a quiz (moderator, or its time ran out) and submits its open attempts.
///
/// Open attempts end now, but like every deadline this one has the grace: answers already on their way
/// are still taken, and attempts still inside it are submitted by the deadline job a few seconds later.
#[tracing::instrument(skip_all, fields(quiz = quiz_id))]
async fn close_by_id(db: &DatabaseConnection, quiz_id: i64) -> Result<usize, ServiceError> {
    let now = Utc::now();
    db::close(db, quiz_id, now).await?;
    db::end_open_attempts_by(db, quiz_id, now).await?;
    let mut n = 0;
    for id in db::open_attempts_of_quiz(db, quiz_id).await? {
        let past_grace = db::attempt(db, id).await?.is_some_and(|a| a.deadline + GRACE < now);
        if past_grace && submit_attempt(db, id, SubmittedBy::Closed).await? {
            n += 1;
        }
    }
    Ok(n)
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

/// Staff save a session's quiz settings (`save_settings`), audited in the same transaction.
pub async fn save_settings_by(
    db: &DatabaseConnection,
    by: &super::audit::Actor,
    session: i64,
    s: &QuizSettings,
) -> Result<(), ServiceError> {
    let save = async |txn: &sea_orm::DatabaseTransaction| save_settings(txn, session, s).await;
    super::audit::audited(db, by, Action::QuizSettings, format!("session:{session}"), save, |_| {
        s.summary()
    })
    .await
}
