//! Recordings (`recordings`, their segments and chapters) and replay watch-time (`replay_intervals`,
//! `replay_devices`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{recording, recording_chapter, recording_segment, replay_device, replay_interval};
use crate::domain::attendance::Interval;
use crate::domain::recording::{Chapter, ChapterKind, RecordingRecord, RecordingState};
use crate::domain::replay::{Report, Segment};

async fn record(db: &impl ConnectionTrait, m: recording::Model) -> Result<RecordingRecord, DbErr> {
    let segments = recording_segment::Entity::find()
        .filter(recording_segment::Column::RecordingId.eq(m.id))
        .order_by_asc(recording_segment::Column::MediaFromMs)
        .order_by_asc(recording_segment::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| Segment {
            media_from_ms: s.media_from_ms,
            wall_from: s.wall_from,
            wall_to: s.wall_to,
        })
        .collect();
    let chapters = recording_chapter::Entity::find()
        .filter(recording_chapter::Column::RecordingId.eq(m.id))
        .order_by_asc(recording_chapter::Column::MediaMs)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|c| {
            ChapterKind::parse(&c.kind).map(|kind| Chapter {
                media_ms: c.media_ms,
                kind,
            })
        })
        .collect();
    Ok(RecordingRecord {
        id: m.id,
        session_id: m.session_id,
        token: m.token,
        state: RecordingState::parse(&m.state),
        stored_remotely: m.storage == "s3",
        duration_ms: m.duration_ms,
        video_bytes: m.video_bytes,
        audio_bytes: m.audio_bytes,
        started_at: m.started_at,
        finished_at: m.finished_at,
        segments,
        chapters,
    })
}

/// Rows with their segments and chapters.
async fn records(db: &impl ConnectionTrait, rows: Vec<recording::Model>) -> Result<Vec<RecordingRecord>, DbErr> {
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        out.push(record(db, m).await?);
    }
    Ok(out)
}

pub async fn for_session(db: &impl ConnectionTrait, session: i64) -> Result<Option<RecordingRecord>, DbErr> {
    match recording::Entity::find()
        .filter(recording::Column::SessionId.eq(session))
        .one(db)
        .await?
    {
        Some(m) => Ok(Some(record(db, m).await?)),
        None => Ok(None),
    }
}

pub async fn by_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<RecordingRecord>, DbErr> {
    match recording::Entity::find()
        .filter(recording::Column::Token.eq(token))
        .one(db)
        .await?
    {
        Some(m) => Ok(Some(record(db, m).await?)),
        None => Ok(None),
    }
}

/// The recordings of these sessions without their chapters, in two queries: (session, state,
/// segments).
pub async fn states_and_segments(
    db: &impl ConnectionTrait,
    sessions: &[i64],
) -> Result<Vec<(i64, RecordingState, Vec<Segment>)>, DbErr> {
    let rows = recording::Entity::find()
        .filter(recording::Column::SessionId.is_in(sessions.iter().copied()))
        .all(db)
        .await?;
    let segments = recording_segment::Entity::find()
        .filter(recording_segment::Column::RecordingId.is_in(rows.iter().map(|r| r.id)))
        .order_by_asc(recording_segment::Column::MediaFromMs)
        .order_by_asc(recording_segment::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = segments
                .iter()
                .filter(|s| s.recording_id == r.id)
                .map(|s| Segment {
                    media_from_ms: s.media_from_ms,
                    wall_from: s.wall_from,
                    wall_to: s.wall_to,
                })
                .collect();
            (r.session_id, RecordingState::parse(&r.state), mine)
        })
        .collect())
}

/// Recordings still being written or paused (for the job that finalises those whose lecture ended
/// without its room).
pub async fn unfinished(db: &impl ConnectionTrait) -> Result<Vec<RecordingRecord>, DbErr> {
    let rows = recording::Entity::find()
        .filter(recording::Column::State.is_in([RecordingState::Recording.code(), RecordingState::Paused.code()]))
        .all(db)
        .await?;
    records(db, rows).await
}

/// Finished recordings still only on this node's disk (to upload).
pub async fn finished_local(db: &impl ConnectionTrait) -> Result<Vec<RecordingRecord>, DbErr> {
    let rows = recording::Entity::find()
        .filter(recording::Column::State.eq(RecordingState::Finished.code()))
        .filter(recording::Column::Storage.eq("local"))
        .all(db)
        .await?;
    records(db, rows).await
}

/// Where the files now are: `local` or `s3`.
pub async fn set_storage(db: &impl ConnectionTrait, id: i64, storage: &str) -> Result<(), DbErr> {
    recording::Entity::update_many()
        .col_expr(recording::Column::Storage, Expr::value(storage))
        .filter(recording::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Finished recordings whose lecture ended before `before` (retention).
pub async fn finished_before(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<Vec<RecordingRecord>, DbErr> {
    let rows = recording::Entity::find()
        .filter(recording::Column::State.eq(RecordingState::Finished.code()))
        .filter(recording::Column::FinishedAt.lt(before))
        .all(db)
        .await?;
    records(db, rows).await
}

/// Inserts a session's recording; if another process or room got there first, returns theirs.
pub async fn create(
    db: &impl ConnectionTrait,
    session: i64,
    token: &str,
    storage: &str,
    at: DateTime<Utc>,
) -> Result<RecordingRecord, DbErr> {
    let row = recording::ActiveModel {
        session_id: Set(session),
        token: Set(token.to_string()),
        state: Set(RecordingState::Recording.code().to_string()),
        storage: Set(storage.to_string()),
        duration_ms: Set(0),
        video_bytes: Set(0),
        audio_bytes: Set(0),
        started_at: Set(at),
        ..Default::default()
    };
    recording::Entity::insert(row)
        .on_conflict(OnConflict::column(recording::Column::SessionId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    for_session(db, session)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("recording of session {session}")))
}

pub async fn set_state(db: &impl ConnectionTrait, id: i64, state: RecordingState) -> Result<(), DbErr> {
    recording::Entity::update_many()
        .col_expr(recording::Column::State, Expr::value(state.code()))
        .filter(recording::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sizes and duration as written so far (or finally, with `finished`).
/// With several nodes: this node is about to write the recording's files. The first writer (or the
/// same one again) keeps the name, and so does a node that can reach the files (`fresh_token` is
/// `None`: a folder the nodes share). A node taking over files it cannot reach starts them afresh
/// under `fresh_token`: the part on the other node's disk keeps the old name, which no row refers to
/// any more, so it is never finalised or uploaded as this recording; the segments and chapters that
/// described it go with it. Returns whether the recording was started afresh.
pub async fn claim_writing(
    db: &impl ConnectionTrait,
    id: i64,
    node: &str,
    fresh_token: Option<&str>,
) -> Result<bool, DbErr> {
    let Some(row) = recording::Entity::find_by_id(id).one(db).await? else {
        return Ok(false);
    };
    let taking_over = row.writer_node.as_deref().is_some_and(|n| n != node);
    match (taking_over, fresh_token) {
        (false, _) if row.writer_node.as_deref() == Some(node) => Ok(false),
        (false, _) | (true, None) => {
            recording::ActiveModel {
                id: Set(id),
                writer_node: Set(Some(node.to_string())),
                ..Default::default()
            }
            .update(db)
            .await?;
            Ok(false)
        }
        (true, Some(fresh_token)) => {
            recording::ActiveModel {
                id: Set(id),
                writer_node: Set(Some(node.to_string())),
                token: Set(fresh_token.to_string()),
                duration_ms: Set(0),
                video_bytes: Set(0),
                audio_bytes: Set(0),
                ..Default::default()
            }
            .update(db)
            .await?;
            recording_segment::Entity::delete_many()
                .filter(recording_segment::Column::RecordingId.eq(id))
                .exec(db)
                .await?;
            recording_chapter::Entity::delete_many()
                .filter(recording_chapter::Column::RecordingId.eq(id))
                .exec(db)
                .await?;
            Ok(true)
        }
    }
}

pub async fn set_progress(
    db: &impl ConnectionTrait,
    id: i64,
    duration_ms: i64,
    bytes: (i64, i64),
    finished: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let mut row = recording::ActiveModel {
        id: Set(id),
        duration_ms: Set(duration_ms),
        video_bytes: Set(bytes.0),
        audio_bytes: Set(bytes.1),
        ..Default::default()
    };
    if let Some(at) = finished {
        row.finished_at = Set(Some(at));
        row.state = Set(RecordingState::Finished.code().to_string());
    }
    row.update(db).await?;
    Ok(())
}

pub async fn mark_deleted(db: &impl ConnectionTrait, id: i64, by: Option<i64>, at: DateTime<Utc>) -> Result<(), DbErr> {
    recording::ActiveModel {
        id: Set(id),
        state: Set(RecordingState::Deleted.code().to_string()),
        deleted_at: Set(Some(at)),
        deleted_by: Set(by),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Starts a segment at media position `media_from_ms` (closing any left open by a crash at its start).
pub async fn open_segment(
    db: &impl ConnectionTrait,
    recording: i64,
    media_from_ms: i64,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    close_segments(db, recording, None).await?;
    recording_segment::ActiveModel {
        recording_id: Set(recording),
        media_from_ms: Set(media_from_ms),
        wall_from: Set(at),
        wall_to: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Closes the open segment at `at`; with `None`, at the moment its media ran out (the next segment's
/// start is what tells; a crashed process never said).
pub async fn close_segments(db: &impl ConnectionTrait, recording: i64, at: Option<DateTime<Utc>>) -> Result<(), DbErr> {
    let open = recording_segment::Entity::find()
        .filter(recording_segment::Column::RecordingId.eq(recording))
        .filter(recording_segment::Column::WallTo.is_null())
        .all(db)
        .await?;
    for s in open {
        recording_segment::ActiveModel {
            id: Set(s.id),
            wall_to: Set(Some(at.unwrap_or(s.wall_from))),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(())
}

pub async fn add_chapter(
    db: &impl ConnectionTrait,
    recording: i64,
    media_ms: i64,
    kind: ChapterKind,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    recording_chapter::ActiveModel {
        recording_id: Set(recording),
        media_ms: Set(media_ms),
        kind: Set(kind.code().to_string()),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn watched(m: &replay_interval::Model) -> Interval {
    Interval {
        from: m.watched_from,
        to: m.watched_to,
    }
}

/// Every replay interval of a session: (person, moments of the lecture watched).
pub async fn replay_intervals(db: &impl ConnectionTrait, session: i64) -> Result<Vec<(i64, Interval)>, DbErr> {
    Ok(replay_interval::Entity::find()
        .filter(replay_interval::Column::SessionId.eq(session))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.person_id, watched(&m)))
        .collect())
}

/// One person's replay intervals in these sessions: (session, interval).
pub async fn replay_intervals_of_person(
    db: &impl ConnectionTrait,
    person: i64,
    sessions: &[i64],
) -> Result<Vec<(i64, Interval)>, DbErr> {
    Ok(replay_interval::Entity::find()
        .filter(replay_interval::Column::PersonId.eq(person))
        .filter(replay_interval::Column::SessionId.is_in(sessions.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.session_id, watched(&m)))
        .collect())
}

pub async fn add_replay_intervals(
    db: &impl ConnectionTrait,
    session: i64,
    person: i64,
    list: &[Interval],
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    if list.is_empty() {
        return Ok(());
    }
    let rows = list.iter().map(|i| replay_interval::ActiveModel {
        session_id: Set(session),
        person_id: Set(person),
        watched_from: Set(i.from),
        watched_to: Set(i.to),
        recorded_at: Set(at),
        ..Default::default()
    });
    replay_interval::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// This device's previous report, and the latest report of hers on any device.
pub async fn reports(
    db: &impl ConnectionTrait,
    session: i64,
    person: i64,
    device: &str,
) -> Result<(Option<Report>, Option<DateTime<Utc>>), DbErr> {
    let rows = replay_device::Entity::find()
        .filter(replay_device::Column::SessionId.eq(session))
        .filter(replay_device::Column::PersonId.eq(person))
        .all(db)
        .await?;
    let last_any = rows.iter().map(|r| r.at).max();
    let mine = rows.into_iter().find(|r| r.device == device).map(|r| Report {
        position_ms: r.position_ms,
        at: r.at,
    });
    Ok((mine, last_any))
}

pub async fn set_report(
    db: &impl ConnectionTrait,
    session: i64,
    person: i64,
    device: &str,
    r: Report,
) -> Result<(), DbErr> {
    let row = replay_device::ActiveModel {
        session_id: Set(session),
        person_id: Set(person),
        device: Set(device.to_string()),
        position_ms: Set(r.position_ms),
        at: Set(r.at),
    };
    replay_device::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                replay_device::Column::SessionId,
                replay_device::Column::PersonId,
                replay_device::Column::Device,
            ])
            .update_columns([replay_device::Column::PositionMs, replay_device::Column::At])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
