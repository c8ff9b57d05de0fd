//! Reading a WebM file back: what its tracks are and where every block lies.

use std::fmt;

use super::scan::{ScanError, scan};

/// What [`probe`] found in a WebM file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// The EBML DocType, "webm" for our files.
    pub doc_type: String,
    pub tracks: Vec<TrackInfo>,
    /// Info's Duration in ms; None until the file is finished.
    pub duration_ms: Option<f64>,
    /// Whether the Segment has a Cues element (needed for seeking).
    pub has_cues: bool,
    /// Every SimpleBlock in file order.
    pub blocks: Vec<BlockInfo>,
}

/// One TrackEntry.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackInfo {
    pub number: u64,
    pub codec_id: String,
    pub kind: TrackKind,
    /// PixelWidth and PixelHeight, for video.
    pub width: Option<u64>,
    pub height: Option<u64>,
    /// Channels and SamplingFrequency, for audio.
    pub channels: Option<u64>,
    pub sample_rate: Option<f64>,
}

/// A track's TrackType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    Video,
    Audio,
    Other(u64),
}

/// One SimpleBlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    pub track: u64,
    /// Cluster timestamp plus the block's offset, in ms.
    pub ts_ms: i64,
    pub keyframe: bool,
    /// Bytes of frame data (after the 4-byte block header).
    pub size: usize,
}

/// Why a file could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// The data ends inside the element starting at `offset`.
    Truncated { offset: u64 },
    /// The bytes at `offset` are not what WebM allows there.
    Invalid { offset: u64, reason: &'static str },
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { offset } => write!(f, "the file ends inside the element at byte {offset}"),
            Self::Invalid { offset, reason } => write!(f, "invalid WebM at byte {offset}: {reason}"),
        }
    }
}

impl std::error::Error for ProbeError {}

/// Reads a whole WebM file. Unknown-size Segments and Clusters are understood (an unknown-size Cluster ends
/// where the next Segment-level element begins); a file cut off inside an element is an error.
pub fn probe(bytes: &[u8]) -> Result<Probe, ProbeError> {
    let mut source = bytes;
    let scan = scan(&mut source).map_err(ProbeError::from)?;
    if let Some(stop) = scan.stop {
        return Err(stop.into());
    }
    Ok(Probe {
        doc_type: scan.doc_type,
        tracks: scan.tracks,
        duration_ms: scan.duration_ms,
        has_cues: scan.has_cues,
        blocks: scan.blocks.into_iter().map(|b| b.info).collect(),
    })
}

impl From<ScanError> for ProbeError {
    fn from(error: ScanError) -> Self {
        match error {
            ScanError::Truncated(offset) => Self::Truncated { offset },
            ScanError::Invalid(offset, reason) => Self::Invalid { offset, reason },
            // Reading a slice cannot fail.
            ScanError::Io(_) => Self::Invalid {
                offset: 0,
                reason: "read error",
            },
        }
    }
}
