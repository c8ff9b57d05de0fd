//! One pass over a WebM file that records what probing and recovery need, reading block headers only.

use std::io::{self, Read, Seek, SeekFrom};

use super::probe::{BlockInfo, TrackInfo, TrackKind};
use crate::ebml;

/// Random access to the file being scanned.
pub(crate) trait Source {
    /// Fills `out` from `pos`; Ok(false) if the source ends first.
    fn read_at(&mut self, pos: u64, out: &mut [u8]) -> io::Result<bool>;
    fn len(&self) -> u64;
}

impl Source for &[u8] {
    fn read_at(&mut self, pos: u64, out: &mut [u8]) -> io::Result<bool> {
        let start = usize::try_from(pos).unwrap_or(usize::MAX);
        let Some(bytes) = self.get(start..).and_then(|rest| rest.get(..out.len())) else {
            return Ok(false);
        };
        out.copy_from_slice(bytes);
        Ok(true)
    }

    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
}

/// A file read through a window, so that scanning a long recording reads it once and holds little of it.
pub(crate) struct FileSource<'a, F> {
    file: &'a mut F,
    len: u64,
    window_pos: u64,
    window: Vec<u8>,
}

const WINDOW: usize = 256 * 1024;

impl<'a, F: Read + Seek> FileSource<'a, F> {
    pub(crate) fn new(file: &'a mut F) -> io::Result<Self> {
        let len = file.seek(SeekFrom::End(0))?;
        Ok(Self {
            file,
            len,
            window_pos: 0,
            window: Vec::new(),
        })
    }
}

impl<F: Read + Seek> Source for FileSource<'_, F> {
    fn read_at(&mut self, pos: u64, out: &mut [u8]) -> io::Result<bool> {
        let end = pos + out.len() as u64;
        if end > self.len {
            return Ok(false);
        }
        if pos < self.window_pos || end > self.window_pos + self.window.len() as u64 {
            let n = (self.len - pos).min(WINDOW.max(out.len()) as u64) as usize;
            self.file.seek(SeekFrom::Start(pos))?;
            self.window.resize(n, 0);
            self.file.read_exact(&mut self.window)?;
            self.window_pos = pos;
        }
        let offset = (pos - self.window_pos) as usize;
        out.copy_from_slice(&self.window[offset..offset + out.len()]);
        Ok(true)
    }

    fn len(&self) -> u64 {
        self.len
    }
}

#[derive(Debug)]
pub(crate) enum ScanError {
    Io(io::Error),
    /// The data ends inside the element at this offset.
    Truncated(u64),
    Invalid(u64, &'static str),
}

impl From<io::Error> for ScanError {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

type Result<T> = std::result::Result<T, ScanError>;

/// An element header: where it is, and its size (None if unknown).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub id: u32,
    pub pos: u64,
    pub size_pos: u64,
    pub size_len: usize,
    pub data: u64,
    pub size: Option<u64>,
}

impl Header {
    fn end(&self) -> Option<u64> {
        self.size.map(|size| self.data + size)
    }
}

#[derive(Debug)]
pub(crate) struct ClusterScan {
    pub header: Header,
    pub time: u64,
    /// Index in [`Scan::blocks`] of this Cluster's first block.
    pub first_block: usize,
}

#[derive(Debug)]
pub(crate) struct BlockScan {
    pub info: BlockInfo,
    /// Offset just past the SimpleBlock element.
    pub end: u64,
}

/// Everything found up to the end of the file or to `stop`.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub doc_type: String,
    pub tracks: Vec<TrackInfo>,
    pub duration_ms: Option<f64>,
    pub has_cues: bool,
    pub clusters: Vec<ClusterScan>,
    pub blocks: Vec<BlockScan>,
    pub segment: Option<Header>,
    /// The first element in the Segment (our writer's SeekHead or the Void reserving its room).
    pub first_child: Option<Header>,
    pub info_pos: Option<u64>,
    pub duration_slot: Option<u64>,
    pub tracks_pos: Option<u64>,
    pub tracks_end: Option<u64>,
    /// Why the scan ended before the end of the Segment.
    pub stop: Option<ScanError>,
    scale: u64,
}

/// Scans a file; only an unusable EBML header or Segment header, or an I/O error, is an `Err`.
pub(crate) fn scan<S: Source>(src: &mut S) -> Result<Scan> {
    let len = src.len();
    let head = read_header(src, 0, len)?;
    let head_end = head
        .end()
        .filter(|_| head.id == ebml::EBML)
        .ok_or(ScanError::Invalid(0, "not an EBML file"))?;
    let mut scan = Scan {
        scale: 1_000_000,
        ..Scan::default()
    };
    each_child(src, &head, |src, child| {
        if child.id == ebml::DOC_TYPE {
            scan.doc_type = read_string(src, child)?;
        }
        Ok(())
    })?;
    let segment = read_header(src, head_end, len)?;
    if segment.id != ebml::SEGMENT {
        return Err(ScanError::Invalid(head_end, "no Segment after the EBML header"));
    }
    scan.segment = Some(segment);
    let end = segment.end().map_or(len, |end| end.min(len));
    match scan_segment(src, &mut scan, segment.data, end) {
        Err(ScanError::Io(error)) => return Err(ScanError::Io(error)),
        Err(stop) => scan.stop = Some(stop),
        Ok(()) if segment.end().is_some_and(|e| e > len) => scan.stop = Some(ScanError::Truncated(segment.pos)),
        Ok(()) => {}
    }
    Ok(scan)
}

fn scan_segment<S: Source>(src: &mut S, scan: &mut Scan, start: u64, end: u64) -> Result<()> {
    let mut pos = start;
    while pos < end {
        let h = read_header(src, pos, end)?;
        if h.id == ebml::CLUSTER {
            pos = scan_cluster(src, scan, h, end)?;
            continue;
        }
        let h_end = h
            .end()
            .ok_or(ScanError::Invalid(pos, "unknown size outside a Cluster"))?;
        if h_end > end {
            return Err(ScanError::Truncated(pos));
        }
        if pos == start {
            scan.first_child = Some(h);
        }
        match h.id {
            ebml::INFO => scan_info(src, scan, &h)?,
            ebml::TRACKS => scan_tracks(src, scan, &h)?,
            ebml::CUES => scan.has_cues = true,
            _ => {}
        }
        pos = h_end;
    }
    Ok(())
}

/// Records a Cluster and its blocks; returns where the next Segment-level element starts.
fn scan_cluster<S: Source>(src: &mut S, scan: &mut Scan, cluster: Header, segment_end: u64) -> Result<u64> {
    let declared_end = cluster.end().unwrap_or(segment_end);
    let end = declared_end.min(segment_end);
    scan.clusters.push(ClusterScan {
        header: cluster,
        time: 0,
        first_block: scan.blocks.len(),
    });
    let mut pos = cluster.data;
    while pos < end {
        let h = read_header(src, pos, end)?;
        if cluster.size.is_none() && ebml::is_segment_child(h.id) {
            return Ok(pos);
        }
        let h_end = h
            .end()
            .ok_or(ScanError::Invalid(pos, "unknown size inside a Cluster"))?;
        if h_end > end {
            return Err(ScanError::Truncated(pos));
        }
        match h.id {
            ebml::TIMESTAMP => {
                let time = read_uint(src, &h)?;
                if let Some(last) = scan.clusters.last_mut() {
                    last.time = time;
                }
            }
            ebml::SIMPLE_BLOCK => scan_block(src, scan, &h)?,
            _ => {}
        }
        pos = h_end;
    }
    if declared_end > segment_end {
        return Err(ScanError::Truncated(cluster.pos));
    }
    Ok(end)
}

fn scan_block<S: Source>(src: &mut S, scan: &mut Scan, h: &Header) -> Result<()> {
    let mut first = [0u8];
    read(src, h.data, &mut first)?;
    let track_len = first[0].leading_zeros() as usize + 1;
    if track_len > 8 || h.size.is_none_or(|size| size < track_len as u64 + 3) {
        return Err(ScanError::Invalid(h.pos, "malformed SimpleBlock"));
    }
    let mut head = [0u8; 11];
    let head = &mut head[..track_len + 3];
    read(src, h.data, head)?;
    let track = vint_value(head, track_len);
    let relative = i16::from_be_bytes([head[track_len], head[track_len + 1]]);
    let cluster_time = scan.clusters.last().map_or(0, |c| c.time);
    let raw = i128::from(cluster_time) + i128::from(relative);
    let info = BlockInfo {
        track,
        ts_ms: (raw * i128::from(scan.scale) / 1_000_000) as i64,
        keyframe: head[track_len + 2] & 0x80 != 0,
        size: (h.size.unwrap_or(0) - head.len() as u64) as usize,
    };
    scan.blocks.push(BlockScan {
        info,
        end: h.data + h.size.unwrap_or(0),
    });
    Ok(())
}

fn scan_info<S: Source>(src: &mut S, scan: &mut Scan, info: &Header) -> Result<()> {
    let mut duration = None;
    each_child(src, info, |src, h| {
        match h.id {
            ebml::TIMESTAMP_SCALE => scan.scale = read_uint(src, h)?.max(1),
            ebml::DURATION => {
                duration = Some(read_float(src, h)?);
                scan.duration_slot = Some(h.pos);
            }
            ebml::VOID if h.end() == Some(h.pos + super::DURATION_SLOT_LEN as u64) => {
                scan.duration_slot = scan.duration_slot.or(Some(h.pos));
            }
            _ => {}
        }
        Ok(())
    })?;
    scan.duration_ms = duration.map(|d| d * scan.scale as f64 / 1e6);
    scan.info_pos = Some(info.pos);
    Ok(())
}

fn scan_tracks<S: Source>(src: &mut S, scan: &mut Scan, tracks: &Header) -> Result<()> {
    each_child(src, tracks, |src, entry| {
        if entry.id == ebml::TRACK_ENTRY {
            scan.tracks.push(track_entry(src, entry)?);
        }
        Ok(())
    })?;
    scan.tracks_pos = Some(tracks.pos);
    scan.tracks_end = tracks.end();
    Ok(())
}

fn track_entry<S: Source>(src: &mut S, entry: &Header) -> Result<TrackInfo> {
    let mut track = TrackInfo {
        number: 0,
        codec_id: String::new(),
        kind: TrackKind::Other(0),
        width: None,
        height: None,
        channels: None,
        sample_rate: None,
    };
    each_child(src, entry, |src, h| {
        match h.id {
            ebml::TRACK_NUMBER => track.number = read_uint(src, h)?,
            ebml::CODEC_ID => track.codec_id = read_string(src, h)?,
            ebml::TRACK_TYPE => {
                track.kind = match read_uint(src, h)? {
                    1 => TrackKind::Video,
                    2 => TrackKind::Audio,
                    other => TrackKind::Other(other),
                }
            }
            ebml::VIDEO | ebml::AUDIO => each_child(src, h, |src, h| {
                match h.id {
                    ebml::PIXEL_WIDTH => track.width = Some(read_uint(src, h)?),
                    ebml::PIXEL_HEIGHT => track.height = Some(read_uint(src, h)?),
                    ebml::CHANNELS => track.channels = Some(read_uint(src, h)?),
                    ebml::SAMPLING_FREQUENCY => track.sample_rate = Some(read_float(src, h)?),
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(track)
}

/// Calls `f` for each child of a known-size element; children must lie within it.
fn each_child<S: Source>(src: &mut S, parent: &Header, mut f: impl FnMut(&mut S, &Header) -> Result<()>) -> Result<()> {
    let end = parent.end().ok_or(ScanError::Invalid(parent.pos, "unknown size"))?;
    let mut pos = parent.data;
    while pos < end {
        let h = read_header(src, pos, end)?;
        let h_end = h
            .end()
            .filter(|&e| e <= end)
            .ok_or(ScanError::Invalid(pos, "child overruns its parent"))?;
        f(src, &h)?;
        pos = h_end;
    }
    Ok(())
}

/// Reads the element header at `pos`; `limit` is where the enclosing data ends.
pub(crate) fn read_header<S: Source>(src: &mut S, pos: u64, limit: u64) -> Result<Header> {
    let id_len = vint_len(src, pos, limit, 4)?;
    let mut id = [0u8; 4];
    read(src, pos, &mut id[..id_len])?;
    let size_pos = pos + id_len as u64;
    let size_len = vint_len(src, size_pos, limit, 8)?;
    let mut size = [0u8; 8];
    read(src, size_pos, &mut size[..size_len])?;
    let raw = vint_value(&size[..size_len], size_len);
    let unknown = raw == (1u64 << (7 * size_len)) - 1;
    Ok(Header {
        id: id[..id_len].iter().fold(0, |acc, &b| (acc << 8) | u32::from(b)),
        pos,
        size_pos,
        size_len,
        data: size_pos + size_len as u64,
        size: (!unknown).then_some(raw),
    })
}

/// The length of the vint at `pos`, from its first byte.
fn vint_len<S: Source>(src: &mut S, pos: u64, limit: u64, max: usize) -> Result<usize> {
    if pos >= limit {
        return Err(ScanError::Truncated(pos));
    }
    let mut first = [0u8];
    read(src, pos, &mut first)?;
    let len = first[0].leading_zeros() as usize + 1;
    if len > max {
        return Err(ScanError::Invalid(pos, "bad variable-length integer"));
    }
    if pos + len as u64 > limit {
        return Err(ScanError::Truncated(pos));
    }
    Ok(len)
}

/// The value of a vint of `len` bytes at the start of `bytes`, without its length marker.
fn vint_value(bytes: &[u8], len: usize) -> u64 {
    let raw = bytes[..len].iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    raw & ((1u64 << (7 * len)) - 1)
}

fn read<S: Source>(src: &mut S, pos: u64, out: &mut [u8]) -> Result<()> {
    if src.read_at(pos, out)? {
        Ok(())
    } else {
        Err(ScanError::Truncated(pos))
    }
}

fn read_data<S: Source>(src: &mut S, h: &Header, max: u64) -> Result<Vec<u8>> {
    let size = h
        .size
        .filter(|&s| s <= max)
        .ok_or(ScanError::Invalid(h.pos, "element too large"))?;
    let mut out = vec![0u8; size as usize];
    read(src, h.data, &mut out)?;
    Ok(out)
}

fn read_uint<S: Source>(src: &mut S, h: &Header) -> Result<u64> {
    Ok(read_data(src, h, 8)?
        .iter()
        .fold(0, |acc, &b| (acc << 8) | u64::from(b)))
}

fn read_float<S: Source>(src: &mut S, h: &Header) -> Result<f64> {
    let data = read_data(src, h, 8)?;
    match <[u8; 8]>::try_from(data.as_slice()) {
        Ok(bytes) => Ok(f64::from_be_bytes(bytes)),
        Err(_) => match <[u8; 4]>::try_from(data.as_slice()) {
            Ok(bytes) => Ok(f64::from(f32::from_be_bytes(bytes))),
            Err(_) if data.is_empty() => Ok(0.0),
            Err(_) => Err(ScanError::Invalid(h.pos, "float of odd length")),
        },
    }
}

fn read_string<S: Source>(src: &mut S, h: &Header) -> Result<String> {
    let data = read_data(src, h, 4096)?;
    let text = String::from_utf8_lossy(&data);
    Ok(text.trim_end_matches('\0').to_owned())
}
