//! The WebM muxer.

use std::io::{self, Read, Seek, SeekFrom, Write};

use super::recover::Truncate;
use super::resume::{WriterState, resume_state, track_numbers};
use super::{AudioTrack, Cue, DURATION_SLOT_LEN, Layout, RESERVED_LEN, Tracks, VideoTrack, finalize, write_at};
use crate::ebml;
use crate::ogg::{self, OPUS_PRE_SKIP};

/// A video keyframe starts a new Cluster once the current one is this old.
const VIDEO_CLUSTER_MS: u64 = 1_000;
/// Without video, audio starts a new Cluster once the current one is this old.
const AUDIO_CLUSTER_MS: u64 = 2_000;
/// No Cluster spans more than this, whatever arrives (block timestamps are i16 offsets from the Cluster's).
const MAX_CLUSTER_MS: u64 = 5_000;
/// How far a block may lie before its Cluster's timestamp (another track running late); older ones are
/// clamped so that the i16 offset cannot overflow.
const MAX_BEHIND_MS: u64 = 30_000;
const SEEK_PRE_ROLL_NS: u64 = 80_000_000;

/// Writes a WebM file block by block, keeping it playable if the process dies at any point.
///
/// After an I/O error the writer's state is undefined: drop it and run [`super::recover`] on the file, or
/// reopen the file and [`Writer::resume`] it.
#[derive(Debug)]
pub struct Writer<W: Write + Seek> {
    out: W,
    /// Our own count of the output position: asking a buffered writer would flush it.
    pos: u64,
    layout: Layout,
    tracks: Tracks,
    video_track: Option<u64>,
    audio_track: Option<u64>,
    cluster: Option<OpenCluster>,
    /// Until a keyframe arrives, video frames cannot be decoded: at the start, and after resuming (the
    /// encoder that sends the new frames is not the one whose frames precede them in the file).
    awaiting_keyframe: bool,
    last_video_ms: Option<u64>,
    last_audio_ms: Option<u64>,
    max_ms: u64,
    dropped_video: u64,
    blocks: u64,
    cues: Vec<Cue>,
}

#[derive(Debug, Clone, Copy)]
struct OpenCluster {
    pos: u64,
    size_pos: u64,
    time_ms: u64,
}

impl<W: Write + Seek> Writer<W> {
    /// Writes the EBML header, the Segment (unknown size) and its Info and Tracks, starting at `out`'s
    /// current position. Fails if there is no track or the audio has other than 1 or 2 channels.
    pub fn new(mut out: W, tracks: Tracks) -> io::Result<Self> {
        if tracks.video.is_none() && tracks.audio.is_none() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "a recording needs a track"));
        }
        if tracks.audio.is_some_and(|a| !(1..=2).contains(&a.channels)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Opus audio must have 1 or 2 channels",
            ));
        }
        let start = out.stream_position()?;
        let (header, layout) = header(start, tracks);
        out.write_all(&header)?;
        out.flush()?;
        let state = WriterState {
            tracks,
            layout,
            end: start + header.len() as u64,
            cues: Vec::new(),
            last_video_ms: None,
            last_audio_ms: None,
            max_ms: 0,
            blocks: 0,
        };
        Ok(Self::from_state(out, state))
    }

    fn from_state(out: W, state: WriterState) -> Self {
        let (video_track, audio_track) = track_numbers(state.tracks);
        Self {
            out,
            pos: state.end,
            layout: state.layout,
            tracks: state.tracks,
            video_track,
            audio_track,
            cluster: None,
            awaiting_keyframe: true,
            last_video_ms: state.last_video_ms,
            last_audio_ms: state.last_audio_ms,
            max_ms: state.max_ms,
            dropped_video: 0,
            blocks: state.blocks,
            cues: state.cues,
        }
    }

    /// Writes one VP8 frame. Frames before the first keyframe, and after [`Self::resume`] before the next
    /// one, are dropped (counted in [`Self::dropped_video_frames`]); a timestamp earlier than the previous frame's is clamped to it.
    pub fn write_video(&mut self, ts_ms: u64, keyframe: bool, frame: &[u8]) -> io::Result<()> {
        let track = self.video_track.ok_or_else(|| no_track("video"))?;
        if self.awaiting_keyframe && !keyframe {
            self.dropped_video += 1;
            return Ok(());
        }
        // The first frame opens a Cluster so that the video starts (and resumes) at a cue point.
        let first = std::mem::take(&mut self.awaiting_keyframe);
        let ts = self.clamp(self.last_video_ms, ts_ms);
        self.last_video_ms = Some(ts);
        let new_cluster = first
            || self
                .cluster_age(ts)
                .is_none_or(|age| age > MAX_CLUSTER_MS || (keyframe && age >= VIDEO_CLUSTER_MS));
        self.write_block(track, ts, keyframe, frame, new_cluster)
    }

    /// Writes one Opus packet; a timestamp earlier than the previous packet's is clamped to it.
    pub fn write_audio(&mut self, ts_ms: u64, packet: &[u8]) -> io::Result<()> {
        let track = self.audio_track.ok_or_else(|| no_track("audio"))?;
        let ts = self.clamp(self.last_audio_ms, ts_ms);
        self.last_audio_ms = Some(ts);
        let audio_only = self.video_track.is_none();
        let new_cluster = self
            .cluster_age(ts)
            .is_none_or(|age| age > MAX_CLUSTER_MS || (audio_only && age >= AUDIO_CLUSTER_MS));
        self.write_block(track, ts, true, packet, new_cluster)
    }

    /// Video frames dropped while waiting for the first keyframe (since [`Self::resume`], if resumed).
    pub fn dropped_video_frames(&self) -> u64 {
        self.dropped_video
    }

    /// Blocks (frames and packets) in the file so far, including those found by [`Self::resume`].
    pub fn blocks_written(&self) -> u64 {
        self.blocks
    }

    /// The latest block timestamp in the file so far, in ms: the Duration that [`Self::finish`] will
    /// record. After [`Self::resume`], new blocks should come later than this.
    pub fn duration_ms(&self) -> u64 {
        self.max_ms
    }

    /// The tracks the file was created with.
    pub fn tracks(&self) -> Tracks {
        self.tracks
    }

    /// The output, e.g. to look at what has been written so far.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Closes the last Cluster, writes Cues, patches Duration, SeekHead and Segment size, and returns the
    /// output positioned at the end of the file.
    pub fn finish(mut self) -> io::Result<W> {
        self.close_cluster()?;
        let cue_track = self.video_track.or(self.audio_track).unwrap_or(1);
        finalize(
            &mut self.out,
            self.pos,
            &self.layout,
            &self.cues,
            cue_track,
            self.max_ms,
        )?;
        Ok(self.out)
    }

    /// Per track, time never goes backwards; nor may a block lie so far before its Cluster that its
    /// relative timestamp overflows.
    fn clamp(&self, last: Option<u64>, ts: u64) -> u64 {
        let cluster_floor = self.cluster.map_or(0, |c| c.time_ms.saturating_sub(MAX_BEHIND_MS));
        ts.max(last.unwrap_or(0)).max(cluster_floor)
    }

    /// How far `ts` lies after the open Cluster's start (0 if before it), or None without a Cluster.
    fn cluster_age(&self, ts: u64) -> Option<u64> {
        self.cluster.map(|c| ts.saturating_sub(c.time_ms))
    }

    fn write_block(&mut self, track: u64, ts: u64, keyframe: bool, data: &[u8], new_cluster: bool) -> io::Result<()> {
        if new_cluster {
            self.open_cluster(ts)?;
            if self.video_track.is_none_or(|video| video == track && keyframe) {
                let cluster_pos = self.cluster.map_or(0, |c| c.pos) - self.layout.segment_data;
                self.cues.push(Cue {
                    time_ms: ts,
                    cluster_pos,
                });
            }
        }
        let relative = ts as i64 - self.cluster.map_or(0, |c| c.time_ms) as i64;
        let mut buf = Vec::with_capacity(data.len() + 16);
        ebml::put_id(&mut buf, ebml::SIMPLE_BLOCK);
        ebml::put_size(&mut buf, data.len() as u64 + 4);
        buf.push(0x80 | track as u8);
        buf.extend_from_slice(&(relative as i16).to_be_bytes());
        buf.push(if keyframe { 0x80 } else { 0 });
        buf.extend_from_slice(data);
        self.emit(&buf)?;
        self.blocks += 1;
        self.max_ms = self.max_ms.max(ts);
        Ok(())
    }

    fn open_cluster(&mut self, time_ms: u64) -> io::Result<()> {
        self.close_cluster()?;
        let pos = self.pos;
        let mut buf = Vec::new();
        ebml::put_id(&mut buf, ebml::CLUSTER);
        let size_pos = pos + buf.len() as u64;
        buf.extend_from_slice(&ebml::UNKNOWN_SIZE_8);
        ebml::uint(&mut buf, ebml::TIMESTAMP, time_ms);
        self.emit(&buf)?;
        self.cluster = Some(OpenCluster { pos, size_pos, time_ms });
        Ok(())
    }

    /// Gives the open Cluster its real size and flushes, so that a crash loses at most the next Cluster.
    fn close_cluster(&mut self) -> io::Result<()> {
        let Some(cluster) = self.cluster.take() else {
            return Ok(());
        };
        let size = self.pos - (cluster.size_pos + 8);
        let size = ebml::size_fixed(size, 8).ok_or_else(|| super::invalid("cluster too large"))?;
        write_at(&mut self.out, cluster.size_pos, &size)?;
        self.out.seek(SeekFrom::Start(self.pos))?;
        self.out.flush()
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }
}

impl<F: Read + Write + Seek + Truncate> Writer<F> {
    /// Continues an unfinished recording, e.g. after its room closed while the lecture was still live or
    /// after a restart. The file is scanned and trimmed exactly as [`super::recover`] does (cut after the
    /// last complete block, that block's Cluster closed), and the writer picks up its tracks, cue points,
    /// per-track and overall last timestamps ([`Self::duration_ms`]) and placeholders, so that
    /// [`Self::finish`] writes what one writer would have written for all the blocks. The next block opens
    /// a new Cluster; video frames are dropped until the next keyframe.
    ///
    /// Fails with `InvalidInput` if the file was finished (has Cues, a Duration or a known Segment size),
    /// and with `InvalidData` if it ends before its track list or was not written by [`Writer`]; in both
    /// cases the file is left as it was.
    pub fn resume(mut file: F) -> io::Result<Self> {
        let state = resume_state(&mut file)?;
        file.seek(SeekFrom::Start(state.end))?;
        file.flush()?;
        Ok(Self::from_state(file, state))
    }
}

fn no_track(kind: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("the recording has no {kind} track"),
    )
}

/// The bytes from the EBML header to the end of Tracks, and where the placeholders in them are.
fn header(start: u64, tracks: Tracks) -> (Vec<u8>, Layout) {
    let mut buf = ebml_header();
    ebml::put_id(&mut buf, ebml::SEGMENT);
    let segment_size_pos = start + buf.len() as u64;
    buf.extend_from_slice(&ebml::UNKNOWN_SIZE_8);
    let segment_data = start + buf.len() as u64;
    buf.extend(ebml::void(RESERVED_LEN).unwrap_or_default());
    let info_pos = start + buf.len() as u64;
    let (info, duration_offset) = info();
    buf.extend(info);
    let tracks_pos = start + buf.len() as u64;
    buf.extend(tracks_element(tracks));
    let layout = Layout {
        segment_size_pos,
        segment_data,
        reserved_pos: segment_data,
        reserved_len: RESERVED_LEN,
        duration_pos: info_pos + duration_offset as u64,
        info_pos,
        tracks_pos,
    };
    (buf, layout)
}

fn ebml_header() -> Vec<u8> {
    let mut fields = Vec::new();
    ebml::uint(&mut fields, ebml::EBML_VERSION, 1);
    ebml::uint(&mut fields, ebml::EBML_READ_VERSION, 1);
    ebml::uint(&mut fields, ebml::EBML_MAX_ID_LENGTH, 4);
    ebml::uint(&mut fields, ebml::EBML_MAX_SIZE_LENGTH, 8);
    ebml::element(&mut fields, ebml::DOC_TYPE, b"webm");
    ebml::uint(&mut fields, ebml::DOC_TYPE_VERSION, 4);
    ebml::uint(&mut fields, ebml::DOC_TYPE_READ_VERSION, 2);
    let mut out = Vec::new();
    ebml::element(&mut out, ebml::EBML, &fields);
    out
}

/// The Info element and the offset in it of the Duration slot: a Void until the duration is known, because
/// a present Duration must be positive and players take it at its word.
fn info() -> (Vec<u8>, usize) {
    let mut fields = Vec::new();
    ebml::uint(&mut fields, ebml::TIMESTAMP_SCALE, 1_000_000);
    ebml::element(&mut fields, ebml::MUXING_APP, b"quorum");
    ebml::element(&mut fields, ebml::WRITING_APP, b"quorum");
    let slot = fields.len();
    fields.extend(ebml::void(DURATION_SLOT_LEN).unwrap_or_default());
    let mut out = Vec::new();
    ebml::element(&mut out, ebml::INFO, &fields);
    let offset = out.len() - fields.len() + slot;
    (out, offset)
}

fn tracks_element(tracks: Tracks) -> Vec<u8> {
    let mut entries = Vec::new();
    if let Some(video) = tracks.video {
        ebml::element(&mut entries, ebml::TRACK_ENTRY, &video_entry(video));
    }
    if let Some(audio) = tracks.audio {
        let number = if tracks.video.is_some() { 2 } else { 1 };
        ebml::element(&mut entries, ebml::TRACK_ENTRY, &audio_entry(number, audio));
    }
    let mut out = Vec::new();
    ebml::element(&mut out, ebml::TRACKS, &entries);
    out
}

fn video_entry(video: VideoTrack) -> Vec<u8> {
    let mut entry = track_fields(1, 1, "V_VP8");
    let mut fields = Vec::new();
    ebml::uint(&mut fields, ebml::PIXEL_WIDTH, video.width.into());
    ebml::uint(&mut fields, ebml::PIXEL_HEIGHT, video.height.into());
    ebml::element(&mut entry, ebml::VIDEO, &fields);
    entry
}

/// Opus as ffmpeg writes it: an OpusHead as CodecPrivate, its pre-skip again as CodecDelay (in ns), 80 ms
/// SeekPreRoll.
fn audio_entry(number: u64, audio: AudioTrack) -> Vec<u8> {
    let mut entry = track_fields(number, 2, "A_OPUS");
    ebml::element(&mut entry, ebml::CODEC_PRIVATE, &ogg::opus_head(audio.channels));
    ebml::uint(
        &mut entry,
        ebml::CODEC_DELAY,
        u64::from(OPUS_PRE_SKIP) * 1_000_000_000 / 48_000,
    );
    ebml::uint(&mut entry, ebml::SEEK_PRE_ROLL, SEEK_PRE_ROLL_NS);
    let mut fields = Vec::new();
    ebml::float(&mut fields, ebml::SAMPLING_FREQUENCY, f64::from(audio.sample_rate));
    ebml::uint(&mut fields, ebml::CHANNELS, audio.channels.into());
    ebml::element(&mut entry, ebml::AUDIO, &fields);
    entry
}

fn track_fields(number: u64, kind: u64, codec: &str) -> Vec<u8> {
    let mut fields = Vec::new();
    ebml::uint(&mut fields, ebml::TRACK_NUMBER, number);
    ebml::uint(&mut fields, ebml::TRACK_UID, number);
    ebml::uint(&mut fields, ebml::TRACK_TYPE, kind);
    ebml::uint(&mut fields, ebml::FLAG_LACING, 0);
    ebml::element(&mut fields, ebml::CODEC_ID, codec.as_bytes());
    fields
}
