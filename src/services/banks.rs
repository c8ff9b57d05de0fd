//! Question banks: loading the files into the database, statute amendments, and the lawyers' edits.
//!
//! Loading (`sync_dir`) runs at start-up in one transaction:
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

use super::ServiceError;
use crate::db::banks::{self as db, NewVersion, StatusChange};
use crate::db::statutes;
use crate::domain::bank::{Bank, BankSource, Question, QuestionStatus};
use crate::domain::question::{Citation, QuestionContent, chinese_number, valid_id};
use crate::domain::statute::Statute;
use crate::i18n::Text;
use crate::question_banks::check::{self, Report};
use crate::question_banks::{BankMeta, ImportResult, Problem, export};

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

/// The revision in force for each statute, for pinning new versions.
async fn current_revisions(db: &impl ConnectionTrait) -> Result<HashMap<String, String>, ServiceError> {
    Ok(statutes::all(db)
        .await?
        .into_iter()
        .map(|s| (s.short_id, s.current_revision))
        .collect())
}

fn revisions_for(content: &QuestionContent, current: &HashMap<String, String>) -> Vec<String> {
    content
        .citations
        .iter()
        .map(|c| current.get(&c.statute).cloned().unwrap_or_default())
        .collect()
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
            None => {}
            Some(p) if p.current_revision < s.revision_date => {
                let old = statutes::load(db, &s.short_id, &p.current_revision).await?;
                statutes::upsert(db, &s.short_id, &s.title, &s.revision_date).await?;
                let changed = old.map(|o| o.changed_in(s)).unwrap_or_default();
                if changed.is_empty() {
                    continue;
                }
                tracing::info!(statute = %s.short_id, revision = %s.revision_date, articles = ?changed, "statute amended");
                for (qid, articles) in db::citing_changed(db, &s.short_id, &changed, &s.revision_date).await? {
                    let list = articles
                        .iter()
                        .map(|a| format!("第{}条", chinese_number(*a)))
                        .collect::<Vec<_>>()
                        .join("、");
                    let reason = format!(
                        "《{}》{list}已于 {} 修改，请核对题目是否仍然正确",
                        s.title, s.revision_date
                    );
                    db::set_status(
                        db,
                        qid,
                        StatusChange {
                            status: QuestionStatus::NeedsReview,
                            reason: Some(&reason),
                            reviewed_by: None,
                        },
                    )
                    .await?;
                    if let Some(q) = db::question(db, qid).await? {
                        out.flagged.push(q.qid);
                    }
                }
            }
            Some(p) if p.title != s.title && p.current_revision == s.revision_date => {
                statutes::upsert(db, &s.short_id, &s.title, &s.revision_date).await?
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Loads one valid bank file.
async fn sync_bank(
    db: &impl ConnectionTrait,
    file_name: &str,
    meta: &BankMeta,
    questions: &[crate::question_banks::FileQuestion],
    revisions: &HashMap<String, String>,
    out: &mut SyncOutcome,
) -> Result<i64, ServiceError> {
    let bank_id = db::upsert_bank(db, meta, BankSource::File, Some(file_name)).await?;
    let by = format!("{}（题库文件）", meta.reviewer);
    let mut seen = HashSet::new();
    for fq in questions {
        seen.insert(fq.id.clone());
        let fp = fq.content.fingerprint();
        let revs = revisions_for(&fq.content, revisions);
        let new_version = |qid: i64| NewVersion {
            question_id: qid,
            content: &fq.content,
            revisions: &revs,
            created_by: Some(&by),
        };
        match db::question_by_qid(db, &fq.id).await? {
            None => {
                let qid = db::insert_question(db, bank_id, &fq.id, QuestionStatus::Active, None).await?;
                db::add_version(db, new_version(qid)).await?;
                db::set_file_fingerprint(db, qid, &fp, bank_id).await?;
                out.questions_created += 1;
            }
            Some(q)
                if q.file_fingerprint.as_deref() == Some(fp.as_str())
                    && q.bank_id == bank_id
                    && q.status != QuestionStatus::Retired => {}
            Some(q) => {
                if q.current.content.fingerprint() != fp {
                    db::add_version(db, new_version(q.id)).await?;
                    out.versions_created += 1;
                }
                if q.status != QuestionStatus::Active && q.file_fingerprint.as_deref() != Some(fp.as_str()) {
                    // Editing the file is a lawyer's decision about the question: it resolves a review
                    // and brings a retired question back.
                    db::set_status(
                        db,
                        q.id,
                        StatusChange {
                            status: QuestionStatus::Active,
                            reason: None,
                            reviewed_by: Some(&by),
                        },
                    )
                    .await?;
                }
                db::set_file_fingerprint(db, q.id, &fp, bank_id).await?;
            }
        }
    }
    for q in db::questions_of_bank(db, bank_id).await? {
        if !seen.contains(&q.qid) && q.status != QuestionStatus::Retired {
            let reason = "已从题库文件中删除";
            db::set_status(
                db,
                q.id,
                StatusChange {
                    status: QuestionStatus::Retired,
                    reason: Some(reason),
                    reviewed_by: None,
                },
            )
            .await?;
            out.questions_retired += 1;
        }
    }
    Ok(bank_id)
}

/// Validates a folder and loads what is valid, in one transaction.
#[tracing::instrument(skip_all)]
pub async fn sync_dir(db: &DatabaseConnection, dir: &Path) -> Result<(Report, SyncOutcome), ServiceError> {
    let mut out = SyncOutcome::default();
    let txn = crate::db::begin_write(db).await?;
    // An id used by two files stays with the file the database has it from, so a copy-paste into
    // another file refuses that file and leaves the established bank alone.
    let report = check::check_dir_with(dir, &db::established_ids(&txn).await?);
    sync_statutes(&txn, &report.statutes, &mut out).await?;
    let revisions = current_revisions(&txn).await?;
    let mut present = HashSet::new();
    for f in &report.files {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        present.insert(name.clone());
        match (&f.parsed.meta, f.is_valid()) {
            (Some(meta), true) => {
                let id = sync_bank(&txn, &name, meta, &f.parsed.questions, &revisions, &mut out).await?;
                db::record_file(&txn, &name, Some(id), None).await?;
                out.banks_loaded += 1;
            }
            _ => {
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
                // Link the file to its bank only if that bank was loaded from this very file: a file
                // that borrows another bank's id must not speak for (or, once deleted, retire) it.
                let bank_id = match f.parsed.meta.as_ref() {
                    Some(m) => db::bank_by_slug(&txn, &m.id)
                        .await?
                        .filter(|b| b.file_name.as_deref() == Some(name.as_str()))
                        .map(|b| b.id),
                    None => None,
                };
                db::record_file(&txn, &name, bank_id, Some(problems)).await?;
                out.banks_refused.push(name);
            }
        }
    }
    // Bank files that are gone: retire their banks and questions.
    for status in db::file_statuses(&txn).await? {
        if present.contains(&status.file_name) {
            continue;
        }
        // A bank another file has taken over (a renamed file) is not retired with its old file.
        let still_this_files = match status.bank_id {
            Some(id) => db::bank(&txn, id)
                .await?
                .is_some_and(|b| b.file_name.as_deref() == Some(status.file_name.as_str())),
            None => false,
        };
        if let Some(bank_id) = status.bank_id.filter(|_| still_this_files) {
            for q in db::questions_of_bank(&txn, bank_id).await? {
                if q.status != QuestionStatus::Retired {
                    db::set_status(
                        &txn,
                        q.id,
                        StatusChange {
                            status: QuestionStatus::Retired,
                            reason: Some("题库文件已删除"),
                            reviewed_by: None,
                        },
                    )
                    .await?;
                    out.questions_retired += 1;
                }
            }
            db::set_bank_retired(&txn, bank_id, true).await?;
        }
        db::forget_file(&txn, &status.file_name).await?;
    }
    txn.commit().await?;
    tracing::info!(?out, "question banks loaded");
    Ok((report, out))
}

/// Problems of a question as form errors: its own rules plus citations against the current statutes.
pub async fn question_problems(
    db: &impl ConnectionTrait,
    content: &QuestionContent,
) -> Result<Vec<(&'static str, Text)>, ServiceError> {
    let mut out: Vec<(&'static str, Text)> = content.problems().into_iter().map(|p| (p.field, p.message)).collect();
    out.extend(citation_problems(db, &content.citations).await?);
    Ok(out)
}

/// Citations that do not resolve in the statutes in force.
pub async fn citation_problems(
    db: &impl ConnectionTrait,
    citations: &[Citation],
) -> Result<Vec<(&'static str, Text)>, ServiceError> {
    let mut out = Vec::new();
    let current = statutes::current_all(db).await?;
    for c in citations {
        let problem = match current.iter().find(|s| s.short_id == c.statute) {
            None => Some(Text::new(
                format!("未知的法规代号“{}”", c.statute),
                format!("unknown statute `{}`", c.statute),
            )),
            Some(s) => s.check(c).err(),
        };
        if let Some(p) = problem {
            out.push(("citations", p));
        }
    }
    Ok(out)
}

/// Saves a question edited or created in the web UI: a new version if the content changed. Editing a
/// question resolves its review (recorded with the editor's name and the date).
#[tracing::instrument(skip_all)]
pub async fn save_question(
    db: &DatabaseConnection,
    bank: &Bank,
    qid: &str,
    content: &QuestionContent,
    editor: &str,
) -> Result<i64, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let mut problems = question_problems(&txn, content).await?;
    if !valid_id(qid) {
        problems.push((
            "qid",
            Text::new(
                "编号只能包含小写字母、数字和连字符",
                "the id may hold lowercase letters, digits and '-' only",
            ),
        ));
    }
    let existing = db::question_by_qid(&txn, qid).await?;
    if let Some(q) = &existing
        && q.bank_id != bank.id
    {
        problems.push((
            "qid",
            Text::new(
                format!("编号“{qid}”已被其他题库使用"),
                format!("id `{qid}` is used in another bank"),
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(ServiceError::Rejected(problems.into()));
    }
    let revisions = revisions_for(content, &current_revisions(&txn).await?);
    let id = match existing {
        None => {
            let id = db::insert_question(&txn, bank.id, qid, QuestionStatus::Active, None).await?;
            db::add_version(
                &txn,
                NewVersion {
                    question_id: id,
                    content,
                    revisions: &revisions,
                    created_by: Some(editor),
                },
            )
            .await?;
            id
        }
        Some(q) => {
            if q.current.content.fingerprint() != content.fingerprint() {
                db::add_version(
                    &txn,
                    NewVersion {
                        question_id: q.id,
                        content,
                        revisions: &revisions,
                        created_by: Some(editor),
                    },
                )
                .await?;
            }
            if q.status != QuestionStatus::Active {
                db::set_status(
                    &txn,
                    q.id,
                    StatusChange {
                        status: QuestionStatus::Active,
                        reason: None,
                        reviewed_by: Some(editor),
                    },
                )
                .await?;
            }
            q.id
        }
    };
    txn.commit().await?;
    tracing::info!(question = %qid, "question saved");
    Ok(id)
}

/// A lawyer re-confirms a 待复核 question against the current statute text: a new version pinned to the
/// current revisions, recorded with their name and the date.
#[tracing::instrument(skip_all, fields(question = question_id))]
pub async fn confirm_review(db: &DatabaseConnection, question_id: i64, reviewer: &str) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let q = db::question(&txn, question_id).await?.ok_or(ServiceError::NotFound)?;
    if q.status != QuestionStatus::NeedsReview {
        return Err(ServiceError::refused(
            "这道题不需要复核",
            "this question is not awaiting review",
        ));
    }
    let problems = question_problems(&txn, &q.current.content).await?;
    if let Some((_, p)) = problems.first() {
        return Err(ServiceError::refused(
            format!("请先修改题目再确认：{}", p.zh),
            format!("edit the question before confirming: {}", p.en),
        ));
    }
    let revisions = revisions_for(&q.current.content, &current_revisions(&txn).await?);
    db::add_version(
        &txn,
        NewVersion {
            question_id: q.id,
            content: &q.current.content,
            revisions: &revisions,
            created_by: Some(reviewer),
        },
    )
    .await?;
    db::set_status(
        &txn,
        q.id,
        StatusChange {
            status: QuestionStatus::Active,
            reason: None,
            reviewed_by: Some(reviewer),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(question = %q.qid, "review confirmed");
    Ok(())
}

/// The bank in its file format (active and 待复核 questions; retired ones are left out).
pub async fn export_bank(db: &impl ConnectionTrait, bank_id: i64) -> Result<(Bank, String), ServiceError> {
    let bank = db::bank(db, bank_id).await?.ok_or(ServiceError::NotFound)?;
    let questions: Vec<(String, QuestionContent)> = db::questions_of_bank(db, bank_id)
        .await?
        .into_iter()
        .filter(|q| q.status != QuestionStatus::Retired)
        .map(|q| (q.qid, q.current.content))
        .collect();
    let meta = BankMeta {
        id: bank.slug.clone(),
        title: bank.title.clone(),
        topic: bank.topic.clone(),
        authors: bank.authors.clone(),
        reviewer: bank.reviewer.clone(),
        review_date: bank.review_date.clone(),
        sample: bank.sample,
    };
    let text = export::write(&meta, &questions);
    Ok((bank, text))
}

/// Creates a bank in the web UI.
pub async fn create_bank(db: &impl ConnectionTrait, meta: &BankMeta) -> Result<i64, ServiceError> {
    let mut problems = Vec::new();
    if !valid_id(&meta.id) {
        problems.push((
            "slug",
            Text::new(
                "编号只能包含小写字母、数字和连字符",
                "lowercase letters, digits and '-' only",
            ),
        ));
    } else if db::bank_by_slug(db, &meta.id).await?.is_some() {
        problems.push(("slug", Text::new("这个编号已被使用", "this id is taken")));
    }
    for (field, v) in [("title", &meta.title), ("topic", &meta.topic)] {
        if v.trim().is_empty() {
            problems.push((field, Text::new("不能为空", "required")));
        }
    }
    if !problems.is_empty() {
        return Err(ServiceError::Rejected(problems.into()));
    }
    Ok(db::upsert_bank(db, meta, BankSource::Web, None).await?)
}

/// Imports parsed GIFT/Aiken questions into a bank. They arrive without citations, so they are stored as
/// 待复核 (never drawn) until a lawyer adds the articles they test. Returns the number imported.
#[tracing::instrument(skip_all)]
pub async fn import_questions(
    db: &DatabaseConnection,
    bank: &Bank,
    parsed: &ImportResult,
    importer: &str,
) -> Result<usize, ServiceError> {
    if !parsed.problems.is_empty() {
        return Err(ServiceError::refused(
            format!("文件有 {} 处无法识别，没有导入任何题目", parsed.problems.len()),
            format!(
                "{} lines could not be read; nothing was imported",
                parsed.problems.len()
            ),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let existing: BTreeSet<String> = db::questions_of_bank(&txn, bank.id)
        .await?
        .into_iter()
        .map(|q| q.qid)
        .collect();
    let mut n = 0;
    let mut next = 1;
    for q in &parsed.questions {
        let qid = loop {
            let candidate = format!("{}-imp-{next:03}", bank.slug);
            next += 1;
            if !existing.contains(&candidate) && db::question_by_qid(&txn, &candidate).await?.is_none() {
                break candidate;
            }
        };
        let reason = "导入的题目还没有法条依据和解析，请补充后保存";
        let id = db::insert_question(&txn, bank.id, &qid, QuestionStatus::NeedsReview, Some(reason)).await?;
        db::add_version(
            &txn,
            NewVersion {
                question_id: id,
                content: &q.content,
                revisions: &[],
                created_by: Some(importer),
            },
        )
        .await?;
        n += 1;
    }
    txn.commit().await?;
    Ok(n)
}

/// A question's page data: the question, its versions, and the cited article texts as of the current
/// version's revisions (and as in force today, when that differs).
pub struct QuestionDetail {
    pub question: Question,
    pub bank: Bank,
    pub versions: Vec<crate::domain::bank::QuestionVersion>,
    pub articles: Vec<CitedArticle>,
}

pub struct CitedArticle {
    pub citation: Citation,
    pub statute_title: String,
    pub revision: String,
    pub text: Option<String>,
    /// The text in force now, if the revision the question was written against is older and differs.
    pub current_text: Option<(String, String)>,
}

pub async fn question_detail(db: &impl ConnectionTrait, question_id: i64) -> Result<QuestionDetail, ServiceError> {
    let question = db::question(db, question_id).await?.ok_or(ServiceError::NotFound)?;
    let bank = db::bank(db, question.bank_id).await?.ok_or(ServiceError::NotFound)?;
    let versions = db::versions_of(db, question_id).await?;
    let articles = cited_articles(db, &question.current).await?;
    Ok(QuestionDetail {
        question,
        bank,
        versions,
        articles,
    })
}

/// The article texts a version cites, as of the revisions it pinned.
pub async fn cited_articles(
    db: &impl ConnectionTrait,
    v: &crate::domain::bank::QuestionVersion,
) -> Result<Vec<CitedArticle>, ServiceError> {
    let mut out = Vec::new();
    for (i, c) in v.content.citations.iter().enumerate() {
        let info = statutes::info(db, &c.statute).await?;
        let revision = v
            .revisions
            .get(i)
            .cloned()
            .filter(|r| !r.is_empty())
            .or_else(|| info.as_ref().map(|s| s.current_revision.clone()))
            .unwrap_or_default();
        let text = statutes::article(db, &c.statute, &revision, c.article)
            .await?
            .map(|a| a.text);
        let current_text = match &info {
            Some(s) if s.current_revision != revision => {
                statutes::article(db, &c.statute, &s.current_revision, c.article)
                    .await?
                    .map(|a| a.text)
                    .filter(|t| Some(t) != text.as_ref())
                    .map(|t| (s.current_revision.clone(), t))
            }
            _ => None,
        };
        out.push(CitedArticle {
            citation: c.clone(),
            statute_title: info.map(|s| s.title).unwrap_or_else(|| c.statute.clone()),
            revision,
            text,
            current_text,
        });
    }
    Ok(out)
}

/// Turns import problems into a message list (for pages and logs).
pub fn describe(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.line, p.message.zh))
        .collect()
}

/// Filters for a bank's question list.
#[derive(Debug, Default, Clone)]
pub struct QuestionFilter {
    /// Words in the stem, options or id.
    pub text: String,
    pub tag: String,
    /// `statute` or `statute article`.
    pub citation: String,
    pub status: Option<QuestionStatus>,
}

impl QuestionFilter {
    fn matches(&self, q: &Question) -> bool {
        let c = &q.current.content;
        let text = self.text.trim();
        let text_ok = text.is_empty()
            || q.qid.contains(text)
            || c.stem.contains(text)
            || c.options.iter().any(|o| o.contains(text))
            || c.explanation.contains(text);
        let tag_ok = self.tag.trim().is_empty() || c.tags.iter().any(|t| t == self.tag.trim());
        let mut parts = self.citation.split_whitespace();
        let cite_ok = match (parts.next(), parts.next().and_then(|a| a.parse::<u32>().ok())) {
            (None, _) => true,
            (Some(s), None) => c.citations.iter().any(|x| x.statute == s),
            (Some(s), Some(a)) => c.citations.iter().any(|x| x.statute == s && x.article == a),
        };
        let status_ok = self.status.is_none_or(|s| s == q.status);
        text_ok && tag_ok && cite_ok && status_ok
    }
}

/// A bank with its questions, filtered, plus the tags in use (for the filter's choices).
pub async fn bank_questions(
    db: &impl ConnectionTrait,
    bank_id: i64,
    filter: &QuestionFilter,
) -> Result<(Bank, Vec<Question>, BTreeSet<String>), ServiceError> {
    let bank = db::bank(db, bank_id).await?.ok_or(ServiceError::NotFound)?;
    let all = db::questions_of_bank(db, bank_id).await?;
    let tags = all
        .iter()
        .flat_map(|q| q.current.content.tags.iter().cloned())
        .collect();
    Ok((bank, all.into_iter().filter(|q| filter.matches(q)).collect(), tags))
}

/// Banks with their question counts per status.
pub async fn overview(db: &impl ConnectionTrait) -> Result<Vec<(Bank, HashMap<QuestionStatus, usize>)>, ServiceError> {
    let mut out = Vec::new();
    for b in db::banks(db).await? {
        let mut counts = HashMap::new();
        for q in db::questions_of_bank(db, b.id).await? {
            *counts.entry(q.status).or_insert(0) += 1;
        }
        out.push((b, counts));
    }
    Ok(out)
}

/// The questions a quiz may draw from a bank: active ones only (never 待复核 or retired).
pub async fn drawable(db: &impl ConnectionTrait, bank_id: i64) -> Result<Vec<Question>, ServiceError> {
    Ok(db::questions_of_bank(db, bank_id)
        .await?
        .into_iter()
        .filter(|q| q.status == QuestionStatus::Active)
        .collect())
}
