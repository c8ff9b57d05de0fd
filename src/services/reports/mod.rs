//! Reports for officials: a session's attendance and results, and pass rates rolled up the
//! organisation tree.

pub mod tables;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::access::StreetScope;
use super::attendance::Attendance;
use super::certificates::{EmailStatus, status_of};
use super::quiz::counting_attempt;
use crate::db::quiz::{AttemptRecord, AttemptStatus};
use crate::db::{certificates, org, people, quiz as quiz_db, training};
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::Role;
use crate::domain::report::{Rate, average, deciles, median};

/// One invited chair's line in the session report.
#[derive(Debug, Clone)]
pub struct ChairLine {
    pub person_id: i64,
    pub name: String,
    pub neighbourhood: String,
    pub estate: String,
    pub minutes: i64,
    pub share: f64,
    pub met_gate: bool,
    pub attempt: Option<AttemptRecord>,
    pub email: Option<EmailStatus>,
}

#[derive(Debug, Clone)]
pub struct SessionReport {
    pub session: training::SessionRecord,
    pub gate: u32,
    pub invited: u64,
    pub attended: u64,
    pub average_minutes: Option<f64>,
    pub met_gate: u64,
    pub started: u64,
    pub submitted: u64,
    pub passed: u64,
    pub pass_rate: Rate,
    pub average_score: Option<f64>,
    pub median_score: Option<f64>,
    pub score_deciles: [u64; 10],
    pub attendance_deciles: [u64; 10],
    pub lines: Vec<ChairLine>,
}

/// The session report; for officials of its street (and admins) and its lecturers.
pub async fn session_report(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    viewer: i64,
    session_id: i64,
) -> Result<SessionReport, ServiceError> {
    let session = training::get(db, session_id).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows(session.street_id) && !session.lecturers.contains(&viewer) {
        return Err(ServiceError::Forbidden);
    }
    let quiz = quiz_db::for_session(db, session.id).await?;
    let gate = quiz.as_ref().map(|q| q.settings.attendance_gate).unwrap_or(60);
    let labels = super::org::committee_labels(db, session.street_id).await?;
    let chairs: Vec<_> = people::members_of_committees(db, &session.committees)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Chair))
        .collect();
    let attendance = Attendance::of(db, &session, quiz.as_ref(), Utc::now()).await?;
    let attempts: HashMap<i64, AttemptRecord> = match &quiz {
        Some(q) => {
            let mut by_person: HashMap<i64, Vec<AttemptRecord>> = HashMap::new();
            for a in quiz_db::attempts_of_quiz(db, q.id).await? {
                by_person.entry(a.person_id).or_default().push(a);
            }
            by_person
                .into_iter()
                .filter_map(|(p, list)| counting_attempt(&list).map(|a| (p, a.clone())))
                .collect()
        }
        None => HashMap::new(),
    };
    let certs = certificates::for_session(db, session.id).await?;
    let jobs = certificates::jobs_for_certificates(db, &certs.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let email_of: HashMap<i64, EmailStatus> = certs
        .iter()
        .map(|c| {
            (
                c.person_id,
                status_of(jobs.iter().rev().find(|j| j.certificate_id == c.id)),
            )
        })
        .collect();
    let mut lines = Vec::new();
    for p in chairs {
        let (minutes, fraction) = (attendance.minutes(p.id), attendance.share(p.id));
        let (n, e, _) = p.committee_id.and_then(|c| labels.get(&c)).cloned().unwrap_or_default();
        lines.push(ChairLine {
            person_id: p.id,
            name: p.name.as_str().to_string(),
            neighbourhood: n,
            estate: e,
            minutes,
            share: fraction,
            met_gate: attendance.window.is_some() && attendance.meets(p.id, gate),
            attempt: attempts.get(&p.id).cloned(),
            email: email_of.get(&p.id).copied(),
        });
    }
    lines.sort_by(|a, b| (&a.neighbourhood, &a.estate, a.person_id).cmp(&(&b.neighbourhood, &b.estate, b.person_id)));
    let submitted: Vec<&AttemptRecord> = lines
        .iter()
        .filter_map(|l| l.attempt.as_ref())
        .filter(|a| a.status == AttemptStatus::Submitted)
        .collect();
    let scores: Vec<f64> = submitted
        .iter()
        .filter(|a| a.total > 0)
        .map(|a| a.correct.unwrap_or(0) as f64 * 100.0 / a.total as f64)
        .collect();
    let attended: Vec<&ChairLine> = lines.iter().filter(|l| l.minutes > 0).collect();
    let passed = submitted.iter().filter(|a| a.passed == Some(true)).count() as u64;
    Ok(SessionReport {
        gate,
        invited: lines.len() as u64,
        attended: attended.len() as u64,
        average_minutes: average(&attended.iter().map(|l| l.minutes as f64).collect::<Vec<_>>()),
        met_gate: lines.iter().filter(|l| l.met_gate).count() as u64,
        started: lines
            .iter()
            .filter(|l| {
                l.attempt
                    .as_ref()
                    .is_some_and(|a| a.started_at.is_some() || a.status == AttemptStatus::Submitted)
            })
            .count() as u64,
        submitted: submitted.len() as u64,
        passed,
        pass_rate: Rate {
            part: passed,
            whole: submitted.len() as u64,
        },
        average_score: average(&scores),
        median_score: median(&scores),
        score_deciles: deciles(&scores),
        attendance_deciles: if attendance.window.is_some() {
            deciles(&lines.iter().map(|l| l.share * 100.0).collect::<Vec<_>>())
        } else {
            [0; 10]
        },
        lines,
        session,
    })
}

/// A row of the street dashboard: one unit, everything below it summed.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub unit: OrgUnit,
    pub chairs: u64,
    pub submitted: u64,
    pub passed: u64,
    pub pass_rate: Rate,
    /// Chairs holding a valid certificate (not revoked, issued within the range).
    pub certified: u64,
    pub coverage: Rate,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub unit: OrgUnit,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: UnitRow,
    pub rows: Vec<UnitRow>,
    /// Committees whose chair (主任) has no valid certificate: never passed, or a new term began since.
    pub uncertified_committees: Vec<(OrgUnit, String)>,
    /// Committees all of whose members hold a valid certificate.
    pub certified_committees: Vec<OrgUnit>,
}

/// Pass rates and certificate coverage for a street (or a unit below it), over sessions in a range.
pub async fn dashboard(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    unit_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Dashboard, ServiceError> {
    let unit = org::get(db, unit_id).await?.ok_or(ServiceError::NotFound)?;
    let street = unit
        .street_id
        .ok_or_else(|| ServiceError::refused("请选择街道或其下级单位", "choose a street or a unit below it"))?;
    if !scope.allows(street) {
        return Err(ServiceError::Forbidden);
    }
    let mut all: HashMap<i64, OrgUnit> = HashMap::new();
    for kind in [
        OrgKind::Street,
        OrgKind::Neighbourhood,
        OrgKind::Estate,
        OrgKind::Committee,
    ] {
        for u in org::in_street(db, street, kind).await? {
            all.insert(u.id, u);
        }
    }
    // Each committee's ancestors, to sum upwards.
    let ancestors = |mut id: i64| {
        let mut out = Vec::new();
        while let Some(u) = all.get(&id) {
            out.push(u.id);
            match u.parent_id {
                Some(p) => id = p,
                None => break,
            }
        }
        out
    };
    let committees: Vec<i64> = all
        .values()
        .filter(|u| u.kind == OrgKind::Committee)
        .map(|u| u.id)
        .collect();
    let members: Vec<_> = people::members_of_committees(db, &committees)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Chair))
        .collect();
    let sessions: Vec<_> = training::for_streets(db, &[street], 10_000)
        .await?
        .into_iter()
        .filter(|s| s.starts_at >= from && s.starts_at < to)
        .collect();
    let session_ids: HashSet<i64> = sessions.iter().map(|s| s.id).collect();
    // The counting attempt per chair per session in range: a few batched queries, not one per
    // session or per person (a street has thousands of chairs).
    let quizzes = quiz_db::for_sessions(db, &session_ids.iter().copied().collect::<Vec<_>>()).await?;
    let mut by_chair: HashMap<(i64, i64), Vec<AttemptRecord>> = HashMap::new();
    for a in quiz_db::submitted_of_quizzes(db, &quizzes.iter().map(|q| q.id).collect::<Vec<_>>()).await? {
        by_chair.entry((a.quiz_id, a.person_id)).or_default().push(a);
    }
    let counting: HashMap<(i64, i64), AttemptRecord> = by_chair
        .into_iter()
        .filter_map(|(k, list)| counting_attempt(&list).map(|a| (k, a.clone())))
        .collect();
    let mut submitted: HashMap<i64, (u64, u64)> = HashMap::new();
    for ((_, p), a) in counting {
        let e = submitted.entry(p).or_default();
        e.0 += 1;
        e.1 += u64::from(a.passed == Some(true));
    }
    let mut valid_cert: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
    for (person, _, issued) in
        certificates::valid_for_sessions(db, &session_ids.iter().copied().collect::<Vec<_>>()).await?
    {
        valid_cert.entry(person).or_default().push(issued);
    }
    let term_start = |committee: i64| {
        all.get(&committee)
            .and_then(|u| u.term)
            .map(|t| t.start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
    };
    let is_valid = |person: i64, committee: i64| {
        valid_cert
            .get(&person)
            .is_some_and(|list| list.iter().any(|at| term_start(committee).is_none_or(|t| *at >= t)))
    };
    let mut sums: BTreeMap<i64, (u64, u64, u64, u64)> = BTreeMap::new();
    let mut by_committee: HashMap<i64, Vec<(i64, String, Option<String>)>> = HashMap::new();
    for p in &members {
        let Some(c) = p.committee_id else { continue };
        by_committee
            .entry(c)
            .or_default()
            .push((p.id, p.name.as_str().to_string(), p.position.clone()));
        let (sub, pass) = submitted.get(&p.id).copied().unwrap_or((0, 0));
        let cert = u64::from(is_valid(p.id, c));
        for a in ancestors(c) {
            let e = sums.entry(a).or_default();
            e.0 += 1;
            e.1 += sub;
            e.2 += pass;
            e.3 += cert;
        }
    }
    let row = |u: &OrgUnit| {
        let (chairs, sub, pass, cert) = sums.get(&u.id).copied().unwrap_or_default();
        UnitRow {
            unit: u.clone(),
            chairs,
            submitted: sub,
            passed: pass,
            pass_rate: Rate { part: pass, whole: sub },
            certified: cert,
            coverage: Rate {
                part: cert,
                whole: chairs,
            },
        }
    };
    let mut rows: Vec<UnitRow> = all.values().filter(|u| u.parent_id == Some(unit.id)).map(row).collect();
    rows.sort_by(|a, b| a.unit.name.cmp(&b.unit.name));
    let below: HashSet<i64> = committees
        .iter()
        .copied()
        .filter(|c| ancestors(*c).contains(&unit.id))
        .collect();
    let mut uncertified = Vec::new();
    let mut certified = Vec::new();
    for c in &below {
        let list = by_committee.get(c).cloned().unwrap_or_default();
        let chair = list
            .iter()
            .find(|(_, _, pos)| pos.as_deref() == Some("主任"))
            .or(list.first());
        if let Some((pid, name, _)) = chair
            && !is_valid(*pid, *c)
            && let Some(u) = all.get(c)
        {
            uncertified.push((u.clone(), name.clone()));
        }
        if !list.is_empty()
            && list.iter().all(|(pid, _, _)| is_valid(*pid, *c))
            && let Some(u) = all.get(c)
        {
            certified.push(u.clone());
        }
    }
    uncertified.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    certified.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Dashboard {
        total: row(&unit),
        unit,
        from,
        to,
        rows,
        uncertified_committees: uncertified,
        certified_committees: certified,
    })
}

/// One question version's line in the item analysis.
#[derive(Debug, Clone)]
pub struct ItemLine {
    pub question_id: i64,
    pub qid: String,
    pub version_no: i32,
    pub bank: String,
    pub topic: String,
    pub stem: String,
    pub citations: Vec<String>,
    pub stat: crate::domain::report::ItemStat,
    /// (option letter or 对/错, times chosen)
    pub choices: Vec<(String, u64)>,
}

#[derive(Debug, Default, Clone)]
pub struct ItemFilter {
    pub bank: Option<i64>,
    pub topic: String,
    /// `statute` or `statute article`.
    pub citation: String,
}

/// How each question version performed in submitted attempts (for lawyers improving the banks).
pub async fn item_analysis(db: &impl ConnectionTrait, filter: &ItemFilter) -> Result<Vec<ItemLine>, ServiceError> {
    use crate::domain::question::letter;
    use crate::domain::quiz::Given;
    let rows = quiz_db::submitted_items(db).await?;
    let scores: Vec<(i64, f64)> = rows
        .iter()
        .map(|r| (r.0, r.1))
        .collect::<HashMap<_, _>>()
        .into_iter()
        .collect();
    let answers: Vec<(i64, i64, bool)> = rows.iter().map(|r| (r.0, r.2, r.5)).collect();
    let stats = crate::domain::report::item_stats(&scores, &answers);
    let versions: HashMap<i64, crate::domain::bank::QuestionVersion> =
        crate::db::banks::versions(db, &stats.keys().copied().collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
    let banks: HashMap<i64, crate::domain::bank::Bank> = crate::db::banks::banks(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let mut question_bank: HashMap<i64, (i64, String)> = HashMap::new();
    for b in banks.values() {
        for q in crate::db::banks::questions_of_bank(db, b.id).await? {
            question_bank.insert(q.id, (b.id, q.qid));
        }
    }
    let mut citation = filter.citation.split_whitespace();
    let (want_statute, want_article) = (
        citation.next().map(str::to_string),
        citation.next().and_then(|a| a.parse::<u32>().ok()),
    );
    let mut out = Vec::new();
    for (version_id, stat) in stats {
        let Some(v) = versions.get(&version_id) else { continue };
        let Some((bank_id, qid)) = question_bank.get(&v.question_id).cloned() else {
            continue;
        };
        let Some(bank) = banks.get(&bank_id) else { continue };
        let c = &v.content;
        let cites_ok = match (&want_statute, want_article) {
            (None, _) => true,
            (Some(s), None) => c.citations.iter().any(|x| &x.statute == s),
            (Some(s), Some(a)) => c.citations.iter().any(|x| &x.statute == s && x.article == a),
        };
        if filter.bank.is_some_and(|b| b != bank_id)
            || (!filter.topic.is_empty() && bank.topic != filter.topic)
            || !cites_ok
        {
            continue;
        }
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.2 == version_id) {
            match &r.4 {
                Some(Given::Choices(set)) => set
                    .iter()
                    .for_each(|i| *counts.entry(letter(*i).to_string()).or_default() += 1),
                Some(Given::Truth(t)) => *counts.entry(if *t { "对".into() } else { "错".into() }).or_default() += 1,
                None => *counts.entry("未答".into()).or_default() += 1,
            }
        }
        out.push(ItemLine {
            question_id: v.question_id,
            qid,
            version_no: v.version_no,
            bank: bank.title.clone(),
            topic: bank.topic.clone(),
            stem: c.stem.clone(),
            citations: c.citations.iter().map(|x| x.to_string()).collect(),
            stat,
            choices: counts.into_iter().collect(),
        });
    }
    // Flagged first, then the hardest.
    out.sort_by(|a, b| {
        b.stat
            .flagged()
            .cmp(&a.stat.flagged())
            .then(
                a.stat
                    .facility
                    .unwrap_or(1.0)
                    .total_cmp(&b.stat.facility.unwrap_or(1.0)),
            )
            .then(a.qid.cmp(&b.qid))
    });
    Ok(out)
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
    use crate::export::{Cell, Table, csv};
    let report = session_report(db, scope, viewer, session_id).await?;
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    let names: HashMap<i64, String> = report.lines.iter().map(|l| (l.person_id, l.name.clone())).collect();
    let at = |d: DateTime<Utc>| {
        crate::domain::time::to_shanghai(d)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let attendance = Table {
        title: t("出勤记录", "Attendance"),
        headers: vec![t("姓名", "Name"), t("进入", "Joined"), t("离开", "Left")],
        rows: training::intervals(db, session_id)
            .await?
            .into_iter()
            .map(|(p, i)| {
                vec![
                    Cell::Text(names.get(&p).cloned().unwrap_or_else(|| format!("#{p}"))),
                    Cell::Text(at(i.from)),
                    Cell::Text(at(i.to)),
                ]
            })
            .collect(),
    };
    let certs = certificates::for_session(db, session_id).await?;
    let cert_table = Table {
        title: t("证书", "Certificates"),
        headers: vec![
            t("姓名", "Name"),
            t("证书编号", "Serial"),
            t("验证码", "Code"),
            t("颁发时间", "Issued"),
            t("状态", "Status"),
        ],
        rows: certs
            .iter()
            .map(|c| {
                let status = match &c.revoked_at {
                    Some(_) => format!(
                        "{}：{}",
                        t("已撤销", "revoked"),
                        c.revoke_reason.clone().unwrap_or_default()
                    ),
                    None => t("有效", "valid"),
                };
                vec![
                    Cell::Text(c.content.name.clone()),
                    Cell::Text(c.serial.clone()),
                    Cell::Text(c.code.clone()),
                    Cell::Text(at(c.issued_at)),
                    Cell::Text(status),
                ]
            })
            .collect(),
    };
    // The article texts the drawn question versions cite, at the revisions they pinned.
    let mut cited: BTreeMap<(String, String, u32), String> = BTreeMap::new();
    if let Some(q) = quiz_db::for_session(db, session_id).await? {
        let mut version_ids = HashSet::new();
        for a in quiz_db::attempts_of_quiz(db, q.id).await? {
            version_ids.extend(quiz_db::items(db, a.id).await?.into_iter().map(|i| i.version_id));
        }
        for v in crate::db::banks::versions(db, &version_ids.into_iter().collect::<Vec<_>>()).await? {
            for (c, rev) in v.content.citations.iter().zip(&v.revisions) {
                if let Some(article) = crate::db::statutes::article(db, &c.statute, rev, c.article).await? {
                    cited.insert((c.statute.clone(), rev.clone(), c.article), article.text);
                }
            }
        }
    }
    let statutes = Table {
        title: t("法条版本", "Statute versions"),
        headers: vec![
            t("法规", "Statute"),
            t("版本日期", "Revision"),
            t("条", "Article"),
            t("条文", "Text"),
        ],
        rows: cited
            .into_iter()
            .map(|((s, r, a), text)| vec![Cell::Text(s), Cell::Text(r), Cell::Number(a as f64), Cell::Text(text)])
            .collect(),
    };
    let results = tables::session_table(lang, &report);
    let mut files = Vec::new();
    for (name, table) in [
        ("attendance.csv", &attendance),
        ("results.csv", &results),
        ("certificates.csv", &cert_table),
        ("statutes.csv", &statutes),
    ] {
        files.push((name.to_string(), csv(table).map_err(ServiceError::Internal)?));
    }
    Ok(files)
}
