//! Quiz pages: settings, the chair's attempt (one question per screen or all), the result.

use maud::{Markup, html};

use super::When;
use super::forms::{csrf, error_for, notice, read_aloud};
use super::layout::{focused_page, page};
use crate::domain::question::{QuestionKind, letter};
use crate::domain::quiz::{Given, QuizSettings, QuizStatus, Reveal};
use crate::i18n::{Lang, Text};
use crate::services::banks::CitedArticle;
use crate::services::certificates::EmailStatus;
use crate::services::quiz::{AttemptView, Blocked, CertificateNote, Ready, Retake, SettingsPage, ShownItem};
use crate::web::context::Ctx;
use crate::web::urls;

fn number(
    ctx: &Ctx,
    name: &str,
    label: &str,
    value: u32,
    min: u32,
    max: u32,
    errors: &[(&'static str, Text)],
) -> Markup {
    let id = format!("f-{name}");
    let e = error_for(errors, name);
    html! {
        div.field .has-error[e.is_some()] {
            label for=(id) { (label) }
            input id=(id) name=(name) type="number" inputmode="numeric" min=(min) max=(max) value=(value) required;
            @if let Some(e) = e { p.error role="alert" { (e.get(ctx.lang)) } }
        }
    }
}

/// The settings page; `s` are the settings in the form (stored, or as typed when shown again).
pub fn settings_page(
    ctx: &Ctx,
    p: &SettingsPage,
    s: &QuizSettings,
    errors: &[(&'static str, Text)],
    saved: bool,
) -> Markup {
    page(
        ctx,
        ctx.t("随堂测试设置", "Quiz settings"),
        html! {
            p.meta { a href=(urls::room(p.session.id)) { (p.session.title) } }
            @if saved { (notice("ok", ctx.t("已保存。", "Saved."))) }
            @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
            (quiz_status(ctx, p))
            @if p.moderator { (open_or_close(ctx, p)) }
            (settings_form(ctx, p, s, errors))
        },
    )
}

fn quiz_status(ctx: &Ctx, p: &SettingsPage) -> Markup {
    html! {
        @if let Some(q) = &p.quiz {
            @match q.status {
                QuizStatus::Draft => p { (ctx.t("状态：未开始", "Status: not started")) },
                QuizStatus::Open => p { strong { (ctx.t("测试进行中", "The quiz is open")) } @if let Some(c) = q.closes_at { " · " (ctx.t("截止 ", "closes ")) (When(c, ctx.lang)) } },
                QuizStatus::Closed => p { (ctx.t("测试已结束", "The quiz is closed")) },
            }
        }
        @if let Some(c) = p.counter {
            p.counter { (ctx.t("在场 ", "Present ")) (c.present) " · " (ctx.t("已开始 ", "started ")) (c.started) " · " (ctx.t("已交卷 ", "submitted ")) (c.submitted) " · " (ctx.t("合格 ", "passed ")) (c.passed) }
        }
    }
}

fn open_or_close(ctx: &Ctx, p: &SettingsPage) -> Markup {
    html! {
        @match p.quiz.as_ref().map(|q| q.status) {
            Some(QuizStatus::Open) => form.stack method="post" action=(urls::quiz_close(p.session.id)) { (csrf(ctx)) button.danger type="submit" { (ctx.t("结束随堂测试（未交卷的自动提交）", "Close the quiz (open attempts are submitted)")) } },
            Some(QuizStatus::Closed) => {},
            _ => form.stack method="post" action=(urls::quiz_open(p.session.id)) { (csrf(ctx)) button.primary type="submit" { (ctx.t("开始随堂测试", "Open the quiz")) } },
        }
    }
}

fn settings_form(ctx: &Ctx, p: &SettingsPage, s: &QuizSettings, errors: &[(&'static str, Text)]) -> Markup {
    let editable = p.quiz.as_ref().is_none_or(|q| q.editable());
    html! {
        form.stack method="post" action=(urls::quiz_settings(p.session.id)) {
            (csrf(ctx))
            (blueprint(ctx, p, s, errors, editable))
            fieldset disabled[!editable] {
                (number(ctx, "pass_mark", ctx.t("合格线（答对百分比）", "Pass mark (% right)"), s.pass_mark, 1, 100, errors))
                (number(ctx, "time_limit_minutes", ctx.t("限时（分钟）", "Time limit (minutes)"), s.time_limit_minutes, 1, 180, errors))
                (number(ctx, "attempts_allowed", ctx.t("允许答题次数", "Attempts allowed"), s.attempts_allowed, 1, 5, errors))
                (number(ctx, "retake_wait_minutes", ctx.t("重考前需等待（分钟）", "Wait before a retake (minutes)"), s.retake_wait_minutes, 0, 1440, errors))
                (number(ctx, "attendance_gate", ctx.t("出勤要求（听课时长百分比）", "Attendance required (% of the lecture)"), s.attendance_gate, 0, 100, errors))
                fieldset.field {
                    legend { (ctx.t("何时显示答案和解析", "When to show answers and explanations")) }
                    label.check { input type="radio" name="reveal" value="after_submit" checked[s.reveal == Reveal::AfterSubmit]; " " (ctx.t("交卷后立即显示", "Right after submitting")) }
                    label.check { input type="radio" name="reveal" value="after_close" checked[s.reveal == Reveal::AfterClose]; " " (ctx.t("测试结束后显示", "After the quiz closes")) }
                }
                button.primary type="submit" { (ctx.t("保存设置", "Save settings")) }
            }
        }
    }
}

fn blueprint(ctx: &Ctx, p: &SettingsPage, s: &QuizSettings, errors: &[(&'static str, Text)], editable: bool) -> Markup {
    html! {
        fieldset.field .has-error[error_for(errors, "blueprint").is_some()] disabled[!editable] {
            legend { (ctx.t("出题方案：每个主题抽几道题", "Blueprint: questions per topic")) }
            @for (topic, n) in &p.topics {
                @let current = s.blueprint.iter().find(|r| &r.topic == topic).map(|r| r.count).unwrap_or(0);
                div.field {
                    label { (topic) " " span.meta { "（" (ctx.t("可用 ", "available ")) (n) "）" }
                        input type="number" inputmode="numeric" name=(format!("topic:{topic}")) min="0" max="100" value=(current); }
                }
            }
            p.hint { (ctx.t("“可用”只算律师已批准、不在待复核中的题目，并按规则计：考同一条法律规则的几道题，一次测试只会抽到其中一道。可用题目不够的主题，请联系律师审核题库。",
                "“Available” counts only questions a lawyer has approved and that are not awaiting review, and counts rules: of the questions testing one rule, a quiz draws only one. For a topic short of questions, ask the lawyers to review its bank.")) }
            @for (f, e) in errors { @if *f == "blueprint" { p.error role="alert" { (e.get(ctx.lang)) } } }
        }
    }
}

/// Minutes are whole and rounded down; "0 minutes (19%)" side by side reads as a bug, so a short but
/// real stay says "less than a minute".
fn attended_minutes(minutes: i64, share: f64, lang: Lang) -> String {
    match (minutes, share > 0.0, lang) {
        (0, true, Lang::Zh) => "不到 1 分钟".into(),
        (0, true, Lang::En) => "less than a minute".into(),
        (m, _, Lang::Zh) => format!("{m} 分钟"),
        (m, _, Lang::En) => format!("{m} minutes"),
    }
}

/// Why she cannot take the quiz now, in one paragraph she can act on.
fn why_blocked(ctx: &Ctx, b: &Blocked) -> String {
    let t = |zh, en| ctx.t(zh, en).to_string();
    match b {
        Blocked::NotInvited => t("您不在本场培训的邀请名单中。", "You are not invited to this session."),
        Blocked::NotOpen => t(
            "随堂测试还没有开始，请在直播间等待主持人开始。",
            "The quiz has not opened yet; wait in the live room.",
        ),
        Blocked::Closed => t("随堂测试已经结束。", "The quiz has closed."),
        Blocked::Passed => t(
            "您已通过本场随堂测试，成绩有效，无需再答。",
            "You passed this quiz; your result stands and there is nothing to retake.",
        ),
        Blocked::NoAttemptsLeft => t("您的答题次数已用完。", "You have used all your attempts."),
        Blocked::RetakeWait { until } => format!(
            "{}{}",
            ctx.t("可以重新答题的时间：", "You may try again from "),
            crate::domain::time::to_shanghai(*until).format("%H:%M")
        ),
        Blocked::BelowGate {
            minutes,
            share,
            required,
        } => below_gate(ctx.lang, *minutes, *share, *required),
        Blocked::OutsideMakeup { from, until } => {
            let day = |d: &chrono::DateTime<chrono::Utc>| {
                crate::domain::time::to_shanghai(*d)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            };
            match ctx.lang {
                Lang::Zh => format!(
                    "随堂测试已经结束。本场的回看补测时间为 {} 至 {}，现在不在补测时间内。",
                    day(from),
                    day(until)
                ),
                Lang::En => format!(
                    "The quiz has closed. This session's make-up quiz runs from {} to {}; it is not open now.",
                    day(from),
                    day(until)
                ),
            }
        }
    }
}

fn below_gate(lang: Lang, minutes: i64, share: f64, required: u32) -> String {
    let minutes = attended_minutes(minutes, share, lang);
    let percent = share * 100.0;
    match lang {
        Lang::Zh => format!(
            "参加随堂测试需要听课时间达到 {required}%（直播和观看录像合计，每一段只算一次）。您目前的听课时间为 {minutes}（{percent:.0}%），暂时不能参加。如有疑问，请联系主持人。"
        ),
        Lang::En => format!(
            "The quiz needs {required}% of the lecture attended (live and replay together, each moment counted once). You have {minutes} ({percent:.0}%), so you cannot take it yet. Ask the moderator if this looks wrong."
        ),
    }
}

pub fn blocked(ctx: &Ctx, b: &Blocked, finished: Option<i64>) -> Markup {
    let kind = if *b == Blocked::Passed { "ok" } else { "error" };
    page(
        ctx,
        ctx.t("随堂测试", "Quiz"),
        html! {
            (notice(kind, &why_blocked(ctx, b)))
            // Below the gate in the room: the room's frame looks for `data-gate` and asks again until
            // her minutes reach it.
            @if matches!(b, Blocked::BelowGate { .. }) {
                p data-gate="" { (ctx.t("请留在直播间继续听课，出勤达到要求后会自动进入答题。", "Stay in the room and keep listening: the quiz lets you in by itself once your attendance is enough.")) }
            }
            @if let Some(a) = finished { p { a.button.primary href=(urls::attempt(a)) { (ctx.t("查看我的成绩", "See my result")) } } }
            // `_top`: inside the room's quiz frame the home page replaces the whole room page.
            p { a.button href=(urls::HOME) target="_top" { (ctx.t("返回首页", "Home")) } }
        },
    )
}

/// Before a timed attempt starts: what it holds, and the button that starts the clock.
pub fn ready(ctx: &Ctx, quiz: i64, r: &Ready) -> Markup {
    page(
        ctx,
        ctx.t("随堂测试", "Quiz"),
        html! {
            section.card {
                p.lead {
                    (ctx.t("共 ", "")) (r.questions) (ctx.t(" 道题，限时 ", " questions, ")) (r.minutes) (ctx.t(" 分钟。", " minutes."))
                }
                @if r.attempts_allowed > 1 {
                    p { (ctx.t("这是第 ", "This is attempt ")) (r.number) (ctx.t(" 次答题，共可答 ", " of ")) (r.attempts_allowed) (ctx.t(" 次。", ".")) }
                }
                p { (ctx.t("点“开始答题”后开始计时。每道题选好后会自动保存。", "The clock starts when you press Start. Each answer is saved as you go.")) }
                form method="post" action=(urls::quiz_start(quiz)) {
                    (csrf(ctx))
                    button.primary type="submit" { (ctx.t("开始答题", "Start")) }
                }
            }
            @if let Some(a) = r.counting { p { a.button href=(urls::attempt(a)) { (ctx.t("查看上次成绩", "See my last result")) } } }
        },
    )
}

/// The words after a chosen option: the choice shows in a shape and a word, not only in a colour.
fn chosen_mark(ctx: &Ctx) -> &'static str {
    ctx.t(" ✓ 已选", " ✓ chosen")
}

fn choice_input(ctx: &Ctx, item: &ShownItem, i: usize, attempt: i64, open: bool) -> Markup {
    let multiple = item.version.content.kind == QuestionKind::Multiple;
    let checked = matches!(&item.chosen, Some(Given::Choices(c)) if c.contains(&i));
    html! {
        label.option .chosen[checked] data-say=(format!("{}，{}", letter(i), item.options[i])) {
            input type=(if multiple { "checkbox" } else { "radio" }) name="choice" value=(i) checked[checked] disabled[!open]
                data-attempt=(attempt) data-position=(item.position);
            span.otext data-chosen=(chosen_mark(ctx)) { span.letter { (letter(i)) } " " (item.options[i]) }
        }
    }
}

fn truth_inputs(ctx: &Ctx, item: &ShownItem, attempt: i64, open: bool) -> Markup {
    html! {
        @for (value, zh, en) in [("true", "正确", "True"), ("false", "错误", "False")] {
            @let checked = matches!(item.chosen, Some(Given::Truth(t)) if t == (value == "true"));
            label.option .chosen[checked] data-say="" {
                input type="radio" name="truth" value=(value) disabled[!open] checked[checked]
                    data-attempt=(attempt) data-position=(item.position);
                span.otext data-chosen=(chosen_mark(ctx)) { (ctx.t(zh, en)) }
            }
        }
    }
}

fn question_form(ctx: &Ctx, v: &AttemptView, item: &ShownItem, next: Option<i32>, single_page: bool) -> Markup {
    let open = v.accepts_answers();
    let c = &item.version.content;
    html! {
        form.question method="post" action=(urls::attempt_answer(v.attempt.id)) data-position=(item.position) {
            (csrf(ctx))
            input type="hidden" name="position" value=(item.position);
            @if let Some(n) = next { input type="hidden" name="next" value=(n); }
            @if single_page { input type="hidden" name="layout" value="all"; }
            fieldset id=(format!("q-{}", item.position)) {
                legend {
                    span.qnum { (ctx.t("第 ", "Question ")) (item.position + 1) (ctx.t(" 题", "")) } " "
                    span.meta { (c.kind.label(ctx.lang)) } " "
                    span.saved role="status" hidden[item.chosen.is_none()] { (ctx.t("已保存", "Saved")) }
                }
                (read_aloud(ctx, &format!("q-{}", item.position), "zh-CN"))
                p.stem data-say="" { (c.stem) }
                @if c.kind == QuestionKind::TrueFalse {
                    (truth_inputs(ctx, item, v.attempt.id, open))
                } @else {
                    @for i in 0..item.options.len() { (choice_input(ctx, item, i, v.attempt.id, open)) }
                }
            }
            @if open {
                button.primary.save type="submit" { @if next.is_some() && !single_page { (ctx.t("保存，下一题", "Save and next")) } @else { (ctx.t("保存", "Save")) } }
            }
        }
    }
}

pub fn attempt_page(
    ctx: &Ctx,
    v: &AttemptView,
    position: i32,
    single_page: bool,
    saved: Option<i32>,
    error: Option<&Text>,
) -> Markup {
    let current = v.items.iter().find(|i| i.position == position).or(v.items.first());
    // A short heading and no navigation bar: on a phone the question and all its options must fit the
    // first screen (the session's name is on the room page she came from).
    focused_page(
        ctx,
        ctx.t("随堂测试", "Quiz"),
        html! {
            div #quiz data-attempt=(v.attempt.id) data-deadline=(v.attempt.deadline.to_rfc3339()) data-api=(urls::attempt_api(v.attempt.id)) data-csrf=(ctx.csrf_token) {
                (deadline_bar(ctx, v))
                (notices(ctx, saved, error))
                @if single_page {
                    @for (i, item) in v.items.iter().enumerate() {
                        (question_form(ctx, v, item, v.items.get(i + 1).map(|n| n.position), true))
                    }
                } @else if let Some(item) = current {
                    (one_question(ctx, v, item))
                }
                (layout_switch(ctx, v.attempt.id, single_page))
                (submit_form(ctx, v.attempt.id))
            }
            script src=(urls::QUIZ_SCRIPT) {}
        },
    )
}

/// What happened to the last answer, and the offline note quiz.js shows.
fn notices(ctx: &Ctx, saved: Option<i32>, error: Option<&Text>) -> Markup {
    html! {
        @if let Some(p) = saved { (notice("ok", &format!("{}{}{}", ctx.t("第 ", "Question "), p + 1, ctx.t(" 题已保存。", " saved.")))) }
        @if let Some(e) = error { (notice("error", e.get(ctx.lang))) }
        p #offline.notice.warn hidden { (ctx.t("网络已断开：答案暂存在手机上，恢复网络后会自动提交。", "Offline: answers are kept on this phone and sent when the network is back.")) }
    }
}

fn submit_form(ctx: &Ctx, attempt: i64) -> Markup {
    html! {
        // quiz.js asks before submitting, naming the questions still unanswered, and then marks the
        // form confirmed; without JavaScript the server answers with a confirmation page instead.
        form.stack.submit method="post" action=(urls::attempt_submit(attempt))
            data-confirm=(ctx.t("确定交卷吗？交卷后不能再修改。", "Submit now? You cannot change answers afterwards."))
            data-confirm-unanswered=(ctx.t("第 {list} 题还没有作答，按答错计。确定交卷吗？", "Question(s) {list} are unanswered and count as wrong. Submit now?")) {
            (csrf(ctx))
            input type="hidden" name="confirm" value="";
            p { (ctx.t("交卷后不能再修改。未答的题按答错计。", "After submitting you cannot change answers. Unanswered questions count as wrong.")) }
            button.primary type="submit" { (ctx.t("交卷", "Submit")) }
        }
    }
}

/// Asked before 交卷 when the page could not ask (no JavaScript): which questions are unanswered, with
/// a way back to each, and the button that really submits.
pub fn confirm_submit(ctx: &Ctx, v: &AttemptView) -> Markup {
    let open: Vec<i32> = v
        .items
        .iter()
        .filter(|i| i.chosen.is_none())
        .map(|i| i.position)
        .collect();
    page(
        ctx,
        ctx.t("确认交卷", "Confirm submission"),
        html! {
            @if open.is_empty() {
                p.lead { (ctx.t("所有题目都已作答。交卷后不能再修改。", "Every question is answered. After submitting you cannot change answers.")) }
            } @else {
                (notice("warn", &format!("{}{}{}", ctx.t("还有 ", ""), open.len(), ctx.t(" 题没有作答，按答错计：", " question(s) unanswered; they count as wrong:"))))
                ul.plain {
                    @for p in &open {
                        li { a href=(format!("{}?q={p}", urls::attempt(v.attempt.id))) { (ctx.t("第 ", "Question ")) (p + 1) (ctx.t(" 题", "")) } }
                    }
                }
            }
            form.stack method="post" action=(urls::attempt_submit(v.attempt.id)) {
                (csrf(ctx))
                input type="hidden" name="confirm" value="yes";
                button.primary type="submit" { (ctx.t("确定交卷", "Submit now")) }
            }
            p { a.button href=(urls::attempt(v.attempt.id)) { (ctx.t("返回检查", "Go back and check")) } }
        },
    )
}

/// The clock in words (还剩 9 分 59 秒), filled in by quiz.js; the due time stands without it.
fn deadline_bar(ctx: &Ctx, v: &AttemptView) -> Markup {
    let answered = v.items.iter().filter(|i| i.chosen.is_some()).count();
    html! {
        p.deadline {
            span #remaining role="timer" {}
            span.due { (ctx.t("交卷截止：", "Due: ")) (When(v.attempt.deadline, ctx.lang)) }
            span.answered { (ctx.t("已答 ", "Answered ")) span #answered { (answered) } " / " (v.items.len()) }
        }
    }
}

/// One question per screen, with previous/next and a dot per question.
fn one_question(ctx: &Ctx, v: &AttemptView, item: &ShownItem) -> Markup {
    let idx = v.items.iter().position(|i| i.position == item.position).unwrap_or(0);
    let at = |position| urls::attempt_question(v.attempt.id, position);
    let name = |position: i32| format!("{}{}{}", ctx.t("第 ", "Question "), position + 1, ctx.t(" 题", ""));
    html! {
        (question_form(ctx, v, item, v.items.get(idx + 1).map(|n| n.position), false))
        nav.qnav aria-label=(ctx.t("题目", "Questions")) {
            div.prevnext {
                @if idx > 0 { a.button.prev href=(at(v.items[idx - 1].position)) { "‹ " (ctx.t("上一题", "Previous")) } }
                @if let Some(n) = v.items.get(idx + 1) { a.button.next href=(at(n.position)) { (ctx.t("下一题", "Next")) " ›" } }
            }
            @for it in &v.items {
                a.qdot .done[it.chosen.is_some()] href=(at(it.position))
                    data-position=(it.position)
                    aria-current=[(it.position == item.position).then_some("step")]
                    aria-label=(name(it.position)) { (it.position + 1) }
            }
        }
    }
}

fn layout_switch(ctx: &Ctx, attempt: i64, single_page: bool) -> Markup {
    html! {
        p.layout {
            @if single_page { a href=(urls::attempt(attempt)) { (ctx.t("一页一题（大字）", "One question per screen")) } }
            @else { a href=(format!("{}?layout=all", urls::attempt(attempt))) { (ctx.t("所有题目显示在一页", "All questions on one page")) } }
        }
    }
}

fn shown_answer(ctx: &Ctx, item: &ShownItem) -> String {
    match &item.chosen {
        None => ctx.t("未作答", "No answer").to_string(),
        Some(Given::Truth(true)) => ctx.t("正确", "True").to_string(),
        Some(Given::Truth(false)) => ctx.t("错误", "False").to_string(),
        Some(Given::Choices(c)) => c.iter().map(|i| letter(*i).to_string()).collect::<Vec<_>>().join("、"),
    }
}

fn right_answer(ctx: &Ctx, item: &ShownItem) -> String {
    use crate::domain::question::Answer;
    match &item.version.content.answer {
        Answer::Truth(true) => ctx.t("正确", "True").to_string(),
        Answer::Truth(false) => ctx.t("错误", "False").to_string(),
        Answer::Choices(c) => {
            let shown: std::collections::BTreeSet<usize> = c
                .iter()
                .filter_map(|orig| item.order.iter().position(|o| o == orig))
                .collect();
            shown
                .iter()
                .map(|i| letter(*i).to_string())
                .collect::<Vec<_>>()
                .join("、")
        }
    }
}

/// The note on an attempt the server submitted (the chair did not press 交卷).
fn server_submitted(ctx: &Ctx, by: Option<&str>) -> Option<&'static str> {
    match by {
        Some("chair") | None => None,
        Some("closed") => Some(ctx.t(
            "测试已结束，系统已按已保存的答案自动交卷",
            "submitted automatically with the saved answers when the quiz closed",
        )),
        Some(_) => Some(ctx.t(
            "时间到，系统已按已保存的答案自动交卷",
            "submitted automatically at the deadline with the saved answers",
        )),
    }
}

pub fn result_page(ctx: &Ctx, v: &AttemptView, reveal: bool, articles: &[Vec<CitedArticle>]) -> Markup {
    page(
        ctx,
        ctx.t("测试成绩", "Your result"),
        html! {
            (score(ctx, v))
            @if let Some(note) = &v.certificate { (certificate_note(ctx, v, note)) }
            @if !reveal {
                (notice("", ctx.t("测试结束后可以查看答案和解析。", "Answers and explanations appear after the quiz closes.")))
            } @else {
                @for (item, cited) in v.items.iter().zip(articles) { (review(ctx, item, cited)) }
            }
            p { a.button href=(urls::HOME) target="_top" { (ctx.t("返回首页", "Home")) } }
        },
    )
}

fn score(ctx: &Ctx, v: &AttemptView) -> Markup {
    let a = &v.attempt;
    let correct = a.correct.unwrap_or(0);
    let passed = a.passed.unwrap_or(false);
    let say = format!(
        "{}{}{}{}{}",
        ctx.t("答对 ", ""),
        correct,
        ctx.t(" 题，共 ", " right out of "),
        a.total,
        ctx.t(" 题", "")
    );
    html! {
        div.result #result .passed[passed] {
            p.score data-say=(say) { (correct) " / " (a.total) }
            p.verdict data-say="" { @if passed { (ctx.t("合格！", "Passed!")) } @else { (ctx.t("未合格", "Not passed")) } }
            (read_aloud(ctx, "result", ctx.lang.html_lang()))
            p.meta { (ctx.t("合格线 ", "Pass mark ")) (v.quiz.settings.pass_mark) "%" @if let Some(note) = server_submitted(ctx, a.submitted_by.as_deref()) { " · " (note) } }
        }
    }
}

/// Where her certificate is, or why there is none and what she can do.
fn certificate_note(ctx: &Ctx, v: &AttemptView, note: &CertificateNote) -> Markup {
    let find_again = ctx.t(
        "以后在首页的“我的培训记录”和“我的证书”里都能找到它。",
        "You can find it again on the home page, under My training record and My certificates.",
    );
    html! {
        section.notice.certificate-note .ok[matches!(note, CertificateNote::Issued { revoked: false, .. })]
            .error[matches!(note, CertificateNote::Issued { revoked: true, .. } | CertificateNote::Missing)] role="status" {
            @match note {
                CertificateNote::Issued { id, revoked: false, email } => {
                    p { strong { (ctx.t("证书已发放", "Your certificate has been issued")) }
                        @if v.attempt.passed != Some(true) { (ctx.t("（您在另一次答题中已通过）", " (you passed in another attempt)")) } }
                    p { (email_note(ctx, *email)) }
                    p { a.button.primary href=(urls::certificate(*id)) target="_top" { (ctx.t("查看证书", "View the certificate")) } }
                    p.meta { (find_again) }
                },
                CertificateNote::Issued { id, revoked: true, .. } => {
                    p { strong { (ctx.t("本场培训的证书已被撤销", "Your certificate of this session was revoked")) } }
                    p { a href=(urls::certificate(*id)) target="_top" { (ctx.t("查看证书和撤销原因", "See the certificate and why")) } }
                },
                CertificateNote::BeingRecorded => {
                    p { strong { (ctx.t("证书即将发放", "Your certificate is on its way")) } }
                    p { (ctx.t("答题时间已到，系统正在记录您的成绩，证书会在几秒钟内发放。请稍后刷新本页。",
                        "Time is up and your result is being recorded; the certificate is issued within seconds. Reload this page shortly.")) }
                    p.meta { (find_again) }
                },
                CertificateNote::Missing => {
                    p { strong { (ctx.t("证书还没有发放", "No certificate has been issued yet")) } }
                    p { (ctx.t("您已合格，但系统里还没有您的证书。请联系街道办，他们可以查看并处理。",
                        "You passed, but there is no certificate for you yet. Please contact your street office; they can look into it.")) }
                },
                CertificateNote::NotPassed { retake } => {
                    p { strong { (ctx.t("本次未合格，没有证书", "Not passed: no certificate this time")) } }
                    (what_next(ctx, *retake))
                },
            }
        }
    }
}

fn email_note(ctx: &Ctx, email: EmailStatus) -> &'static str {
    match email {
        EmailStatus::Sent => ctx.t("证书也已发送到您登记的邮箱。", "It was also sent to your email address."),
        EmailStatus::Pending => ctx.t(
            "证书正在发送到您登记的邮箱，请稍后查收。",
            "It is being sent to your email address; check your inbox shortly.",
        ),
        EmailStatus::Failed => ctx.t(
            "发往您邮箱的邮件没有成功，街道可以重新发送；您也可以直接在这里查看和保存证书。",
            "The email to you did not go through; the street office can send it again. You can also view and save the certificate here.",
        ),
        EmailStatus::NoEmail => ctx.t(
            "您没有登记邮箱，证书不会通过邮件发送。请点“查看证书”，长按证书图片即可保存到手机。",
            "You have no email address on file, so it is not emailed. Open it below and press and hold the picture to save it.",
        ),
    }
}

fn what_next(ctx: &Ctx, retake: Option<Retake>) -> Markup {
    html! {
        @if let Some(r) = retake {
            p { (ctx.t("您还可以再答 ", "You may try again: ")) (r.attempts_left) (ctx.t(" 次，通过后即可获得证书。", " attempt(s) left; passing earns the certificate.")) }
            p { a.button.primary href=(urls::quiz(r.quiz_id)) { (ctx.t("重新答题", "Try again")) } }
        } @else {
            p { (ctx.t("本场随堂测试已经结束，或答题次数已用完。街道以后组织培训时会通知您，参加并通过随堂测试后即可获得证书。",
                "This quiz is over or you have used your attempts. The street office will let you know about the next session; pass its quiz to earn the certificate.")) }
        }
    }
}

/// One question after the quiz: her answer, the right one, why, and the articles cited.
fn review(ctx: &Ctx, item: &ShownItem, cited: &[CitedArticle]) -> Markup {
    let id = format!("r-{}", item.position);
    let right = item.correct == Some(true);
    html! {
        section.card.review .wrong[!right] id=(id) {
            h2 { (ctx.t("第 ", "Question ")) (item.position + 1) (ctx.t(" 题", "")) " " @if right { span.tag.ok { (ctx.t("答对", "right")) } } @else { span.tag.warn { (ctx.t("答错", "wrong")) } } }
            (read_aloud(ctx, &id, "zh-CN"))
            p.stem data-say="" { (item.version.content.stem) }
            @if !item.options.is_empty() { ol.options { @for (i, o) in item.options.iter().enumerate() { li data-say=(format!("{}，{}", letter(i), o)) { (letter(i)) ". " (o) } } } }
            p data-say="" { (ctx.t("您的答案：", "Your answer: ")) strong { (shown_answer(ctx, item)) } " · " (ctx.t("正确答案：", "Right answer: ")) strong { (right_answer(ctx, item)) } }
            p data-say="" { strong { (ctx.t("解析：", "Why: ")) } (item.version.content.explanation) }
            @for c in cited {
                details {
                    summary { (c.citation.label(&c.statute_title)) }
                    @if let Some(t) = &c.text { blockquote.article { @for line in t.lines() { p { (line) } } } p.meta { (ctx.t("条文版本：", "Text as of ")) (c.revision) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attended_minutes;
    use crate::i18n::Lang;

    #[test]
    fn a_short_stay_is_not_called_zero_minutes() {
        assert_eq!(attended_minutes(0, 0.19, Lang::Zh), "不到 1 分钟");
        assert_eq!(attended_minutes(0, 0.19, Lang::En), "less than a minute");
        assert_eq!(attended_minutes(0, 0.0, Lang::Zh), "0 分钟");
        assert_eq!(attended_minutes(10, 0.17, Lang::En), "10 minutes");
    }
}
