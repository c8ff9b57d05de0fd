//! A session's recording as the rest of the service sees it.

use chrono::{DateTime, Utc};

use super::replay::Segment;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingState {
    /// Being written (the lecture is live and recording is on).
    Recording,
    /// The moderator paused it; the file stays open.
    Paused,
    /// Finalised: seekable, ready for replay.
    Finished,
    /// Deleted by an official or by retention; the row stays so reports can say it existed.
    Deleted,
}

impl RecordingState {
    pub fn code(self) -> &'static str {
        match self {
            RecordingState::Recording => "recording",
            RecordingState::Paused => "paused",
            RecordingState::Finished => "finished",
            RecordingState::Deleted => "deleted",
        }
    }

    pub fn parse(code: &str) -> RecordingState {
        match code {
            "recording" => RecordingState::Recording,
            "paused" => RecordingState::Paused,
            "finished" => RecordingState::Finished,
            _ => RecordingState::Deleted,
        }
    }
}

/// A mark a replay shows on its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChapterKind {
    /// The lecture (or recording) began.
    Start,
    /// The lecturer started sharing a screen.
    ScreenShare,
    /// The in-class quiz opened.
    QuizOpened,
}

impl ChapterKind {
    pub fn code(self) -> &'static str {
        match self {
            ChapterKind::Start => "start",
            ChapterKind::ScreenShare => "screen",
            ChapterKind::QuizOpened => "quiz",
        }
    }

    pub fn parse(code: &str) -> Option<ChapterKind> {
        match code {
            "start" => Some(ChapterKind::Start),
            "screen" => Some(ChapterKind::ScreenShare),
            "quiz" => Some(ChapterKind::QuizOpened),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chapter {
    pub media_ms: i64,
    pub kind: ChapterKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRecord {
    pub id: i64,
    pub session_id: i64,
    /// Names the files and the replay URL; random, so neither can be guessed.
    pub token: String,
    pub state: RecordingState,
    /// The files were uploaded to the object store (`storage`) and are served from there.
    pub stored_remotely: bool,
    pub duration_ms: i64,
    pub video_bytes: i64,
    pub audio_bytes: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub segments: Vec<Segment>,
    pub chapters: Vec<Chapter>,
}

impl RecordingRecord {
    /// Whether it can be played back (finalised, not deleted).
    pub fn playable(&self) -> bool {
        self.state == RecordingState::Finished
    }
}

/// The files of a recording, named by its token: video with voice, and voice only (仅听声音).
pub fn file_names(token: &str) -> (String, String) {
    (format!("{token}.webm"), format!("{token}.audio.webm"))
}

/// The same files in the folder `dir`.
pub fn files(dir: &std::path::Path, token: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (video, audio) = file_names(token);
    (dir.join(video), dir.join(audio))
}
