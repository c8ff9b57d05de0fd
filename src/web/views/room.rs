//! The room page. It works in three states: the lobby (before the moderator starts), the live room,
//! and ended. The live room needs JavaScript (`static/js/room.js`); the lobby refreshes itself without it.

use maud::{Markup, html};

use super::When;
use super::forms::{csrf, read_aloud};
use super::layout::page;
use crate::domain::session::{RoomRole, SessionRecord, SessionStatus};
use crate::services::sessions::RoomPage;
use crate::web::context::Ctx;
use crate::web::urls;

/// Labels the script shows: (key, Chinese, English), in the page's language (kept here so all text
/// stays in one language file).
const LABELS: &[(&str, &str, &str)] = &[
    ("connecting", "连接中…", "Connecting…"),
    ("connected", "已连接", "Connected"),
    (
        "reconnecting",
        "网络中断，正在重新连接…",
        "Connection lost, reconnecting…",
    ),
    (
        "media_down",
        "画面中断，重新连接中…",
        "Media interrupted, reconnecting…",
    ),
    (
        "restarting",
        "服务器正在重启，马上自动重新连接…",
        "The server is restarting; reconnecting in a moment…",
    ),
    (
        "offline",
        "手机没有网络，恢复后自动重新连接…",
        "This phone is offline; reconnecting when the network is back…",
    ),
    (
        "removed",
        "您已被主持人移出直播间。",
        "The moderator removed you from the room.",
    ),
    ("ended", "本场培训已结束。", "This session has ended."),
    (
        "speak_allowed",
        "主持人请您发言，请打开麦克风。",
        "The moderator invites you to speak: turn on your microphone.",
    ),
    ("speak_revoked", "发言已结束。", "Your turn to speak has ended."),
    ("muted", "您已被主持人静音。", "The moderator muted you."),
    ("unmuted", "主持人已取消静音。", "The moderator unmuted you."),
    ("allow", "允许发言", "Let speak"),
    ("revoke", "结束发言", "End turn"),
    ("mute", "静音", "Mute"),
    ("unmute", "取消静音", "Unmute"),
    ("remove", "移出", "Remove"),
    ("delete", "删除", "Delete"),
    ("hand", "举手", "Hand raised"),
    ("raise", "举手", "Raise hand"),
    ("hand_up", "已举手 · 放下手", "Hand raised · lower it"),
    (
        "hand_up_notice",
        "已举手，请等待主持人请您发言。",
        "Hand raised: wait for the moderator to invite you.",
    ),
    ("speak", "打开麦克风发言", "Turn on microphone"),
    ("speak_end", "结束发言", "Finish speaking"),
    (
        "speaking_now",
        "您正在发言，大家都能听到您。",
        "You are speaking: everyone can hear you.",
    ),
    (
        "audio_only",
        "已切换为只听声音，画面已关闭以节省流量。取消勾选“仅听声音”即可恢复画面。",
        "Audio only: the picture is off to save data. Untick “Audio only” to see it again.",
    ),
    (
        "confirm_end",
        "确定结束本场培训吗？所有人将离开直播间。",
        "End this session? Everyone leaves the room.",
    ),
    ("back_to_live", "返回直播", "Back to the lecture"),
    ("back_to_quiz", "回到答题", "Back to the quiz"),
    (
        "no_webrtc",
        "此浏览器不支持实时音视频（WebRTC），无法观看直播。",
        "This browser cannot play live video (no WebRTC).",
    ),
    (
        "no_vp8",
        "此浏览器无法解码直播画面（VP8），可能只能听到声音。",
        "This browser cannot decode the video (VP8); you may only hear sound.",
    ),
    (
        "no_mic",
        "此浏览器无法使用麦克风，暂时不能发言。",
        "This browser cannot use the microphone, so you cannot speak from it.",
    ),
    (
        "wechat",
        "在微信里打开时，请点右上角「…」→「在浏览器打开」，用手机自带的浏览器参加。",
        "In WeChat, tap «…» at the top right → «Open in browser» and take part in the phone's browser.",
    ),
    ("speaking", "发言中", "Speaking"),
    ("minutes", "分钟", "min"),
    ("in_hours", "{h} 小时 {m} 分", "{h} h {m} min"),
    ("in_minutes", "{m} 分 {s} 秒", "{m} min {s} s"),
    ("online", "在线", "online"),
    ("rec_on", "● 录制中", "● Recording"),
    ("rec_paused", "录制已暂停", "Recording paused"),
    ("rec_pause", "暂停录制", "Pause recording"),
    ("rec_resume", "继续录制", "Resume recording"),
    (
        "voice_recorded",
        "本场培训正在录制，您的发言声音会被录下。",
        "This session is recorded: your voice will be recorded when you speak.",
    ),
    (
        "no_camera",
        "无法打开摄像头或麦克风，请检查浏览器权限。",
        "Cannot open the camera or microphone; check the browser's permissions.",
    ),
    ("tap_sound", "点击这里开启声音", "Tap here to turn the sound on"),
    (
        "auto_audio_only",
        "网络较弱，已自动改为只听声音；网络好转后画面会自动恢复。",
        "Your connection is weak: sound only for now. The picture comes back by itself when it improves.",
    ),
    (
        "video_back",
        "网络已好转，画面已恢复。",
        "Your connection has improved: the picture is back.",
    ),
    ("quiz", "随堂测试开始了！", "The quiz has started!"),
    (
        "chat_wait",
        "发言太快，请 {n} 秒后再发",
        "You are sending too fast; try again in {n} s",
    ),
    (
        "counter",
        "在场 {p} · 已开始 {s} · 已交卷 {d} · 合格 {ok}",
        "Present {p} · started {s} · submitted {d} · passed {ok}",
    ),
];

fn labels(ctx: &Ctx) -> String {
    let map: serde_json::Map<String, serde_json::Value> = LABELS
        .iter()
        .map(|(k, zh, en)| (k.to_string(), serde_json::Value::String(ctx.t(zh, en).to_string())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// `socket`: with several nodes, the socket URL on the node hosting the room; the page then asks
/// `locate` again before each reconnect (the room may have moved).
fn config(p: &RoomPage, socket: Option<&str>) -> String {
    let s = &p.session;
    serde_json::json!({
        "session": s.id,
        "ws": socket.map_or_else(|| urls::room_socket(s.id), str::to_string),
        "locate": socket.map(|_| urls::room_locate(s.id)),
        "role": p.role.code(),
        "you": p.you,
        "status": s.status.code(),
        "startsAt": s.starts_at.to_rfc3339(),
    })
    .to_string()
}

/// `ice_servers` is the JSON list of ICE servers for the browser; `socket` as for `config`.
pub fn room_page(ctx: &Ctx, p: &RoomPage, ice_servers: &str, socket: Option<&str>) -> Markup {
    let s = &p.session;
    let lecturers = p
        .lecturers
        .iter()
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join("、");
    page(
        ctx,
        &s.title,
        html! {
            @if s.status == SessionStatus::Scheduled {
                // Without JavaScript the lobby refreshes itself; with it, the socket switches at once.
                noscript { meta http-equiv="refresh" content="20"; }
            }
            p.meta { (p.street) " · " (When(s.starts_at, ctx.lang)) " · " (ctx.t("主讲：", "Lecturer: ")) (lecturers) }
            div #room data-config=(config(p, socket)) data-ice=(ice_servers) data-labels=(labels(ctx)) data-state=(s.status.code()) {
                (notices(ctx, p))
                (lobby(ctx, p))
                section #ended hidden[s.status != SessionStatus::Ended] {
                    (read_aloud(ctx, "ended-notice", ctx.lang.html_lang()))
                    p #ended-notice.notice { (ctx.t("本场培训已结束。感谢参加！", "This session has ended. Thank you for taking part!")) }
                }
                (live(ctx, p))
            }
            script src=(urls::ROOM_SCRIPT) {}
        },
    )
}

/// The connection's state, what the page needs, and the way to an open quiz for a chair who missed
/// the room's push.
fn notices(ctx: &Ctx, p: &RoomPage) -> Markup {
    html! {
        p #conn.conn role="status" aria-live="polite" { (ctx.t("连接中…", "Connecting…")) }
        noscript { p.notice.error { (ctx.t("直播间需要开启 JavaScript。", "The live room needs JavaScript.")) } }
        @if p.session.status == SessionStatus::Cancelled {
            p.notice.error { (ctx.t("本场培训已取消。", "This session was cancelled.")) }
        }
        @if let (Some(q), RoomRole::Viewer) = (p.open_quiz, p.role) {
            p #quiz-link { a.button.primary href=(urls::quiz(q)) { (ctx.t("随堂测试进行中，点此进入", "The quiz is open: take it now")) } }
        }
    }
}

fn lobby(ctx: &Ctx, p: &RoomPage) -> Markup {
    let s = &p.session;
    html! {
        section #lobby hidden[s.status != SessionStatus::Scheduled] {
            h2 { (ctx.t("候场室", "Lobby")) }
            (read_aloud(ctx, "lobby", ctx.lang.html_lang()))
            p.lead data-say="" { (ctx.t("培训尚未开始，请稍候。主持人开始后，页面会自动进入直播间。", "The session has not started yet. The page enters the room by itself when the moderator starts.")) }
            p.countdown data-say="" { (ctx.t("距开始：", "Starts in: ")) span #countdown { (When(s.starts_at, ctx.lang)) } }
            p data-say="" { (ctx.t("本场培训将全程录制，供未能参加的主任回看。", "This session is recorded so that chairs who miss it can watch the replay.")) }
            @if p.role == RoomRole::Moderator {
                form.stack method="post" action=(format!("{}/start", urls::session(s.id))) {
                    (csrf(ctx))
                    button.primary #start type="submit" { (ctx.t("开始培训", "Start the session")) }
                }
            }
        }
    }
}

fn live(ctx: &Ctx, p: &RoomPage) -> Markup {
    html! {
        section #live hidden[p.session.status != SessionStatus::Live] {
            p #rec-badge.rec-badge hidden role="status" {}
            div #caps.notice.error hidden role="alert" {}
            // Shown by room.js when this browser cannot run the room: the lecture's sound over plain HTTP.
            p #listen-instead hidden { a.button.primary href=(urls::listen(p.session.id)) { (ctx.t("改为收听直播声音", "Listen to the lecture's sound instead")) } }
            (quiz_panel(ctx))
            div.stage {
                p #stage-note.stage-note hidden {}
                video #camera playsinline autoplay muted {}
                video #screen playsinline autoplay muted hidden {}
                audio #audio-lecturer autoplay {}
                audio #audio-speaker autoplay {}
                button #sound.primary type="button" hidden { (ctx.t("点击这里开启声音", "Tap here to turn the sound on")) }
            }
            (controls(ctx, p.role))
            p #notice.notice hidden role="status" {}
            (read_aloud(ctx, "notice", ctx.lang.html_lang()))
            @if p.role == RoomRole::Moderator { (moderator_panel(ctx, p.session.id)) }
            (chat(ctx))
        }
    }
}

/// The quiz inside the room: room.js loads the quiz pages into the frame when the quiz opens, so the
/// lecture keeps playing; on a phone the panel takes the screen and 返回直播 folds it away.
fn quiz_panel(ctx: &Ctx) -> Markup {
    html! {
        section #quiz-panel.quiz-panel hidden aria-labelledby="quiz-panel-title" {
            div.quiz-bar {
                h2 #quiz-panel-title { (ctx.t("随堂测试", "Quiz")) }
                button #quiz-hide type="button" { (ctx.t("返回直播", "Back to the lecture")) }
            }
            iframe #quiz-frame title=(ctx.t("随堂测试", "Quiz")) {}
        }
        button #quiz-show.primary type="button" hidden { (ctx.t("回到答题", "Back to the quiz")) }
    }
}

fn controls(ctx: &Ctx, role: RoomRole) -> Markup {
    html! {
        div.controls {
            @if role != RoomRole::Viewer {
                button #publish-camera type="button" { (ctx.t("打开摄像头和麦克风", "Turn on camera and microphone")) }
                button #publish-screen type="button" { (ctx.t("共享屏幕", "Share screen")) }
                button #unpublish type="button" hidden { (ctx.t("停止发布", "Stop publishing")) }
            }
            @if role == RoomRole::Viewer {
                button #hand type="button" aria-pressed="false" { (ctx.t("举手", "Raise hand")) }
                button #speak type="button" hidden { (ctx.t("打开麦克风发言", "Turn on microphone")) }
            }
            label.check { input #audio-only type="checkbox"; " " (ctx.t("仅听声音（网络不好时）", "Audio only (weak network)")) }
        }
    }
}

fn moderator_panel(ctx: &Ctx, session: i64) -> Markup {
    html! {
        section.card #moderator {
            h2 { (ctx.t("主持人", "Moderator")) }
            h3 { (ctx.t("举手排队", "Raised hands")) }
            ol #hands {}
            h3 { (ctx.t("参加者", "Participants")) }
            ul #people.plain {}
            h3 { (ctx.t("随堂测试", "Quiz")) }
            p #quiz-counter.counter {}
            h3 { (ctx.t("录制", "Recording")) }
            p { button #record-toggle type="button" hidden {} }
            // `back=room`: without JavaScript the moderator comes back to the room; with it, room.js posts
            // the form in the background and she never leaves.
            form.stack.quiz-switch method="post" action=(urls::quiz_open(session)) {
                (csrf(ctx))
                input type="hidden" name="back" value="room";
                button.primary #open-quiz type="submit" { (ctx.t("开始随堂测试", "Open the quiz")) }
            }
            form.stack.quiz-switch method="post" action=(urls::quiz_close(session)) {
                (csrf(ctx))
                input type="hidden" name="back" value="room";
                button #close-quiz type="submit" { (ctx.t("结束随堂测试", "Close the quiz")) }
            }
            p { a href=(urls::quiz_settings(session)) { (ctx.t("测试设置", "Quiz settings")) } }
            h3 { (ctx.t("出勤（分钟）", "Attendance (minutes)")) }
            ul #attendance.plain {}
            form.stack method="post" action=(format!("{}/end", urls::session(session))) {
                (csrf(ctx))
                button.danger #end type="submit" { (ctx.t("结束培训", "End the session")) }
            }
        }
    }
}

/// Asked before 结束培训 when the room page could not ask (no JavaScript).
pub fn confirm_end(ctx: &Ctx, s: &SessionRecord) -> Markup {
    page(
        ctx,
        ctx.t("确认结束培训", "Confirm ending the session"),
        html! {
            p.lead { (s.title) }
            p { (ctx.t("结束后直播间关闭，所有人离开；出勤按结束时刻计算。结束后不能重新开始。",
                       "Ending closes the room for everyone; attendance is counted up to now. It cannot be restarted.")) }
            form.stack method="post" action=(format!("{}/end", urls::session(s.id))) {
                (csrf(ctx))
                input type="hidden" name="confirm" value="yes";
                button.danger type="submit" { (ctx.t("确定结束培训", "End the session")) }
            }
            p { a.button href=(urls::room(s.id)) { (ctx.t("返回直播间", "Back to the room")) } }
        },
    )
}

fn chat(ctx: &Ctx) -> Markup {
    html! {
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
