//! Replay: the page, the recording's files (with HTTP range requests), the player's progress reports,
//! the live audio stream for browsers without WebRTC, and the officials' make-up window and deletion.

use std::io::SeekFrom;
use std::path::PathBuf;

use actix_web::body::SizedStream;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use std::io::Read;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{html, redirect};
use crate::has_csrf;
use crate::rooms::RoomError;
use crate::services::access::SessionAccess;
use crate::services::recordings::{self, Listening};
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Require, SignedIn};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::replay as views;

#[derive(Deserialize)]
struct ReplayQuery {
    #[serde(default)]
    audio: bool,
    #[serde(default)]
    t: Option<u32>,
}

#[get(r"/sessions/{id:\d+}/replay")]
async fn page(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    q: web::Query<ReplayQuery>,
) -> Result<HttpResponse, AppError> {
    let page = recordings::page(&state.db, &me.user, *id).await?;
    Ok(html(views::replay_page(&me.ctx, &page, q.audio, q.t)))
}

/// A byte range of a file of `size` bytes, from a `Range` header. `Ok(None)`: the whole file (no
/// header, or several ranges, which players do not ask for); `Err`: unsatisfiable (416).
fn byte_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(from), Ok(to)) if from <= to => (from, to.min(size.saturating_sub(1))),
        (Ok(from), Err(_)) if b.is_empty() => (from, size.saturating_sub(1)),
        (Err(_), Ok(n)) if a.is_empty() && n > 0 => (size.saturating_sub(n), size.saturating_sub(1)),
        _ => return Err(()),
    };
    if size == 0 || range.0 >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// Serves a recording file with range requests. `inline` and `nodownload` on the player keep it a
/// thing to watch rather than to save; the URL names an unguessable token, and every request checks
/// the viewer's rights again.
async fn serve_file(req: &HttpRequest, path: PathBuf, content_type: &str) -> Result<HttpResponse, AppError> {
    let mut file = tokio::fs::File::open(&path).await.map_err(|_| AppError::NotFound)?;
    let size = file
        .metadata()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .len();
    let range = byte_range(req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()), size);
    let (status, from, to) = match range {
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Ok(None) => (StatusCode::OK, 0, size.saturating_sub(1)),
        Err(()) => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .finish());
        }
    };
    let len = if size == 0 { 0 } else { to - from + 1 };
    file.seek(SeekFrom::Start(from))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let chunks = futures_util::stream::unfold((file, len), |(mut f, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; left.min(64 * 1024) as usize];
        match f.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(buf)), (f, left - n as u64)))
            }
        }
    });
    let mut res = media_response(status, content_type);
    if status == StatusCode::PARTIAL_CONTENT {
        res.insert_header((header::CONTENT_RANGE, format!("bytes {from}-{to}/{size}")));
    }
    Ok(res.body(SizedStream::new(len, chunks)))
}

/// A recording file's response: ranges accepted, shown in the page rather than saved, cached by this
/// browser only.
fn media_response(status: StatusCode, content_type: &str) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.content_type(content_type)
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"));
    res
}

#[get("/replay/{token}/{file}")]
async fn media(
    req: HttpRequest,
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (token, file) = path.into_inner();
    let r = recordings::playable(&state.db, &me.user, &token).await?;
    let (video, audio) = crate::domain::recording::file_names(&r.token);
    let (name, content_type) = match file.as_str() {
        "video.webm" => (video, "video/webm"),
        "audio.webm" => (audio, "audio/webm"),
        _ => return Err(AppError::NotFound),
    };
    match (r.stored_remotely, state.recordings.store.clone()) {
        (true, Some(store)) => serve_remote(&req, store, recordings::object_key(&name), content_type).await,
        (true, None) => Err(AppError::NotFound),
        (false, _) => serve_file(&req, state.recordings.dir.join(name), content_type).await,
    }
}

/// Serves a file from the object store: the player's range goes to the store, its answer comes back
/// as it is read (a blocking read on a worker thread, passed on through a small channel).
async fn serve_remote(
    req: &HttpRequest,
    store: std::sync::Arc<crate::storage::S3Store>,
    key: String,
    content_type: &str,
) -> Result<HttpResponse, AppError> {
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let got = web::block(move || store.get(&key, range.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let status = StatusCode::from_u16(got.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if status == StatusCode::NOT_FOUND {
        return Err(AppError::NotFound);
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let mut body = got.body;
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(Ok(Bytes::copy_from_slice(&buf[..n]))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut res = media_response(status, content_type);
    if let Some(cr) = got.content_range {
        res.insert_header((header::CONTENT_RANGE, cr));
    }
    Ok(match got.length {
        Some(len) => res.body(SizedStream::new(len, chunks)),
        None => res.streaming(chunks),
    })
}

#[derive(Deserialize)]
struct ProgressForm {
    csrf: String,
    device: String,
    position_ms: i64,
    #[serde(default)]
    jumped: bool,
}
has_csrf!(ProgressForm);

/// A playing page's report (every few seconds, and at each seek, pause and end); answers her
/// attendance as it now stands.
#[post("/replay/{token}/progress")]
async fn progress(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    token: web::Path<String>,
    form: CsrfForm<ProgressForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    let watched = recordings::heartbeat(&state.db, &me.user, &token, &f.device, f.position_ms, f.jumped).await?;
    Ok(HttpResponse::Ok().json(watched.map(|w| {
        serde_json::json!({
            "live_minutes": w.live_minutes,
            "replay_minutes": w.replay_minutes,
            "percent": (w.share * 100.0).floor(),
            "gate": w.gate,
            "meets_gate": w.meets_gate,
        })
    })))
}

/// The page that plays the live lecture's audio in a plain `<audio>` element.
#[get(r"/sessions/{id:\d+}/listen")]
async fn listen_page(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let access = SessionAccess::of(&state.db, &me.user, *id).await?;
    Ok(html(views::listen_page(&me.ctx, access.session())))
}

/// Closes the listener's attendance interval when the stream ends or she goes away.
struct ListenGuard {
    listening: Option<Listening>,
    db: sea_orm::DatabaseConnection,
}

impl Drop for ListenGuard {
    fn drop(&mut self) {
        if let Some(l) = self.listening.take() {
            let db = self.db.clone();
            actix_web::rt::spawn(async move {
                let _ = l.stop(&db).await;
            });
        }
    }
}

/// The live lecture's audio as an endless Ogg/Opus stream: each listener gets the Opus packets the
/// room forwards, in pages of her own stream (numbered from her start).
#[get(r"/sessions/{id:\d+}/live.ogg")]
async fn live_audio(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let access = recordings::may_listen(&state.db, &me.user, *id).await?;
    let rx = match state.rooms.listen(*id).await {
        Ok(rx) => rx.ok_or(AppError::NotFound)?,
        // Another node hosts the room: the same address there (the sign-in cookie is the site's).
        Err(RoomError::Elsewhere(url)) => {
            return Ok(HttpResponse::TemporaryRedirect()
                .insert_header((header::LOCATION, format!("{url}{}", urls::live_audio(*id))))
                .finish());
        }
        Err(e @ RoomError::NoNode) => return Err(AppError::Unavailable(e.to_string())),
        // As before there were nodes: no live audio to be had.
        Err(RoomError::Failed(_)) => return Err(AppError::NotFound),
    };
    let listening = Listening::start(&state.db, &access).await?;
    let guard = ListenGuard {
        listening: Some(listening),
        db: state.db.clone(),
    };
    let ogg = mediafile::ogg::OpusStream::new(rand::random());
    let head = Bytes::from(ogg.headers());
    let start = std::time::Instant::now();
    let pages = futures_util::stream::unfold(
        (rx, ogg, 312u64, guard, start),
        |(mut rx, mut ogg, mut granule, guard, mut touched)| async move {
            loop {
                match rx.recv().await {
                    Ok(a) => {
                        granule += u64::from(a.samples);
                        let out = Bytes::from(ogg.page(&a.data, granule));
                        if touched.elapsed() >= std::time::Duration::from_secs(30) {
                            touched = std::time::Instant::now();
                            if let Some(l) = &guard.listening {
                                let _ = l.touch(&guard.db).await;
                            }
                        }
                        return Some((Ok::<Bytes, std::io::Error>(out), (rx, ogg, granule, guard, touched)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    let body = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(head) }).chain(pages);
    Ok(HttpResponse::Ok()
        .content_type("audio/ogg")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

#[derive(Deserialize)]
struct MakeupForm {
    csrf: String,
    /// `YYYY-MM-DD`, Shanghai time; the window closes at the end of that day. Empty closes it.
    #[serde(default)]
    makeup_until: String,
}
has_csrf!(MakeupForm);

#[post(r"/sessions/{id:\d+}/makeup")]
async fn set_makeup(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    form: CsrfForm<MakeupForm>,
) -> Result<HttpResponse, AppError> {
    let who = SessionAccess::of(&state.db, &me.user, *id).await?.moderates()?;
    let raw = form.0.makeup_until.trim().to_string();
    let until = match raw.as_str() {
        "" => None,
        day => Some(crate::domain::time::end_of_shanghai_day(day).ok_or_else(|| {
            crate::services::ServiceError::rejected(
                "makeup_until",
                "日期格式应为 2026-12-09",
                "use a date like 2026-12-09",
            )
        })?),
    };
    match recordings::set_makeup_by(&state.db, &who, until, &raw).await {
        Ok(()) => Ok(redirect(&urls::session(*id))),
        Err(crate::services::ServiceError::Rejected(e)) => Ok(super::html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            views::makeup_error(&me.ctx, *id, &raw, &e),
        )),
        Err(e) => Err(e.into()),
    }
}

#[post(r"/sessions/{id:\d+}/recording/delete")]
async fn delete(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    id: web::Path<i64>,
    _form: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    let who = SessionAccess::of(&state.db, &me.user, *id).await?.moderates()?;
    recordings::delete_by(&state.db, &who, &state.recordings).await?;
    Ok(redirect(&urls::session(*id)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(media)
        .service(progress)
        .service(listen_page)
        .service(live_audio)
        .service(set_makeup)
        .service(delete);
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn ranges_as_players_ask_for_them() {
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-"), 100), Ok(Some((0, 99))));
        assert_eq!(byte_range(Some("bytes=10-19"), 100), Ok(Some((10, 19))));
        assert_eq!(byte_range(Some("bytes=90-200"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(byte_range(Some("bytes=5-2"), 100), Err(()));
        assert_eq!(byte_range(Some("bytes=abc"), 100), Err(()));
    }
}
