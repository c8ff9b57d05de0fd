//! WebM (the Matroska subset browsers play) with VP8 video and Opus audio.
//!
//! The layout is chosen so that a file cut off anywhere is still a playable prefix: the Segment and each
//! Cluster start with an 8-byte "unknown" size. [`Writer`] overwrites each Cluster's size once the Cluster is
//! complete, and at [`Writer::finish`] appends Cues and patches the Duration, the SeekHead and the Segment
//! size, which browsers need to seek. [`recover`] does the same for a file whose writer died, and
//! [`Writer::resume`] carries on writing such a file (a lecture whose room closed and reopened).

mod probe;
mod recover;
mod resume;
mod scan;
mod writer;

#[cfg(test)]
mod tests;

use std::io::{self, Seek, SeekFrom, Write};

use crate::ebml;

pub use probe::{BlockInfo, Probe, ProbeError, TrackInfo, TrackKind, probe};
pub use recover::{RecoverySummary, Truncate, recover};
pub use writer::Writer;

/// The tracks of a recording; at least one should be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tracks {
    /// VP8 video; becomes track number 1.
    pub video: Option<VideoTrack>,
    /// Opus audio; becomes track number 2, or 1 when there is no video.
    pub audio: Option<AudioTrack>,
}

/// A VP8 video track's frame size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoTrack {
    pub width: u16,
    pub height: u16,
}

/// An Opus audio track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioTrack {
    /// 1 or 2 (Opus channel mapping family 0).
    pub channels: u8,
    /// Written as SamplingFrequency; Opus always decodes at 48000, so pass 48000.
    pub sample_rate: u32,
}

/// Bytes reserved right after the Segment header for the SeekHead (Info, Tracks, Cues; 75 bytes with
/// 8-byte sizes and positions) plus a Void filling the rest.
const RESERVED_LEN: usize = 96;
/// The Duration element (2-byte ID, 1-byte size, 8-byte float) or, until known, a Void of the same length.
const DURATION_SLOT_LEN: usize = 11;

/// Where the placeholders patched at the end live, as absolute file offsets.
#[derive(Debug, Clone, Copy)]
struct Layout {
    segment_size_pos: u64,
    segment_data: u64,
    reserved_pos: u64,
    reserved_len: usize,
    duration_pos: u64,
    info_pos: u64,
    tracks_pos: u64,
}

/// A cue point: a Cluster that starts with a keyframe (or any Cluster of an audio-only file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cue {
    time_ms: u64,
    /// Offset of the Cluster from the start of the Segment's data.
    cluster_pos: u64,
}

/// Writes Cues at `end` (the end of the last Cluster, whose size is already patched), then patches the
/// Duration, SeekHead and Segment size, and leaves `out` positioned at the new end.
fn finalize<W: Write + Seek>(
    out: &mut W,
    end: u64,
    layout: &Layout,
    cues: &[Cue],
    cue_track: u64,
    duration_ms: u64,
) -> io::Result<()> {
    let mut seeks = vec![(ebml::INFO, layout.info_pos), (ebml::TRACKS, layout.tracks_pos)];
    let mut new_end = end;
    if !cues.is_empty() {
        let bytes = cues_element(cues, cue_track);
        out.seek(SeekFrom::Start(end))?;
        out.write_all(&bytes)?;
        seeks.push((ebml::CUES, end));
        new_end += bytes.len() as u64;
    }
    write_at(out, layout.duration_pos, &duration_slot(duration_ms))?;
    let seeks: Vec<(u32, u64)> = seeks
        .into_iter()
        .map(|(id, pos)| (id, pos - layout.segment_data))
        .collect();
    let head = seek_head(&seeks, layout.reserved_len).ok_or_else(|| invalid("no room for the SeekHead"))?;
    write_at(out, layout.reserved_pos, &head)?;
    let size = ebml::size_fixed(new_end - layout.segment_data, 8).ok_or_else(|| invalid("segment too large"))?;
    write_at(out, layout.segment_size_pos, &size)?;
    out.seek(SeekFrom::Start(new_end))?;
    out.flush()
}

fn write_at<W: Write + Seek>(out: &mut W, pos: u64, bytes: &[u8]) -> io::Result<()> {
    out.seek(SeekFrom::Start(pos))?;
    out.write_all(bytes)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn cues_element(cues: &[Cue], track: u64) -> Vec<u8> {
    let mut points = Vec::new();
    for cue in cues {
        let mut positions = Vec::new();
        ebml::uint(&mut positions, ebml::CUE_TRACK, track);
        ebml::uint(&mut positions, ebml::CUE_CLUSTER_POSITION, cue.cluster_pos);
        let mut point = Vec::new();
        ebml::uint(&mut point, ebml::CUE_TIME, cue.time_ms);
        ebml::element(&mut point, ebml::CUE_TRACK_POSITIONS, &positions);
        ebml::element(&mut points, ebml::CUE_POINT, &point);
    }
    let mut out = Vec::new();
    ebml::element(&mut out, ebml::CUES, &points);
    out
}

/// The Duration element, or a Void of the same length when there is nothing to time (Duration must be > 0).
fn duration_slot(duration_ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    if duration_ms == 0 {
        out.extend(ebml::void(DURATION_SLOT_LEN).unwrap_or_default());
    } else {
        ebml::float(&mut out, ebml::DURATION, duration_ms as f64);
    }
    out
}

/// A SeekHead for `(id, segment-relative position)` entries, padded with a Void to exactly `len` bytes.
fn seek_head(entries: &[(u32, u64)], len: usize) -> Option<Vec<u8>> {
    let mut seeks = Vec::new();
    for &(id, pos) in entries {
        let mut seek = Vec::new();
        ebml::element(&mut seek, ebml::SEEK_ID, &id.to_be_bytes());
        ebml::element(&mut seek, ebml::SEEK_POSITION, &pos.to_be_bytes());
        ebml::element(&mut seeks, ebml::SEEK, &seek);
    }
    let mut out = Vec::new();
    ebml::put_id(&mut out, ebml::SEEK_HEAD);
    out.extend(ebml::size_fixed(seeks.len() as u64, 8)?);
    out.extend(seeks);
    if out.len() < len {
        out.extend(ebml::void(len - out.len())?);
    }
    (out.len() == len).then_some(out)
}
