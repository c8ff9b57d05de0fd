#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Seek, SeekFrom, Write};

use super::scan::{Header, read_header, scan};
use super::*;
use crate::ebml;

mod resume;

const VIDEO: Option<VideoTrack> = Some(VideoTrack {
    width: 640,
    height: 480,
});
const AUDIO: Option<AudioTrack> = Some(AudioTrack {
    channels: 2,
    sample_rate: 48_000,
});

/// One call to the writer: (is video, ts, keyframe, data).
type Op = (bool, u64, bool, Vec<u8>);

/// A lecture of `seconds`: 30 fps video with a keyframe every 2 s, 20 ms Opus packets, in time order.
fn lecture(seconds: u64, video: bool) -> Vec<Op> {
    let mut ops = Vec::new();
    for ms in 0..seconds * 1000 {
        if video && ms % 33 == 0 {
            let frame = ms / 33;
            let keyframe = frame % 60 == 0;
            let len = if keyframe { 300 } else { 40 + (frame % 50) as usize };
            ops.push((true, ms, keyframe, vec![(frame % 251) as u8; len]));
        }
        if ms % 20 == 0 {
            ops.push((false, ms, true, vec![0xFC; 30 + (ms / 20 % 30) as usize]));
        }
    }
    ops
}

fn write_ops(tracks: Tracks, ops: &[Op]) -> Writer<Cursor<Vec<u8>>> {
    let mut writer = Writer::new(Cursor::new(Vec::new()), tracks).unwrap();
    for (video, ts, keyframe, data) in ops {
        if *video {
            writer.write_video(*ts, *keyframe, data).unwrap();
        } else {
            writer.write_audio(*ts, data).unwrap();
        }
    }
    writer
}

fn expected_blocks(tracks: Tracks, ops: &[Op]) -> Vec<BlockInfo> {
    let audio_track = if tracks.video.is_some() { 2 } else { 1 };
    let block = |(video, ts, keyframe, data): &Op| BlockInfo {
        track: if *video { 1 } else { audio_track },
        ts_ms: *ts as i64,
        keyframe: *keyframe,
        size: data.len(),
    };
    ops.iter().map(block).collect()
}

/// (CueTime, CueClusterPosition) of every cue point, read directly.
fn cue_points(bytes: &[u8]) -> Vec<(u64, u64)> {
    let mut src = bytes;
    let segment = scan(&mut src).unwrap().segment.unwrap();
    let mut pos = segment.data;
    let mut points = Vec::new();
    while pos < bytes.len() as u64 {
        let h = read_header(&mut src, pos, bytes.len() as u64).unwrap();
        if h.id == ebml::CUES {
            for point in children(bytes, &h) {
                let positions = children(bytes, &point)
                    .into_iter()
                    .find(|c| c.id == ebml::CUE_TRACK_POSITIONS);
                let time = uint_child(bytes, &point, ebml::CUE_TIME);
                points.push((time, uint_child(bytes, &positions.unwrap(), ebml::CUE_CLUSTER_POSITION)));
            }
        }
        pos = h.data + h.size.unwrap();
    }
    points
}

fn children(bytes: &[u8], parent: &Header) -> Vec<Header> {
    let (mut src, mut pos, end) = (bytes, parent.data, parent.data + parent.size.unwrap());
    let mut out = Vec::new();
    while pos < end {
        let h = read_header(&mut src, pos, end).unwrap();
        pos = h.data + h.size.unwrap();
        out.push(h);
    }
    out
}

fn uint_child(bytes: &[u8], parent: &Header, id: u32) -> u64 {
    let h = children(bytes, parent).into_iter().find(|c| c.id == id).unwrap();
    bytes[h.data as usize..(h.data + h.size.unwrap()) as usize]
        .iter()
        .fold(0, |a, &b| (a << 8) | u64::from(b))
}

#[test]
fn video_and_audio_round_trip_with_cues_at_keyframes() {
    let tracks = Tracks {
        video: VIDEO,
        audio: AUDIO,
    };
    let ops = lecture(7, true);
    let bytes = write_ops(tracks, &ops).finish().unwrap().into_inner();
    let probe = probe(&bytes).unwrap();
    assert_eq!(probe.doc_type, "webm");
    assert_eq!(probe.tracks.len(), 2);
    let (video, audio) = (&probe.tracks[0], &probe.tracks[1]);
    assert_eq!(
        (video.number, video.codec_id.as_str(), video.kind),
        (1, "V_VP8", TrackKind::Video)
    );
    assert_eq!((video.width, video.height), (Some(640), Some(480)));
    assert_eq!(
        (audio.number, audio.codec_id.as_str(), audio.kind),
        (2, "A_OPUS", TrackKind::Audio)
    );
    assert_eq!((audio.channels, audio.sample_rate), (Some(2), Some(48_000.0)));
    assert_eq!(probe.blocks, expected_blocks(tracks, &ops));
    assert_eq!(probe.duration_ms, Some(6996.0));
    assert!(probe.has_cues);
    // A keyframe every 2 s, each opening a Cluster: 0, 1980, 3960, 5940.
    let cues = cue_points(&bytes);
    assert_eq!(cues.iter().map(|c| c.0).collect::<Vec<_>>(), [0, 1980, 3960, 5940]);
    let segment_data = scan(&mut bytes.as_slice()).unwrap().segment.unwrap().data;
    for (_, pos) in cues {
        let h = read_header(&mut bytes.as_slice(), segment_data + pos, bytes.len() as u64).unwrap();
        assert_eq!(h.id, ebml::CLUSTER);
    }
}

#[test]
fn audio_only_gets_a_cluster_and_a_cue_every_two_seconds() {
    let tracks = Tracks {
        video: None,
        audio: AUDIO,
    };
    let ops = lecture(5, false);
    let bytes = write_ops(tracks, &ops).finish().unwrap().into_inner();
    let probe = probe(&bytes).unwrap();
    assert_eq!(probe.tracks.len(), 1);
    assert_eq!(
        (probe.tracks[0].number, probe.tracks[0].codec_id.as_str()),
        (1, "A_OPUS")
    );
    assert_eq!(probe.blocks, expected_blocks(tracks, &ops));
    assert_eq!(
        cue_points(&bytes).iter().map(|c| c.0).collect::<Vec<_>>(),
        [0, 2000, 4000]
    );
}

#[test]
fn video_waits_for_a_keyframe_and_time_never_runs_backwards() {
    let mut writer = Writer::new(
        Cursor::new(Vec::new()),
        Tracks {
            video: VIDEO,
            audio: AUDIO,
        },
    )
    .unwrap();
    writer.write_video(0, false, &[1]).unwrap();
    writer.write_audio(10, &[2]).unwrap();
    writer.write_video(33, false, &[3]).unwrap();
    writer.write_video(66, true, &[4]).unwrap();
    writer.write_video(50, false, &[5]).unwrap();
    writer.write_audio(5, &[6]).unwrap();
    assert_eq!(writer.dropped_video_frames(), 2);
    assert_eq!(writer.blocks_written(), 4);
    let bytes = writer.finish().unwrap().into_inner();
    let blocks: Vec<_> = probe(&bytes)
        .unwrap()
        .blocks
        .iter()
        .map(|b| (b.track, b.ts_ms, b.keyframe))
        .collect();
    assert_eq!(blocks, [(2, 10, true), (1, 66, true), (1, 66, false), (2, 10, true)]);
}

#[test]
fn a_long_silence_starts_a_new_cluster_instead_of_overflowing() {
    let mut writer = Writer::new(
        Cursor::new(Vec::new()),
        Tracks {
            video: VIDEO,
            audio: AUDIO,
        },
    )
    .unwrap();
    writer.write_video(0, true, &[0; 10]).unwrap();
    writer.write_video(4_000, false, &[0; 10]).unwrap();
    writer.write_video(40_000, false, &[0; 10]).unwrap();
    writer.write_audio(39_990, &[0; 10]).unwrap();
    writer.write_audio(100_000, &[0; 10]).unwrap();
    let bytes = writer.finish().unwrap().into_inner();
    let times: Vec<_> = probe(&bytes).unwrap().blocks.iter().map(|b| b.ts_ms).collect();
    assert_eq!(times, [0, 4_000, 40_000, 39_990, 100_000]);
    assert_eq!(scan(&mut bytes.as_slice()).unwrap().clusters.len(), 3);
}

#[test]
fn an_unfinished_file_probes_and_recovers_to_exactly_what_finish_writes() {
    let tracks = Tracks {
        video: VIDEO,
        audio: AUDIO,
    };
    let ops = lecture(4, true);
    let writer = write_ops(tracks, &ops);
    let unfinished = writer.get_ref().get_ref().clone();
    let finished = writer.finish().unwrap().into_inner();
    let probe_unfinished = probe(&unfinished).unwrap();
    assert_eq!((probe_unfinished.duration_ms, probe_unfinished.has_cues), (None, false));
    assert_eq!(probe_unfinished.blocks, expected_blocks(tracks, &ops));
    let unfinished_copy = unfinished.clone();
    let mut file = Cursor::new(unfinished);
    let summary = recover(&mut file).unwrap();
    assert_eq!(
        summary,
        RecoverySummary {
            duration_ms: 3993,
            blocks: ops.len() as u64,
            bytes_dropped: 0
        }
    );
    assert_eq!(file.into_inner(), finished);
    // A file system may leave zeros after the last write of a crashed process.
    let mut file = Cursor::new([unfinished_copy, vec![0; 4096]].concat());
    assert_eq!(recover(&mut file).unwrap().bytes_dropped, 4096);
    assert_eq!(file.into_inner(), finished);
    // Recovering a finished file cuts its Cues and writes them again.
    let mut file = Cursor::new(finished.clone());
    assert!(recover(&mut file).unwrap().bytes_dropped > 0);
    assert_eq!(file.into_inner(), finished);
}

#[test]
fn clusters_of_unknown_size_end_at_the_next_cluster() {
    let ops = lecture(4, true);
    let mut bytes = write_ops(
        Tracks {
            video: VIDEO,
            audio: AUDIO,
        },
        &ops,
    )
    .get_ref()
    .get_ref()
    .clone();
    let clusters = scan(&mut bytes.as_slice()).unwrap().clusters;
    assert!(clusters.len() > 2);
    for cluster in clusters {
        let at = cluster.header.size_pos as usize;
        bytes[at..at + 8].copy_from_slice(&ebml::UNKNOWN_SIZE_8);
    }
    assert_eq!(
        probe(&bytes).unwrap().blocks,
        expected_blocks(
            Tracks {
                video: VIDEO,
                audio: AUDIO
            },
            &ops
        )
    );
}

#[test]
fn a_file_cut_anywhere_recovers_with_every_block_before_the_cut() {
    let tracks = Tracks {
        video: VIDEO,
        audio: AUDIO,
    };
    let ops = lecture(3, true);
    let unfinished = write_ops(tracks, &ops).get_ref().get_ref().clone();
    let full = scan(&mut unfinished.as_slice()).unwrap();
    let tracks_end = full.tracks_end.unwrap();
    for cut in 0..=unfinished.len() {
        let mut file = Cursor::new(unfinished[..cut].to_vec());
        let result = recover(&mut file);
        if (cut as u64) < tracks_end {
            assert!(result.is_err(), "cut at {cut} inside the header");
            continue;
        }
        let summary = result.unwrap();
        let kept: Vec<BlockInfo> = full
            .blocks
            .iter()
            .filter(|b| b.end <= cut as u64)
            .map(|b| b.info)
            .collect();
        let probe = probe(&file.into_inner()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(probe.blocks, kept, "cut at {cut}");
        assert_eq!(summary.blocks, kept.len() as u64);
        let keep = full
            .blocks
            .iter()
            .map(|b| b.end)
            .filter(|&e| e <= cut as u64)
            .max()
            .unwrap_or(tracks_end);
        assert_eq!(summary.bytes_dropped, cut as u64 - keep);
        assert_eq!(probe.has_cues, kept.iter().any(|b| b.track == 1));
    }
}

#[test]
fn a_crashed_recording_on_disk_is_recovered_in_place() {
    let path = std::env::temp_dir().join(format!("mediafile-recover-{}.webm", std::process::id()));
    let ops = lecture(3, false);
    let mut writer = Writer::new(
        std::fs::File::create(&path).unwrap(),
        Tracks {
            video: None,
            audio: AUDIO,
        },
    )
    .unwrap();
    for (_, ts, _, data) in &ops {
        writer.write_audio(*ts, data).unwrap();
    }
    drop(writer); // the process "dies": no finish
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    let len = file.seek(SeekFrom::End(0)).unwrap();
    file.set_len(len - 7).unwrap(); // and its last write was cut short
    let summary = recover(&mut file).unwrap();
    file.flush().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(summary.blocks, ops.len() as u64 - 1);
    assert_eq!(summary.duration_ms, 2960);
    let probe = probe(&bytes).unwrap();
    assert_eq!(
        (probe.blocks.len(), probe.duration_ms, probe.has_cues),
        (ops.len() - 1, Some(2960.0), true)
    );
}

#[test]
fn a_cut_file_does_not_probe() {
    let unfinished = write_ops(
        Tracks {
            video: None,
            audio: AUDIO,
        },
        &lecture(1, false),
    )
    .get_ref()
    .get_ref()
    .clone();
    assert!(matches!(
        probe(&unfinished[..unfinished.len() - 3]),
        Err(ProbeError::Truncated { .. })
    ));
    assert!(matches!(probe(b"RIFF...."), Err(ProbeError::Invalid { .. })));
}

#[test]
fn writer_refuses_impossible_tracks() {
    assert!(Writer::new(Cursor::new(Vec::new()), Tracks::default()).is_err());
    let surround = Tracks {
        video: None,
        audio: Some(AudioTrack {
            channels: 6,
            sample_rate: 48_000,
        }),
    };
    assert!(Writer::new(Cursor::new(Vec::new()), surround).is_err());
    let mut audio_only = Writer::new(
        Cursor::new(Vec::new()),
        Tracks {
            video: None,
            audio: AUDIO,
        },
    )
    .unwrap();
    assert!(audio_only.write_video(0, true, &[0]).is_err());
}
