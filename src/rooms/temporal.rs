//! Fewer frames per second of the shared screen for one viewer. The lecturer's browser encodes the
//! screen with three temporal layers (`L1T3`: a base layer of a quarter of the frames, a second
//! adding a quarter, a third the other half), and a viewer whose link is weak gets the lower layers
//! only: the same resolution, so the slide's text stays sharp, at a lower frame rate.
//!
//! Dropping frames leaves gaps in the RTP sequence numbers and the VP8 picture IDs, which her
//! browser would take for loss (asking for retransmissions, holding later frames back waiting for
//! the missing ones), so both are renumbered over what was dropped here. A packet's new number is
//! its own less the dropped ones before it, so a retransmission from the lecturer that arrives late
//! still takes its own place. A gap the lecturer's link made (a packet lost upstream and never
//! repaired) stays a gap: which layer it belonged to is unknown.

use std::collections::BTreeSet;

use mediafile::vp8;

// The type the SFU forwards (`sfu::Packet`), named here so this module does not depend on the SFU.
use rtc::rtp::packet::Packet;

/// The top temporal layer (of three).
const TOP: u8 = 2;
/// How far back (in packets, in frames) dropped numbers are remembered for late packets; older
/// ones count as dropped for good, and a packet older than that is not forwarded.
const SEQ_WINDOW: u64 = 1_000;
const PID_WINDOW: u64 = 200;

#[derive(Debug)]
pub(crate) struct TemporalFilter {
    /// The highest layer she gets now.
    current: u8,
    /// The highest layer her link carries. Going down is at once; going up is one layer at a time
    /// at a frame her decoder can start from: a keyframe, or a layer-sync frame of the next layer
    /// (it refers to the base layer only). The lecturer's encoder marks those often, so going up
    /// asks for no keyframe.
    target: u8,
    /// The frame being passed on or dropped (by RTP timestamp: a frame's packets share one).
    frame: Option<(u32, bool)>,
    seq: Renumber,
    pid: Renumber,
    /// The lecturer's stream (its SSRC): another one (a new share) numbers its frames afresh.
    source: Option<u32>,
    /// The first sequence number since the start, and the newest forwarded (extended).
    floor: Option<u64>,
    last_forwarded: Option<u64>,
}

impl TemporalFilter {
    pub(crate) fn new() -> TemporalFilter {
        TemporalFilter {
            current: TOP,
            target: TOP,
            frame: None,
            seq: Renumber::new(16, SEQ_WINDOW),
            pid: Renumber::new(15, PID_WINDOW),
            source: None,
            floor: None,
            last_forwarded: None,
        }
    }

    /// Forgets the stream: what comes next starts afresh (after a pause in what she gets, the
    /// numbers may have moved on any distance; her forwarder restarts at a keyframe and continues
    /// her numbering itself).
    pub(crate) fn reset(&mut self) {
        let target = self.target;
        *self = TemporalFilter::new();
        self.target = target;
    }

    /// Sets the highest layer her link carries (above the top means all).
    pub(crate) fn aim(&mut self, target: u8) {
        self.target = target.min(TOP);
    }

    /// She is below what her link carries (waiting for a frame to go up from).
    pub(crate) fn behind(&self) -> bool {
        self.target > self.current
    }

    /// Whether a packet goes to her; one that goes has its sequence number and picture ID moved
    /// back over what was dropped. `source`: the SSRC it came with; `keyframe_start`: it begins a
    /// keyframe.
    pub(crate) fn admit(&mut self, p: &mut Packet, source: u32, keyframe_start: bool) -> bool {
        if self.source != Some(source) {
            // A new share: its picture IDs start anywhere (its sequence numbers the SFU continues).
            self.reset();
            self.source = Some(source);
        }
        let t = vp8::temporal(&p.payload);
        let seq = self.seq.unwrap(p.header.sequence_number);
        let floor = *self.floor.get_or_insert(seq.ext);
        // Late and from before the start (her numbering went on from the start: it has no place
        // for it), or too old to place.
        if seq.late && (seq.ext < floor || self.seq.dropped(seq.ext)) {
            return false;
        }
        let pid = t.and_then(|t| t.picture_id).map(|(id, long, at)| {
            let bits = if long { 15 } else { 7 };
            (self.pid.unwrap_bits(id, bits), bits, at)
        });
        let Some((tid, sync)) = t.and_then(|t| t.tid) else {
            // Not layered (or unreadable: her decoder judges it): it goes, renumbered.
            return self.pass(p, seq, pid);
        };
        let forward = if seq.late {
            // A retransmission: it goes if its frame went (or would go now, had it been missed).
            pid.is_none_or(|(p, _, _)| !self.pid.dropped(p.ext)) && tid <= self.current
        } else {
            match self.frame {
                Some((ts, forward)) if ts == p.header.timestamp => forward,
                _ => {
                    let forward = self.decide(tid, sync, keyframe_start);
                    self.frame = Some((p.header.timestamp, forward));
                    if !forward && let Some((ext, _, _)) = pid {
                        self.pid.drop_number(ext.ext);
                    }
                    forward
                }
            }
        };
        if !forward {
            // A late packet (the lecturer's repair of a loss) counts as dropped only if nothing
            // after it has gone to her yet; otherwise its number is a gap she has already seen
            // past, and counting it would move the numbers given to the packets after it.
            if !seq.late || self.last_forwarded.is_none_or(|f| seq.ext > f) {
                self.seq.drop_number(seq.ext);
            }
            return false;
        }
        self.pass(p, seq, pid)
    }

    /// Whether a new frame of layer `tid` goes, moving `current` as `target` allows.
    fn decide(&mut self, tid: u8, sync: bool, keyframe: bool) -> bool {
        if keyframe || self.target < self.current {
            self.current = self.target;
        } else if sync && tid == self.current + 1 && tid <= self.target {
            self.current = tid;
        }
        tid <= self.current
    }

    fn pass(&mut self, p: &mut Packet, seq: Unwrapped, pid: Option<(Unwrapped, u32, usize)>) -> bool {
        self.last_forwarded = Some(self.last_forwarded.map_or(seq.ext, |f| f.max(seq.ext)));
        p.header.sequence_number = self.seq.renumber(seq.ext) as u16;
        if let Some((ext, bits, at)) = pid {
            let moved = self.pid.renumber(ext.ext);
            if moved != ext.ext {
                let mut payload = p.payload.to_vec();
                let mask = (1u64 << bits) - 1;
                vp8::set_picture_id(&mut payload, at, bits == 15, (moved & mask) as u16);
                p.payload = payload.into();
            }
        }
        true
    }
}

impl Default for TemporalFilter {
    fn default() -> TemporalFilter {
        TemporalFilter::new()
    }
}

/// A wrapping counter (sequence numbers, picture IDs) extended to 64 bits, and the numbers
/// dropped from it: a number's new value is itself less the dropped numbers before it.
#[derive(Debug)]
struct Renumber {
    bits: u32,
    window: u64,
    /// The highest extended number seen.
    highest: Option<u64>,
    /// Dropped numbers within `window` of the highest, and how many fell out of the window.
    dropped: BTreeSet<u64>,
    forgotten: u64,
}

/// An extended number, and whether it is older than the highest seen (a late packet).
#[derive(Debug, Clone, Copy)]
struct Unwrapped {
    ext: u64,
    late: bool,
}

impl Renumber {
    fn new(bits: u32, window: u64) -> Renumber {
        Renumber {
            bits,
            window,
            highest: None,
            dropped: BTreeSet::new(),
            forgotten: 0,
        }
    }

    fn unwrap(&mut self, n: u16) -> Unwrapped {
        self.unwrap_bits(n, self.bits)
    }

    /// Extends `n` (of `bits` bits: a picture ID may be 7 or 15) to the value nearest the highest.
    fn unwrap_bits(&mut self, n: u16, bits: u32) -> Unwrapped {
        let modulus = 1u64 << bits;
        // Remembered drops must stay well inside the range, or an old one would pass for new.
        self.window = self.window.min(modulus / 4);
        let n = u64::from(n) & (modulus - 1);
        let Some(h) = self.highest else {
            // Started high enough that a late packet just before the first one stays positive.
            let ext = n + (modulus << 2);
            self.highest = Some(ext);
            return Unwrapped { ext, late: false };
        };
        let base = h & !(modulus - 1);
        let candidates = [base.wrapping_sub(modulus), base, base + modulus].map(|b| b.wrapping_add(n));
        let ext = candidates.into_iter().min_by_key(|c| c.abs_diff(h)).unwrap_or(base + n);
        let late = ext < h;
        if !late {
            self.highest = Some(ext);
            let horizon = ext.saturating_sub(self.window);
            while self.dropped.first().is_some_and(|d| *d < horizon) {
                self.dropped.pop_first();
                self.forgotten += 1;
            }
        }
        Unwrapped { ext, late }
    }

    fn drop_number(&mut self, ext: u64) {
        if ext + self.window >= self.highest.unwrap_or(ext) {
            self.dropped.insert(ext);
        }
    }

    /// Whether `ext` was dropped (or is too old to place).
    fn dropped(&self, ext: u64) -> bool {
        self.dropped.contains(&ext) || ext + self.window < self.highest.unwrap_or(ext)
    }

    fn renumber(&self, ext: u64) -> u64 {
        let before = if self.highest.is_some_and(|h| ext >= h) {
            self.dropped.len() as u64
        } else {
            self.dropped.range(..ext).count() as u64
        };
        ext - self.forgotten - before
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A packet of frame `frame` (timestamp 3000 apart) in the L1T3 pattern 0, 2, 1, 2, with a
    /// 15-bit picture ID equal to the frame number (wrapping); frames 0 and 8 are keyframes.
    fn packet(seq: u16, frame: u16, tid: u8, sync: bool) -> Packet {
        let mut p = Packet::default();
        p.header.sequence_number = seq;
        p.header.timestamp = u32::from(frame) * 3000;
        let t = tid << 6 | if sync { 0x20 } else { 0 };
        let id = frame & 0x7FFF;
        p.payload = vec![0x90, 0xE0, 0x80 | (id >> 8) as u8, id as u8, 0, t, 0x00].into();
        p
    }

    fn tid_of(frame: u16) -> u8 {
        [0, 2, 1, 2][usize::from(frame % 4)]
    }

    /// Two packets per frame, from sequence number `seq0`; returns (seq, picture id, tid) of what
    /// was forwarded. `sync`: layer 1 frames, and the first layer 2 frame after each base frame,
    /// are layer-sync frames, as in the browser's pattern.
    fn run(f: &mut TemporalFilter, seq0: u16, frames: std::ops::Range<u16>, sync: bool) -> Vec<(u16, u16, u8)> {
        let mut out = Vec::new();
        for frame in frames.clone() {
            for i in 0..2 {
                let seq = seq0.wrapping_add((frame - frames.start) * 2 + i);
                let is_sync = sync && (frame % 4 == 1 || frame % 4 == 2);
                let mut p = packet(seq, frame, tid_of(frame), is_sync);
                let key = frame % 8 == 0 && i == 0;
                if f.admit(&mut p, 7, key) {
                    let t = vp8::temporal(&p.payload).unwrap();
                    out.push((p.header.sequence_number, t.picture_id.unwrap().0, t.tid.unwrap().0));
                }
            }
        }
        out
    }

    fn continuous(out: &[(u16, u16, u8)]) {
        for w in out.windows(2) {
            assert_eq!(
                w[1].0,
                w[0].0.wrapping_add(1),
                "sequence numbers without a gap: {out:?}"
            );
            assert!(
                w[1].1 == w[0].1 || w[1].1 == (w[0].1 + 1) & 0x7FFF,
                "picture IDs without a gap: {out:?}"
            );
        }
    }

    #[test]
    fn a_weak_link_gets_the_lower_layers_numbered_without_gaps_across_wraps() {
        let mut f = TemporalFilter::new();
        // Sequence numbers and picture IDs both wrap along the way.
        let start = 0x7FFF - 5;
        let all = run(&mut f, 0xFFF0, start..start + 4, false);
        assert_eq!(all.len(), 8, "everything at first");
        f.aim(1);
        let out = run(&mut f, 0xFFF8, start + 4..start + 12, false);
        assert!(out.iter().all(|o| o.2 <= 1), "no third layer: {out:?}");
        assert_eq!(out.len(), 8, "half the frames");
        f.aim(0);
        let base = run(&mut f, 0x0008, start + 12..start + 20, false);
        assert!(base.iter().all(|o| o.2 == 0) && base.len() == 4, "{base:?}");
        let whole: Vec<_> = all.into_iter().chain(out).chain(base).collect();
        continuous(&whole);
    }

    #[test]
    fn going_up_is_one_layer_at_a_time_at_keyframes_or_layer_sync_frames() {
        let mut f = TemporalFilter::new();
        f.aim(0);
        run(&mut f, 0, 0..4, false);
        f.aim(2);
        assert!(f.behind());
        // Frames 4..8 carry no sync: still the base layer only.
        let out = run(&mut f, 8, 4..8, false);
        assert!(out.iter().all(|o| o.2 == 0), "{out:?}");
        // Frame 8 is a keyframe: everything from there.
        let out = run(&mut f, 16, 8..12, false);
        assert_eq!(out.len(), 8);
        assert!(!f.behind());

        // Down to the base, then up again at sync frames only, one layer at a time: frame 18
        // (layer 1, sync) brings the second layer, frame 19 (layer 2, no sync) is still dropped,
        // frame 21 (layer 2, sync) brings the third.
        f.aim(0);
        run(&mut f, 24, 12..18, false);
        f.aim(2);
        let out = run(&mut f, 36, 18..24, true);
        assert_eq!(
            out.iter().map(|o| o.2).collect::<Vec<_>>(),
            [1, 1, 0, 0, 2, 2, 1, 1, 2, 2]
        );
        // A layer-2 sync frame while on the base layer is not the next layer up.
        f.aim(0);
        run(&mut f, 48, 24..28, false);
        f.aim(2);
        let out = run(&mut f, 56, 29..30, true);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn late_packets_take_their_own_place() {
        let mut f = TemporalFilter::new();
        f.aim(1);
        let out = run(&mut f, 0, 0..4, false);
        // Frames 0 and 2 went (seq 0, 1, 4, 5 → 0, 1, 2, 3); 1 and 3 were dropped.
        assert_eq!(out.iter().map(|o| o.0).collect::<Vec<_>>(), [0, 1, 2, 3]);
        // A retransmission of frame 2's second packet after frame 3: its own number, 3.
        let mut late = packet(5, 2, 1, false);
        assert!(f.admit(&mut late, 7, false));
        assert_eq!(late.header.sequence_number, 3);
        // One of frame 3's own packets: dropped with its frame.
        let mut late = packet(6, 3, 2, false);
        assert!(!f.admit(&mut late, 7, false));
        // Frame 4 continues the numbering.
        let out = run(&mut f, 8, 4..5, false);
        assert_eq!((out[0].0, out[0].1), (4, 2));
    }

    #[test]
    fn a_repaired_loss_in_a_dropped_frame_leaves_no_gap_and_old_packets_find_no_place() {
        let mut f = TemporalFilter::new();
        f.aim(1);
        run(&mut f, 0, 0..1, false);
        // Frame 1 (layer 2, dropped for her) loses its first packet upstream; its second comes.
        let mut second = packet(3, 1, 2, false);
        assert!(!f.admit(&mut second, 7, false));
        // The repair arrives before anything else went to her: counted as dropped too.
        let mut repair = packet(2, 1, 2, false);
        assert!(!f.admit(&mut repair, 7, false));
        let out = run(&mut f, 4, 2..3, false);
        assert_eq!(out[0].0, 2, "frame 2 follows frame 0 without a gap: {out:?}");

        // After a restart (her forwarder lost its place), a late packet from before it is refused:
        // her numbering went on from the restart.
        f.reset();
        run(&mut f, 100, 8..9, false);
        let mut old = packet(60, 5, 1, false);
        assert!(!f.admit(&mut old, 7, false));
    }

    #[test]
    fn a_new_share_numbers_its_frames_afresh() {
        let mut f = TemporalFilter::new();
        f.aim(1);
        let before = run(&mut f, 0, 5000..5008, false);
        // Another share (another SSRC) whose picture IDs start 4,000 below: they are new, not late.
        let mut out = Vec::new();
        for frame in 0..8u16 {
            for i in 0..2 {
                let mut p = packet(16 + frame * 2 + i, 1000 + frame, tid_of(frame), false);
                if f.admit(&mut p, 8, frame % 8 == 0 && i == 0) {
                    let t = vp8::temporal(&p.payload).unwrap();
                    out.push((p.header.sequence_number, t.picture_id.unwrap().0, t.tid.unwrap().0));
                }
            }
        }
        assert_eq!(out.len(), 8, "{out:?}");
        continuous(&out);
        assert!(before.len() == 8);
    }

    #[test]
    fn after_a_reset_numbers_far_away_are_a_new_start() {
        let mut f = TemporalFilter::new();
        f.aim(1);
        run(&mut f, 0, 0..8, false);
        f.reset();
        // Half the sequence space later (a long pause in what she got), from a keyframe.
        let out = run(&mut f, 40_000, 8..16, false);
        assert_eq!(out.len(), 8, "{out:?}");
        continuous(&out);
    }

    #[test]
    fn a_stream_without_temporal_layers_passes_whole() {
        let mut f = TemporalFilter::new();
        f.aim(0);
        for seq in 0..10u16 {
            let mut p = Packet::default();
            p.header.sequence_number = seq;
            p.header.timestamp = u32::from(seq / 2) * 3000;
            p.payload = vec![0x10, 0x01, 0xAA].into();
            assert!(f.admit(&mut p, 7, false));
            assert_eq!(p.header.sequence_number, seq);
        }
    }
}
