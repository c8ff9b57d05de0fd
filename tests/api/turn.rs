//! TURN for chairs behind UDP-blocking networks: each room page carries credentials minted for its
//! viewer from the secret shared with coturn, expiring `rooms.turn_ttl_secs` later.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use quorum::config::IceServer;
use quorum::domain::person::Role;
use quorum::domain::session::Schedule;
use quorum::services::access::StreetScope;
use quorum::services::sessions::{Invitees, SessionInput};
use secrecy::SecretString;
use sha1::Sha1;

use crate::helpers::{TestApp, make_person, make_street, signed_in_as, spawn_app, spawn_app_with};

const SECRET: &str = "coturn-static-auth-secret-for-tests";
const URLS: [&str; 2] = [
    "turn:turn.example.cn:3478?transport=tcp",
    "turns:turn.example.cn:443?transport=tcp",
];

/// A session on the signed-in chair's street, scheduled by an official; returns (session, chair id).
async fn chair_invited(app: &TestApp) -> (i64, i64) {
    let place = make_street(app, "花木街道").await;
    let official = make_person(app, "13800000003", &[Role::Official], &[place.street], None).await;
    let lawyer = make_person(app, "13800000007", &[Role::Lawyer], &[], None).await;
    let chair = signed_in_as(app, "13900000101", &[Role::Chair], &[], Some(place.committee)).await;
    let start = chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(1);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let input = SessionInput {
        schedule: Schedule::parse(
            "换届改选实务",
            "",
            &fmt(start),
            &fmt(start + chrono::Duration::hours(1)),
        )
        .unwrap(),
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
    (session, chair)
}

/// The ICE servers the room page hands to room.js.
async fn ice_servers(app: &TestApp, session: i64) -> Vec<IceServer> {
    let page = app.page(&format!("/sessions/{session}/room")).await;
    serde_json::from_str(&page.attr_of("#room", "data-ice")).unwrap()
}

#[tokio::test]
async fn a_room_page_carries_turn_credentials_that_coturn_accepts_until_they_expire() {
    let app = spawn_app_with(|s| {
        s.rooms.ice_servers = vec![IceServer {
            urls: vec!["stun:stun.example.cn:3478".into()],
            username: None,
            credential: None,
        }];
        s.rooms.turn_urls = URLS.iter().map(|u| u.to_string()).collect();
        s.rooms.turn_secret = Some(SecretString::from(SECRET));
        s.rooms.turn_ttl_secs = 3 * 3600;
    })
    .await;
    let (session, chair) = chair_invited(&app).await;
    let before = chrono::Utc::now().timestamp();
    let servers = ice_servers(&app, session).await;
    let after = chrono::Utc::now().timestamp();

    assert_eq!(servers.len(), 2, "{servers:?}");
    assert_eq!(servers[0].urls, ["stun:stun.example.cn:3478"]);
    assert_eq!(servers[0].username, None, "STUN needs no credentials");
    let turn = &servers[1];
    assert_eq!(turn.urls, URLS);
    let username = turn.username.clone().unwrap();
    let (expiry, who) = username.split_once(':').unwrap();
    let expiry: i64 = expiry.parse().unwrap();
    assert!(
        (before + 3 * 3600..=after + 3 * 3600).contains(&expiry),
        "expires turn_ttl_secs after the page load: {expiry} vs {before}"
    );
    assert_eq!(who, chair.to_string(), "the username names the viewer by id");
    // What coturn's use-auth-secret computes from its static-auth-secret.
    let mut mac = Hmac::<Sha1>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    assert_eq!(
        turn.credential.as_deref(),
        Some(STANDARD.encode(mac.finalize().into_bytes()).as_str())
    );
    assert!(
        !app.page(&format!("/sessions/{session}/room")).await.contains(SECRET),
        "the secret itself never reaches the page"
    );

    // Each (re)join of the room's socket brings freshly minted credentials, before the welcome: a page
    // left open past the TTL, or reconnecting after a restart, does not use expired ones.
    let cookie = app.session_cookie(chair).await;
    let mut socket = testkit::room_client::Signal::connect(&app.ws_url(session), &cookie)
        .await
        .unwrap();
    let ice = socket.expect("ice", std::time::Duration::from_secs(5)).await.unwrap();
    let fresh: Vec<IceServer> = serde_json::from_value(ice["servers"].clone()).unwrap();
    assert_eq!(fresh[1].urls, URLS);
    let expiry: i64 = fresh[1]
        .username
        .as_deref()
        .unwrap()
        .split_once(':')
        .unwrap()
        .0
        .parse()
        .unwrap();
    assert!(expiry >= before + 3 * 3600, "minted at the join");
}

#[tokio::test]
async fn without_turn_settings_a_room_page_carries_only_the_static_servers() {
    let app = spawn_app_with(|s| {
        s.rooms.ice_servers = vec![IceServer {
            urls: vec!["stun:stun.example.cn:3478".into()],
            username: None,
            credential: None,
        }];
    })
    .await;
    let (session, _) = chair_invited(&app).await;
    let servers = ice_servers(&app, session).await;
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0].urls, ["stun:stun.example.cn:3478"]);

    let app = spawn_app().await;
    let (session, _) = chair_invited(&app).await;
    assert!(ice_servers(&app, session).await.is_empty());
}
