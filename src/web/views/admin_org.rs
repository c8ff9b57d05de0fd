//! Admin pages for the organisation tree.

use maud::{Markup, html};

use super::forms::{Input, csrf, notice};
use super::layout::page;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::Person;
use crate::i18n::Text;
use crate::web::context::Ctx;
use crate::web::urls;

pub struct UnitPage<'a> {
    /// Root first; empty for the top level (districts).
    pub path: &'a [OrgUnit],
    pub children: &'a [OrgUnit],
    pub members: &'a [Person],
    pub error: Option<&'a Text>,
    pub saved: Option<&'a str>,
}

fn child_form(ctx: &Ctx, parent: Option<&OrgUnit>, kind: OrgKind) -> Markup {
    let lang = ctx.lang;
    html! {
        form.stack method="post" action=(urls::ADMIN_ORG) {
            (csrf(ctx))
            @if let Some(p) = parent { input type="hidden" name="parent" value=(p.id); }
            (Input::new("name", &format!("{}{}", ctx.t("新增", "Add "), kind.label(lang)), "").required().render(lang))
            @if kind == OrgKind::Committee {
                (Input::new("term_start", ctx.t("任期开始（可空）", "Term start (optional)"), "").kind("date").render(lang))
                (Input::new("term_end", ctx.t("任期结束（可空）", "Term end (optional)"), "").kind("date").render(lang))
            }
            button type="submit" { (ctx.t("添加", "Add")) }
        }
    }
}

pub fn unit_page(ctx: &Ctx, p: &UnitPage) -> Markup {
    let lang = ctx.lang;
    let unit = p.path.last();
    let title = unit
        .map(|u| u.name.clone())
        .unwrap_or_else(|| ctx.t("组织架构", "Organisation tree").to_string());
    let child_kind = match unit {
        Some(u) => u.kind.child_kind(),
        None => Some(OrgKind::District),
    };
    page(
        ctx,
        &title,
        html! {
            nav.breadcrumbs aria-label=(ctx.t("位置", "Breadcrumbs")) {
                a href=(urls::ADMIN_ORG) { (ctx.t("全部", "All")) }
                @for u in p.path { " › " a href=(urls::org_unit(u.id)) { (u.name) } }
            }
            @if let Some(e) = p.error { (notice("error", e.get(lang))) }
            @if let Some(s) = p.saved { (notice("ok", s)) }
            @if let Some(u) = unit {
                p.meta { (u.kind.label(lang)) }
                details {
                    summary { (ctx.t("修改名称", "Rename")) @if u.kind == OrgKind::Committee { (ctx.t("或任期", " or term")) } }
                    form.stack method="post" action=(urls::org_unit(u.id)) {
                        (csrf(ctx))
                        (Input::new("name", ctx.t("名称", "Name"), &u.name).required().render(lang))
                        @if u.kind == OrgKind::Committee {
                            (Input::new("term_start", ctx.t("任期开始", "Term start"), &u.term.map(|t| t.start.to_string()).unwrap_or_default()).kind("date").render(lang))
                            (Input::new("term_end", ctx.t("任期结束", "Term end"), &u.term.map(|t| t.end.to_string()).unwrap_or_default()).kind("date").render(lang))
                        }
                        button type="submit" { (ctx.t("保存", "Save")) }
                    }
                }
            }
            @if let Some(kind) = child_kind {
                h2 { (kind.label(lang)) }
                @if p.children.is_empty() { p.empty { (ctx.t("暂无。", "None yet.")) } }
                ul.plain.links {
                    @for c in p.children {
                        li { a href=(urls::org_unit(c.id)) { (c.name) }
                            @if let Some(t) = c.term { " " span.meta { (ctx.t("任期 ", "term ")) (t.start) " – " (t.end) } } }
                    }
                }
                (child_form(ctx, unit, kind))
            }
            @if unit.is_some_and(|u| u.kind == OrgKind::Committee) {
                h2 { (ctx.t("成员", "Members")) }
                @if p.members.is_empty() { p.empty { (ctx.t("暂无成员。", "No members yet.")) } }
                ul.plain.links {
                    @for m in p.members {
                        li { a href=(urls::person(m.id)) { (m.name.as_str()) } @if let Some(pos) = &m.position { " " span.meta { (pos) } } }
                    }
                }
            }
            @if let Some(u) = unit {
                form.stack method="post" action=(urls::org_unit_delete(u.id)) {
                    (csrf(ctx))
                    button.danger type="submit" { (ctx.t("删除此单位", "Delete this unit")) }
                }
            }
        },
    )
}
