//! Several server processes on one database (`[cluster]`): a room hosted by one node serves pages from
//! another, moderators' commands reach it from any node, and when its node is killed or stopped the
//! room comes up elsewhere. Real processes, real sockets and media; run on SQLite by `cargo test` and on
//! PostgreSQL (LISTEN/NOTIFY) by the PostgreSQL tier.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use quorum::db::sessions as sessions_db;
use serde_json::json;
use testkit::room_client::{Publisher, Signal, Viewer, handshake_status};

use crate::helpers::{PASSWORD, TestApp, start_node};
use crate::quiz::{bank_dir, settings, setup};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Kills the node's process on drop, so a failing test leaves nothing running.
struct Node {
    child: std::process::Child,
    base: String,
}

impl Node {
    fn start(app: &TestApp, banks: &std::path::Path, id: &str) -> Node {
        let dir = app.var_dir().join(format!("node-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (child, base) = start_node(&app.database_url, &dir, Some(banks), id);
        Node { child, base }
    }

    fn browser(&self) -> TestApp {
        TestApp::remote(&self.base)
    }

    /// SIGTERM, as systemd or docker stop does; waits for the process to end.
    fn stop(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(15), "the node did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the room page asks a node before each (re)connection: where the room's socket is.
async fn locate(base: &str, session: i64, token: &str) -> Option<String> {
    let r = reqwest::Client::new()
        .get(format!("{base}/sessions/{session}/room/socket"))
        .header("Cookie", format!("q_sid={token}"))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let body: serde_json::Value = r.json().await.ok()?;
    body["ws"].as_str().map(str::to_string)
}

/// The lecturer enters the room at `ws` and publishes her camera.
async fn publish(ws: &str, token: &str) -> Option<(Signal, Publisher)> {
    let mut s = Signal::connect(ws, token).await.ok()?;
    s.expect("welcome", Duration::from_secs(5)).await.ok()?;
    s.send(json!({"type": "publish", "source": "camera"}));
    let offer = s.offer("camera").await.ok()?;
    let (publisher, answer) = Publisher::answer(offer, LOOPBACK).await.ok()?;
    s.send(json!({"type": "answer", "leg": "camera", "sdp": answer}));
    publisher.start(600);
    Some((s, publisher))
}

/// A chair enters the room at `ws` and asks for the lecture's media.
async fn watch(ws: &str, token: &str) -> Option<(Signal, Viewer)> {
    let mut s = Signal::connect(ws, token).await.ok()?;
    s.expect("welcome", Duration::from_secs(5)).await.ok()?;
    s.send(json!({"type": "subscribe"}));
    let offer = s.offer("view").await.ok()?;
    let (viewer, answer) = Viewer::answer(offer, LOOPBACK).await.ok()?;
    s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
    Some((s, viewer))
}

async fn keyframe_within(viewer: &Viewer, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if viewer.stats.keyframes.load(Ordering::Relaxed) > 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// What the lecturer's and the chair's pages do after their socket dropped: every second, ask `base`
/// where the room is, connect there, publish and watch again; until the chair sees the picture.
/// Returns the node's socket URL they ended on, and the live clients.
async fn come_back(
    base: &str,
    session: i64,
    lecturer: &str,
    chair: &str,
    within: Duration,
) -> (String, (Signal, Publisher), (Signal, Viewer)) {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(ws) = locate(base, session, chair).await
            && let Some(lecture) = publish(&ws, lecturer).await
        {
            if let Some(watching) = watch(&ws, chair).await
                && keyframe_within(&watching.1, within.saturating_sub(started.elapsed())).await
            {
                return (ws, lecture, watching);
            }
            lecture.1.close().await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("the room did not come back within {within:?}");
}

/// Her intervals in the session do not overlap, and at most one is open (the connection she has now).
async fn intervals_consistent(app: &TestApp, session: i64, person: i64) -> usize {
    let mut mine: Vec<_> = sessions_db::intervals(&app.db, session)
        .await
        .unwrap()
        .into_iter()
        .filter(|(p, _)| *p == person)
        .map(|(_, i)| i)
        .collect();
    mine.sort_by_key(|i| i.from);
    for pair in mine.windows(2) {
        assert!(pair[0].to <= pair[1].from, "intervals overlap: {mine:?}");
    }
    mine.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_from_one_node_watches_the_room_on_another_and_commands_from_any_node_reach_it() {
    let s = setup(settings(3)).await;
    let banks = bank_dir();
    let a = Node::start(&s.app, &banks, "a");
    let b = Node::start(&s.app, &banks, "b");
    let (node_a, node_b) = (a.browser(), b.browser());
    let session = s.session;
    let mut tokens = Vec::new();
    for c in &s.chairs {
        tokens.push(s.app.session_cookie(*c).await);
    }

    // The first chair's socket reaches A: the room is placed where she arrived.
    let mut first = node_a.join_room(session, &tokens[0]).await;
    let lease = quorum::db::nodes::lease(&s.app.db, session).await.unwrap().unwrap();
    assert_eq!(lease.node, "a");

    // The second chair's page comes from B and carries A's socket; so does B's answer to "where".
    let chair = node_b.other_browser();
    assert_eq!(chair.sign_in("13900000101", PASSWORD).await.status().as_u16(), 303);
    let page = chair.get_text(&format!("/sessions/{session}/room")).await;
    assert!(page.contains(&node_a.ws_url(session)), "{page}");
    assert_eq!(
        locate(&b.base, session, &tokens[1]).await.as_deref(),
        Some(node_a.ws_url(session).as_str())
    );
    // A socket opened on B for A's room is refused (the page asks where again); on A, the page's
    // origin (B) is one of the site's nodes, a foreign one is not.
    assert_eq!(
        handshake_status(&node_b.ws_url(session), &tokens[1], None)
            .await
            .unwrap(),
        409
    );
    assert_eq!(
        handshake_status(&node_a.ws_url(session), &tokens[1], Some(&b.base))
            .await
            .unwrap(),
        101
    );
    assert_eq!(
        handshake_status(&node_a.ws_url(session), &tokens[1], Some("http://evil.example"))
            .await
            .unwrap(),
        403
    );
    let mut second = node_a.join_room(session, &tokens[1]).await;

    // The moderator opens the quiz through B (the form, without JavaScript): B asks A who is
    // present, attempts are made for those two, and both chairs on A are shown the quiz.
    let moderator = b.browser();
    assert_eq!(moderator.sign_in("13800000003", PASSWORD).await.status().as_u16(), 303);
    let r = moderator.open_quiz(session).await;
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap_or_default());
    for signal in [&mut first, &mut second] {
        let quiz = signal.expect("quiz", Duration::from_secs(5)).await.unwrap();
        assert!(quiz["url"].as_str().unwrap().starts_with("/quiz/"), "{quiz}");
    }
    let q = quorum::db::quiz::for_session(&s.app.db, session)
        .await
        .unwrap()
        .unwrap();
    let mut with_attempts: Vec<i64> = quorum::db::quiz::attempts_of_quiz(&s.app.db, q.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.person_id)
        .collect();
    with_attempts.sort();
    assert_eq!(with_attempts, s.chairs[..2].to_vec(), "the chairs present on A");

    // Closing the quiz and ending the session through B reach A's room too.
    assert_eq!(moderator.close_quiz(session).await.status().as_u16(), 303);
    assert_eq!(moderator.end_session(session).await.status().as_u16(), 303);
    let ended = loop {
        let m = first.expect("status", Duration::from_secs(5)).await.unwrap();
        if m["status"] == "ended" {
            break m;
        }
    };
    assert_eq!(ended["status"], "ended");

    // Another node takes the lease over (as after A had been cut off from the database): A's next
    // heartbeat finds it lost, and A tells its pages to go (where they find the room on B).
    let lease = quorum::db::nodes::lease(&s.app.db, session).await.unwrap().unwrap();
    let until = chrono::Utc::now() + chrono::Duration::seconds(6);
    assert!(
        quorum::db::nodes::take(&s.app.db, session, Some(&lease), "b", until)
            .await
            .unwrap()
    );
    first.expect("restarting", Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        locate(&b.base, session, &tokens[0]).await.as_deref(),
        Some(node_b.ws_url(session).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_s_room_comes_up_on_another_and_a_stopped_node_hands_its_room_over() {
    let s = setup(settings(3)).await;
    let banks = bank_dir();
    let mut a = Node::start(&s.app, &banks, "a");
    let mut b = Node::start(&s.app, &banks, "b");
    let session = s.session;
    let lecturer = s.app.session_cookie(s.lawyer).await;
    let chair_id = s.chairs[0];
    let chair = s.app.session_cookie(chair_id).await;

    // The lecture runs on A.
    let ws_a = a.browser().ws_url(session);
    let (_lecture, publisher) = publish(&ws_a, &lecturer).await.unwrap();
    let (_watching, viewer) = watch(&ws_a, &chair).await.unwrap();
    assert!(
        keyframe_within(&viewer, Duration::from_secs(10)).await,
        "media flows on A"
    );
    // Her earlier attendance (the fixture's hour) and her connection on A.
    let before = intervals_consistent(&s.app, session, chair_id).await;
    let recording = quorum::db::recordings::for_session(&s.app.db, session)
        .await
        .unwrap()
        .unwrap();
    let files = |node: &str, token: &str| {
        let dir = s.app.var_dir().join(format!("node-{node}")).join("recordings");
        quorum::domain::recording::files(&dir, token).0
    };
    assert!(files("a", &recording.token).exists(), "A records the lecture");

    let moderator = b.browser();
    assert_eq!(moderator.sign_in("13800000003", PASSWORD).await.status().as_u16(), 303);

    // A dies (kill -9): no goodbye, its lease runs out; the pages find the room on B.
    let killed = Instant::now();
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    publisher.close().await;
    viewer.close().await;
    // Meanwhile nobody can say who is present: the quiz is not opened for nobody, the moderator is
    // asked to try again.
    let refused = moderator.open_quiz(session).await;
    assert_eq!(refused.status().as_u16(), 400);
    assert!(refused.text().await.unwrap().contains("直播间正在切换服务器"));
    assert!(
        quorum::db::quiz::for_session(&s.app.db, session)
            .await
            .unwrap()
            .unwrap()
            .opened_at
            .is_none()
    );
    let (ws, (_lecture, publisher), (mut watching, viewer)) =
        come_back(&b.base, session, &lecturer, &chair, Duration::from_secs(15)).await;
    let back = killed.elapsed();
    assert_eq!(ws, b.browser().ws_url(session));
    assert!(back < Duration::from_secs(15), "media again after {back:?}");
    let lease = quorum::db::nodes::lease(&s.app.db, session).await.unwrap().unwrap();
    assert_eq!(lease.node, "b");
    // B records afresh under a new name; A's part keeps the old one, which nothing refers to now.
    let moved = quorum::db::recordings::for_session(&s.app.db, session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.id, recording.id);
    assert_ne!(moved.token, recording.token);
    assert!(files("b", &moved.token).exists() && !files("b", &recording.token).exists());
    // A's interval for her ended when the room opened on B; her connection there has its own.
    assert_eq!(intervals_consistent(&s.app, session, chair_id).await, before + 1);
    // Now the quiz opens, for her (on B), from B's own room.
    assert_eq!(moderator.open_quiz(session).await.status().as_u16(), 303);
    watching.expect("quiz", Duration::from_secs(5)).await.unwrap();
    let q = quorum::db::quiz::for_session(&s.app.db, session)
        .await
        .unwrap()
        .unwrap();
    let attempts = quorum::db::quiz::attempts_of_quiz(&s.app.db, q.id).await.unwrap();
    assert_eq!(attempts.iter().map(|a| a.person_id).collect::<Vec<_>>(), vec![chair_id]);

    // C joins; B is stopped (SIGTERM): it hands the room to C and tells the pages, which go there.
    let c = Node::start(&s.app, &banks, "c");
    let stopping = Instant::now();
    b.stop();
    watching.expect("restarting", Duration::from_secs(5)).await.unwrap();
    let lease = quorum::db::nodes::lease(&s.app.db, session).await.unwrap().unwrap();
    assert_eq!(lease.node, "c", "handed over, not left to run out");
    publisher.close().await;
    viewer.close().await;
    let (ws, _lecture, _watching) = come_back(&c.base, session, &lecturer, &chair, Duration::from_secs(10)).await;
    assert_eq!(ws, c.browser().ws_url(session));
    let moved = stopping.elapsed();
    assert!(moved < Duration::from_secs(10), "media again after {moved:?}");
    // B said goodbye: her interval there is closed at the time she left, and the registry forgot B.
    assert_eq!(intervals_consistent(&s.app, session, chair_id).await, before + 2);
    let nodes: Vec<String> = quorum::db::nodes::all(&s.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert!(!nodes.contains(&"b".to_string()), "{nodes:?}");
    drop(c);
}
