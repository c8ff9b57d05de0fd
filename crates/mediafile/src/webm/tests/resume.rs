//! Resuming unfinished recordings: a room that closed while its lecture was live, or a restart.

use std::io::{Cursor, ErrorKind, Seek, SeekFrom};

use super::*;

const BOTH: Tracks = Tracks {
    video: VIDEO,
    audio: AUDIO,
};

/// Writes `ops` and drops the writer without `finish`, as a closing room does.
fn unfinished(tracks: Tracks, ops: &[Op]) -> Vec<u8> {
    write_ops(tracks, ops).get_ref().get_ref().clone()
}

fn write_more<W: std::io::Write + Seek>(writer: &mut Writer<W>, ops: &[Op]) {
    for (video, ts, keyframe, data) in ops {
        if *video {
            writer.write_video(*ts, *keyframe, data).unwrap();
        } else {
            writer.write_audio(*ts, data).unwrap();
        }
    }
}

/// `ops` moved `offset` ms later.
fn shifted(ops: &[Op], offset: u64) -> Vec<Op> {
    ops.iter()
        .map(|(video, ts, keyframe, data)| (*video, ts + offset, *keyframe, data.clone()))
        .collect()
}

/// Every cue names a Cluster, in time order, and the Cluster starts with a video keyframe at the cue's time.
fn assert_cues_point_at_clusters(bytes: &[u8]) {
    let full = scan(&mut &bytes[..]).unwrap();
    let segment_data = full.segment.unwrap().data;
    let cues = cue_points(bytes);
    assert!(cues.windows(2).all(|w| w[0].0 < w[1].0), "{cues:?}");
    for (time, pos) in cues {
        let cluster = full
            .clusters
            .iter()
            .find(|c| c.header.pos == segment_data + pos)
            .unwrap_or_else(|| panic!("cue at {time} ms points at no Cluster"));
        let first = full.blocks[cluster.first_block].info;
        assert_eq!((first.track, first.ts_ms, first.keyframe), (1, time as i64, true));
    }
}

#[test]
fn a_lecture_resumed_at_a_keyframe_is_byte_for_byte_what_one_writer_writes() {
    let ops = lecture(4, true);
    let split = ops.iter().position(|(video, ts, _, _)| *video && *ts == 1980).unwrap();
    let mut writer = Writer::resume(Cursor::new(unfinished(BOTH, &ops[..split]))).unwrap();
    assert_eq!(writer.tracks(), BOTH);
    assert_eq!(writer.duration_ms(), 1960);
    assert_eq!(writer.blocks_written(), split as u64);
    write_more(&mut writer, &ops[split..]);
    let resumed = writer.finish().unwrap().into_inner();
    assert_eq!(resumed, write_ops(BOTH, &ops).finish().unwrap().into_inner());
}

#[test]
fn a_lecture_resumed_twice_after_gaps_keeps_every_block_in_order() {
    let part = lecture(3, true);
    let mut expected = part.clone();
    let mut bytes = unfinished(BOTH, &part);
    for _ in 0..2 {
        let mut writer = Writer::resume(Cursor::new(bytes)).unwrap();
        let last = expected.iter().map(|op| op.1).max().unwrap();
        assert_eq!(writer.duration_ms(), last);
        let more = shifted(&part, writer.duration_ms() + 5_000);
        write_more(&mut writer, &more);
        expected.extend(more);
        bytes = writer.get_ref().get_ref().clone(); // and the room closes again
    }
    let last = expected.last().unwrap().1;
    let bytes = Writer::resume(Cursor::new(bytes))
        .unwrap()
        .finish()
        .unwrap()
        .into_inner();
    let probe = probe(&bytes).unwrap();
    assert_eq!(probe.blocks, expected_blocks(BOTH, &expected));
    assert_eq!((probe.duration_ms, probe.has_cues), (Some(last as f64), true));
    // Each part has keyframes at 0, 1980 (every 2 s); each resumption starts at a cue.
    let starts = [0, 2_980 + 5_000, 2 * (2_980 + 5_000)];
    let expected_cues: Vec<u64> = starts.iter().flat_map(|s| [*s, s + 1_980]).collect();
    assert_eq!(
        cue_points(&bytes).iter().map(|c| c.0).collect::<Vec<_>>(),
        expected_cues
    );
    assert_cues_point_at_clusters(&bytes);
}

#[test]
fn a_file_cut_anywhere_resumes_with_every_complete_block_and_finishes_well_formed() {
    let ops = lecture(2, true);
    let bytes = unfinished(BOTH, &ops);
    let full = scan(&mut bytes.as_slice()).unwrap();
    let more = shifted(&lecture(1, true), 10_000);
    for cut in full.tracks_end.unwrap() as usize..=bytes.len() {
        let kept: Vec<BlockInfo> = full
            .blocks
            .iter()
            .filter(|b| b.end <= cut as u64)
            .map(|b| b.info)
            .collect();
        let mut writer = Writer::resume(Cursor::new(bytes[..cut].to_vec())).unwrap();
        let last = kept.iter().map(|b| b.ts_ms as u64).max().unwrap_or(0);
        assert_eq!(
            (writer.duration_ms(), writer.blocks_written()),
            (last, kept.len() as u64)
        );
        write_more(&mut writer, &more);
        let done = writer.finish().unwrap().into_inner();
        let probe = probe(&done).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(
            probe.blocks,
            [kept, expected_blocks(BOTH, &more)].concat(),
            "cut at {cut}"
        );
        assert_eq!(probe.duration_ms, Some(10_990.0));
        assert_cues_point_at_clusters(&done);
    }
}

#[test]
fn a_crashed_recording_on_disk_resumes_in_place_without_its_torn_block() {
    let path = std::env::temp_dir().join(format!("mediafile-resume-{}.webm", std::process::id()));
    let audio = Tracks {
        video: None,
        audio: AUDIO,
    };
    let ops = lecture(3, false);
    let mut writer = Writer::new(std::fs::File::create(&path).unwrap(), audio).unwrap();
    write_more(&mut writer, &ops);
    drop(writer); // the process dies mid-write:
    let file = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    file.set_len(file.metadata().unwrap().len() - 7).unwrap();
    let mut writer = Writer::resume(file).unwrap();
    assert_eq!(
        (writer.blocks_written(), writer.duration_ms()),
        (ops.len() as u64 - 1, 2960)
    );
    let more = shifted(&lecture(3, false), 2_960 + 1_000);
    write_more(&mut writer, &more);
    writer.finish().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let kept = [&ops[..ops.len() - 1], &more[..]].concat();
    let probe = probe(&bytes).unwrap();
    assert_eq!(probe.blocks, expected_blocks(audio, &kept));
    assert_eq!(probe.duration_ms, Some(more.last().unwrap().1 as f64));
    // Without video, every Cluster is a cue point: one per 2 s from each start.
    let cue_times: Vec<u64> = cue_points(&bytes).iter().map(|c| c.0).collect();
    assert_eq!(cue_times, [0, 2_000, 3_960, 5_960]);
}

#[test]
fn video_after_resuming_waits_for_a_keyframe_and_opens_a_cue_point() {
    let mut writer = Writer::resume(Cursor::new(unfinished(BOTH, &lecture(1, true)))).unwrap();
    writer.write_audio(2_000, &[1; 10]).unwrap();
    writer.write_video(2_010, false, &[2; 10]).unwrap();
    writer.write_video(2_043, true, &[3; 10]).unwrap();
    writer.write_audio(2_050, &[4; 10]).unwrap();
    assert_eq!(writer.dropped_video_frames(), 1);
    let bytes = writer.finish().unwrap().into_inner();
    let blocks = probe(&bytes).unwrap().blocks;
    let tail: Vec<_> = blocks[blocks.len() - 3..].iter().map(|b| (b.track, b.ts_ms)).collect();
    assert_eq!(tail, [(2, 2_000), (1, 2_043), (2, 2_050)]);
    assert_eq!(cue_points(&bytes).last().unwrap().0, 2_043);
    assert_cues_point_at_clusters(&bytes);
}

#[test]
fn finished_recordings_are_never_resumed() {
    let audio = Tracks {
        video: None,
        audio: AUDIO,
    };
    let finished = write_ops(BOTH, &lecture(2, true)).finish().unwrap().into_inner();
    // Finished with no Cues: a video recording that only ever got audio, and one with no blocks at all.
    let no_cues = write_ops(BOTH, &[(false, 0, true, vec![1; 10])])
        .finish()
        .unwrap()
        .into_inner();
    let empty = write_ops(audio, &[]).finish().unwrap().into_inner();
    let mut recovered = Cursor::new(unfinished(audio, &lecture(2, false)));
    recover(&mut recovered).unwrap();
    for bytes in [finished, no_cues, empty, recovered.into_inner()] {
        let mut file = Cursor::new(bytes.clone());
        let error = Writer::resume(&mut file).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        assert_eq!(file.into_inner(), bytes, "a refused file is left as it was");
    }
}

#[test]
fn files_not_from_our_writer_or_cut_in_their_header_are_left_alone() {
    let bytes = unfinished(BOTH, &lecture(1, true));
    let tracks_end = scan(&mut bytes.as_slice()).unwrap().tracks_end.unwrap() as usize;
    let mut foreign = bytes.clone();
    let at = find(&foreign, b"A_OPUS");
    foreign[at..at + 6].copy_from_slice(b"A_OPUX");
    for bytes in [bytes[..tracks_end - 1].to_vec(), foreign, b"RIFF....".to_vec()] {
        let mut file = Cursor::new(bytes.clone());
        let error = Writer::resume(&mut file).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert_eq!(file.into_inner(), bytes);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn an_empty_unfinished_recording_resumes_from_its_track_list() {
    let mut file = Cursor::new(unfinished(BOTH, &[]));
    file.seek(SeekFrom::End(0)).unwrap();
    let mut writer = Writer::resume(file).unwrap();
    assert_eq!((writer.duration_ms(), writer.blocks_written()), (0, 0));
    let ops = lecture(2, true);
    write_more(&mut writer, &ops);
    assert_eq!(
        writer.finish().unwrap().into_inner(),
        write_ops(BOTH, &ops).finish().unwrap().into_inner()
    );
}
