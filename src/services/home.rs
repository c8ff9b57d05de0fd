//! What each role needs next, for the home page.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::accounts::CurrentUser;
use crate::db::certificates::CertificateRecord;
use crate::db::sessions::HeldSession;
use crate::db::{certificates as certificates_db, org, quiz as quiz_db, sessions as sessions_db};
use crate::domain::attempt::{AttemptRecord, AttemptState, counting_attempt};
use crate::domain::attendance::{Interval, attempt_presence, lecture_window, presence_in, share_in, without};
use crate::domain::bank::QuestionStatus;
use crate::domain::org::OrgUnit;
use crate::domain::person::Role;
use crate::domain::quiz::QuizRecord;
use crate::domain::recording::RecordingState;
use crate::domain::replay::gaps;
use crate::domain::session::{SessionStatus, SessionSummary};

/// How many past trainings a chair's home lists.
const TRAININGS_LISTED: u64 = 10;

#[derive(Debug, Default)]
pub struct Home {
    /// Sessions the chair's committee is invited to that have not ended.
    pub chair_upcoming: Vec<SessionSummary>,
    pub chair_committee: Option<OrgUnit>,
    /// Trainings she was invited to that are live or over, newest first, with her record in each.
    pub chair_trainings: Vec<Training>,
    /// All her certificates, newest first.
    pub certificates: Vec<CertificateRecord>,
    /// Sessions of the official's streets.
    pub official_sessions: Vec<SessionSummary>,
    pub official_streets: Vec<OrgUnit>,
    /// Banks with (active, needs review) counts, for lawyers.
    pub lawyer_banks: Vec<(crate::domain::bank::Bank, usize, usize)>,
    /// Sessions the lawyer lectures in.
    pub lawyer_sessions: Vec<SessionSummary>,
}

/// Everything the home page shows, for each role the user holds.
pub async fn home(db: &impl ConnectionTrait, user: &CurrentUser) -> Result<Home, ServiceError> {
    let roles = &user.person.roles;
    let mut h = Home::default();
    if roles.has(Role::Chair)
        && let Some(c) = user.person.committee_id
    {
        chair(db, &mut h, user.person.id, c).await?;
    }
    if roles.has(Role::Official) {
        h.official_streets = org::get_many(db, &user.official_streets).await?;
        h.official_sessions = sessions_db::for_streets(db, &user.official_streets, 20).await?;
    }
    if roles.has(Role::Lawyer) {
        lawyer(db, &mut h, user.person.id).await?;
    }
    Ok(h)
}

async fn chair(db: &impl ConnectionTrait, h: &mut Home, person: i64, committee: i64) -> Result<(), ServiceError> {
    h.chair_upcoming = sessions_db::upcoming_for_committee(db, committee, Utc::now()).await?;
    h.chair_committee = org::get(db, committee).await?;
    h.certificates = certificates_db::for_person(db, person).await?;
    let held = sessions_db::held_for_committee(db, committee, Utc::now(), TRAININGS_LISTED).await?;
    h.chair_trainings = trainings(db, person, held, &h.certificates, Utc::now()).await?;
    Ok(())
}

/// Her presence in a session, by the quiz gate's rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attended {
    /// Whole minutes, rounded down: live and replay together, each moment once.
    pub minutes: i64,
    /// Of them, live (the room, the live sound, the in-class quiz).
    pub live_minutes: i64,
    /// Share of the lecture, 0.0–1.0.
    pub share: f64,
}

/// Her quiz in a session: the attempt that counts (`counting_attempt`) as it reads now.
#[derive(Debug, Clone)]
pub struct QuizOutcome {
    pub attempt: AttemptRecord,
    pub state: AttemptState,
}

/// One training on a chair's home: what she attended, how her quiz went, her certificate.
#[derive(Debug, Clone)]
pub struct Training {
    pub session: SessionSummary,
    /// `None` when the lecture never started.
    pub attended: Option<Attended>,
    /// `None` when she has no attempt (no quiz, or she did not take it).
    pub quiz: Option<QuizOutcome>,
    /// Her certificate of this session: the valid one if any, else the newest revoked one.
    pub certificate: Option<CertificateRecord>,
    /// The recording can be watched.
    pub replay: bool,
    /// The make-up window, if the official opened one.
    pub makeup: Option<crate::domain::attempt::MakeupWindow>,
    /// The session's quiz (the make-up quiz is taken there).
    pub quiz_id: Option<i64>,
}

/// Her record in each held session with a fixed number of queries (quizzes, her intervals, her
/// attempts: one each), whatever the number of sessions. A live session is listed once she has been in
/// it; until then the upcoming list is where she enters it.
async fn trainings(
    db: &impl ConnectionTrait,
    person: i64,
    held: Vec<HeldSession>,
    certificates: &[CertificateRecord],
    now: DateTime<Utc>,
) -> Result<Vec<Training>, ServiceError> {
    let ids: Vec<i64> = held.iter().map(|s| s.summary.id).collect();
    let quizzes: HashMap<i64, QuizRecord> = quiz_db::for_sessions(db, &ids)
        .await?
        .into_iter()
        .map(|q| (q.session_id, q))
        .collect();
    let mut intervals: HashMap<i64, Vec<Interval>> = HashMap::new();
    for (session, i) in sessions_db::intervals_of_person(db, person, &ids).await? {
        intervals.entry(session).or_default().push(i);
    }
    let quiz_ids: Vec<i64> = quizzes.values().map(|q| q.id).collect();
    let mut attempts: HashMap<i64, Vec<AttemptRecord>> = HashMap::new();
    for a in quiz_db::attempts_of_person(db, person, &quiz_ids).await? {
        attempts.entry(a.quiz_id).or_default().push(a);
    }
    let mut replay: HashMap<i64, Vec<Interval>> = HashMap::new();
    for (session, i) in crate::db::recordings::replay_intervals_of_person(db, person, &ids).await? {
        replay.entry(session).or_default().push(i);
    }
    let recordings: HashMap<i64, (RecordingState, Vec<Interval>)> =
        crate::db::recordings::states_and_segments(db, &ids)
            .await?
            .into_iter()
            .map(|(session, state, segments)| (session, (state, gaps(&segments))))
            .collect();
    let mut out = Vec::new();
    for s in held {
        let quiz = quizzes.get(&s.summary.id);
        let mine: &[AttemptRecord] = quiz.and_then(|q| attempts.get(&q.id)).map_or(&[], Vec::as_slice);
        let live = intervals.remove(&s.summary.id).unwrap_or_default();
        let watched = replay.remove(&s.summary.id).unwrap_or_default();
        let (state, gaps) = recordings
            .get(&s.summary.id)
            .cloned()
            .unwrap_or((RecordingState::Deleted, Vec::new()));
        let training = Training {
            replay: state == RecordingState::Finished,
            makeup: crate::domain::attempt::MakeupWindow::of(s.ended_at, s.makeup_until),
            quiz_id: quiz.map(|q| q.id),
            attended: attended(&s, quiz, (live, watched), &gaps, mine, now),
            quiz: counting_attempt(mine).map(|a| QuizOutcome {
                state: a.state_at(now),
                attempt: a.clone(),
            }),
            certificate: certificate_of(certificates, s.summary.id),
            session: s.summary,
        };
        let been_there = training.attended.is_some_and(|a| a.share > 0.0) || training.quiz.is_some();
        if training.session.status != SessionStatus::Live || been_there {
            out.push(training);
        }
    }
    Ok(out)
}

/// Her presence in one session by the rule of `services::attendance::Attendance::of` (which the quiz
/// gate and the reports read): her room and replay intervals plus the time spent on attempts she
/// began, over the lecture window less the stretches that were not recorded. Computed here for one
/// person across sessions, so the home page does not load every chair of every session.
fn attended(
    s: &HeldSession,
    quiz: Option<&QuizRecord>,
    (mut live, replay): (Vec<Interval>, Vec<Interval>),
    gaps: &[Interval],
    attempts: &[AttemptRecord],
    now: DateTime<Utc>,
) -> Option<Attended> {
    let window = lecture_window(s.started_at, quiz.and_then(|q| q.measured_until(now)), s.ended_at, now)?;
    live.extend(
        attempts
            .iter()
            .filter_map(|a| attempt_presence(a.started_at, a.submitted_at, a.deadline, now)),
    );
    let parts = without(window, gaps);
    let live_minutes = presence_in(live.clone(), &parts).num_minutes();
    live.extend(replay);
    Some(Attended {
        minutes: presence_in(live.clone(), &parts).num_minutes(),
        live_minutes,
        share: share_in(live, &parts),
    })
}

/// A chair's record for the officials of her street: her trainings (attendance live and on replay,
/// the attempt that counts, the certificate), as her own home shows them.
#[derive(Debug, Clone)]
pub struct ChairHistory {
    pub person: crate::domain::person::Person,
    pub committee: Option<OrgUnit>,
    pub trainings: Vec<Training>,
}

/// How many trainings a chair's history lists for officials.
const HISTORY_LISTED: u64 = 50;

/// Her own trainings, all of them (her own data): as her home shows them.
pub async fn own_trainings(
    db: &impl ConnectionTrait,
    p: &crate::domain::person::Person,
) -> Result<Vec<Training>, ServiceError> {
    let Some(committee) = p.committee_id else {
        return Ok(Vec::new());
    };
    let now = Utc::now();
    // Every training of her committee; far more than a term holds.
    let held = sessions_db::held_for_committee(db, committee, now, 10_000).await?;
    let certificates = certificates_db::for_person(db, p.id).await?;
    trainings(db, p.id, held, &certificates, now).await
}

pub async fn chair_history(
    db: &impl ConnectionTrait,
    scope: &super::access::StreetScope,
    person: i64,
) -> Result<ChairHistory, ServiceError> {
    let p = crate::db::people::get(db, person)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let committee = match p.committee_id {
        Some(c) => org::get(db, c).await?,
        None => None,
    };
    let street = committee.as_ref().and_then(|c| c.street_id);
    if !p.roles.has(Role::Chair) || !street.is_some_and(|s| scope.allows(s)) {
        return Err(ServiceError::Forbidden);
    }
    let now = Utc::now();
    let trainings = match &committee {
        Some(c) => {
            let held = sessions_db::held_for_committee(db, c.id, now, HISTORY_LISTED).await?;
            let certificates = certificates_db::for_person(db, person).await?;
            trainings(db, person, held, &certificates, now).await?
        }
        None => Vec::new(),
    };
    Ok(ChairHistory {
        person: p,
        committee,
        trainings,
    })
}

fn certificate_of(certificates: &[CertificateRecord], session: i64) -> Option<CertificateRecord> {
    let of_session = || certificates.iter().filter(|c| c.session_id == session);
    of_session()
        .find(|c| c.revoked_at.is_none())
        .or_else(|| of_session().next())
        .cloned()
}

async fn lawyer(db: &impl ConnectionTrait, h: &mut Home, person: i64) -> Result<(), ServiceError> {
    h.lawyer_sessions = sessions_db::for_lecturer(db, person, 20).await?;
    for (b, counts) in super::banks::overview(db).await? {
        if !b.retired {
            let n = |s| counts.get(&s).copied().unwrap_or(0);
            h.lawyer_banks
                .push((b, n(QuestionStatus::Active), n(QuestionStatus::NeedsReview)));
        }
    }
    Ok(())
}
