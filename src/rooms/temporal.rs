//! Fewer frames per second of the shared screen for one viewer. The lecturer's browser encodes the
//! screen with three temporal layers (`L1T3`: a base layer of a quarter of the frames, a second
//! adding a quarter, a third the other half), and a viewer whose link is weak gets the lower layers
//! only: the same resolution, so the slide's text stays sharp, at a lower frame rate.
//!
//! Dropping frames leaves gaps in the RTP sequence numbers and the VP8 picture IDs, which her
//! browser would take for loss (asking for retransmissions, or holding frames back waiting for the
//! missing ones), so both are moved back over what was dropped. A camera layer is not touched here:
//! a packet without temporal fields passes, renumbered only.

use mediafile::vp8;

use super::sfu::Packet;

/// The top temporal layer (of three).
const TOP: u8 = 2;

#[derive(Debug)]
pub(crate) struct TemporalFilter {
    /// The highest layer she gets now.
    current: u8,
    /// The highest layer her link carries. Going down is at once; going up waits for a frame her
    /// decoder can start from (a keyframe, or a layer-sync frame of the new layer), since the
    /// frames of a higher layer refer to earlier ones of that layer she never got.
    target: u8,
    /// The frame being passed on or dropped (by RTP timestamp: a frame's packets share one).
    frame: Option<(u32, bool)>,
    /// Packets and frames dropped so far: subtracted from the sequence numbers and picture IDs.
    seq_skipped: u16,
    pid_skipped: u16,
    /// The newest sequence number seen, and the newest one dropped, to place late packets.
    newest: Option<u16>,
    last_dropped: Option<u16>,
}

impl TemporalFilter {
    pub(crate) fn new() -> TemporalFilter {
        TemporalFilter {
            current: TOP,
            target: TOP,
            frame: None,
            seq_skipped: 0,
            pid_skipped: 0,
            newest: None,
            last_dropped: None,
        }
    }

    /// Sets the highest layer her link carries (above the top means all).
    pub(crate) fn aim(&mut self, target: u8) {
        self.target = target.min(TOP);
    }

    /// She is below what her link carries: a keyframe would bring her up (ask for one).
    pub(crate) fn wants_keyframe(&self) -> bool {
        self.target > self.current
    }

    /// Whether a packet goes to her; one that goes has its sequence number and picture ID moved
    /// back over what was dropped. `keyframe_start`: the packet begins a keyframe.
    pub(crate) fn admit(&mut self, p: &mut Packet, keyframe_start: bool) -> bool {
        // An unreadable descriptor: let her decoder judge it.
        let Some(t) = vp8::temporal(&p.payload) else {
            return self.pass(p, None);
        };
        let seq = p.header.sequence_number;
        let late = self.newest.is_some_and(|n| older(seq, n));
        if !late {
            self.newest = Some(seq);
        }
        let Some((tid, sync)) = t.tid else {
            return self.pass(p, t.picture_id);
        };
        let forward = if late {
            // A retransmission from the lecturer: it has a place in her numbering only if nothing
            // was dropped after it.
            tid <= self.current && self.last_dropped.is_none_or(|d| older(d, seq))
        } else {
            match self.frame {
                Some((ts, forward)) if ts == p.header.timestamp => forward,
                _ => {
                    let forward = self.decide(tid, sync, keyframe_start);
                    self.frame = Some((p.header.timestamp, forward));
                    if !forward {
                        self.pid_skipped = self.pid_skipped.wrapping_add(1);
                    }
                    forward
                }
            }
        };
        if !forward {
            if !late {
                self.seq_skipped = self.seq_skipped.wrapping_add(1);
                self.last_dropped = Some(seq);
            }
            return false;
        }
        self.pass(p, t.picture_id)
    }

    /// Whether a new frame of layer `tid` goes, moving `current` as `target` allows.
    fn decide(&mut self, tid: u8, sync: bool, keyframe: bool) -> bool {
        if keyframe || self.target < self.current {
            self.current = self.target;
        } else if sync && tid > self.current && tid <= self.target {
            self.current = tid;
        }
        tid <= self.current
    }

    fn pass(&self, p: &mut Packet, picture_id: Option<(u16, bool, usize)>) -> bool {
        p.header.sequence_number = p.header.sequence_number.wrapping_sub(self.seq_skipped);
        if let Some((pid, long, at)) = picture_id
            && self.pid_skipped != 0
        {
            let width: u32 = if long { 0x8000 } else { 0x80 };
            let moved = (u32::from(pid) + width - u32::from(self.pid_skipped) % width) % width;
            let mut payload = p.payload.to_vec();
            vp8::set_picture_id(&mut payload, at, long, moved as u16);
            p.payload = payload.into();
        }
        true
    }
}

impl Default for TemporalFilter {
    fn default() -> TemporalFilter {
        TemporalFilter::new()
    }
}

/// Whether sequence number `a` comes before `b` (with wrap-around).
fn older(a: u16, b: u16) -> bool {
    a != b && b.wrapping_sub(a) < 0x8000
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A packet of frame `frame` (timestamp 3000 apart) in the L1T3 pattern 0, 2, 1, 2, with a
    /// 15-bit picture ID equal to the frame number; frames 0 and 8 are keyframes.
    fn packet(seq: u16, frame: u16, tid: u8, sync: bool) -> Packet {
        let mut p = Packet::default();
        p.header.sequence_number = seq;
        p.header.timestamp = u32::from(frame) * 3000;
        let t = tid << 6 | if sync { 0x20 } else { 0 };
        p.payload = vec![0x90, 0xE0, 0x80 | (frame >> 8) as u8, frame as u8, 0, t, 0x00].into();
        p
    }

    fn tid_of(frame: u16) -> u8 {
        [0, 2, 1, 2][usize::from(frame % 4)]
    }

    /// Two packets per frame; returns (seq, picture id, tid) of what was forwarded.
    fn run(f: &mut TemporalFilter, frames: std::ops::Range<u16>, sync: bool) -> Vec<(u16, u16, u8)> {
        let mut out = Vec::new();
        for frame in frames {
            for i in 0..2 {
                let mut p = packet(frame * 2 + i, frame, tid_of(frame), sync && frame % 4 != 0);
                let key = frame % 8 == 0 && i == 0;
                if f.admit(&mut p, key) {
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
    fn a_weak_link_gets_the_lower_layers_numbered_without_gaps() {
        let mut f = TemporalFilter::new();
        let all = run(&mut f, 0..4, false);
        assert_eq!(all.len(), 8, "everything at first");
        f.aim(1);
        let out = run(&mut f, 4..12, false);
        assert!(out.iter().all(|o| o.2 <= 1), "no third layer: {out:?}");
        assert_eq!(out.len(), 8, "half the frames");
        f.aim(0);
        let base = run(&mut f, 12..20, false);
        assert!(base.iter().all(|o| o.2 == 0) && base.len() == 4, "{base:?}");
        let whole: Vec<_> = all.into_iter().chain(out).chain(base).collect();
        continuous(&whole);
    }

    #[test]
    fn going_up_waits_for_a_keyframe_or_a_layer_sync_frame() {
        let mut f = TemporalFilter::new();
        f.aim(0);
        run(&mut f, 0..4, false);
        f.aim(2);
        assert!(f.wants_keyframe());
        // Frames 4..8: no keyframe, no sync: still the base layer only.
        let out = run(&mut f, 4..8, false);
        assert!(out.iter().all(|o| o.2 == 0), "{out:?}");
        // Frame 8 is a keyframe: everything from there.
        let out = run(&mut f, 8..12, false);
        assert_eq!(out.len(), 8);
        assert!(!f.wants_keyframe());

        // Down, then up at layer-sync frames without a keyframe (frames 13..16 carry sync).
        f.aim(0);
        run(&mut f, 12..13, false);
        f.aim(2);
        let out = run(&mut f, 13..16, true);
        assert_eq!(out.iter().map(|o| o.2).collect::<Vec<_>>(), [2, 2, 1, 1, 2, 2]);
    }

    #[test]
    fn late_packets_go_only_where_nothing_was_dropped_after_them() {
        let mut f = TemporalFilter::new();
        f.aim(1);
        run(&mut f, 0..4, false);
        // A retransmission of frame 2 (layer 1) after frame 3 (layer 2) was dropped: no place left.
        let mut late = packet(4, 2, 1, false);
        assert!(!f.admit(&mut late, false));
        // One of frame 3's own packets, dropped with it.
        let mut late = packet(6, 3, 2, false);
        assert!(!f.admit(&mut late, false));
        // Frame 4 (base) and a retransmission of its first packet, nothing dropped since.
        let out = run(&mut f, 4..5, false);
        let mut again = packet(8, 4, 0, false);
        assert!(f.admit(&mut again, false));
        assert_eq!(again.header.sequence_number, out[0].0);
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
            assert!(f.admit(&mut p, false));
            assert_eq!(p.header.sequence_number, seq);
        }
    }
}
