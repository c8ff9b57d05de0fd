//! The live room, driven over its real WebSocket by synthetic webrtc clients.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use quorum::db::sessions as sessions_db;
use quorum::domain::person::Role;
use quorum::domain::session::Schedule;
use quorum::services::access::StreetScope;
use quorum::services::sessions::{Invitees, SessionInput};
use serde_json::json;
use testkit::room_client::{Publisher, Signal, Viewer};

use crate::helpers::{Page, SessionForm, TestApp, location, make_person, make_street, spawn_app, spawn_app_with};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

pub(crate) struct Cast {
    pub session: i64,
    pub official: String,
    pub lawyer: String,
    pub chairs: Vec<(i64, String)>,
    pub outsider: String,
}

pub(crate) async fn cast(app: &TestApp) -> Cast {
    let place = make_street(app, "花木街道").await;
    let other = make_street(app, "洋泾街道").await;
    let official = make_person(app, "13800000003", &[Role::Official], &[place.street], None).await;
    let lawyer = make_person(app, "13800000007", &[Role::Lawyer], &[], None).await;
    let mut chairs = Vec::new();
    for i in 0..3 {
        chairs.push(
            make_person(
                app,
                &format!("1390000010{i}"),
                &[Role::Chair],
                &[],
                Some(place.committee),
            )
            .await,
        );
    }
    let outsider = make_person(app, "13900000200", &[Role::Chair], &[], Some(other.committee)).await;
    let now = chrono::Utc::now() + chrono::Duration::hours(8);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
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
    let mut chair_tokens = Vec::new();
    for c in &chairs {
        chair_tokens.push((*c, app.session_cookie(*c).await));
    }
    Cast {
        session,
        official: app.session_cookie(official).await,
        lawyer: app.session_cookie(lawyer).await,
        chairs: chair_tokens,
        outsider: app.session_cookie(outsider).await,
    }
}

/// A chair enters the room and asks for the lecture's media; returns her signaling and her viewer.
async fn watch(app: &TestApp, session: i64, token: &str) -> (Signal, Viewer) {
    let (s, viewer, _) = watch_on(app, session, token).await;
    (s, viewer)
}

/// As `watch`, with the UDP port the server offered her media on.
async fn watch_on(app: &TestApp, session: i64, token: &str) -> (Signal, Viewer, u16) {
    let mut s = app.join_room(session, token).await;
    s.send(json!({"type": "subscribe"}));
    let offer = s.offer("view").await.unwrap();
    let port = candidate_port(&offer).expect("the offer has a host candidate");
    let (viewer, answer) = Viewer::answer(offer, LOOPBACK).await.unwrap();
    s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
    (s, viewer, port)
}

/// The port of an offer's first candidate (`a=candidate:… <address> <port> typ host`).
fn candidate_port(sdp: &str) -> Option<u16> {
    let line = sdp.lines().find(|l| l.starts_with("a=candidate:"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let typ = words.iter().position(|w| *w == "typ")?;
    words.get(typ.checked_sub(1)?)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lecturer_reaches_every_viewer_and_a_rejoining_viewer_gets_a_keyframe_fast() {
    let app = spawn_app().await;
    let ports = lecture_to_three_viewers(&app).await;
    // Their media share the node's media loops (as many as media threads, fewer than three viewers).
    let mut distinct = ports.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() < ports.len(), "viewers' ports {ports:?}");
}

/// `rooms.viewer_sockets = 0` (or a wildcard `bind_ip`) gives each viewer a connection of her own, as
/// before the media loops: the fallback must still carry the lecture.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_media_loop_each_viewer_gets_a_port_of_her_own_and_the_lecture() {
    let app = spawn_app_with(|s| s.rooms.viewer_sockets = Some(0)).await;
    let ports = lecture_to_three_viewers(&app).await;
    let mut distinct = ports.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), ports.len(), "viewers' ports {ports:?}");
}

/// A lecturer publishes to three chairs, who all get her media intact; one leaves and comes back and
/// decodes again within about a second; attendance shows her two visits. Returns the ports the server
/// offered the three viewers' media on.
async fn lecture_to_three_viewers(app: &TestApp) -> Vec<u16> {
    let c = cast(app).await;
    let mut moderator = app.join_room(c.session, &c.official).await;
    moderator.send(json!({"type": "start"}));
    let status = moderator.expect("status", Duration::from_secs(5)).await.unwrap();
    assert_eq!(status["status"], "live");

    let mut lecturer = app.join_room(c.session, &c.lawyer).await;
    lecturer.send(json!({"type": "publish", "source": "camera"}));
    let offer = lecturer.offer("camera").await.unwrap();
    let (publisher, answer) = Publisher::answer(offer, LOOPBACK).await.unwrap();
    lecturer.send(json!({"type": "answer", "leg": "camera", "sdp": answer}));
    publisher.start(1500);

    let mut viewers = Vec::new();
    let mut ports = Vec::new();
    for (_, t) in &c.chairs {
        let (s, v, port) = watch_on(app, c.session, t).await;
        viewers.push((s, v));
        ports.push(port);
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    for (i, (_, v)) in viewers.iter().enumerate() {
        let s = &v.stats;
        let (video, audio) = (
            s.video_packets.load(Ordering::Relaxed),
            s.audio_packets.load(Ordering::Relaxed),
        );
        assert!(
            video > 300 && audio > 100,
            "viewer {i}: {video} video, {audio} audio packets"
        );
        assert_eq!(s.malformed.load(Ordering::Relaxed), 0, "payloads arrive intact");
        assert!(s.keyframes.load(Ordering::Relaxed) >= 1, "viewer {i} got a keyframe");
        let (expected, received) = s.video_expected_received();
        assert!(
            received as f64 >= expected as f64 * 0.99,
            "viewer {i}: {received} of {expected}"
        );
    }

    // One viewer leaves and comes back: it decodes again within about a second.
    let (signal, viewer) = viewers.remove(1);
    viewer.close().await;
    drop(signal);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_back, viewer) = watch(app, c.session, &c.chairs[1].1).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let first_key = viewer.stats.first_keyframe_us.load(Ordering::Relaxed);
    assert!(
        first_key > 0 && first_key < 1_500_000,
        "keyframe {first_key} µs after answering"
    );
    assert!(viewer.stats.video_packets.load(Ordering::Relaxed) > 100);
    assert!(
        publisher.keyframes_sent.load(Ordering::Relaxed) >= 2,
        "the publisher was asked for keyframes"
    );

    // Attendance: the chair who left has two intervals, the first closed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let intervals: Vec<_> = sessions_db::intervals(&app.db, c.session)
        .await
        .unwrap()
        .into_iter()
        .filter(|(p, _)| *p == c.chairs[1].0)
        .collect();
    assert_eq!(intervals.len(), 2, "{intervals:?}");
    publisher.close().await;
    viewer.close().await;
    for (_, v) in viewers {
        v.close().await;
    }
    ports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_hands_speaking_and_permissions_round_trip() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let mut moderator = app.join_room(c.session, &c.official).await;
    let (chair_id, chair_token) = c.chairs[0].clone();
    let mut chair = app.join_room(c.session, &chair_token).await;

    // Before the start, a chair gets no media: the lobby status instead.
    chair.send(json!({"type": "subscribe"}));
    assert_eq!(
        chair.expect("status", Duration::from_secs(5)).await.unwrap()["status"],
        "scheduled"
    );

    chair.send(json!({"type": "chat", "text": "请问换届改选小组什么时候成立？"}));
    let m = moderator.expect("chat", Duration::from_secs(5)).await.unwrap();
    assert_eq!(m["message"]["text"], "请问换届改选小组什么时候成立？");
    assert_eq!(m["message"]["person"], chair_id);
    let chat_id = m["message"]["id"].as_i64().unwrap();
    assert_eq!(
        sessions_db::recent_chat(&app.db, c.session, 10).await.unwrap().len(),
        1,
        "chat is stored"
    );

    chair.send(json!({"type": "raise_hand"}));
    let hands = moderator.expect("hands", Duration::from_secs(5)).await.unwrap();
    assert_eq!(hands["queue"], json!([chair_id]));
    moderator.send(json!({"type": "allow_speak", "person": chair_id}));
    assert_eq!(
        chair.expect("speak", Duration::from_secs(5)).await.unwrap()["allowed"],
        true
    );

    // A chair may not moderate; the moderator may remove a message.
    chair.send(json!({"type": "remove_chat", "id": chat_id}));
    chair.expect("error", Duration::from_secs(5)).await.unwrap();
    moderator.send(json!({"type": "remove_chat", "id": chat_id}));
    assert_eq!(
        chair.expect("chat_removed", Duration::from_secs(5)).await.unwrap()["id"],
        chat_id
    );
    assert!(
        sessions_db::recent_chat(&app.db, c.session, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Removing a participant closes their connection; they cannot come back into this room.
    moderator.send(json!({"type": "remove", "person": chair_id}));
    chair.expect("removed", Duration::from_secs(5)).await.unwrap();
    let mut again = Signal::connect(&app.ws_url(c.session), &chair_token).await.unwrap();
    again.expect("removed", Duration::from_secs(5)).await.unwrap();

    // People who are not invited cannot open the socket at all.
    assert!(Signal::connect(&app.ws_url(c.session), &c.outsider).await.is_err());
    assert!(Signal::connect(&app.ws_url(c.session), "not-a-session").await.is_err());
}

#[tokio::test]
async fn officials_schedule_sessions_and_invitation_links_lead_to_the_room() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let lawyer = make_person(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    crate::helpers::signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let day = crate::helpers::future_day();
    let mut form = SessionForm::on("业委会职责与监督", &day, "14:00", "13:00", place.street, lawyer);
    form.lecturers.clear();
    let r = app.schedule_session(&form).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    assert_eq!(
        (page.field_error("ends_at"), page.field_error("lecturers")),
        (
            Some("结束时间必须晚于开始时间".to_string()),
            Some("请至少选择一位主讲律师".to_string())
        ),
        "{page}"
    );
    let r = app
        .schedule_session(&SessionForm::on(
            "业委会职责与监督",
            &day,
            "14:00",
            "15:30",
            place.street,
            lawyer,
        ))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let detail = app.page(&location(&r)).await;
    assert!(
        detail
            .body_text()
            .contains(&format!("{}年{}月{}日 14:00", &day[0..4], &day[5..7], &day[8..10])),
        "Shanghai time: {detail}"
    );
    assert!(
        detail
            .attr_of("img[alt=邀请二维码]", "src")
            .starts_with("data:image/svg+xml;base64,"),
        "a QR code"
    );
    // The invitation link printed under the QR code (a full URL; this browser needs its path).
    let invite = detail.text_of("p.url code");
    let link = format!("/s/{}", invite.rsplit_once("/s/").unwrap().1);

    // A chair of the street opens the link: the training and the sign-in on the page, then the lobby.
    let chair = app.other_browser();
    make_person(&chair, "13900000101", &[Role::Chair], &[], Some(place.committee)).await;
    let invitation = chair.page(&link).await;
    assert_eq!(invitation.text_of("h1"), "业委会职责与监督", "{invitation}");
    let session = crate::helpers::id_in(&location(&r));
    assert_eq!(
        invitation.attr_of("form[action='/signin/code/send'] input[name=next]", "value"),
        format!("/sessions/{session}/room"),
        "after the code, the room"
    );
    chair.sign_in("13900000101", crate::helpers::PASSWORD).await;
    let room = location(&chair.get(&link).await);
    let page = chair.page(&room).await;
    assert_eq!(page.text_of("h1"), "业委会职责与监督", "{page}");
    assert_eq!(page.text_of("#lobby h2"), "候场室", "{page}");
    assert!(
        page.exists("#lobby:not([hidden])"),
        "the lobby shows before the start: {page}"
    );
    assert!(
        chair.page("/").await.body_text().contains("业委会职责与监督"),
        "the chair's home lists it"
    );
}

/// An official named as the session's moderator, who is also one of its lecturers (a lawyer), signed
/// in on `app`'s browser. Returns (session, official id).
async fn moderated_by_official(app: &TestApp) -> (i64, i64) {
    let place = make_street(app, "花木街道").await;
    let official = crate::helpers::signed_in_as(
        app,
        "13800000003",
        &[Role::Official, Role::Lawyer],
        &[place.street],
        None,
    )
    .await;
    let now = chrono::Utc::now() + chrono::Duration::hours(8);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let input = SessionInput {
        schedule: Schedule::parse("换届改选实务", "", &fmt(now), &fmt(now + chrono::Duration::hours(1))).unwrap(),
        street: place.street,
        lecturers: vec![official],
        moderators: vec![official],
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
    (session, official)
}

/// What the official can still do over HTTP: (room page, its moderator panel, end, open quiz, close quiz).
async fn http_controls(app: &TestApp, session: i64) -> (u16, bool, u16, u16, u16) {
    let page = app.get(&format!("/sessions/{session}/room")).await;
    let status = page.status().as_u16();
    let panel = Page::parse(page.text().await.unwrap()).exists("#moderator");
    let end = app.end_session(session).await;
    let open = app.open_quiz(session).await;
    let close = app.close_quiz(session).await;
    (
        status,
        panel,
        end.status().as_u16(),
        open.status().as_u16(),
        close.status().as_u16(),
    )
}

#[tokio::test]
async fn a_moderator_whose_street_is_removed_loses_the_room_and_quiz_controls_at_once() {
    let app = spawn_app().await;
    let (session, official) = moderated_by_official(&app).await;
    let start = app.start_session(session).await;
    assert_eq!(start.status().as_u16(), 303);
    let page = app.page(&format!("/sessions/{session}/room")).await;
    assert!(
        page.exists("#moderator"),
        "the moderator panel is there while the street is hers"
    );

    // An admin removes her street: she is still a lawyer lecturing this session, no longer its moderator.
    quorum::db::people::set_official_streets(&app.db, official, &[])
        .await
        .unwrap();
    let (page, panel, end, open, close) = http_controls(&app, session).await;
    assert_eq!(page, 200, "she still lectures");
    assert!(!panel, "no moderator panel");
    assert_eq!((end, open, close), (403, 403, 403));
    let s = sessions_db::get(&app.db, session).await.unwrap().unwrap();
    assert_eq!(s.status.code(), "live", "the session was not ended");
}

#[tokio::test]
async fn a_moderator_whose_official_role_is_removed_loses_the_controls() {
    let app = spawn_app().await;
    let (session, official) = moderated_by_official(&app).await;
    let start = app.start_session(session).await;
    assert_eq!(start.status().as_u16(), 303);

    quorum::db::people::set_roles(&app.db, official, &quorum::domain::person::Roles::new([Role::Lawyer]))
        .await
        .unwrap();
    let (page, panel, end, open, close) = http_controls(&app, session).await;
    assert_eq!(page, 200);
    assert!(!panel);
    assert_eq!((end, open, close), (403, 403, 403));

    // Without the lawyer role either, she may not enter at all.
    quorum::db::people::set_roles(&app.db, official, &quorum::domain::person::Roles::new([Role::Chair]))
        .await
        .unwrap();
    assert_eq!(app.get_status(&format!("/sessions/{session}/room")).await, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_demoted_while_connected_is_refused_and_downgraded() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let official = sessions_db::get(&app.db, c.session).await.unwrap().unwrap();
    let official_id = quorum::db::people::with_role(&app.db, Role::Official)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .next()
        .unwrap();
    // She also lectures, so after losing the street she stays in the room as a lecturer.
    quorum::db::people::set_roles(
        &app.db,
        official_id,
        &quorum::domain::person::Roles::new([Role::Official, Role::Lawyer]),
    )
    .await
    .unwrap();
    quorum::db::sessions::set_people(
        &app.db,
        c.session,
        &[official.lecturers[0], official_id],
        &[official_id],
        &official.committees,
    )
    .await
    .unwrap();
    let mut moderator = app.join_room(c.session, &c.official).await;
    let (chair_id, chair_token) = c.chairs[0].clone();
    let mut chair = app.join_room(c.session, &chair_token).await;
    moderator.send(json!({"type": "start"}));
    chair.expect("status", Duration::from_secs(5)).await.unwrap();

    // An admin removes her street while her socket stays open.
    quorum::db::people::set_official_streets(&app.db, official_id, &[])
        .await
        .unwrap();
    moderator.send(json!({"type": "mute", "person": chair_id}));
    assert_eq!(
        moderator.expect("role", Duration::from_secs(5)).await.unwrap()["role"],
        "lecturer",
        "her page is told to drop the moderator controls"
    );
    moderator.expect("error", Duration::from_secs(5)).await.unwrap();
    moderator.send(json!({"type": "end"}));
    moderator.expect("error", Duration::from_secs(5)).await.unwrap();
    assert!(
        chair.expect("muted", Duration::from_millis(500)).await.is_err(),
        "the chair was not muted"
    );
    let s = sessions_db::get(&app.db, c.session).await.unwrap().unwrap();
    assert_eq!(s.status.code(), "live", "the session was not ended");

    // With the official role gone as well as the lawyer role, the socket is closed on her next command.
    quorum::db::people::set_roles(
        &app.db,
        official_id,
        &quorum::domain::person::Roles::new([Role::Official]),
    )
    .await
    .unwrap();
    moderator.send(json!({"type": "end"}));
    moderator.expect("error", Duration::from_secs(5)).await.unwrap();
    assert!(moderator.expect("status", Duration::from_secs(2)).await.is_err());
    let s = sessions_db::get(&app.db, c.session).await.unwrap().unwrap();
    assert_eq!(s.status.code(), "live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_flood_is_slowed_and_hidden_characters_are_refused() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let mut moderator = app.join_room(c.session, &c.official).await;
    let (_, chair_token) = c.chairs[0].clone();
    let mut chair = app.join_room(c.session, &chair_token).await;

    // Text that names refuse is refused in chat too: neither broadcast nor stored.
    for bad in [
        "看这里\u{7}\u{7}\u{7}",
        "\u{200B}\u{200B}\u{200B}",
        "\u{200D}",
        "附件\u{202E}gpj.exe",
    ] {
        chair.send(json!({"type": "chat", "text": bad}));
        chair.expect("error", Duration::from_secs(5)).await.unwrap();
    }
    assert!(
        sessions_db::recent_chat(&app.db, c.session, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // A burst goes through, then the sender is told to wait; nothing beyond the burst is stored.
    for i in 0..30 {
        chair.send(json!({"type": "chat", "text": format!("第{i}条：{}", "刷".repeat(390))}));
    }
    let wait = chair.expect("chat_wait", Duration::from_secs(5)).await.unwrap();
    assert!((1..=3).contains(&wait["seconds"].as_u64().unwrap()), "{wait}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stored = sessions_db::recent_chat(&app.db, c.session, 100).await.unwrap();
    assert_eq!(stored.len(), 5, "only the burst is stored");
    let mut seen = 0;
    while moderator.expect("chat", Duration::from_millis(300)).await.is_ok() {
        seen += 1;
    }
    assert_eq!(seen, 5, "only the burst is broadcast");

    // The limit is per person: another chair may still talk.
    let mut other = app.join_room(c.session, &c.chairs[1].1).await;
    other.send(json!({"type": "chat", "text": "我也有问题"}));
    assert_eq!(
        moderator.expect("chat", Duration::from_secs(5)).await.unwrap()["message"]["text"],
        "我也有问题"
    );
    other.expect("chat", Duration::from_secs(5)).await.unwrap();
}

/// Sends SIGTERM (as systemd or docker stop does) and waits for the process to exit; the time it took.
fn terminate(server: &mut std::process::Child) -> Duration {
    let started = std::time::Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    while server.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(15), "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

#[tokio::test]
async fn hands_speaking_rights_mutes_and_removals_survive_a_restart_and_a_blip() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let dir = app.var_dir().join("restart");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut server, base) = crate::helpers::start_server(&app.database_url, &dir, None);
    let remote = TestApp::remote(&base);
    let [(hand, hand_token), (speaker, speaker_token), (removed, removed_token)] =
        [c.chairs[0].clone(), c.chairs[1].clone(), c.chairs[2].clone()];

    let mut moderator = remote.join_room(c.session, &c.official).await;
    let chair = remote.join_room(c.session, &hand_token).await;
    let mut other = remote.join_room(c.session, &speaker_token).await;
    let mut gone = remote.join_room(c.session, &removed_token).await;
    chair.send(json!({"type": "raise_hand"}));
    assert_eq!(
        moderator.expect("hands", Duration::from_secs(5)).await.unwrap()["queue"],
        json!([hand])
    );
    moderator.send(json!({"type": "allow_speak", "person": speaker}));
    other.expect("speak", Duration::from_secs(5)).await.unwrap();
    moderator.send(json!({"type": "mute", "person": speaker}));
    other.expect("muted", Duration::from_secs(5)).await.unwrap();
    moderator.send(json!({"type": "remove", "person": removed}));
    gone.expect("removed", Duration::from_secs(5)).await.unwrap();

    // A blip: her socket drops and comes back; her hand is still up.
    drop(chair);
    // (Earlier queues may still be on their way: wait for the one without her.)
    while moderator.expect("hands", Duration::from_secs(5)).await.unwrap()["queue"] != json!([]) {}
    let back = remote.join_room_welcome(c.session, &hand_token).await;
    assert_eq!(back["hands"], json!([hand]), "her hand stayed raised through the blip");

    // SIGTERM: the pages are told to reconnect, and the process is gone within a couple of seconds.
    let stop = tokio::task::spawn_blocking(move || {
        let took = terminate(&mut server);
        (server, took)
    });
    moderator.expect("restarting", Duration::from_secs(5)).await.unwrap();
    let (_, took) = stop.await.unwrap();
    assert!(took < Duration::from_secs(4), "stopping took {took:?}");

    // After the restart everything is as before.
    let (mut server, base) = crate::helpers::start_server(&app.database_url, &dir, None);
    let remote = TestApp::remote(&base);
    let mut moderator = remote.join_room(c.session, &c.official).await;
    let back = remote.join_room_welcome(c.session, &hand_token).await;
    assert_eq!(back["hands"], json!([hand]), "her hand survived the restart");
    let speaker_back = remote.join_room_welcome(c.session, &speaker_token).await;
    assert_eq!(
        speaker_back["can_speak"], true,
        "the right to speak survived the restart"
    );
    let people = loop {
        let p = moderator.expect("people", Duration::from_secs(5)).await.unwrap();
        if p["people"].as_array().unwrap().iter().any(|x| x["id"] == speaker) {
            break p;
        }
    };
    let entry = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == speaker)
        .unwrap()
        .clone();
    assert_eq!(entry["muted"], true, "the mute survived the restart");
    let mut again = Signal::connect(&remote.ws_url(c.session), &removed_token)
        .await
        .unwrap();
    again.expect("removed", Duration::from_secs(5)).await.unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn a_viewer_whose_media_stops_is_told_its_leg_failed() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    sessions_db::set_status(
        &app.db,
        c.session,
        quorum::domain::session::SessionStatus::Live,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let (mut chair, viewer) = watch(&app, c.session, &c.chairs[0].1).await;
    assert_eq!(
        chair.expect("leg", Duration::from_secs(10)).await.unwrap()["state"],
        "up"
    );
    // The phone's media goes away without a word (its socket stays): the server notices within seconds
    // and tells the page, which asks for a fresh leg.
    viewer.close().await;
    let started = std::time::Instant::now();
    let failed = loop {
        let m = chair.expect("leg", Duration::from_secs(15)).await.unwrap();
        if m["state"] == "failed" {
            break m;
        }
    };
    assert_eq!(failed["leg"], "view");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "took {:?}",
        started.elapsed()
    );
    chair.send(json!({"type": "subscribe"}));
    chair.offer("view").await.unwrap();
}
