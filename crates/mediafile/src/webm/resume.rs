//! Reading back an unfinished recording so that [`super::Writer::resume`] can carry on writing it.

use std::io::{self, Read, Seek, Write};

use super::probe::{TrackInfo, TrackKind};
use super::recover::{Truncate, scan_file, trim};
use super::scan::Scan;
use super::{AudioTrack, Cue, Layout, Tracks, VideoTrack, invalid};

/// What a [`super::Writer`] needs to write on at the end of a file: a new file's, or one read back from an
/// unfinished file trimmed to its last complete block.
#[derive(Debug)]
pub(super) struct WriterState {
    pub tracks: Tracks,
    pub layout: Layout,
    /// The end of the trimmed file, where writing continues.
    pub end: u64,
    pub cues: Vec<Cue>,
    pub last_video_ms: Option<u64>,
    pub last_audio_ms: Option<u64>,
    pub max_ms: u64,
    pub blocks: u64,
}

/// Scans `file`, refuses it if it was finished, then trims it as [`super::recover`] does (the last Cluster
/// gets its real size, so the next block opens a new one) and returns the state to continue from.
pub(super) fn resume_state<F: Read + Write + Seek + Truncate>(file: &mut F) -> io::Result<WriterState> {
    let scan = scan_file(file)?;
    if is_finished(&scan) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the recording is finished; only an unfinished one can be resumed",
        ));
    }
    // Checked before trimming so that a foreign file is left as it was.
    let tracks = tracks_of(&scan.tracks)?;
    let trimmed = trim(file, &scan)?;
    let last_ms = |number: Option<u64>| last_ms(&scan, number?);
    let (video, audio) = track_numbers(tracks);
    Ok(WriterState {
        tracks,
        layout: trimmed.layout,
        end: trimmed.end,
        cues: trimmed.cues,
        last_video_ms: last_ms(video),
        last_audio_ms: last_ms(audio),
        max_ms: scan
            .blocks
            .iter()
            .map(|b| b.info.ts_ms.max(0) as u64)
            .max()
            .unwrap_or(0),
        blocks: scan.blocks.len() as u64,
    })
}

/// `finish` (or `recover`) has run, at least in part: Cues, a Duration or a known Segment size are only
/// ever written there. Appending now would leave them describing a shorter file.
fn is_finished(scan: &Scan) -> bool {
    scan.has_cues || scan.duration_ms.is_some() || scan.segment.is_some_and(|s| s.size.is_some())
}

/// The numbers [`super::Writer`] gives its tracks: video 1, audio 2 after video or else 1.
pub(super) fn track_numbers(tracks: Tracks) -> (Option<u64>, Option<u64>) {
    let video = tracks.video.map(|_| 1);
    let audio = tracks.audio.map(|_| if tracks.video.is_some() { 2 } else { 1 });
    (video, audio)
}

/// The latest timestamp of a track's blocks.
fn last_ms(scan: &Scan, track: u64) -> Option<u64> {
    scan.blocks
        .iter()
        .filter(|b| b.info.track == track)
        .map(|b| b.info.ts_ms.max(0) as u64)
        .max()
}

/// The [`Tracks`] a file's track list was written from; anything our writer would not have written (other
/// codecs, numbering or order) is refused, since the blocks appended would not fit it.
fn tracks_of(infos: &[TrackInfo]) -> io::Result<Tracks> {
    let foreign = || invalid("the track list was not written by mediafile::webm::Writer");
    let mut tracks = Tracks::default();
    for info in infos {
        match (info.kind, info.codec_id.as_str()) {
            (TrackKind::Video, "V_VP8") if tracks == Tracks::default() => tracks.video = Some(video_of(info)?),
            (TrackKind::Audio, "A_OPUS") if tracks.audio.is_none() => tracks.audio = Some(audio_of(info)?),
            _ => return Err(foreign()),
        }
        let (video, audio) = track_numbers(tracks);
        let expected = if info.kind == TrackKind::Video { video } else { audio };
        if expected != Some(info.number) {
            return Err(foreign());
        }
    }
    if tracks == Tracks::default() {
        return Err(foreign());
    }
    Ok(tracks)
}

fn video_of(info: &TrackInfo) -> io::Result<VideoTrack> {
    let pixels = |n: Option<u64>| {
        n.and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| invalid("bad video frame size"))
    };
    Ok(VideoTrack {
        width: pixels(info.width)?,
        height: pixels(info.height)?,
    })
}

fn audio_of(info: &TrackInfo) -> io::Result<AudioTrack> {
    let channels = info
        .channels
        .and_then(|c| u8::try_from(c).ok())
        .filter(|c| (1..=2).contains(c))
        .ok_or_else(|| invalid("Opus audio must have 1 or 2 channels"))?;
    let sample_rate = info
        .sample_rate
        .filter(|r| (1.0..=f64::from(u32::MAX)).contains(r))
        .ok_or_else(|| invalid("bad audio sampling frequency"))?;
    Ok(AudioTrack {
        channels,
        sample_rate: sample_rate as u32,
    })
}
