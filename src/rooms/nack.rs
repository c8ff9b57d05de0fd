//! Retransmissions to viewers, bounded.
//!
//! webrtc-rs's NACK responder queues a retransmission for every sequence number a receiver reports
//! lost, with no limit, and every handler below it (SRTP, DTLS, ICE) grows its own queue to the size of
//! that burst and keeps the capacity. A viewer that cannot keep up reports nearly everything lost, over
//! and over; with the server short of CPU as well, this is what took the server to 14 MiB per viewer
//! (heaptrack: the responder's queue and the SRTP buffers of retransmitted packets). This responder
//! keeps the last `HISTORY` packets per stream and at most `QUEUE_CAP` retransmissions waiting; what
//! does not fit is dropped, counted, and the viewer is resynced with a keyframe instead (a retransmission
//! that old would arrive after the browser's jitter buffer gave up on it anyway).
//!
//! Retransmissions also have a budget per leg: at most `SHARE` of the bytes sent to her, plus a burst
//! of `BURST` bytes. A receiver that loses most of the stream re-reports the same gaps again and again,
//! and answering all of that multiplies the leg's traffic and the server's CPU at the expense of
//! everyone else in the room; on a weak link it also fills what the link has left, so the packets she
//! still gets are lost as well. The budget follows what is sent to her: on the lowest layer, a
//! fraction of the top one's. A healthy mobile connection losing a few percent needs a small part of
//! it, and the burst covers a blip that loses a few dozen packets at once.
//!
//! The responder also numbers the sound's packets for transport-wide feedback (the header extension
//! of that name, where her browser negotiated it): her browser then says several times a second which
//! of them arrived, which judges her link while she gets sound only (see `domain::simulcast`). It is
//! done here rather than by webrtc-rs's own numbering interceptor because every packet already passes
//! through this one: another step in the chain costs about 1 % of the SFU's CPU at 250 viewers.
//!
//! Nothing from before the newest keyframe sent on a video stream is retransmitted: her decoder
//! starts again at that keyframe, so older packets are of no use to her. This matters most when she
//! changes layer because her link is weak: without it, the old, larger layer's losses would be resent
//! over the link that could not carry them, ahead of the new layer's keyframe.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Attribute, AttributedPacket, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::shared::TransportContext;
use rtc::shared::error::Error as RtcError;

/// Packets kept per stream for retransmission: about 1.5 s of 1.5 Mbit/s video.
pub const HISTORY: usize = 256;
/// Retransmissions waiting to be written, per viewer leg.
pub const QUEUE_CAP: usize = 64;
/// Retransmitted bytes per byte sent to the viewer.
pub const SHARE: f64 = 0.3;
/// Retransmitted bytes allowed at once: as many full packets as may wait (`QUEUE_CAP`).
pub const BURST: f64 = (QUEUE_CAP * 1_200) as f64;
/// RTP fixed header bytes, counted with each packet's payload.
const HEADER: usize = 12;

/// Told when retransmissions for a stream (by SSRC) had to be dropped, and how many.
pub type OnOverflow = Arc<dyn Fn(u32, u64) + Send + Sync>;

/// A picture loss indication or a full intra request.
pub fn is_keyframe_request(p: &dyn rtc::rtcp::Packet) -> bool {
    let any = p.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

/// The last `HISTORY` packets of one stream, by sequence number.
struct History {
    packets: Vec<Option<rtc::rtp::packet::Packet>>,
    /// A VP8 stream: its keyframes are recognised.
    vp8: bool,
    /// The first packet of the newest keyframe sent, while it is in the history.
    keyframe: Option<u16>,
}

impl History {
    fn new(vp8: bool) -> History {
        History {
            packets: vec![None; HISTORY],
            vp8,
            keyframe: None,
        }
    }

    /// Whether `seq` was sent before the newest keyframe (useless to a decoder that has it). Only the
    /// history's reach back from the keyframe counts as before it: numbers keep going up, and one far
    /// ahead of an old keyframe must not read as behind it once the difference passes half the range.
    fn superseded(&self, seq: u16) -> bool {
        self.keyframe
            .is_some_and(|k| (1..=HISTORY).contains(&usize::from(k.wrapping_sub(seq))))
    }

    /// A keyframe starts at `seq`; a late one (a retransmission from before the newest) changes nothing.
    fn keyframe_at(&mut self, seq: u16) {
        if !self.superseded(seq) {
            self.keyframe = Some(seq);
        }
    }

    fn slot(seq: u16) -> usize {
        usize::from(seq) % HISTORY
    }

    fn add(&mut self, p: &rtc::rtp::packet::Packet) {
        let seq = p.header.sequence_number;
        // The keyframe's own packet leaves the history: nothing older can be asked for any more, and
        // a mark kept longer would misread numbers once they come round again.
        if self
            .keyframe
            .is_some_and(|k| Self::slot(k) == Self::slot(seq) && (seq.wrapping_sub(k) as i16) > 0)
        {
            self.keyframe = None;
        }
        self.packets[Self::slot(seq)] = Some(p.clone());
    }

    fn get(&self, seq: u16) -> Option<&rtc::rtp::packet::Packet> {
        self.packets[Self::slot(seq)]
            .as_ref()
            .filter(|p| p.header.sequence_number == seq)
    }
}

pub struct BoundedNackResponder {
    streams: HashMap<u32, History>,
    /// Retransmissions, never more than `QUEUE_CAP`.
    retransmit: VecDeque<TaggedPacket>,
    /// Everything else on the way out, drained on every flush (its producer, the leg's driver channel,
    /// is bounded).
    write: VecDeque<TaggedPacket>,
    read: VecDeque<TaggedPacket>,
    on_overflow: OnOverflow,
    /// Bytes that may be retransmitted now: `SHARE` of each packet sent, up to `BURST`.
    budget: f64,
    /// Streams whose packets carry a transport-wide number, and that header extension's id.
    numbered: Vec<(u32, u8)>,
    next_transport_seq: u16,
}

impl BoundedNackResponder {
    pub fn new(on_overflow: OnOverflow) -> BoundedNackResponder {
        BoundedNackResponder {
            streams: HashMap::new(),
            retransmit: VecDeque::with_capacity(QUEUE_CAP),
            write: VecDeque::new(),
            read: VecDeque::new(),
            on_overflow,
            budget: BURST,
            numbered: Vec::new(),
            next_transport_seq: 0,
        }
    }

    /// Retransmissions waiting (never above `QUEUE_CAP`).
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.retransmit.len()
    }

    fn handle_nack(&mut self, now: Instant, nack: &TransportLayerNack) {
        let Some(history) = self.streams.get(&nack.media_ssrc) else {
            return;
        };
        let mut dropped = 0u64;
        for pair in &nack.nacks {
            let lost = std::iter::once(pair.packet_id).chain(
                (0..16u16)
                    .filter(|i| pair.lost_packets & (1 << i) != 0)
                    .map(|i| pair.packet_id.wrapping_add(i + 1)),
            );
            for seq in lost {
                let Some(p) = history.get(seq).filter(|_| !history.superseded(seq)) else {
                    continue;
                };
                let size = (p.payload.len() + HEADER) as f64;
                if self.retransmit.len() >= QUEUE_CAP || self.budget < size {
                    dropped += 1;
                    continue;
                }
                self.budget -= size;
                self.retransmit.push_back(TaggedPacket {
                    now,
                    transport: TransportContext::default(),
                    message: AttributedPacket::new(Packet::Rtp(p.clone())).with(Attribute::Retransmission),
                });
            }
        }
        if dropped > 0 {
            (self.on_overflow)(nack.media_ssrc, dropped);
        }
    }
}

impl rtc::sansio::Protocol<TaggedPacket, TaggedPacket, ()> for BoundedNackResponder {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = RtcError;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        let mut keyframe_request = false;
        let mut report = false;
        if let Packet::Rtcp(packets) = &msg.message.packet {
            for p in packets {
                if let Some(nack) = p.as_any().downcast_ref::<TransportLayerNack>() {
                    self.handle_nack(msg.now, nack);
                }
                keyframe_request |= is_keyframe_request(p.as_ref());
                report |= p.as_any().is::<ReceiverReport>() || p.as_any().is::<TransportLayerCc>();
            }
        }
        // A viewer asking for a keyframe (its picture broke: loss it could not repair, a cut that
        // healed) must reach the SFU, which asks the publisher; so must her receiver reports and
        // transport-wide feedback (her loss sets the video layer she gets). Inbound RTCP otherwise
        // ends here.
        if keyframe_request || report {
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtp(p) = &msg.message.packet {
            self.budget = (self.budget + SHARE * (p.payload.len() + HEADER) as f64).min(BURST);
            if let Some(h) = self.streams.get_mut(&p.header.ssrc) {
                h.add(p);
                if h.vp8 && mediafile::vp8::starts_keyframe(&p.payload) {
                    let ssrc = p.header.ssrc;
                    h.keyframe_at(p.header.sequence_number);
                    let h = &*h;
                    // What was waiting for her from before it goes, and its budget comes back (a weak
                    // link needs it for the new keyframe's losses).
                    let mut refund = 0.0;
                    self.retransmit.retain(|r| match &r.message.packet {
                        Packet::Rtp(q) if q.header.ssrc == ssrc && h.superseded(q.header.sequence_number) => {
                            refund += (q.payload.len() + HEADER) as f64;
                            false
                        }
                        _ => true,
                    });
                    self.budget = (self.budget + refund).min(BURST);
                }
            }
        }
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        let mut msg = self.retransmit.pop_front().or_else(|| self.write.pop_front())?;
        // Numbered in the order they leave.
        if let Packet::Rtp(p) = &mut msg.message.packet
            && let Some((_, id)) = self.numbered.iter().find(|(ssrc, _)| *ssrc == p.header.ssrc)
        {
            let seq = self.next_transport_seq;
            self.next_transport_seq = seq.wrapping_add(1);
            let _ = p.header.set_extension(*id, seq.to_be_bytes().to_vec().into());
        }
        Some(msg)
    }
}

impl Interceptor for BoundedNackResponder {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if info
            .rtcp_feedback
            .iter()
            .any(|fb| fb.typ == "nack" && fb.parameter.is_empty())
        {
            let vp8 = info.mime_type.eq_ignore_ascii_case("video/VP8");
            self.streams.insert(info.ssrc, History::new(vp8));
        }
        if let Some(ext) = info
            .rtp_header_extensions
            .iter()
            .find(|e| e.uri == rtc::sdp::extmap::TRANSPORT_CC_URI)
            && let Ok(id) = u8::try_from(ext.id)
            && (1..=14).contains(&id)
        {
            self.numbered.retain(|(ssrc, _)| *ssrc != info.ssrc);
            self.numbered.push((info.ssrc, id));
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.streams.remove(&info.ssrc);
        self.numbered.retain(|(ssrc, _)| *ssrc != info.ssrc);
    }

    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use rtc::interceptor::RTCPFeedback;
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::NackPair;
    use rtc::sansio::Protocol;

    use super::*;

    fn rtp(ssrc: u32, seq: u16) -> TaggedPacket {
        let mut p = rtc::rtp::packet::Packet::default();
        p.header.ssrc = ssrc;
        p.header.sequence_number = seq;
        TaggedPacket {
            now: Instant::now(),
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(p)),
        }
    }

    /// A NACK for `count` packets from `first` (the way a receiver that lost everything reports it).
    fn nack(ssrc: u32, first: u16, count: u16) -> TaggedPacket {
        let nacks = (0..count.div_ceil(17))
            .map(|i| NackPair {
                packet_id: first.wrapping_add(i * 17),
                lost_packets: 0xFFFF,
            })
            .collect();
        nack_packet(ssrc, nacks)
    }

    fn nack_packet(ssrc: u32, nacks: Vec<NackPair>) -> TaggedPacket {
        TaggedPacket {
            now: Instant::now(),
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(vec![Box::new(TransportLayerNack {
                sender_ssrc: 1,
                media_ssrc: ssrc,
                nacks,
            })])),
        }
    }

    #[test]
    fn a_viewer_reporting_everything_lost_gets_at_most_the_cap_and_a_resync() {
        let overflows: Arc<Mutex<Vec<(u32, u64)>>> = Arc::default();
        let seen = overflows.clone();
        let mut r = BoundedNackResponder::new(Arc::new(move |ssrc, n| {
            if let Ok(mut v) = seen.lock() {
                v.push((ssrc, n));
            }
        }));
        r.bind_local_stream(&StreamInfo {
            ssrc: 7,
            rtcp_feedback: vec![RTCPFeedback {
                typ: "nack".into(),
                parameter: String::new(),
            }],
            ..Default::default()
        });
        for seq in 0..1000u16 {
            r.handle_write(rtp(7, seq)).unwrap();
            while r.poll_write().is_some() {}
        }
        // The receiver reports the last 510 packets lost, three times before anything is written.
        for _ in 0..3 {
            r.handle_read(nack(7, 490, 510)).unwrap();
            assert!(r.queued() <= QUEUE_CAP);
            while r.poll_read().is_some() {}
        }
        assert_eq!(r.queued(), QUEUE_CAP);
        let mut out = Vec::new();
        while let Some(p) = r.poll_write() {
            out.push(p);
        }
        assert_eq!(out.len(), QUEUE_CAP, "only the cap is retransmitted");
        let first = match &out[0].message.packet {
            Packet::Rtp(p) => p.header.sequence_number,
            _ => panic!("not RTP"),
        };
        assert_eq!(usize::from(first), 1000 - HISTORY, "only packets still in the history");
        let overflows = overflows.lock().unwrap();
        let dropped: u64 = overflows.iter().map(|(_, n)| n).sum();
        assert_eq!(dropped, (3 * HISTORY - QUEUE_CAP) as u64, "every drop is counted");
        assert!(overflows.iter().all(|(ssrc, _)| *ssrc == 7));
    }

    /// A NACK for exactly `count` (1..=17) packets from `first`.
    fn nack_exactly(ssrc: u32, first: u16, count: u16) -> TaggedPacket {
        let pair = NackPair {
            packet_id: first,
            lost_packets: ((1u32 << (count - 1)) - 1) as u16,
        };
        nack_packet(ssrc, vec![pair])
    }

    /// A responder, and how many retransmissions it has dropped.
    fn counting() -> (BoundedNackResponder, Arc<Mutex<u64>>) {
        let dropped: Arc<Mutex<u64>> = Arc::default();
        let seen = dropped.clone();
        let r = BoundedNackResponder::new(Arc::new(move |_, n| {
            if let Ok(mut d) = seen.lock() {
                *d += n;
            }
        }));
        (r, dropped)
    }

    fn nack_stream(ssrc: u32, mime_type: &str) -> StreamInfo {
        StreamInfo {
            ssrc,
            mime_type: mime_type.into(),
            rtcp_feedback: vec![RTCPFeedback {
                typ: "nack".into(),
                parameter: String::new(),
            }],
            ..Default::default()
        }
    }

    fn with_payload(mut packet: TaggedPacket, payload: Vec<u8>) -> TaggedPacket {
        if let Packet::Rtp(p) = &mut packet.message.packet {
            p.payload = payload.into();
        }
        packet
    }

    fn seqs(r: &mut BoundedNackResponder) -> Vec<u16> {
        std::iter::from_fn(|| r.poll_write())
            .filter_map(|p| match &p.message.packet {
                Packet::Rtp(p) => Some(p.header.sequence_number),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn retransmissions_are_a_share_of_what_she_gets() {
        let (mut r, dropped) = counting();
        r.bind_local_stream(&nack_stream(7, ""));
        // 100 packets a second of 1000 bytes for 10 s; every 100 ms she reports the last 34 lost
        // (a link far too small). What she gets back is the burst plus `SHARE` of what was sent, not
        // 34 × 100 packets.
        let size = 1000 + HEADER;
        let (mut seq, mut resent, mut asked) = (0u16, 0usize, 0usize);
        while seq < 40 {
            r.handle_write(with_payload(rtp(7, seq), vec![0; 1000])).unwrap();
            seq += 1;
        }
        seqs(&mut r);
        for _ in 0..100 {
            for _ in 0..10 {
                r.handle_write(with_payload(rtp(7, seq), vec![0; 1000])).unwrap();
                seq += 1;
            }
            r.handle_read(nack(7, seq - 34, 34)).unwrap();
            asked += 34;
            while r.poll_read().is_some() {}
            resent += seqs(&mut r).len() - 10;
        }
        // (The first packets' share is lost to the full bucket, the last one's is left over.)
        let allowed = (BURST + SHARE * (1000 * size) as f64) / size as f64;
        assert!(
            (resent as f64) <= allowed && resent as f64 >= allowed - 5.0,
            "{resent} vs {allowed}"
        );
        assert_eq!(
            *dropped.lock().unwrap() as usize,
            asked - resent,
            "every drop is counted"
        );
    }

    #[test]
    fn nothing_from_before_the_newest_keyframe_is_resent() {
        let (mut r, dropped) = counting();
        r.bind_local_stream(&nack_stream(5, "video/VP8"));
        // VP8 payloads: descriptor (S=1 on a frame's first packet), then the frame tag (P=1: delta).
        let delta = |seq: u16| with_payload(rtp(5, seq), vec![0x10, 0x01, 0, 0]);
        let key = |seq: u16| with_payload(rtp(5, seq), vec![0x10, 0x00, 0, 0]);
        for seq in 65_500..=u16::MAX {
            r.handle_write(delta(seq)).unwrap();
        }
        seqs(&mut r);
        // Lost on her link, asked for, not yet written out...
        r.handle_read(nack_exactly(5, 65_520, 10)).unwrap();
        assert_eq!(r.queued(), 10);
        // ...when a keyframe goes to her (after the numbers wrapped): they are of no use any more.
        r.handle_write(delta(0)).unwrap();
        r.handle_write(key(1)).unwrap();
        r.handle_write(delta(2)).unwrap();
        assert_eq!(
            seqs(&mut r),
            vec![0, 1, 2],
            "only what was sent, no stale retransmission"
        );
        // Asking for them again, or for the packet just before the keyframe, brings nothing, and is no
        // overflow (she needs no keyframe: she has one).
        r.handle_read(nack_exactly(5, 65_520, 17)).unwrap();
        r.handle_read(nack_exactly(5, 0, 1)).unwrap();
        assert_eq!(r.queued(), 0);
        // The keyframe and what follows it are resent.
        r.handle_read(nack_exactly(5, 1, 2)).unwrap();
        assert_eq!(seqs(&mut r), vec![1, 2]);
        // A late copy of an older keyframe's first packet does not move her back.
        r.handle_write(key(65_534)).unwrap();
        seqs(&mut r);
        r.handle_read(nack_exactly(5, 2, 1)).unwrap();
        assert_eq!(seqs(&mut r), vec![2]);
        // Long after the keyframe (more than half the numbers later), recent packets are still resent.
        for seq in 3..40_000u16 {
            r.handle_write(delta(seq)).unwrap();
        }
        seqs(&mut r);
        r.handle_read(nack_exactly(5, 39_990, 5)).unwrap();
        assert_eq!(seqs(&mut r), vec![39_990, 39_991, 39_992, 39_993, 39_994]);
        // And a new keyframe that long after the last one is one: it clears what waited from before it.
        r.handle_read(nack_exactly(5, 39_995, 5)).unwrap();
        assert_eq!(r.queued(), 5);
        r.handle_write(key(40_000)).unwrap();
        assert_eq!(seqs(&mut r), vec![40_000]);
        assert_eq!(*dropped.lock().unwrap(), 0);
    }

    #[test]
    fn the_sound_is_numbered_for_transport_wide_feedback_in_the_order_it_leaves() {
        use rtc::interceptor::RTPHeaderExtension;
        let mut r = BoundedNackResponder::new(Arc::new(|_, _| {}));
        let extensions = vec![RTPHeaderExtension {
            uri: rtc::sdp::extmap::TRANSPORT_CC_URI.to_owned(),
            id: 3,
        }];
        for ssrc in [20, 21] {
            r.bind_local_stream(&StreamInfo {
                ssrc,
                rtp_header_extensions: extensions.clone(),
                ..Default::default()
            });
        }
        r.bind_local_stream(&nack_stream(5, "video/VP8"));
        for (ssrc, seq) in [(20, 100), (5, 7), (21, 9), (20, 101)] {
            r.handle_write(rtp(ssrc, seq)).unwrap();
        }
        let numbers: Vec<(u32, Option<u16>)> = std::iter::from_fn(|| r.poll_write())
            .map(|m| match &m.message.packet {
                Packet::Rtp(p) => (
                    p.header.ssrc,
                    p.header.get_extension(3).map(|b| u16::from_be_bytes([b[0], b[1]])),
                ),
                _ => panic!("not RTP"),
            })
            .collect();
        assert_eq!(numbers, vec![(20, Some(0)), (5, None), (21, Some(1)), (20, Some(2))]);
    }

    #[test]
    fn only_vp8_streams_have_keyframes() {
        let mut r = BoundedNackResponder::new(Arc::new(|_, _| {}));
        r.bind_local_stream(&nack_stream(3, "audio/opus"));
        for seq in 0..10u16 {
            r.handle_write(with_payload(rtp(3, seq), vec![0x10, 0x01])).unwrap();
        }
        // A payload that would read as a VP8 keyframe's start.
        r.handle_write(with_payload(rtp(3, 10), vec![0x10, 0x00])).unwrap();
        seqs(&mut r);
        r.handle_read(nack_exactly(3, 5, 3)).unwrap();
        assert_eq!(seqs(&mut r), vec![5, 6, 7]);
    }

    #[test]
    fn streams_without_nack_are_not_kept() {
        let mut r = BoundedNackResponder::new(Arc::new(|_, _| {}));
        r.bind_local_stream(&StreamInfo {
            ssrc: 9,
            ..Default::default()
        });
        r.handle_write(rtp(9, 1)).unwrap();
        assert!(r.poll_write().is_some());
        r.handle_read(nack(9, 1, 1)).unwrap();
        assert_eq!(r.queued(), 0);
    }
}
