//! What the room benchmarks share: a seeded live session and a synthetic lecturer.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use quorum::domain::person::Role;
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::services::access::StreetScope;
use quorum::services::sessions::{Invitees, SessionInput};
use sea_orm::DatabaseConnection;
use serde_json::json;
use testkit::room_client::{Publisher, Signal};

use crate::{Error, create_account, session_tokens, street_with_committee};

pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A live session ready for a room benchmark: its id and signed-in tokens.
pub struct Seed {
    pub session: i64,
    pub lecturer: String,
    pub chairs: Vec<String>,
}

/// A fresh database with a street, a lecturer, `chairs` chairs and a session live now.
pub async fn seed_live_room(url: &str, dir: &std::path::Path, chairs: usize) -> Result<Seed, Error> {
    let settings = testkit::settings(url, dir.to_path_buf());
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    let (street, committee) = street_with_committee(&db).await?;
    let lawyer = create_account(&db, "讲师", "13700000000".into(), Role::Lawyer, None).await?;
    let mut ids = Vec::new();
    for i in 0..chairs {
        ids.push(create_account(&db, "主任", format!("136{i:08}"), Role::Chair, Some(committee)).await?);
    }
    let session = live_session(&db, street, lawyer).await?;
    let lecturer = session_tokens(&db, &[lawyer]).await?.pop().ok_or("no lecturer token")?;
    let chairs = session_tokens(&db, &ids).await?;
    db.close().await?;
    Ok(Seed {
        session,
        lecturer,
        chairs,
    })
}

/// A two-hour session by `lawyer` for the whole street, live now.
async fn live_session(db: &DatabaseConnection, street: i64, lawyer: i64) -> Result<i64, Error> {
    let now = chrono::Utc::now() + chrono::Duration::hours(8);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let schedule = Schedule::parse("压力测试", "", &fmt(now), &fmt(now + chrono::Duration::hours(2)))
        .map_err(|e| format!("{e:?}"))?;
    let input = SessionInput {
        schedule,
        street,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    let session = quorum::services::sessions::create(
        db,
        &StreetScope::All,
        &quorum::services::audit::Actor::console(),
        &input,
    )
    .await?;
    quorum::db::sessions::set_status(db, session, SessionStatus::Live, chrono::Utc::now()).await?;
    Ok(session)
}

/// The lecturer joins and publishes `kbps` of video plus audio; the signal stays open for the run.
/// With `simulcast` the video goes in three layers (the top at `kbps`), offered as the room page
/// offers them; without, in one, answering the server's offer.
pub async fn publish(ws: &str, token: &str, kbps: u32, simulcast: bool) -> Result<(Signal, Publisher), Error> {
    let mut lecturer = Signal::connect(ws, token).await.map_err(|e| e.to_string())?;
    lecturer
        .expect("welcome", Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?;
    let publisher = if simulcast {
        Publisher::publish_simulcast(&mut lecturer, LOOPBACK)
            .await
            .map_err(|e| e.to_string())?
    } else {
        lecturer.send(json!({"type": "publish", "source": "camera"}));
        let offer = lecturer.offer("camera").await.map_err(|e| e.to_string())?;
        let (publisher, answer) = Publisher::answer(offer, LOOPBACK).await.map_err(|e| e.to_string())?;
        lecturer.send(json!({"type": "answer", "leg": "camera", "sdp": answer}));
        publisher
    };
    publisher.start(kbps);
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok((lecturer, publisher))
}
