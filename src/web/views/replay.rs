//! The replay page (video, or voice only), the live-audio page, and the officials' recording controls.

use maud::{Markup, html};

use super::forms::{csrf, notice};
use super::layout::page;
use crate::domain::recording::{Chapter, ChapterKind, RecordingRecord, RecordingState};
use crate::domain::session::{RoomRole, SessionRecord};
use crate::domain::time::to_shanghai;
use crate::i18n::Text;
use crate::services::recordings::{ReplayPage, Watched};
use crate::web::context::Ctx;
use crate::web::urls;

fn clock(ms: i64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn chapter_name(ctx: &Ctx, c: &Chapter) -> &'static str {
    match c.kind {
        ChapterKind::Start => ctx.t("开始", "Start"),
        ChapterKind::ScreenShare => ctx.t("共享屏幕", "Screen share"),
        ChapterKind::QuizOpened => ctx.t("随堂测试开始", "Quiz opened"),
    }
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    to_shanghai(t).format("%Y-%m-%d %H:%M").to_string()
}

/// Her attendance, live and replay apart, and what the make-up needs.
fn watched_panel(ctx: &Ctx, w: &Watched) -> Markup {
    html! {
        section.card #watched {
            h2 { (ctx.t("我的听课时间", "My attendance")) }
            p {
                (ctx.t("直播", "Live")) " " strong #live-minutes { (w.live_minutes) } " " (ctx.t("分钟", "min"))
                " · " (ctx.t("回看", "Replay")) " " strong #replay-minutes { (w.replay_minutes) } " " (ctx.t("分钟", "min"))
                " · " (ctx.t("合计", "Together")) " " strong #percent { (format!("{:.0}", (w.share * 100.0).floor())) } "%"
            }
            p.meta { (ctx.t(
                &format!("参加补测需要达到 {}%。已经看过的部分再看不重复计算，快进跳过的部分不计算，倍速播放按讲课时间计算。", w.gate),
                &format!("The make-up quiz needs {}%. Parts watched again count once, skipped parts do not count, faster playback counts lecture time.", w.gate),
            )) }
        }
    }
}

fn makeup_panel(ctx: &Ctx, p: &ReplayPage) -> Markup {
    let (Some(w), Some(quiz)) = (p.makeup, p.quiz) else {
        return html! {};
    };
    let now = chrono::Utc::now();
    html! {
        section.card {
            h2 { (ctx.t("回看补测", "Make-up quiz")) }
            p { (ctx.t("补测时间：", "Open: ")) (day(w.from)) " — " (day(w.until)) }
            @if w.contains(now) && p.role == RoomRole::Viewer {
                p { a.button.primary href=(urls::quiz(quiz)) { (ctx.t("参加回看补测", "Take the make-up quiz")) } }
            }
        }
    }
}

fn player(ctx: &Ctx, r: &RecordingRecord, audio: bool, t: Option<u32>) -> Markup {
    let fragment = t.map(|s| format!("#t={s}")).unwrap_or_default();
    let here = |audio: bool| format!("{}?audio={audio}", urls::replay(r.session_id));
    html! {
        div #replay-player data-progress=(urls::replay_progress(&r.token)) data-csrf=(ctx.csrf_token) {
            @if audio {
                audio #replay controls controlslist="nodownload" preload="metadata"
                    src=(format!("{}{fragment}", urls::replay_file(&r.token, "audio.webm"))) {}
            } @else {
                video #replay controls controlslist="nodownload noremoteplayback" disablepictureinpicture playsinline preload="metadata"
                    src=(format!("{}{fragment}", urls::replay_file(&r.token, "video.webm"))) {}
            }
        }
        p.replay-controls {
            @if audio {
                a.button href=(here(false)) { (ctx.t("看视频", "Watch the video")) }
            } @else {
                a.button href=(here(true)) { (ctx.t("仅听声音（省流量）", "Listen only (saves data)")) }
            }
            span.speeds {
                (ctx.t("播放速度：", "Speed: "))
                @for rate in ["0.75", "1", "1.25", "1.5"] {
                    button.button type="button" data-rate=(rate) aria-pressed=(if rate == "1" { "true" } else { "false" }) { (rate) "×" }
                }
            }
        }
        @if !r.chapters.is_empty() {
            section.card {
                h2 { (ctx.t("章节", "Chapters")) }
                ol.chapters {
                    @for c in &r.chapters {
                        li { a href=(format!("{}?audio={audio}&t={}", urls::replay(r.session_id), c.media_ms / 1000)) data-seek=(c.media_ms / 1000) {
                            (clock(c.media_ms)) " " (chapter_name(ctx, c))
                        } }
                    }
                }
            }
        }
        noscript { (notice("error", ctx.t("录像可以播放，但观看时间需要开启 JavaScript 才能记录。", "The replay plays, but watch time is recorded only with JavaScript on."))) }
        script src=(urls::REPLAY_SCRIPT) {}
    }
}

fn no_replay(ctx: &Ctx, r: Option<&RecordingRecord>) -> Markup {
    let text = match r.map(|r| r.state) {
        None => ctx.t("本场培训没有录像。", "This session has no recording."),
        Some(RecordingState::Recording | RecordingState::Paused) => ctx.t(
            "直播正在进行，录像将在培训结束后提供。",
            "The lecture is live; the replay is available after it ends.",
        ),
        Some(RecordingState::Deleted) => ctx.t("本场录像已删除。", "This recording has been deleted."),
        Some(RecordingState::Finished) => "",
    };
    notice("info", text)
}

pub fn replay_page(ctx: &Ctx, p: &ReplayPage, audio: bool, t: Option<u32>) -> Markup {
    page(
        ctx,
        &format!("{} · {}", ctx.t("录像回看", "Replay"), p.session.title),
        html! {
            @match p.recording.as_ref().filter(|r| r.playable()) {
                Some(r) => {
                    p.meta { (ctx.t("时长", "Length")) " " (clock(r.duration_ms)) }
                    (player(ctx, r, audio, t))
                }
                None => (no_replay(ctx, p.recording.as_ref())),
            }
            @if let Some(w) = &p.watched { (watched_panel(ctx, w)) }
            (makeup_panel(ctx, p))
            p { a.button href=(urls::HOME) { (ctx.t("返回首页", "Home")) } }
        },
    )
}

/// The live lecture's sound in a plain `<audio>`: for browsers that cannot run the room, and for chairs
/// short of data. Her listening counts as attendance like the room.
pub fn listen_page(ctx: &Ctx, s: &SessionRecord) -> Markup {
    page(
        ctx,
        &format!("{} · {}", ctx.t("收听直播", "Listen live"), s.title),
        html! {
            p { (ctx.t("点击播放即可收听讲课声音。收听期间计入出勤时间。", "Press play to hear the lecture. Listening counts as attendance.")) }
            audio #live-audio controls preload="none" src=(urls::live_audio(s.id)) {}
            p.meta { (ctx.t("声音流为 Ogg/Opus 格式，安卓手机、电脑上的 Chrome、Edge、Firefox 和较新的 iPhone（iOS 17 及以上）都能播放。", "The stream is Ogg/Opus: Chrome, Edge and Firefox on Android and computers, and iPhones on iOS 17 or later play it.")) }
            p { a.button href=(urls::room(s.id)) { (ctx.t("回到直播间", "Back to the room")) } }
        },
    )
}

/// The session page's recording section for its moderators: state, replay link, make-up window,
/// deletion.
pub fn recording_section(
    ctx: &Ctx,
    session: &SessionRecord,
    r: Option<&RecordingRecord>,
    errors: Option<(&str, &Text)>,
) -> Markup {
    let value = errors.map(|(v, _)| v.to_string()).or_else(|| {
        session
            .makeup_until
            .map(|u| to_shanghai(u).format("%Y-%m-%d").to_string())
    });
    html! {
        section.card #recording {
            h2 { (ctx.t("录像与回看补测", "Recording and make-up quiz")) }
            (no_replay(ctx, r))
            @if let Some(r) = r.filter(|r| r.playable()) {
                p { a.button href=(urls::replay(session.id)) { (ctx.t("观看录像", "Watch the replay")) } " " (clock(r.duration_ms)) }
            }
            @if session.ended_at.is_some() {
                form method="post" action=(urls::session_makeup(session.id)) {
                    (csrf(ctx))
                    label for="makeup_until" { (ctx.t("回看补测截止日期（留空表示不开放）", "Make-up quiz open until (empty: closed)")) }
                    input #makeup_until type="date" name="makeup_until" value=[value]
                        aria-invalid=[errors.map(|_| "true")] aria-describedby=[errors.map(|_| "makeup_until-error")];
                    @if let Some((_, e)) = errors { p.error #makeup_until-error role="alert" { (e.get(ctx.lang)) } }
                    button.button type="submit" { (ctx.t("保存", "Save")) }
                }
            }
            @if let Some(r) = r.filter(|r| r.state == RecordingState::Finished) {
                form method="post" action=(urls::recording_delete(session.id)) {
                    (csrf(ctx))
                    input type="hidden" name="recording" value=(r.id);
                    button.button.danger type="submit" { (ctx.t("删除录像", "Delete the recording")) }
                }
            }
        }
    }
}

/// The make-up form refused: what was wrong, and the way back.
pub fn makeup_error(ctx: &Ctx, session: i64, value: &str, e: &crate::domain::input::FieldErrors) -> Markup {
    let message = e
        .get("makeup_until")
        .map(|t| t.get(ctx.lang).to_string())
        .unwrap_or_default();
    page(
        ctx,
        ctx.t("回看补测", "Make-up quiz"),
        html! {
            (notice("error", &format!("{}{} {}", ctx.t("补测截止日期：", "Make-up end: "), value, message)))
            p { a.button href=(urls::session(session)) { (ctx.t("返回培训", "Back to the session")) } }
        },
    )
}
