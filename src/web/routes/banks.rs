//! Lawyers' authoring pages.

use actix_multipart::form::{MultipartForm, bytes::Bytes, text::Text as MpText};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use super::{html, html_status, redirect, reply};
use crate::db::{banks as db, statutes};
use crate::domain::bank::QuestionStatus;
use crate::domain::question::QuestionDraft;
use crate::error::AppError;
use crate::has_csrf;
use crate::question_banks::{BankMeta, aiken, gift};
use crate::services::banks::{self, QuestionFilter};
use crate::services::{FieldErrors, ServiceError, roster::MAX_FILE_BYTES};
use crate::web::csrf::{self, CsrfForm, OnlyCsrf};
use crate::web::guards::{Lawyer, Require};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::banks::{self as views, QuestionForm};

#[get("/banks")]
async fn index(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let banks = banks::overview(&state.db).await?;
    let files = db::file_statuses(&state.db).await?;
    let review = db::questions_with_status(&state.db, QuestionStatus::NeedsReview)
        .await?
        .len();
    Ok(html(views::overview(&me.ctx, &banks, &files, review)))
}

#[get("/banks/review")]
async fn review_queue(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let list = db::questions_with_status(&state.db, QuestionStatus::NeedsReview).await?;
    Ok(html(views::review_queue(&me.ctx, &list)))
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

#[get("/banks/{id}")]
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
    let (bank, questions, tags) = banks::bank_questions(&state.db, *id, &filter).await?;
    let statutes = statutes::all(&state.db).await?;
    Ok(html(views::bank_page(
        &me.ctx, &bank, &questions, &tags, &filter, &statutes,
    )))
}

#[get("/banks/{id}/export")]
async fn export(
    state: web::Data<AppState>,
    _me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (bank, text) = banks::export_bank(&state.db, *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/toml; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.toml\"", bank.slug),
        ))
        .body(text))
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

#[post("/banks/new")]
async fn new_bank(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    CsrfForm(f): CsrfForm<BankInput>,
) -> Result<HttpResponse, AppError> {
    let name = me.user.person.name.as_str().to_string();
    let meta = BankMeta {
        id: f.slug.trim().to_string(),
        title: f.title.trim().to_string(),
        topic: f.topic.trim().to_string(),
        authors: vec![name.clone()],
        reviewer: name,
        review_date: chrono::Utc::now().date_naive().to_string(),
        sample: false,
    };
    reply(banks::create_bank(&state.db, &meta).await, urls::bank, async |errors| {
        let values = [
            ("slug", f.slug.as_str()),
            ("title", f.title.as_str()),
            ("topic", f.topic.as_str()),
        ];
        Ok(html(views::new_bank(&me.ctx, &values, &errors)))
    })
    .await
}

#[get("/questions/{id}")]
async fn question_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let detail = banks::question_detail(&state.db, *id).await?;
    Ok(html(views::question_page(&me.ctx, &detail, None, false)))
}

#[post("/questions/{id}/confirm")]
async fn confirm(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let result = banks::confirm_review(&state.db, *id, me.user.person.name.as_str()).await;
    let detail = banks::question_detail(&state.db, *id).await?;
    match result {
        Ok(()) => Ok(html(views::question_page(&me.ctx, &detail, None, true))),
        Err(ServiceError::Refused(t)) => Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::question_page(&me.ctx, &detail, Some(&t), false),
        )),
        Err(e) => Err(e.into()),
    }
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
        }
    }
}

/// Parses and saves; on problems, shows the editor again with each problem at its field.
async fn save(
    state: &AppState,
    me: &Require<Lawyer>,
    bank_id: i64,
    f: QuestionInput,
    action: &str,
    is_new: bool,
) -> Result<HttpResponse, AppError> {
    let bank = db::bank(&state.db, bank_id).await?.ok_or(AppError::NotFound)?;
    let draft = QuestionDraft {
        kind: &f.kind,
        stem: &f.stem,
        options: &f.options,
        answer: &f.answer,
        explanation: &f.explanation,
        citations: &f.citations,
        tags: &f.tags,
        difficulty: &f.difficulty,
    };
    let outcome = match draft.parse() {
        Ok(content) => {
            banks::save_question(&state.db, &bank, f.qid.trim(), &content, me.user.person.name.as_str()).await
        }
        Err(e) => {
            // Report unknown citations together with the shape problems, not one round later.
            let mut errors: FieldErrors = e.into_iter().map(|p| (p.field, p.message)).collect();
            errors.extend(banks::citation_problems(&state.db, &draft.citations()).await?);
            Err(ServiceError::Rejected(errors))
        }
    };
    reply(outcome, urls::question, async |errors| {
        Ok(html(views::question_editor(
            &me.ctx,
            &bank,
            action,
            is_new,
            &f.form(),
            &errors,
        )))
    })
    .await
}

#[get("/banks/{id}/questions/new")]
async fn new_question_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let bank = db::bank(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    let form = QuestionForm {
        kind: "single".into(),
        difficulty: "2".into(),
        ..Default::default()
    };
    Ok(html(views::question_editor(
        &me.ctx,
        &bank,
        &urls::bank_new_question(bank.id),
        true,
        &form,
        &[],
    )))
}

#[post("/banks/{id}/questions/new")]
async fn new_question(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    CsrfForm(f): CsrfForm<QuestionInput>,
) -> Result<HttpResponse, AppError> {
    save(&state, &me, *id, f, &urls::bank_new_question(*id), true).await
}

#[get("/questions/{id}/edit")]
async fn edit_page(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let q = db::question(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    let bank = db::bank(&state.db, q.bank_id).await?.ok_or(AppError::NotFound)?;
    let [kind, stem, options, answer, explanation, citations, tags, difficulty] =
        QuestionDraft::fields_of(&q.current.content);
    let form = QuestionForm {
        qid: q.qid.clone(),
        kind,
        stem,
        options,
        answer,
        explanation,
        citations,
        tags,
        difficulty,
    };
    Ok(html(views::question_editor(
        &me.ctx,
        &bank,
        &urls::question(q.id),
        false,
        &form,
        &[],
    )))
}

#[post("/questions/{id}")]
async fn edit(
    state: web::Data<AppState>,
    me: Require<Lawyer>,
    id: web::Path<i64>,
    CsrfForm(mut f): CsrfForm<QuestionInput>,
) -> Result<HttpResponse, AppError> {
    let q = db::question(&state.db, *id).await?.ok_or(AppError::NotFound)?;
    f.qid = q.qid; // the id of an existing question never changes
    save(&state, &me, q.bank_id, f, &urls::question(*id), false).await
}

#[get("/banks/import")]
async fn import_page(state: web::Data<AppState>, me: Require<Lawyer>) -> Result<HttpResponse, AppError> {
    let banks = db::banks(&state.db).await?;
    Ok(html(views::import_page(&me.ctx, &banks, &[], None)))
}

#[derive(MultipartForm)]
struct ImportInput {
    csrf: MpText<String>,
    bank: MpText<i64>,
    format: MpText<String>,
    #[multipart(limit = "6MB")]
    file: Bytes,
}

#[post("/banks/import")]
async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: Require<Lawyer>,
    form: MultipartForm<ImportInput>,
) -> Result<HttpResponse, AppError> {
    csrf::check(&req, &form.csrf)?;
    let bank = db::bank(&state.db, *form.bank).await?.ok_or(AppError::NotFound)?;
    if form.file.data.len() > MAX_FILE_BYTES {
        return Err(AppError::TooLarge {
            limit_bytes: MAX_FILE_BYTES,
        });
    }
    let text = crate::roster_files::decode_text(&form.file.data);
    let parsed = match form.format.as_str() {
        "aiken" => aiken::parse(&text),
        _ => gift::parse(&text),
    };
    let all = db::banks(&state.db).await?;
    if !parsed.problems.is_empty() {
        let problems = banks::describe(&parsed.problems);
        return Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::import_page(&me.ctx, &all, &problems, None),
        ));
    }
    if parsed.questions.is_empty() {
        let msg = me.ctx.t("文件中没有找到题目。", "No questions found in the file.");
        return Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::import_page(&me.ctx, &all, &[], Some(msg)),
        ));
    }
    let n = banks::import_questions(&state.db, &bank, &parsed, me.user.person.name.as_str()).await?;
    if parsed.warnings.is_empty() {
        return Ok(redirect(&format!("{}?status=needs_review", urls::bank(bank.id))));
    }
    // What was not kept as written is said once, here, line by line.
    let warnings = banks::describe(&parsed.warnings);
    Ok(html(views::import_done(&me.ctx, &bank, n, &warnings)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Fixed paths before `/banks/{id}` so they are not read as ids.
    cfg.service(index)
        .service(review_queue)
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
        .service(edit_page)
        .service(edit);
}
