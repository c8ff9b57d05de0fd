//! Admin pages for the organisation tree.

use maud::{Markup, html};

use super::forms::{Input, csrf, notice};
use super::layout::page;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::i18n::Text;
use crate::services::FieldErrors;
use crate::services::org::UnitPage;
use crate::web::context::Ctx;
use crate::web::urls;

/// The two forms of a unit's page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UnitForm {
    /// Adding a unit below this one.
    Add,
    /// Renaming this one (or changing a committee's term).
    Rename,
}

/// A unit's fields as typed.
#[derive(Default)]
pub struct UnitValues {
    pub name: String,
    pub term_start: String,
    pub term_end: String,
}

/// A form sent back: which one, what was typed, and the problem at each field.
pub struct Attempted {
    pub form: UnitForm,
    pub values: UnitValues,
    pub errors: FieldErrors,
}

/// The values and errors one of the forms shows: what was typed if it was this form that came back.
fn typed(attempted: Option<&Attempted>, form: UnitForm) -> Option<&Attempted> {
    attempted.filter(|a| a.form == form)
}

fn term_inputs(ctx: &Ctx, start: &str, end: &str, errors: Option<&FieldErrors>, optional: bool) -> Markup {
    let lang = ctx.lang;
    let err = |f: &str| errors.and_then(|e| e.get(f));
    let (start_label, end_label) = if optional {
        (
            ctx.t("任期开始（可空）", "Term start (optional)"),
            ctx.t("任期结束（可空）", "Term end (optional)"),
        )
    } else {
        (ctx.t("任期开始", "Term start"), ctx.t("任期结束", "Term end"))
    };
    html! {
        (Input::new("term_start", start_label, start).kind("date").error(err("term_start")).render(lang))
        (Input::new("term_end", end_label, end).kind("date").error(err("term_end")).render(lang))
    }
}

fn child_form(ctx: &Ctx, parent: Option<&OrgUnit>, kind: OrgKind, attempted: Option<&Attempted>) -> Markup {
    let lang = ctx.lang;
    let back = typed(attempted, UnitForm::Add);
    let v = back.map(|a| &a.values);
    let errors = back.map(|a| &a.errors);
    let label = format!("{}{}", ctx.t("新增", "Add "), kind.label(lang));
    html! {
        form.stack method="post" action=(urls::ADMIN_ORG) {
            (csrf(ctx))
            @if let Some(p) = parent { input type="hidden" name="parent" value=(p.id); }
            (Input::new("name", &label, v.map_or("", |v| &v.name)).required().error(errors.and_then(|e| e.get("name"))).render(lang))
            @if kind == OrgKind::Committee {
                (term_inputs(ctx, v.map_or("", |v| &v.term_start), v.map_or("", |v| &v.term_end), errors, true))
            }
            button type="submit" { (ctx.t("添加", "Add")) }
        }
    }
}

fn rename_form(ctx: &Ctx, u: &OrgUnit, attempted: Option<&Attempted>) -> Markup {
    let lang = ctx.lang;
    let back = typed(attempted, UnitForm::Rename);
    let errors = back.map(|a| &a.errors);
    let current = UnitValues {
        name: u.name.clone(),
        term_start: u.term.map(|t| t.start.to_string()).unwrap_or_default(),
        term_end: u.term.map(|t| t.end.to_string()).unwrap_or_default(),
    };
    let v = back.map_or(&current, |a| &a.values);
    html! {
        details open[back.is_some()] {
            summary { (ctx.t("修改名称", "Rename")) @if u.kind == OrgKind::Committee { (ctx.t("或任期", " or term")) } }
            form.stack method="post" action=(urls::org_unit(u.id)) {
                (csrf(ctx))
                (Input::new("name", ctx.t("名称", "Name"), &v.name).required().error(errors.and_then(|e| e.get("name"))).render(lang))
                @if u.kind == OrgKind::Committee { (term_inputs(ctx, &v.term_start, &v.term_end, errors, false)) }
                button type="submit" { (ctx.t("保存", "Save")) }
            }
        }
    }
}

fn breadcrumbs(ctx: &Ctx, path: &[OrgUnit]) -> Markup {
    html! {
        nav.breadcrumbs aria-label=(ctx.t("位置", "Breadcrumbs")) {
            a href=(urls::ADMIN_ORG) { (ctx.t("全部", "All")) }
            @for u in path { " › " a href=(urls::org_unit(u.id)) { (u.name) } }
        }
    }
}

fn children(ctx: &Ctx, list: &[OrgUnit]) -> Markup {
    html! {
        @if list.is_empty() { p.empty { (ctx.t("暂无。", "None yet.")) } }
        ul.plain.links {
            @for c in list {
                li { a href=(urls::org_unit(c.id)) { (c.name) }
                    @if let Some(t) = c.term { " " span.meta { (ctx.t("任期 ", "term ")) (t.start) " – " (t.end) } } }
            }
        }
    }
}

fn members(ctx: &Ctx, p: &UnitPage) -> Markup {
    html! {
        h2 { (ctx.t("成员", "Members")) }
        @if p.members.is_empty() { p.empty { (ctx.t("暂无成员。", "No members yet.")) } }
        ul.plain.links {
            @for m in &p.members {
                li { a href=(urls::person(m.id)) { (m.name.as_str()) } @if let Some(pos) = &m.position { " " span.meta { (pos) } } }
            }
        }
    }
}

fn delete_form(ctx: &Ctx, u: &OrgUnit) -> Markup {
    html! {
        form.stack method="post" action=(urls::org_unit_delete(u.id)) {
            (csrf(ctx))
            button.danger type="submit" { (ctx.t("删除此单位", "Delete this unit")) }
        }
    }
}

pub fn unit_page(
    ctx: &Ctx,
    p: &UnitPage,
    refused: Option<&Text>,
    saved: Option<&str>,
    attempted: Option<&Attempted>,
) -> Markup {
    let lang = ctx.lang;
    let unit = p.path.last();
    let title = unit.map_or_else(
        || ctx.t("组织架构", "Organisation tree").to_string(),
        |u| u.name.clone(),
    );
    let child_kind = unit.map_or(Some(OrgKind::District), |u| u.kind.child_kind());
    let body = html! {
        (breadcrumbs(ctx, &p.path))
        @if let Some(e) = refused { (notice("error", e.get(lang))) }
        @if attempted.is_some_and(|a| !a.errors.is_empty()) {
            (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below.")))
        }
        @if let Some(s) = saved { (notice("ok", s)) }
        @if let Some(u) = unit { p.meta { (u.kind.label(lang)) } (rename_form(ctx, u, attempted)) }
        @if let Some(kind) = child_kind {
            h2 { (kind.label(lang)) }
            (children(ctx, &p.children))
            (child_form(ctx, unit, kind, attempted))
        }
        @if unit.is_some_and(|u| u.kind == OrgKind::Committee) { (members(ctx, p)) }
        @if let Some(u) = unit { (delete_form(ctx, u)) }
    };
    page(ctx, &title, body)
}
