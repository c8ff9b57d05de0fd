//! Regrading (issue 18): when the approved version of a question grades answers differently from a
//! version chairs already answered, a lawyer previews whose score and result would change, then
//! regrades with a reason. Attempts, their items and which attempt counts are updated, certificates
//! are issued to chairs who now pass and revoked (with an email) from those who now fail, and the
//! regrade is recorded. Reports read the updated attempts.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::banks::{Lawyer, question_in_bank};
use crate::db::certificates as certificates_db;
use crate::db::quiz::{self as quiz_db, AttemptRecord, QuizRecord};
use crate::db::regrades::{self as db, NewRegrade};
use crate::db::{banks, people, sessions as sessions_db};
use crate::domain::attempt::{Graded, PassedAttempt, counting_attempt};
use crate::domain::audit::Action;
use crate::domain::bank::{Bank, Question, QuestionVersion};
use crate::domain::regrade::{
    AttemptChange, CertificateChange, REVOKED_BY_REGRADE, RegradeRecord, certificate_change, grading_changed,
    regrade_attempt, unregradable, with_result,
};
use crate::domain::session::SessionRecord;
use crate::i18n::Text;
use crate::services::{ServiceError, certificates};

/// One attempt whose result a regrade changes, as the lawyer sees it: the session, the chair (her
/// name masked: the lawyer needs to see that a person is affected, not who), the score and result
/// before and after, and what happens to her certificate.
#[derive(Debug, Clone)]
pub struct RegradeLine {
    pub session: SessionRecord,
    pub chair: String,
    pub attempt_number: i32,
    pub total: u32,
    pub change: AttemptChange,
    pub certificate: CertificateChange,
}

/// What regrading a question would do (the dry run), or why it cannot.
pub struct RegradePlan {
    pub question: Question,
    pub bank: Bank,
    /// The version answers would be graded by.
    pub approved: Option<QuestionVersion>,
    /// Submitted attempts that answered another version than the approved one.
    pub answered: usize,
    /// Why these answers cannot be regraded, if they cannot.
    pub refused: Option<Text>,
    pub lines: Vec<RegradeLine>,
    pub history: Vec<RegradeRecord>,
    /// What applying writes: each changed attempt with its new grading, whose `items` are only the
    /// marks that change (read once, here, for the whole plan).
    changed: Vec<(AttemptRecord, Graded)>,
    /// Per chair and quiz touched: the certificate change, the session, and her attempts as regraded.
    chairs: Vec<ChairAfter>,
}

struct ChairAfter {
    quiz: i64,
    session: i64,
    person: i64,
    change: CertificateChange,
}

impl RegradePlan {
    pub fn issued(&self) -> usize {
        self.chairs
            .iter()
            .filter(|c| c.change == CertificateChange::Issue)
            .count()
    }

    pub fn revoked(&self) -> usize {
        self.chairs
            .iter()
            .filter(|c| c.change == CertificateChange::Revoke)
            .count()
    }
}

/// The dry run: which submitted attempts would change, and how.
pub async fn preview(db: &impl ConnectionTrait, question_id: i64) -> Result<RegradePlan, ServiceError> {
    let (bank, question) = question_in_bank(db, question_id).await?;
    let history = db::of_question(db, question_id).await?;
    let mut plan = RegradePlan {
        approved: question.approved.clone(),
        question,
        bank,
        answered: 0,
        refused: None,
        lines: vec![],
        history,
        changed: vec![],
        chairs: vec![],
    };
    let Some(approved) = plan.approved.clone() else {
        plan.refused = Some(Text::new(
            "这道题还没有批准的版本，无法重新评分",
            "this question has no approved version to regrade by",
        ));
        return Ok(plan);
    };
    // Every other version: one grading like the approved one may still hold answers graded by
    // another (an earlier regrade to a key since changed back); grading them again changes nothing
    // where nothing differs.
    let others: Vec<QuestionVersion> = banks::versions_of(db, question_id)
        .await?
        .into_iter()
        .filter(|v| v.id != approved.id)
        .collect();
    let ids: Vec<i64> = others.iter().map(|v| v.id).collect();
    let attempts = quiz_db::submitted_attempts_drawing(db, question_id, &ids).await?;
    plan.answered = attempts.len();
    if attempts.is_empty() {
        return Ok(plan);
    }
    let items = quiz_db::items_of_attempts(db, &attempts.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    let answered_versions: HashSet<i64> = items
        .values()
        .flatten()
        .filter(|i| i.question_id == question_id)
        .map(|i| i.version_id)
        .collect();
    if let Some(why) = others
        .iter()
        .filter(|v| answered_versions.contains(&v.id) && grading_changed(&v.content, &approved.content))
        .find_map(|v| unregradable(&v.content, &approved.content))
    {
        plan.refused = Some(why);
        return Ok(plan);
    }
    let quizzes = quizzes_of(db, &attempts).await?;
    let own: HashSet<i64> = ids.into_iter().collect();
    for a in attempts {
        let Some(quiz) = quizzes.get(&a.quiz_id) else {
            continue;
        };
        let mine = items.get(&a.id).map(Vec::as_slice).unwrap_or_default();
        let mut g = regrade_attempt(mine, &own, &approved.content, quiz.settings.pass_mark);
        if (g.score.correct as i32, g.passed) != (a.correct.unwrap_or(0), a.passed == Some(true)) {
            g.items
                .retain(|(pos, ok)| mine.iter().any(|i| i.position == *pos && i.correct != Some(*ok)));
            plan.changed.push((a, g));
        }
    }
    fill_lines(db, &mut plan, &quizzes).await?;
    Ok(plan)
}

async fn quizzes_of(
    db: &impl ConnectionTrait,
    attempts: &[AttemptRecord],
) -> Result<HashMap<i64, QuizRecord>, ServiceError> {
    let mut out = HashMap::new();
    for id in attempts.iter().map(|a| a.quiz_id).collect::<HashSet<_>>() {
        if let Some(q) = quiz_db::get(db, id).await? {
            out.insert(id, q);
        }
    }
    Ok(out)
}

/// The lines the lawyer reads, and per chair and quiz what happens to her certificate: her attempts
/// as they will read, and whether she holds a valid certificate of the session.
async fn fill_lines(
    db: &impl ConnectionTrait,
    plan: &mut RegradePlan,
    quizzes: &HashMap<i64, QuizRecord>,
) -> Result<(), ServiceError> {
    let mut groups: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (i, (a, _)) in plan.changed.iter().enumerate() {
        groups.entry((a.quiz_id, a.person_id)).or_default().push(i);
    }
    let names: HashMap<i64, String> = people::get_many(db, &groups.keys().map(|(_, p)| *p).collect::<Vec<_>>())
        .await?
        .into_iter()
        .map(|p| (p.id, p.name.masked()))
        .collect();
    let mut sessions: HashMap<i64, SessionRecord> = HashMap::new();
    for ((quiz, person), changed) in groups {
        let Some(session_id) = quizzes.get(&quiz).map(|q| q.session_id) else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = sessions.entry(session_id) {
            e.insert(sessions_db::get(db, session_id).await?.ok_or(ServiceError::NotFound)?);
        }
        let before = quiz_db::attempts_of(db, quiz, person).await?;
        let after: Vec<AttemptRecord> = before
            .iter()
            .map(|a| match changed.iter().find(|i| plan.changed[**i].0.id == a.id) {
                Some(i) => with_result(a, &plan.changed[*i].1),
                None => a.clone(),
            })
            .collect();
        let holds = certificates_db::for_person_in_session(db, person, session_id)
            .await?
            .iter()
            .any(|c| c.revoked_at.is_none());
        let change = certificate_change(holds, &before, &after);
        plan.chairs.push(ChairAfter {
            quiz,
            session: session_id,
            person,
            change,
        });
        for (n, i) in changed.iter().enumerate() {
            let (a, g) = &plan.changed[*i];
            plan.lines.push(RegradeLine {
                session: sessions[&session_id].clone(),
                chair: names.get(&person).cloned().unwrap_or_default(),
                attempt_number: a.number,
                total: a.total.max(0) as u32,
                change: AttemptChange {
                    attempt_id: a.id,
                    before: (a.correct.unwrap_or(0).max(0) as u32, a.passed == Some(true)),
                    after: (g.score.correct, g.passed),
                },
                // Shown once per chair and quiz.
                certificate: if n == 0 { change } else { CertificateChange::Keep },
            });
        }
    }
    Ok(())
}

/// What a regrade did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub attempts: usize,
    pub issued: usize,
    pub revoked: usize,
}

/// Regrades: the plan is made again inside the transaction (nothing changes between what is checked
/// and what is written), then attempts, counting marks and certificates are updated and the regrade
/// is recorded.
#[tracing::instrument(skip_all, fields(question = question_id))]
pub async fn apply(
    db: &DatabaseConnection,
    question_id: i64,
    lawyer: Lawyer<'_>,
    reason: &str,
) -> Result<Applied, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::rejected(
            "reason",
            "请写明重新评分的原因（会记录，并写进撤销证书的通知）",
            "give the reason for regrading (it is recorded, and told to chairs whose certificate is revoked)",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let plan = preview(&txn, question_id).await?;
    if let Some(why) = plan.refused {
        return Err(ServiceError::Refused(why));
    }
    if plan.changed.is_empty() {
        return Err(ServiceError::refused(
            "没有需要重新评分的答卷",
            "no attempt's result would change",
        ));
    }
    let Some(version) = &plan.approved else {
        return Err(ServiceError::NotFound);
    };
    for (a, g) in &plan.changed {
        quiz_db::set_result(&txn, a.id, g.score.correct as i32, g.passed, &g.items).await?;
    }
    let revoke_reason = format!("{REVOKED_BY_REGRADE}{reason}");
    for c in &plan.chairs {
        crate::services::quiz::recount(&txn, c.quiz, c.person).await?;
        match c.change {
            CertificateChange::Keep => {}
            CertificateChange::Issue => issue_again(&txn, c).await?,
            CertificateChange::Revoke => {
                for cert in certificates_db::for_person_in_session(&txn, c.person, c.session).await? {
                    if cert.revoked_at.is_none() {
                        certificates_db::revoke(&txn, cert.id, &revoke_reason, lawyer.id).await?;
                        certificates::notify_revoked(&txn, &cert).await?;
                    }
                }
            }
        }
    }
    let record = NewRegrade {
        question_id,
        version_id: version.id,
        by_id: lawyer.id,
        by_name: lawyer.name,
        reason,
        at: Utc::now(),
        issued: plan.issued() as u32,
        revoked: plan.revoked() as u32,
    };
    let changes: Vec<AttemptChange> = plan.lines.iter().map(|l| l.change).collect();
    db::insert(&txn, record, &changes).await?;
    let summary = format!(
        "按第 {} 版重新评分 {} 份答卷，颁发证书 {} 张，撤销 {} 张：{reason}",
        version.version_no,
        plan.changed.len(),
        plan.issued(),
        plan.revoked()
    );
    let object = format!("question:{question_id}");
    crate::services::audit::record_in(&txn, &lawyer.actor(), Action::QuestionRegrade, object, summary).await?;
    txn.commit().await?;
    let applied = Applied {
        attempts: plan.changed.len(),
        issued: plan.issued(),
        revoked: plan.revoked(),
    };
    tracing::info!(
        question = question_id,
        attempts = applied.attempts,
        issued = applied.issued,
        revoked = applied.revoked,
        "question regraded"
    );
    Ok(applied)
}

/// She passes now and holds no valid certificate: the one issued with her counting attempt before a
/// regrade took it away is made valid again, or a new one is issued (and emailed).
async fn issue_again(txn: &impl ConnectionTrait, c: &ChairAfter) -> Result<(), ServiceError> {
    let mine = quiz_db::attempts_of(txn, c.quiz, c.person).await?;
    let Some(pass) = counting_attempt(&mine).and_then(PassedAttempt::of) else {
        return Ok(());
    };
    match certificates_db::for_attempt(txn, pass.id).await? {
        // Only what a regrade took away is given back; an admin's revocation stands.
        Some(earlier)
            if earlier
                .revoke_reason
                .as_deref()
                .is_some_and(|r| r.starts_with(REVOKED_BY_REGRADE)) =>
        {
            certificates::reinstate(txn, &earlier).await
        }
        Some(_) => Ok(()),
        None => certificates::issue_in(txn, &pass).await.map(|_| ()),
    }
}
