//! Roster import: upload form, preview with every bad line, result.

use maud::{Markup, html};

use super::forms::{csrf, error_for, notice};
use super::layout::page;
use crate::domain::org::OrgUnit;
use crate::domain::roster::{PlanPreview, PreviewAction};
use crate::i18n::Text;
use crate::services::roster::{ImportOutcome, PreviewPage};
use crate::web::context::Ctx;
use crate::web::urls;

fn upload_fields(ctx: &Ctx, streets: &[OrgUnit], errors: &[(&'static str, Text)]) -> Markup {
    let lang = ctx.lang;
    html! {
        form.stack method="post" action=(urls::ROSTER) enctype="multipart/form-data" {
            (csrf(ctx))
            div.field .has-error[error_for(errors, "street").is_some()] {
                label for="f-street" { (ctx.t("街道", "Street")) }
                select id="f-street" name="street" required {
                    @for s in streets { option value=(s.id) { (s.name) } }
                }
                @if let Some(e) = error_for(errors, "street") { p.error role="alert" { (e.get(lang)) } }
            }
            div.field .has-error[error_for(errors, "file").is_some()] {
                label for="f-file" { (ctx.t("名单文件", "Roster file")) }
                input id="f-file" type="file" name="file" required accept=".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
                @if let Some(e) = error_for(errors, "file") { p.error role="alert" { (e.get(lang)) } }
            }
            button.primary type="submit" { (ctx.t("上传并预览", "Upload and preview")) }
        }
    }
}

pub fn upload_form(ctx: &Ctx, streets: &[OrgUnit], errors: &[(&'static str, Text)]) -> Markup {
    page(
        ctx,
        ctx.t("导入主任名单", "Import a roster"),
        html! {
            @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
            p { (ctx.t("上传 Excel（.xlsx）或 CSV 文件。第一行是表头：姓名、手机号、邮箱（可空）、居委、小区、职务。CSV 可以是 UTF-8 或 Excel 默认的 GBK 编码。",
                       "Upload an Excel (.xlsx) or CSV file. The first row is the header: 姓名, 手机号, 邮箱 (optional), 居委, 小区, 职务. CSV may be UTF-8 or Excel's default GBK.")) }
            p { (ctx.t("上传后会先显示预览，确认后才会导入；只要有一行有错，就不会导入任何数据。",
                       "You will see a preview first; nothing is imported until you confirm, and nothing at all if any row is wrong.")) }
            @if streets.is_empty() {
                p.empty { (ctx.t("您还没有负责的街道。", "You are not assigned to a street.")) }
            } @else {
                (upload_fields(ctx, streets, errors))
            }
        },
    )
}

fn pager(ctx: &Ctx, p: &PreviewPage) -> Markup {
    let link = |page: usize| format!("{}?page={page}", urls::roster_preview(p.upload_id));
    html! {
        @if p.pages > 1 {
            nav.pager aria-label=(ctx.t("分页", "Pages")) {
                @if p.page > 1 { a.button href=(link(p.page - 1)) rel="prev" { (ctx.t("上一页", "Previous")) } " " }
                span { (ctx.t("第 ", "Page ")) (p.page) " / " (p.pages) (ctx.t(" 页", "")) }
                @if p.page < p.pages { " " a.button href=(link(p.page + 1)) rel="next" { (ctx.t("下一页", "Next")) } }
            }
        }
    }
}

fn error_table(ctx: &Ctx, p: &PreviewPage) -> Markup {
    let lang = ctx.lang;
    let (line, column, problem) = (ctx.t("行号", "Line"), ctx.t("列", "Column"), ctx.t("问题", "Problem"));
    html! {
        (notice("error", &format!("{}{}{}", ctx.t("发现 ", "Found "), p.total_errors,
            ctx.t(" 处错误。请在文件中改正后重新上传；在此之前不会导入任何数据。", " problems. Fix them in the file and upload again; nothing is imported until then."))))
        table.list.errors {
            thead { tr { th scope="col" { (line) } th scope="col" { (column) } th scope="col" { (problem) } } }
            tbody {
                @for e in &p.plan.errors {
                    tr.row-error {
                        td data-label=(line) { @if e.line > 0 { (ctx.t("第", "line ")) (e.line) (ctx.t("行", "")) } @else { (ctx.t("整个文件", "whole file")) } }
                        td data-label=(column) { (e.column.as_deref().unwrap_or("")) }
                        td data-label=(problem) { (lang.t(&e.zh, &e.en)) }
                    }
                }
            }
        }
        (pager(ctx, p))
        p { a.button href=(urls::ROSTER) { (ctx.t("重新上传", "Upload again")) } }
    }
}

fn summary(ctx: &Ctx, plan: &PlanPreview) -> Markup {
    html! {
        ul.summary {
            li { (ctx.t("新增 ", "New: ")) strong { (plan.created) } }
            li { (ctx.t("更新 ", "Updated: ")) strong { (plan.updated) } }
            li { (ctx.t("无变化 ", "Unchanged: ")) strong { (plan.unchanged) } }
            @if !plan.new_neighbourhoods.is_empty() {
                li { (ctx.t("新建居委：", "New areas: ")) (plan.new_neighbourhoods.join("、")) }
            }
            @if !plan.new_estates.is_empty() {
                li { (ctx.t("新建小区：", "New estates: ")) (plan.new_estates.join("、")) }
            }
        }
    }
}

fn action(ctx: &Ctx, action: &PreviewAction) -> Markup {
    html! {
        @match action {
            PreviewAction::Create => span.tag { (ctx.t("新增", "new")) },
            PreviewAction::Unchanged => span.tag.ok { (ctx.t("无变化", "unchanged")) },
            PreviewAction::Update(changes) => {
                span.tag.warn { (ctx.t("更新", "update")) }
                ul.changes { @for (col, old, new) in changes { li { (col) "：" (old) " → " (new) } } }
            },
        }
    }
}

fn row_table(ctx: &Ctx, plan: &PlanPreview) -> Markup {
    let (line, name, place, result) = (
        ctx.t("行号", "Line"),
        ctx.t("姓名", "Name"),
        ctx.t("居委 / 小区", "Area / estate"),
        ctx.t("结果", "Result"),
    );
    html! {
        table.list {
            thead { tr { th scope="col" { (line) } th scope="col" { (name) } th scope="col" { (place) } th scope="col" { (result) } } }
            tbody {
                @for r in &plan.rows {
                    tr {
                        td data-label=(line) { (r.line) }
                        td data-label=(name) { (r.name) }
                        td data-label=(place) { (r.neighbourhood) " / " (r.estate) }
                        td data-label=(result) { (action(ctx, &r.action)) }
                    }
                }
            }
        }
    }
}

fn plan_view(ctx: &Ctx, p: &PreviewPage) -> Markup {
    html! {
        (summary(ctx, &p.plan))
        @if p.plan.changes_anything {
            form.stack method="post" action=(urls::roster_apply(p.upload_id)) {
                (csrf(ctx))
                button.primary type="submit" { (ctx.t("确认导入", "Import now")) }
            }
        } @else {
            (notice("ok", ctx.t("名单与系统中的数据完全一致，无需导入。", "The roster matches what is already here; nothing to import.")))
        }
        (row_table(ctx, &p.plan))
        (pager(ctx, p))
    }
}

pub fn preview(ctx: &Ctx, p: &PreviewPage, changed: bool) -> Markup {
    page(
        ctx,
        ctx.t("名单预览", "Roster preview"),
        html! {
            p.meta { (p.filename) " → " (p.street_name) }
            @if changed {
                (notice("warn", ctx.t("预览之后，街道的数据有了变化，没有导入。下面是按现在的数据重新生成的预览，请再看一遍后确认。",
                    "The street's data changed after the preview, so nothing was imported. Below is the preview as things are now; check it and confirm again.")))
            }
            @if p.total_errors > 0 { (error_table(ctx, p)) } @else { (plan_view(ctx, p)) }
        },
    )
}

pub fn done(ctx: &Ctx, outcome: &ImportOutcome) -> Markup {
    page(
        ctx,
        ctx.t("导入完成", "Import complete"),
        html! {
            (notice("ok", &format!("{} {} · {} {} · {} {}",
                ctx.t("新增", "created"), outcome.created,
                ctx.t("更新", "updated"), outcome.updated,
                ctx.t("无变化", "unchanged"), outcome.unchanged)))
            p { a.button.primary href=(urls::CHAIRS) { (ctx.t("查看主任名单并生成登录链接", "See the chairs and make sign-in links")) } }
        },
    )
}
