//! Question banks: the lawyers' pages and edits, and (in `sync`) loading the files into the database.

mod sync;

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ConnectionTrait, DatabaseConnection};

pub use self::sync::{SampleBanks, StatuteUpload, SyncOutcome, sync_dir, sync_dir_with, upload_statute};
use super::{FieldErrors, ServiceError, audit};
use crate::db::banks::{self as db, NewVersion, StatusChange};
use crate::db::statutes;
use crate::domain::audit::Action;
use crate::domain::bank::{Bank, BankFileStatus, BankSource, Question, QuestionStatus, QuestionVersion};
use crate::domain::question::{Citation, QuestionContent, QuestionDraft, valid_id};
use crate::domain::statute::{StatuteCoverage, StatuteInfo, citation_problem, coverage};
use crate::i18n::Text;
use crate::question_banks::{BankMeta, ImportResult, Problem, aiken, export, gift};

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

/// Marks a question 待复核 with the reason: it is not drawn until a lawyer edits or confirms it.
async fn set_review(db: &impl ConnectionTrait, id: i64, reason: &str) -> Result<(), ServiceError> {
    let change = StatusChange {
        status: QuestionStatus::NeedsReview,
        reason: Some(reason),
        reviewed_by: None,
    };
    Ok(db::set_status(db, id, change).await?)
}

/// Puts a question (back) in use; `by` resolved its review.
async fn activate(db: &impl ConnectionTrait, id: i64, by: &str) -> Result<(), ServiceError> {
    let change = StatusChange {
        status: QuestionStatus::Active,
        reason: None,
        reviewed_by: Some(by),
    };
    Ok(db::set_status(db, id, change).await?)
}

/// Retires a question: never drawn again, kept so old attempts can still show it.
async fn retire(db: &impl ConnectionTrait, id: i64, reason: &str) -> Result<(), ServiceError> {
    let change = StatusChange {
        status: QuestionStatus::Retired,
        reason: Some(reason),
        reviewed_by: None,
    };
    Ok(db::set_status(db, id, change).await?)
}

/// Problems of a question as form errors: its own rules plus citations against the current statutes.
pub async fn question_problems(
    db: &impl ConnectionTrait,
    content: &QuestionContent,
) -> Result<Vec<(&'static str, Text)>, ServiceError> {
    let mut out: Vec<(&'static str, Text)> = content.problems().into_iter().map(|p| (p.field, p.message)).collect();
    // The same first-screen rule as bank files (`question_banks::fit`), so a question written in the
    // editor cannot be one a chair must scroll to read.
    let fit = crate::question_banks::fit::estimate(content);
    if !fit.fits() {
        let (lines, max) = (fit.lines(), crate::question_banks::fit::Estimate::max_lines());
        out.push((
            "stem",
            Text::new(
                format!("题目在手机上一屏放不下（约 {lines} 行，最多 {max} 行；每行约 14 个字），请精简题干或选项"),
                format!(
                    "the question does not fit a phone's first screen (about {lines} lines, at most {max}; a line \
                     holds about 14 Chinese characters): shorten the stem or the options"
                ),
            ),
        ));
    }
    out.extend(citation_problems(db, &content.citations).await?);
    Ok(out)
}

/// Citations that do not resolve in the statutes in force.
pub async fn citation_problems(
    db: &impl ConnectionTrait,
    citations: &[Citation],
) -> Result<Vec<(&'static str, Text)>, ServiceError> {
    let current = statutes::current_all(db).await?;
    Ok(citations
        .iter()
        .filter_map(|c| citation_problem(current.iter().find(|s| s.short_id == c.statute), c))
        .map(|p| ("citations", p))
        .collect())
}

/// What saving the editor asks for: keep a draft its author goes on with, or submit the version for a
/// second lawyer's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saving {
    Draft,
    Submit,
}

/// Its author submits her draft for approval; refused to anyone else and for a version that is not a
/// draft.
#[tracing::instrument(skip_all, fields(question = question_id))]
pub async fn submit_draft(db: &DatabaseConnection, question_id: i64, author: Lawyer<'_>) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let q = db::question(&txn, question_id).await?.ok_or(ServiceError::NotFound)?;
    if !q.current.draft {
        return Err(ServiceError::refused(
            "这个版本已经提交审核",
            "this version has already been submitted",
        ));
    }
    if q.current.author_id != Some(author.id) {
        return Err(ServiceError::refused(
            "只有作者可以提交自己的草稿",
            "only its author submits a draft",
        ));
    }
    if let Some((_, p)) = question_problems(&txn, &q.current.content).await?.first() {
        return Err(ServiceError::refused(
            format!("请先修改再提交：{}", p.zh),
            format!("edit the question before submitting it: {}", p.en),
        ));
    }
    db::submit_version(&txn, q.current.id).await?;
    let summary = format!("{} 第 {} 版提交审核", q.qid, q.current.version_no);
    audit::record_in(
        &txn,
        &author.actor(),
        Action::QuestionSubmit,
        format!("question:{}", q.id),
        summary,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(question = %q.qid, version = q.current.version_no, "draft submitted");
    Ok(())
}

/// The lawyer writing or reviewing: her account and the name her versions carry.
#[derive(Debug, Clone, Copy)]
pub struct Lawyer<'a> {
    pub id: i64,
    pub name: &'a str,
    /// Where her request came from (the audit trail records it).
    pub address: &'a str,
}

impl Lawyer<'_> {
    /// Her, acting from this request's address, as the audit trail records her.
    pub(crate) fn actor(&self) -> super::audit::Actor {
        super::audit::Actor {
            person_id: Some(self.id),
            address: self.address.to_string(),
        }
    }
}

/// Saves the editor's fields as question `qid` of `bank` (new, or a new version of it), as a draft or
/// submitted for approval. Every problem comes back at its field, the shape of the question and
/// unknown citations together.
pub async fn save_edited(
    db: &DatabaseConnection,
    bank: &Bank,
    qid: &str,
    draft: &QuestionDraft<'_>,
    editor: Lawyer<'_>,
    intent: Saving,
) -> Result<i64, ServiceError> {
    match draft.parse() {
        Ok(content) => save_question(db, bank, qid, &content, editor, intent).await,
        Err(e) => {
            let mut errors: FieldErrors = e.into_iter().map(|p| (p.field, p.message)).collect();
            errors.extend(citation_problems(db, &draft.citations()).await?);
            Err(ServiceError::Rejected(errors))
        }
    }
}

/// What is wrong with saving `content` as question `qid` of `bank`, beyond the question itself: the
/// id's shape and whether another bank uses it. Returns the question already under that id.
async fn id_problems(
    txn: &impl ConnectionTrait,
    bank: &Bank,
    qid: &str,
    problems: &mut Vec<(&'static str, Text)>,
) -> Result<Option<Question>, ServiceError> {
    if !valid_id(qid) {
        problems.push((
            "qid",
            Text::new(
                "编号只能包含小写字母、数字和连字符",
                "the id may hold lowercase letters, digits and '-' only",
            ),
        ));
    }
    let existing = db::question_by_qid(txn, qid).await?;
    if existing.as_ref().is_some_and(|q| q.bank_id != bank.id) {
        problems.push((
            "qid",
            Text::new(
                format!("编号“{qid}”已被其他题库使用"),
                format!("id `{qid}` is used in another bank"),
            ),
        ));
    }
    Ok(existing)
}

/// Saves a question edited or created in the web UI: a new version if the content changed, which waits
/// for another lawyer's approval; meanwhile the approved version (if any) keeps being drawn, and a
/// 待复核 question stays out of quizzes until its new version is approved.
#[tracing::instrument(skip_all)]
pub async fn save_question(
    db: &DatabaseConnection,
    bank: &Bank,
    qid: &str,
    content: &QuestionContent,
    editor: Lawyer<'_>,
    intent: Saving,
) -> Result<i64, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let mut problems = question_problems(&txn, content).await?;
    let existing = id_problems(&txn, bank, qid, &mut problems).await?;
    if !problems.is_empty() {
        return Err(ServiceError::Rejected(problems.into()));
    }
    let revisions = revisions_for(content, &current_revisions(&txn).await?);
    let version = |question_id: i64| NewVersion {
        question_id,
        content,
        revisions: &revisions,
        created_by: Some(editor.name),
        author_id: Some(editor.id),
        approved_by: None,
        draft: intent == Saving::Draft,
    };
    let id = match existing {
        None => {
            let id = db::insert_question(&txn, bank.id, qid, QuestionStatus::Active, None).await?;
            db::add_version(&txn, version(id)).await?;
            id
        }
        Some(q) => {
            if q.current.content.fingerprint() != content.fingerprint() {
                db::add_version(&txn, version(q.id)).await?;
            } else if intent == Saving::Submit && q.current.draft {
                // Unchanged since the draft was saved: submitting it is all that is asked, and only
                // its author may (another lawyer would then approve a version nobody else reviewed).
                if q.current.author_id != Some(editor.id) {
                    return Err(ServiceError::refused(
                        "只有作者可以提交自己的草稿",
                        "only its author submits a draft",
                    ));
                }
                db::submit_version(&txn, q.current.id).await?;
            }
            q.id
        }
    };
    let saved = match intent {
        Saving::Draft => "保存草稿",
        Saving::Submit => "保存并提交审核",
    };
    let summary = format!("{qid}：{saved}（题库 {}）", bank.slug);
    audit::record_in(
        &txn,
        &editor.actor(),
        Action::QuestionEdit,
        format!("question:{id}"),
        summary,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(question = %qid, "question saved");
    Ok(id)
}

/// Another lawyer approves the question's current version: quizzes draw it from now on, and a 待复核
/// question is back in use. The author cannot approve her own version.
#[tracing::instrument(skip_all, fields(question = question_id))]
pub async fn approve(db: &DatabaseConnection, question_id: i64, reviewer: Lawyer<'_>) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let q = db::question(&txn, question_id).await?.ok_or(ServiceError::NotFound)?;
    if let Some(why) = q.approval_refused(Some(reviewer.id)) {
        return Err(ServiceError::Refused(why));
    }
    if let Some((_, p)) = question_problems(&txn, &q.current.content).await?.first() {
        return Err(ServiceError::refused(
            format!("这个版本还不能使用：{}", p.zh),
            format!("this version cannot be used yet: {}", p.en),
        ));
    }
    db::approve_version(&txn, q.id, q.current.id, reviewer.name, reviewer.id).await?;
    if q.status == QuestionStatus::NeedsReview {
        activate(&txn, q.id, reviewer.name).await?;
    }
    let summary = format!("{} 第 {} 版批准使用", q.qid, q.current.version_no);
    audit::record_in(
        &txn,
        &reviewer.actor(),
        Action::QuestionApprove,
        format!("question:{}", q.id),
        summary,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(question = %q.qid, version = q.current.version_no, "version approved");
    Ok(())
}

/// A reviewing lawyer sends the current version back to its author, saying what to change; the
/// approved version (if any) stays in use.
#[tracing::instrument(skip_all, fields(question = question_id))]
pub async fn send_back(
    db: &DatabaseConnection,
    question_id: i64,
    reviewer: Lawyer<'_>,
    comment: &str,
) -> Result<(), ServiceError> {
    let comment = comment.trim();
    if comment.is_empty() {
        return Err(ServiceError::rejected(
            "comment",
            "请写明需要修改什么",
            "say what needs changing",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let q = db::question(&txn, question_id).await?.ok_or(ServiceError::NotFound)?;
    if !q.awaiting_approval() {
        return Err(ServiceError::refused(
            "这道题没有待审核的版本",
            "this question has no version awaiting approval",
        ));
    }
    db::return_version(&txn, q.current.id, reviewer.name, comment).await?;
    let summary = format!("{} 第 {} 版退回：{comment}", q.qid, q.current.version_no);
    audit::record_in(
        &txn,
        &reviewer.actor(),
        Action::QuestionSendBack,
        format!("question:{}", q.id),
        summary,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(question = %q.qid, version = q.current.version_no, "version sent back");
    Ok(())
}

/// A lawyer re-confirms a 待复核 question against the current statute text: a new version pinned to the
/// current revisions, recorded with their name and the date.
#[tracing::instrument(skip_all, fields(question = question_id))]
pub async fn confirm_review(db: &DatabaseConnection, question_id: i64, lawyer: Lawyer<'_>) -> Result<(), ServiceError> {
    let reviewer = lawyer.name;
    let txn = crate::db::begin_write(db).await?;
    let q = db::question(&txn, question_id).await?.ok_or(ServiceError::NotFound)?;
    if q.status != QuestionStatus::NeedsReview {
        return Err(ServiceError::refused(
            "这道题不需要复核",
            "this question is not awaiting review",
        ));
    }
    if let Some((_, p)) = question_problems(&txn, &q.current.content).await?.first() {
        return Err(ServiceError::refused(
            format!("请先修改题目再确认：{}", p.zh),
            format!("edit the question before confirming: {}", p.en),
        ));
    }
    let revisions = revisions_for(&q.current.content, &current_revisions(&txn).await?);
    let version = NewVersion {
        question_id: q.id,
        content: &q.current.content,
        revisions: &revisions,
        created_by: Some(reviewer),
        author_id: None,
        // Re-confirming the same words against the statute in force is itself the review.
        approved_by: Some((reviewer, None)),
        draft: false,
    };
    db::add_version(&txn, version).await?;
    activate(&txn, q.id, reviewer).await?;
    let summary = format!("{} 按现行法条复核确认", q.qid);
    audit::record_in(
        &txn,
        &lawyer.actor(),
        Action::QuestionConfirm,
        format!("question:{}", q.id),
        summary,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(question = %q.qid, "review confirmed");
    Ok(())
}

/// The bank in its file format (active and 待复核 questions; retired ones are left out).
pub async fn export_bank(db: &impl ConnectionTrait, bank_id: i64) -> Result<(Bank, String), ServiceError> {
    let bank = bank(db, bank_id).await?;
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

/// A lawyer creates a bank on the web (`create_bank`), audited in the same transaction.
pub async fn create_bank_by(db: &DatabaseConnection, by: &audit::Actor, meta: &BankMeta) -> Result<i64, ServiceError> {
    let create = async |txn: &sea_orm::DatabaseTransaction| create_bank(txn, meta).await;
    audit::audited(db, by, Action::BankCreate, "bank", create, |id| {
        format!("新建题库 {}（{}，编号 {id}）", meta.id, meta.title)
    })
    .await
}

/// Creates a bank in the web UI.
pub async fn create_bank(db: &impl ConnectionTrait, meta: &BankMeta) -> Result<i64, ServiceError> {
    let mut problems = FieldErrors::new();
    if !valid_id(&meta.id) {
        problems.add(
            "slug",
            "编号只能包含小写字母、数字和连字符",
            "lowercase letters, digits and '-' only",
        );
    } else if db::bank_by_slug(db, &meta.id).await?.is_some() {
        problems.add("slug", "这个编号已被使用", "this id is taken");
    }
    for (field, v) in [("title", &meta.title), ("topic", &meta.topic)] {
        if v.trim().is_empty() {
            problems.add(field, "不能为空", "required");
        }
    }
    problems.or_ok(())?;
    Ok(db::upsert_bank(db, meta, BankSource::Web, None).await?)
}

/// An uploaded GIFT or Aiken file, to import into a bank.
pub struct ImportUpload<'a> {
    pub bank_id: i64,
    /// `aiken`, else GIFT.
    pub format: &'a str,
    pub bytes: &'a [u8],
}

/// What an import did: into which bank, how many questions, and each line not kept as written.
pub struct Imported {
    pub bank: Bank,
    pub count: usize,
    pub warnings: Vec<String>,
}

/// Reads and imports an uploaded file. Lines that cannot be read come back at the form's file field,
/// each with its line number, and nothing is imported.
pub async fn import_upload(
    db: &DatabaseConnection,
    upload: ImportUpload<'_>,
    importer: Lawyer<'_>,
) -> Result<Imported, ServiceError> {
    let bank = bank(db, upload.bank_id).await?;
    let text = crate::roster_files::decode_text(upload.bytes);
    let parsed = match upload.format {
        "aiken" => aiken::parse(&text),
        _ => gift::parse(&text),
    };
    unreadable_lines(&parsed).or_ok(())?;
    let count = import_questions(db, &bank, &parsed, importer).await?;
    // What was not kept as written is said once, line by line.
    let warnings = describe(&parsed.warnings);
    Ok(Imported { bank, count, warnings })
}

/// The file field's problems: each unreadable line, or that there are no questions at all.
fn unreadable_lines(parsed: &ImportResult) -> FieldErrors {
    let mut errors: FieldErrors = parsed
        .problems
        .iter()
        .map(|p| {
            let zh = format!("第 {}: {}", p.line, p.message.zh);
            ("file", Text::new(zh, format!("line {}: {}", p.line, p.message.en)))
        })
        .collect();
    if errors.is_empty() && parsed.questions.is_empty() {
        errors.add("file", "文件中没有找到题目。", "No questions found in the file.");
    }
    errors
}

/// Imports parsed GIFT/Aiken questions into a bank. They arrive without citations, so they are stored as
/// 待复核 (never drawn) until a lawyer adds the articles they test. Returns the number imported.
#[tracing::instrument(skip_all)]
pub async fn import_questions(
    db: &DatabaseConnection,
    bank: &Bank,
    parsed: &ImportResult,
    importer: Lawyer<'_>,
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
    let in_bank: BTreeSet<String> = db::questions_of_bank(&txn, bank.id)
        .await?
        .into_iter()
        .map(|q| q.qid)
        .collect();
    let reason = "导入的题目还没有法条依据和解析，请补充后保存";
    let mut next = 1;
    for q in &parsed.questions {
        let qid = free_import_id(&txn, bank, &in_bank, &mut next).await?;
        let id = db::insert_question(&txn, bank.id, &qid, QuestionStatus::NeedsReview, Some(reason)).await?;
        let version = NewVersion {
            question_id: id,
            content: &q.content,
            revisions: &[],
            created_by: Some(importer.name),
            author_id: Some(importer.id),
            approved_by: None,
            // Imported questions lack citations and explanations: their importer completes them.
            draft: true,
        };
        db::add_version(&txn, version).await?;
    }
    let summary = format!("导入 {} 道题（草稿，待补充）", parsed.questions.len());
    audit::record_in(
        &txn,
        &importer.actor(),
        Action::BankImport,
        format!("bank:{}", bank.id),
        summary,
    )
    .await?;
    txn.commit().await?;
    Ok(parsed.questions.len())
}

/// The next `<bank>-imp-NNN` id from `next` on that no question uses yet (in this bank or any other).
async fn free_import_id(
    txn: &impl ConnectionTrait,
    bank: &Bank,
    in_bank: &BTreeSet<String>,
    next: &mut usize,
) -> Result<String, ServiceError> {
    loop {
        let candidate = format!("{}-imp-{:03}", bank.slug, *next);
        *next += 1;
        if !in_bank.contains(&candidate) && db::question_by_qid(txn, &candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
}

/// A question's page data: the question, its versions, and the cited article texts as of the current
/// version's revisions (and as in force today, when that differs).
pub struct QuestionDetail {
    pub question: Question,
    pub bank: Bank,
    pub versions: Vec<QuestionVersion>,
    pub articles: Vec<CitedArticle>,
    pub regrades: Vec<crate::domain::regrade::RegradeRecord>,
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
    let (bank, question) = question_in_bank(db, question_id).await?;
    let versions = db::versions_of(db, question_id).await?;
    let articles = cited_articles(db, &question.current).await?;
    Ok(QuestionDetail {
        regrades: crate::db::regrades::of_question(db, question_id).await?,
        question,
        bank,
        versions,
        articles,
    })
}

/// The article texts a version cites, as of the revisions it pinned (and as in force today): two
/// queries whatever the number of citations.
pub async fn cited_articles(db: &impl ConnectionTrait, v: &QuestionVersion) -> Result<Vec<CitedArticle>, ServiceError> {
    let info: HashMap<String, StatuteInfo> = statutes::all(db)
        .await?
        .into_iter()
        .map(|s| (s.short_id.clone(), s))
        .collect();
    let pinned: Vec<(&Citation, String)> = v
        .content
        .citations
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let pinned = v.revisions.get(i).filter(|r| !r.is_empty());
            let current = info.get(&c.statute).map(|s| &s.current_revision);
            (c, pinned.or(current).cloned().unwrap_or_default())
        })
        .collect();
    let mut keys = Vec::new();
    for (c, revision) in &pinned {
        keys.push((c.statute.clone(), revision.clone(), c.article));
        if let Some(s) = info.get(&c.statute) {
            keys.push((c.statute.clone(), s.current_revision.clone(), c.article));
        }
    }
    let texts = statutes::articles(db, &keys).await?;
    Ok(pinned
        .into_iter()
        .map(|(c, revision)| cited_article(c, revision, info.get(&c.statute), &texts))
        .collect())
}

/// The texts in force today of these articles (for officials planning a training, who need the law as
/// it stands): two queries.
pub async fn articles_in_force(
    db: &impl ConnectionTrait,
    citations: &[Citation],
) -> Result<Vec<CitedArticle>, ServiceError> {
    let info: HashMap<String, StatuteInfo> = statutes::all(db)
        .await?
        .into_iter()
        .map(|s| (s.short_id.clone(), s))
        .collect();
    let keys: Vec<statutes::ArticleKey> = citations
        .iter()
        .filter_map(|c| {
            let s = info.get(&c.statute)?;
            Some((c.statute.clone(), s.current_revision.clone(), c.article))
        })
        .collect();
    let texts = statutes::articles(db, &keys).await?;
    Ok(citations
        .iter()
        .map(|c| {
            let revision = info
                .get(&c.statute)
                .map(|s| s.current_revision.clone())
                .unwrap_or_default();
            cited_article(c, revision, info.get(&c.statute), &texts)
        })
        .collect())
}

fn cited_article(
    c: &Citation,
    revision: String,
    info: Option<&StatuteInfo>,
    texts: &HashMap<statutes::ArticleKey, crate::domain::statute::Article>,
) -> CitedArticle {
    let text_at = |rev: &str| {
        texts
            .get(&(c.statute.clone(), rev.to_string(), c.article))
            .map(|a| a.text.clone())
    };
    let text = text_at(&revision);
    let current_text = info
        .filter(|s| s.current_revision != revision)
        .and_then(|s| text_at(&s.current_revision).map(|t| (s.current_revision.clone(), t)))
        .filter(|(_, t)| Some(t) != text.as_ref());
    CitedArticle {
        citation: c.clone(),
        statute_title: info.map_or_else(|| c.statute.clone(), |s| s.title.clone()),
        revision,
        text,
        current_text,
    }
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

/// A bank's page: its questions (filtered), the tags in use and the statutes (for the filter's choices).
pub struct BankPage {
    pub bank: Bank,
    pub questions: Vec<Question>,
    pub tags: BTreeSet<String>,
    pub statutes: Vec<StatuteInfo>,
}

pub async fn bank_page(
    db: &impl ConnectionTrait,
    bank_id: i64,
    filter: &QuestionFilter,
) -> Result<BankPage, ServiceError> {
    let bank = bank(db, bank_id).await?;
    let all = db::questions_of_bank(db, bank_id).await?;
    let tags = all
        .iter()
        .flat_map(|q| q.current.content.tags.iter().cloned())
        .collect();
    Ok(BankPage {
        bank,
        questions: all.into_iter().filter(|q| filter.matches(q)).collect(),
        tags,
        statutes: statutes::all(db).await?,
    })
}

/// Banks with their question counts per status, in two queries.
pub async fn overview(db: &impl ConnectionTrait) -> Result<Vec<(Bank, HashMap<QuestionStatus, usize>)>, ServiceError> {
    let mut counts: HashMap<i64, HashMap<QuestionStatus, usize>> = HashMap::new();
    for (bank, status, n) in db::status_counts(db).await? {
        counts.entry(bank).or_default().insert(status, n as usize);
    }
    Ok(db::banks(db)
        .await?
        .into_iter()
        .map(|b| {
            let c = counts.remove(&b.id).unwrap_or_default();
            (b, c)
        })
        .collect())
}

/// The lawyers' overview: banks with their counts, how each file loaded, how many questions await review.
pub struct BanksOverview {
    pub banks: Vec<(Bank, HashMap<QuestionStatus, usize>)>,
    pub files: Vec<BankFileStatus>,
    pub review_count: u64,
}

pub async fn overview_page(db: &impl ConnectionTrait) -> Result<BanksOverview, ServiceError> {
    Ok(BanksOverview {
        banks: overview(db).await?,
        files: db::file_statuses(db).await?,
        review_count: db::count_with_status(db, QuestionStatus::NeedsReview).await?,
    })
}

/// Questions awaiting a lawyer's review, across banks.
pub async fn review_queue(db: &impl ConnectionTrait) -> Result<ReviewQueue, ServiceError> {
    let needs_review = db::questions_with_status(db, QuestionStatus::NeedsReview).await?;
    let mut awaiting: Vec<Question> = db::questions_with_status(db, QuestionStatus::Active)
        .await?
        .into_iter()
        .chain(needs_review.iter().cloned())
        .filter(Question::awaiting_approval)
        .collect();
    awaiting.sort_by(|a, b| a.qid.cmp(&b.qid));
    Ok(ReviewQueue { needs_review, awaiting })
}

/// What lawyers have to look at: questions flagged 待复核, and versions awaiting a second lawyer.
pub struct ReviewQueue {
    pub needs_review: Vec<Question>,
    pub awaiting: Vec<Question>,
}

/// Every bank (to choose one).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Bank>, ServiceError> {
    Ok(db::banks(db).await?)
}

pub async fn bank(db: &impl ConnectionTrait, id: i64) -> Result<Bank, ServiceError> {
    db::bank(db, id).await?.ok_or(ServiceError::NotFound)
}

/// A question with its bank.
pub async fn question_in_bank(db: &impl ConnectionTrait, id: i64) -> Result<(Bank, Question), ServiceError> {
    let q = db::question(db, id).await?.ok_or(ServiceError::NotFound)?;
    Ok((bank(db, q.bank_id).await?, q))
}

/// The questions a quiz may draw from a bank: active ones only (never 待复核 or retired).
pub async fn drawable(db: &impl ConnectionTrait, bank_id: i64) -> Result<Vec<Question>, ServiceError> {
    Ok(db::questions_of_bank(db, bank_id)
        .await?
        .into_iter()
        .filter(|q| q.status == QuestionStatus::Active)
        .collect())
}

/// Which articles of the statutes in force the drawable questions (active, approved, in banks in use)
/// cite, and
/// which none does: three queries.
pub async fn coverage_page(db: &impl ConnectionTrait) -> Result<Vec<StatuteCoverage>, ServiceError> {
    let in_use: BTreeSet<i64> = db::banks(db)
        .await?
        .iter()
        .filter(|b| !b.retired)
        .map(|b| b.id)
        .collect();
    let cited: Vec<(String, Vec<Citation>)> = db::questions_with_status(db, QuestionStatus::Active)
        .await?
        .into_iter()
        .filter(|q| in_use.contains(&q.bank_id))
        .filter_map(|q| Some((q.qid, q.approved?.content.citations)))
        .collect();
    Ok(coverage(&statutes::current_all(db).await?, &cited))
}

/// The statutes on file, with the revision in force, for the upload page.
pub async fn statutes_on_file(db: &impl ConnectionTrait) -> Result<Vec<StatuteInfo>, ServiceError> {
    Ok(statutes::all(db).await?)
}
