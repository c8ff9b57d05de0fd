//! Admin pages for accounts.

use maud::{Markup, html};

use super::forms::{Input, csrf, error_for, notice};
use super::layout::page;
use crate::domain::org::OrgUnit;
use crate::domain::person::{Person, Role};
use crate::i18n::Text;
use crate::web::context::Ctx;
use crate::web::urls;

pub fn list(ctx: &Ctx, query: &str, people: &[Person]) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        ctx.t("账号管理", "Accounts"),
        html! {
            form.search method="get" action=(urls::ADMIN_PEOPLE) role="search" {
                (Input::new("q", ctx.t("按姓名或手机号查找", "Find by name or mobile"), query).kind("search").render(lang))
                button type="submit" { (ctx.t("查找", "Search")) }
            }
            p { a.button.primary href=(urls::ADMIN_PEOPLE_NEW) { (ctx.t("新建账号", "New account")) } }
            table.list {
                thead { tr { th scope="col" { (ctx.t("姓名", "Name")) } th scope="col" { (ctx.t("手机号", "Mobile")) } th scope="col" { (ctx.t("角色", "Roles")) } } }
                tbody {
                    @for p in people {
                        tr {
                            td data-label=(ctx.t("姓名", "Name")) { a href=(urls::person(p.id)) { (p.name.as_str()) } }
                            td data-label=(ctx.t("手机号", "Mobile")) { (p.phone.as_str()) }
                            td data-label=(ctx.t("角色", "Roles")) { (p.roles.iter().map(|r| r.label(lang)).collect::<Vec<_>>().join("、")) }
                        }
                    }
                }
            }
        },
    )
}

/// The account form's values (as typed, so they survive a failed submit).
#[derive(Default)]
pub struct AccountValues {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub roles: Vec<String>,
    pub streets: Vec<i64>,
    pub committee: Option<i64>,
    pub position: String,
}

pub struct AccountPage<'a> {
    pub person: Option<&'a Person>,
    pub values: &'a AccountValues,
    pub errors: &'a [(&'static str, Text)],
    pub streets: &'a [OrgUnit],
    /// Committees with a display label.
    pub committees: &'a [(i64, String)],
    pub saved: bool,
}

pub fn form(ctx: &Ctx, p: &AccountPage) -> Markup {
    let lang = ctx.lang;
    let v = p.values;
    let action = p
        .person
        .map(|x| urls::person(x.id))
        .unwrap_or_else(|| urls::ADMIN_PEOPLE_NEW.to_string());
    let title = match p.person {
        Some(x) => x.name.as_str().to_string(),
        None => ctx.t("新建账号", "New account").to_string(),
    };
    page(
        ctx,
        &title,
        html! {
            @if p.saved { (notice("ok", ctx.t("已保存。", "Saved."))) }
            @if !p.errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
            form.stack method="post" action=(action) {
                (csrf(ctx))
                (Input::new("name", ctx.t("姓名", "Name"), &v.name).required().error(error_for(p.errors, "name")).render(lang))
                @if p.person.is_some() {
                    div.field { span.label { (ctx.t("手机号", "Mobile")) } p { (v.phone) } input type="hidden" name="phone" value=(v.phone); }
                } @else {
                    (Input::new("phone", ctx.t("手机号", "Mobile number"), &v.phone).kind("tel").inputmode("numeric").required()
                        .error(error_for(p.errors, "phone")).render(lang))
                }
                (Input::new("email", ctx.t("邮箱（可空）", "Email (optional)"), &v.email).kind("email").error(error_for(p.errors, "email")).render(lang))
                fieldset.field .has-error[error_for(p.errors, "roles").is_some()] {
                    legend { (ctx.t("角色", "Roles")) }
                    @for r in Role::ALL {
                        label.check { input type="checkbox" name="roles" value=(r.code()) checked[v.roles.iter().any(|x| x == r.code())]; " " (r.label(lang)) }
                    }
                    @if let Some(e) = error_for(p.errors, "roles") { p.error role="alert" { (e.get(lang)) } }
                }
                fieldset.field .has-error[error_for(p.errors, "streets").is_some()] {
                    legend { (ctx.t("所辖街道（街道干部）", "Streets (officials)")) }
                    @for s in p.streets {
                        label.check { input type="checkbox" name="streets" value=(s.id) checked[v.streets.contains(&s.id)]; " " (s.name) }
                    }
                    @if let Some(e) = error_for(p.errors, "streets") { p.error role="alert" { (e.get(lang)) } }
                }
                div.field .has-error[error_for(p.errors, "committee").is_some()] {
                    label for="f-committee" { (ctx.t("所属业委会（主任/委员）", "Committee (chairs)")) }
                    select id="f-committee" name="committee" {
                        option value="" { (ctx.t("无", "None")) }
                        @for (id, label) in p.committees { option value=(id) selected[v.committee == Some(*id)] { (label) } }
                    }
                    @if let Some(e) = error_for(p.errors, "committee") { p.error role="alert" { (e.get(lang)) } }
                }
                (Input::new("position", ctx.t("职务（可空）", "Position (optional)"), &v.position).render(lang))
                button.primary type="submit" { (ctx.t("保存", "Save")) }
            }
            @if let Some(person) = p.person {
                h2 { (ctx.t("登录链接", "Sign-in link")) }
                p { (ctx.t("生成一个一次性的专属登录链接和二维码；旧链接会作废。", "Make a one-time personal sign-in link and QR code; older links stop working.")) }
                form.stack method="post" action=(urls::chair_signin_link(person.id)) {
                    (csrf(ctx))
                    button type="submit" { (ctx.t("生成登录链接", "Make sign-in link")) }
                }
            }
        },
    )
}
