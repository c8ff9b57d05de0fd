//! The home page: what each role needs next.

use maud::{Markup, html};

use super::When;
use super::forms::read_aloud;
use super::layout::page;
use crate::domain::attempt::AttemptState;
use crate::domain::person::Role;
use crate::domain::session::{SessionStatus, SessionSummary};
use crate::i18n::Lang;
use crate::services::home::{Attended, Home, QuizOutcome, Training};
use crate::web::context::Ctx;
use crate::web::urls;

fn sessions(ctx: &Ctx, list: &[SessionSummary], empty: &str, link: fn(i64) -> String) -> Markup {
    html! {
        @if list.is_empty() {
            p.empty { (empty) }
        } @else {
            ul.cards {
                @for s in list {
                    li.card {
                        h3 { a href=(link(s.id)) { (s.title) } }
                        p { (When(s.starts_at, ctx.lang))
                            @if s.status == SessionStatus::Live { " " span.tag.ok { (ctx.t("直播中", "Live")) } } }
                    }
                }
            }
        }
    }
}

/// What a chair should do next, in one sentence she can have read to her.
fn next_step(ctx: &Ctx, next: Option<&SessionSummary>) -> Markup {
    match next {
        Some(s) if s.status == SessionStatus::Live => html! {
            (ctx.t("下一步：培训“", "Next: the session “")) (s.title) (ctx.t("”正在直播，请点下面的培训名称进入直播间。", "” is live now; tap its name below to enter the room."))
        },
        Some(s) => html! {
            (ctx.t("下一步：参加培训“", "Next: the session “")) (s.title) (ctx.t("”，时间 ", "” on ")) (When(s.starts_at, ctx.lang))
            (ctx.t("。到时间后请点下面的培训名称进入直播间。", ". When it is time, tap its name below to enter the room."))
        },
        None => {
            html! { (ctx.t("目前没有要参加的培训。有新的培训时，街道会通知您。", "Nothing to attend for now. The street office will let you know about new sessions.")) }
        }
    }
}

pub fn signed_out(ctx: &Ctx) -> Markup {
    page(
        ctx,
        ctx.t("业委会学堂", "Quorum"),
        html! {
            p.lead { (ctx.t("街道为业委会主任组织的线上培训：听律师讲法规、讨论交流、随堂测试，合格后获得结业证书。",
                            "Online training that street offices run for owners' committee chairs: a lawyer's lecture, discussion, an in-class quiz and a certificate for those who pass.")) }
            p { a.button.primary href=(urls::SIGNIN) { (ctx.t("登录", "Sign in")) } }
        },
    )
}

pub fn home(ctx: &Ctx, h: &Home) -> Markup {
    let Some(user) = &ctx.user else { return signed_out(ctx) };
    let roles = &user.person.roles;
    page(
        ctx,
        ctx.t("首页", "Home"),
        html! {
            p.lead { (user.person.name.as_str()) (ctx.t("，您好！", ", hello!")) }
            @if roles.has(Role::Chair) { (chair(ctx, h)) }
            @if roles.has(Role::Official) { (official(ctx, h)) }
            @if roles.has(Role::Lawyer) { (lawyer(ctx, h)) }
            @if roles.has(Role::Admin) {
                section {
                    h2 { (ctx.t("管理", "Administration")) }
                    p { a.button href=(urls::ADMIN_ORG) { (ctx.t("组织架构", "Organisation tree")) } " "
                        a.button href=(urls::ADMIN_PEOPLE) { (ctx.t("账号管理", "Accounts")) } " "
                        a.button href=(urls::ADMIN_AUDIT) { (ctx.t("操作记录", "Audit trail")) } }
                }
            }
        },
    )
}

fn chair(ctx: &Ctx, h: &Home) -> Markup {
    html! {
        section {
            div.next-step #next-step {
                p data-say="" { (next_step(ctx, h.chair_upcoming.first())) }
                (read_aloud(ctx, "next-step", ctx.lang.html_lang()))
            }
            h2 { (ctx.t("即将开始的培训", "Upcoming training sessions")) }
            @if let Some(c) = &h.chair_committee { p.meta { (c.name) } }
            (sessions(ctx, &h.chair_upcoming, ctx.t("目前没有邀请您参加的培训。", "No sessions you are invited to yet."), urls::room))
            @if !h.chair_trainings.is_empty() {
                h2 { (ctx.t("我的培训记录", "My training record")) }
                ul.cards.trainings { @for t in &h.chair_trainings { (training(ctx, t)) } }
            }
            (certificates(ctx, h))
        }
    }
}

fn certificates(ctx: &Ctx, h: &Home) -> Markup {
    html! {
        h2 { (ctx.t("我的证书", "My certificates")) }
        @if h.certificates.is_empty() {
            p.empty { (ctx.t("通过随堂测试后，证书会显示在这里。", "Certificates appear here once you pass a quiz.")) }
        }
        ul.cards {
            @for c in &h.certificates {
                li.card {
                    h3 { a href=(urls::certificate(c.id)) { (c.content.session_title) } }
                    p.meta { (c.serial) " · " (c.content.issued_on)
                        @if c.revoked_at.is_some() { " " span.tag.warn { (ctx.t("已撤销", "revoked")) } } }
                    p {
                        a.button.primary href=(urls::certificate(c.id)) { (ctx.t("查看证书", "View the certificate")) } " "
                        a.button href=(urls::certificate_png(c.id)) { (ctx.t("证书图片", "Picture")) } " "
                        a.button href=(urls::certificate_pdf(c.id)) { (ctx.t("下载证书（PDF）", "Download (PDF)")) }
                    }
                    p { a href=(urls::verify_code(&c.code)) { (ctx.t("公开验证页面", "Public verification page")) } }
                }
            }
        }
    }
}

/// Minutes are whole and rounded down; a short but real stay says "less than a minute" rather than a
/// "0 minutes" that reads as a bug (as the quiz gate's message does).
fn minutes(lang: Lang, a: Attended) -> String {
    match (a.minutes, a.share > 0.0, lang) {
        (0, true, Lang::Zh) => "不到 1 分钟".into(),
        (0, true, Lang::En) => "less than a minute".into(),
        (m, _, Lang::Zh) => format!("{m} 分钟"),
        (m, _, Lang::En) => format!("{m} minutes"),
    }
}

fn attendance(ctx: &Ctx, t: &Training) -> Markup {
    html! {
        @match t.attended {
            None => (ctx.t("培训未举行", "The session was not held")),
            Some(a) if a.share <= 0.0 => (ctx.t("未进入直播间", "Not in the room")),
            Some(a) => { (minutes(ctx.lang, a)) (ctx.t("（", " (")) (format!("{:.0}%", a.share * 100.0)) (ctx.t("）", ")")) },
        }
    }
}

fn quiz_result(ctx: &Ctx, q: Option<&QuizOutcome>) -> Markup {
    let Some(q) = q else {
        return html! { (ctx.t("未参加", "Not taken")) };
    };
    let a = &q.attempt;
    html! {
        @match q.state {
            AttemptState::Open => {
                (ctx.t("答题中", "In progress")) " "
                a.button href=(urls::attempt(a.id)) { (ctx.t("继续答题", "Continue")) }
            },
            AttemptState::Overdue => {
                (ctx.t("时间已到，正在记录成绩", "Time is up; the result is being recorded")) " "
                a.button href=(urls::attempt(a.id)) { (ctx.t("查看结果与解析", "Result and explanations")) }
            },
            AttemptState::Submitted => {
                (a.correct.unwrap_or(0)) " / " (a.total) " "
                @if a.passed == Some(true) { span.tag.ok.verdict { (ctx.t("通过", "Passed")) } }
                @else { span.tag.warn.verdict { (ctx.t("未通过", "Not passed")) } }
                br;
                a.button href=(urls::attempt(a.id)) { (ctx.t("查看结果与解析", "Result and explanations")) }
            },
        }
    }
}

/// One training on her record: when, how long she was there, her quiz, her certificate.
fn training(ctx: &Ctx, t: &Training) -> Markup {
    let s = &t.session;
    html! {
        li.card {
            h3 { a href=(urls::room(s.id)) { (s.title) } }
            p.meta { (When(s.starts_at, ctx.lang))
                @if s.status == SessionStatus::Live { " " span.tag.ok { (ctx.t("直播中", "Live")) } } }
            dl.record {
                dt { (ctx.t("出勤", "Attendance")) } dd.attendance { (attendance(ctx, t)) }
                dt { (ctx.t("随堂测试", "Quiz")) } dd.quiz { (quiz_result(ctx, t.quiz.as_ref())) }
                dt { (ctx.t("证书", "Certificate")) }
                dd.certificate {
                    @match &t.certificate {
                        Some(c) => {
                            a.button href=(urls::certificate(c.id)) { (ctx.t("查看证书", "View the certificate")) }
                            @if c.revoked_at.is_some() { " " span.tag.warn { (ctx.t("已撤销", "revoked")) } }
                            " · " a href=(urls::verify_code(&c.code)) { (ctx.t("公开验证", "Verify")) }
                        },
                        None => (ctx.t("无", "None")),
                    }
                }
            }
            (replay_links(ctx, t))
        }
    }
}

/// The replay, and the make-up quiz while its window is open and she has not passed.
fn replay_links(ctx: &Ctx, t: &Training) -> Markup {
    let passed = t.quiz.as_ref().is_some_and(|q| q.attempt.passed == Some(true));
    let makeup = t.makeup.filter(|w| w.contains(chrono::Utc::now()) && !passed);
    html! {
        @if t.replay {
            p.replay {
                a.button href=(urls::replay(t.session.id)) { (ctx.t("观看录像", "Watch the replay")) }
                @if let (Some(w), Some(q)) = (makeup, t.quiz_id) {
                    " " a.button.primary href=(urls::quiz(q)) { (ctx.t("回看补测", "Make-up quiz")) }
                    " " span.meta { (ctx.t("截止 ", "until ")) (crate::domain::time::to_shanghai(w.until).format("%m-%d %H:%M")) }
                }
            }
        }
    }
}

fn official(ctx: &Ctx, h: &Home) -> Markup {
    html! {
        section {
            h2 { (ctx.t("我的街道", "My streets")) }
            ul.plain { @for s in &h.official_streets { li { a href=(urls::chairs_of_street(s.id)) { (s.name) } } } }
            h2 { (ctx.t("培训场次", "Training sessions")) }
            (sessions(ctx, &h.official_sessions, ctx.t("还没有培训场次。", "No sessions yet."), urls::session))
            p { a.button.primary href=(urls::SESSION_NEW) { (ctx.t("新建培训场次", "Schedule a session")) } }
            p { a.button href=(urls::ROSTER) { (ctx.t("导入主任名单", "Import a roster")) } " "
                a.button href=(urls::CHAIRS) { (ctx.t("主任名单与登录链接", "Chairs and sign-in links")) } }
        }
    }
}

fn lawyer(ctx: &Ctx, h: &Home) -> Markup {
    html! {
        section {
            h2 { (ctx.t("我的题库", "My question banks")) }
            @if h.lawyer_banks.is_empty() { p.empty { (ctx.t("暂无题库。", "No question banks yet.")) } }
            ul.plain.links {
                @for (b, active, review) in &h.lawyer_banks {
                    li { a href=(urls::bank(b.id)) { (b.title) } span.meta { (active) (ctx.t(" 道题", " questions")) }
                        @if *review > 0 { " " span.tag.warn { (review) (ctx.t(" 道待复核", " need review")) } } }
                }
            }
            p { a.button href=(urls::BANKS) { (ctx.t("全部题库", "All banks")) } }
            h2 { (ctx.t("我主讲的培训", "Sessions I lecture")) }
            (sessions(ctx, &h.lawyer_sessions, ctx.t("暂无。", "None yet."), urls::room))
        }
    }
}
