//! Reports for officials and lawyers: a session's attendance and results, pass rates rolled up the
//! organisation tree, and how each question performed. Each reads its facts in a fixed number of
//! queries and hands them to the pure roll-ups in `domain::report`.

pub mod mistakes;
pub mod tables;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::access::StreetScope;
use super::attendance::Attendance;
use super::certificates::status_of;
use super::quiz::counting_attempt;
use crate::db::quiz::{AttemptRecord, AttemptStatus, QuizRecord};
use crate::db::sessions::SessionRecord;
use crate::db::{banks, certificates, org, people, quiz as quiz_db, sessions as sessions_db, statutes};
use crate::domain::bank::{Bank, QuestionVersion};
use crate::domain::certificate::EmailStatus;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::{Person, Role};
use crate::domain::quiz::Given;
use crate::domain::report::{
    AreaFacts, AttemptResult, ChairResults, DateRange, ItemStat, choice_counts, cites, item_stats, session_figures,
    sort_items,
};
pub use crate::domain::report::{ChairLine, Dashboard, ItemLine, SessionFigures, UnitRow};

#[derive(Debug, Clone)]
pub struct SessionReport {
    pub session: SessionRecord,
    /// The attendance gate (percent of the lecture) of the session's quiz.
    pub gate: u32,
    pub figures: SessionFigures,
    pub lines: Vec<ChairLine>,
}

/// The session report; for officials of its street (and admins) and its lecturers.
pub async fn session_report(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    viewer: i64,
    session_id: i64,
) -> Result<SessionReport, ServiceError> {
    let session = sessions_db::get(db, session_id).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows(session.street_id) && !session.lecturers.contains(&viewer) {
        return Err(ServiceError::Forbidden);
    }
    let quiz = quiz_db::for_session(db, session.id).await?;
    let gate = quiz.as_ref().map(|q| q.settings.attendance_gate).unwrap_or(60);
    let attendance = Attendance::of(db, &session, quiz.as_ref(), Utc::now()).await?;
    let lines = chair_lines(db, &session, quiz.as_ref(), &attendance, gate).await?;
    Ok(SessionReport {
        gate,
        figures: session_figures(&lines, attendance.window.is_some()),
        lines,
        session,
    })
}

/// The chairs (role 主任/委员 with the chair role) of these committees.
async fn chairs_of(db: &impl ConnectionTrait, committees: &[i64]) -> Result<Vec<Person>, ServiceError> {
    Ok(people::members_of_committees(db, committees)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Chair))
        .collect())
}

/// A counting attempt as the reports see it.
fn result_of(a: &AttemptRecord) -> AttemptResult {
    match a.status {
        AttemptStatus::Submitted => AttemptResult::Submitted {
            correct: a.correct.unwrap_or(0).max(0) as u32,
            total: a.total.max(0) as u32,
            passed: a.passed == Some(true),
        },
        AttemptStatus::Open => AttemptResult::InProgress {
            started: a.started_at.is_some(),
        },
    }
}

/// The attempt that counts (`counting_attempt`) for each `key`: a chair, or a chair in one quiz.
fn counting_by<K: Eq + Hash>(
    attempts: Vec<AttemptRecord>,
    key: impl Fn(&AttemptRecord) -> K,
) -> impl Iterator<Item = (K, AttemptRecord)> {
    let mut groups: HashMap<K, Vec<AttemptRecord>> = HashMap::new();
    for a in attempts {
        groups.entry(key(&a)).or_default().push(a);
    }
    groups
        .into_iter()
        .filter_map(|(k, list)| counting_attempt(&list).map(|a| (k, a.clone())))
}

/// Each chair's counting attempt, and whether it was a make-up attempt.
async fn counting_results(
    db: &impl ConnectionTrait,
    quiz: Option<&QuizRecord>,
) -> Result<HashMap<i64, (AttemptResult, bool)>, ServiceError> {
    let Some(q) = quiz else { return Ok(HashMap::new()) };
    let attempts = quiz_db::attempts_of_quiz(db, q.id).await?;
    Ok(counting_by(attempts, |a| a.person_id)
        .map(|(person, a)| (person, (result_of(&a), a.makeup)))
        .collect())
}

/// How each chair's certificate email went, for the certificates of a session.
async fn email_by_person(db: &impl ConnectionTrait, session: i64) -> Result<HashMap<i64, EmailStatus>, ServiceError> {
    let certs = certificates::for_session(db, session).await?;
    let jobs = certificates::jobs_for_certificates(db, &certs.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    Ok(certs
        .iter()
        .map(|c| {
            (
                c.person_id,
                status_of(jobs.iter().rev().find(|j| j.certificate_id == c.id)),
            )
        })
        .collect())
}

/// One line per invited chair, by 居委, 小区 and id.
async fn chair_lines(
    db: &impl ConnectionTrait,
    session: &SessionRecord,
    quiz: Option<&QuizRecord>,
    attendance: &Attendance,
    gate: u32,
) -> Result<Vec<ChairLine>, ServiceError> {
    let labels = super::org::committee_labels(db, session.street_id).await?;
    let attempts = counting_results(db, quiz).await?;
    let email = email_by_person(db, session.id).await?;
    let mut lines: Vec<ChairLine> = chairs_of(db, &session.committees)
        .await?
        .into_iter()
        .map(|p| {
            let (neighbourhood, estate, _) = p.committee_id.and_then(|c| labels.get(&c)).cloned().unwrap_or_default();
            ChairLine {
                person_id: p.id,
                name: p.name.as_str().to_string(),
                neighbourhood,
                estate,
                minutes: attendance.minutes(p.id),
                live_minutes: attendance.live_minutes(p.id),
                replay_minutes: attendance.replay_minutes(p.id),
                share: attendance.share(p.id),
                met_gate: attendance.window.is_some() && attendance.meets(p.id, gate),
                attempt: attempts.get(&p.id).map(|a| a.0),
                makeup: attempts.get(&p.id).is_some_and(|a| a.1),
                email: email.get(&p.id).copied(),
            }
        })
        .collect();
    lines.sort_by(|a, b| (&a.neighbourhood, &a.estate, a.person_id).cmp(&(&b.neighbourhood, &b.estate, b.person_id)));
    Ok(lines)
}

/// The streets whose facts a unit's dashboard rolls up: a district's streets, or the street a unit lies in.
async fn streets_under(db: &impl ConnectionTrait, unit: &OrgUnit) -> Result<Vec<i64>, ServiceError> {
    match unit.kind {
        OrgKind::District => Ok(org::streets_of_districts(db, &[unit.id])
            .await?
            .iter()
            .map(|s| s.id)
            .collect()),
        _ => Ok(vec![unit.street_id.ok_or(ServiceError::NotFound)?]),
    }
}

/// Pass rates and certificate coverage for a district, a street or a unit below it, over sessions in
/// a range. A district's roll-up is for its officials and admins; a street's for its officials too.
pub async fn dashboard(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    unit_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Dashboard, ServiceError> {
    let unit = org::get(db, unit_id).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows_unit(&unit) {
        return Err(ServiceError::Forbidden);
    }
    let streets = streets_under(db, &unit).await?;
    let facts = area_facts(db, &unit, &streets, from, to).await?;
    Ok(crate::domain::report::dashboard(&facts, unit, from, to))
}

/// The units of these streets, and `unit` itself: a district is above its streets, not in them, and
/// is added so that sums reach it.
async fn area_units(
    db: &impl ConnectionTrait,
    unit: &OrgUnit,
    streets: &[i64],
) -> Result<HashMap<i64, OrgUnit>, ServiceError> {
    let mut units: HashMap<i64, OrgUnit> = org::whole_streets(db, streets)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    units.insert(unit.id, unit.clone());
    Ok(units)
}

/// What the dashboard rolls up for the streets under `unit`, in a fixed number of batched queries (a
/// district has tens of thousands of chairs): their units, chairs, counting attempts and valid
/// certificates.
async fn area_facts(
    db: &impl ConnectionTrait,
    unit: &OrgUnit,
    streets: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<AreaFacts, ServiceError> {
    let units = area_units(db, unit, streets).await?;
    let committees: Vec<i64> = units
        .values()
        .filter(|u| u.kind == OrgKind::Committee)
        .map(|u| u.id)
        .collect();
    let sessions = sessions_in(db, streets, from, to).await?;
    // Certified is a matter of the committee's term, not of the dates chosen: every valid certificate
    // of these chairs counts, whichever session (and range) it came from (`AreaFacts::certified`).
    let chairs = chairs_of(db, &committees).await?;
    let mut certificates: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
    for (person, issued) in certificates::latest_valid_in_committees(db, &committees).await? {
        certificates.entry(person).or_default().push(issued);
    }
    Ok(AreaFacts {
        units,
        chairs,
        results: chair_results(db, &sessions).await?,
        certificates,
    })
}

/// The sessions of these streets that start in the range.
async fn sessions_in(
    db: &impl ConnectionTrait,
    streets: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<i64>, ServiceError> {
    Ok(sessions_db::ids_for_streets_between(db, streets, from, to).await?)
}

/// Each chair's counting submitted attempts over the quizzes of these sessions, tallied by the
/// database from the attempts marked as counting when they were submitted.
async fn chair_results(
    db: &impl ConnectionTrait,
    sessions: &[i64],
) -> Result<HashMap<i64, ChairResults>, ServiceError> {
    let quizzes = quiz_db::for_sessions(db, sessions).await?;
    let ids: Vec<i64> = quizzes.iter().map(|q| q.id).collect();
    let count = |n: i64| n.max(0) as u64;
    Ok(quiz_db::counting_tallies(db, &ids)
        .await?
        .into_iter()
        .map(|(person, submitted, passed, makeup, makeup_passed)| {
            let r = ChairResults {
                submitted: count(submitted),
                passed: count(passed),
                makeup_submitted: count(makeup),
                makeup_passed: count(makeup_passed),
            };
            (person, r)
        })
        .collect())
}

/// The dashboard form's query: which unit (the first visible district, else street, by default) and
/// the dates typed.
pub struct DashboardQuery<'a> {
    pub unit: Option<i64>,
    pub from: &'a str,
    pub to: &'a str,
}

/// The dashboard page: the figures, the range as shown in the form, the way back up the tree as far as
/// the viewer may go, and the other districts and streets she may open.
pub struct DashboardPage {
    pub dashboard: Dashboard,
    pub from: String,
    pub to: String,
    pub trail: Vec<OrgUnit>,
    pub choices: Vec<OrgUnit>,
}

/// The districts, then the streets, the user may open a dashboard for.
async fn dashboard_choices(db: &impl ConnectionTrait, scope: &StreetScope) -> Result<Vec<OrgUnit>, ServiceError> {
    let mut out = super::streets::visible_districts(db, scope).await?;
    out.extend(super::streets::visible(db, scope).await?);
    Ok(out)
}

impl DashboardQuery<'_> {
    /// The dates typed (this year when empty); dates that do not parse come back at their fields.
    fn range(&self) -> Result<DateRange, ServiceError> {
        let year = crate::domain::time::to_shanghai(Utc::now()).format("%Y").to_string();
        Ok(DateRange::parse(self.from, self.to, year.parse().unwrap_or(2026))?)
    }

    /// The unit asked for, else the first of `choices` (the viewer's first district, else street).
    fn unit_or_first(&self, choices: &[OrgUnit]) -> Result<i64, ServiceError> {
        match self.unit {
            Some(u) => Ok(u),
            None => choices.first().map(|u| u.id).ok_or(ServiceError::NotFound),
        }
    }
}

/// The units above `unit` that the viewer may open, from the top.
async fn trail_to(db: &impl ConnectionTrait, scope: &StreetScope, unit: i64) -> Result<Vec<OrgUnit>, ServiceError> {
    let mut trail = org::path(db, unit).await?;
    trail.pop();
    trail.retain(|u| scope.allows_unit(u));
    Ok(trail)
}

/// The dashboard for what the form asked; dates that do not parse come back at their fields.
pub async fn dashboard_page(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    q: &DashboardQuery<'_>,
) -> Result<DashboardPage, ServiceError> {
    let range = q.range()?;
    let choices = dashboard_choices(db, scope).await?;
    let dashboard = dashboard(db, scope, q.unit_or_first(&choices)?, range.start, range.end).await?;
    let trail = trail_to(db, scope, dashboard.unit.id).await?;
    Ok(DashboardPage {
        dashboard,
        from: range.from,
        to: range.to,
        trail,
        choices,
    })
}

#[derive(Debug, Default, Clone)]
pub struct ItemFilter {
    pub bank: Option<i64>,
    pub topic: String,
    /// `statute` or `statute article`.
    pub citation: String,
}

impl ItemFilter {
    fn keeps(&self, bank: &Bank, v: &QuestionVersion) -> bool {
        self.bank.is_none_or(|b| b == bank.id)
            && (self.topic.is_empty() || bank.topic == self.topic)
            && cites(&v.content.citations, &self.citation)
    }
}

/// What item analysis knows besides the statistics: banks by id and each question's bank and id.
struct ItemLabels {
    banks: HashMap<i64, Bank>,
    questions: HashMap<i64, (i64, String)>,
}

impl ItemLabels {
    /// A version's line, if its bank passes the filter.
    fn line(
        &self,
        v: QuestionVersion,
        stat: ItemStat,
        choices: Vec<(String, u64)>,
        filter: &ItemFilter,
    ) -> Option<ItemLine> {
        let (bank_id, qid) = self.questions.get(&v.question_id)?;
        let bank = self.banks.get(bank_id).filter(|b| filter.keeps(b, &v))?;
        Some(ItemLine {
            question_id: v.question_id,
            qid: qid.clone(),
            version_no: v.version_no,
            bank: bank.title.clone(),
            topic: bank.topic.clone(),
            stem: v.content.stem,
            citations: v.content.citations.iter().map(|x| x.to_string()).collect(),
            stat,
            choices,
        })
    }
}

/// How each question version performed in submitted attempts (for lawyers improving the banks).
pub async fn item_analysis(db: &impl ConnectionTrait, filter: &ItemFilter) -> Result<Vec<ItemLine>, ServiceError> {
    // (attempt, score %, version, question, answer, correct) for every item of every submitted attempt.
    let rows = quiz_db::submitted_items(db).await?;
    let scores: Vec<(i64, f64)> = rows
        .iter()
        .map(|r| (r.0, r.1))
        .collect::<HashMap<_, _>>()
        .into_iter()
        .collect();
    let answers: Vec<(i64, i64, bool)> = rows.iter().map(|r| (r.0, r.2, r.5)).collect();
    let mut given: HashMap<i64, Vec<Option<&Given>>> = HashMap::new();
    for r in &rows {
        given.entry(r.2).or_default().push(r.4.as_ref());
    }
    let mut stats = item_stats(&scores, &answers);
    let versions = banks::versions(db, &stats.keys().copied().collect::<Vec<_>>()).await?;
    let labels = ItemLabels {
        banks: banks::banks(db).await?.into_iter().map(|b| (b.id, b)).collect(),
        questions: banks::question_index(db).await?,
    };
    let mut out: Vec<ItemLine> = versions
        .into_iter()
        .filter_map(|v| {
            let choices = choice_counts(given.get(&v.id).into_iter().flatten().copied());
            let stat = stats.remove(&v.id)?;
            labels.line(v, stat, choices, filter)
        })
        .collect();
    sort_items(&mut out);
    Ok(out)
}

/// The item analysis page: the lines, and the banks to filter by.
pub struct ItemAnalysisPage {
    pub lines: Vec<ItemLine>,
    pub banks: Vec<Bank>,
}

pub async fn item_analysis_page(
    db: &impl ConnectionTrait,
    filter: &ItemFilter,
) -> Result<ItemAnalysisPage, ServiceError> {
    Ok(ItemAnalysisPage {
        lines: item_analysis(db, filter).await?,
        banks: banks::banks(db).await?,
    })
}

/// The article texts the question versions drawn in a session's quiz cite, at the revisions they
/// pinned: (statute, revision, article) → text. A fixed number of queries.
async fn cited_texts(
    db: &impl ConnectionTrait,
    session_id: i64,
) -> Result<BTreeMap<statutes::ArticleKey, String>, ServiceError> {
    let Some(q) = quiz_db::for_session(db, session_id).await? else {
        return Ok(BTreeMap::new());
    };
    let attempts: Vec<i64> = quiz_db::attempts_of_quiz(db, q.id)
        .await?
        .iter()
        .map(|a| a.id)
        .collect();
    let versions = banks::versions(db, &banks::versions_drawn(db, &attempts).await?).await?;
    let keys: HashSet<statutes::ArticleKey> = versions
        .iter()
        .flat_map(|v| {
            v.content
                .citations
                .iter()
                .zip(&v.revisions)
                .map(|(c, rev)| (c.statute.clone(), rev.clone(), c.article))
        })
        .collect();
    let texts = statutes::articles(db, &keys.into_iter().collect::<Vec<_>>()).await?;
    Ok(texts.into_iter().map(|(k, a)| (k, a.text)).collect())
}

/// Everything a street office keeps as the record of a session, as named CSV files: attendance
/// intervals, results, certificates, and the statute texts the quiz's questions were graded against.
pub async fn evidence_files(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    viewer: i64,
    session_id: i64,
    lang: crate::i18n::Lang,
) -> Result<Vec<(String, Vec<u8>)>, ServiceError> {
    let report = session_report(db, scope, viewer, session_id).await?;
    let intervals = sessions_db::intervals(db, session_id).await?;
    let replay = crate::db::recordings::replay_intervals(db, session_id).await?;
    let certs = certificates::for_session(db, session_id).await?;
    let cited = cited_texts(db, session_id).await?;
    [
        (
            "attendance.csv",
            tables::attendance_table(lang, &report.lines, &intervals, &replay),
        ),
        ("results.csv", tables::session_table(lang, &report.lines)),
        ("certificates.csv", tables::certificates_table(lang, &certs)),
        ("statutes.csv", tables::statutes_table(lang, &cited)),
    ]
    .into_iter()
    .map(|(name, table)| {
        Ok((
            name.to_string(),
            crate::export::csv(&table).map_err(ServiceError::Internal)?,
        ))
    })
    .collect()
}
