//! Report pages: a session's attendance and results, and the street dashboard. Charts are SVG drawn on
//! the server (readable on a phone, no JavaScript).

use maud::{Markup, html};

use super::forms::{Input, error_for, notice};
use super::layout::page;
use crate::domain::bank::Bank;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::report::{MIN_ANSWERS, Rate, RuleMistakes};
use crate::export::Table;
use crate::i18n::{Lang, Text};
use crate::services::banks::CitedArticle;
use crate::services::reports::mistakes::MistakesPage;
use crate::services::reports::tables::{dashboard_table, items_table, session_table};
use crate::services::reports::{
    Dashboard, DashboardPage, DashboardQuery, ItemAnalysisPage, ItemFilter, ItemLine, SessionReport,
};
use crate::web::context::Ctx;
use crate::web::urls;

fn opt(lang: Lang, v: Option<f64>, suffix: &str) -> String {
    v.map(|v| format!("{v:.1}{suffix}"))
        .unwrap_or_else(|| lang.t("无数据", "no data").to_string())
}

/// Ten bars for 0–9 … 90–100 %.
fn bars(title: &str, counts: &[u64; 10]) -> Markup {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    html! {
        figure.chart {
            // Labels take their size from the stylesheet (the page's body size, larger in 长辈版); the
            // figure's width is capped so the drawing is scaled by little more than 1 on any screen.
            svg viewBox="0 0 330 185" role="img" aria-label=(title) {
                @for (i, n) in counts.iter().enumerate() {
                    @let h = (*n as f64 / max) * 120.0;
                    @let x = 10.0 + i as f64 * 31.0;
                    rect x=(x) y=(150.0 - h) width="26" height=(h) fill="#0b5394" {}
                    text.count x=(x + 13.0) y=(145.0 - h) text-anchor="middle" { (n) }
                    // Every other boundary: at body size, ten numbers would run into each other.
                    @if i == 0 { text.axis x="8" y="175" text-anchor="start" { "0" } }
                    @else if i % 2 == 0 { text.axis x=(x - 2.5) y="175" text-anchor="middle" { (i * 10) } }
                }
                text.axis x="320" y="175" text-anchor="end" { "100" }
                line x1="8" y1="150" x2="322" y2="150" stroke="#8c8c8c" {}
            }
            figcaption { (title) }
        }
    }
}

fn table(t: &Table) -> Markup {
    html! {
        table.list {
            thead { tr { @for h in &t.headers { th scope="col" { (h) } } } }
            tbody { @for row in &t.rows { tr { @for (h, c) in t.headers.iter().zip(row) { td data-label=(h) { (c) } } } } }
        }
    }
}

fn figures(ctx: &Ctx, r: &SessionReport) -> Markup {
    let lang = ctx.lang;
    let f = &r.figures;
    let share = |p: u64| {
        Rate {
            part: p,
            whole: f.invited,
        }
        .label(lang)
    };
    let gate = format!("{}（{}%）", ctx.t("达到出勤要求", "Met the attendance gate"), r.gate);
    // Counts and percentages in columns of their own: a cell holds one number.
    let rows: [(&str, u64); 6] = [
        (ctx.t("出席", "Attended"), f.attended),
        (&gate, f.met_gate),
        (
            ctx.t("观看录像补足出勤", "Added attendance by replay"),
            f.watched_replay,
        ),
        (ctx.t("开始答题", "Started"), f.started),
        (ctx.t("已交卷", "Submitted"), f.submitted),
        (ctx.t("合格", "Passed"), f.passed),
    ];
    html! {
        table.list.figures {
            thead { tr {
                th scope="col" { (ctx.t("项目", "Figure")) }
                th scope="col" { (ctx.t("人数", "Chairs")) }
                th scope="col" { (ctx.t("占邀请人数", "Of those invited")) }
            } }
            tbody {
                tr { th scope="row" { (ctx.t("邀请", "Invited")) } td data-label=(ctx.t("人数", "Chairs")) { (f.invited) } td data-label=(ctx.t("占邀请人数", "Of those invited")) { (share(f.invited)) } }
                @for (label, n) in rows {
                    tr { th scope="row" { (label) } td data-label=(ctx.t("人数", "Chairs")) { (n) } td data-label=(ctx.t("占邀请人数", "Of those invited")) { (share(n)) } }
                }
            }
        }
        dl.facts {
            dt { (ctx.t("平均在场分钟", "Average minutes")) } dd { (opt(lang, f.average_minutes, "")) }
            dt { (ctx.t("合格率", "Pass rate")) } dd { (f.pass_rate.label(lang)) }
            dt { (ctx.t("随堂合格率", "Pass rate in class")) } dd { (f.live_pass_rate.label(lang)) }
            dt { (ctx.t("回看补测合格率", "Pass rate of the make-up quiz")) } dd { (f.makeup_pass_rate.label(lang)) }
            dt { (ctx.t("平均分", "Average score")) } dd { (opt(lang, f.average_score, "%")) }
            dt { (ctx.t("中位数", "Median score")) } dd { (opt(lang, f.median_score, "%")) }
        }
        p.meta { (ctx.t("合格率 = 合格人数 ÷ 已交卷人数。出勤按随堂测试的同一规则计算：直播与观看录像合计，每一段只算一次。",
                        "Pass rate = passed ÷ submitted. Attendance follows the quiz gate's rule: live and replay together, each moment once.")) }
    }
}

pub fn session_report(ctx: &Ctx, r: &SessionReport) -> Markup {
    let id = r.session.id;
    page(
        ctx,
        &format!("{} · {}", ctx.t("场次报表", "Session report"), r.session.title),
        html! {
            (figures(ctx, r))
            (bars(ctx.t("成绩分布（得分百分比）", "Score distribution (%)"), &r.figures.score_deciles))
            (bars(ctx.t("出勤分布（在场时间百分比）", "Attendance (% of the lecture)"), &r.figures.attendance_deciles))
            p {
                a.button href=(format!("{}.csv", urls::session_report(id))) { (ctx.t("导出 CSV", "Export CSV")) } " "
                a.button href=(format!("{}.xlsx", urls::session_report(id))) { (ctx.t("导出 Excel", "Export Excel")) } " "
                a.button href=(format!("{}/evidence.zip", urls::session(id))) { (ctx.t("下载存档包（ZIP）", "Evidence pack (ZIP)")) }
            }
            (table(&session_table(ctx.lang, &r.lines)))
        },
    )
}

/// The range form; with `choices`, also a picker of the districts and streets the viewer may open (the
/// unit shown stays chosen when it is below them).
fn range_form(
    ctx: &Ctx,
    action: &str,
    unit: Option<&OrgUnit>,
    choices: &[OrgUnit],
    (from, to): (&str, &str),
    errors: &[(&'static str, Text)],
) -> Markup {
    let lang = ctx.lang;
    let listed = unit.is_some_and(|u| choices.iter().any(|c| c.id == u.id));
    html! {
        form.search method="get" action=(action) {
            @if choices.len() > 1 {
                div.field { label for="f-unit" { (ctx.t("单位", "Unit")) }
                    select #f-unit name="unit" {
                        @if let Some(u) = unit.filter(|_| !listed) { option value=(u.id) selected { (u.name) } }
                        @for c in choices { option value=(c.id) selected[unit.is_some_and(|u| u.id == c.id)] { (c.name) " · " (c.kind.label(lang)) } }
                    }
                }
            } @else if let Some(u) = unit { input type="hidden" name="unit" value=(u.id); }
            (Input::new("from", ctx.t("起始日期", "From"), from).kind("date").error(error_for(errors, "from")).render(lang))
            (Input::new("to", ctx.t("截止日期", "To"), to).kind("date").error(error_for(errors, "to")).render(lang))
            button type="submit" { (ctx.t("查看", "Show")) }
        }
    }
}

/// The way back up the tree, as far as the viewer may go: 区 › 街道 › 居委 › the unit shown.
fn trail(ctx: &Ctx, action: &str, units: &[OrgUnit], unit: &OrgUnit, (from, to): (&str, &str)) -> Markup {
    html! {
        @if !units.is_empty() {
            nav.trail aria-label=(ctx.t("上级单位", "Units above")) {
                @for u in units { a href=(format!("{action}?unit={}&from={from}&to={to}", u.id)) { (u.name) } " › " }
                span aria-current="page" { (unit.name) }
            }
        }
    }
}

/// The figures table: unit rows link to their own breakdown; the last row is the total. Many columns
/// and no per-cell labels: on a phone it scrolls sideways inside its own box (a focusable region, so it
/// scrolls from the keyboard too) instead of stacking into cards.
fn dashboard_figures(ctx: &Ctx, d: &Dashboard, from: &str, to: &str) -> Markup {
    let t = dashboard_table(ctx.lang, d);
    let link = |u: &OrgUnit| format!("{}?unit={}&from={from}&to={to}", urls::DASHBOARD, u.id);
    html! {
        div.table-scroll tabindex="0" role="region" aria-label=(ctx.t("统计表", "Statistics table")) {
        table.list.scroll {
            thead { tr { @for h in &t.headers { th scope="col" { (h) } } } }
            tbody {
                @for (n, cells) in t.rows.iter().enumerate() {
                    @let unit = d.rows.get(n).map(|r| &r.unit).filter(|u| u.kind != OrgKind::Committee);
                    tr .total[n == d.rows.len()] { @for (i, c) in cells.iter().enumerate() {
                        td { @match (i, unit) {
                            (0, Some(u)) => a href=(link(u)) { (c) },
                            _ => (c),
                        } }
                    } }
                }
            }
        }
        }
    }
}

fn committee_lists(ctx: &Ctx, d: &Dashboard) -> Markup {
    html! {
        h2 { (ctx.t("主任尚无有效证书的业委会", "Committees whose chair has no valid certificate")) }
        @if d.uncertified_committees.is_empty() { p.empty { (ctx.t("没有。", "None.")) } }
        ul.plain { @for (c, chair) in &d.uncertified_committees { li { (c.name) " · " (chair) } } }
        h2 { (ctx.t("全员持证的业委会", "Committees where everyone is certified")) }
        @if d.certified_committees.is_empty() { p.empty { (ctx.t("没有。", "None.")) } }
        ul.plain { @for c in &d.certified_committees { li { (c.name) } } }
    }
}

fn exports(ctx: &Ctx, base: &str, query: &str) -> Markup {
    html! {
        p { a.button href=(format!("{base}.csv?{query}")) { (ctx.t("导出 CSV", "Export CSV")) } " "
            a.button href=(format!("{base}.xlsx?{query}")) { (ctx.t("导出 Excel", "Export Excel")) } }
    }
}

pub fn dashboard(ctx: &Ctx, p: &DashboardPage) -> Markup {
    let lang = ctx.lang;
    let (d, from, to) = (&p.dashboard, p.from.as_str(), p.to.as_str());
    let q = format!("unit={}&from={from}&to={to}", d.unit.id);
    page(
        ctx,
        &format!("{} · {}", ctx.t("统计", "Dashboard"), d.unit.name),
        html! {
            (trail(ctx, urls::DASHBOARD, &p.trail, &d.unit, (from, to)))
            (range_form(ctx, urls::DASHBOARD, Some(&d.unit), &p.choices, (from, to), &[]))
            p.meta { (d.unit.kind.label(lang)) " · " (ctx.t("合格率 ", "pass rate ")) (d.total.pass_rate.label(lang)) " · " (ctx.t("证书覆盖 ", "coverage ")) (d.total.coverage.label(lang)) }
            (dashboard_figures(ctx, d, from, to))
            p.meta { (ctx.t(
                "已取证：业委会主任持有本届任期内颁发的有效结业证书（不论在哪一场培训取得），与上面选择的日期无关；日期只决定统计哪些场次的答卷与合格率。",
                "Certified: the committee's chair holds a valid certificate issued during the committee's current term (from any session), whatever the dates above; the dates choose only which sessions' attempts and pass rates are counted.",
            )) }
            (exports(ctx, urls::DASHBOARD, &q))
            p { a.button href=(format!("{}?{q}", urls::MISTAKES)) { (ctx.t("查看本单位答错较多的法条", "What this unit's chairs get wrong")) } }
            (committee_lists(ctx, d))
        },
    )
}

/// The dashboard's (or the mistakes page's, `action`) form again, when its dates could not be read: each
/// problem beside its date.
pub fn dashboard_again(ctx: &Ctx, action: &str, q: &DashboardQuery, errors: &[(&'static str, Text)]) -> Markup {
    page(
        ctx,
        ctx.t("统计", "Dashboard"),
        html! {
            (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below.")))
            form.search method="get" action=(action) {
                @if let Some(u) = q.unit { input type="hidden" name="unit" value=(u); }
                (Input::new("from", ctx.t("起始日期", "From"), q.from).kind("date").error(error_for(errors, "from")).render(ctx.lang))
                (Input::new("to", ctx.t("截止日期", "To"), q.to).kind("date").error(error_for(errors, "to")).render(ctx.lang))
                button type="submit" { (ctx.t("查看", "Show")) }
            }
        },
    )
}

/// One rule her area answered badly: the article's words a tap away, then the questions behind it.
fn rule_card(ctx: &Ctx, rank: Option<usize>, r: &RuleMistakes, article: &CitedArticle) -> Markup {
    let lang = ctx.lang;
    let label = r.rule.citation.label(&article.statute_title);
    html! {
        section.card.rule {
            h3 { @if let Some(n) = rank { (n) ". " } (label) }
            p { (ctx.t("作答 ", "Answered ")) strong { (r.answered) } (ctx.t(" 次，答错 ", " times, wrong ")) strong { (r.wrong) } (ctx.t(" 次（答错率 ", " times (")) strong { (r.wrong_rate().label(lang)) } (ctx.t("）", " wrong)")) }
            details {
                summary { (ctx.t("查看条文", "Read the article")) }
                @if let Some(t) = &article.text { blockquote.article { @for line in t.lines() { p { (line) } } } p.meta { (ctx.t("现行条文，版本：", "In force, as of ")) (article.revision) } }
                @else { p.empty { (ctx.t("条文未收录。", "The text is not on file.")) } }
            }
            ul.plain {
                @for q in &r.questions {
                    li { (q.stem) br; span.meta { (ctx.t("作答 ", "answered ")) (q.answered) (ctx.t("，答错 ", ", wrong ")) (q.wrong) } }
                }
            }
        }
    }
}

pub fn mistakes(ctx: &Ctx, p: &MistakesPage) -> Markup {
    let (from, to) = (p.from.as_str(), p.to.as_str());
    let q = format!("unit={}&from={from}&to={to}", p.unit.id);
    page(
        ctx,
        &format!(
            "{} · {}",
            ctx.t("答错较多的法条", "What the chairs get wrong"),
            p.unit.name
        ),
        html! {
            (trail(ctx, urls::MISTAKES, &p.trail, &p.unit, (from, to)))
            (range_form(ctx, urls::MISTAKES, Some(&p.unit), &[], (from, to), &[]))
            p.meta { (ctx.t(
                "统计本单位业委会主任在所选日期内各场随堂测试（含回看补测）已交卷答卷中的全部作答，按题目考查的法律规则归类（律师为题目标注的规则；未标注的按第一条法条依据），答错率最高的排在前面。",
                "Every answer in the submitted quizzes (make-up included) of this unit's chairs in the dates chosen, grouped by the rule each question tests (as its lawyer named it, else its first citation); the worst answered first.",
            )) " " (ctx.t("共计作答 ", "Answers counted: ")) (p.answers) (ctx.t(" 次。", ".")) }
            (exports(ctx, urls::MISTAKES, &q))
            h2 { (ctx.t("答错率最高的法条", "Articles answered worst")) }
            @if p.rules.is_empty() { p.empty { (ctx.t(&format!("还没有作答满 {MIN_ANSWERS} 次的法条。"), &format!("No article has been answered {MIN_ANSWERS} times yet."))) } }
            @for (i, (r, article)) in p.rules.iter().enumerate() { (rule_card(ctx, Some(i + 1), r, article)) }
            @if !p.few.is_empty() {
                h2 { (ctx.t(&format!("作答不足 {MIN_ANSWERS} 次的法条（仅供参考）"), &format!("Articles answered fewer than {MIN_ANSWERS} times (for reference)"))) }
                @for (r, article) in &p.few { (rule_card(ctx, None, r, article)) }
            }
            p { a href=(format!("{}?{q}", urls::DASHBOARD)) { (ctx.t("返回统计", "Back to the dashboard")) } }
        },
    )
}

fn item_filter(ctx: &Ctx, banks: &[Bank], f: &ItemFilter) -> Markup {
    html! {
        form.search method="get" action=(urls::ITEM_ANALYSIS) {
            div.field { label for="f-bank" { (ctx.t("题库", "Bank")) }
                select #f-bank name="bank" { option value="" { (ctx.t("全部", "All")) } @for b in banks { option value=(b.id) selected[f.bank == Some(b.id)] { (b.title) } } } }
            div.field { label for="f-topic" { (ctx.t("主题", "Topic")) } input #f-topic type="text" name="topic" value=(f.topic); }
            div.field { label for="f-citation" { (ctx.t("法条（如 civil-code 278）", "Article (e.g. civil-code 278)")) } input #f-citation type="text" name="citation" value=(f.citation); }
            button type="submit" { (ctx.t("筛选", "Filter")) }
        }
    }
}

fn item_table(ctx: &Ctx, items: &[ItemLine]) -> Markup {
    let tbl = items_table(ctx.lang, items);
    html! {
        table.list {
            thead { tr { @for h in &tbl.headers { th scope="col" { (h) } } } }
            tbody {
                @for (item, row) in items.iter().zip(&tbl.rows) {
                    tr .row-error[item.stat.flagged()] {
                        @for (i, (h, c)) in tbl.headers.iter().zip(row).enumerate() {
                            td data-label=(h) { @if i == 0 { a href=(urls::question(item.question_id)) { (c) } } @else { (c) } }
                        }
                    }
                }
            }
        }
    }
}

pub fn items(ctx: &Ctx, p: &ItemAnalysisPage, f: &ItemFilter) -> Markup {
    let q = format!(
        "bank={}&topic={}&citation={}",
        f.bank.map(|b| b.to_string()).unwrap_or_default(),
        urls::percent_encode(&f.topic),
        urls::percent_encode(&f.citation)
    );
    page(
        ctx,
        ctx.t("题目分析", "Item analysis"),
        html! {
            p { (ctx.t("答对率过低（低于30%）或区分度接近或低于零（≤0.1，高分组与低分组答对率差不多甚至反过来）的题目标为“需关注”：可能题意不清或答案有误。至少5次作答才判断。",
                       "Questions answered right by under 30%, or with discrimination at or below 0.1 (strong and weak chairs do about as well, or the weak better), are flagged: the wording or the key may be wrong. Needs at least 5 answers.")) }
            (item_filter(ctx, &p.banks, f))
            (exports(ctx, urls::ITEM_ANALYSIS, &q))
            @if p.lines.is_empty() { p.empty { (ctx.t("还没有已交卷的答题数据。", "No submitted answers yet.")) } }
            (item_table(ctx, &p.lines))
        },
    )
}
