//! VP8 over RTP (RFC 7741): from packets to whole frames, and what a frame's first bytes say.

/// Packets this far behind the expected sequence number are late or duplicates; further back, the sender
/// must have restarted its numbering.
const REORDER_WINDOW: i16 = 1_000;
/// A frame larger than this is garbage, not video.
const MAX_FRAME: usize = 4 << 20;

/// Splits an RTP payload into its VP8 payload descriptor and the VP8 data after it.
///
/// Returns whether the packet starts partition 0 (the start of a frame: S = 1 and PID = 0) and the data,
/// or None if the descriptor is cut short or nothing follows it.
pub fn payload(rtp_payload: &[u8]) -> Option<(bool, &[u8])> {
    let (&first, mut rest) = rtp_payload.split_first()?;
    let start = first & 0x10 != 0 && first & 0x07 == 0;
    if first & 0x80 != 0 {
        let (&extension, after) = rest.split_first()?;
        rest = after;
        if extension & 0x80 != 0 {
            // PictureID: 15 bits when its first byte's M bit is set, else 7.
            let picture_id_len = if rest.first()? & 0x80 != 0 { 2 } else { 1 };
            rest = rest.get(picture_id_len..)?;
        }
        if extension & 0x40 != 0 {
            rest = rest.get(1..)?; // TL0PICIDX
        }
        if extension & 0x30 != 0 {
            rest = rest.get(1..)?; // TID/Y/KEYIDX, present if T or K
        }
    }
    (!rest.is_empty()).then_some((start, rest))
}

/// The temporal-scalability fields of a VP8 payload descriptor (RFC 7741 §4.2): what an SFU reads
/// to forward a viewer fewer frames per second, and rewrites so her decoder sees no gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Temporal {
    /// The picture ID, whether it is 15 bits long (else 7), and its offset in the payload.
    pub picture_id: Option<(u16, bool, usize)>,
    /// TL0PICIDX: counts the base layer's frames.
    pub tl0_pic_idx: Option<u8>,
    /// The temporal layer (0 base) and the layer-sync bit: this frame depends on the base layer only.
    pub tid: Option<(u8, bool)>,
}

/// The temporal fields of a packet's descriptor; None if it is cut short. A descriptor without the
/// extension byte has none of them.
pub fn temporal(rtp_payload: &[u8]) -> Option<Temporal> {
    let mut t = Temporal {
        picture_id: None,
        tl0_pic_idx: None,
        tid: None,
    };
    let first = *rtp_payload.first()?;
    if first & 0x80 == 0 {
        return Some(t);
    }
    let extension = *rtp_payload.get(1)?;
    let mut at = 2;
    if extension & 0x80 != 0 {
        let b = *rtp_payload.get(at)?;
        if b & 0x80 != 0 {
            let lo = *rtp_payload.get(at + 1)?;
            t.picture_id = Some((u16::from(b & 0x7F) << 8 | u16::from(lo), true, at));
            at += 2;
        } else {
            t.picture_id = Some((u16::from(b), false, at));
            at += 1;
        }
    }
    if extension & 0x40 != 0 {
        t.tl0_pic_idx = Some(*rtp_payload.get(at)?);
        at += 1;
    }
    if extension & 0x30 != 0 {
        let b = *rtp_payload.get(at)?;
        if extension & 0x20 != 0 {
            t.tid = Some((b >> 6, b & 0x20 != 0));
        }
    }
    Some(t)
}

/// Writes a picture ID over the one at `at` (as `temporal` found it), keeping its length; the value
/// wraps at that length.
pub fn set_picture_id(rtp_payload: &mut [u8], at: usize, long: bool, id: u16) {
    if long {
        if let Some(b) = rtp_payload.get_mut(at..at + 2) {
            b[0] = 0x80 | ((id >> 8) as u8 & 0x7F);
            b[1] = id as u8;
        }
    } else if let Some(b) = rtp_payload.get_mut(at) {
        *b = id as u8 & 0x7F;
    }
}

/// Whether a frame (from its first byte) is a keyframe: the P bit of the frame tag is 0.
pub fn is_keyframe(frame_start: &[u8]) -> bool {
    frame_start.first().is_some_and(|tag| tag & 0x01 == 0)
}

/// Whether an RTP payload begins a keyframe.
pub fn starts_keyframe(rtp_payload: &[u8]) -> bool {
    matches!(payload(rtp_payload), Some((true, data)) if is_keyframe(data))
}

/// A keyframe's width and height in pixels (without the scaling bits), or None if this is no keyframe.
pub fn dimensions(frame_start: &[u8]) -> Option<(u16, u16)> {
    let header = frame_start
        .get(..10)
        .filter(|h| is_keyframe(h) && h[3..6] == [0x9D, 0x01, 0x2A])?;
    let width = u16::from_le_bytes([header[6], header[7]]) & 0x3FFF;
    let height = u16::from_le_bytes([header[8], header[9]]) & 0x3FFF;
    Some((width, height))
}

/// A whole VP8 frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub data: Vec<u8>,
    /// The RTP timestamp (90 kHz clock) of the frame's packets.
    pub timestamp: u32,
    pub keyframe: bool,
}

/// Joins RTP packets into frames. A frame missing a packet is dropped, and so is every frame after it until
/// a keyframe, since they refer to what was lost; meanwhile [`Self::needs_keyframe`] says to ask the sender
/// for one (RTCP PLI). It starts out needing a keyframe.
#[derive(Debug, Clone)]
pub struct FrameAssembler {
    frame: Vec<u8>,
    timestamp: u32,
    assembling: bool,
    next_seq: Option<u16>,
    needs_keyframe: bool,
}

impl Default for FrameAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameAssembler {
    pub fn new() -> Self {
        Self {
            frame: Vec::new(),
            timestamp: 0,
            assembling: false,
            next_seq: None,
            needs_keyframe: true,
        }
    }

    /// Whether frames are being dropped until a keyframe arrives.
    pub fn needs_keyframe(&self) -> bool {
        self.needs_keyframe
    }

    /// Takes one RTP packet; returns the frame it completes, if its marker bit ends a frame received whole
    /// (and that frame is decodable: a keyframe, or any frame while no keyframe is awaited).
    pub fn push(&mut self, sequence_number: u16, timestamp: u32, marker: bool, rtp_payload: &[u8]) -> Option<Frame> {
        if !self.in_sequence(sequence_number) {
            return None;
        }
        let Some((start, data)) = payload(rtp_payload) else {
            self.lose();
            return None;
        };
        if start {
            self.frame.clear();
            self.timestamp = timestamp;
            self.assembling = true;
        } else if !self.assembling || timestamp != self.timestamp {
            self.lose();
            return None;
        }
        if self.frame.len() + data.len() > MAX_FRAME {
            self.lose();
            return None;
        }
        self.frame.extend_from_slice(data);
        if marker { self.complete() } else { None }
    }

    fn complete(&mut self) -> Option<Frame> {
        self.assembling = false;
        let data = std::mem::take(&mut self.frame);
        let keyframe = is_keyframe(&data);
        if self.needs_keyframe && !keyframe {
            return None;
        }
        self.needs_keyframe = false;
        Some(Frame {
            data,
            timestamp: self.timestamp,
            keyframe,
        })
    }

    /// Notes a gap (and drops the frame in progress); false for a late or duplicate packet, to be ignored.
    fn in_sequence(&mut self, seq: u16) -> bool {
        if let Some(expected) = self.next_seq {
            let delta = seq.wrapping_sub(expected) as i16;
            if (-REORDER_WINDOW..0).contains(&delta) {
                return false;
            }
            if delta != 0 {
                self.lose();
            }
        }
        self.next_seq = Some(seq.wrapping_add(1));
        true
    }

    fn lose(&mut self) {
        self.frame.clear();
        self.assembling = false;
        self.needs_keyframe = true;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn temporal_fields_are_read_and_the_picture_id_rewritten_in_place() {
        // X; I, L, T; a 15-bit picture ID 0x1234; TL0PICIDX 7; TID 2 with layer sync; then data.
        let mut p = vec![0x90, 0xE0, 0x92, 0x34, 7, 0b1010_0000, 0x01, 0xAA];
        let t = temporal(&p).unwrap();
        assert_eq!(t.picture_id, Some((0x1234, true, 2)));
        assert_eq!(t.tl0_pic_idx, Some(7));
        assert_eq!(t.tid, Some((2, true)));
        set_picture_id(&mut p, 2, true, 0x7FFF + 2);
        assert_eq!(temporal(&p).unwrap().picture_id, Some((1, true, 2)), "wraps at 15 bits");
        assert_eq!(payload(&p), Some((true, &p[6..])), "the rest is untouched");

        // A 7-bit picture ID and K without T: no temporal layer.
        let mut short = vec![0x90, 0x90, 0x05, 0x00, 0x01];
        let t = temporal(&short).unwrap();
        assert_eq!((t.picture_id, t.tid), (Some((5, false, 2)), None));
        set_picture_id(&mut short, 2, false, 130);
        assert_eq!(temporal(&short).unwrap().picture_id, Some((2, false, 2)));

        // No extension: nothing to read; cut short: None.
        assert_eq!(temporal(&[0x10, 0x00]).unwrap().tid, None);
        assert_eq!(temporal(&[0x90, 0xE0, 0x92]), None);
    }

    const KEY: [u8; 12] = [0x50, 0x2A, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x41, 0xAA, 0xBB];
    const DELTA: [u8; 4] = [0x31, 0x05, 0x00, 0xCC];

    #[test]
    fn descriptors_of_every_shape_are_skipped() {
        let data = [0xAB, 0xCD];
        let cases: [(&[u8], bool); 8] = [
            (&[0x10], true),                               // S, PID 0, no extension
            (&[0x00], false),                              // continuation
            (&[0x11], false),                              // start of partition 1
            (&[0x90, 0x80, 0x05], true),                   // X, I with a 7-bit PictureID
            (&[0x90, 0x80, 0x81, 0x23], true),             // X, I with a 15-bit PictureID
            (&[0x90, 0x40, 0x07], true),                   // X, L
            (&[0x80, 0x20, 0x40], false),                  // X, T
            (&[0x90, 0xF0, 0xFF, 0xFF, 0x01, 0x23], true), // X, I (15-bit), L, T and K
        ];
        for (descriptor, start) in cases {
            let packet = [descriptor, &data].concat();
            assert_eq!(payload(&packet), Some((start, &data[..])), "{descriptor:02x?}");
        }
        assert_eq!(payload(&[0x90, 0x80, 0x81]), None, "15-bit PictureID cut short");
        assert_eq!(payload(&[0x90]), None, "extension byte missing");
        assert_eq!(payload(&[0x10]), None, "no data");
        assert_eq!(payload(&[]), None);
    }

    #[test]
    fn keyframes_and_their_dimensions_are_read_from_the_frame_header() {
        assert!(is_keyframe(&KEY));
        assert!(!is_keyframe(&DELTA));
        assert!(!is_keyframe(&[]));
        assert_eq!(dimensions(&KEY), Some((640, 480)));
        assert_eq!(dimensions(&DELTA), None);
        assert_eq!(dimensions(&KEY[..9]), None);
    }

    fn packet(start: bool, data: &[u8]) -> Vec<u8> {
        [&[if start { 0x10 } else { 0x00 }], data].concat()
    }

    #[test]
    fn packets_join_into_frames_at_the_marker() {
        let mut assembler = FrameAssembler::new();
        assert!(assembler.needs_keyframe());
        assert_eq!(assembler.push(65534, 9000, false, &packet(true, &KEY[..5])), None);
        let frame = assembler.push(65535, 9000, true, &packet(false, &KEY[5..])).unwrap();
        assert_eq!(
            frame,
            Frame {
                data: KEY.to_vec(),
                timestamp: 9000,
                keyframe: true
            }
        );
        assert!(!assembler.needs_keyframe());
        let frame = assembler.push(0, 12000, true, &packet(true, &DELTA)).unwrap();
        assert_eq!((frame.data, frame.keyframe), (DELTA.to_vec(), false));
    }

    #[test]
    fn a_gap_drops_frames_until_the_next_keyframe() {
        let mut assembler = FrameAssembler::new();
        assert_eq!(
            assembler.push(1, 0, true, &packet(true, &DELTA)),
            None,
            "no keyframe yet"
        );
        assert!(assembler.push(2, 3000, true, &packet(true, &KEY)).is_some());
        assert_eq!(assembler.push(3, 6000, false, &packet(true, &DELTA[..2])), None);
        // Packet 4 is lost: the frame it belonged to is incomplete.
        assert_eq!(assembler.push(5, 6000, true, &packet(false, &DELTA[3..])), None);
        assert!(assembler.needs_keyframe());
        assert_eq!(
            assembler.push(6, 9000, true, &packet(true, &DELTA)),
            None,
            "refers to the lost frame"
        );
        assert_eq!(
            assembler.push(4, 6000, false, &packet(false, &DELTA[2..3])),
            None,
            "too late"
        );
        let frame = assembler.push(7, 12000, true, &packet(true, &KEY)).unwrap();
        assert!(frame.keyframe);
        assert!(!assembler.needs_keyframe());
        assert!(
            assembler.push(7, 12000, true, &packet(true, &KEY)).is_none(),
            "duplicate"
        );
    }

    #[test]
    fn a_lost_marker_packet_drops_the_frame() {
        let mut assembler = FrameAssembler::new();
        assert!(assembler.push(10, 0, true, &packet(true, &KEY)).is_some());
        assert_eq!(assembler.push(11, 3000, false, &packet(true, &DELTA[..2])), None);
        // 12 (the marker) is lost; 13 starts the next frame, which can no longer be decoded.
        assert_eq!(assembler.push(13, 6000, true, &packet(true, &DELTA)), None);
        assert!(assembler.needs_keyframe());
    }
}
