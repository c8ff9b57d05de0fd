//! Banks, questions and their versions.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::entities::{attempt_item, bank, bank_file, question, question_citation, question_version};
use crate::domain::bank::{
    Approval, Bank, BankFileStatus, BankSource, Question, QuestionStatus, QuestionVersion, Returned,
};
use crate::domain::question::{Answer, Citation, QuestionContent, QuestionKind};
use crate::question_banks::BankMeta;

/// How an answer is stored (JSON text, portable across databases).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredAnswer {
    Choices(Vec<usize>),
    Truth(bool),
}

fn corrupt(what: &str, id: i64) -> DbErr {
    DbErr::Custom(format!("{what} {id} is unreadable in the database"))
}

fn to_bank(m: bank::Model) -> Bank {
    Bank {
        id: m.id,
        slug: m.slug,
        title: m.title,
        topic: m.topic,
        authors: serde_json::from_str(&m.authors).unwrap_or_default(),
        reviewer: m.reviewer,
        review_date: m.review_date,
        sample: m.sample,
        source: if m.source == "web" {
            BankSource::Web
        } else {
            BankSource::File
        },
        file_name: m.file_name,
        retired: m.retired,
    }
}

pub async fn bank_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<Bank>, DbErr> {
    Ok(bank::Entity::find()
        .filter(bank::Column::Slug.eq(slug))
        .one(db)
        .await?
        .map(to_bank))
}

/// Who owns each id today: bank id → the file it was loaded from, question id → its bank's id.
pub async fn established_ids(db: &impl ConnectionTrait) -> Result<crate::question_banks::check::Established, DbErr> {
    let banks = bank::Entity::find().all(db).await?;
    let slug_of: HashMap<i64, String> = banks.iter().map(|b| (b.id, b.slug.clone())).collect();
    let bank_files = banks
        .into_iter()
        .filter_map(|b| b.file_name.map(|f| (b.slug, f)))
        .collect();
    let question_banks = question::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|q| slug_of.get(&q.bank_id).map(|s| (q.qid, s.clone())))
        .collect();
    Ok(crate::question_banks::check::Established {
        bank_files,
        question_banks,
    })
}

pub async fn bank(db: &impl ConnectionTrait, id: i64) -> Result<Option<Bank>, DbErr> {
    Ok(bank::Entity::find_by_id(id).one(db).await?.map(to_bank))
}

pub async fn banks(db: &impl ConnectionTrait) -> Result<Vec<Bank>, DbErr> {
    Ok(bank::Entity::find()
        .order_by_asc(bank::Column::Topic)
        .order_by_asc(bank::Column::Title)
        .all(db)
        .await?
        .into_iter()
        .map(to_bank)
        .collect())
}

/// Creates or updates a bank from its header; returns its id.
pub async fn upsert_bank(
    db: &impl ConnectionTrait,
    meta: &BankMeta,
    source: BankSource,
    file_name: Option<&str>,
) -> Result<i64, DbErr> {
    let now = Utc::now();
    let existing = bank::Entity::find()
        .filter(bank::Column::Slug.eq(&meta.id))
        .one(db)
        .await?;
    let mut m = bank::ActiveModel {
        slug: Set(meta.id.clone()),
        title: Set(meta.title.clone()),
        topic: Set(meta.topic.clone()),
        authors: Set(serde_json::to_string(&meta.authors).unwrap_or_else(|_| "[]".into())),
        reviewer: Set(meta.reviewer.clone()),
        review_date: Set(meta.review_date.clone()),
        sample: Set(meta.sample),
        source: Set(source.code().to_string()),
        file_name: Set(file_name.map(str::to_string)),
        retired: Set(false),
        updated_at: Set(now),
        ..Default::default()
    };
    match existing {
        Some(e) => {
            m.id = Set(e.id);
            m.update(db).await?;
            Ok(e.id)
        }
        None => {
            m.created_at = Set(now);
            Ok(m.insert(db).await?.id)
        }
    }
}

pub async fn set_bank_retired(db: &impl ConnectionTrait, id: i64, retired: bool) -> Result<(), DbErr> {
    bank::ActiveModel {
        id: Set(id),
        retired: Set(retired),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn record_file(
    db: &impl ConnectionTrait,
    file_name: &str,
    bank_id: Option<i64>,
    problems: Option<String>,
) -> Result<(), DbErr> {
    let m = bank_file::ActiveModel {
        file_name: Set(file_name.to_string()),
        bank_id: Set(bank_id),
        problems: Set(problems),
        checked_at: Set(Utc::now()),
    };
    bank_file::Entity::insert(m)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(bank_file::Column::FileName)
                .update_columns([bank_file::Column::Problems, bank_file::Column::CheckedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    if bank_id.is_some() {
        bank_file::ActiveModel {
            file_name: Set(file_name.to_string()),
            bank_id: Set(bank_id),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(())
}

pub async fn file_statuses(db: &impl ConnectionTrait) -> Result<Vec<BankFileStatus>, DbErr> {
    Ok(bank_file::Entity::find()
        .order_by_asc(bank_file::Column::FileName)
        .all(db)
        .await?
        .into_iter()
        .map(|m| BankFileStatus {
            file_name: m.file_name,
            bank_id: m.bank_id,
            problems: m.problems,
            checked_at: m.checked_at,
        })
        .collect())
}

pub async fn forget_file(db: &impl ConnectionTrait, file_name: &str) -> Result<(), DbErr> {
    bank_file::Entity::delete_by_id(file_name.to_string()).exec(db).await?;
    Ok(())
}

/// A JSON column of question version `id`; JSON that does not read is a corrupt row.
fn version_json<T: DeserializeOwned>(text: &str, id: i64) -> Result<T, DbErr> {
    serde_json::from_str(text).map_err(|_| corrupt("question version", id))
}

fn to_citation(c: question_citation::Model) -> Citation {
    Citation {
        statute: c.statute_id,
        article: c.article as u32,
        paragraph: c.paragraph.map(|p| p as u32),
        item: c.item.map(|i| i as u32),
    }
}

fn to_version(m: question_version::Model, cites: Vec<question_citation::Model>) -> Result<QuestionVersion, DbErr> {
    let kind = QuestionKind::parse(&m.kind).ok_or_else(|| corrupt("question version", m.id))?;
    let answer = match version_json::<StoredAnswer>(&m.answer, m.id)? {
        StoredAnswer::Choices(c) => Answer::Choices(c.into_iter().collect()),
        StoredAnswer::Truth(b) => Answer::Truth(b),
    };
    let mut cites = cites;
    cites.sort_by_key(|c| c.position);
    Ok(QuestionVersion {
        id: m.id,
        question_id: m.question_id,
        version_no: m.version_no,
        revisions: cites.iter().map(|c| c.revision_date.clone()).collect(),
        content: QuestionContent {
            kind,
            stem: m.stem,
            options: version_json(&m.options, m.id)?,
            answer,
            explanation: m.explanation,
            citations: cites.into_iter().map(to_citation).collect(),
            tags: version_json(&m.tags, m.id)?,
            difficulty: m.difficulty as u8,
            rule: m.rule,
        },
        created_by: m.created_by,
        created_at: m.created_at,
        draft: m.submitted_at.is_none(),
        author_id: m.author_id,
        approval: match (m.approved_by, m.approved_at) {
            (Some(by), Some(at)) => Some(Approval {
                by,
                by_id: m.approved_by_id,
                at,
            }),
            _ => None,
        },
        returned: match (m.returned_by, m.returned_at) {
            (Some(by), Some(at)) => Some(Returned {
                by,
                at,
                comment: m.return_comment.unwrap_or_default(),
            }),
            _ => None,
        },
    })
}

/// Loads versions with their citations, in one query each.
pub async fn versions(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<QuestionVersion>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = question_version::Entity::find()
            .filter(question_version::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        let mut cites: HashMap<i64, Vec<question_citation::Model>> = HashMap::new();
        for c in question_citation::Entity::find()
            .filter(question_citation::Column::VersionId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            cites.entry(c.version_id).or_default().push(c);
        }
        for r in rows {
            let c = cites.remove(&r.id).unwrap_or_default();
            out.push(to_version(r, c)?);
        }
    }
    Ok(out)
}

pub async fn versions_of(db: &impl ConnectionTrait, question_id: i64) -> Result<Vec<QuestionVersion>, DbErr> {
    let ids: Vec<i64> = question_version::Entity::find()
        .filter(question_version::Column::QuestionId.eq(question_id))
        .all(db)
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    let mut v = versions(db, &ids).await?;
    v.sort_by_key(|v| std::cmp::Reverse(v.version_no));
    Ok(v)
}

async fn with_current(db: &impl ConnectionTrait, rows: Vec<question::Model>) -> Result<Vec<Question>, DbErr> {
    let ids: Vec<i64> = rows
        .iter()
        .flat_map(|q| [q.current_version_id, q.approved_version_id])
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let by_id: HashMap<i64, QuestionVersion> = versions(db, &ids).await?.into_iter().map(|v| (v.id, v)).collect();
    rows.into_iter()
        .map(|q| {
            let current = q
                .current_version_id
                .and_then(|v| by_id.get(&v).cloned())
                .ok_or_else(|| corrupt("question", q.id))?;
            let approved = q.approved_version_id.and_then(|v| by_id.get(&v).cloned());
            Ok(Question {
                id: q.id,
                bank_id: q.bank_id,
                qid: q.qid,
                status: QuestionStatus::parse(&q.status).ok_or_else(|| corrupt("question", q.id))?,
                review_reason: q.review_reason,
                reviewed_by: q.reviewed_by,
                reviewed_at: q.reviewed_at,
                current,
                approved,
                file_fingerprint: q.file_fingerprint,
            })
        })
        .collect()
}

pub async fn question(db: &impl ConnectionTrait, id: i64) -> Result<Option<Question>, DbErr> {
    let Some(q) = question::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    Ok(with_current(db, vec![q]).await?.pop())
}

pub async fn question_by_qid(db: &impl ConnectionTrait, qid: &str) -> Result<Option<Question>, DbErr> {
    let Some(q) = question::Entity::find()
        .filter(question::Column::Qid.eq(qid))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(with_current(db, vec![q]).await?.pop())
}

/// A bank's questions (all statuses), in id order.
pub async fn questions_of_bank(db: &impl ConnectionTrait, bank_id: i64) -> Result<Vec<Question>, DbErr> {
    let rows = question::Entity::find()
        .filter(question::Column::BankId.eq(bank_id))
        .order_by_asc(question::Column::Qid)
        .all(db)
        .await?;
    with_current(db, rows).await
}

/// Questions with a status, across banks.
pub async fn questions_with_status(db: &impl ConnectionTrait, status: QuestionStatus) -> Result<Vec<Question>, DbErr> {
    let rows = question::Entity::find()
        .filter(question::Column::Status.eq(status.code()))
        .order_by_asc(question::Column::Qid)
        .all(db)
        .await?;
    with_current(db, rows).await
}

/// How many questions each bank has in each status: (bank, status, count), one grouped query.
pub async fn status_counts(db: &impl ConnectionTrait) -> Result<Vec<(i64, QuestionStatus, u64)>, DbErr> {
    let rows: Vec<(i64, String, i64)> = question::Entity::find()
        .select_only()
        .column(question::Column::BankId)
        .column(question::Column::Status)
        .column_as(Expr::col(question::Column::Id).count(), "n")
        .group_by(question::Column::BankId)
        .group_by(question::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(bank, status, n)| {
            QuestionStatus::parse(&status).map(|s| (bank, s, u64::try_from(n).unwrap_or(0)))
        })
        .collect())
}

/// How many questions, across banks, have a status.
pub async fn count_with_status(db: &impl ConnectionTrait, status: QuestionStatus) -> Result<u64, DbErr> {
    question::Entity::find()
        .filter(question::Column::Status.eq(status.code()))
        .count(db)
        .await
}

/// Every question's bank and id (`qid`), by question: one query, for labelling statistics.
pub async fn question_index(db: &impl ConnectionTrait) -> Result<HashMap<i64, (i64, String)>, DbErr> {
    let rows: Vec<(i64, i64, String)> = question::Entity::find()
        .select_only()
        .column(question::Column::Id)
        .column(question::Column::BankId)
        .column(question::Column::Qid)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, bank, qid)| (id, (bank, qid))).collect())
}

/// The question versions drawn into these attempts (each once).
pub async fn versions_drawn(db: &impl ConnectionTrait, attempts: &[i64]) -> Result<Vec<i64>, DbErr> {
    let mut out = BTreeSet::new();
    for chunk in attempts.chunks(500) {
        let ids: Vec<i64> = attempt_item::Entity::find()
            .select_only()
            .column(attempt_item::Column::VersionId)
            .filter(attempt_item::Column::AttemptId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(ids);
    }
    Ok(out.into_iter().collect())
}

pub struct NewVersion<'a> {
    pub question_id: i64,
    pub content: &'a QuestionContent,
    /// Statute revision per citation (the one in force now).
    pub revisions: &'a [String],
    pub created_by: Option<&'a str>,
    /// The account writing it on the web.
    pub author_id: Option<i64>,
    /// Approved as it is added: a bank file's reviewer, or a lawyer re-confirming a question against
    /// the statute in force. `None`: it waits for a second lawyer.
    pub approved_by: Option<(&'a str, Option<i64>)>,
    /// Kept as its author's draft, not yet waiting for approval.
    pub draft: bool,
}

/// Appends a version and makes it current (and the one drawn, when it comes approved).
pub async fn add_version(db: &impl ConnectionTrait, v: NewVersion<'_>) -> Result<i64, DbErr> {
    let last = last_version_no(db, v.question_id).await?;
    let m = version_row(&v, last + 1)?.insert(db).await?;
    for (i, (cite, rev)) in v.content.citations.iter().zip(v.revisions).enumerate() {
        citation_row(m.id, i, cite, rev).insert(db).await?;
    }
    question::ActiveModel {
        id: Set(v.question_id),
        current_version_id: Set(Some(m.id)),
        approved_version_id: match v.approved_by {
            Some(_) => Set(Some(m.id)),
            None => sea_orm::ActiveValue::NotSet,
        },
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(m.id)
}

/// A second lawyer approves a version: from now on quizzes draw it.
pub async fn approve_version(
    db: &impl ConnectionTrait,
    question_id: i64,
    version_id: i64,
    by: &str,
    by_id: i64,
) -> Result<(), DbErr> {
    question_version::ActiveModel {
        id: Set(version_id),
        approved_by: Set(Some(by.chars().take(100).collect())),
        approved_by_id: Set(Some(by_id)),
        approved_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    question::ActiveModel {
        id: Set(question_id),
        approved_version_id: Set(Some(version_id)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Its author submits a draft: from now on it waits for another lawyer's approval.
pub async fn submit_version(db: &impl ConnectionTrait, version_id: i64) -> Result<(), DbErr> {
    question_version::Entity::update_many()
        .col_expr(question_version::Column::SubmittedAt, Expr::value(Utc::now()))
        .filter(question_version::Column::Id.eq(version_id))
        .filter(question_version::Column::SubmittedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// A reviewing lawyer sends a version back to its author with what to change.
pub async fn return_version(db: &impl ConnectionTrait, version_id: i64, by: &str, comment: &str) -> Result<(), DbErr> {
    question_version::ActiveModel {
        id: Set(version_id),
        returned_by: Set(Some(by.chars().take(100).collect())),
        returned_at: Set(Some(Utc::now())),
        return_comment: Set(Some(comment.to_string())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// The highest version number of a question, 0 before its first version.
async fn last_version_no(db: &impl ConnectionTrait, question_id: i64) -> Result<i32, DbErr> {
    Ok(question_version::Entity::find()
        .filter(question_version::Column::QuestionId.eq(question_id))
        .order_by_desc(question_version::Column::VersionNo)
        .one(db)
        .await?
        .map_or(0, |m| m.version_no))
}

/// A citation's row: the `position`-th citation of version `version_id`, pinned to revision `rev`.
fn citation_row(version_id: i64, position: usize, cite: &Citation, rev: &str) -> question_citation::ActiveModel {
    question_citation::ActiveModel {
        version_id: Set(version_id),
        position: Set(position as i32),
        statute_id: Set(cite.statute.clone()),
        article: Set(cite.article as i32),
        paragraph: Set(cite.paragraph.map(|p| p as i32)),
        item: Set(cite.item.map(|i| i as i32)),
        revision_date: Set(rev.to_string()),
        ..Default::default()
    }
}

/// A version's row (its citations are rows of their own).
fn version_row(v: &NewVersion<'_>, version_no: i32) -> Result<question_version::ActiveModel, DbErr> {
    let c = v.content;
    let answer = match &c.answer {
        Answer::Choices(s) => StoredAnswer::Choices(s.iter().copied().collect()),
        Answer::Truth(b) => StoredAnswer::Truth(*b),
    };
    let json = |r: Result<String, serde_json::Error>| r.map_err(|e| DbErr::Custom(e.to_string()));
    Ok(question_version::ActiveModel {
        question_id: Set(v.question_id),
        version_no: Set(version_no),
        kind: Set(c.kind.code().to_string()),
        stem: Set(c.stem.clone()),
        options: Set(json(serde_json::to_string(&c.options))?),
        answer: Set(json(serde_json::to_string(&answer))?),
        explanation: Set(c.explanation.clone()),
        tags: Set(json(serde_json::to_string(&c.tags))?),
        difficulty: Set(i16::from(c.difficulty)),
        rule: Set(c.rule.clone()),
        fingerprint: Set(c.fingerprint()),
        created_by: Set(v.created_by.map(|s| s.chars().take(100).collect())),
        created_at: Set(Utc::now()),
        author_id: Set(v.author_id),
        approved_by: Set(v.approved_by.map(|(n, _)| n.chars().take(100).collect())),
        approved_by_id: Set(v.approved_by.and_then(|(_, id)| id)),
        approved_at: Set(v.approved_by.map(|_| Utc::now())),
        submitted_at: Set((!v.draft).then(Utc::now)),
        ..Default::default()
    })
}

/// Creates a question row (without a version yet).
pub async fn insert_question(
    db: &impl ConnectionTrait,
    bank_id: i64,
    qid: &str,
    status: QuestionStatus,
    reason: Option<&str>,
) -> Result<i64, DbErr> {
    let now = Utc::now();
    Ok(question::ActiveModel {
        bank_id: Set(bank_id),
        qid: Set(qid.to_string()),
        status: Set(status.code().to_string()),
        review_reason: Set(reason.map(str::to_string)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

pub struct StatusChange<'a> {
    pub status: QuestionStatus,
    pub reason: Option<&'a str>,
    /// Who resolved a review, when this change resolves one.
    pub reviewed_by: Option<&'a str>,
}

pub async fn set_status(db: &impl ConnectionTrait, id: i64, c: StatusChange<'_>) -> Result<(), DbErr> {
    let mut m = question::ActiveModel {
        id: Set(id),
        status: Set(c.status.code().to_string()),
        review_reason: Set(c.reason.map(str::to_string)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(by) = c.reviewed_by {
        m.reviewed_by = Set(Some(by.chars().take(100).collect()));
        m.reviewed_at = Set(Some(Utc::now()));
    }
    m.update(db).await?;
    Ok(())
}

pub async fn set_file_fingerprint(db: &impl ConnectionTrait, id: i64, fp: &str, bank_id: i64) -> Result<(), DbErr> {
    question::ActiveModel {
        id: Set(id),
        file_fingerprint: Set(Some(fp.to_string())),
        bank_id: Set(bank_id),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Active questions whose current version cites one of these articles of a statute at an older revision.
pub async fn citing_changed(
    db: &impl ConnectionTrait,
    statute: &str,
    articles: &[u32],
    revision: &str,
) -> Result<Vec<(i64, BTreeSet<u32>)>, DbErr> {
    let cites = question_citation::Entity::find()
        .filter(question_citation::Column::StatuteId.eq(statute))
        .filter(question_citation::Column::Article.is_in(articles.iter().map(|a| *a as i32)))
        .filter(question_citation::Column::RevisionDate.lt(revision))
        .all(db)
        .await?;
    let mut by_version: HashMap<i64, BTreeSet<u32>> = HashMap::new();
    for c in cites {
        by_version.entry(c.version_id).or_default().insert(c.article as u32);
    }
    let rows = question::Entity::find()
        .filter(question::Column::CurrentVersionId.is_in(by_version.keys().copied()))
        .filter(question::Column::Status.eq(QuestionStatus::Active.code()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|q| {
            q.current_version_id
                .and_then(|v| by_version.get(&v).cloned())
                .map(|a| (q.id, a))
        })
        .collect())
}
