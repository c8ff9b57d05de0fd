//! Lawyers' authoring pages.

use actix_multipart::form::{MultipartForm, bytes::Bytes, text::Text as MpText};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::{attachment, html, html_status, redirect, reply};
use crate::domain::bank::{Bank, QuestionStatus};
use crate::domain::question::QuestionDraft;
use crate::has_csrf;
use crate::question_banks::BankMeta;
use crate::services::banks::{self, ImportUpload, QuestionFilter};
use crate::services::regrade;
use crate::services::{FieldErrors, ServiceError, roster::MAX_FILE_BYTES};
use crate::web::csrf::{self, CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Lawyer, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::banks::{self as views, QuestionForm};

#[get("/banks")]
async fn index(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let page = banks::overview_page(&state.db).await?;
    Ok(html(views::overview(&me.ctx, &page)))
}

#[get("/banks/review")]
async fn review_queue(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let list = banks::review_queue(&state.db).await?;
    Ok(html(views::review_queue(&me.ctx, &list)))
}

/// Which articles in force the questions in use cite, and which none does.
#[get("/banks/coverage")]
async fn coverage(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let statutes = banks::coverage_page(&state.db).await?;
    Ok(html(views::coverage(&me.ctx, &statutes)))
}

#[get("/banks/coverage.{format}")]
async fn coverage_export(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    format: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let statutes = banks::coverage_page(&state.db).await?;
    let table = crate::services::reports::tables::coverage_table(me.ctx.lang, &statutes);
    super::reports::download(&state, &me.user.actor(), &table, &format, "statute-coverage").await
}

#[derive(Deserialize, Default)]
struct FilterQuery {
    #[serde(default)]
    text: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    citation: String,
    #[serde(default)]
    status: String,
}

#[get("/banks/{id:\\d+}")]
async fn bank_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    q: web::Query<FilterQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let filter = QuestionFilter {
        text: q.text,
        tag: q.tag,
        citation: q.citation,
        status: QuestionStatus::parse(&q.status),
    };
    let page = banks::bank_page(&state.db, *id, &filter).await?;
    Ok(html(views::bank_page(&me.ctx, &page, &filter)))
}

#[get("/banks/{id:\\d+}/export")]
async fn export(
    state: web::Data<AppState>,
    _me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (bank, text) = banks::export_bank(&state.db, *id).await?;
    let filename = format!("{}.toml", bank.slug);
    Ok(attachment("application/toml; charset=utf-8", &filename, text))
}

#[get("/banks/new")]
async fn new_bank_page(me: Require<Lawyer>) -> HttpResponse {
    html(views::new_bank(&me.ctx, &[], &[]))
}

#[derive(Deserialize)]
struct BankInput {
    csrf: String,
    slug: String,
    title: String,
    topic: String,
}
has_csrf!(BankInput);

impl BankInput {
    /// The new bank's header: authored and reviewed (for now) by the lawyer creating it, today.
    fn meta(&self, author: &str) -> BankMeta {
        BankMeta {
            id: self.slug.trim().to_string(),
            title: self.title.trim().to_string(),
            topic: self.topic.trim().to_string(),
            authors: vec![author.to_string()],
            reviewer: author.to_string(),
            review_date: chrono::Utc::now().date_naive().to_string(),
            sample: false,
        }
    }
}

#[post("/banks/new")]
async fn new_bank(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    CsrfForm(f): CsrfForm<BankInput>,
) -> Result<HttpResponse, AppError> {
    let meta = f.meta(me.user.person.name.as_str());
    let created = banks::create_bank_by(&state.db, &me.user.actor(), &meta).await;
    reply(created, urls::bank, async |errors| {
        let values = [
            ("slug", f.slug.as_str()),
            ("title", f.title.as_str()),
            ("topic", f.topic.as_str()),
        ];
        Ok(html(views::new_bank(&me.ctx, &values, &errors)))
    })
    .await
}

#[get("/questions/{id:\\d+}")]
async fn question_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let detail = banks::question_detail(&state.db, *id).await?;
    Ok(html(views::question_page(&me.ctx, &detail, None, false)))
}

/// The signed-in lawyer as the author or reviewer of a version.
fn lawyer(me: &Require<Lawyer>) -> banks::Lawyer<'_> {
    banks::Lawyer {
        id: me.user.person.id,
        name: me.user.person.name.as_str(),
        address: me.user.address.as_str(),
    }
}

/// Another lawyer approves the version awaiting approval; refusals (her own version) on the page.
#[post("/questions/{id:\\d+}/approve")]
async fn approve(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let result = banks::approve(&state.db, *id, lawyer(&me)).await;
    question_after(&state, &me, *id, result).await
}

/// The question page after a lawyer acted on it: saved, or refused (a notice) or rejected (at the
/// field), as it reads now.
async fn question_after(
    state: &AppState,
    me: &Require<Lawyer>,
    id: i64,
    result: Result<(), ServiceError>,
) -> Result<HttpResponse, AppError> {
    let detail = banks::question_detail(&state.db, id).await?;
    let refused = |page| Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page));
    match result {
        Ok(()) => Ok(html(views::question_page(&me.ctx, &detail, None, true))),
        Err(ServiceError::Refused(why)) => refused(views::question_page(&me.ctx, &detail, Some(&why), false)),
        Err(ServiceError::Rejected(errors)) => {
            refused(views::question_page_with(&me.ctx, &detail, None, false, &errors))
        }
        Err(e) => Err(e.into()),
    }
}

/// The regrade's dry run: whose score and result would change.
#[get("/questions/{id:\\d+}/regrade")]
async fn regrade_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let plan = regrade::preview(&state.db, *id).await?;
    Ok(html(views::regrade_page(&me.ctx, &plan, None, None, &[], "")))
}

#[derive(Deserialize)]
struct RegradeInput {
    csrf: String,
    #[serde(default)]
    reason: String,
}
has_csrf!(RegradeInput);

/// Regrades with a reason; the page then shows what was done, or the problem.
#[post("/questions/{id:\\d+}/regrade")]
async fn apply_regrade(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<RegradeInput>,
) -> Result<HttpResponse, AppError> {
    let result = regrade::apply(&state.db, *id, lawyer(&me), &f.reason).await;
    let plan = regrade::preview(&state.db, *id).await?;
    let refused = |page| Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page));
    match result {
        Ok(applied) => Ok(html(views::regrade_page(&me.ctx, &plan, Some(&applied), None, &[], ""))),
        Err(ServiceError::Refused(why)) => {
            refused(views::regrade_page(&me.ctx, &plan, None, Some(&why), &[], &f.reason))
        }
        Err(ServiceError::Rejected(errors)) => {
            refused(views::regrade_page(&me.ctx, &plan, None, None, &errors, &f.reason))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ReturnInput {
    csrf: String,
    #[serde(default)]
    comment: String,
}
has_csrf!(ReturnInput);

/// Its author submits her draft for approval.
#[post("/questions/{id:\\d+}/submit")]
async fn submit_draft(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let result = banks::submit_draft(&state.db, *id, lawyer(&me)).await;
    question_after(&state, &me, *id, result).await
}

/// A reviewing lawyer sends the version back with what to change.
#[post("/questions/{id:\\d+}/return")]
async fn send_back(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<ReturnInput>,
) -> Result<HttpResponse, AppError> {
    let result = banks::send_back(&state.db, *id, lawyer(&me), &f.comment).await;
    question_after(&state, &me, *id, result).await
}

#[post("/questions/{id:\\d+}/confirm")]
async fn confirm(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let result = banks::confirm_review(&state.db, *id, lawyer(&me)).await;
    question_after(&state, &me, *id, result).await
}

#[derive(Deserialize)]
struct QuestionInput {
    csrf: String,
    qid: String,
    kind: String,
    stem: String,
    #[serde(default)]
    options: String,
    answer: String,
    explanation: String,
    citations: String,
    #[serde(default)]
    tags: String,
    difficulty: String,
    #[serde(default)]
    rule: String,
    /// Which button: `draft` keeps a draft; anything else submits it for approval.
    #[serde(default)]
    save: String,
}
has_csrf!(QuestionInput);

impl QuestionInput {
    fn form(&self) -> QuestionForm {
        QuestionForm {
            qid: self.qid.trim().to_string(),
            kind: self.kind.clone(),
            stem: self.stem.clone(),
            options: self.options.clone(),
            answer: self.answer.clone(),
            explanation: self.explanation.clone(),
            citations: self.citations.clone(),
            tags: self.tags.clone(),
            difficulty: self.difficulty.clone(),
            rule: self.rule.clone(),
        }
    }

    fn draft(&self) -> QuestionDraft<'_> {
        QuestionDraft {
            kind: &self.kind,
            stem: &self.stem,
            options: &self.options,
            answer: &self.answer,
            explanation: &self.explanation,
            citations: &self.citations,
            tags: &self.tags,
            difficulty: &self.difficulty,
            rule: &self.rule,
        }
    }
}

/// Where the editor posts: a new question of a bank, or an existing question.
enum Editing {
    New,
    Existing(i64),
}

impl Editing {
    fn action(&self, bank: &Bank) -> String {
        match self {
            Editing::New => urls::bank_new_question(bank.id),
            Editing::Existing(id) => urls::question(*id),
        }
    }
}

fn editor(
    me: &Require<Lawyer>,
    bank: &Bank,
    editing: Editing,
    form: &QuestionForm,
    errors: &FieldErrors,
) -> HttpResponse {
    let is_new = matches!(editing, Editing::New);
    html(views::question_editor(
        &me.ctx,
        bank,
        &editing.action(bank),
        is_new,
        form,
        errors,
    ))
}

/// Saves the editor's fields; on problems, shows the editor again with each problem at its field.
async fn save(
    state: &AppState,
    me: &Require<Lawyer>,
    bank: Bank,
    editing: Editing,
    f: QuestionInput,
) -> Result<HttpResponse, AppError> {
    let intent = if f.save == "draft" {
        banks::Saving::Draft
    } else {
        banks::Saving::Submit
    };
    let outcome = banks::save_edited(&state.db, &bank, f.qid.trim(), &f.draft(), lawyer(me), intent).await;
    reply(outcome, urls::question, async |errors| {
        Ok(editor(me, &bank, editing, &f.form(), &errors))
    })
    .await
}

#[get("/banks/{id:\\d+}/questions/new")]
async fn new_question_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let bank = banks::bank(&state.db, *id).await?;
    let form = QuestionForm {
        kind: "single".into(),
        difficulty: "2".into(),
        ..Default::default()
    };
    Ok(editor(&me, &bank, Editing::New, &form, &FieldErrors::new()))
}

#[post("/banks/{id:\\d+}/questions/new")]
async fn new_question(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<QuestionInput>,
) -> Result<HttpResponse, AppError> {
    let bank = banks::bank(&state.db, *id).await?;
    save(&state, &me, bank, Editing::New, f).await
}

#[get("/questions/{id:\\d+}/edit")]
async fn edit_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (bank, q) = banks::question_in_bank(&state.db, *id).await?;
    let form = QuestionForm::of(&q);
    Ok(editor(&me, &bank, Editing::Existing(q.id), &form, &FieldErrors::new()))
}

#[post("/questions/{id:\\d+}")]
async fn edit(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    CsrfForm(mut f): CsrfForm<QuestionInput>,
) -> Result<HttpResponse, AppError> {
    let (bank, q) = banks::question_in_bank(&state.db, *id).await?;
    f.qid = q.qid; // the id of an existing question never changes
    save(&state, &me, bank, Editing::Existing(q.id), f).await
}

#[get("/banks/import")]
async fn import_page(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let banks = banks::all(&state.db).await?;
    Ok(html(views::import_page(&me.ctx, &banks, &[])))
}

#[derive(MultipartForm)]
struct ImportInput {
    csrf: MpText<String>,
    bank: MpText<i64>,
    format: MpText<String>,
    #[multipart(limit = "6MB")]
    file: Bytes,
}

/// Imports a GIFT or Aiken file: to the imported questions, or (when some lines were not kept as
/// written) a page naming them; lines that cannot be read go back to the form.
#[post("/banks/import")]
async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<Lawyer>,
    form: MultipartForm<ImportInput>,
) -> Result<HttpResponse, AppError> {
    csrf::check(&req, &form.csrf)?;
    if form.file.data.len() > MAX_FILE_BYTES {
        return Err(AppError::TooLarge {
            limit_bytes: MAX_FILE_BYTES,
        });
    }
    let upload = ImportUpload {
        bank_id: *form.bank,
        format: form.format.as_str(),
        bytes: &form.file.data,
    };
    match banks::import_upload(&state.db, upload, lawyer(&me)).await {
        Ok(done) if done.warnings.is_empty() => {
            Ok(redirect(&format!("{}?status=needs_review", urls::bank(done.bank.id))))
        }
        Ok(done) => Ok(html(views::import_done(&me.ctx, &done))),
        Err(ServiceError::Rejected(errors)) => {
            let banks = banks::all(&state.db).await?;
            let page = views::import_page(&me.ctx, &banks, &errors);
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/banks/statutes")]
async fn statutes_page(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let on_file = banks::statutes_on_file(&state.db).await?;
    Ok(html(views::statutes_page(&me.ctx, &on_file, &[])))
}

#[derive(MultipartForm)]
struct StatuteInput {
    csrf: MpText<String>,
    #[multipart(limit = "6MB")]
    file: Bytes,
}

/// A new revision of a statute, in force at once; a file that cannot be taken goes back to the form.
#[post("/banks/statutes")]
async fn upload_statute(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<Lawyer>,
    form: MultipartForm<StatuteInput>,
) -> Result<HttpResponse, AppError> {
    csrf::check(&req, &form.csrf)?;
    if form.file.data.len() > MAX_FILE_BYTES {
        return Err(AppError::TooLarge {
            limit_bytes: MAX_FILE_BYTES,
        });
    }
    match banks::upload_statute(&state.db, &me.user.actor(), &form.file.data).await {
        Ok(done) => Ok(html(views::statute_uploaded(&me.ctx, &done))),
        Err(ServiceError::Rejected(errors)) => {
            let on_file = banks::statutes_on_file(&state.db).await?;
            let page = views::statutes_page(&me.ctx, &on_file, &errors);
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, page))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Fixed paths before `/banks/{id}` so they are not read as ids.
    cfg.service(index)
        .service(review_queue)
        .service(coverage_export)
        .service(coverage)
        .service(statutes_page)
        .service(upload_statute)
        .service(new_bank_page)
        .service(new_bank)
        .service(import_page)
        .service(import)
        .service(bank_page)
        .service(export)
        .service(new_question_page)
        .service(new_question)
        .service(question_page)
        .service(confirm)
        .service(approve)
        .service(submit_draft)
        .service(send_back)
        .service(regrade_page)
        .service(apply_regrade)
        .service(edit_page)
        .service(edit);
}
