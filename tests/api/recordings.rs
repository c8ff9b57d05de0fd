//! Recording a live lecture, replaying it, and the make-up quiz it makes possible: the files the room's
//! tap writes (probed with `mediafile`), watch-time credit from the player's reports, the make-up window
//! and its certificate, the live audio stream, and how the files are served.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use mediafile::webm::{BlockInfo, Probe};
use quorum::db::{certificates as cert_db, quiz as quiz_db, recordings as recordings_db};
use quorum::domain::attendance::Interval;
use quorum::domain::person::Role;
use quorum::domain::quiz::{BlueprintRule, QuizSettings};
use quorum::domain::recording::RecordingRecord;
use quorum::domain::session::Schedule;
use quorum::services::access::StreetScope;
use quorum::services::sessions::{Invitees, SessionInput};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use testkit::room_client::{Publisher, Signal};

use crate::helpers::{PASSWORD, Page, TestApp, id_in, location, make_person, make_street, spawn_app_with};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const OFFICIAL: &str = "13800000003";
const LAWYER: &str = "13800000007";
/// Of a committee in another street: not invited.
const OUTSIDER: &str = "13900000200";

fn chair_phone(i: usize) -> String {
    format!("1390000010{i}")
}

/// A bank of four single-choice questions (answer B) on one topic, and its statute.
fn bank_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-recbank-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("statutes")).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        repo.join("tests/fixtures/banks-broken/statutes/test-law.toml"),
        dir.join("statutes/test-law.toml"),
    )
    .unwrap();
    let mut text = String::from(
        "[bank]\nid = \"r\"\ntitle = \"录像题库\"\ntopic = \"录像主题\"\nauthors = [\"甲\"]\nreviewer = \"乙\"\nreview_date = 2026-11-20\n",
    );
    for i in 1..=4 {
        text.push_str(&format!(
            "\n[[question]]\nid = \"r-{i}\"\nkind = \"single\"\nstem = \"单选{i}\"\noptions = [\"甲\", \"乙\", \"丙\"]\nanswer = \"B\"\nexplanation = \"因为乙。\"\ncitations = [{{ statute = \"test-law\", article = 1 }}]\ndifficulty = 1\nrule = \"r-rule-{i}\"\n"
        ));
    }
    std::fs::write(dir.join("r.toml"), text).unwrap();
    dir
}

/// The people of a lecture: an official who moderates, a lawyer who lectures, three invited chairs and
/// one chair of another street. Everyone has a password; the room clients use session cookies.
struct Cast {
    app: TestApp,
    session: i64,
    official: String,
    lawyer: String,
    chairs: Vec<i64>,
}

async fn cast() -> Cast {
    let banks = bank_dir();
    let app = spawn_app_with(|s| s.paths.banks_dir = banks).await;
    let place = make_street(&app, "花木街道").await;
    let other = make_street(&app, "洋泾街道").await;
    let official = make_person(&app, OFFICIAL, &[Role::Official], &[place.street], None).await;
    let lawyer = make_person(&app, LAWYER, &[Role::Lawyer], &[], None).await;
    let mut chairs = Vec::new();
    for i in 0..3 {
        chairs.push(make_person(&app, &chair_phone(i), &[Role::Chair], &[], Some(place.committee)).await);
    }
    make_person(&app, OUTSIDER, &[Role::Chair], &[], Some(other.committee)).await;
    let now = Utc::now() + chrono::Duration::hours(8);
    let fmt = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let input = SessionInput {
        schedule: Schedule::parse("换届改选实务", "", &fmt(now), &fmt(now + chrono::Duration::hours(1))).unwrap(),
        street: place.street,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    let session = quorum::services::sessions::create(
        &app.db,
        &StreetScope::All,
        &quorum::services::audit::Actor {
            person_id: Some(official),
            address: String::new(),
        },
        &input,
    )
    .await
    .unwrap();
    Cast {
        official: app.session_cookie(official).await,
        lawyer: app.session_cookie(lawyer).await,
        app,
        session,
        chairs,
    }
}

impl Cast {
    /// A browser signed in with this phone number.
    async fn browser(&self, phone: &str) -> TestApp {
        let b = self.app.other_browser();
        assert_eq!(
            b.sign_in(phone, PASSWORD).await.status().as_u16(),
            303,
            "{phone} signs in"
        );
        b
    }

    async fn recording(&self) -> RecordingRecord {
        recordings_db::for_session(&self.app.db, self.session)
            .await
            .unwrap()
            .expect("the lecture has a recording")
    }

    fn files(&self, token: &str) -> (PathBuf, PathBuf) {
        let dir = self.app.var_dir().join("recordings");
        (
            dir.join(format!("{token}.webm")),
            dir.join(format!("{token}.audio.webm")),
        )
    }
}

/// The next `recording` message in this state (earlier ones, e.g. the join's, are skipped).
async fn recording_state(s: &mut Signal, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let m = s
            .expect("recording", left)
            .await
            .unwrap_or_else(|e| panic!("waiting for recording state {state}: {e}"));
        if m["state"] == state {
            return;
        }
    }
}

/// A live lecture: the moderator's socket, and the lecturer's camera publishing synthetic VP8 + Opus.
struct Live {
    moderator: Signal,
    _lecturer: Signal,
    publisher: Publisher,
    /// When the room said it was recording.
    recording_since: Instant,
}

/// The moderator starts the lecture in the room (recording starts with it); the lecturer publishes.
async fn go_live(c: &Cast) -> Live {
    go_live_publishing(c, false).await
}

/// `go_live`, the lecturer's camera in three simulcast layers (offered, as the room page does) or one.
async fn go_live_publishing(c: &Cast, simulcast: bool) -> Live {
    let mut moderator = c.app.join_room(c.session, &c.official).await;
    moderator.send(json!({"type": "start"}));
    let status = moderator.expect("status", Duration::from_secs(5)).await.unwrap();
    assert_eq!(status["status"], "live");
    recording_state(&mut moderator, "recording").await;
    let recording_since = Instant::now();
    let mut lecturer = c.app.join_room(c.session, &c.lawyer).await;
    let publisher = if simulcast {
        let publisher = Publisher::publish_simulcast(&mut lecturer, LOOPBACK).await.unwrap();
        publisher.start(1500);
        publisher
    } else {
        lecturer.send(json!({"type": "publish", "source": "camera"}));
        let offer = lecturer.offer("camera").await.unwrap();
        let (publisher, answer) = Publisher::answer(offer, LOOPBACK).await.unwrap();
        lecturer.send(json!({"type": "answer", "leg": "camera", "sdp": answer}));
        publisher.start(300);
        publisher
    };
    Live {
        moderator,
        _lecturer: lecturer,
        publisher,
        recording_since,
    }
}

impl Live {
    /// The moderator ends the lecture; returns once the room says the recording is off (finalised).
    async fn end(mut self) -> Instant {
        let ended = Instant::now();
        self.moderator.send(json!({"type": "end"}));
        recording_state(&mut self.moderator, "off").await;
        self.publisher.close().await;
        ended
    }
}

/// A recorded lecture of about `secs` seconds, ended.
async fn recorded_lecture(c: &Cast, secs: u64) {
    let live = go_live(c).await;
    tokio::time::sleep(Duration::from_secs(secs)).await;
    live.end().await;
    let r = c.recording().await;
    assert!(r.playable(), "finalised at the end: {:?}", r.state);
}

fn codecs(p: &Probe) -> Vec<&str> {
    p.tracks.iter().map(|t| t.codec_id.as_str()).collect()
}

fn track_of(p: &Probe, codec: &str) -> u64 {
    p.tracks
        .iter()
        .find(|t| t.codec_id == codec)
        .unwrap_or_else(|| panic!("no {codec} track"))
        .number
}

fn blocks_of(p: &Probe, track: u64) -> Vec<BlockInfo> {
    p.blocks.iter().filter(|b| b.track == track).copied().collect()
}

/// The largest step between consecutive blocks, and where it starts.
fn largest_gap(blocks: &[BlockInfo]) -> (i64, i64) {
    blocks
        .windows(2)
        .map(|w| (w[1].ts_ms - w[0].ts_ms, w[0].ts_ms))
        .max()
        .unwrap_or((0, 0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synthetic_lecture_is_recorded_without_its_paused_stretch() {
    let c = cast().await;
    let mut live = go_live(&c).await;
    let t0 = live.recording_since;
    tokio::time::sleep_until((t0 + Duration::from_secs(4)).into()).await;

    // The moderator pauses (录制暂停): every page is told.
    let paused_at = Instant::now();
    live.moderator.send(json!({"type": "record", "on": false}));
    recording_state(&mut live.moderator, "paused").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resumed_at = Instant::now();
    live.moderator.send(json!({"type": "record", "on": true}));
    recording_state(&mut live.moderator, "recording").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ended_at = live.end().await;
    let recorded_ms = ((paused_at - t0) + (ended_at - resumed_at)).as_millis() as f64;

    let r = c.recording().await;
    assert_eq!(r.state.code(), "finished");
    assert_eq!(r.segments.len(), 2, "two runs of recording: {:?}", r.segments);
    let pause = r.segments[1].wall_from - r.segments[0].wall_to.unwrap();
    assert!(
        (2_500..4_000).contains(&pause.num_milliseconds()),
        "the pause lasted about 3 s: {pause}"
    );
    let (video_path, audio_path) = c.files(&r.token);
    let video_bytes = std::fs::read(&video_path).unwrap();
    let audio_bytes = std::fs::read(&audio_path).unwrap();
    assert_eq!(
        (video_bytes.len() as i64, audio_bytes.len() as i64),
        (r.video_bytes, r.audio_bytes),
        "the stored sizes are the files'"
    );
    let video = mediafile::webm::probe(&video_bytes).unwrap();
    let audio = mediafile::webm::probe(&audio_bytes).unwrap();

    let mut v = codecs(&video);
    v.sort_unstable();
    assert_eq!(v, ["A_OPUS", "V_VP8"], "video with voice");
    assert_eq!(codecs(&audio), ["A_OPUS"], "voice only");
    assert!(video.has_cues && audio.has_cues, "both finalised (seekable)");
    for (name, p) in [("video", &video), ("audio", &audio)] {
        let d = p.duration_ms.unwrap_or_else(|| panic!("{name} file has no duration"));
        // The second run starts half a second after the first one's last block (never sharing a
        // timestamp): hence the wider margin above. With the pause in the file it would be 3 s over.
        assert!(
            (-1_000.0..1_500.0).contains(&(d - recorded_ms)),
            "{name} file lasts {d} ms, recorded {recorded_ms} ms (the 3 s pause left out)"
        );
        let voice = blocks_of(p, track_of(p, "A_OPUS"));
        assert!(voice.len() > 200, "{name}: {} audio blocks", voice.len());
        let (gap, at) = largest_gap(&voice);
        assert!(
            gap < 1_000,
            "{name}: a {gap} ms hole in the voice at {at} ms: the paused stretch is in the file"
        );
    }
    assert!(
        (-1_000.0..1_500.0).contains(&(r.duration_ms as f64 - recorded_ms)),
        "stored duration {} ms",
        r.duration_ms
    );

    // Video starts on a keyframe, and so does the second run after the pause (players can decode both).
    let frames = blocks_of(&video, track_of(&video, "V_VP8"));
    assert!(frames.len() > 100, "{} video frames", frames.len());
    assert!(frames[0].keyframe, "the first frame is a keyframe: {:?}", frames[0]);
    let second_run = r.segments[1].media_from_ms;
    let first_after = frames
        .iter()
        .find(|f| f.ts_ms >= second_run)
        .expect("video after the pause");
    assert!(
        first_after.keyframe,
        "after the pause, a keyframe first: {first_after:?}"
    );
    assert!(
        frames
            .iter()
            .all(|f| f.ts_ms < second_run - 400 || f.ts_ms >= second_run),
        "nothing recorded in the pause"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lecturer_who_stops_her_top_layer_stays_in_the_recording() {
    let c = cast().await;
    let live = go_live_publishing(&c, true).await;
    // Her uplink narrows and her browser stops the top layer for a while, then sends it again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    live.publisher.pause_layer(2, true);
    tokio::time::sleep(Duration::from_secs(4)).await;
    live.publisher.pause_layer(2, false);
    tokio::time::sleep(Duration::from_secs(4)).await;
    live.end().await;

    let r = c.recording().await;
    let (video_path, _) = c.files(&r.token);
    let video = mediafile::webm::probe(&std::fs::read(&video_path).unwrap()).unwrap();
    let frames = blocks_of(&video, track_of(&video, "V_VP8"));
    assert!(frames[0].keyframe);
    // The picture stops no longer than it takes to see that the top layer stopped (1.5 s without
    // its packets: a shorter stall keeps the layer) and to get the middle one's keyframe; the middle
    // layer fills the rest of the stretch.
    let (gap, at) = largest_gap(&frames);
    assert!(gap < 2_200, "a {gap} ms hole in the picture at {at} ms");
    // Top-layer frames (five packets of the synthetic 1.5 Mbit/s stream) before and after, middle
    // ones (one packet) between; each change of layer starts at a keyframe. (The first moments may
    // be on a lower layer: the tap takes the best one sending when it looks, a quarter second apart.)
    let top = |f: &BlockInfo| f.size > 3 * 1100;
    let first_top = frames.iter().position(top).expect("top-layer frames");
    assert!(
        frames[first_top].ts_ms - frames[0].ts_ms < 1_000,
        "the top layer within a second"
    );
    let frames = &frames[first_top..];
    let runs: Vec<(bool, &BlockInfo)> = frames
        .iter()
        .enumerate()
        .filter(|(i, f)| *i == 0 || top(f) != top(&frames[i - 1]))
        .map(|(_, f)| (top(f), f))
        .collect();
    assert_eq!(
        runs.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        [true, false, true],
        "top layer, middle layer, top layer again: {runs:?}"
    );
    assert!(runs.iter().all(|(_, f)| f.keyframe), "changes at keyframes: {runs:?}");
    let middle = frames.iter().filter(|f| !top(f)).count();
    assert!(middle > 60, "{middle} middle-layer frames in about 4 s");
}

/// The union of intervals, and their plain sum, in ms.
fn union_and_sum(mut list: Vec<Interval>) -> (i64, i64) {
    let sum = list.iter().map(|i| (i.to - i.from).num_milliseconds()).sum();
    list.sort_by_key(|i| i.from);
    let mut union = 0;
    let mut current: Option<Interval> = None;
    for i in list {
        match current.as_mut() {
            Some(c) if i.from <= c.to => c.to = c.to.max(i.to),
            _ => {
                if let Some(c) = current.take() {
                    union += (c.to - c.from).num_milliseconds();
                }
                current = Some(i);
            }
        }
    }
    if let Some(c) = current {
        union += (c.to - c.from).num_milliseconds();
    }
    (union, sum)
}

/// What the replay has credited a person: (union, sum) of her replay intervals in ms.
async fn credited(c: &Cast, person: i64) -> (i64, i64) {
    let mine = recordings_db::replay_intervals(&c.app.db, c.session)
        .await
        .unwrap()
        .into_iter()
        .filter(|(p, _)| *p == person)
        .map(|(_, i)| i)
        .collect();
    union_and_sum(mine)
}

/// A replay page's progress report, as `replay.js` sends it.
struct Player<'a> {
    browser: &'a TestApp,
    csrf: String,
    token: String,
}

impl<'a> Player<'a> {
    async fn new(browser: &'a TestApp, token: &str) -> Player<'a> {
        Player {
            csrf: browser.csrf().await,
            browser,
            token: token.to_string(),
        }
    }

    async fn report(&self, device: &str, position_ms: i64, jumped: bool) -> Value {
        let position = position_ms.to_string();
        let r = self
            .browser
            .client
            .post(self.browser.url(&format!("/replay/{}/progress", self.token)))
            .form(&[
                ("csrf", self.csrf.as_str()),
                ("device", device),
                ("position_ms", position.as_str()),
                ("jumped", if jumped { "true" } else { "false" }),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "report at {position_ms} ms");
        r.json().await.unwrap()
    }
}

fn sleep_ms(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_credits_what_was_played_once_at_up_to_one_and_a_half_speed_shared_by_devices() {
    let c = cast().await;
    recorded_lecture(&c, 12).await;
    let r = c.recording().await;
    assert!(r.duration_ms > 10_000, "a 12 s lecture: {} ms", r.duration_ms);
    let chair = c.chairs[0];
    let browser = c.browser(&chair_phone(0)).await;
    let player = Player::new(&browser, &r.token).await;

    // (a) Playing 0 → 2 s credits those 2 s.
    player.report("phone", 0, true).await;
    assert_eq!(credited(&c, chair).await, (0, 0), "starting credits nothing");
    sleep_ms(2_000).await;
    player.report("phone", 2_000, false).await;
    let (union, _) = credited(&c, chair).await;
    assert_eq!(union, 2_000, "2 s played, 2 s credited");

    // (b) Seeking back and playing the same part again adds nothing.
    player.report("phone", 0, true).await;
    sleep_ms(2_000).await;
    player.report("phone", 2_000, false).await;
    assert_eq!(credited(&c, chair).await.0, 2_000, "watched twice, counted once");

    // (c) A jump ahead (7 s of media in 1 s) credits nothing.
    let (_, sum_before) = credited(&c, chair).await;
    sleep_ms(1_000).await;
    player.report("phone", 9_000, false).await;
    assert_eq!(credited(&c, chair).await, (2_000, sum_before), "a skip is not watching");

    // (d) 1.5×: 3 s of media in 2 s is lecture time watched; 3× is skipping.
    player.report("phone", 3_000, true).await;
    sleep_ms(2_000).await;
    player.report("phone", 6_000, false).await;
    let (union, sum_before) = credited(&c, chair).await;
    assert_eq!(union, 5_000, "3 s more at 1.5×");
    sleep_ms(2_000).await;
    player.report("phone", 12_000, false).await;
    assert_eq!(
        credited(&c, chair).await,
        (5_000, sum_before),
        "6 s of media in 2 s is not credited"
    );

    // (e) Two devices at once, each at 1.5× over different parts, share one allowance: together no more
    // than one device at 1.5× (plus the jitter slack), not twice that.
    let (_, before) = credited(&c, chair).await;
    let started = Instant::now();
    player.report("tablet", 0, true).await;
    player.report("laptop", 6_000, true).await;
    sleep_ms(3_000).await;
    player.report("tablet", 4_500, false).await;
    player.report("laptop", 10_500, false).await;
    let wall = started.elapsed().as_millis() as i64;
    let (_, after) = credited(&c, chair).await;
    let earned = after - before;
    assert!(earned >= 4_000, "one device's play still counts: {earned} ms");
    assert!(
        earned <= wall * 3 / 2 + 2_000,
        "{earned} ms credited in {wall} ms of two devices playing (each alone would earn 4.5 s)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frequent_small_reports_cannot_outrun_one_and_a_half_times_the_clock() {
    let c = cast().await;
    recorded_lecture(&c, 8).await;
    let r = c.recording().await;
    let chair = c.chairs[0];
    let browser = c.browser(&chair_phone(0)).await;
    let player = Player::new(&browser, &r.token).await;
    // A script, not the page: it reports a second of media every 100 ms (10×), each step within the
    // per-report skip tolerance.
    let started = Instant::now();
    player.report("script", 0, true).await;
    let mut position = 0;
    while position < 7_000 {
        sleep_ms(100).await;
        position += 1_000;
        player.report("script", position, false).await;
    }
    let wall = started.elapsed().as_millis() as i64;
    let (union, _) = credited(&c, chair).await;
    assert!(
        union <= wall * 3 / 2 + 2_000,
        "{union} ms of the lecture credited in {wall} ms"
    );
}

/// Her quiz link: (status, what the page says).
async fn quiz_entry(browser: &TestApp, quiz: i64) -> (u16, Page) {
    let r = browser.get(&format!("/quiz/{quiz}")).await;
    let status = r.status().as_u16();
    (status, Page::parse(r.text().await.unwrap()))
}

fn shanghai_day(days_from_now: i64) -> String {
    (Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(days_from_now))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chair_absent_live_watches_the_replay_and_passes_the_makeup_quiz() {
    let c = cast().await;
    let settings = QuizSettings {
        blueprint: vec![BlueprintRule {
            topic: "录像主题".into(),
            count: 3,
        }],
        attendance_gate: 50,
        ..Default::default()
    };
    quorum::services::quiz::save_settings(&c.app.db, c.session, &settings)
        .await
        .unwrap();
    let quiz = quiz_db::for_session(&c.app.db, c.session).await.unwrap().unwrap().id;
    let chair = c.chairs[0];
    let p = quorum::db::people::get(&c.app.db, chair).await.unwrap().unwrap();
    let email = quorum::domain::contact::EmailAddress::parse("wang@example.com").unwrap();
    quorum::db::people::update(
        &c.app.db,
        chair,
        quorum::db::people::PersonUpdate {
            name: &quorum::domain::person::DisplayName::parse("王秀英").unwrap(),
            email: Some(&email),
            committee_id: p.committee_id,
            position: None,
        },
    )
    .await
    .unwrap();

    // The lecture happens without her.
    recorded_lecture(&c, 8).await;
    let r = c.recording().await;
    let official = c.browser(OFFICIAL).await;
    let browser = c.browser(&chair_phone(0)).await;

    // Neither she nor an official may set a date too far out; she may not set one at all.
    let makeup = format!("/sessions/{}/makeup", c.session);
    let far = official
        .post_form(&makeup, &[("makeup_until", &shanghai_day(91))])
        .await;
    assert_eq!(far.status().as_u16(), 422);
    let text = Page::parse(far.text().await.unwrap()).body_text();
    assert!(text.contains("不超过培训结束后 90 天"), "{text}");
    let mine = browser.post_form(&makeup, &[("makeup_until", &shanghai_day(1))]).await;
    assert_eq!(mine.status().as_u16(), 403, "a chair does not open make-up windows");
    let s = quorum::db::sessions::get(&c.app.db, c.session).await.unwrap().unwrap();
    assert!(s.makeup_until.is_none(), "neither was saved");

    // The official opens the make-up window until tomorrow (Shanghai).
    let open = official.post_form(&makeup, &[("makeup_until", &shanghai_day(1))]).await;
    assert_eq!(open.status().as_u16(), 303);
    let s = quorum::db::sessions::get(&c.app.db, c.session).await.unwrap().unwrap();
    let until = s.makeup_until.expect("the window is stored");
    assert_eq!(
        (until + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        format!("{} 23:59", shanghai_day(1)),
        "the end of that day in Shanghai"
    );

    // Before watching: below the gate, told that live and replay count together.
    let (status, page) = quiz_entry(&browser, quiz).await;
    assert_eq!(status, 403, "{page}");
    let why = page.text_of(".notice.error");
    assert!(
        why.contains("需要听课时间达到 50%") && why.contains("直播和观看录像合计"),
        "{why}"
    );
    let replay = browser.page(&format!("/sessions/{}/replay", c.session)).await;
    assert_eq!(replay.text_of("#percent"), "0", "{replay}");

    // She watches at 1.5× until the page says she has enough.
    let player = Player::new(&browser, &r.token).await;
    let first = player.report("phone", 0, true).await;
    assert_eq!(first["meets_gate"], false, "{first}");
    let mut position = 0;
    let watched = loop {
        sleep_ms(1_000).await;
        position += 1_500;
        let w = player.report("phone", position, false).await;
        if w["meets_gate"] == true {
            break w;
        }
        assert!(position < r.duration_ms, "the whole replay did not reach the gate: {w}");
    };
    assert!(watched["percent"].as_f64().unwrap() >= 50.0, "{watched}");
    assert_eq!(
        (watched["gate"].as_u64(), watched["live_minutes"].as_i64()),
        (Some(50), Some(0))
    );
    assert!(
        position <= 6_000,
        "an 8 s lecture's half needs about 4 s of it, not {position} ms"
    );

    // Now the quiz lets her in: a make-up attempt.
    let (status, page) = quiz_entry(&browser, quiz).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.exists("form[action$='/start']"), "{page}");
    let started = browser.start_quiz(quiz).await;
    assert_eq!(started.status().as_u16(), 303);
    let attempt = id_in(&location(&started));
    assert!(quiz_db::attempt(&c.app.db, attempt).await.unwrap().unwrap().makeup);
    for pos in 0..3 {
        let (_, right, _) = crate::quiz::right_choices(&c.app, attempt, pos).await;
        let saved = browser.answer(attempt, json!({"position": pos, "choice": right})).await;
        assert_eq!(saved.status().as_u16(), 200);
    }
    assert_eq!(browser.submit(attempt).await.status().as_u16(), 303);
    let a = quiz_db::attempt(&c.app.db, attempt).await.unwrap().unwrap();
    assert_eq!((a.correct, a.passed), (Some(3), Some(true)));

    // Her certificate says how it was earned, and its email goes out (the app's worker, file mailer).
    let certs = cert_db::for_person(&c.app.db, chair).await.unwrap();
    assert_eq!(certs.len(), 1);
    assert!(certs[0].content.via_replay, "{:?}", certs[0].content);
    let page = browser.page(&format!("/certificates/{}", certs[0].id)).await;
    assert!(page.body_text().contains("观看录像并通过回看补测"), "{page}");
    let verify = c.app.other_browser().page(&format!("/verify/{}", certs[0].code)).await;
    assert_eq!(verify.definition("取得方式"), "回看补测", "{verify}");
    let mail = c.app.var_dir().join("mail");
    let deadline = Instant::now() + Duration::from_secs(15);
    let message = loop {
        let found = std::fs::read_dir(&mail)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "eml"));
        if let Some(e) = found {
            break std::fs::read_to_string(e.path()).unwrap();
        }
        assert!(Instant::now() < deadline, "no certificate email in {}", mail.display());
        sleep_ms(200).await;
    };
    assert!(message.contains("wang@example.com"), "{message}");
    assert!(message.contains("application/pdf"), "the certificate is attached");

    // After the window: another chair is told its dates.
    let past = (Utc::now() - chrono::Duration::seconds(1)).to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    c.app
        .db
        .execute_unprepared(&format!(
            "UPDATE training_sessions SET makeup_until = '{past}' WHERE id = {}",
            c.session
        ))
        .await
        .unwrap();
    let late = c.browser(&chair_phone(1)).await;
    let (status, page) = quiz_entry(&late, quiz).await;
    assert_eq!(status, 403, "{page}");
    let why = page.text_of(".notice.error");
    let ended = s.ended_at.unwrap() + chrono::Duration::hours(8);
    assert!(
        why.contains("回看补测时间为") && why.contains(&ended.format("%Y-%m-%d %H:%M").to_string()),
        "{why}"
    );
    assert_eq!(late.start_quiz(quiz).await.status().as_u16(), 403, "nor may she start");
    assert!(
        quiz_db::attempts_of(&c.app.db, quiz, c.chairs[1])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Her attendance intervals in the session: (all, still open).
async fn intervals_of(c: &Cast, person: i64) -> (i64, i64) {
    let sql = format!(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN left_at IS NULL THEN 1 ELSE 0 END), 0) AS open \
         FROM attendance_intervals WHERE session_id = {} AND person_id = {person}",
        c.session
    );
    let row = c
        .app
        .db
        .query_one_raw(sea_orm::Statement::from_string(c.app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get::<i64>("", "n").unwrap(),
        row.try_get::<i64>("", "open").unwrap(),
    )
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_audio_stream_is_ogg_opus_and_counts_attendance() {
    let c = cast().await;
    let chair = c.chairs[0];
    let browser = c.browser(&chair_phone(0)).await;
    let stream = format!("/sessions/{}/live.ogg", c.session);
    let before = browser.get(&stream).await.status().as_u16();
    assert!((400..500).contains(&before), "not live yet: {before}");
    assert_eq!(intervals_of(&c, chair).await, (0, 0));

    let live = go_live(&c).await;
    let page = browser.page(&format!("/sessions/{}/listen", c.session)).await;
    assert_eq!(page.attr_of("audio#live-audio", "src"), stream, "{page}");
    let mut r = browser.get(&stream).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "audio/ogg");
    let mut body = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) || count(&body, b"OggS") < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the stream stalled: {} bytes",
            body.len()
        );
        let chunk = tokio::time::timeout(Duration::from_secs(5), r.chunk())
            .await
            .expect("audio keeps coming")
            .unwrap()
            .expect("the stream does not end while live");
        body.extend_from_slice(&chunk);
    }
    assert!(body.starts_with(b"OggS"), "an Ogg stream");
    assert!(
        count(&body, b"OpusHead") == 1 && count(&body, b"OpusTags") == 1,
        "Opus headers once"
    );
    let head_pages = count(&body, b"OggS");
    assert!(head_pages >= 40, "about 50 packets a second: {head_pages} pages in 2 s");
    assert_eq!(intervals_of(&c, chair).await, (1, 1), "listening counts as present");

    // More pages keep arriving.
    let mut more = 0;
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        let chunk = r.chunk().await.unwrap().unwrap();
        more += count(&chunk, b"OggS");
    }
    assert!(more >= 20, "{more} pages in the next second");

    // She stops listening: her interval closes.
    drop(r);
    let deadline = Instant::now() + Duration::from_secs(5);
    while intervals_of(&c, chair).await != (1, 0) {
        assert!(Instant::now() < deadline, "the interval stays open after she left");
        sleep_ms(100).await;
    }
    live.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recording_is_served_in_ranges_to_invited_people_only() {
    let c = cast().await;
    recorded_lecture(&c, 3).await;
    let r = c.recording().await;
    let browser = c.browser(&chair_phone(0)).await;

    // The player, its file named by the recording's token; no download button.
    let page = browser.page(&format!("/sessions/{}/replay", c.session)).await;
    let src = page.attr_of("video#replay", "src");
    assert_eq!(src, format!("/replay/{}/video.webm", r.token), "{page}");
    assert!(
        page.attr_of("video#replay", "controlslist").contains("nodownload"),
        "{page}"
    );
    let voice = browser
        .get_text(&format!("/sessions/{}/replay?audio=true", c.session))
        .await;
    let voice_page = Page::parse(voice.clone());
    assert_eq!(
        voice_page.attr_of("audio#replay", "src"),
        format!("/replay/{}/audio.webm", r.token)
    );
    assert!(!voice_page.exists("video"), "voice only");
    assert!(!voice.contains("video.webm"), "no video URL on the voice-only page");

    // Ranges as players ask for them.
    let (video_path, audio_path) = c.files(&r.token);
    let file = std::fs::read(&video_path).unwrap();
    let size = file.len();
    let get = |range: String| browser.client.get(browser.url(&src)).header("Range", range).send();
    let first = get("bytes=0-99".into()).await.unwrap();
    assert_eq!(first.status().as_u16(), 206);
    assert_eq!(first.headers()["content-range"], format!("bytes 0-99/{size}").as_str());
    assert_eq!(first.headers()["content-type"], "video/webm");
    assert_eq!(first.bytes().await.unwrap().as_ref(), &file[..100]);
    let middle = get(format!("bytes={}-", size - 50)).await.unwrap();
    assert_eq!(middle.status().as_u16(), 206);
    assert_eq!(middle.bytes().await.unwrap().as_ref(), &file[size - 50..]);
    let beyond = get(format!("bytes={size}-")).await.unwrap();
    assert_eq!(beyond.status().as_u16(), 416);
    assert_eq!(beyond.headers()["content-range"], format!("bytes */{size}").as_str());
    let whole = browser.get(&src).await;
    assert_eq!(whole.status().as_u16(), 200);
    assert_eq!(whole.bytes().await.unwrap().len(), size);
    let voice_file = browser.get(&format!("/replay/{}/audio.webm", r.token)).await;
    assert_eq!(voice_file.headers()["content-type"], "audio/webm");
    assert_eq!(
        voice_file.bytes().await.unwrap().as_ref(),
        std::fs::read(&audio_path).unwrap().as_slice()
    );

    // A chair of another street gets neither the page nor the files, nor credit.
    let outsider = c.browser(OUTSIDER).await;
    for path in [
        format!("/sessions/{}/replay", c.session),
        src.clone(),
        format!("/replay/{}/audio.webm", r.token),
    ] {
        let status = outsider.get(&path).await.status().as_u16();
        assert!(status == 403 || status == 404, "{path}: {status}");
    }
    let report = outsider
        .post_form(
            &format!("/replay/{}/progress", r.token),
            &[("device", "x"), ("position_ms", "0"), ("jumped", "true")],
        )
        .await
        .status()
        .as_u16();
    assert!(report == 403 || report == 404, "{report}");
    // Signed out: nothing either.
    let anonymous = c.app.other_browser().get(&src).await.status().as_u16();
    assert_ne!(anonymous, 200);
    assert_ne!(anonymous, 206);
}
