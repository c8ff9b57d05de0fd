//! Officials' session pages: list, schedule form, detail with invitation link and attendance.

use maud::{Markup, html};

use super::forms::{Input, csrf, error_for, notice};
use super::layout::page;
use super::{When, qr_image};
use crate::domain::person::Person;
use crate::domain::session::{SessionRecord, SessionStatus, SessionSummary};
use crate::domain::time::to_shanghai;
use crate::i18n::Text;
use crate::services::sessions::{DetailPage, FormChoices};
use crate::web::context::Ctx;
use crate::web::urls;

pub fn list(ctx: &Ctx, sessions: &[SessionSummary]) -> Markup {
    page(
        ctx,
        ctx.t("培训场次", "Training sessions"),
        html! {
            p { a.button.primary href=(urls::SESSION_NEW) { (ctx.t("新建培训场次", "Schedule a session")) } }
            @if sessions.is_empty() { p.empty { (ctx.t("还没有培训场次。", "No sessions yet.")) } }
            ul.cards {
                @for s in sessions {
                    li.card {
                        h3 { a href=(urls::session(s.id)) { (s.title) } }
                        p.meta { (When(s.starts_at, ctx.lang)) " · " (s.status.label(ctx.lang)) }
                    }
                }
            }
        },
    )
}

/// The form's values as typed.
#[derive(Default, Clone)]
pub struct SessionValues {
    pub title: String,
    pub description: String,
    pub starts_at: String,
    pub ends_at: String,
    pub street: Option<i64>,
    pub lecturers: Vec<i64>,
    pub moderators: Vec<i64>,
    pub invite: String,
    pub neighbourhoods: Vec<i64>,
    pub committees: Vec<i64>,
}

impl SessionValues {
    /// The form for editing a saved session (the committees as they were resolved).
    pub fn of(s: &SessionRecord) -> SessionValues {
        let fmt = |t| to_shanghai(t).format("%Y-%m-%dT%H:%M").to_string();
        SessionValues {
            title: s.title.clone(),
            description: s.description.clone(),
            starts_at: fmt(s.starts_at),
            ends_at: fmt(s.ends_at),
            street: Some(s.street_id),
            lecturers: s.lecturers.clone(),
            moderators: s.moderators.clone(),
            invite: "committees".into(),
            neighbourhoods: vec![],
            committees: s.committees.clone(),
        }
    }
}

fn people(list: &[Person]) -> Vec<(i64, String)> {
    list.iter().map(|p| (p.id, p.name.as_str().to_string())).collect()
}

fn checkboxes(
    name: &str,
    legend: &str,
    items: &[(i64, String)],
    checked: &[i64],
    error: Option<&Text>,
    ctx: &Ctx,
) -> Markup {
    html! {
        fieldset.field .has-error[error.is_some()] {
            legend { (legend) }
            @for (id, label) in items {
                label.check { input type="checkbox" name=(name) value=(id) checked[checked.contains(id)]; " " (label) }
            }
            @if let Some(e) = error { p.error role="alert" { (e.get(ctx.lang)) } }
        }
    }
}

pub fn form(
    ctx: &Ctx,
    action: &str,
    editing: bool,
    v: &SessionValues,
    c: &FormChoices,
    errors: &[(&'static str, Text)],
) -> Markup {
    let title = if editing {
        ctx.t("修改培训场次", "Edit session")
    } else {
        ctx.t("新建培训场次", "Schedule a session")
    };
    page(
        ctx,
        title,
        html! {
            @if !errors.is_empty() { (notice("error", ctx.t("请改正下面标出的问题。", "Please fix the problems marked below."))) }
            form.stack method="post" action=(action) {
                (csrf(ctx))
                (schedule_inputs(ctx, v, errors))
                (street_choice(ctx, v, c, errors))
                (checkboxes("lecturers", ctx.t("主讲律师", "Lecturers"), &people(&c.lawyers), &v.lecturers, error_for(errors, "lecturers"), ctx))
                (checkboxes("moderators", ctx.t("主持人（街道干部，可不选：本街道干部都可主持）", "Moderators (optional: every official of the street may moderate)"), &people(&c.officials), &v.moderators, error_for(errors, "moderators"), ctx))
                (invitees(ctx, v, c, errors))
                button.primary type="submit" { (ctx.t("保存", "Save")) }
            }
        },
    )
}

fn schedule_inputs(ctx: &Ctx, v: &SessionValues, errors: &[(&'static str, Text)]) -> Markup {
    let lang = ctx.lang;
    html! {
        (Input::new("title", ctx.t("标题", "Title"), &v.title).required().error(error_for(errors, "title")).render(lang))
        div.field {
            label for="f-description" { (ctx.t("简介", "Description")) }
            textarea id="f-description" name="description" rows="3" { (v.description) }
        }
        (Input::new("starts_at", ctx.t("开始时间（上海时间）", "Starts (Shanghai time)"), &v.starts_at).kind("datetime-local").required().error(error_for(errors, "starts_at")).render(lang))
        (Input::new("ends_at", ctx.t("结束时间", "Ends"), &v.ends_at).kind("datetime-local").required().error(error_for(errors, "ends_at")).render(lang))
    }
}

fn street_choice(ctx: &Ctx, v: &SessionValues, c: &FormChoices, errors: &[(&'static str, Text)]) -> Markup {
    html! {
        div.field .has-error[error_for(errors, "street").is_some()] {
            label for="f-street" { (ctx.t("街道", "Street")) }
            select id="f-street" name="street" {
                @for s in &c.streets { option value=(s.id) selected[v.street == Some(s.id)] { (s.name) } }
            }
            @if let Some(e) = error_for(errors, "street") { p.error { (e.get(ctx.lang)) } }
        }
    }
}

/// Who is invited: the whole street, by 居委, or committee by committee.
fn invitees(ctx: &Ctx, v: &SessionValues, c: &FormChoices, errors: &[(&'static str, Text)]) -> Markup {
    const WAYS: [(&str, &str, &str); 3] = [
        ("street", "本街道全部业委会", "Every committee of the street"),
        ("neighbourhoods", "按居委选择", "By residents' committee"),
        ("committees", "逐个选择", "Pick committees"),
    ];
    html! {
        fieldset.field .has-error[error_for(errors, "committees").is_some()] {
            legend { (ctx.t("邀请的业委会", "Invited committees")) }
            @for (value, zh, en) in WAYS {
                label.check { input type="radio" name="invite" value=(value) checked[v.invite == value || (v.invite.is_empty() && value == "street")]; " " (ctx.t(zh, en)) }
            }
            @if let Some(e) = error_for(errors, "committees") { p.error role="alert" { (e.get(ctx.lang)) } }
        }
        details open[v.invite == "neighbourhoods"] {
            summary { (ctx.t("选择居委", "Choose residents' committees")) }
            (checkboxes("neighbourhoods", ctx.t("居委", "Residents' committees"), &c.neighbourhoods, &v.neighbourhoods, None, ctx))
        }
        details open[v.invite == "committees"] {
            summary { (ctx.t("选择业委会", "Choose committees")) }
            (checkboxes("committees", ctx.t("业委会", "Committees"), &c.committees, &v.committees, None, ctx))
        }
    }
}

/// The official's page of a session; `invite_url` is the group link in full.
pub fn detail(ctx: &Ctx, d: &DetailPage, invite_url: &str) -> Markup {
    let lang = ctx.lang;
    let s = &d.session;
    let lecturers = d
        .lecturers
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    page(
        ctx,
        &s.title,
        html! {
            p.meta { (d.street) " · " (When(s.starts_at, lang)) " – " (When(s.ends_at, lang)) " · " strong { (s.status.label(lang)) } }
            @if !s.description.is_empty() { p { (s.description) } }
            p { (ctx.t("主讲：", "Lecturers: ")) (lecturers) }
            p { (ctx.t("邀请业委会 ", "Committees invited: ")) (s.committees.len()) }
            (links(ctx, s.id))
            (invitation(ctx, s.id, invite_url, &invitation_text(d, invite_url)))
            @if s.status == SessionStatus::Scheduled {
                p { a.button href=(format!("{}/edit", urls::session(s.id))) { (ctx.t("修改", "Edit")) } }
                form.stack method="post" action=(urls::session_cancel(s.id)) {
                    (csrf(ctx))
                    button.danger type="submit" { (ctx.t("取消本场培训", "Cancel this session")) }
                }
            }
            @if s.started_at.is_some() {
                (super::replay::recording_section(ctx, s, d.recording.as_ref(), None))
            }
            (attendance(ctx, d))
        },
    )
}

fn links(ctx: &Ctx, session: i64) -> Markup {
    html! {
        p { a.button.primary href=(urls::room(session)) { (ctx.t("进入直播间", "Enter the live room")) } " "
            a.button href=(urls::quiz_settings(session)) { (ctx.t("随堂测试设置", "Quiz settings")) } " "
            a.button href=(urls::session_certificates(session)) { (ctx.t("结业证书与邮件", "Certificates and email")) } " "
            a.button href=(urls::session_report(session)) { (ctx.t("场次报表", "Session report")) } }
    }
}

fn invitation(ctx: &Ctx, session: i64, invite_url: &str, text: &str) -> Markup {
    html! {
        section.card {
            h2 { (ctx.t("邀请链接", "Invitation link")) }
            p { (ctx.t("把链接或二维码发到主任们的微信群。主任打开后登录，即可进入候场室。", "Paste the link or QR code into the chairs' chat group; they sign in and wait in the lobby.")) }
            p.url { code { (invite_url) } }
            (qr_image(invite_url, ctx.t("邀请二维码", "Invitation QR code")))
            p {
                a href=(urls::session_qr_png(session)) { (ctx.t("二维码图片（PNG，可发到微信）", "QR code picture (PNG, for WeChat)")) } " · "
                a href=(urls::session_poster(session)) { (ctx.t("邀请海报（PNG）", "Invitation poster (PNG)")) } " · "
                a href=(urls::session_qr(session)) download { (ctx.t("下载二维码（SVG）", "Download the QR code (SVG)")) }
            }
            (copy_invitation(ctx, text))
            (personal_cards(ctx, session))
        }
    }
}

/// For chairs who use neither WeChat groups nor SMS well: a printed card each, leading straight in.
fn personal_cards(ctx: &Ctx, session: i64) -> Markup {
    html! {
        form method="post" action=(urls::session_signin_links(session)) {
            (csrf(ctx))
            p { (ctx.t("也可以为未设密码的受邀主任打印专属登录卡：扫码后直接进入本场培训的候场室。",
                       "Or print a personal sign-in card for each invited chair without a password: scanning it leads straight into this session's lobby.")) }
            button type="submit" { (ctx.t("打印本场专属登录卡", "Print personal cards for this session")) }
        }
    }
}

/// What the official pastes into the chairs' group (in Chinese: it is for the chairs).
fn invitation_text(d: &DetailPage, invite_url: &str) -> String {
    let s = &d.session;
    let lecturers: Vec<&str> = d.lecturers.iter().map(|l| l.name.as_str()).collect();
    format!(
        "【业委会主任培训】{}\n时间：{}\n主办：{}\n主讲：{}\n点击链接进入（用手机号和短信验证码登录，不需要密码）：\n{invite_url}",
        s.title,
        crate::services::sessions::when_text(s.starts_at, s.ends_at),
        d.street,
        lecturers.join("、"),
    )
}

/// The invitation as text to paste into the group: a readonly box (long-press to copy, without
/// JavaScript) and a 复制邀请 button that the script reveals.
fn copy_invitation(ctx: &Ctx, text: &str) -> Markup {
    html! {
        label for="invitation-text" { (ctx.t("邀请文字（长按可复制）", "Invitation text (long-press to copy)")) }
        textarea #invitation-text readonly rows="5" { (text) }
        p {
            button type="button" hidden data-copy-from="invitation-text" data-copy-status="invitation-copied"
                data-copied=(ctx.t("已复制", "Copied")) data-select=(ctx.t("已选中文字，请长按复制", "Text selected: long-press to copy")) {
                (ctx.t("复制邀请", "Copy the invitation"))
            }
            " " span #invitation-copied role="status" {}
        }
        script src=(urls::COPY_INVITATION_SCRIPT) defer {}
    }
}

fn attendance(ctx: &Ctx, d: &DetailPage) -> Markup {
    html! {
        h2 { (ctx.t("出勤", "Attendance")) }
        @if d.session.started_at.is_none() { p.empty { (ctx.t("开始后显示每位主任的在场时长。", "Minutes present appear once the session starts.")) } }
        table.list {
            thead { tr {
                th scope="col" { (ctx.t("姓名", "Name")) }
                th scope="col" { (ctx.t("直播分钟", "Live minutes")) }
                th scope="col" { (ctx.t("回看增加分钟", "Added by replay")) }
                th scope="col" { (ctx.t("合计分钟", "Minutes")) }
                th scope="col" { (ctx.t("占比", "Share")) }
            } }
            tbody {
                @for r in &d.attendance {
                    tr {
                        td data-label=(ctx.t("姓名", "Name")) { (r.person.name.as_str()) }
                        td data-label=(ctx.t("直播分钟", "Live minutes")) { (r.live_minutes) }
                        td data-label=(ctx.t("回看增加分钟", "Added by replay")) { (r.replay_minutes) }
                        td data-label=(ctx.t("合计分钟", "Minutes")) { (r.minutes) }
                        td data-label=(ctx.t("占比", "Share")) { (format!("{:.0}%", r.share * 100.0)) }
                    }
                }
            }
        }
    }
}
