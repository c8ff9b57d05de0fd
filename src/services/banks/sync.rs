//! Loading the bank files into the database at start-up, in one transaction:
//! - statutes: a new revision is stored beside the old ones (old texts stay readable); when it changes
//!   an article's text, every active question whose current version cites that article is marked
//!   待复核 and stops being drawn;
//! - banks: a file with any problem is not loaded (its previous state stays in use) and its problems are
//!   recorded for the lawyers' page; a question whose file content changed gets a new version; a
//!   question that disappeared from its file is retired, never deleted.
//!
//! A file's content is compared with what was last loaded *from the file*, so edits made in the web UI
//! are not overwritten by an unchanged file at the next start.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{activate, current_revisions, revisions_for, set_review};
use crate::db::banks::{self as db, NewVersion};
use crate::db::statutes;
use crate::domain::bank::{BankSource, Question, QuestionStatus};
use crate::domain::question::chinese_number;
use crate::domain::statute::{Statute, StatuteInfo};
use crate::question_banks::check::{self, CheckedFile, Report};
use crate::question_banks::{BankMeta, FileQuestion};
use crate::services::ServiceError;

/// What a sync did, for the log and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    pub banks_loaded: usize,
    pub banks_refused: Vec<String>,
    pub questions_created: usize,
    pub versions_created: usize,
    pub questions_retired: usize,
    /// Questions newly marked 待复核 because a statute changed.
    pub flagged: Vec<String>,
}

/// Whether the questions of sample banks (`sample = true`: written for the demo, their reviewer a
/// placeholder) count as approved by their file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleBanks {
    /// Development and the demo: drawn like any reviewed bank.
    ApprovedByFile,
    /// Production: each question waits in the review queue until a lawyer approves it.
    AwaitLawyer,
}

/// Validates a folder and loads what is valid, in one transaction; sample banks approved by their
/// file (development, tests).
pub async fn sync_dir(db: &DatabaseConnection, dir: &Path) -> Result<(Report, SyncOutcome), ServiceError> {
    sync_dir_with(db, dir, SampleBanks::ApprovedByFile).await
}

/// Validates a folder and loads what is valid, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn sync_dir_with(
    db: &DatabaseConnection,
    dir: &Path,
    samples: SampleBanks,
) -> Result<(Report, SyncOutcome), ServiceError> {
    let mut out = SyncOutcome::default();
    let txn = crate::db::begin_write(db).await?;
    // An id used by two files stays with the file the database has it from, so a copy-paste into
    // another file refuses that file and leaves the established bank alone.
    let report = check::check_dir_with(dir, &db::established_ids(&txn).await?);
    sync_statutes(&txn, &report.statutes, &mut out).await?;
    let revisions = current_revisions(&txn).await?;
    let mut present = HashSet::new();
    for f in &report.files {
        let name = file_name(f);
        present.insert(name.clone());
        match (&f.parsed.meta, f.is_valid()) {
            (Some(meta), true) => {
                let approved = !meta.sample || samples == SampleBanks::ApprovedByFile;
                let loading = Loading {
                    file_name: &name,
                    meta,
                    approved,
                    revisions: &revisions,
                };
                let id = sync_bank(&txn, &loading, &f.parsed.questions, &mut out).await?;
                db::record_file(&txn, &name, Some(id), None).await?;
                out.banks_loaded += 1;
            }
            _ => {
                record_refused(&txn, f, &name).await?;
                out.banks_refused.push(name);
            }
        }
    }
    retire_vanished_files(&txn, &present, &mut out).await?;
    txn.commit().await?;
    tracing::info!(?out, "question banks loaded");
    Ok((report, out))
}

fn file_name(f: &CheckedFile) -> String {
    f.path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// Stores statute revisions; flags questions citing articles whose text changed in a newer revision.
async fn sync_statutes(db: &impl ConnectionTrait, list: &[Statute], out: &mut SyncOutcome) -> Result<(), ServiceError> {
    for s in list {
        let previous = statutes::info(db, &s.short_id).await?;
        if previous.is_none() {
            statutes::upsert(db, &s.short_id, &s.title, &s.revision_date).await?;
        }
        if !statutes::has_revision(db, &s.short_id, &s.revision_date).await? {
            statutes::insert_revision(db, s).await?;
        }
        match previous {
            Some(p) if p.current_revision < s.revision_date => amend(db, s, &p, out).await?,
            Some(p) if p.title != s.title && p.current_revision == s.revision_date => {
                statutes::upsert(db, &s.short_id, &s.title, &s.revision_date).await?
            }
            _ => {}
        }
    }
    Ok(())
}

/// What uploading a statute's file did.
pub struct StatuteUpload {
    pub title: String,
    pub revision_date: String,
    /// The revision in force before, if the statute was on file.
    pub previous: Option<String>,
    /// Questions now 待复核 because an article they cite changed, by id.
    pub flagged: Vec<String>,
}

/// A lawyer uploads a statute's file: validated as at start-up, a newer revision comes into force at
/// once and the questions citing articles whose text changed go to 待复核, without a restart. The
/// revision in force again changes nothing; an older one, or the same date with other text, is refused
/// (a correction is a revision of its own). The database keeps every revision; the file belongs in
/// `question-banks/statutes/` too, so that `banks check` validates citations against the same text.
pub async fn upload_statute(
    db: &DatabaseConnection,
    by: &crate::services::audit::Actor,
    bytes: &[u8],
) -> Result<StatuteUpload, ServiceError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ServiceError::rejected("file", "文件不是 UTF-8 文本", "the file is not UTF-8 text"))?;
    let s = crate::question_banks::statutes::parse(text).map_err(|p| {
        ServiceError::rejected(
            "file",
            format!("第 {} 行：{}", p.line, p.message.zh),
            format!("line {}: {}", p.line, p.message.en),
        )
    })?;
    let txn = crate::db::begin_write(db).await?;
    let previous = statutes::info(&txn, &s.short_id).await?;
    if let Some(p) = &previous {
        if s.revision_date < p.current_revision {
            return Err(ServiceError::rejected(
                "file",
                format!(
                    "该文件的版本（{}）早于现行版本（{}）",
                    s.revision_date, p.current_revision
                ),
                format!(
                    "the file's revision ({}) is older than the one in force ({})",
                    s.revision_date, p.current_revision
                ),
            ));
        }
        let same_date = statutes::load(&txn, &s.short_id, &s.revision_date).await?;
        if same_date.is_some_and(|old| !old.changed_in(&s).is_empty() || old.articles.len() != s.articles.len()) {
            return Err(ServiceError::rejected(
                "file",
                format!(
                    "版本 {} 已收录，条文与此文件不同；修订请用新的版本日期",
                    s.revision_date
                ),
                format!(
                    "revision {} is on file with other text; a correction needs a new revision date",
                    s.revision_date
                ),
            ));
        }
    }
    let mut out = SyncOutcome::default();
    sync_statutes(&txn, std::slice::from_ref(&s), &mut out).await?;
    let summary = format!(
        "《{}》{} 版生效（原 {}），{} 道题待复核",
        s.title,
        s.revision_date,
        previous.as_ref().map_or("无", |p| p.current_revision.as_str()),
        out.flagged.len()
    );
    let object = format!("statute:{}", s.short_id);
    crate::services::audit::record_in(&txn, by, crate::domain::audit::Action::StatuteUpload, object, summary).await?;
    txn.commit().await?;
    tracing::info!(statute = %s.short_id, revision = %s.revision_date, flagged = out.flagged.len(), "statute uploaded");
    Ok(StatuteUpload {
        title: s.title,
        revision_date: s.revision_date,
        previous: previous.map(|p| p.current_revision),
        flagged: out.flagged,
    })
}

/// A newer revision comes into force: the questions citing an article whose text changed go to review.
async fn amend(
    db: &impl ConnectionTrait,
    s: &Statute,
    previous: &StatuteInfo,
    out: &mut SyncOutcome,
) -> Result<(), ServiceError> {
    let old = statutes::load(db, &s.short_id, &previous.current_revision).await?;
    statutes::upsert(db, &s.short_id, &s.title, &s.revision_date).await?;
    let changed = old.map(|o| o.changed_in(s)).unwrap_or_default();
    if changed.is_empty() {
        return Ok(());
    }
    tracing::info!(statute = %s.short_id, revision = %s.revision_date, articles = ?changed, "statute amended");
    for (id, articles) in db::citing_changed(db, &s.short_id, &changed, &s.revision_date).await? {
        set_review(db, id, &amendment_reason(s, &articles)).await?;
        if let Some(q) = db::question(db, id).await? {
            out.flagged.push(q.qid);
        }
    }
    Ok(())
}

/// Why a question awaits review after an amendment, e.g. 《…》第八条、第九条已于 2026-01-01 修改….
fn amendment_reason(s: &Statute, articles: &BTreeSet<u32>) -> String {
    let list = articles
        .iter()
        .map(|a| format!("第{}条", chinese_number(*a)))
        .collect::<Vec<_>>()
        .join("、");
    format!(
        "《{}》{list}已于 {} 修改，请核对题目是否仍然正确",
        s.title, s.revision_date
    )
}

/// A valid bank file being loaded: its name and header, whether its reviewer's sign-off approves
/// its questions, and the statute revisions in force.
struct Loading<'a> {
    file_name: &'a str,
    meta: &'a BankMeta,
    approved: bool,
    revisions: &'a HashMap<String, String>,
}

/// Loads one valid bank file.
async fn sync_bank(
    db: &impl ConnectionTrait,
    l: &Loading<'_>,
    questions: &[FileQuestion],
    out: &mut SyncOutcome,
) -> Result<i64, ServiceError> {
    let bank_id = db::upsert_bank(db, l.meta, BankSource::File, Some(l.file_name)).await?;
    let by = format!("{}（题库文件）", l.meta.reviewer);
    for fq in questions {
        sync_question(db, bank_id, fq, l, &by, out).await?;
    }
    let seen: HashSet<&str> = questions.iter().map(|q| q.id.as_str()).collect();
    retire_questions(
        db,
        bank_id,
        |q| !seen.contains(q.qid.as_str()),
        "已从题库文件中删除",
        out,
    )
    .await?;
    Ok(bank_id)
}

/// Loads one question of a valid file: created, given a new version, or left alone when the file
/// says what it said last time.
async fn sync_question(
    db: &impl ConnectionTrait,
    bank_id: i64,
    fq: &FileQuestion,
    l: &Loading<'_>,
    by: &str,
    out: &mut SyncOutcome,
) -> Result<(), ServiceError> {
    let fp = fq.content.fingerprint();
    let revs = revisions_for(&fq.content, l.revisions);
    let version = |question_id: i64| NewVersion {
        question_id,
        content: &fq.content,
        revisions: &revs,
        created_by: Some(by),
        author_id: None,
        // A bank file is signed off by its reviewer (`reviewer` and `review_date` in its header);
        // a sample bank's placeholder reviewer signs off nothing in production.
        approved_by: l.approved.then_some((by, None)),
        draft: false,
    };
    match db::question_by_qid(db, &fq.id).await? {
        None => {
            let id = db::insert_question(db, bank_id, &fq.id, QuestionStatus::Active, None).await?;
            db::add_version(db, version(id)).await?;
            db::set_file_fingerprint(db, id, &fp, bank_id).await?;
            out.questions_created += 1;
        }
        Some(q) if as_last_loaded(&q, &fp, bank_id) => {}
        Some(q) => {
            if q.current.content.fingerprint() != fp {
                db::add_version(db, version(q.id)).await?;
                out.versions_created += 1;
            }
            if q.status != QuestionStatus::Active && q.file_fingerprint.as_deref() != Some(fp.as_str()) {
                // Editing the file is a lawyer's decision about the question: it resolves a review
                // and brings a retired question back.
                activate(db, q.id, by).await?;
            }
            db::set_file_fingerprint(db, q.id, &fp, bank_id).await?;
        }
    }
    Ok(())
}

/// The file says what it said when this question was last loaded from it, into this bank, and the
/// question is still in use.
fn as_last_loaded(q: &Question, fingerprint: &str, bank_id: i64) -> bool {
    q.file_fingerprint.as_deref() == Some(fingerprint) && q.bank_id == bank_id && q.status != QuestionStatus::Retired
}

/// Retires the questions of a bank that `gone` picks (and are not retired yet).
async fn retire_questions(
    db: &impl ConnectionTrait,
    bank_id: i64,
    gone: impl Fn(&Question) -> bool,
    reason: &str,
    out: &mut SyncOutcome,
) -> Result<(), ServiceError> {
    for q in db::questions_of_bank(db, bank_id).await? {
        if gone(&q) && q.status != QuestionStatus::Retired {
            super::retire(db, q.id, reason).await?;
            out.questions_retired += 1;
        }
    }
    Ok(())
}

/// Records a refused file with its problems (and logs each).
async fn record_refused(txn: &impl ConnectionTrait, f: &CheckedFile, name: &str) -> Result<(), ServiceError> {
    let problems = f
        .parsed
        .problems
        .iter()
        .map(|p| format!("{name}:{}: {}", p.line, p.message.zh))
        .collect::<Vec<_>>()
        .join("\n");
    for p in &f.parsed.problems {
        tracing::warn!(file = %name, line = p.line, problem = %p.message, "bank file refused");
    }
    // Link the file to its bank only if that bank was loaded from this very file: a file that borrows
    // another bank's id must not speak for (or, once deleted, retire) it.
    let bank_id = match f.parsed.meta.as_ref() {
        Some(m) => db::bank_by_slug(txn, &m.id)
            .await?
            .filter(|b| b.file_name.as_deref() == Some(name))
            .map(|b| b.id),
        None => None,
    };
    db::record_file(txn, name, bank_id, Some(problems)).await?;
    Ok(())
}

/// Bank files that are gone: their banks and questions are retired.
async fn retire_vanished_files(
    txn: &impl ConnectionTrait,
    present: &HashSet<String>,
    out: &mut SyncOutcome,
) -> Result<(), ServiceError> {
    for status in db::file_statuses(txn).await? {
        if present.contains(&status.file_name) {
            continue;
        }
        // A bank another file has taken over (a renamed file) is not retired with its old file.
        let still_this_files = match status.bank_id {
            Some(id) => db::bank(txn, id)
                .await?
                .is_some_and(|b| b.file_name.as_deref() == Some(status.file_name.as_str())),
            None => false,
        };
        if let Some(bank_id) = status.bank_id.filter(|_| still_this_files) {
            retire_questions(txn, bank_id, |_| true, "题库文件已删除", out).await?;
            db::set_bank_retired(txn, bank_id, true).await?;
        }
        db::forget_file(txn, &status.file_name).await?;
    }
    Ok(())
}
