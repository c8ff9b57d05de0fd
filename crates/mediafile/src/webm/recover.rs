//! Finishing a recording whose writer died before [`super::Writer::finish`].

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use super::probe::{ProbeError, TrackKind};
use super::scan::{ClusterScan, FileSource, Scan, ScanError, scan};
use super::{Cue, Layout, finalize, invalid, write_at};
use crate::ebml;

/// Shortening a file in place, which [`recover`] needs to cut off a partly written block.
pub trait Truncate {
    /// Sets the length to `len` bytes.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

impl Truncate for File {
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.set_len(len)
    }
}

/// So that [`super::Writer::resume`] can borrow a file and the caller keeps it if resuming is refused.
impl<T: Truncate + ?Sized> Truncate for &mut T {
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        (**self).truncate(len)
    }
}

impl Truncate for Cursor<Vec<u8>> {
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.get_mut().truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }
}

/// What [`recover`] kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverySummary {
    /// The Duration now recorded: the latest block timestamp.
    pub duration_ms: u64,
    /// Complete blocks kept.
    pub blocks: u64,
    /// Bytes cut off the end (a partly written block, an empty Cluster, old Cues).
    pub bytes_dropped: u64,
}

/// Finishes a file left by a [`super::Writer`] that never reached `finish` (it may end anywhere, even inside
/// a block): truncates it after the last complete block, then writes Cues and patches Duration, SeekHead and
/// sizes exactly as `finish` would have. Running it on a finished file rewrites the same ending.
///
/// Fails with `InvalidData` if the file ends before its track list or was not written by [`super::Writer`].
pub fn recover<F: Read + Write + Seek + Truncate>(file: &mut F) -> io::Result<RecoverySummary> {
    let original_len = file.seek(SeekFrom::End(0))?;
    let scan = scan_file(file)?;
    let trimmed = trim(file, &scan)?;
    let cue_track = trimmed.video.or(scan.tracks.first().map(|t| t.number)).unwrap_or(1);
    let duration_ms = scan
        .blocks
        .iter()
        .map(|b| b.info.ts_ms.max(0) as u64)
        .max()
        .unwrap_or(0);
    finalize(
        file,
        trimmed.end,
        &trimmed.layout,
        &trimmed.cues,
        cue_track,
        duration_ms,
    )?;
    Ok(RecoverySummary {
        duration_ms,
        blocks: scan.blocks.len() as u64,
        bytes_dropped: original_len - trimmed.end,
    })
}

/// An unfinished file cut back to its last complete block, whose Cluster now has its real size.
pub(super) struct Trimmed {
    pub layout: Layout,
    /// The new end of the file: just past the last complete block (or the track list if there is none).
    pub end: u64,
    /// The cue points the writer would have collected for the blocks kept.
    pub cues: Vec<Cue>,
    /// The video track's number, if there is one.
    pub video: Option<u64>,
}

/// Scans a whole file, reading it once through a window.
pub(super) fn scan_file<F: Read + Seek>(file: &mut F) -> io::Result<Scan> {
    scan(&mut FileSource::new(file)?).map_err(io_error)
}

/// Truncates the scanned `file` after its last complete block and closes that block's Cluster; fails with
/// `InvalidData` if the file ends before its track list or was not written by [`super::Writer`].
pub(super) fn trim<F: Write + Seek + Truncate>(file: &mut F, scan: &Scan) -> io::Result<Trimmed> {
    let layout = layout(scan)?;
    let tracks_end = scan.tracks_end.ok_or_else(|| invalid("the track list is incomplete"))?;
    let end = scan.blocks.last().map_or(tracks_end, |block| block.end);
    file.truncate(end)?;
    let kept: Vec<&ClusterScan> = scan.clusters.iter().filter(|c| c.header.pos < end).collect();
    patch_cluster_sizes(file, &kept, end)?;
    let video = scan
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .map(|t| t.number);
    let cues = cues(scan, &kept, video, layout.segment_data);
    Ok(Trimmed {
        layout,
        end,
        cues,
        video,
    })
}

/// The placeholders as our writer laid them out; anything else is refused rather than guessed at.
fn layout(scan: &Scan) -> io::Result<Layout> {
    let foreign = || invalid("not a file written by mediafile::webm::Writer");
    let segment = scan.segment.filter(|s| s.size_len == 8).ok_or_else(foreign)?;
    let first = scan
        .first_child
        .filter(|h| h.pos == segment.data && matches!(h.id, ebml::SEEK_HEAD | ebml::VOID));
    let info_pos = scan.info_pos.ok_or_else(|| invalid("the file ends before its Info"))?;
    let tracks_pos = scan
        .tracks_pos
        .ok_or_else(|| invalid("the file ends before its track list"))?;
    first.ok_or_else(foreign)?;
    Ok(Layout {
        segment_size_pos: segment.size_pos,
        segment_data: segment.data,
        reserved_pos: segment.data,
        reserved_len: (info_pos - segment.data) as usize,
        duration_pos: scan.duration_slot.ok_or_else(foreign)?,
        info_pos,
        tracks_pos,
    })
}

/// Gives the last Cluster, and any other still of unknown size, its real size.
fn patch_cluster_sizes<F: Write + Seek>(file: &mut F, kept: &[&ClusterScan], keep: u64) -> io::Result<()> {
    for (i, cluster) in kept.iter().enumerate() {
        let next = kept.get(i + 1).map(|c| c.header.pos);
        if next.is_some() && cluster.header.size.is_some() {
            continue;
        }
        let size = next.unwrap_or(keep) - cluster.header.data;
        // A foreign short "unknown" size that cannot hold the real one stays unknown, which is still valid.
        if let Some(bytes) = ebml::size_fixed(size, cluster.header.size_len) {
            write_at(file, cluster.header.size_pos, &bytes)?;
        }
    }
    Ok(())
}

/// The writer's rule: a cue for each Cluster opened by a video keyframe, or for every Cluster without video.
fn cues(scan: &Scan, kept: &[&ClusterScan], video: Option<u64>, segment_data: u64) -> Vec<Cue> {
    kept.iter()
        .enumerate()
        .filter_map(|(i, cluster)| {
            let next_first = kept.get(i + 1).map_or(scan.blocks.len(), |c| c.first_block);
            let first = scan
                .blocks
                .get(cluster.first_block)
                .filter(|_| cluster.first_block < next_first)?;
            let starts = video.is_none_or(|v| first.info.track == v && first.info.keyframe);
            let cue = Cue {
                time_ms: first.info.ts_ms.max(0) as u64,
                cluster_pos: cluster.header.pos - segment_data,
            };
            starts.then_some(cue)
        })
        .collect()
}

fn io_error(error: ScanError) -> io::Error {
    match error {
        ScanError::Io(error) => error,
        other => io::Error::new(io::ErrorKind::InvalidData, ProbeError::from(other)),
    }
}
