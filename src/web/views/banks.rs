//! Lawyers' pages: banks, questions, the editor, review and import.

use std::collections::HashMap;

use maud::{Markup, html};

use super::When;
use super::forms::{Input, csrf, error_for, notice};
use super::layout::page;
use crate::domain::bank::{Bank, BankFileStatus, Question, QuestionStatus, QuestionVersion};
use crate::domain::question::{QuestionContent, QuestionDraft, QuestionKind, letter};
use crate::domain::regrade::{CertificateChange, grading_changed};
use crate::domain::statute::{StatuteCoverage, StatuteInfo};
use crate::i18n::Text;
use crate::services::banks::{
    BankPage, BanksOverview, CitedArticle, Imported, QuestionDetail, QuestionFilter, ReviewQueue, StatuteUpload,
};
use crate::services::regrade::{Applied, RegradePlan};
use crate::web::context::Ctx;
use crate::web::urls;

fn status_tag(ctx: &Ctx, s: QuestionStatus) -> Markup {
    let class = match s {
        QuestionStatus::Active => "tag ok",
        QuestionStatus::NeedsReview => "tag warn",
        QuestionStatus::Retired => "tag",
    };
    html! { span class=(class) { (s.label(ctx.lang)) } }
}

fn file_problems(ctx: &Ctx, f: &BankFileStatus) -> Markup {
    html! {
        div.notice.error role="alert" {
            p { strong { (f.file_name) }
                @if f.bank_id.is_some() {
                    (ctx.t(" 有错误，未加载（仍在使用上次成功加载的版本）：", " has errors and was not loaded (the last good version stays in use):"))
                } @else {
                    (ctx.t(" 有错误，未加载（这个文件还从未成功加载过，其中的题目都没有使用）：", " has errors and was not loaded (it has never loaded, so none of its questions are in use):"))
                } }
            ul.problems { @for line in f.problems.as_deref().unwrap_or("").lines() { li { (line) } } }
        }
    }
}

fn bank_row(ctx: &Ctx, b: &Bank, c: &HashMap<QuestionStatus, usize>) -> Markup {
    let count = |s| c.get(&s).copied().unwrap_or(0);
    html! {
        tr {
            td data-label=(ctx.t("题库", "Bank")) { a href=(urls::bank(b.id)) { (b.title) }
                @if b.sample { " " span.tag.warn { (ctx.t("示例·待律师审核", "sample · needs a lawyer's review")) } }
                @if b.retired { " " span.tag { (ctx.t("已停用", "retired")) } } }
            td data-label=(ctx.t("主题", "Topic")) { (b.topic) }
            td data-label=(ctx.t("使用中", "Active")) { (count(QuestionStatus::Active)) }
            td data-label=(ctx.t("待复核", "Review")) { (count(QuestionStatus::NeedsReview)) }
            td data-label=(ctx.t("已停用", "Retired")) { (count(QuestionStatus::Retired)) }
        }
    }
}

pub fn overview(ctx: &Ctx, o: &BanksOverview) -> Markup {
    page(
        ctx,
        ctx.t("题库", "Question banks"),
        html! {
            @for f in o.files.iter().filter(|f| f.problems.is_some()) { (file_problems(ctx, f)) }
            @if o.review_count > 0 {
                (notice("warn", &format!("{}{}{}", ctx.t("有 ", ""), o.review_count, ctx.t(" 道题待复核。", " questions need review."))))
                p { a.button href=(urls::REVIEW_QUEUE) { (ctx.t("查看待复核题目", "See questions needing review")) } }
            }
            table.list {
                thead { tr {
                    th scope="col" { (ctx.t("题库", "Bank")) } th scope="col" { (ctx.t("主题", "Topic")) }
                    th scope="col" { (ctx.t("使用中", "Active")) } th scope="col" { (ctx.t("待复核", "Review")) } th scope="col" { (ctx.t("已停用", "Retired")) }
                } }
                tbody { @for (b, c) in &o.banks { (bank_row(ctx, b, c)) } }
            }
            p { a.button href=(urls::BANK_NEW) { (ctx.t("新建题库", "New bank")) } " " a.button href=(urls::BANK_IMPORT) { (ctx.t("导入 GIFT / Aiken", "Import GIFT / Aiken")) } " "
                a.button href=(urls::REVIEW_QUEUE) { (ctx.t("待审核与待复核", "Review queue")) } " "
                a.button href=(urls::ITEM_ANALYSIS) { (ctx.t("题目分析", "Item analysis")) } " "
                a.button href=(urls::COVERAGE) { (ctx.t("法条覆盖情况", "Statute coverage")) } " "
                a.button href=(urls::STATUTES) { (ctx.t("上传法规修订", "Upload a statute revision")) } }
        },
    )
}

fn filter_form(ctx: &Ctx, p: &BankPage, filter: &QuestionFilter) -> Markup {
    html! {
        form.search method="get" action=(urls::bank(p.bank.id)) role="search" {
            div.field { label for="f-text" { (ctx.t("关键词", "Words")) } input id="f-text" type="search" name="text" value=(filter.text); }
            div.field { label for="f-tag" { (ctx.t("标签", "Tag")) }
                select id="f-tag" name="tag" { option value="" { (ctx.t("全部", "All")) } @for t in &p.tags { option value=(t) selected[filter.tag == *t] { (t) } } } }
            div.field { label for="f-cite" { (ctx.t("法条（如 civil-code 278）", "Article (e.g. civil-code 278)")) }
                input id="f-cite" type="text" name="citation" value=(filter.citation) list="statute-ids"; }
            datalist id="statute-ids" { @for s in &p.statutes { option value=(s.short_id) { (s.title) } } }
            div.field { label for="f-status" { (ctx.t("状态", "Status")) }
                select id="f-status" name="status" { option value="" { (ctx.t("全部", "All")) }
                    @for s in QuestionStatus::ALL { option value=(s.code()) selected[filter.status == Some(s)] { (s.label(ctx.lang)) } } } }
            button type="submit" { (ctx.t("筛选", "Filter")) }
        }
    }
}

fn question_card(ctx: &Ctx, q: &Question) -> Markup {
    html! {
        li.card {
            p.meta { a href=(urls::question(q.id)) { (q.qid) } " · " (q.current.content.kind.label(ctx.lang)) " · " (status_tag(ctx, q.status))
                @if q.awaiting_approval() { " · " span.tag.warn { (ctx.t("待批准", "awaiting approval")) } }
                @if q.current.returned.is_some() { " · " span.tag.warn { (ctx.t("已退回修改", "sent back")) } }
                @if q.current.draft { " · " span.tag { (ctx.t("草稿", "draft")) } } }
            p { (q.current.content.stem) }
            p.meta { @for c in &q.current.content.citations { span.tag { (c) } " " } }
        }
    }
}

pub fn bank_page(ctx: &Ctx, p: &BankPage, filter: &QuestionFilter) -> Markup {
    let bank = &p.bank;
    page(
        ctx,
        &bank.title,
        html! {
            p.meta { (bank.topic) " · " (ctx.t("审核人 ", "Reviewer ")) (bank.reviewer) " · " (bank.review_date)
                @if let Some(f) = &bank.file_name { " · question-banks/" (f) } }
            @if bank.sample { (notice("warn", ctx.t("这是示例题库，正式使用前须经执业律师审核。", "A sample bank: have a practising lawyer review it before official use."))) }
            (filter_form(ctx, p, filter))
            p.meta { (p.questions.len()) (ctx.t(" 道题", " questions")) }
            ul.cards { @for q in &p.questions { (question_card(ctx, q)) } }
            p {
                a.button.primary href=(urls::bank_new_question(bank.id)) { (ctx.t("新增题目", "Add a question")) } " "
                a.button href=(urls::bank_export(bank.id)) { (ctx.t("导出题库文件", "Export bank file")) }
            }
        },
    )
}

pub fn review_queue(ctx: &Ctx, queue: &ReviewQueue) -> Markup {
    page(
        ctx,
        ctx.t("待审核与待复核", "Review queue"),
        html! {
            h2 { (ctx.t("等待另一位律师批准的版本", "Versions awaiting another lawyer's approval")) }
            p { (ctx.t("新写或修改的题目须由另一位律师批准后才会被抽到；批准前，原来批准的版本照常使用。", "A new or edited question is drawn only once another lawyer approves it; until then the version approved before stays in use.")) }
            @if queue.awaiting.is_empty() { p.empty { (ctx.t("没有待批准的版本。", "Nothing awaiting approval.")) } }
            ul.cards {
                @for q in &queue.awaiting {
                    li.card {
                        p.meta { a href=(urls::question(q.id)) { (q.qid) } " · " (ctx.t("第", "version ")) (q.current.version_no) (ctx.t("版", ""))
                            @if let Some(by) = &q.current.created_by { " · " (by) } }
                        p { (q.current.content.stem) }
                    }
                }
            }
            h2 { (ctx.t("待复核题目", "Questions needing review")) }
            p { (ctx.t("这些题目引用的法条已修改或信息不完整，在律师修改或确认之前不会被抽到。", "These cite amended articles or are incomplete; they are not drawn until a lawyer edits or confirms them.")) }
            @if queue.needs_review.is_empty() { p.empty { (ctx.t("没有待复核的题目。", "Nothing to review.")) } }
            ul.cards {
                @for q in &queue.needs_review {
                    li.card {
                        p.meta { a href=(urls::question(q.id)) { (q.qid) } }
                        p { (q.current.content.stem) }
                        @if let Some(r) = &q.review_reason { p.meta { (r) } }
                    }
                }
            }
        },
    )
}

/// The version awaiting approval against the one in use, field by field, with approve and send back;
/// or, when it was sent back, what the reviewer asked for.
fn approval_box(ctx: &Ctx, q: &Question, errors: &[(&'static str, Text)]) -> Markup {
    let comment_error = error_for(errors, "comment");
    let labels = [
        ctx.t("题型", "Kind"),
        ctx.t("题干", "Stem"),
        ctx.t("选项", "Options"),
        ctx.t("答案", "Answer"),
        ctx.t("解析", "Explanation"),
        ctx.t("法条依据", "Citations"),
        ctx.t("标签", "Tags"),
        ctx.t("难度", "Difficulty"),
        ctx.t("规则编号", "Rule"),
    ];
    let new = QuestionDraft::fields_of(&q.current.content);
    let old = q.approved.as_ref().map(|v| QuestionDraft::fields_of(&v.content));
    html! {
        @if q.current.draft && q.status != QuestionStatus::Retired {
            section.card #draft {
                h2 { (ctx.t("草稿：尚未提交审核", "Draft: not submitted yet")) }
                @if q.current.author_id.is_some() && q.current.author_id == ctx.user.as_ref().map(|u| u.person.id) {
                    p { (ctx.t("改好后提交审核，由另一位律师批准。", "When it is ready, submit it for another lawyer's approval.")) }
                    form.stack method="post" action=(format!("{}/submit", urls::question(q.id))) {
                        (csrf(ctx))
                        button.primary type="submit" { (ctx.t("提交审核", "Submit for approval")) }
                    }
                } @else {
                    p { (ctx.t("作者提交审核后，其他律师才能批准。", "Other lawyers can approve it once its author submits it.")) }
                }
            }
        } @else if let Some(r) = &q.current.returned {
            div.notice.warn {
                p { strong { (ctx.t("已退回修改：", "Sent back: ")) } (r.comment) }
                p.meta { (r.by) " · " (When(r.at, ctx.lang)) }
                p { a href=(urls::question_edit(q.id)) { (ctx.t("修改题目", "Edit the question")) } }
            }
        } @else if q.awaiting_approval() {
            section.card #approval {
                h2 { (ctx.t("待另一位律师批准", "Awaiting another lawyer's approval")) }
                @match &old {
                    None => p { (ctx.t("这是新题，批准后才会被抽到。", "A new question: it is drawn once approved.")) },
                    Some(old) => {
                        p { (ctx.t("与正在使用的版本相比，改动如下（批准前仍抽正在使用的版本）：", "Changes from the version in use (which is drawn until this is approved):")) }
                        dl.diff { @for ((label, o), n) in labels.iter().zip(old).zip(&new) { @if o != n {
                            dt { (label) }
                            dd { del { (o) } br; ins { (n) } }
                        } } }
                    }
                }
                form.stack method="post" action=(format!("{}/approve", urls::question(q.id))) {
                    (csrf(ctx))
                    button.primary type="submit" { (ctx.t("已核对，批准使用", "Checked: approve")) }
                }
                form.stack method="post" action=(format!("{}/return", urls::question(q.id))) {
                    (csrf(ctx))
                    div.field .has-error[comment_error.is_some()] {
                        label for="f-comment" { (ctx.t("退回修改，请写明原因", "Send back, saying what to change")) }
                        textarea id="f-comment" name="comment" rows="3" aria-invalid=[comment_error.map(|_| "true")] {}
                        @if let Some(e) = comment_error { p.error role="alert" { (e.get(ctx.lang)) } }
                    }
                    button type="submit" { (ctx.t("退回修改", "Send back")) }
                }
            }
        }
    }
}

fn review_box(ctx: &Ctx, q: &Question) -> Markup {
    html! {
        div.notice.error {
            p { strong { (ctx.t("待复核：", "Needs review: ")) } (q.review_reason.as_deref().unwrap_or("")) }
            form.stack method="post" action=(urls::question_confirm(q.id)) {
                (csrf(ctx))
                button.primary type="submit" { (ctx.t("已核对现行法条，题目仍然正确", "Checked against the current text: still correct")) }
            }
            p { a href=(urls::question_edit(q.id)) { (ctx.t("或者修改题目", "or edit the question")) } }
        }
    }
}

fn content(ctx: &Ctx, c: &QuestionContent) -> Markup {
    html! {
        h2 { (ctx.t("题干", "Stem")) }
        p.lead { (c.stem) }
        @if !c.options.is_empty() {
            ol.options { @for (i, o) in c.options.iter().enumerate() { li { (letter(i)) ". " (o) } } }
        }
        p { strong { (ctx.t("答案：", "Answer: ")) } (c.answer_label(ctx.lang)) }
        h2 { (ctx.t("解析", "Explanation")) }
        p { (c.explanation) }
    }
}

fn cited_article(ctx: &Ctx, a: &CitedArticle) -> Markup {
    html! {
        section.card {
            h3 { (a.citation.label(&a.statute_title)) }
            p.meta { (a.citation) }
            p.meta { (ctx.t("本版题目依据的文本：", "Text this version was written against: ")) (a.revision) }
            @match &a.text {
                Some(t) => blockquote.article { @for line in t.lines() { p { (line) } } },
                None => p.error { (ctx.t("找不到该条文", "Article not found")) },
            }
            @if let Some((rev, t)) = &a.current_text {
                p.meta { strong { (ctx.t("现行文本（", "Current text (")) (rev) (ctx.t("）已修改：", ") differs:")) } }
                blockquote.article.current { @for line in t.lines() { p { (line) } } }
            }
        }
    }
}

fn versions(ctx: &Ctx, list: &[QuestionVersion]) -> Markup {
    html! {
        h2 { (ctx.t("版本记录", "Versions")) }
        ul.plain {
            @for v in list {
                li { (ctx.t("第", "v")) (v.version_no) (ctx.t("版 · ", " · ")) (When(v.created_at, ctx.lang))
                    @if let Some(by) = &v.created_by { " · " (by) } }
            }
        }
    }
}

pub fn question_page(ctx: &Ctx, d: &QuestionDetail, error: Option<&Text>, saved: bool) -> Markup {
    question_page_with(ctx, d, error, saved, &[])
}

/// The question page with a form's problems at their fields (sending back without a reason).
pub fn question_page_with(
    ctx: &Ctx,
    d: &QuestionDetail,
    error: Option<&Text>,
    saved: bool,
    errors: &[(&'static str, Text)],
) -> Markup {
    let lang = ctx.lang;
    let q = &d.question;
    let c = &q.current.content;
    let body = html! {
        p.meta { a href=(urls::bank(d.bank.id)) { (d.bank.title) } " · " (status_tag(ctx, q.status)) " · "
            (ctx.t("第", "version ")) (q.current.version_no) (ctx.t("版", "")) }
        @if saved { (notice("ok", ctx.t("已保存。", "Saved."))) }
        @if let Some(e) = error { (notice("error", e.get(lang))) }
        @if q.status == QuestionStatus::NeedsReview && q.current.approval.is_some() { (review_box(ctx, q)) }
        (approval_box(ctx, q, errors))
        @if let Some(a) = &q.current.approval { p.meta { (ctx.t("批准：", "Approved: ")) (a.by) " · " (When(a.at, ctx.lang)) } }
        @if let (Some(by), Some(at)) = (&q.reviewed_by, q.reviewed_at) {
            p.meta { (ctx.t("最近复核：", "Last reviewed: ")) (by) " · " (When(at, lang)) }
        }
        (content(ctx, c))
        h2 { (ctx.t("法条依据", "Citations")) }
        @for a in &d.articles { (cited_article(ctx, a)) }
        @if !c.tags.is_empty() { p.meta { (ctx.t("标签：", "Tags: ")) (c.tags.join("、")) } }
        p { a.button href=(urls::question_edit(q.id)) { (ctx.t("修改题目", "Edit")) } }
        (regrade_link(ctx, d))
        (versions(ctx, &d.versions))
    };
    page(ctx, &format!("{} · {}", q.qid, c.kind.label(lang)), body)
}

/// The editor's values as typed.
#[derive(Default, Clone)]
pub struct QuestionForm {
    pub qid: String,
    pub kind: String,
    pub stem: String,
    pub options: String,
    pub answer: String,
    pub explanation: String,
    pub citations: String,
    pub tags: String,
    pub difficulty: String,
    pub rule: String,
}

impl QuestionForm {
    /// A question's current version as the editor shows it.
    pub fn of(q: &Question) -> QuestionForm {
        let [
            kind,
            stem,
            options,
            answer,
            explanation,
            citations,
            tags,
            difficulty,
            rule,
        ] = QuestionDraft::fields_of(&q.current.content);
        QuestionForm {
            qid: q.qid.clone(),
            kind,
            stem,
            options,
            answer,
            explanation,
            citations,
            tags,
            difficulty,
            rule,
        }
    }
}

fn textarea(
    ctx: &Ctx,
    name: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    errors: &[(&'static str, Text)],
    rows: u8,
) -> Markup {
    let id = format!("f-{name}");
    let err = error_for(errors, name);
    html! {
        div.field .has-error[err.is_some()] {
            label for=(id) { (label) }
            @if let Some(h) = hint { p.hint id=(format!("{id}-hint")) { (h) } }
            textarea id=(id) name=(name) rows=(rows) aria-invalid=[err.map(|_| "true")] { (value) }
            @for (f, e) in errors { @if *f == name { p.error role="alert" { (e.get(ctx.lang)) } } }
        }
    }
}

fn kind_select(ctx: &Ctx, f: &QuestionForm) -> Markup {
    html! {
        div.field {
            label for="f-kind" { (ctx.t("题型", "Kind")) }
            select id="f-kind" name="kind" { @for k in QuestionKind::ALL { option value=(k.code()) selected[f.kind == k.code()] { (k.label(ctx.lang)) } } }
        }
    }
}

fn difficulty_select(ctx: &Ctx, f: &QuestionForm, errors: &[(&'static str, Text)]) -> Markup {
    html! {
        div.field {
            label for="f-difficulty" { (ctx.t("难度", "Difficulty")) }
            select id="f-difficulty" name="difficulty" {
                @for (v, zh, en) in [("1", "容易", "easy"), ("2", "中等", "medium"), ("3", "较难", "hard")] {
                    option value=(v) selected[f.difficulty == v] { (ctx.t(zh, en)) }
                }
            }
            @if let Some(e) = error_for(errors, "difficulty") { p.error { (e.get(ctx.lang)) } }
        }
    }
}

fn qid_field(ctx: &Ctx, is_new: bool, f: &QuestionForm, errors: &[(&'static str, Text)]) -> Markup {
    let label = ctx.t(
        "题目编号（小写字母、数字、连字符）",
        "Question id (lowercase, digits, '-')",
    );
    html! {
        @if is_new {
            (Input::new("qid", label, &f.qid).required().error(error_for(errors, "qid")).render(ctx.lang))
        } @else { input type="hidden" name="qid" value=(f.qid); }
    }
}

fn editor_fields(ctx: &Ctx, f: &QuestionForm, errors: &[(&'static str, Text)]) -> Markup {
    let answer_hint = ctx.t(
        "单选填一个字母如 B；多选填 A,C；判断题填 对 或 错",
        "Single: one letter such as B; multiple: A,C; true/false: true or false",
    );
    let citations = ctx.t(
        "法条依据（每行一条：法规代号 条 [款] [项]）",
        "Citations (one per line: statute article [paragraph] [item])",
    );
    let example = Some("civil-code 278 / shanghai-residential-property-management 18 2");
    html! {
        (kind_select(ctx, f))
        (textarea(ctx, "stem", ctx.t("题干", "Stem"), &f.stem, None, errors, 3))
        (textarea(ctx, "options", ctx.t("选项（每行一个；判断题留空）", "Options (one per line; empty for true/false)"), &f.options, None, errors, 5))
        (Input::new("answer", ctx.t("答案", "Answer"), &f.answer).hint(answer_hint).error(error_for(errors, "answer")).render(ctx.lang))
        (textarea(ctx, "explanation", ctx.t("解析（用您自己的话说明理由）", "Explanation (in your own words)"), &f.explanation, None, errors, 3))
        (textarea(ctx, "citations", citations, &f.citations, example, errors, 3))
        (Input::new("tags", ctx.t("标签（用逗号分隔）", "Tags (comma-separated)"), &f.tags).error(error_for(errors, "tags")).render(ctx.lang))
        (difficulty_select(ctx, f, errors))
        (Input::new("rule", ctx.t("规则编号（可空）", "Rule (optional)"), &f.rule)
            .hint(ctx.t(
                "同一规则的题目不会在一次测试中同时出现。留空则按第一条法条依据生成，如 civil-code-278-1-5；两道题考同一条规则时填相同的编号。",
                "Questions with the same rule are never drawn into one quiz. Left empty, it is made from the first citation, e.g. civil-code-278-1-5; give two questions testing the same rule the same one.",
            ))
            .error(error_for(errors, "rule"))
            .render(ctx.lang))
    }
}

pub fn question_editor(
    ctx: &Ctx,
    bank: &Bank,
    action: &str,
    is_new: bool,
    f: &QuestionForm,
    errors: &[(&'static str, Text)],
) -> Markup {
    let title = if is_new {
        ctx.t("新增题目", "New question")
    } else {
        ctx.t("修改题目", "Edit question")
    };
    let body = html! {
        p.meta { a href=(urls::bank(bank.id)) { (bank.title) } }
        @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
        form.stack method="post" action=(action) {
            (csrf(ctx))
            (qid_field(ctx, is_new, f, errors))
            (editor_fields(ctx, f, errors))
            p.hint { (ctx.t("提交审核后，由另一位律师批准才会被抽到；草稿只有您能继续修改和提交。",
                            "Once submitted, another lawyer approves it before it is drawn; a draft waits for you to go on and submit it.")) }
            button.primary type="submit" name="save" value="submit" { (ctx.t("保存并提交审核", "Save and submit for approval")) }
            button type="submit" name="save" value="draft" { (ctx.t("保存为草稿", "Save as a draft")) }
        }
    };
    page(ctx, title, body)
}

pub fn new_bank(ctx: &Ctx, values: &[(&str, &str)], errors: &[(&'static str, Text)]) -> Markup {
    let lang = ctx.lang;
    let v = |k: &str| values.iter().find(|(n, _)| *n == k).map(|(_, v)| *v).unwrap_or("");
    page(
        ctx,
        ctx.t("新建题库", "New bank"),
        html! {
            form.stack method="post" action=(urls::BANK_NEW) {
                (csrf(ctx))
                (Input::new("slug", ctx.t("题库编号（小写字母、数字、连字符）", "Bank id (lowercase, digits, '-')"), v("slug")).required().error(error_for(errors, "slug")).render(lang))
                (Input::new("title", ctx.t("名称", "Title"), v("title")).required().error(error_for(errors, "title")).render(lang))
                (Input::new("topic", ctx.t("主题", "Topic"), v("topic")).required().error(error_for(errors, "topic")).render(lang))
                button.primary type="submit" { (ctx.t("创建", "Create")) }
            }
        },
    )
}

/// After an import whose file had content our questions cannot hold: what was imported, and each such line.
pub fn import_done(ctx: &Ctx, done: &Imported) -> Markup {
    page(
        ctx,
        ctx.t("导入完成", "Import complete"),
        html! {
            (notice("ok", &format!("{}{}{}", ctx.t("已导入 ", "Imported "), done.count, ctx.t(" 道题，均为“待复核”。", " questions, all marked for review."))))
            (notice("warn", ctx.t("以下各行的内容没有照原样导入，请在复核时留意：", "These lines were not imported exactly as written; mind them when you review:")))
            ul.problems.warnings { @for w in &done.warnings { li { (ctx.t("第 ", "line ")) (w) } } }
            p { a.button.primary href=(format!("{}?status=needs_review", urls::bank(done.bank.id))) { (ctx.t("查看导入的题目", "See the imported questions")) } }
        },
    )
}

/// The file field, with every line of the file that could not be read below it.
fn import_file_field(ctx: &Ctx, errors: &[(&'static str, Text)]) -> Markup {
    let problems: Vec<&Text> = errors.iter().filter(|(f, _)| *f == "file").map(|(_, t)| t).collect();
    html! {
        div.field .has-error[!problems.is_empty()] {
            label for="f-file" { (ctx.t("文件", "File")) }
            input id="f-file" type="file" name="file" required accept=".txt,.gift" aria-invalid=[(!problems.is_empty()).then_some("true")];
            @if !problems.is_empty() {
                p.error role="alert" { (ctx.t("以下各行无法识别，没有导入任何题目：", "These lines could not be read; nothing was imported:")) }
                ul.problems { @for p in &problems { li { (p.get(ctx.lang)) } } }
            }
        }
    }
}

pub fn import_page(ctx: &Ctx, banks: &[Bank], errors: &[(&'static str, Text)]) -> Markup {
    page(
        ctx,
        ctx.t("导入 GIFT / Aiken 题目", "Import GIFT / Aiken questions"),
        html! {
            p { (ctx.t("可导入 Moodle 的 GIFT 或 Aiken 格式（单选、多选、判断题）。导入的题目没有法条依据，会标为“待复核”，补充法条和解析后才会被抽到。",
                       "Moodle GIFT or Aiken (choice and true/false). Imported questions have no citations: they are marked for review and are drawn only after you add the articles and an explanation.")) }
            @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
            form.stack method="post" action=(urls::BANK_IMPORT) enctype="multipart/form-data" {
                (csrf(ctx))
                div.field { label for="f-bank" { (ctx.t("导入到题库", "Into bank")) }
                    select id="f-bank" name="bank" { @for b in banks { option value=(b.id) { (b.title) } } } }
                div.field { label for="f-format" { (ctx.t("格式", "Format")) }
                    select id="f-format" name="format" { option value="gift" { "GIFT" } option value="aiken" { "Aiken" } } }
                (import_file_field(ctx, errors))
                button.primary type="submit" { (ctx.t("导入", "Import")) }
            }
        },
    )
}

/// Each statute in force: how many of its articles the drawable questions cite, the articles no question
/// covers (to write questions for), then every article with its questions.
pub fn coverage(ctx: &Ctx, statutes: &[StatuteCoverage]) -> Markup {
    page(
        ctx,
        ctx.t("法条覆盖情况", "Statute coverage"),
        html! {
            p { (ctx.t("统计正在使用的题目（不含待复核、已停用）引用了现行法规的哪些条文。", "Which articles in force the questions in use (not those needing review or retired) cite.")) }
            p { a.button href=(format!("{}.csv", urls::COVERAGE)) { (ctx.t("导出 CSV", "Export CSV")) } " "
                a.button href=(format!("{}.xlsx", urls::COVERAGE)) { (ctx.t("导出 Excel", "Export Excel")) } }
            @for s in statutes {
                section.card {
                    h2 { "《" (s.title) "》" }
                    p.meta { (ctx.t("版本 ", "Revision ")) (s.revision_date) }
                    p { (ctx.t("收录 ", "")) strong { (s.articles.len()) } (ctx.t(" 条，其中 ", " articles on file; ")) strong { (s.covered()) } (ctx.t(" 条有题目引用，", " cited by questions, "))
                        strong { (s.articles.len() - s.covered()) } (ctx.t(" 条没有。", " not.")) }
                    @let uncovered: Vec<_> = s.articles.iter().filter(|a| a.questions.is_empty()).collect();
                    @if !uncovered.is_empty() {
                        h3 { (ctx.t("没有题目引用的条文", "Articles no question cites")) }
                        p { @for (i, a) in uncovered.iter().enumerate() { @if i > 0 { "、" } (a.label) } }
                    }
                    details {
                        summary { (ctx.t("逐条查看", "Article by article")) }
                        table.list {
                            thead { tr { th scope="col" { (ctx.t("条", "Article")) } th scope="col" { (ctx.t("题数", "Questions")) } th scope="col" { (ctx.t("题目编号", "Question ids")) } } }
                            tbody { @for a in &s.articles {
                                tr .row-error[a.questions.is_empty()] {
                                    td data-label=(ctx.t("条", "Article")) { (a.label) }
                                    td data-label=(ctx.t("题数", "Questions")) { (a.questions.len()) }
                                    td data-label=(ctx.t("题目编号", "Question ids")) { (a.questions.join(" ")) }
                                }
                            } }
                        }
                    }
                }
            }
        },
    )
}

/// The statutes on file and the form to upload a new revision.
pub fn statutes_page(ctx: &Ctx, on_file: &[StatuteInfo], errors: &[(&'static str, Text)]) -> Markup {
    page(
        ctx,
        ctx.t("法规与修订", "Statutes and revisions"),
        html! {
            table.list {
                thead { tr { th scope="col" { (ctx.t("法规", "Statute")) } th scope="col" { (ctx.t("代号", "Code")) } th scope="col" { (ctx.t("现行版本", "In force")) } } }
                tbody { @for s in on_file { tr {
                    td data-label=(ctx.t("法规", "Statute")) { "《" (s.title) "》" }
                    td data-label=(ctx.t("代号", "Code")) { (s.short_id) }
                    td data-label=(ctx.t("现行版本", "In force")) { (s.current_revision) }
                } } }
            }
            h2 { (ctx.t("上传新的修订", "Upload a new revision")) }
            p { (ctx.t("文件格式与 question-banks/statutes/ 中的法规文件相同（见 FORMAT.md）。新版本立即生效：引用了文字有改动的条文的题目会标为“待复核”，复核前不会被抽到。请同时把文件放入 question-banks/statutes/，使题库校验使用同一文本。",
                       "The same format as the files in question-banks/statutes/ (see FORMAT.md). A newer revision comes into force at once: questions citing an article whose text changed are marked for review and are not drawn until reviewed. Put the file in question-banks/statutes/ too, so that bank checks read the same text.")) }
            @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
            form.stack method="post" action=(urls::STATUTES) enctype="multipart/form-data" {
                (csrf(ctx))
                div.field .has-error[error_for(errors, "file").is_some()] {
                    label for="f-file" { (ctx.t("法规文件（.toml）", "Statute file (.toml)")) }
                    input id="f-file" type="file" name="file" accept=".toml,text/plain" required;
                    @for (f, e) in errors { @if *f == "file" { p.error role="alert" { (e.get(ctx.lang)) } } }
                }
                button.primary type="submit" { (ctx.t("上传", "Upload")) }
            }
        },
    )
}

/// What an upload did: the revision in force now and the questions it sent to review.
pub fn statute_uploaded(ctx: &Ctx, u: &StatuteUpload) -> Markup {
    page(
        ctx,
        ctx.t("法规已更新", "Statute updated"),
        html! {
            @if u.previous.as_deref() == Some(u.revision_date.as_str()) {
                (notice("ok", ctx.t(
                    &format!("《{}》的现行版本已是 {}，没有改动。", u.title, u.revision_date),
                    &format!("《{}》 is already in force as of {}; nothing changed.", u.title, u.revision_date),
                )))
            } @else {
                (notice("ok", ctx.t(
                    &format!("《{}》现行版本：{}", u.title, u.revision_date),
                    &format!("《{}》 in force as of {}", u.title, u.revision_date),
                )))
            }
            @if u.flagged.is_empty() {
                p { (ctx.t("没有题目需要复核。", "No question needs review.")) }
            } @else {
                p { (ctx.t("以下题目引用的条文有改动，已标为“待复核”：", "These questions cite articles that changed and are marked for review:")) }
                ul.plain { @for q in &u.flagged { li { (q) } } }
                p { a.button href=(urls::REVIEW_QUEUE) { (ctx.t("查看待复核题目", "See questions needing review")) } }
            }
        },
    )
}

/// The link to regrading, on a question whose approved version grades differently from an earlier
/// version (answered ones are counted on the regrade page itself).
fn regrade_link(ctx: &Ctx, d: &QuestionDetail) -> Markup {
    let Some(approved) = &d.question.approved else {
        return html! {};
    };
    let changed = d
        .versions
        .iter()
        .any(|v| v.version_no < approved.version_no && grading_changed(&v.content, &approved.content));
    html! {
        @if changed || !d.regrades.is_empty() {
            section.card #regrade {
                h2 { (ctx.t("重新评分", "Regrading")) }
                p { (ctx.t("正在使用的版本改过答案或选项。按旧版本作答的答卷可以按它重新评分：先预览谁的得分和结果会变，再确认。",
                           "The version in use changed the key or the options. Attempts that answered an earlier version can be regraded by it: preview whose score and result would change, then confirm.")) }
                @if !d.regrades.is_empty() { p.meta { (ctx.t("已重新评分 ", "Regraded ")) (d.regrades.len()) (ctx.t(" 次", " time(s)")) } }
                p { a.button href=(urls::question_regrade(d.question.id)) { (ctx.t("预览重新评分", "Preview the regrade")) } }
            }
        }
    }
}

fn passed_label(ctx: &Ctx, passed: bool) -> &'static str {
    if passed {
        ctx.t("合格", "passed")
    } else {
        ctx.t("不合格", "failed")
    }
}

fn certificate_label(ctx: &Ctx, c: CertificateChange) -> &'static str {
    match c {
        CertificateChange::Keep => "",
        CertificateChange::Issue => ctx.t("将颁发", "will be issued"),
        CertificateChange::Revoke => ctx.t("将撤销", "will be revoked"),
    }
}

/// The regrade page: the dry run (whose score and result would change, and certificates issued or
/// revoked), the form that applies it with a reason, and the record of earlier regrades.
pub fn regrade_page(
    ctx: &Ctx,
    plan: &RegradePlan,
    applied: Option<&Applied>,
    error: Option<&Text>,
    errors: &[(&'static str, Text)],
    reason: &str,
) -> Markup {
    let q = &plan.question;
    let body = html! {
        p.meta { a href=(urls::bank(plan.bank.id)) { (plan.bank.title) } " · " a href=(urls::question(q.id)) { (q.qid) } }
        @if let Some(a) = applied {
            (notice("ok", &format!("{}{}{}{}{}{}{}",
                ctx.t("已重新评分 ", "Regraded "), a.attempts, ctx.t(" 份答卷；颁发证书 ", " attempt(s); certificates issued: "),
                a.issued, ctx.t(" 张，撤销 ", ", revoked: "), a.revoked,
                ctx.t(" 张。通知邮件已排队发送。", ". The emails are queued."))))
        }
        @if let Some(e) = error { (notice("error", e.get(ctx.lang))) }
        @if let Some(v) = &plan.approved {
            p { (ctx.t("按正在使用的第 ", "By the version in use (version ")) (v.version_no)
                (ctx.t(" 版重新评分已提交的答卷。作答按选项的位置对应新版本：选项的顺序改过时，请不要重新评分。",
                       ") submitted attempts are graded again. Answers are matched to the new version by option position: do not regrade if the options were reordered.")) }
        }
        @if let Some(why) = &plan.refused {
            (notice("warn", why.get(ctx.lang)))
        } @else if plan.lines.is_empty() {
            p { (ctx.t("按旧版本作答的答卷 ", "Attempts that answered an earlier version: ")) strong { (plan.answered) }
                (ctx.t(" 份；重新评分不会改变任何得分。", ". Regrading would change no score.")) }
        } @else {
            p { (ctx.t("按旧版本作答的答卷 ", "Attempts that answered an earlier version: ")) strong { (plan.answered) }
                (ctx.t(" 份，其中 ", "; of them ")) strong { (plan.lines.len()) } (ctx.t(" 份得分会改变：", " would change: "))
                strong { (plan.issued()) } (ctx.t(" 人将获得证书，", " chair(s) would receive a certificate, "))
                strong { (plan.revoked()) } (ctx.t(" 人的证书将被撤销（邮件通知本人）。", " would have theirs revoked (told by email).")) }
            table.list {
                thead { tr {
                    th scope="col" { (ctx.t("培训", "Session")) }
                    th scope="col" { (ctx.t("学员", "Chair")) }
                    th scope="col" { (ctx.t("第几次", "Attempt")) }
                    th scope="col" { (ctx.t("原得分", "Score before")) }
                    th scope="col" { (ctx.t("新得分", "Score after")) }
                    th scope="col" { (ctx.t("原结果", "Before")) }
                    th scope="col" { (ctx.t("新结果", "After")) }
                    th scope="col" { (ctx.t("证书", "Certificate")) }
                } }
                tbody { @for l in &plan.lines { tr {
                    td data-label=(ctx.t("培训", "Session")) { (l.session.title) " · " (When(l.session.starts_at, ctx.lang)) }
                    td data-label=(ctx.t("学员", "Chair")) { (l.chair) }
                    td data-label=(ctx.t("第几次", "Attempt")) { (l.attempt_number) }
                    td data-label=(ctx.t("原得分", "Score before")) { (l.change.before.0) "/" (l.total) }
                    td data-label=(ctx.t("新得分", "Score after")) { (l.change.after.0) "/" (l.total) }
                    td data-label=(ctx.t("原结果", "Before")) { (passed_label(ctx, l.change.before.1)) }
                    td data-label=(ctx.t("新结果", "After")) { (passed_label(ctx, l.change.after.1)) }
                    td data-label=(ctx.t("证书", "Certificate")) { (certificate_label(ctx, l.certificate)) }
                } } }
            }
            form.stack method="post" action=(urls::question_regrade(q.id)) {
                (csrf(ctx))
                (textarea(ctx, "reason", ctx.t("重新评分的原因", "Why regrade"),
                    reason, Some(ctx.t("会记录在案；证书被撤销的学员会在通知邮件里看到。", "It is recorded; chairs whose certificate is revoked read it in their email.")), errors, 3))
                button.primary type="submit" { (ctx.t("确认重新评分", "Regrade")) }
            }
        }
        @if !plan.history.is_empty() {
            h2 { (ctx.t("重新评分记录", "Earlier regrades")) }
            ul { @for r in &plan.history { li {
                (When(r.at, ctx.lang)) " · " (r.by_name) " · " (r.reason) " · "
                (r.changes.len()) (ctx.t(" 份答卷，颁发 ", " attempt(s), issued ")) (r.issued) (ctx.t(" 张，撤销 ", ", revoked ")) (r.revoked)
                (ctx.t(" 张", ""))
            } } }
        }
    };
    page(ctx, &format!("{} · {}", q.qid, ctx.t("重新评分", "Regrade")), body)
}
