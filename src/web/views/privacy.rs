//! The personal-information notice and a person's own data.

use maud::{Markup, html};

use super::When;
use super::forms::csrf;
use super::layout::page;
use crate::domain::privacy::NOTICE_VERSION;
use crate::services::privacy::MyData;
use crate::web::context::Ctx;
use crate::web::urls;

/// How long things are kept, as configured (`recordings.retention_days`, `retention.*`).
pub struct Keeping {
    pub recording_days: u32,
    pub retention: crate::config::RetentionSettings,
}

/// The "for how long" section, from the settings the daily job enforces.
fn keeping(zh: bool, k: &Keeping) -> String {
    let r = &k.retention;
    let days = |n: u32, zh_kept: &str, en_kept: &str, zh_what: &str, en_what: &str| match (n, zh) {
        (0, true) => zh_kept.to_string(),
        (0, false) => en_kept.to_string(),
        (n, true) => format!("{zh_what}{n} 天后删除"),
        (n, false) => format!("{en_what} {n} days"),
    };
    let parts = [
        days(
            k.recording_days,
            "录像长期保存",
            "recordings are kept",
            "录像在讲课 ",
            "recordings are deleted after",
        ),
        days(
            r.attendance_days,
            "出勤记录长期保存，供证书核验",
            "attendance is kept, for certificates to be verified",
            "出勤记录在 ",
            "attendance is deleted after",
        ),
        days(
            r.answers_days,
            "每道题的作答长期保存",
            "each answer is kept",
            "每道题的作答在交卷 ",
            "each answer is cleared (the score stays) after",
        ),
        days(
            r.chat_days,
            "讨论区消息长期保存",
            "chat messages are kept",
            "讨论区消息在 ",
            "chat messages are deleted after",
        ),
        days(
            r.signin_events_days,
            "",
            "",
            "登录记录在 ",
            "sign-in records are deleted after",
        ),
    ];
    let sep = if zh { "；" } else { "; " };
    let tail = if zh {
        "；操作记录至少保存六个月（《网络安全法》第二十一条）。成绩和证书保存，供证书核验；您可以申请删除个人信息（见下）。"
    } else {
        "; action records are kept at least six months (Cybersecurity Law, art. 21). Results and certificates are kept for certificates to be verified; you can ask for your information to be erased (below)."
    };
    format!("{}{tail}", parts.join(sep))
}

/// The notice's sections: (heading, text), in Chinese and English.
fn sections(ctx: &Ctx, k: &Keeping) -> Vec<(&'static str, String)> {
    let zh = ctx.lang == crate::i18n::Lang::Zh;
    let pick = |z: &'static str, e: &'static str| if zh { z } else { e };
    vec![
        (
            pick("谁在处理", "Who processes it"),
            pick(
                "业委会学堂由组织培训的街道办事处（及其所在区）使用，用于业委会主任的法律培训、随堂测试和结业证书。",
                "Quorum is used by the street office (and its district) that runs the training, for the legal training, in-class quizzes and certificates of owners' committee chairs.",
            )
            .to_string(),
        ),
        (
            pick("收集哪些信息", "What is collected"),
            pick(
                "姓名、手机号码、电子邮箱（如有）、所在业委会和职务；参加培训的时间（进出直播间、回看）；随堂测试的每一题作答、得分和结果；结业证书；您在讨论区发的消息；登录记录（时间、方式、网络地址）。培训直播会录像：讲课律师的声音和画面，以及被邀请发言者的声音。",
                "Name, mobile number, email (if any), committee and position; when you attended (entering and leaving the live room, replay); each answer, score and result of the in-class quiz; certificates; your chat messages; sign-in records (time, method, network address). Live lectures are recorded: the lecturer's voice and picture, and the voice of anyone invited to speak.",
            )
            .to_string(),
        ),
        (
            pick("为什么", "Why"),
            pick(
                "通知您参加培训、确认出勤、评分并颁发和核验证书，以及让街道、区了解培训的参加和通过情况。不用于其他目的，不向其他单位提供。",
                "To invite you, confirm attendance, grade the quiz and issue and verify certificates, and to let the street and district see attendance and pass rates. It is not used for anything else or given to anyone else.",
            )
            .to_string(),
        ),
        (pick("保存多久", "For how long"), keeping(zh, k)),
        (
            pick("谁能看到", "Who sees it"),
            pick(
                "您本人；您所在街道、区负责培训的工作人员（出勤、成绩、证书）；平台管理员。讲课律师只看到每道题的答对率，看不到个人的作答。任何人凭证书编号和验证码可以核验证书真伪。",
                "You; the staff of your street and district in charge of training (attendance, results, certificates); the platform's administrators. Lecturing lawyers see how often each question was answered right, not anyone's answers. Anyone holding a certificate's serial and code can check that it is genuine.",
            )
            .to_string(),
        ),
        (
            pick("您的权利", "Your rights"),
            pick(
                "您可以随时在“我的个人信息”页面查看并下载我们保存的您的全部信息；如需更正或删除，请联系所在街道或平台管理员。删除后您的证书仍可核验，但姓名会被遮盖。",
                "You can see and download everything Quorum holds about you at any time on the My data page; to correct or delete it, ask your street office or the platform's administrators. After deletion your certificates can still be verified, with your name masked.",
            )
            .to_string(),
        ),
    ]
}

/// The notice; for a signed-in person who has not accepted this version, with the button to accept.
pub fn notice(ctx: &Ctx, k: &Keeping, must_accept: bool, next: &str) -> Markup {
    let body = html! {
        p.meta { (ctx.t("版本 ", "Version ")) (NOTICE_VERSION) }
        @for (heading, text) in sections(ctx, k) {
            h2 { (heading) }
            p { (text) }
        }
        @if must_accept {
            form.stack method="post" action=(urls::PRIVACY) {
                (csrf(ctx))
                input type="hidden" name="next" value=(next);
                button.primary type="submit" { (ctx.t("我已阅读并同意", "I have read and agree")) }
            }
            p.hint { (ctx.t("不同意的话，请联系所在街道，用其他方式参加培训。", "If you do not agree, ask your street office about taking part another way.")) }
        }
    };
    page(ctx, ctx.t("个人信息处理告知", "Personal information notice"), body)
}

/// What Quorum holds about her, and the download.
pub fn my_data(ctx: &Ctx, d: &MyData) -> Markup {
    let lang = ctx.lang;
    let body = html! {
        p { (ctx.t("这里列出业委会学堂保存的关于您的全部信息。", "Everything Quorum holds about you.")) }
        p { a.button href=(urls::MY_DATA_JSON) download { (ctx.t("下载全部信息（JSON 文件）", "Download it all (a JSON file)")) } }
        h2 { (ctx.t("基本信息", "Profile")) }
        dl {
            dt { (ctx.t("姓名", "Name")) } dd { (d.profile.name) }
            dt { (ctx.t("手机号码", "Mobile")) } dd { (d.profile.mobile) }
            dt { (ctx.t("电子邮箱", "Email")) } dd { (d.profile.email.as_deref().unwrap_or("—")) }
            dt { (ctx.t("业委会", "Committee")) } dd { (d.profile.committee.as_deref().unwrap_or("—")) }
            dt { (ctx.t("职务", "Position")) } dd { (d.profile.position.as_deref().unwrap_or("—")) }
        }
        h2 { (ctx.t("告知与同意", "Notice accepted")) }
        ul { @for a in &d.notice_acceptances { li { (ctx.t("第 ", "Version ")) (a.version) (ctx.t(" 版 · ", " · ")) (When(a.accepted_at, lang)) } } }
        h2 { (ctx.t("参加的培训", "Trainings")) }
        @if d.trainings.is_empty() { p.empty { (ctx.t("没有。", "None.")) } }
        ul { @for t in &d.trainings { li { (t.session) " · " (When(t.starts_at, lang))
            @if let Some(m) = t.minutes { " · " (m) (ctx.t(" 分钟", " min")) } } } }
        h2 { (ctx.t("随堂测试", "Quizzes")) }
        @if d.attempts.is_empty() { p.empty { (ctx.t("没有。", "None.")) } }
        ul { @for a in &d.attempts { li { (a.session) (ctx.t(" · 第 ", " · attempt ")) (a.number) (ctx.t(" 次", ""))
            @if let Some(c) = a.correct { " · " (c) "/" (a.total) }
            " · " (a.answers.len()) (ctx.t(" 题作答（见下载文件）", " answers (in the download)")) } } }
        h2 { (ctx.t("结业证书", "Certificates")) }
        @if d.certificates.is_empty() { p.empty { (ctx.t("没有。", "None.")) } }
        ul { @for c in &d.certificates { li { (c.serial) " · " (c.session)
            @if c.revoked_at.is_some() { " · " (ctx.t("已撤销", "revoked")) } } } }
        h2 { (ctx.t("讨论区消息", "Chat messages")) }
        p { (d.chat.len()) (ctx.t(" 条（见下载文件）", " (in the download)")) }
        h2 { (ctx.t("登录记录", "Sign-ins")) }
        p { (d.signins.len()) (ctx.t(" 条（见下载文件）", " (in the download)")) }
    };
    page(ctx, ctx.t("我的个人信息", "My data"), body)
}
