//! Replay and the make-up path: who may watch a session's recording, how her watching counts, the
//! make-up window an official sets, deleting recordings, and listening to a live lecture without WebRTC.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::{CurrentUser, Moderates, SessionAccess};
use super::attendance::Attendance;
use crate::db::recordings as db;
use crate::db::sessions as sessions_db;
use crate::domain::attempt::MakeupWindow;
use crate::domain::audit::Action;
use crate::domain::recording::{RecordingRecord, RecordingState};
use crate::domain::replay::{Heartbeat, Report, credited, to_wall};
use crate::domain::session::{RoomRole, SessionRecord, SessionStatus};

/// Where this node finds recording files: its own folder (written by its rooms), and the object store
/// if one is configured (finished recordings are moved there, so any node can serve them).
pub struct RecordingFiles {
    pub dir: PathBuf,
    pub store: Option<Arc<crate::storage::S3Store>>,
    /// Other nodes record too (`[cluster]`): a recording whose files are not in `dir` may be theirs.
    pub several_nodes: bool,
}

/// The object key of a recording file in the store.
pub fn object_key(file_name: &str) -> String {
    format!("recordings/{file_name}")
}

/// The longest make-up window an official may set after the session's end.
pub const MAKEUP_MAX_DAYS: i64 = 90;

/// A viewer's attendance as the replay page shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Watched {
    pub live_minutes: i64,
    pub replay_minutes: i64,
    pub share: f64,
    pub gate: u32,
    pub meets_gate: bool,
}

/// The replay page of a session.
#[derive(Debug, Clone)]
pub struct ReplayPage {
    pub session: SessionRecord,
    pub role: RoomRole,
    /// The recording, if there is one to speak of.
    pub recording: Option<RecordingRecord>,
    /// For a chair: her attendance so far.
    pub watched: Option<Watched>,
    pub makeup: Option<MakeupWindow>,
    pub quiz: Option<i64>,
}

async fn watched(
    db: &impl ConnectionTrait,
    session: &SessionRecord,
    person: i64,
) -> Result<Option<Watched>, ServiceError> {
    let quiz = crate::db::quiz::for_session(db, session.id).await?;
    let Some(q) = quiz.as_ref() else { return Ok(None) };
    let a = Attendance::of_person(db, session, Some(q), person, Utc::now()).await?;
    let gate = q.settings.attendance_gate;
    Ok(Some(Watched {
        live_minutes: a.live_minutes(person),
        replay_minutes: a.replay_minutes(person),
        share: a.share(person),
        gate,
        meets_gate: a.meets(person, gate),
    }))
}

/// The replay page: for the invited chairs, the session's lecturers, moderators and officials.
pub async fn page(db: &impl ConnectionTrait, user: &CurrentUser, session: i64) -> Result<ReplayPage, ServiceError> {
    let access = SessionAccess::of(db, user, session).await?;
    let s = access.session().clone();
    let recording = db::for_session(db, session).await?;
    let watched = match access.role() {
        RoomRole::Viewer => watched(db, &s, user.person.id).await?,
        _ => None,
    };
    let quiz = crate::db::quiz::for_session(db, session).await?.map(|q| q.id);
    Ok(ReplayPage {
        makeup: MakeupWindow::of(s.ended_at, s.makeup_until),
        role: access.role(),
        session: s,
        recording,
        watched,
        quiz,
    })
}

/// The recording behind a replay link, if this user may play it.
pub async fn playable(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    token: &str,
) -> Result<RecordingRecord, ServiceError> {
    let r = db::by_token(db, token).await?.ok_or(ServiceError::NotFound)?;
    SessionAccess::of(db, user, r.session_id).await?;
    if !r.playable() {
        return Err(ServiceError::NotFound);
    }
    Ok(r)
}

/// A playing page's report: credits the part of the lecture played since the device's last report
/// (`domain::replay`) and answers her attendance as it now stands.
pub async fn heartbeat(
    db: &DatabaseConnection,
    user: &CurrentUser,
    token: &str,
    device: &str,
    position_ms: i64,
    jumped: bool,
) -> Result<Option<Watched>, ServiceError> {
    if device.is_empty() || device.len() > 64 || position_ms < 0 {
        return Err(ServiceError::refused("播放进度无效", "invalid playback report"));
    }
    let r = playable(db, user, token).await?;
    let person = user.person.id;
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let (previous, last_any) = db::reports(&txn, r.session_id, person, device).await?;
    let hb = Heartbeat {
        position_ms,
        at: now,
        jumped,
    };
    if let Some((from, to)) = credited(previous, last_any, hb, r.duration_ms) {
        let wall = to_wall(&r.segments, r.duration_ms, from, to);
        db::add_replay_intervals(&txn, r.session_id, person, &wall, now).await?;
    }
    db::set_report(&txn, r.session_id, person, device, Report { position_ms, at: now }).await?;
    txn.commit().await?;
    let session = sessions_db::get(db, r.session_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    watched(db, &session, person).await
}

/// Opens (or closes, with `None`) the make-up window: chairs who reach the attendance gate with live
/// and replay time may take the quiz until `until`.
pub async fn set_makeup(
    db: &impl ConnectionTrait,
    who: &Moderates,
    until: Option<DateTime<Utc>>,
) -> Result<(), ServiceError> {
    let s = who.session();
    if let Some(u) = until {
        let Some(ended) = s.ended_at else {
            return Err(ServiceError::rejected(
                "makeup_until",
                "培训结束后才能设置回看补测时间",
                "the make-up window can be set once the session has ended",
            ));
        };
        if u <= ended.max(Utc::now()) || u > ended + Duration::days(MAKEUP_MAX_DAYS) {
            return Err(ServiceError::rejected(
                "makeup_until",
                format!("补测截止时间须晚于现在，且不超过培训结束后 {MAKEUP_MAX_DAYS} 天"),
                format!("the end must be after now and at most {MAKEUP_MAX_DAYS} days after the session ended"),
            ));
        }
    }
    sessions_db::set_makeup_until(db, s.id, until).await?;
    tracing::info!(session = s.id, open = until.is_some(), "make-up window set");
    Ok(())
}

/// Removes a recording's files wherever they are.
async fn remove_files(f: &RecordingFiles, r: &RecordingRecord) -> Result<(), ServiceError> {
    let (video, audio) = crate::domain::recording::files(&f.dir, &r.token);
    for path in [video, audio] {
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(error = %e, "removing a recording file failed");
        }
    }
    if let (true, Some(store)) = (r.stored_remotely, f.store.clone()) {
        let (video, audio) = crate::domain::recording::file_names(&r.token);
        tokio::task::spawn_blocking(move || {
            for name in [video, audio] {
                store.delete(&object_key(&name))?;
            }
            Ok::<(), crate::storage::StoreError>(())
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    }
    Ok(())
}

/// Moves finished recordings from this node's disk to the object store (if one is configured):
/// uploaded, marked, then removed here. A failed upload leaves the files here for the next round.
pub async fn upload_finished(db: &impl ConnectionTrait, f: &RecordingFiles) -> Result<usize, ServiceError> {
    let Some(store) = f.store.clone() else { return Ok(0) };
    let mut done = 0;
    for r in db::finished_local(db).await? {
        let (video, audio) = crate::domain::recording::files(&f.dir, &r.token);
        if !video.exists() {
            continue; // another node's recording, not uploaded yet
        }
        let (s, paths) = (store.clone(), (video.clone(), audio.clone()));
        let uploaded = tokio::task::spawn_blocking(move || {
            for (path, kind) in [(&paths.0, "video/webm"), (&paths.1, "audio/webm")] {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                s.put_file(&object_key(name), path, kind)?;
            }
            Ok::<(), crate::storage::StoreError>(())
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        match uploaded {
            Ok(()) => {
                db::set_storage(db, r.id, "s3").await?;
                let _ = std::fs::remove_file(&video);
                let _ = std::fs::remove_file(&audio);
                done += 1;
            }
            Err(e) => tracing::warn!(recording = r.id, error = %e, "uploading a recording failed; retried later"),
        }
    }
    Ok(done)
}

/// Deletes a session's recording (an official's decision): the files go, the row stays to say so.
pub async fn delete(db: &impl ConnectionTrait, who: &Moderates, f: &RecordingFiles) -> Result<(), ServiceError> {
    let r = db::for_session(db, who.session().id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if matches!(r.state, RecordingState::Recording | RecordingState::Paused) {
        return Err(ServiceError::refused(
            "直播仍在录制，结束培训后才能删除录像",
            "the lecture is still being recorded; end the session first",
        ));
    }
    remove_files(f, &r).await?;
    db::mark_deleted(db, r.id, Some(who.person()), Utc::now()).await?;
    tracing::info!(
        session = r.session_id,
        recording = r.id,
        "recording deleted by an official"
    );
    Ok(())
}

/// Finalises recordings whose lecture ended while no room was writing them (the session was ended
/// from its page, or by the forgotten-session job, or the process died mid-lecture): the unfinished
/// files are recovered (`mediafile::webm::recover`) and made seekable. With several nodes, only the
/// node holding the files does it: on another node they are missing, which says nothing about them.
pub async fn finalise_orphans(db: &impl ConnectionTrait, f: &RecordingFiles) -> Result<usize, ServiceError> {
    let dir = &f.dir;
    let mut done = 0;
    // A room finalises its own recording within seconds of the end; this waits well past that, so it
    // never touches a file a room is still writing.
    let settled = Utc::now() - Duration::minutes(2);
    for r in db::unfinished(db).await? {
        let ended = sessions_db::get(db, r.session_id)
            .await?
            .is_none_or(|s| s.status != SessionStatus::Live && s.ended_at.is_none_or(|e| e < settled));
        if !ended || (f.several_nodes && !crate::domain::recording::files(dir, &r.token).0.exists()) {
            continue;
        }
        let token = r.token.clone();
        let dir: PathBuf = dir.to_path_buf();
        let result = tokio::task::spawn_blocking(move || recover_files(&dir, &token))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        db::close_segments(db, r.id, None).await?;
        match result {
            Ok((duration, v, a)) => {
                db::set_progress(db, r.id, duration as i64, (v as i64, a as i64), Some(Utc::now())).await?;
                done += 1;
            }
            Err(e) => {
                tracing::error!(recording = r.id, error = %e, "an unfinished recording could not be recovered");
                db::mark_deleted(db, r.id, None, Utc::now()).await?;
            }
        }
    }
    Ok(done)
}

fn recover_files(dir: &Path, token: &str) -> std::io::Result<(u64, u64, u64)> {
    let (video, audio) = crate::domain::recording::files(dir, token);
    let mut sizes = [0u64; 2];
    let mut duration = 0;
    for (i, path) in [video, audio].iter().enumerate() {
        let mut f = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
        let summary = mediafile::webm::recover(&mut f)?;
        duration = duration.max(summary.duration_ms);
        sizes[i] = f.metadata()?.len();
    }
    Ok((duration, sizes[0], sizes[1]))
}

/// Deletes finished recordings older than `days` (0 keeps them).
pub async fn apply_retention(db: &impl ConnectionTrait, f: &RecordingFiles, days: u32) -> Result<usize, ServiceError> {
    if days == 0 {
        return Ok(0);
    }
    let old = db::finished_before(db, Utc::now() - Duration::days(i64::from(days))).await?;
    for r in &old {
        remove_files(f, r).await?;
        db::mark_deleted(db, r.id, None, Utc::now()).await?;
    }
    if !old.is_empty() {
        tracing::info!(count = old.len(), days, "recordings past their retention deleted");
    }
    Ok(old.len())
}

/// A listener of the live audio stream: her presence counts like the room's, an interval opened when
/// the stream starts, touched while audio reaches her, closed when she stops.
pub struct Listening {
    interval: i64,
}

/// Who may listen: anyone with a part in the session, while it is live.
pub async fn may_listen(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    session: i64,
) -> Result<SessionAccess, ServiceError> {
    let access = SessionAccess::of(db, user, session).await?;
    if access.session().status != SessionStatus::Live {
        return Err(ServiceError::refused(
            "直播尚未开始或已经结束",
            "the lecture is not live",
        ));
    }
    Ok(access)
}

impl Listening {
    pub async fn start(db: &impl ConnectionTrait, access: &SessionAccess) -> Result<Listening, ServiceError> {
        let interval = sessions_db::open_interval(db, access.session().id, access.person(), Utc::now()).await?;
        Ok(Listening { interval })
    }

    pub async fn touch(&self, db: &impl ConnectionTrait) -> Result<(), ServiceError> {
        Ok(sessions_db::touch_interval(db, self.interval, Utc::now()).await?)
    }

    pub async fn stop(self, db: &impl ConnectionTrait) -> Result<(), ServiceError> {
        Ok(sessions_db::close_interval(db, self.interval, Utc::now()).await?)
    }
}

/// The moderator opens or closes the make-up window (`set_makeup`), audited with the date as typed.
pub async fn set_makeup_by(
    db: &sea_orm::DatabaseConnection,
    who: &Moderates,
    until: Option<DateTime<Utc>>,
    typed: &str,
) -> Result<(), ServiceError> {
    let set = async |txn: &sea_orm::DatabaseTransaction| set_makeup(txn, who, until).await;
    let summary = |_: &()| match until {
        Some(_) => format!("开放回看补测至 {typed}"),
        None => "关闭回看补测".to_string(),
    };
    let object = format!("session:{}", who.session().id);
    super::audit::audited(db, &who.actor(), Action::MakeupWindow, object, set, summary).await
}

/// The moderator deletes the session's recording (`delete`), then it is audited: the files go first
/// (possibly over the network to the object store), outside any write transaction, so that saving
/// answers never waits on them.
pub async fn delete_by(
    db: &sea_orm::DatabaseConnection,
    who: &Moderates,
    f: &RecordingFiles,
) -> Result<(), ServiceError> {
    delete(db, who, f).await?;
    let object = format!("session:{}", who.session().id);
    super::audit::record(db, &who.actor(), Action::RecordingDelete, object, "删除录像").await
}
