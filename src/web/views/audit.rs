//! The admin's audit trail page: filter, the newest entries, sign-in events, the chain check.

use maud::{Markup, html};

use super::When;
use super::forms::{Input, error_for, notice};
use super::layout::page;
use crate::domain::audit::{Action, Broken};
use crate::i18n::Text;
use crate::services::audit::{AuditForm, AuditPage, Checked, PAGE, action_label};
use crate::web::context::Ctx;
use crate::web::urls;

fn filter_form(ctx: &Ctx, f: &AuditForm, errors: &[(&'static str, Text)]) -> Markup {
    let lang = ctx.lang;
    html! {
        form.search method="get" action=(urls::ADMIN_AUDIT) {
            (Input::new("from", ctx.t("起始日期", "From"), &f.from).kind("date").error(error_for(errors, "from")).render(lang))
            (Input::new("to", ctx.t("截止日期", "To"), &f.to).kind("date").error(error_for(errors, "to")).render(lang))
            (Input::new("actor", ctx.t("操作人编号", "Actor id"), &f.actor).error(error_for(errors, "actor")).render(lang))
            div.field {
                label for="f-action" { (ctx.t("操作", "Action")) }
                select #f-action name="action" {
                    option value="" { (ctx.t("全部", "All")) }
                    @for a in Action::ALL { option value=(a.code()) selected[f.action == a.code()] { (a.label(lang)) } }
                }
                @if let Some(e) = error_for(errors, "action") { p.error role="alert" { (e.get(lang)) } }
            }
            (Input::new("object", ctx.t("对象（如 session:12）", "Object (e.g. session:12)"), &f.object).render(lang))
            button type="submit" { (ctx.t("查看", "Show")) }
        }
    }
}

/// The query string of the filter, for the export links.
fn query(f: &AuditForm) -> String {
    let enc = urls::percent_encode;
    format!(
        "?from={}&to={}&actor={}&action={}&object={}",
        enc(&f.from),
        enc(&f.to),
        enc(&f.actor),
        enc(&f.action),
        enc(&f.object)
    )
}

pub fn audit_page(ctx: &Ctx, f: &AuditForm, p: Option<&AuditPage>, errors: &[(&'static str, Text)]) -> Markup {
    let lang = ctx.lang;
    let name = |id: Option<i64>, p: &AuditPage| match id {
        Some(i) => format!("{} ({i})", p.names.get(&i).cloned().unwrap_or_default()),
        None => ctx.t("系统", "system").to_string(),
    };
    let body = html! {
        p { (ctx.t("官员、律师和管理员的每一项重要操作都记录在此：谁、何时、做了什么、从哪个地址。记录只能追加，每条都以哈希与上一条相连，任何改动都会被校验发现。记录至少保存六个月。",
                   "Every privileged action of officials, lawyers and admins is recorded here: who, when, what and from which address. Entries are append-only, each chained to the one before by a hash, so any change is found by the check. They are kept at least six months.")) }
        p { a href=(urls::ADMIN_AUDIT_CHECK) { (ctx.t("校验记录链", "Check the chain")) } }
        @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
        (filter_form(ctx, f, errors))
        @if let Some(p) = p {
            p.meta { (ctx.t("共 ", "")) (p.total) (ctx.t(" 条符合条件", " matching entries"))
                @if p.total > PAGE { (ctx.t("，下面是最新的 ", "; the newest ")) (PAGE) (ctx.t(" 条", " below")) }
                " · " a href=(format!("{}.csv{}", urls::ADMIN_AUDIT, query(f))) { "CSV" }
                " · " a href=(format!("{}.xlsx{}", urls::ADMIN_AUDIT, query(f))) { "XLSX" } }
            @if p.entries.is_empty() { p.empty { (ctx.t("没有符合条件的记录。", "No matching entries.")) } }
            @else {
                table.list #audit {
                    thead { tr {
                        th scope="col" { (ctx.t("序号", "Seq")) }
                        th scope="col" { (ctx.t("时间", "Time")) }
                        th scope="col" { (ctx.t("操作人", "Actor")) }
                        th scope="col" { (ctx.t("操作", "Action")) }
                        th scope="col" { (ctx.t("对象", "Object")) }
                        th scope="col" { (ctx.t("摘要", "Summary")) }
                        th scope="col" { (ctx.t("地址", "Address")) }
                    } }
                    tbody { @for e in &p.entries { tr {
                        td data-label=(ctx.t("序号", "Seq")) { (e.seq) }
                        td data-label=(ctx.t("时间", "Time")) { (When(e.at, lang)) }
                        td data-label=(ctx.t("操作人", "Actor")) { (name(e.record.actor_id, p)) }
                        td data-label=(ctx.t("操作", "Action")) { (action_label(lang, &e.action)) }
                        td data-label=(ctx.t("对象", "Object")) { (e.record.object) }
                        td data-label=(ctx.t("摘要", "Summary")) { (e.record.summary) }
                        td data-label=(ctx.t("地址", "Address")) { (e.record.address) }
                    } } }
                }
            }
            h2 { (ctx.t("登录记录", "Sign-in events")) }
            @if p.signins.is_empty() { p.empty { (ctx.t("没有登录记录。", "No sign-in events.")) } }
            @else {
                table.list #signins {
                    thead { tr {
                        th scope="col" { (ctx.t("时间", "Time")) }
                        th scope="col" { (ctx.t("人员", "Person")) }
                        th scope="col" { (ctx.t("事件", "Event")) }
                        th scope="col" { (ctx.t("方式", "Method")) }
                        th scope="col" { (ctx.t("地址", "Address")) }
                    } }
                    tbody { @for s in &p.signins { tr {
                        td data-label=(ctx.t("时间", "Time")) { (When(s.at, lang)) }
                        td data-label=(ctx.t("人员", "Person")) { @if s.person_id.is_some() { (name(s.person_id, p)) } @else { (ctx.t("未知账号", "unknown account")) } }
                        td data-label=(ctx.t("事件", "Event")) { (signin_kind(ctx, &s.kind)) }
                        td data-label=(ctx.t("方式", "Method")) { (signin_method(ctx, &s.method)) }
                        td data-label=(ctx.t("地址", "Address")) { (s.address) }
                    } } }
                }
            }
        }
    };
    page(ctx, ctx.t("操作记录", "Audit trail"), body)
}

fn signin_kind(ctx: &Ctx, kind: &str) -> String {
    match kind {
        "signin" => ctx.t("登录", "signed in"),
        "failure" => ctx.t("登录失败", "failed"),
        "code_sent" => ctx.t("发送验证码", "code sent"),
        "signout" => ctx.t("退出", "signed out"),
        other => other,
    }
    .to_string()
}

fn signin_method(ctx: &Ctx, method: &str) -> String {
    match method {
        "password" => ctx.t("密码", "password"),
        "sms" => ctx.t("短信验证码", "SMS code"),
        "link" => ctx.t("登录卡链接", "sign-in link"),
        other => other,
    }
    .to_string()
}

/// What the chain check found.
pub fn check_page(ctx: &Ctx, result: &Result<Checked, Broken>) -> Markup {
    let body = html! {
        @match result {
            Ok(c) => {
                (notice("ok", &format!("{}{}{}", ctx.t("记录链完整：共 ", "The chain is intact: "), c.entries, ctx.t(" 条，逐条校验通过。", " entries, each checked."))))
                p { (ctx.t("最后一条的哈希（可另行记下，日后比对）：", "The last entry's hash (note it elsewhere to compare later):")) }
                p { code { (c.head_hash) } }
            }
            Err(b) => {
                (notice("error", &format!("{}{}", ctx.t("记录链已损坏：", "The chain is broken: "), b)))
            }
        }
        p { a href=(urls::ADMIN_AUDIT) { (ctx.t("返回操作记录", "Back to the audit trail")) } }
    };
    page(ctx, ctx.t("校验记录链", "Chain check"), body)
}
