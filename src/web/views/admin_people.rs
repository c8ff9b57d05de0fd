//! Admin pages for accounts.

use maud::{Markup, html};

use super::forms::{Input, csrf, error_for, notice};
use super::layout::page;
use crate::domain::org::OrgUnit;
use crate::domain::person::{Person, Role};
use crate::i18n::Text;
use crate::services::people::{AccountFields, AccountPage};
use crate::web::context::Ctx;
use crate::web::urls;

pub fn list(ctx: &Ctx, query: &str, people: &[Person], erased: bool) -> Markup {
    let lang = ctx.lang;
    let (name, mobile, roles) = (ctx.t("姓名", "Name"), ctx.t("手机号", "Mobile"), ctx.t("角色", "Roles"));
    page(
        ctx,
        ctx.t("账号管理", "Accounts"),
        html! {
            @if erased { (notice("ok", ctx.t("已删除该账号的个人信息。", "The account's personal information was erased."))) }
            form.search method="get" action=(urls::ADMIN_PEOPLE) role="search" {
                (Input::new("q", ctx.t("按姓名或手机号查找", "Find by name or mobile"), query).kind("search").render(lang))
                button type="submit" { (ctx.t("查找", "Search")) }
            }
            p { a.button.primary href=(urls::ADMIN_PEOPLE_NEW) { (ctx.t("新建账号", "New account")) } }
            table.list {
                thead { tr { th scope="col" { (name) } th scope="col" { (mobile) } th scope="col" { (roles) } } }
                tbody {
                    @for p in people {
                        tr {
                            td data-label=(name) { a href=(urls::person(p.id)) { (p.name.as_str()) } }
                            td data-label=(mobile) { (p.phone.as_str()) }
                            td data-label=(roles) { (p.roles.iter().map(|r| r.label(lang)).collect::<Vec<_>>().join("、")) }
                        }
                    }
                }
            }
        },
    )
}

/// The account form: its data, the values shown (as stored or as typed) and their problems.
pub struct AccountForm<'a> {
    pub data: &'a AccountPage,
    pub values: &'a AccountFields,
    pub errors: &'a [(&'static str, Text)],
    pub saved: bool,
}

/// A group of checkboxes or a select, with its problem below it.
fn field_error(ctx: &Ctx, p: &AccountForm, field: &str) -> Markup {
    html! { @if let Some(e) = error_for(p.errors, field) { p.error role="alert" { (e.get(ctx.lang)) } } }
}

fn phone_field(ctx: &Ctx, p: &AccountForm) -> Markup {
    let v = p.values;
    html! {
        @if p.data.person.is_some() {
            div.field { span.label { (ctx.t("手机号", "Mobile")) } p { (v.phone) } input type="hidden" name="phone" value=(v.phone); }
        } @else {
            (Input::new("phone", ctx.t("手机号", "Mobile number"), &v.phone).kind("tel").inputmode("numeric").required()
                .error(error_for(p.errors, "phone")).render(ctx.lang))
        }
    }
}

fn roles_field(ctx: &Ctx, p: &AccountForm) -> Markup {
    html! {
        fieldset.field .has-error[error_for(p.errors, "roles").is_some()] {
            legend { (ctx.t("角色", "Roles")) }
            @for r in Role::ALL {
                label.check { input type="checkbox" name="roles" value=(r.code()) checked[p.values.roles.iter().any(|x| x == r.code())]; " " (r.label(ctx.lang)) }
            }
            (field_error(ctx, p, "roles"))
        }
    }
}

/// An official's scope: a whole district (its streets, and any added later) or single streets, each
/// district with its streets under it.
fn streets_field(ctx: &Ctx, p: &AccountForm) -> Markup {
    let street = |s: &OrgUnit| {
        html! { label.check { input type="checkbox" name="streets" value=(s.id) checked[p.values.streets.contains(&s.id)]; " " (s.name) } }
    };
    let in_no_district = p
        .data
        .streets
        .iter()
        .filter(|s| !p.data.districts.iter().any(|d| s.parent_id == Some(d.id)));
    html! {
        fieldset.field .has-error[error_for(p.errors, "streets").is_some()] {
            legend { (ctx.t("所辖区或街道（街道干部）", "District or streets (officials)")) }
            p.hint { (ctx.t("勾选整个区：可查看全区统计，并管理区内所有街道（含以后新增的街道）。", "Tick a whole district to see its district-wide reports and manage all its streets, including streets added later.")) }
            @for d in &p.data.districts {
                label.check { input type="checkbox" name="districts" value=(d.id) checked[p.values.districts.contains(&d.id)]; " " strong { (d.name) } (ctx.t("（整个区）", " (whole district)")) }
                div.indent { @for s in p.data.streets.iter().filter(|s| s.parent_id == Some(d.id)) { (street(s)) } }
            }
            @for s in in_no_district { (street(s)) }
            (field_error(ctx, p, "streets"))
        }
    }
}

fn committee_field(ctx: &Ctx, p: &AccountForm) -> Markup {
    html! {
        div.field .has-error[error_for(p.errors, "committee").is_some()] {
            label for="f-committee" { (ctx.t("所属业委会（主任/委员）", "Committee (chairs)")) }
            select id="f-committee" name="committee" {
                option value="" { (ctx.t("无", "None")) }
                @for (id, label) in &p.data.committees { option value=(id) selected[p.values.committee == Some(*id)] { (label) } }
            }
            (field_error(ctx, p, "committee"))
        }
    }
}

fn signin_link_form(ctx: &Ctx, person: &Person) -> Markup {
    html! {
        h2 { (ctx.t("登录链接", "Sign-in link")) }
        p { (ctx.t("生成一个一次性的专属登录链接和二维码；旧链接会作废。", "Make a one-time personal sign-in link and QR code; older links stop working.")) }
        form.stack method="post" action=(urls::chair_signin_link(person.id)) {
            (csrf(ctx))
            button type="submit" { (ctx.t("生成登录链接", "Make sign-in link")) }
        }
    }
}

pub fn form(ctx: &Ctx, p: &AccountForm) -> Markup {
    let lang = ctx.lang;
    let (v, person) = (p.values, p.data.person.as_ref());
    let action = person.map_or_else(|| urls::ADMIN_PEOPLE_NEW.to_string(), |x| urls::person(x.id));
    let title = person.map_or_else(
        || ctx.t("新建账号", "New account").to_string(),
        |x| x.name.as_str().to_string(),
    );
    let body = html! {
        @if p.saved { (notice("ok", ctx.t("已保存。", "Saved."))) }
        @if !p.errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
        form.stack method="post" action=(action) {
            (csrf(ctx))
            (Input::new("name", ctx.t("姓名", "Name"), &v.name).required().error(error_for(p.errors, "name")).render(lang))
            (phone_field(ctx, p))
            (Input::new("email", ctx.t("邮箱（可空）", "Email (optional)"), &v.email).kind("email").error(error_for(p.errors, "email")).render(lang))
            (roles_field(ctx, p))
            (streets_field(ctx, p))
            (committee_field(ctx, p))
            (Input::new("position", ctx.t("职务（可空）", "Position (optional)"), &v.position).render(lang))
            button.primary type="submit" { (ctx.t("保存", "Save")) }
        }
        @if let Some(person) = person { (signin_link_form(ctx, person)) (erase_form(ctx, person.id, p.errors)) }
    };
    page(ctx, &title, body)
}

/// Erasing the person's information (her request, or she left office), with the reason.
fn erase_form(ctx: &Ctx, id: i64, errors: &[(&'static str, Text)]) -> Markup {
    let err = error_for(errors, "reason");
    html! {
        section.card #erase {
            h2 { (ctx.t("删除个人信息", "Erase personal information")) }
            p { (ctx.t("本人申请删除或已卸任时使用：姓名、手机号、邮箱、密码、管理角色、讨论消息和登录记录将被删除，无法恢复，账号也无法再登录。出勤、答题记录和所属业委会以匿名方式保留，报表的统计不变；她的证书仍可核验，姓名被遮盖。此操作会记入操作记录。",
                       "At her request, or when she leaves office: name, mobile, email, password, staff roles, chat messages and sign-in records are erased for good, and the account can no longer sign in. Attendance, answers and her committee stay, anonymous, so reports' totals do not change; her certificates stay verifiable with the name masked. The action is recorded in the audit trail.")) }
            form.stack method="post" action=(format!("{}/erase", urls::person(id))) {
                (csrf(ctx))
                div.field .has-error[err.is_some()] {
                    label for="f-reason" { (ctx.t("原因", "Reason")) }
                    textarea #f-reason name="reason" rows="2" aria-invalid=[err.map(|_| "true")] {}
                    @if let Some(e) = err { p.error role="alert" { (e.get(ctx.lang)) } }
                }
                button.danger type="submit" { (ctx.t("删除个人信息", "Erase")) }
            }
        }
    }
}
