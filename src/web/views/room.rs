//! The room page. It works in three states: the lobby (before the moderator starts), the live room,
//! and ended. The live room needs JavaScript (`static/js/room.js`); the lobby refreshes itself without it.

use maud::{Markup, html};

use super::When;
use super::forms::{csrf, read_aloud};
use super::layout::page;
use crate::db::training::SessionRecord;
use crate::domain::person::Person;
use crate::domain::session::{RoomRole, SessionStatus};
use crate::web::context::Ctx;
use crate::web::urls;

pub struct RoomPage<'a> {
    pub session: &'a SessionRecord,
    pub role: RoomRole,
    pub street: &'a str,
    pub lecturers: &'a [Person],
    /// JSON list of ICE servers for the browser.
    pub ice_servers: &'a str,
    pub you: i64,
    /// The session's quiz, when it is open now (chairs get a link to it).
    pub open_quiz: Option<i64>,
}

/// Labels the script shows, in the page's language (kept here so all text stays in one language file).
fn labels(ctx: &Ctx) -> String {
    let pairs = [
        ("connecting", ctx.t("连接中…", "Connecting…")),
        ("connected", ctx.t("已连接", "Connected")),
        (
            "reconnecting",
            ctx.t("网络中断，正在重新连接…", "Connection lost, reconnecting…"),
        ),
        (
            "removed",
            ctx.t("您已被主持人移出直播间。", "The moderator removed you from the room."),
        ),
        ("ended", ctx.t("本场培训已结束。", "This session has ended.")),
        (
            "speak_allowed",
            ctx.t(
                "主持人请您发言，请打开麦克风。",
                "The moderator invites you to speak: turn on your microphone.",
            ),
        ),
        ("speak_revoked", ctx.t("发言已结束。", "Your turn to speak has ended.")),
        ("muted", ctx.t("您已被主持人静音。", "The moderator muted you.")),
        ("unmuted", ctx.t("主持人已取消静音。", "The moderator unmuted you.")),
        ("allow", ctx.t("允许发言", "Let speak")),
        ("revoke", ctx.t("结束发言", "End turn")),
        ("mute", ctx.t("静音", "Mute")),
        ("unmute", ctx.t("取消静音", "Unmute")),
        ("remove", ctx.t("移出", "Remove")),
        ("delete", ctx.t("删除", "Delete")),
        ("hand", ctx.t("举手", "Hand raised")),
        ("speaking", ctx.t("发言中", "Speaking")),
        ("minutes", ctx.t("分钟", "min")),
        ("online", ctx.t("在线", "online")),
        (
            "no_camera",
            ctx.t(
                "无法打开摄像头或麦克风，请检查浏览器权限。",
                "Cannot open the camera or microphone; check the browser's permissions.",
            ),
        ),
        ("tap_sound", ctx.t("点击这里开启声音", "Tap here to turn the sound on")),
        ("quiz", ctx.t("随堂测试开始了！", "The quiz has started!")),
        (
            "chat_wait",
            ctx.t(
                "发言太快，请 {n} 秒后再发",
                "You are sending too fast; try again in {n} s",
            ),
        ),
        (
            "counter",
            ctx.t(
                "在场 {p} · 已开始 {s} · 已交卷 {d} · 合格 {ok}",
                "Present {p} · started {s} · submitted {d} · passed {ok}",
            ),
        ),
    ];
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

pub fn room_page(ctx: &Ctx, p: &RoomPage) -> Markup {
    let s = p.session;
    let lang = ctx.lang;
    let config = serde_json::json!({
        "session": s.id,
        "ws": urls::room_socket(s.id),
        "role": p.role.code(),
        "you": p.you,
        "status": s.status.code(),
        "startsAt": s.starts_at.to_rfc3339(),
    })
    .to_string();
    let moderator = p.role == RoomRole::Moderator;
    let lecturer = p.role == RoomRole::Lecturer;
    page(
        ctx,
        &s.title,
        html! {
            @if s.status == SessionStatus::Scheduled {
                // Without JavaScript the lobby refreshes itself; with it, the socket switches at once.
                noscript { meta http-equiv="refresh" content="20"; }
            }
            p.meta { (p.street) " · " (When(s.starts_at, lang)) " · " (ctx.t("主讲：", "Lecturer: ")) (p.lecturers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join("、")) }
            div #room data-config=(config) data-ice=(p.ice_servers) data-labels=(labels(ctx)) data-state=(s.status.code()) {
                p #conn.conn role="status" aria-live="polite" { (ctx.t("连接中…", "Connecting…")) }
                noscript { p.notice.error { (ctx.t("直播间需要开启 JavaScript。", "The live room needs JavaScript.")) } }
                @match s.status {
                    SessionStatus::Cancelled => { p.notice.error { (ctx.t("本场培训已取消。", "This session was cancelled.")) } }
                    _ => {}
                }
                @if let (Some(q), RoomRole::Viewer) = (p.open_quiz, p.role) {
                    p #quiz-link { a.button.primary href=(urls::quiz(q)) { (ctx.t("随堂测试进行中，点此进入", "The quiz is open: take it now")) } }
                }
                section #lobby hidden[s.status != SessionStatus::Scheduled] {
                    h2 { (ctx.t("候场室", "Lobby")) }
                    (read_aloud(ctx, "lobby", ctx.lang.html_lang()))
                    p.lead data-say="" { (ctx.t("培训尚未开始，请稍候。主持人开始后，页面会自动进入直播间。", "The session has not started yet. The page enters the room by itself when the moderator starts.")) }
                    p.countdown data-say="" { (ctx.t("距开始：", "Starts in: ")) span #countdown { (When(s.starts_at, lang)) } }
                    @if moderator {
                        form.stack method="post" action=(format!("{}/start", urls::session(s.id))) {
                            (csrf(ctx))
                            button.primary #start type="submit" { (ctx.t("开始培训", "Start the session")) }
                        }
                    }
                }
                section #ended hidden[s.status != SessionStatus::Ended] {
                    (read_aloud(ctx, "ended-notice", ctx.lang.html_lang()))
                    p #ended-notice.notice { (ctx.t("本场培训已结束。感谢参加！", "This session has ended. Thank you for taking part!")) }
                }
                section #live hidden[s.status != SessionStatus::Live] {
                    div.stage {
                        video #camera playsinline autoplay muted {}
                        video #screen playsinline autoplay muted hidden {}
                        audio #audio-lecturer autoplay {}
                        audio #audio-speaker autoplay {}
                        button #sound.primary type="button" hidden { (ctx.t("点击这里开启声音", "Tap here to turn the sound on")) }
                    }
                    div.controls {
                        @if lecturer || moderator {
                            button #publish-camera type="button" { (ctx.t("打开摄像头和麦克风", "Turn on camera and microphone")) }
                            button #publish-screen type="button" { (ctx.t("共享屏幕", "Share screen")) }
                            button #unpublish type="button" hidden { (ctx.t("停止发布", "Stop publishing")) }
                        }
                        @if p.role == RoomRole::Viewer {
                            button #hand type="button" { (ctx.t("举手", "Raise hand")) }
                            button #speak type="button" hidden { (ctx.t("打开麦克风发言", "Turn on microphone")) }
                        }
                        label.check { input #audio-only type="checkbox"; " " (ctx.t("仅听声音（网络不好时）", "Audio only (weak network)")) }
                    }
                    p #notice.notice hidden role="status" {}
                    (read_aloud(ctx, "notice", ctx.lang.html_lang()))
                    @if moderator {
                        section.card #moderator {
                            h2 { (ctx.t("主持人", "Moderator")) }
                            h3 { (ctx.t("举手排队", "Raised hands")) }
                            ol #hands {}
                            h3 { (ctx.t("参加者", "Participants")) }
                            ul #people.plain {}
                            h3 { (ctx.t("随堂测试", "Quiz")) }
                            p #quiz-counter.counter {}
                            form.stack method="post" action=(urls::quiz_open(s.id)) {
                                (csrf(ctx))
                                button.primary #open-quiz type="submit" { (ctx.t("开始随堂测试", "Open the quiz")) }
                            }
                            p { a href=(urls::quiz_settings(s.id)) { (ctx.t("测试设置", "Quiz settings")) } }
                            h3 { (ctx.t("出勤（分钟）", "Attendance (minutes)")) }
                            ul #attendance.plain {}
                            form.stack method="post" action=(format!("{}/end", urls::session(s.id))) {
                                (csrf(ctx))
                                button.danger #end type="submit" { (ctx.t("结束培训", "End the session")) }
                            }
                        }
                    }
                    section.card {
                        h2 { (ctx.t("讨论区", "Chat")) }
                        ul #chat.chat aria-live="polite" {}
                        form #chat-form {
                            label for="chat-text" { (ctx.t("发言内容", "Message")) }
                            div.row {
                                input #chat-text type="text" maxlength="500" autocomplete="off";
                                button.primary type="submit" { (ctx.t("发送", "Send")) }
                            }
                        }
                    }
                }
            }
            script src=(urls::ROOM_SCRIPT) {}
        },
    )
}
