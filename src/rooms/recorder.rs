//! The server-side tap on a live room's media: it records what a viewer sees and hears, and feeds the
//! live audio stream for listeners without WebRTC.
//!
//! - **Video**: the lecturer's screen share while one is running, else her camera. A switch waits for a
//!   keyframe of the new source (and asks for one), so the file never holds undecodable frames.
//! - **Audio**: one Opus track, the lecturer's voice or an invited chair's, whichever is speaking. Two
//!   Opus streams cannot be mixed without decoding them (no codec library in the default build), and a
//!   phone's player plays one audio track, so the tap switches between them: the louder by Opus bitrate
//!   (silence encodes to a few bytes, speech to 60–120), with hysteresis so a cough does not flip it.
//!   Overlapping speech keeps the louder voice; lectures and invited questions take turns.
//! - **Files**: `<token>.webm` (VP8 + Opus) and `<token>.audio.webm` (Opus only, for 仅听声音), written
//!   block by block on a thread of their own, each block a write to the file, so a crash loses at most the
//!   cluster being written (`mediafile::webm::recover`). Closing the room without ending the lecture
//!   leaves the files open for the next room to continue (`Writer::resume`); the end finalises them.
//! - **Time**: the file's clock runs only while recording. Each run is a segment stored with its
//!   wall-clock start (`db::recordings`), so a replay position maps back to the lecture.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use mediafile::vp8::FrameAssembler;
use mediafile::webm::{AudioTrack, Tracks, VideoTrack, Writer};
use sea_orm::DatabaseConnection;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::sfu::{Packet, Sfu, SlotId};
use crate::db::recordings as db;
use crate::domain::recording::{ChapterKind, RecordingRecord, RecordingState};

/// Where recordings go; `None` in the room settings turns recording off.
#[derive(Debug, Clone)]
pub struct RecordingConfig {
    pub dir: PathBuf,
    /// This node's id when there are several (`db::recordings::claim_writing`).
    pub node: Option<String>,
}

/// One 20 ms (or other) Opus packet of the live audio, for the HTTP stream.
#[derive(Debug, Clone)]
pub struct LiveAudio {
    pub data: Bytes,
    /// Its length in 48 kHz samples (the Ogg granule step).
    pub samples: u32,
}

pub enum Ctl {
    Pause(bool),
    Chapter(ChapterKind),
    /// Stop the tap; `finish` finalises the files (the lecture ended).
    Stop {
        finish: bool,
        done: oneshot::Sender<()>,
    },
    /// Stop the tap and close the files without a word to the database: another node hosts the room
    /// now and records it; what this copy would write (segments, sizes) would overwrite that.
    Abandon(oneshot::Sender<()>),
}

/// The room's handle on its tap.
pub struct Recorder {
    ctl: mpsc::UnboundedSender<Ctl>,
    live: broadcast::Sender<Arc<LiveAudio>>,
    /// What the room shows: recording, paused, or not recording at all (recording off or failed).
    pub state: Option<RecordingState>,
}

impl Recorder {
    /// Starts the tap for a live session: recording into its files if `config` allows (resuming them if
    /// an earlier room or process began them), paused if the moderator had paused it.
    pub async fn start(
        sfu: Arc<Sfu>,
        db: DatabaseConnection,
        session: i64,
        config: Option<RecordingConfig>,
    ) -> Recorder {
        let (live, _) = broadcast::channel(256);
        let (ctl, rx) = mpsc::unbounded_channel();
        let sink = match config {
            Some(c) => match open_sink(&db, session, &c).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!(session, error = %e, "recording could not start; the lecture goes on unrecorded");
                    None
                }
            },
            None => None,
        };
        let state = sink.as_ref().map(|s| s.record.state);
        let tap = Tap::new(sfu, db, live.clone(), sink);
        tokio::spawn(tap.run(rx));
        Recorder { ctl, live, state }
    }

    pub fn pause(&mut self, paused: bool) {
        if self.state.is_some() {
            self.state = Some(if paused {
                RecordingState::Paused
            } else {
                RecordingState::Recording
            });
            let _ = self.ctl.send(Ctl::Pause(paused));
        }
    }

    pub fn chapter(&self, kind: ChapterKind) {
        let _ = self.ctl.send(Ctl::Chapter(kind));
    }

    /// The live audio, from now on.
    pub fn listen(&self) -> broadcast::Receiver<Arc<LiveAudio>> {
        self.live.subscribe()
    }

    /// Stops the tap without touching the recording's row (another node records the room now).
    pub async fn abandon(self) {
        let (done, wait) = oneshot::channel();
        if self.ctl.send(Ctl::Abandon(done)).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(30), wait).await;
        }
    }

    /// Stops the tap and waits until the files are flushed (and finalised with `finish`).
    pub async fn stop(self, finish: bool) {
        let (done, wait) = oneshot::channel();
        if self.ctl.send(Ctl::Stop { finish, done }).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(30), wait).await;
        }
    }
}

/// The recording's row and the thread that writes its files.
struct Sink {
    record: RecordingRecord,
    tx: std::sync::mpsc::Sender<Write>,
    /// Where the file's clock stood when the tap started (a resumed file continues after its end).
    resumed_at_ms: u64,
}

async fn open_sink(db: &DatabaseConnection, session: i64, c: &RecordingConfig) -> Result<Sink, String> {
    std::fs::create_dir_all(&c.dir).map_err(|e| format!("{}: {e}", c.dir.display()))?;
    let record = db::create(db, session, &crate::services::tokens::new_token(), "local", Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    if !matches!(record.state, RecordingState::Recording | RecordingState::Paused) {
        return Err(format!("recording {} is {}", record.id, record.state.code()));
    }
    // Another node wrote it until now (the room moved here). In a folder the nodes share its files are
    // here and continue; otherwise they are on that node's disk, and the recording starts afresh here
    // under a new name.
    let here = crate::domain::recording::files(&c.dir, &record.token).0.exists();
    let fresh = (!here).then(crate::services::tokens::new_token);
    let record = match &c.node {
        Some(node)
            if db::claim_writing(db, record.id, node, fresh.as_deref())
                .await
                .map_err(|e| e.to_string())? =>
        {
            tracing::warn!(
                recording = record.id,
                "the room moved here: its recording starts afresh on this node"
            );
            db::for_session(db, session)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the recording vanished")?
        }
        _ => record,
    };
    let paths = crate::domain::recording::files(&c.dir, &record.token);
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready) = oneshot::channel();
    std::thread::Builder::new()
        .name("quorum-recorder".into())
        .spawn(move || write_files(paths, rx, ready_tx))
        .map_err(|e| e.to_string())?;
    let resumed_at_ms = ready.await.map_err(|e| e.to_string())??;
    Ok(Sink {
        record,
        tx,
        resumed_at_ms,
    })
}

/// What the writing thread is asked to do.
enum Write {
    Video {
        ts: u64,
        key: bool,
        data: Bytes,
    },
    Audio {
        ts: u64,
        data: Bytes,
    },
    /// Finalise (`true`) or just close; answers the sizes and the duration.
    Close(bool, oneshot::Sender<Written>),
}

#[derive(Debug, Default, Clone, Copy)]
struct Written {
    duration_ms: u64,
    video_bytes: u64,
    audio_bytes: u64,
}

/// Nominal size in the track header; players take the real size from each keyframe.
const VIDEO: VideoTrack = VideoTrack {
    width: 1280,
    height: 720,
};
const AUDIO: AudioTrack = AudioTrack {
    channels: 2,
    sample_rate: 48_000,
};

fn open_writer(path: &Path, tracks: Tracks) -> std::io::Result<Writer<std::fs::File>> {
    if path.exists() {
        let file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
        return Writer::resume(file);
    }
    Writer::new(std::fs::File::create(path)?, tracks)
}

/// The writing thread: opens (or resumes) both files, reports where their clock stands, then writes.
fn write_files(
    (av_path, audio_path): (PathBuf, PathBuf),
    rx: std::sync::mpsc::Receiver<Write>,
    ready: oneshot::Sender<Result<u64, String>>,
) {
    let opened = open_writer(
        &av_path,
        Tracks {
            video: Some(VIDEO),
            audio: Some(AUDIO),
        },
    )
    .and_then(|av| {
        let audio = open_writer(
            &audio_path,
            Tracks {
                video: None,
                audio: Some(AUDIO),
            },
        )?;
        Ok((av, audio))
    });
    let (mut av, mut audio) = match opened {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(Err(format!("{}: {e}", av_path.display())));
            return;
        }
    };
    let _ = ready.send(Ok(av.duration_ms().max(audio.duration_ms())));
    let mut failed = false;
    while let Ok(w) = rx.recv() {
        let result = match w {
            Write::Video { ts, key, data } => av.write_video(ts, key, &data),
            Write::Audio { ts, data } => av.write_audio(ts, &data).and_then(|_| audio.write_audio(ts, &data)),
            Write::Close(finish, reply) => {
                let _ = reply.send(close_files(av, audio, finish));
                return;
            }
        };
        if let Err(e) = result
            && !std::mem::replace(&mut failed, true)
        {
            tracing::error!(error = %e, "writing the recording failed");
        }
    }
}

fn close_files(av: Writer<std::fs::File>, audio: Writer<std::fs::File>, finish: bool) -> Written {
    let duration_ms = av.duration_ms().max(audio.duration_ms());
    let size = |f: &std::fs::File| f.metadata().map(|m| m.len()).unwrap_or(0);
    if !finish {
        return Written {
            duration_ms,
            video_bytes: size(av.get_ref()),
            audio_bytes: size(audio.get_ref()),
        };
    }
    match (av.finish(), audio.finish()) {
        (Ok(a), Ok(b)) => Written {
            duration_ms,
            video_bytes: size(&a),
            audio_bytes: size(&b),
        },
        (a, b) => {
            let e = a.err().or(b.err()).map(|e| e.to_string()).unwrap_or_default();
            tracing::error!(error = %e, "finalising the recording failed; the start-up check recovers it");
            Written {
                duration_ms,
                ..Written::default()
            }
        }
    }
}

/// Opus packet length in 48 kHz samples, from its TOC byte (RFC 6716 §3.1); 960 (20 ms) if unreadable.
pub fn opus_samples(packet: &[u8]) -> u32 {
    let Some(&toc) = packet.first() else { return 960 };
    let config = toc >> 3;
    // Frame length in units of 2.5 ms (= 120 samples).
    let units: u32 = match config {
        0..=11 => [4, 8, 16, 24][(config % 4) as usize],
        12..=15 => [4, 8][(config % 2) as usize],
        _ => [1, 2, 4, 8][(config % 4) as usize],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(1, |b| u32::from(b & 0x3f)),
    };
    (units * 120 * frames).clamp(120, 5760)
}

/// How recent a source's last packet must be for it to count as sending.
const ACTIVE: Duration = Duration::from_millis(250);
/// The least time between two switches of the recorded voice.
const SWITCH_HOLD: Duration = Duration::from_millis(600);
/// How long the screen share may be silent before the camera is recorded again.
const SCREEN_GONE: Duration = Duration::from_millis(1500);
/// Keyframe requests of the tap itself, at most this often.
const KEY_EVERY: Duration = Duration::from_secs(2);

/// Which voice is recorded: lecturer (0) or invited chair (1).
#[derive(Debug)]
struct Voices {
    level: [f32; 2],
    seen: [Option<Instant>; 2],
    chosen: usize,
    switched: Instant,
}

impl Voices {
    fn new(now: Instant) -> Voices {
        Voices {
            level: [0.0; 2],
            seen: [None; 2],
            chosen: 0,
            switched: now,
        }
    }

    /// Takes a packet's size from `source`; whether that packet is the one to record.
    fn take(&mut self, source: usize, size: usize, now: Instant) -> bool {
        self.level[source] = 0.8 * self.level[source] + 0.2 * size as f32;
        self.seen[source] = Some(now);
        let active = |i: usize| self.seen[i].is_some_and(|t| now.duration_since(t) < ACTIVE);
        let other = 1 - self.chosen;
        let louder = self.level[other] > self.level[self.chosen] * 1.25 + 10.0;
        if active(other) && (!active(self.chosen) || louder && now.duration_since(self.switched) >= SWITCH_HOLD) {
            self.chosen = other;
            self.switched = now;
        }
        source == self.chosen
    }
}

/// The tap's state between packets.
struct Tap {
    sfu: Arc<Sfu>,
    db: DatabaseConnection,
    live: broadcast::Sender<Arc<LiveAudio>>,
    sink: Option<Sink>,
    /// While recording (not paused): when this segment began and where the file's clock stood then.
    running: Option<(Instant, u64)>,
    /// The file's clock at its last block (the next segment continues after it).
    written_ms: u64,
    assemblers: [FrameAssembler; 2],
    video_seen: [Option<Instant>; 2],
    /// The video slot being recorded, and whether it still waits for a keyframe.
    video: Option<(usize, bool)>,
    last_key_request: Option<Instant>,
    voices: Voices,
    /// The running audio clock (ms, fractional) of the recording.
    audio_ms: f64,
}

fn slot_of_video(i: usize) -> SlotId {
    if i == 0 {
        SlotId::CameraVideo
    } else {
        SlotId::ScreenVideo
    }
}

impl Tap {
    fn new(sfu: Arc<Sfu>, db: DatabaseConnection, live: broadcast::Sender<Arc<LiveAudio>>, sink: Option<Sink>) -> Tap {
        let written_ms = sink.as_ref().map_or(0, |s| s.resumed_at_ms);
        Tap {
            sfu,
            db,
            live,
            sink,
            running: None,
            written_ms,
            assemblers: [FrameAssembler::new(), FrameAssembler::new()],
            video_seen: [None; 2],
            video: None,
            last_key_request: None,
            voices: Voices::new(Instant::now()),
            audio_ms: 0.0,
        }
    }

    async fn run(mut self, mut ctl: mpsc::UnboundedReceiver<Ctl>) {
        let mut rx = [
            self.sfu.subscribe(SlotId::CameraVideo),
            self.sfu.subscribe(SlotId::ScreenVideo),
            self.sfu.subscribe(SlotId::LecturerAudio),
            self.sfu.subscribe(SlotId::SpeakerAudio),
        ];
        if self
            .sink
            .as_ref()
            .is_some_and(|s| s.record.state == RecordingState::Recording)
        {
            self.begin_segment().await;
        }
        let [cam, screen, lecturer, speaker] = &mut rx;
        loop {
            tokio::select! {
                p = cam.recv() => self.video_packet(0, p),
                p = screen.recv() => self.video_packet(1, p),
                p = lecturer.recv() => self.audio_packet(0, p),
                p = speaker.recv() => self.audio_packet(1, p),
                c = ctl.recv() => match c {
                    Some(Ctl::Pause(paused)) => self.pause(paused).await,
                    Some(Ctl::Chapter(kind)) => self.chapter(kind).await,
                    Some(Ctl::Stop { finish, done }) => {
                        self.close(finish).await;
                        let _ = done.send(());
                        return;
                    }
                    Some(Ctl::Abandon(done)) => {
                        self.abandon().await;
                        let _ = done.send(());
                        return;
                    }
                    None => break,
                },
            }
        }
        self.close(false).await;
    }

    /// The file's clock now.
    fn clock_ms(&self) -> Option<u64> {
        self.running
            .map(|(since, base)| base + since.elapsed().as_millis() as u64)
    }

    async fn begin_segment(&mut self) {
        let Some(sink) = &self.sink else { return };
        // A little after the last block, so the two runs never share a timestamp.
        let base = if self.written_ms == 0 { 0 } else { self.written_ms + 500 };
        self.running = Some((Instant::now(), base));
        self.audio_ms = base as f64;
        self.video = None;
        let id = sink.record.id;
        if let Err(e) = db::open_segment(&self.db, id, base as i64, Utc::now()).await {
            tracing::error!(recording = id, error = %e, "storing a recording segment failed");
        }
        let _ = db::set_state(&self.db, id, RecordingState::Recording).await;
        if base == 0 {
            self.chapter(ChapterKind::Start).await;
        }
        self.sfu.request_all_keyframes();
    }

    async fn end_segment(&mut self, state: RecordingState) {
        let Some(sink) = &self.sink else { return };
        self.running = None;
        let _ = db::close_segments(&self.db, sink.record.id, Some(Utc::now())).await;
        let _ = db::set_state(&self.db, sink.record.id, state).await;
    }

    async fn pause(&mut self, paused: bool) {
        match (paused, self.running.is_some()) {
            (true, true) => self.end_segment(RecordingState::Paused).await,
            (false, false) => self.begin_segment().await,
            _ => {}
        }
    }

    async fn chapter(&mut self, kind: ChapterKind) {
        let (Some(sink), Some(at)) = (&self.sink, self.clock_ms()) else {
            return;
        };
        let _ = db::add_chapter(&self.db, sink.record.id, at as i64, kind, Utc::now()).await;
    }

    /// Closes the files (flushed, not finalised) and writes nothing to the database.
    async fn abandon(&mut self) {
        self.running = None;
        let Some(sink) = self.sink.take() else { return };
        let (reply, wait) = oneshot::channel();
        if sink.tx.send(Write::Close(false, reply)).is_ok() {
            let _ = wait.await;
        }
    }

    async fn close(&mut self, finish: bool) {
        let was_running = self.running.is_some();
        if was_running {
            self.end_segment(RecordingState::Recording).await;
        }
        let Some(sink) = self.sink.take() else { return };
        let (reply, wait) = oneshot::channel();
        if sink.tx.send(Write::Close(finish, reply)).is_err() {
            return;
        }
        let Ok(w) = wait.await else { return };
        let finished = finish.then(Utc::now);
        let sizes = (w.video_bytes as i64, w.audio_bytes as i64);
        if let Err(e) = db::set_progress(&self.db, sink.record.id, w.duration_ms as i64, sizes, finished).await {
            tracing::error!(recording = sink.record.id, error = %e, "storing the recording's size failed");
        }
        if !finish && !was_running {
            // Closed while paused: it stays paused for the next room.
            let _ = db::set_state(&self.db, sink.record.id, RecordingState::Paused).await;
        }
    }

    fn video_packet(&mut self, i: usize, p: Result<Arc<Packet>, broadcast::error::RecvError>) {
        let Ok(p) = p else { return };
        let now = Instant::now();
        self.video_seen[i] = Some(now);
        let frame = self.assemblers[i].push(
            p.header.sequence_number,
            p.header.timestamp,
            p.header.marker,
            &p.payload,
        );
        let Some(ts) = self.clock_ms() else { return };
        let want = usize::from(self.video_seen[1].is_some_and(|t| now.duration_since(t) < SCREEN_GONE));
        if self.video.map(|(s, _)| s) != Some(want) {
            self.video = Some((want, true));
            if want == 1 {
                let _ = self.chapter_now(ChapterKind::ScreenShare, ts);
            }
        }
        let Some((source, waiting)) = self.video else { return };
        if i != source {
            return;
        }
        if waiting || self.assemblers[i].needs_keyframe() {
            self.ask_keyframe(slot_of_video(i), now);
        }
        let Some(f) = frame else { return };
        if waiting && !f.keyframe {
            return;
        }
        self.video = Some((source, false));
        self.send(Write::Video {
            ts,
            key: f.keyframe,
            data: Bytes::from(f.data),
        });
        self.written_ms = self.written_ms.max(ts);
    }

    /// Stores a chapter from the packet path without waiting for the database.
    fn chapter_now(&self, kind: ChapterKind, at: u64) -> Option<()> {
        let id = self.sink.as_ref()?.record.id;
        let db = self.db.clone();
        tokio::spawn(async move {
            let _ = db::add_chapter(&db, id, at as i64, kind, Utc::now()).await;
        });
        Some(())
    }

    fn ask_keyframe(&mut self, slot: SlotId, now: Instant) {
        if self.last_key_request.is_none_or(|t| now.duration_since(t) >= KEY_EVERY) {
            self.last_key_request = Some(now);
            self.sfu.request_keyframe(slot);
        }
    }

    fn audio_packet(&mut self, source: usize, p: Result<Arc<Packet>, broadcast::error::RecvError>) {
        let Ok(p) = p else { return };
        if p.payload.is_empty() || !self.voices.take(source, p.payload.len(), Instant::now()) {
            return;
        }
        let samples = opus_samples(&p.payload);
        let _ = self.live.send(Arc::new(LiveAudio {
            data: p.payload.clone(),
            samples,
        }));
        let Some(now_ms) = self.clock_ms() else { return };
        // Audio keeps its own exact clock (packet lengths), pulled back to the wall clock after a loss
        // or a change of voice, so players never meet jittered audio timestamps.
        if (now_ms as f64 - self.audio_ms).abs() > 300.0 {
            self.audio_ms = now_ms as f64;
        }
        let ts = self.audio_ms as u64;
        self.audio_ms += f64::from(samples) / 48.0;
        self.send(Write::Audio {
            ts,
            data: p.payload.clone(),
        });
        self.written_ms = self.written_ms.max(ts);
    }

    fn send(&self, w: Write) {
        if let Some(s) = &self.sink {
            let _ = s.tx.send(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_packet_lengths_come_from_the_toc() {
        assert_eq!(
            opus_samples(&[0xfc, 0, 0]),
            960,
            "CELT 20 ms, one frame (WebRTC's usual)"
        );
        assert_eq!(opus_samples(&[0x78]), 960, "SILK wideband 20 ms");
        assert_eq!(opus_samples(&[0x79]), 1920, "two 20 ms frames");
        assert_eq!(opus_samples(&[0x5b, 0x02]), 2 * 2880, "code 3: two 60 ms frames");
        assert_eq!(opus_samples(&[0x4b, 0x03]), 3 * 960, "code 3: three 20 ms frames");
        assert_eq!(opus_samples(&[]), 960);
    }

    #[test]
    fn the_louder_voice_is_recorded_and_does_not_flap() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut v = Voices::new(t0);
        // The lecturer talks alone.
        for n in 0..20 {
            assert!(v.take(0, 100, ms(n * 20)));
        }
        // An invited chair's silent microphone: not recorded.
        assert!(!v.take(1, 4, ms(405)));
        // The lecturer stops (silence frames), the chair speaks: after the hold, her voice.
        let mut switched_at = None;
        for n in 21..80 {
            v.take(0, 4, ms(n * 20));
            if v.take(1, 110, ms(n * 20 + 5)) && switched_at.is_none() {
                switched_at = Some(n * 20);
            }
        }
        assert!(switched_at.is_some_and(|t| t >= 600), "{switched_at:?}");
        // The chair's packets stop entirely (she is muted): straight back to the lecturer.
        assert!(v.take(0, 4, ms(80 * 20 + 300)));
    }
}
