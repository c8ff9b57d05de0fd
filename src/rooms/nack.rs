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
//! Retransmissions also have a rate budget per leg (`RATE` packets/s, burst `QUEUE_CAP`): a receiver
//! that loses most of the stream re-reports the same gaps again and again, and answering all of that
//! multiplies the leg's traffic and the server's CPU at the expense of everyone else in the room. A
//! healthy mobile connection losing a few percent needs a small fraction of the budget.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Attribute, AttributedPacket, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::shared::TransportContext;
use rtc::shared::error::Error as RtcError;

/// Packets kept per stream for retransmission: about 1.5 s of 1.5 Mbit/s video.
pub const HISTORY: usize = 256;
/// Retransmissions waiting to be written, per viewer leg.
pub const QUEUE_CAP: usize = 64;
/// Retransmissions per second per viewer leg (about 30 % of a 1.5 Mbit/s stream's packets).
pub const RATE: f64 = 50.0;

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
}

impl History {
    fn new() -> History {
        History {
            packets: vec![None; HISTORY],
        }
    }

    fn slot(seq: u16) -> usize {
        usize::from(seq) % HISTORY
    }

    fn add(&mut self, p: &rtc::rtp::packet::Packet) {
        self.packets[Self::slot(p.header.sequence_number)] = Some(p.clone());
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
    /// Retransmissions allowed now (token bucket: `RATE` per second up to `QUEUE_CAP`).
    budget: f64,
    budget_at: Option<Instant>,
}

impl BoundedNackResponder {
    pub fn new(on_overflow: OnOverflow) -> BoundedNackResponder {
        BoundedNackResponder {
            streams: HashMap::new(),
            retransmit: VecDeque::with_capacity(QUEUE_CAP),
            write: VecDeque::new(),
            read: VecDeque::new(),
            on_overflow,
            budget: QUEUE_CAP as f64,
            budget_at: None,
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
        if let Some(at) = self.budget_at {
            let refill = now.saturating_duration_since(at).as_secs_f64() * RATE;
            self.budget = (self.budget + refill).min(QUEUE_CAP as f64);
        }
        self.budget_at = Some(now);
        let mut dropped = 0u64;
        for pair in &nack.nacks {
            let lost = std::iter::once(pair.packet_id).chain(
                (0..16u16)
                    .filter(|i| pair.lost_packets & (1 << i) != 0)
                    .map(|i| pair.packet_id.wrapping_add(i + 1)),
            );
            for seq in lost {
                let Some(p) = history.get(seq) else { continue };
                if self.retransmit.len() >= QUEUE_CAP || self.budget < 1.0 {
                    dropped += 1;
                    continue;
                }
                self.budget -= 1.0;
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
                report |= p.as_any().is::<ReceiverReport>();
            }
        }
        // A viewer asking for a keyframe (its picture broke: loss it could not repair, a cut that
        // healed) must reach the SFU, which asks the publisher; so must her receiver reports (her
        // loss sets the video layer she gets). Inbound RTCP otherwise ends here.
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
        if let Packet::Rtp(p) = &msg.message.packet
            && let Some(h) = self.streams.get_mut(&p.header.ssrc)
        {
            h.add(p);
        }
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.retransmit.pop_front().or_else(|| self.write.pop_front())
    }
}

impl Interceptor for BoundedNackResponder {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if info
            .rtcp_feedback
            .iter()
            .any(|fb| fb.typ == "nack" && fb.parameter.is_empty())
        {
            self.streams.insert(info.ssrc, History::new());
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.streams.remove(&info.ssrc);
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

    #[test]
    fn retransmissions_have_a_rate_budget() {
        let dropped: Arc<Mutex<u64>> = Arc::default();
        let seen = dropped.clone();
        let mut r = BoundedNackResponder::new(Arc::new(move |_, n| {
            if let Ok(mut d) = seen.lock() {
                *d += n;
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
        for seq in 0..256u16 {
            r.handle_write(rtp(7, seq)).unwrap();
            while r.poll_write().is_some() {}
        }
        // Written out at once each time, so only the budget limits: a NACK for 34 packets every 100 ms
        // for 10 s gets the burst plus `RATE` per second, not 34 × 100.
        let start = Instant::now();
        let mut sent = 0;
        for i in 0..100u32 {
            let mut n = nack(7, 100, 34);
            n.now = start + std::time::Duration::from_millis(100 * u64::from(i));
            r.handle_read(n).unwrap();
            while r.poll_read().is_some() {}
            while r.poll_write().is_some() {
                sent += 1;
            }
        }
        let allowed = QUEUE_CAP + (RATE * 9.9) as usize;
        assert!(sent <= allowed + 1 && sent + 2 >= allowed, "{sent} vs {allowed}");
        assert_eq!(*dropped.lock().unwrap() as usize, 3400 - sent);
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
