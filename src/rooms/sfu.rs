//! The selective forwarding unit: media in from publishers, out to every viewer.
//!
//! Every viewer leg has the same fixed set of slots (camera video, screen video, lecturer audio,
//! speaker audio), so a new publisher never requires renegotiation: publishers are mapped onto slots
//! and the viewer's tracks simply start carrying packets. The server offers viewer legs; publishers
//! offer (the room page, so it can name the camera's simulcast layers) and the server answers, or, for
//! a client that asks without an offer, the server offers.
//!
//! Fan-out: each slot has a broadcast channel per layer (the camera three simulcast layers, the others
//! one); each viewer has one forwarder task per slot, listening to the layer her link carries (see
//! `domain::simulcast`). A viewer that falls behind (`Lagged`) is counted and re-synced with a keyframe
//! request — never dropped, unlike the upstream broadcast example. Every queue on a viewer's path is bounded: the slot's ring (shared), one
//! packet in flight per forwarder, the media loop's packet channel (`mux`, shared by its viewers; a leg
//! with a connection of its own: its driver channel, webrtc-rs, 256 events), and retransmissions
//! (`nack::BoundedNackResponder`, replacing webrtc-rs's unbounded one); what does not fit is dropped,
//! counted and followed by a keyframe. Forwarders rewrite SSRC and payload type per viewer and continue the
//! sequence numbers and timestamps across publisher changes so decoders do not stall.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI8, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::transport_feedbacks::transport_layer_cc::{PacketStatusChunk, SymbolTypeTcc, TransportLayerCc};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{broadcast, mpsc};

use super::mux::{self, Mux};
use super::nack::{BoundedNackResponder, OnOverflow, is_keyframe_request};
use super::temporal::TemporalFilter;
use crate::domain::simulcast::{self, DeliveredShare, FeedbackLoss, LAYERS, LayerSwitch, LinkPolicy, Quality};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription, Registry, SettingEngineBuilder,
    register_default_interceptors,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

pub type Packet = rtc::rtp::packet::Packet;

const VP8_PT: u8 = 96;
const OPUS_PT: u8 = 111;
/// Packets a slot buffers for slow forwarders before they lag (about 2 s of 1.5 Mbit/s video).
const SLOT_BUFFER: usize = 1024;
/// At most one keyframe request per layer in this interval.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(400);
/// A layer that sent nothing for this long is not being sent (the lecturer's browser paused it, or
/// stopped publishing).
const LAYER_IDLE: Duration = Duration::from_millis(1500);
/// How often a viewer's forwarder looks again at which layer she should get.
const LAYER_CHECK: Duration = Duration::from_millis(250);
/// A viewer waiting for a layer's keyframe asks again after this long without one.
const KEYFRAME_RETRY: Duration = Duration::from_millis(1500);
/// How long a viewer waits for a layer-sync frame to go up a temporal layer of the shared screen
/// before a keyframe is asked for instead.
const TEMPORAL_SYNC_WAIT: Duration = Duration::from_secs(5);
/// Leg ids (`LegHandle::id`).
static NEXT_LEG: AtomicUsize = AtomicUsize::new(1);
/// Viewers' own keyframe requests are passed on at most this often per slot: one viewer on a lossy
/// link must not make the lecturer's phone send keyframes several times a second for everyone.
const VIEWER_KEYFRAME_INTERVAL: Duration = Duration::from_millis(1500);
/// How long a forwarder waits for room in her connection's queue before the packet is dropped.
const WRITE_WAIT: Duration = Duration::from_millis(500);
/// ICE: silence before a leg counts as down, further silence before it fails, keepalive interval.
const ICE_DISCONNECTED: Duration = Duration::from_secs(2);
const ICE_FAILED: Duration = Duration::from_secs(6);
const ICE_KEEPALIVE: Duration = Duration::from_secs(1);

/// Network settings for media.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The address UDP sockets bind to (and announce, unless `public_ip` is set).
    pub bind_ip: IpAddr,
    /// UDP port range; `0..=0` lets the system pick.
    pub port_min: u16,
    pub port_max: u16,
    /// The address announced to browsers when the server sits behind 1:1 NAT.
    pub public_ip: Option<IpAddr>,
    /// How many media loops carry the viewers' connections (see `mux`), each on one UDP port: the
    /// first free ports of the range, or ones the system picks. 0, or a wildcard `bind_ip` (a loop's
    /// one socket could not tell which of the host's addresses a datagram came in on): every viewer
    /// leg gets a connection and a port of its own, like publishers.
    pub viewer_loops: usize,
}

/// Where a publisher's media goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Lecturer camera and microphone.
    Camera,
    /// Lecturer screen share (video only).
    Screen,
    /// A chair allowed to speak (microphone only).
    Mic,
}

/// The slots of every viewer leg, in m-line order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotId {
    CameraVideo = 0,
    ScreenVideo = 1,
    LecturerAudio = 2,
    SpeakerAudio = 3,
}

pub const SLOTS: [SlotId; 4] = [
    SlotId::CameraVideo,
    SlotId::ScreenVideo,
    SlotId::LecturerAudio,
    SlotId::SpeakerAudio,
];

impl SlotId {
    fn is_video(self) -> bool {
        matches!(self, SlotId::CameraVideo | SlotId::ScreenVideo)
    }

    fn kind(self) -> RtpCodecKind {
        if self.is_video() {
            RtpCodecKind::Video
        } else {
            RtpCodecKind::Audio
        }
    }

    /// The slot a publisher's track of `kind` lands in.
    fn for_source(source: Source, kind: RtpCodecKind) -> Option<SlotId> {
        match (source, kind) {
            (Source::Camera, RtpCodecKind::Video) => Some(SlotId::CameraVideo),
            (Source::Camera, RtpCodecKind::Audio) => Some(SlotId::LecturerAudio),
            (Source::Screen, RtpCodecKind::Video) => Some(SlotId::ScreenVideo),
            (Source::Mic, RtpCodecKind::Audio) => Some(SlotId::SpeakerAudio),
            _ => None,
        }
    }
}

/// The video codec every leg offers (public for the synthetic clients in `testkit`).
pub fn vp8() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_VP8.to_owned(),
        clock_rate: 90000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

/// The audio codec every leg offers.
pub fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// The media engine every leg (and the synthetic clients) use: VP8 and Opus only, so a browser can never
/// pick a codec the forwarders do not rewrite, plus the default interceptors (NACK, reports, TWCC).
pub fn media_engine() -> Result<(MediaEngine, Registry), String> {
    let mut me = codecs()?;
    let registry = register_default_interceptors(Registry::new(), &mut me).map_err(|e| e.to_string())?;
    Ok((me, registry))
}

/// For viewer legs: what a leg that only sends needs of the default interceptors, with retransmissions
/// bounded (see `nack`). It answers her NACKs and sends sender reports (her player syncs sound and
/// picture by them); it receives no RTP, so the NACK generator, the receiver reports and the TWCC
/// receiver the defaults add would only sit in the path of every packet sent (each one a move through
/// its queue: about 1 % of the SFU's CPU apiece at 250 viewers).
///
/// The sound carries transport-wide sequence numbers (added by the same responder), so her browser
/// sends transport-wide feedback on it several times a second: while she gets sound only, that is
/// how her link's recovery shows within a second or two (the sound's receiver reports come every
/// five seconds). Video does not carry them: its receiver reports come several times a second (about
/// every 200 ms from Chrome), and numbering every video packet would cost CPU for nothing the policy
/// needs.
fn viewer_media_engine(on_overflow: OnOverflow) -> Result<(MediaEngine, Registry), String> {
    use rtc::interceptor::{SenderReportBuilder, Slot};
    use rtc::peer_connection::configuration::interceptor_registry::configure_simulcast_extension_headers;
    use rtc::rtp_transceiver::rtp_sender::RTCPFeedback;
    let mut me = codecs()?;
    me.register_feedback(
        RTCPFeedback {
            typ: "transport-cc".to_owned(),
            parameter: String::new(),
        },
        RtpCodecKind::Audio,
    );
    me.register_header_extension(
        rtc::rtp_transceiver::rtp_sender::RTCRtpHeaderExtensionCapability {
            uri: rtc::sdp::extmap::TRANSPORT_CC_URI.to_owned(),
        },
        RtpCodecKind::Audio,
        None,
    )
    .map_err(|e| e.to_string())?;
    // What `configure_nack` does, with our responder in its slot.
    for parameter in ["", "pli"] {
        me.register_feedback(
            RTCPFeedback {
                typ: "nack".to_owned(),
                parameter: parameter.to_owned(),
            },
            RtpCodecKind::Video,
        );
    }
    configure_simulcast_extension_headers(&mut me).map_err(|e| e.to_string())?;
    let registry = Registry::new()
        .with(Slot::NackResponder, BoundedNackResponder::new(on_overflow))
        .with(Slot::SenderReport, SenderReportBuilder::new().build());
    Ok((me, registry))
}

fn codecs() -> Result<MediaEngine, String> {
    let mut me = MediaEngine::default();
    let codecs = [
        (vp8(), VP8_PT, RtpCodecKind::Video),
        (opus(), OPUS_PT, RtpCodecKind::Audio),
    ];
    for (rtp_codec, payload_type, kind) in codecs {
        me.register_codec(
            RTCRtpCodecParameters {
                rtp_codec,
                payload_type,
            },
            kind,
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(me)
}

/// Counters for monitoring and the load benchmark.
#[derive(Debug, Default)]
pub struct Stats {
    pub packets_in: AtomicU64,
    pub packets_out: AtomicU64,
    /// Times a viewer fell behind a slot (each is followed by a keyframe request).
    pub lag_events: AtomicU64,
    pub packets_skipped: AtomicU64,
    pub keyframe_requests: AtomicU64,
    pub write_errors: AtomicU64,
    /// Retransmissions a viewer asked for that did not fit its bounded queue or its budget (each burst
    /// is followed by a keyframe request instead). Requests for packets from before the newest keyframe
    /// she was sent are not counted: she needs nothing for those.
    pub retransmits_dropped: AtomicU64,
}

/// Continues sequence numbers and timestamps across a change of stream: a new publisher, another
/// simulcast layer, or a pause (packets a viewer did not get while audio only or waiting for a
/// keyframe). Her browser then sees one stream without gaps: a gap would count as loss in her
/// reports (and set her layer lower) and draw retransmission requests for packets never sent.
#[derive(Debug, Default)]
struct Rewriter {
    current_ssrc: Option<u32>,
    /// Packets were skipped since the last one: the next one continues the numbering.
    interrupted: bool,
    seq_offset: u16,
    ts_offset: u32,
    last_seq: u16,
    last_ts: u32,
    last_at: Option<Instant>,
    started: bool,
}

impl Rewriter {
    /// `clock_khz`: RTP clock ticks per millisecond (90 for video, 48 for Opus); `ts_step` the least
    /// a new stream's first timestamp moves on (a frame or an audio packet).
    fn rewrite(&mut self, p: &mut Packet, ts_step: u32, clock_khz: u32) {
        self.rewrite_from(p.header.ssrc, p, ts_step, clock_khz);
    }

    /// `rewrite` for a packet whose SSRC was already replaced: `source` is the one it came with.
    fn rewrite_from(&mut self, source: u32, p: &mut Packet, ts_step: u32, clock_khz: u32) {
        let now = Instant::now();
        if self.current_ssrc != Some(source) || self.interrupted {
            self.current_ssrc = Some(source);
            self.interrupted = false;
            if self.started {
                // The timestamp moves on as far as the clock did, so her player keeps its timing.
                let elapsed = self.last_at.map_or(0, |t| now.duration_since(t).as_millis() as u32);
                let step = ts_step.max(elapsed.saturating_mul(clock_khz));
                self.seq_offset = self.last_seq.wrapping_add(1).wrapping_sub(p.header.sequence_number);
                self.ts_offset = self.last_ts.wrapping_add(step).wrapping_sub(p.header.timestamp);
            } else {
                self.seq_offset = 0;
                self.ts_offset = 0;
            }
        }
        p.header.sequence_number = p.header.sequence_number.wrapping_add(self.seq_offset);
        p.header.timestamp = p.header.timestamp.wrapping_add(self.ts_offset);
        // A late packet (a retransmission) is not where the numbering stands: the next stream
        // continues after the newest one sent, never inside numbers she already has.
        let newer = !self.started || p.header.sequence_number.wrapping_sub(self.last_seq) < 0x8000;
        if newer {
            self.last_seq = p.header.sequence_number;
            self.last_ts = p.header.timestamp;
            self.last_at = Some(now);
        }
        self.started = true;
    }

    /// Packets of the current stream are being skipped.
    fn interrupt(&mut self) {
        self.interrupted = true;
    }
}

/// One layer of a slot: the current publisher's packets of that layer, fanned out.
struct Layer {
    tx: broadcast::Sender<Arc<Packet>>,
    last_keyframe_request: std::sync::Mutex<Option<Instant>>,
    keyframe_pending: AtomicBool,
    rewriter: std::sync::Mutex<Rewriter>,
    /// When its last packet came (milliseconds since the SFU started; 0: none yet).
    last_packet_ms: AtomicU64,
    /// Payload bytes received from the publisher (see `DeliveredShare`).
    bytes: AtomicU64,
}

impl Layer {
    fn new() -> Layer {
        Layer {
            tx: broadcast::channel(SLOT_BUFFER).0,
            last_keyframe_request: std::sync::Mutex::new(None),
            keyframe_pending: AtomicBool::new(false),
            rewriter: std::sync::Mutex::new(Rewriter::default()),
            last_packet_ms: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
}

/// One slot: the camera has a layer per simulcast encoding (lowest first), every other slot one. A
/// publisher that sends a single encoding publishes into the top layer.
struct Slot {
    layers: Vec<Layer>,
    /// Asks the current publisher for a keyframe of a layer.
    keyframe: std::sync::Mutex<Option<mpsc::Sender<usize>>>,
    /// When a viewer's own keyframe request was last passed on (see `VIEWER_KEYFRAME_INTERVAL`).
    last_viewer_request: std::sync::Mutex<Option<Instant>>,
    /// Set by the moderator: packets are not forwarded.
    muted: AtomicBool,
}

/// When a keyframe request may go to the publisher.
enum KeyframeRequest {
    Now,
    After(Duration),
}

impl Slot {
    fn new(id: SlotId) -> Slot {
        let layers = if id == SlotId::CameraVideo { LAYERS } else { 1 };
        Slot {
            layers: (0..layers).map(|_| Layer::new()).collect(),
            keyframe: std::sync::Mutex::new(None),
            last_viewer_request: std::sync::Mutex::new(None),
            muted: AtomicBool::new(false),
        }
    }

    fn top(&self) -> usize {
        self.layers.len() - 1
    }

    /// The layer of an encoding, by its RTP stream id as the room page names them (`l`, `m`, `h`);
    /// an encoding without one is the only one, and goes to the top.
    fn layer_of(&self, rid: Option<&str>) -> usize {
        let layer = match rid {
            Some("l") => 0,
            Some("m") => 1,
            _ => self.top(),
        };
        layer.min(self.top())
    }

    /// The highest layer being sent now.
    fn best(&self, now_ms: u64) -> Option<usize> {
        let sending = self.sending(now_ms);
        (0..self.layers.len()).rev().find(|l| sending[*l])
    }

    /// Which layers the publisher is sending now (a packet within `LAYER_IDLE`).
    fn sending(&self, now_ms: u64) -> [bool; LAYERS] {
        let mut out = [false; LAYERS];
        for (i, l) in self.layers.iter().enumerate() {
            let last = l.last_packet_ms.load(Ordering::Relaxed);
            out[i] = last != 0 && now_ms.saturating_sub(last) < LAYER_IDLE.as_millis() as u64;
        }
        out
    }

    /// The lowest layer being sent and the payload bytes it has carried (see `DeliveredShare`).
    fn lowest_sending(&self, now_ms: u64) -> Option<(usize, u64)> {
        let layer = self.sending(now_ms)[..self.layers.len()].iter().position(|s| *s)?;
        Some((layer, self.layers[layer].bytes.load(Ordering::Relaxed)))
    }
}

impl Layer {
    /// When a keyframe request made `now` may be sent (sent now, it counts as the last request);
    /// `None` when the layer's lock is poisoned.
    fn keyframe_request(&self, now: Instant) -> Option<KeyframeRequest> {
        let mut last = self.last_keyframe_request.lock().ok()?;
        match *last {
            Some(t) if now.duration_since(t) < KEYFRAME_INTERVAL => {
                Some(KeyframeRequest::After(KEYFRAME_INTERVAL - now.duration_since(t)))
            }
            _ => {
                *last = Some(now);
                Some(KeyframeRequest::Now)
            }
        }
    }
}

/// The media of one room.
pub struct Sfu {
    config: MediaConfig,
    slots: Vec<Slot>,
    pub stats: Arc<Stats>,
    next_ssrc: std::sync::atomic::AtomicU32,
    /// The clock of `Layer::last_packet_ms`.
    started: Instant,
    loops: Arc<ViewerLoops>,
}

/// The viewers' media loops of this process (see `mux`), shared by every room: their ports are the
/// node's, however many lectures it hosts. Started with the first viewer (they run on the media
/// runtime).
#[derive(Default)]
pub struct ViewerLoops {
    loops: tokio::sync::OnceCell<Vec<Mux>>,
    next: AtomicUsize,
    /// Whether a loop that ended has been logged (once is enough).
    reported: AtomicBool,
}

/// What a leg reports to its owner after it is open.
#[derive(Debug)]
pub enum LegEvent {
    /// Connected, or connected again after being down.
    Connected,
    /// No packets from the browser for a couple of seconds (ICE disconnected): media is frozen, the
    /// page should say so; it may come back by itself.
    Down,
    /// Failed or closed: the owner should drop the leg.
    Gone,
    /// Her link cannot carry even the lowest video layer (true): only sound is sent until it
    /// recovers (false). The page says so; her own audio-only switch is separate and wins.
    AutoAudioOnly(bool),
}

/// A leg the room holds: answer it, close it.
pub struct LegHandle {
    id: usize,
    conn: LegConn,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    audio_only: Arc<AtomicBool>,
}

impl LegHandle {
    /// Tells this leg's events from those of a leg it replaced under the same name (unique in the
    /// process, never reused).
    pub fn id(&self) -> usize {
        self.id
    }

    /// Applies the browser's answer; the future owns what it needs, so callers can spawn it.
    pub fn answer(
        &self,
        sdp: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>> {
        match &self.conn {
            LegConn::Own(pc) => {
                let pc = pc.clone();
                Box::pin(async move {
                    let desc = RTCSessionDescription::answer(sdp).map_err(|e| e.to_string())?;
                    pc.set_remote_description(desc).await.map_err(|e| e.to_string())
                })
            }
            LegConn::Loop(handle) => Box::pin(handle.answer(sdp)),
        }
    }

    pub fn set_audio_only(&self, on: bool) {
        self.audio_only.store(on, Ordering::Relaxed);
    }

    pub async fn close(self) {
        for t in &self.tasks {
            t.abort();
        }
        match self.conn {
            LegConn::Own(pc) => {
                let _ = pc.close().await;
            }
            // Dropping the handle closes it.
            LegConn::Loop(handle) => drop(handle),
        }
    }
}

/// A leg's connection: its own (a socket and a driver task, webrtc-rs's async layer), or one in a media
/// loop (viewers, see `mux`).
enum LegConn {
    Own(Arc<dyn PeerConnection>),
    Loop(mux::Handle),
}

/// Turns webrtc callbacks into events without holding the connection (a handler that held its own
/// connection would keep it alive forever).
struct Handler {
    events: mpsc::UnboundedSender<HandlerEvent>,
}

enum HandlerEvent {
    Gathered,
    State(RTCPeerConnectionState),
    Track(Arc<dyn TrackRemote>),
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.events.send(HandlerEvent::Gathered);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(HandlerEvent::State(state));
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.events.send(HandlerEvent::Track(track));
    }
}

impl Sfu {
    pub fn new(config: MediaConfig, loops: Arc<ViewerLoops>) -> Sfu {
        Sfu {
            config,
            slots: SLOTS.iter().map(|id| Slot::new(*id)).collect(),
            stats: Arc::new(Stats::default()),
            next_ssrc: std::sync::atomic::AtomicU32::new(0x5100_0000),
            started: Instant::now(),
            loops,
        }
    }

    fn now_ms(&self) -> u64 {
        // Never 0, which means "no packet yet".
        self.started.elapsed().as_millis() as u64 + 1
    }

    fn slot(&self, id: SlotId) -> &Slot {
        &self.slots[id as usize]
    }

    /// Asks the publisher of a video slot for a keyframe of the best layer she sends (what
    /// `subscribe` gives).
    pub fn request_keyframe(self: &Arc<Self>, id: SlotId) {
        let slot = self.slot(id);
        let layer = slot.best(self.now_ms()).unwrap_or(slot.top());
        self.request_layer_keyframe(id, layer);
    }

    /// Asks the publisher of a video slot for a keyframe of one layer, at most every
    /// `KEYFRAME_INTERVAL`. A request inside the interval is deferred to its end, never dropped: three
    /// viewers joining within a few hundred milliseconds all need the keyframe.
    fn request_layer_keyframe(self: &Arc<Self>, id: SlotId, layer: usize) {
        let Some(l) = self.slot(id).layers.get(layer).filter(|_| id.is_video()) else {
            return;
        };
        match l.keyframe_request(Instant::now()) {
            Some(KeyframeRequest::Now) => self.send_keyframe_request(id, layer),
            Some(KeyframeRequest::After(wait)) => self.defer_keyframe_request(id, layer, wait),
            None => {}
        }
    }

    /// Whether a viewer's keyframe request for this slot may go on now (and if so, notes the time).
    fn viewer_request_due(&self, id: SlotId) -> bool {
        let Ok(mut last) = self.slot(id).last_viewer_request.lock() else {
            return false;
        };
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < VIEWER_KEYFRAME_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Sends a keyframe request once `wait` has passed, unless one is already waiting.
    fn defer_keyframe_request(self: &Arc<Self>, id: SlotId, layer: usize, wait: Duration) {
        if self.slot(id).layers[layer]
            .keyframe_pending
            .swap(true, Ordering::Relaxed)
        {
            return;
        }
        let sfu = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let l = &sfu.slot(id).layers[layer];
            l.keyframe_pending.store(false, Ordering::Relaxed);
            if let Ok(mut last) = l.last_keyframe_request.lock() {
                *last = Some(Instant::now());
            }
            sfu.send_keyframe_request(id, layer);
        });
    }

    fn send_keyframe_request(&self, id: SlotId, layer: usize) {
        if let Ok(k) = self.slot(id).keyframe.lock()
            && let Some(tx) = k.as_ref()
        {
            let _ = tx.try_send(layer);
            self.stats.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A slot's packets from now on, in its best picture (the recorder's tap). For the camera that is
    /// the highest layer being sent, not simply the top one: a lecturer whose uplink narrows stops
    /// sending her top layer, and the recording keeps her picture at the layer she still sends. The
    /// change waits for the new layer's keyframe and the packets are numbered as one stream.
    pub(crate) fn subscribe(self: &Arc<Self>, id: SlotId) -> broadcast::Receiver<Arc<Packet>> {
        let slot = self.slot(id);
        if slot.layers.len() == 1 {
            return slot.layers[0].tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(SLOT_BUFFER);
        tokio::spawn(follow_best(self.clone(), id, tx));
        rx
    }

    /// Keyframes of every layer being sent (a viewer connected again: where she is is unknown).
    pub fn request_all_keyframes(self: &Arc<Self>) {
        let now = self.now_ms();
        for id in [SlotId::CameraVideo, SlotId::ScreenVideo] {
            let layers = self.slot(id).layers.len();
            for (layer, sending) in self.slot(id).sending(now).into_iter().take(layers).enumerate() {
                if sending {
                    self.request_layer_keyframe(id, layer);
                }
            }
        }
    }

    /// Stops or resumes forwarding a source's audio (moderator mute).
    pub fn set_muted(&self, source: Source, muted: bool) {
        let slot = match source {
            Source::Camera => SlotId::LecturerAudio,
            Source::Mic => SlotId::SpeakerAudio,
            Source::Screen => return,
        };
        self.slot(slot).muted.store(muted, Ordering::Relaxed);
    }

    /// Builds a peer connection bound to the configured address, trying the port range in turn.
    async fn build(
        &self,
        handler: Arc<Handler>,
        on_overflow: Option<OnOverflow>,
    ) -> Result<Arc<dyn PeerConnection>, String> {
        let mut last_err = String::from("no port available");
        for port in self.candidate_ports() {
            let (me, registry) = match &on_overflow {
                Some(f) => viewer_media_engine(f.clone())?,
                None => media_engine()?,
            };
            let built = PeerConnectionBuilder::new()
                .with_configuration(RTCConfigurationBuilder::new().with_ice_servers(vec![]).build())
                .with_media_engine(me)
                .with_interceptor_registry(registry)
                .with_setting_engine(self.setting_engine())
                .with_handler(handler.clone())
                .with_udp_addrs(vec![SocketAddr::new(self.config.bind_ip, port)])
                .build()
                .await;
            match built {
                Ok(pc) => return Ok(Arc::new(pc)),
                Err(e) => last_err = e.to_string(),
            }
        }
        Err(last_err)
    }

    /// The ports to try, at most 64 of the range.
    fn candidate_ports(&self) -> Vec<u16> {
        let ports: Vec<u16> = if self.config.port_min == 0 {
            vec![0]
        } else {
            (self.config.port_min..=self.config.port_max).collect()
        };
        // Start at a pseudo-random port so concurrent joins do not all race for the first one.
        let start = if ports.len() > 1 {
            (self.next_ssrc.fetch_add(1, Ordering::Relaxed) as usize) % ports.len()
        } else {
            0
        };
        (0..ports.len().min(64))
            .map(|i| ports[(start + i) % ports.len()])
            .collect()
    }

    /// UDP on the bind address's IP version only, without mDNS. ICE timeouts far below the defaults
    /// (5 s to disconnected, 30 s to failed): a viewer's page learns within about 2 s that her media
    /// stopped, and a leg that does not come back is closed after about 8 s so she gets a fresh one. The
    /// 1 s keepalive keeps an idle leg (no lecturer publishing) from looking dead.
    fn setting_engine(&self) -> webrtc::peer_connection::SettingEngine {
        let network = if self.config.bind_ip.is_ipv4() {
            NetworkType::Udp4
        } else {
            NetworkType::Udp6
        };
        SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_network_types(vec![network])
            .with_ice_timeouts(Some(ICE_DISCONNECTED), Some(ICE_FAILED), Some(ICE_KEEPALIVE))
            .build()
    }

    /// Answers a browser's offer and waits for ICE gathering, like `offer`.
    async fn answer(
        &self,
        pc: &Arc<dyn PeerConnection>,
        offer: String,
        events: &mut mpsc::UnboundedReceiver<HandlerEvent>,
        early: &mut Vec<HandlerEvent>,
    ) -> Result<String, String> {
        let offer = RTCSessionDescription::offer(offer).map_err(|e| e.to_string())?;
        pc.set_remote_description(offer).await.map_err(|e| e.to_string())?;
        let answer = pc.create_answer(None).await.map_err(|e| e.to_string())?;
        pc.set_local_description(answer).await.map_err(|e| e.to_string())?;
        self.gathered(pc, events, early).await
    }

    /// Creates the offer and waits for ICE gathering (host candidates only: fast).
    async fn offer(
        &self,
        pc: &Arc<dyn PeerConnection>,
        events: &mut mpsc::UnboundedReceiver<HandlerEvent>,
        early: &mut Vec<HandlerEvent>,
    ) -> Result<String, String> {
        let offer = pc.create_offer(None).await.map_err(|e| e.to_string())?;
        pc.set_local_description(offer).await.map_err(|e| e.to_string())?;
        self.gathered(pc, events, early).await
    }

    /// The local description once ICE gathering is complete (at most 3 s), with the public address.
    async fn gathered(
        &self,
        pc: &Arc<dyn PeerConnection>,
        events: &mut mpsc::UnboundedReceiver<HandlerEvent>,
        early: &mut Vec<HandlerEvent>,
    ) -> Result<String, String> {
        let deadline = tokio::time::sleep(Duration::from_secs(3));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(HandlerEvent::Gathered) => break,
                    Some(other) => early.push(other),
                    None => return Err("connection closed while gathering".into()),
                },
                _ = &mut deadline => break,
            }
        }
        let sdp = pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or("no local description")?;
        Ok(self.announced(sdp))
    }

    /// A description with the public address in place of the bound one (1:1 NAT).
    fn announced(&self, sdp: String) -> String {
        match self.config.public_ip {
            Some(public) => sdp.replace(&format!(" {} ", self.config.bind_ip), &format!(" {public} ")),
            None => sdp,
        }
    }

    /// The media loop a new viewer leg goes to (in turn), None where viewer legs get connections of
    /// their own (see `MediaConfig::viewer_loops`).
    async fn viewer_loop(&self) -> Result<Option<&Mux>, String> {
        if self.config.viewer_loops == 0 || self.config.bind_ip.is_unspecified() {
            return Ok(None);
        }
        let loops = self.loops.loops.get_or_init(|| self.start_loops()).await;
        // In turn, skipping a loop that ended (a panic in it): its viewers lost their media and come
        // back on a new leg elsewhere; with none left, legs get connections of their own.
        let start = self.loops.next.fetch_add(1, Ordering::Relaxed);
        let alive = (0..loops.len())
            .map(|k| &loops[(start + k) % loops.len()])
            .find(|m| m.alive());
        if loops.iter().any(|m| !m.alive()) && !self.loops.reported.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "a viewer media loop has ended: its viewers were given new legs, new ones go to the others"
            );
        }
        Ok(alive)
    }

    /// Binds the media loops' sockets: the first free ports of the range, or ones the system picks.
    /// With none bound, viewer legs get connections of their own.
    async fn start_loops(&self) -> Vec<Mux> {
        let wanted = self.config.viewer_loops;
        let ports: Vec<u16> = if self.config.port_min == 0 {
            vec![0; wanted]
        } else {
            (self.config.port_min..=self.config.port_max).collect()
        };
        let mut loops = Vec::new();
        let mut last_err = String::from("no port available");
        for port in ports {
            match Mux::start(SocketAddr::new(self.config.bind_ip, port)).await {
                Ok(m) => loops.push(m),
                Err(e) => last_err = format!("media port {port}: {e}"),
            }
            if loops.len() == wanted {
                break;
            }
        }
        if loops.is_empty() {
            tracing::warn!(error = %last_err, "no viewer media loop could bind: viewers get ports of their own");
        } else {
            tracing::info!(ports = ?loops.iter().map(|m| m.local_addr().port()).collect::<Vec<_>>(), "viewer media loops started");
        }
        loops
    }

    /// A viewer connection in a media loop: built and offered here (no I/O), then handed over.
    fn open_in_loop(
        self: &Arc<Self>,
        mux: &Mux,
        leg: &Arc<ViewerLeg>,
        ssrcs: &[(SlotId, u32)],
        on_overflow: OnOverflow,
        events: mpsc::UnboundedSender<HandlerEvent>,
    ) -> Result<(mux::Handle, String), String> {
        let (me, registry) = viewer_media_engine(on_overflow)?;
        let mut pc = rtc::peer_connection::RTCPeerConnectionBuilder::new()
            .with_media_engine(me)
            .with_interceptor_registry(registry)
            .with_setting_engine(self.setting_engine())
            .build(Instant::now())
            .map_err(|e| e.to_string())?;
        let (mut senders, mut track_ids) = (Vec::new(), Vec::new());
        for (id, ssrc) in ssrcs {
            let init = rtc::rtp_transceiver::RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                ..Default::default()
            };
            let t = pc
                .add_transceiver_from_track(viewer_media_track(*id, *ssrc), Some(init))
                .map_err(|e| e.to_string())?;
            let sender = pc
                .rtp_transceiver(t)
                .and_then(|t| t.sender())
                .ok_or("a sendonly transceiver without a sender")?;
            senders.push(sender);
            track_ids.push(track_id(*id));
        }
        let offer = pc.create_offer(None).map_err(|e| e.to_string())?;
        pc.set_local_description(Instant::now(), offer)
            .map_err(|e| e.to_string())?;
        mux.add_candidates(&mut pc)?;
        let sdp = pc.local_description().map(|d| d.sdp).ok_or("no local description")?;
        let ufrag = mux::ufrag(&sdp).ok_or("no ICE username fragment in the offer")?;
        let owner = Box::new(LoopOwner {
            sfu: self.clone(),
            leg: leg.clone(),
            events,
        });
        let handle = mux.adopt(mux::Adopt {
            pc,
            senders,
            track_ids,
            ufrag,
            owner,
        });
        Ok((handle, self.announced(sdp)))
    }

    /// A viewer leg: one sendonly track per slot, then forwarders. Returns the leg and the server's
    /// offer (complete with candidates: no trickle); later events go to `out`.
    pub async fn open_viewer(
        self: &Arc<Self>,
        audio_only: bool,
        out: mpsc::UnboundedSender<LegEvent>,
    ) -> Result<(LegHandle, String), String> {
        let (etx, mut erx) = mpsc::unbounded_channel();
        let ssrcs: Vec<(SlotId, u32)> = SLOTS
            .iter()
            .map(|id| (*id, self.next_ssrc.fetch_add(1, Ordering::Relaxed)))
            .collect();
        let leg = Arc::new(ViewerLeg::new(audio_only, &ssrcs, out.clone()));
        let on_overflow = self.on_retransmit_overflow(&leg, ssrcs.clone());
        let mut tasks: Vec<_> = Vec::new();
        let mut early = Vec::new();
        let (conn, sdp, outs) = match self.viewer_loop().await? {
            Some(mux) => {
                let (handle, sdp) = self.open_in_loop(mux, &leg, &ssrcs, on_overflow, etx)?;
                let outs: Vec<(SlotId, u32, Out)> = ssrcs
                    .iter()
                    .enumerate()
                    .map(|(i, (id, ssrc))| (*id, *ssrc, Out::Loop(mux.writer(&handle, i))))
                    .collect();
                (LegConn::Loop(handle), sdp, outs)
            }
            None => {
                let pc = self.build(Arc::new(Handler { events: etx }), Some(on_overflow)).await?;
                let tracks = close_on_error(&pc, add_viewer_tracks(&pc, ssrcs).await).await?;
                let sdp = close_on_error(&pc, self.offer(&pc, &mut erx, &mut early).await).await?;
                let mut outs = Vec::new();
                for (id, ssrc, track) in tracks {
                    tasks.push(tokio::spawn(feedback(self.clone(), leg.clone(), id, track.clone())));
                    outs.push((id, ssrc, Out::Track(track)));
                }
                (LegConn::Own(pc), sdp, outs)
            }
        };
        for (id, ssrc, out) in outs {
            if id.is_video() {
                tasks.push(tokio::spawn(forward_video(self.clone(), leg.clone(), id, ssrc, out)));
            } else {
                let rx = self.slot(id).layers[0].tx.subscribe();
                tasks.push(tokio::spawn(forward_audio(
                    self.clone(),
                    leg.clone(),
                    id,
                    ssrc,
                    out,
                    rx,
                )));
            }
        }
        tasks.push(tokio::spawn(watch_viewer(self.clone(), leg.clone(), early, erx, out)));
        let audio_only = leg.audio_only.clone();
        let id = NEXT_LEG.fetch_add(1, Ordering::Relaxed);
        Ok((
            LegHandle {
                id,
                conn,
                tasks,
                audio_only,
            },
            sdp,
        ))
    }

    /// Dropped retransmissions: counted here; the slot's forwarder asks for the keyframe (it runs on the
    /// media runtime, the interceptor inside the connection's media loop or driver).
    fn on_retransmit_overflow(&self, leg: &Arc<ViewerLeg>, ssrcs: Vec<(SlotId, u32)>) -> OnOverflow {
        let (stats, leg) = (self.stats.clone(), leg.clone());
        Arc::new(move |ssrc, dropped| {
            stats.retransmits_dropped.fetch_add(dropped, Ordering::Relaxed);
            if let Some((id, _)) = ssrcs.iter().find(|(_, s)| *s == ssrc) {
                leg.resync[*id as usize].store(true, Ordering::Relaxed);
            }
        })
    }

    /// A publisher leg: recvonly transceivers for the source's kinds; incoming tracks feed their slots.
    pub async fn open_publisher(
        self: &Arc<Self>,
        source: Source,
        out: mpsc::UnboundedSender<LegEvent>,
    ) -> Result<(LegHandle, String), String> {
        let (etx, mut erx) = mpsc::unbounded_channel();
        let pc = self.build(Arc::new(Handler { events: etx }), None).await?;
        close_on_error(&pc, add_receivers(&pc, source).await).await?;
        let mut early = Vec::new();
        let sdp = close_on_error(&pc, self.offer(&pc, &mut erx, &mut early).await).await?;
        let task = tokio::spawn(watch_publisher(self.clone(), source, early, erx, out));
        let audio_only = Arc::new(AtomicBool::new(false));
        Ok((
            LegHandle {
                id: NEXT_LEG.fetch_add(1, Ordering::Relaxed),
                conn: LegConn::Own(pc),
                tasks: vec![task],
                audio_only,
            },
            sdp,
        ))
    }

    /// A publisher leg answering the browser's offer: what a browser publishing simulcast needs (its
    /// offer names the layers; an offer made here could not). Incoming tracks feed their slots.
    pub async fn answer_publisher(
        self: &Arc<Self>,
        source: Source,
        offer: String,
        out: mpsc::UnboundedSender<LegEvent>,
    ) -> Result<(LegHandle, String), String> {
        let (etx, mut erx) = mpsc::unbounded_channel();
        let pc = self.build(Arc::new(Handler { events: etx }), None).await?;
        let mut early = Vec::new();
        let sdp = close_on_error(&pc, self.answer(&pc, offer, &mut erx, &mut early).await).await?;
        let task = tokio::spawn(watch_publisher(self.clone(), source, early, erx, out));
        Ok((
            LegHandle {
                id: NEXT_LEG.fetch_add(1, Ordering::Relaxed),
                conn: LegConn::Own(pc),
                tasks: vec![task],
                audio_only: Arc::new(AtomicBool::new(false)),
            },
            sdp,
        ))
    }

    /// A viewer fell behind a layer, skipping `skipped` packets: its decoder lost packets, so it
    /// resyncs from the next keyframe rather than stall.
    fn viewer_lagged(self: &Arc<Self>, id: SlotId, layer: usize, skipped: u64) {
        self.stats.lag_events.fetch_add(1, Ordering::Relaxed);
        self.stats.packets_skipped.fetch_add(skipped, Ordering::Relaxed);
        self.request_layer_keyframe(id, layer);
    }

    /// Puts a publisher's packet into its layer, unless the slot is muted.
    fn publish(&self, slot: &Slot, layer: usize, mut p: Packet, ts_step: u32, clock_khz: u32) {
        self.stats.packets_in.fetch_add(1, Ordering::Relaxed);
        let l = &slot.layers[layer];
        l.last_packet_ms.store(self.now_ms(), Ordering::Relaxed);
        let Ok(mut r) = l.rewriter.lock() else { return };
        if slot.muted.load(Ordering::Relaxed) {
            // Unmuted, the numbering continues without a gap (a gap would read as loss).
            r.interrupt();
            return;
        }
        // What the lowest layer carries to viewers (see `DeliveredShare`): not while muted.
        l.bytes.fetch_add(p.payload.len() as u64, Ordering::Relaxed);
        r.rewrite(&mut p, ts_step, clock_khz);
        drop(r);
        let _ = l.tx.send(Arc::new(p));
    }
}

/// Closes a connection whose setup failed, so it does not linger.
async fn close_on_error<T>(pc: &Arc<dyn PeerConnection>, result: Result<T, String>) -> Result<T, String> {
    if result.is_err() {
        let _ = pc.close().await;
    }
    result
}

/// One sendonly track per slot, with the viewer's own SSRC.
async fn add_viewer_tracks(
    pc: &Arc<dyn PeerConnection>,
    ssrcs: Vec<(SlotId, u32)>,
) -> Result<Vec<(SlotId, u32, Arc<TrackLocalStaticRTP>)>, String> {
    let mut tracks = Vec::new();
    for (id, ssrc) in ssrcs {
        let track = Arc::new(viewer_track(id, ssrc));
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Sendonly,
            ..Default::default()
        };
        pc.add_transceiver_from_track(track.clone() as Arc<dyn TrackLocal>, Some(init))
            .await
            .map_err(|e| e.to_string())?;
        tracks.push((id, ssrc, track));
    }
    Ok(tracks)
}

fn viewer_track(id: SlotId, ssrc: u32) -> TrackLocalStaticRTP {
    TrackLocalStaticRTP::new(viewer_media_track(id, ssrc))
}

/// The id of a viewer's track of a slot (RTCP about it names it so).
fn track_id(id: SlotId) -> String {
    format!("slot-{}", id as u8)
}

fn viewer_media_track(id: SlotId, ssrc: u32) -> MediaStreamTrack {
    let codec = if id.is_video() { vp8() } else { opus() };
    MediaStreamTrack::new(
        "quorum".to_owned(),
        track_id(id),
        track_id(id),
        id.kind(),
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    )
}

/// Recvonly transceivers for the kinds of media a source sends.
async fn add_receivers(pc: &Arc<dyn PeerConnection>, source: Source) -> Result<(), String> {
    let kinds: &[RtpCodecKind] = match source {
        Source::Camera => &[RtpCodecKind::Video, RtpCodecKind::Audio],
        Source::Screen => &[RtpCodecKind::Video],
        Source::Mic => &[RtpCodecKind::Audio],
    };
    for kind in kinds {
        let init = RTCRtpTransceiverInit {
            direction: RTCRtpTransceiverDirection::Recvonly,
            ..Default::default()
        };
        pc.add_transceiver_from_kind(*kind, Some(init))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// What a viewer leg's forwarders share.
struct ViewerLeg {
    connected: AtomicBool,
    /// Her own switch; shared with the leg's handle, which the room switches.
    audio_only: Arc<AtomicBool>,
    /// Per slot: retransmissions were dropped, so the viewer needs a keyframe.
    resync: [AtomicBool; 4],
    /// Her link, from her browser's receiver reports.
    link: std::sync::Mutex<LinkPolicy>,
    /// Per video slot: when its video started again after none (`Sfu::now_ms`), see `RESUMED`.
    resumed_ms: [AtomicU64; 2],
    /// `link`'s quality as the forwarders read it (`Quality::code`).
    quality: AtomicI8,
    /// Per video slot: the layer she gets now (`NO_LAYER`: none), for her keyframe requests.
    layer: [AtomicU8; 2],
    /// When a camera packet last went to her (`Sfu::now_ms`): while she gets the camera her link is
    /// judged by it, else by the shared screen.
    camera_forwarded_ms: AtomicU64,
    /// Payload bytes of the camera forwarded to her, and what got through of them against the lowest
    /// layer, measured at each of her reports.
    camera_bytes: AtomicU64,
    delivered: std::sync::Mutex<DeliveredShare>,
    /// Per slot: the highest sequence number her last counted report on it had received
    /// (`NO_REPORT`: none yet), to tell a report on packets from one on none.
    highest: [AtomicU64; 4],
    /// Loss from her browser's transport-wide feedback on the sound (see `viewer_media_engine`).
    feedback_loss: std::sync::Mutex<FeedbackLoss>,
    /// When that feedback last gave a loss figure (`Sfu::now_ms`; 0: never).
    feedback_ms: AtomicU64,
    /// The SSRCs of her four tracks: report blocks about anything else are not hers.
    ssrcs: Vec<u32>,
    events: mpsc::UnboundedSender<LegEvent>,
}

const NO_LAYER: u8 = u8::MAX;
/// No report on a slot yet (see `ViewerLeg::highest`).
const NO_REPORT: u64 = u64::MAX;
/// A report block's loss covers the time since the browser's previous block about the same stream.
/// The first blocks after a video stream resumes (from audio only, or a new start) cover the pause
/// and hold loss from before it, which says nothing about the link now: they are not counted.
const RESUMED: Duration = Duration::from_millis(1500);
/// Transport-wide feedback this recent stands in for the sound's receiver reports.
const FEEDBACK_FRESH: Duration = Duration::from_secs(3);

impl ViewerLeg {
    fn new(audio_only: bool, ssrcs: &[(SlotId, u32)], events: mpsc::UnboundedSender<LegEvent>) -> ViewerLeg {
        ViewerLeg {
            connected: AtomicBool::new(false),
            audio_only: Arc::new(AtomicBool::new(audio_only)),
            resync: Default::default(),
            link: std::sync::Mutex::new(LinkPolicy::new()),
            resumed_ms: Default::default(),
            quality: AtomicI8::new(LinkPolicy::new().quality().code()),
            layer: [AtomicU8::new(NO_LAYER), AtomicU8::new(NO_LAYER)],
            camera_forwarded_ms: AtomicU64::new(0),
            camera_bytes: AtomicU64::new(0),
            delivered: Default::default(),
            highest: std::array::from_fn(|_| AtomicU64::new(NO_REPORT)),
            feedback_loss: Default::default(),
            feedback_ms: AtomicU64::new(0),
            ssrcs: ssrcs.iter().map(|(_, s)| *s).collect(),
            events,
        }
    }

    /// The layer she should get in a video slot, given what is being sent: `Some(None)` for no
    /// video, `None` to keep what she has (nothing is being sent just now: a still screen, a short
    /// stall of the lecturer's uplink; she waits on the layer she had rather than for a keyframe).
    fn wanted_layer(&self, slot: &Slot, now_ms: u64) -> Option<Option<usize>> {
        if self.audio_only.load(Ordering::Relaxed) {
            return Some(None);
        }
        // Sound only means no video at all, the shared screen included: its bursts would push out
        // the sound on a link that cannot carry the lowest camera layer.
        let q = self.quality.load(Ordering::Relaxed);
        if q < 0 {
            return Some(None);
        }
        simulcast::choose(q as usize, &slot.sending(now_ms)[..slot.layers.len()]).map(Some)
    }

    /// A receiver report from her browser (`now_ms` on the `Sfu` clock). Browsers report each
    /// stream on its own (video several times a second, audio every few seconds), so only one stream
    /// feeds the policy: the camera while she gets it, the lecturer's sound while she gets sound
    /// only (unless transport-wide feedback on it speaks faster, see `transport_feedback`); and not
    /// the camera just after it resumed (see `RESUMED`). The screen share is always forwarded, so its
    /// loss does not decide her camera's layer. `lowest` is the camera's lowest layer being sent and
    /// its bytes (`Slot::lowest_sending`): what got through of her camera is measured against it.
    fn report(&self, rr: &ReceiverReport, now_ms: u64, lowest: Option<(usize, u64)>) {
        let judged: &[SlotId] = if self.quality.load(Ordering::Relaxed) < 0 {
            if self.feedback_fresh(now_ms) {
                return;
            }
            &[SlotId::LecturerAudio, SlotId::SpeakerAudio]
        } else if now_ms.saturating_sub(self.camera_forwarded_ms.load(Ordering::Relaxed))
            < LAYER_IDLE.as_millis() as u64
        {
            &[SlotId::CameraVideo]
        } else {
            &[SlotId::ScreenVideo]
        };
        let mut loss: Option<f32> = None;
        // Her camera's block, for what got through of it (see `DeliveredShare`).
        let mut camera = None;
        for b in &rr.reports {
            let Some(i) = self.ssrcs.iter().position(|s| *s == b.ssrc) else {
                continue;
            };
            if !judged.iter().any(|j| *j as usize == i) {
                continue;
            }
            let resumed = self.resumed_ms.get(i).map_or(0, |r| r.load(Ordering::Relaxed));
            if resumed != 0 && now_ms.saturating_sub(resumed) < RESUMED.as_millis() as u64 {
                continue;
            }
            // A browser reports several times a second. Where almost nothing gets through (a link
            // smaller than what is sent), most of its reports cover no packet at all, and they read
            // as no loss: they say nothing, and counted as clean they kept undoing the lossy ones.
            let seen = u64::from(b.last_sequence_number);
            if self.highest[i].swap(seen, Ordering::Relaxed) == seen {
                continue;
            }
            let l = f32::from(b.fraction_lost) / 256.0;
            loss = Some(loss.map_or(l, |w| w.max(l)));
            if i == SlotId::CameraVideo as usize {
                camera = Some(b);
            }
        }
        let Some(loss) = loss else { return };
        let share = camera.and_then(|b| {
            let sent = self.camera_bytes.load(Ordering::Relaxed);
            let mut d = self.delivered.lock().ok()?;
            d.at(Instant::now(), sent, lowest, b.last_sequence_number, b.total_lost)
        });
        self.judge(loss, share);
    }

    /// Transport-wide feedback from her browser (the sound's packets: `lost` of them missing,
    /// `received` arrived). While she gets sound only, its loss feeds the policy once a second.
    fn transport_feedback(&self, lost: u32, received: u32, now_ms: u64) {
        let loss = match self.feedback_loss.lock() {
            Ok(mut f) => f.add(Instant::now(), lost, received),
            Err(_) => return,
        };
        let Some(loss) = loss else { return };
        self.feedback_ms.store(now_ms.max(1), Ordering::Relaxed);
        if self.quality.load(Ordering::Relaxed) < 0 {
            self.judge(loss, None);
        }
    }

    /// Whether transport-wide feedback gave a loss figure lately (then the sound's receiver reports,
    /// which cover the five seconds before them, are not counted as well).
    fn feedback_fresh(&self, now_ms: u64) -> bool {
        let at = self.feedback_ms.load(Ordering::Relaxed);
        at != 0 && now_ms.saturating_sub(at) < FEEDBACK_FRESH.as_millis() as u64
    }

    /// Her link's loss (and what got through of her camera, when measured), as one report to the
    /// policy; tells the room when sound only starts or ends.
    fn judge(&self, loss: f32, share: Option<f32>) {
        let Ok(mut link) = self.link.lock() else { return };
        let before = link.quality();
        let Some(after) = link.report_with_share(Instant::now(), loss, share) else {
            return;
        };
        // A step down waits for her camera forwarder to move (`forward_video` says when it does),
        // unless there is nothing to move: no camera now, or already at that layer or below. (When
        // the lecturer sends no layer that low, it waits `MOVE_WAIT`.)
        if after.code() < before.code() {
            let layer = self.layer[SlotId::CameraVideo as usize].load(Ordering::Relaxed);
            link.forwarding(Instant::now(), (layer != NO_LAYER).then_some(usize::from(layer)));
        }
        self.quality.store(after.code(), Ordering::Relaxed);
        if (before == Quality::AudioOnly) != (after == Quality::AudioOnly) {
            let _ = self.events.send(LegEvent::AutoAudioOnly(after == Quality::AudioOnly));
        }
    }
}

/// Follows a viewer leg's state (the events that came during the offer first) until it is gone.
async fn watch_viewer(
    sfu: Arc<Sfu>,
    leg: Arc<ViewerLeg>,
    early: Vec<HandlerEvent>,
    mut events: mpsc::UnboundedReceiver<HandlerEvent>,
    out: mpsc::UnboundedSender<LegEvent>,
) {
    let mut early = early.into_iter();
    while let Some(ev) = next_event(&mut early, &mut events).await {
        if !leg_state(&sfu, ev, &leg.connected, &out) {
            return;
        }
    }
    // Its connection went without a word (a media loop that ended before taking it in): gone too.
    leg.connected.store(false, Ordering::Relaxed);
    let _ = out.send(LegEvent::Gone);
}

/// The events that came during the offer, then the connection's.
async fn next_event(
    early: &mut std::vec::IntoIter<HandlerEvent>,
    events: &mut mpsc::UnboundedReceiver<HandlerEvent>,
) -> Option<HandlerEvent> {
    match early.next() {
        Some(ev) => Some(ev),
        None => events.recv().await,
    }
}

/// Handles a viewer leg's state; false when the leg is gone.
fn leg_state(sfu: &Arc<Sfu>, ev: HandlerEvent, connected: &AtomicBool, out: &mpsc::UnboundedSender<LegEvent>) -> bool {
    match ev {
        HandlerEvent::State(RTCPeerConnectionState::Connected) => {
            connected.store(true, Ordering::Relaxed);
            // A late joiner needs a keyframe to start decoding.
            sfu.request_all_keyframes();
            let _ = out.send(LegEvent::Connected);
            true
        }
        HandlerEvent::State(RTCPeerConnectionState::Disconnected) => {
            // Forward nothing until it is back; then a keyframe restarts the picture (above).
            connected.store(false, Ordering::Relaxed);
            let _ = out.send(LegEvent::Down);
            true
        }
        HandlerEvent::State(RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed) => {
            connected.store(false, Ordering::Relaxed);
            let _ = out.send(LegEvent::Gone);
            false
        }
        _ => true,
    }
}

/// Follows a publisher leg (the events that came during the offer first): each incoming track is read
/// into its slot until the leg is gone.
async fn watch_publisher(
    sfu: Arc<Sfu>,
    source: Source,
    early: Vec<HandlerEvent>,
    mut events: mpsc::UnboundedReceiver<HandlerEvent>,
    out: mpsc::UnboundedSender<LegEvent>,
) {
    let mut readers: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let mut early = early.into_iter();
    while let Some(ev) = next_event(&mut early, &mut events).await {
        match ev {
            HandlerEvent::Track(track) => {
                let kind = track.kind().await;
                if let Some(slot) = SlotId::for_source(source, kind) {
                    readers.push(tokio::spawn(read_track(sfu.clone(), slot, track)));
                }
            }
            HandlerEvent::State(RTCPeerConnectionState::Connected) => {
                let _ = out.send(LegEvent::Connected);
            }
            HandlerEvent::State(RTCPeerConnectionState::Disconnected) => {
                let _ = out.send(LegEvent::Down);
            }
            HandlerEvent::State(RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed) => {
                let _ = out.send(LegEvent::Gone);
                break;
            }
            _ => {}
        }
    }
    for r in readers {
        r.abort();
    }
}

/// Reads a publisher's track into its slot, each encoding into its layer; serves keyframe requests.
async fn read_track(sfu: Arc<Sfu>, id: SlotId, track: Arc<dyn TrackRemote>) {
    let slot = sfu.slot(id);
    // Each layer's SSRC, for keyframe requests; learnt as encodings open or their packets come.
    let ssrcs: Arc<std::sync::Mutex<[Option<u32>; LAYERS]>> = Default::default();
    let mut layer_of: Vec<(u32, usize)> = Vec::new();
    for ssrc in track.ssrcs().await {
        let layer = slot.layer_of(track.rid(ssrc).await.as_deref());
        learn(&ssrcs, &mut layer_of, ssrc, layer);
    }
    let (ktx, krx) = mpsc::channel::<usize>(8);
    if let Ok(mut k) = slot.keyframe.lock() {
        *k = Some(ktx);
    }
    let pli = tokio::spawn(send_picture_loss(track.clone(), ssrcs.clone(), krx));
    // New publisher in a video slot: viewers need keyframes from it right away.
    for (layer, l) in slot.layers.iter().enumerate() {
        if let Ok(mut last) = l.last_keyframe_request.lock() {
            *last = None;
        }
        sfu.request_layer_keyframe(id, layer);
    }
    let (ts_step, clock_khz) = if id.is_video() { (3000, 90) } else { (960, 48) };
    while let Some(ev) = track.poll().await {
        match ev {
            TrackRemoteEvent::OnOpen(init) => {
                let layer = slot.layer_of(init.rid.as_deref());
                learn(&ssrcs, &mut layer_of, init.ssrc, layer);
                sfu.request_layer_keyframe(id, layer);
            }
            TrackRemoteEvent::OnRtpPacket(p) => {
                let ssrc = p.header.ssrc;
                let layer = match layer_of.iter().find(|(s, _)| *s == ssrc) {
                    Some((_, layer)) => *layer,
                    None => {
                        let layer = slot.layer_of(track.rid(ssrc).await.as_deref());
                        learn(&ssrcs, &mut layer_of, ssrc, layer);
                        layer
                    }
                };
                sfu.publish(slot, layer, p, ts_step, clock_khz);
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    pli.abort();
}

/// Notes that `ssrc` carries `layer` (a later word, the encoding's rid, replaces an earlier guess).
fn learn(ssrcs: &std::sync::Mutex<[Option<u32>; LAYERS]>, layer_of: &mut Vec<(u32, usize)>, ssrc: u32, layer: usize) {
    match layer_of.iter_mut().find(|(s, _)| *s == ssrc) {
        Some(entry) => entry.1 = layer,
        None => layer_of.push((ssrc, layer)),
    }
    if let Ok(mut s) = ssrcs.lock() {
        *s = [None; LAYERS];
        for (ssrc, layer) in layer_of.iter() {
            s[*layer] = Some(*ssrc);
        }
    }
}

/// Turns each keyframe request (for a layer) into a picture loss indication to the publisher.
async fn send_picture_loss(
    track: Arc<dyn TrackRemote>,
    ssrcs: Arc<std::sync::Mutex<[Option<u32>; LAYERS]>>,
    mut requests: mpsc::Receiver<usize>,
) {
    while let Some(layer) = requests.recv().await {
        let Some(media_ssrc) = ssrcs.lock().ok().and_then(|s| s[layer]) else {
            continue;
        };
        let req: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        })];
        if track.write_rtcp(req).await.is_err() {
            break;
        }
    }
}

/// Copies an audio slot's packets to one viewer's track.
async fn forward_audio(
    sfu: Arc<Sfu>,
    leg: Arc<ViewerLeg>,
    id: SlotId,
    ssrc: u32,
    out: Out,
    mut rx: broadcast::Receiver<Arc<Packet>>,
) {
    loop {
        let p = match rx.recv().await {
            Ok(p) => p,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                sfu.viewer_lagged(id, 0, n);
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if leg.connected.load(Ordering::Relaxed) {
            write(&sfu.stats, &out, for_viewer(&p, ssrc, OPUS_PT)).await;
        }
    }
}

/// A layer's packets as one viewer's forwarder receives them.
struct Tap {
    layer: usize,
    rx: broadcast::Receiver<Arc<Packet>>,
}

/// The next packet of a tap (never, without one).
async fn next(tap: &mut Option<Tap>) -> (usize, Result<Arc<Packet>, broadcast::error::RecvError>) {
    match tap {
        Some(t) => (t.layer, t.rx.recv().await),
        None => std::future::pending().await,
    }
}

/// The timer of a forwarder's layer checks (`LAYER_CHECK`).
fn layer_check() -> tokio::time::Interval {
    let mut check = tokio::time::interval(LAYER_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check
}

/// The next packet of either tap, or None when the layer check is due.
async fn wake(
    taps: &mut [Option<Tap>; 2],
    check: &mut tokio::time::Interval,
) -> Option<(usize, Result<Arc<Packet>, broadcast::error::RecvError>)> {
    let [a, b] = taps;
    tokio::select! {
        got = next(a) => Some(got),
        got = next(b) => Some(got),
        _ = check.tick() => None,
    }
}

/// One viewer's forwarder state for a video slot.
#[derive(Default)]
struct Follow {
    switch: LayerSwitch,
    /// The layers she listens to: the one she gets and the one she moves to.
    taps: [Option<Tap>; 2],
    /// Her own sequence numbers and timestamps: continuous across layers (each layer is numbered
    /// by itself) and pauses, so her decoder sees one stream.
    rewriter: Rewriter,
    /// When she last asked for the keyframe she waits for.
    asked: Option<Instant>,
    /// The shared screen only: how many of its frames she gets (see `temporal`), and since when she
    /// has been below what her link carries.
    temporal: TemporalFilter,
    behind_since: Option<Instant>,
}

impl Follow {
    /// What she got stops here: her numbering continues without a gap at what comes next.
    fn interrupt(&mut self) {
        self.rewriter.interrupt();
        self.temporal.reset();
    }
}

/// Copies a video slot's packets to one viewer's track: the layer her link carries (see
/// `domain::simulcast`), switching only at the new layer's keyframe. While she moves it listens to
/// two layers (the one she gets and the one she goes to), otherwise to one.
async fn forward_video(sfu: Arc<Sfu>, leg: Arc<ViewerLeg>, id: SlotId, ssrc: u32, out: Out) {
    let slot = sfu.slot(id);
    let mut f = Follow::default();
    let mut check = layer_check();
    loop {
        let Some((layer, got)) = wake(&mut f.taps, &mut check).await else {
            aim(&sfu, &leg, id, slot, &mut f);
            continue;
        };
        let p = match got {
            Ok(p) => p,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                sfu.viewer_lagged(id, layer, n);
                if f.switch.current() == Some(layer) {
                    // Her decoder lost its place: she restarts at the next keyframe, without a gap.
                    f.switch.restart();
                    f.interrupt();
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if !leg.connected.load(Ordering::Relaxed) {
            // Back, she starts at a keyframe (asked for when her leg connects again).
            f.switch.restart();
            f.interrupt();
            continue;
        }
        if leg.resync[id as usize].swap(false, Ordering::Relaxed) {
            // Her retransmissions were dropped (none of the layer's packets were).
            sfu.viewer_lagged(id, f.switch.current().unwrap_or(layer), 0);
        }
        let before = f.switch.current();
        let key = starts_keyframe(&p);
        if !f.switch.forward(layer, key) {
            if f.switch.current().is_none_or(|c| c == layer) {
                f.interrupt();
            }
            continue;
        }
        if f.switch.current() != before {
            if before.is_none() {
                leg.resumed_ms[id as usize].store(sfu.now_ms(), Ordering::Relaxed);
            }
            drop_unheard(&f.switch, &mut f.taps);
            leg.layer[id as usize].store(layer as u8, Ordering::Relaxed);
            // A step down of her link's policy waits for this (see `LinkPolicy::forwarding`).
            if id == SlotId::CameraVideo
                && let Ok(mut link) = leg.link.lock()
            {
                link.forwarding(Instant::now(), Some(layer));
            }
        }
        let mut packet = for_viewer(&p, ssrc, VP8_PT);
        match id {
            SlotId::ScreenVideo if !f.temporal.admit(&mut packet, p.header.ssrc, key) => continue,
            SlotId::CameraVideo => {
                leg.camera_forwarded_ms.store(sfu.now_ms(), Ordering::Relaxed);
                leg.camera_bytes
                    .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
            }
            _ => {}
        }
        f.rewriter.rewrite_from(p.header.ssrc, &mut packet, 3000, 90);
        write(&sfu.stats, &out, packet).await;
    }
}

/// Copies the highest layer being sent of a video slot to `tx` (see `Sfu::subscribe`) until nobody
/// listens. Like a viewer's forwarder, it changes layer only at a keyframe of the new one.
async fn follow_best(sfu: Arc<Sfu>, id: SlotId, tx: broadcast::Sender<Arc<Packet>>) {
    let slot = sfu.slot(id);
    let mut f = Follow::default();
    let mut check = layer_check();
    loop {
        let Some((layer, got)) = wake(&mut f.taps, &mut check).await else {
            if tx.receiver_count() == 0 {
                return;
            }
            // Nothing being sent (a still screen, a short stall): it stays where it is.
            if let Some(best) = slot.best(sfu.now_ms()) {
                if f.switch.aim(Some(best)) {
                    f.asked = None;
                }
                listen(slot, &f.switch, &mut f.taps, best);
                if f.switch.current() != Some(best) && f.asked.is_none_or(|t| t.elapsed() >= KEYFRAME_RETRY) {
                    f.asked = Some(Instant::now());
                    sfu.request_layer_keyframe(id, best);
                }
            }
            continue;
        };
        let p = match got {
            Ok(p) => p,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                if f.switch.current() == Some(layer) {
                    f.switch.restart();
                    f.rewriter.interrupt();
                    f.asked = None;
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let before = f.switch.current();
        if !f.switch.forward(layer, starts_keyframe(&p)) {
            if f.switch.current().is_none_or(|c| c == layer) {
                f.rewriter.interrupt();
            }
            continue;
        }
        if f.switch.current() != before {
            drop_unheard(&f.switch, &mut f.taps);
        }
        let mut out = (*p).clone();
        f.rewriter.rewrite_from(p.header.ssrc, &mut out, 3000, 90);
        if tx.send(Arc::new(out)).is_err() {
            return;
        }
    }
}

/// Listens to what `switch` wants (the layer it is on and `layer`, the one it moves to), and to
/// nothing else.
fn listen(slot: &Slot, switch: &LayerSwitch, taps: &mut [Option<Tap>; 2], layer: usize) {
    drop_unheard(switch, taps);
    if taps.iter().flatten().any(|t| t.layer == layer) {
        return;
    }
    let tap = Some(Tap {
        layer,
        rx: slot.layers[layer].tx.subscribe(),
    });
    match taps.iter_mut().find(|t| t.is_none()) {
        Some(free) => *free = tap,
        None => taps[1] = tap,
    }
}

/// Points her forwarder at the layer she should get now, listening to it and asking for its
/// keyframe when she is not on it yet.
fn aim(sfu: &Arc<Sfu>, leg: &ViewerLeg, id: SlotId, slot: &Slot, f: &mut Follow) {
    let Some(wanted) = leg.wanted_layer(slot, sfu.now_ms()) else {
        // Nothing is being sent: no layer-sync frame can come either, so the wait starts again.
        f.behind_since = None;
        return;
    };
    if f.switch.aim(wanted) {
        // A new target: its keyframe is asked for at once.
        f.asked = None;
    }
    match wanted {
        Some(layer) => listen(slot, &f.switch, &mut f.taps, layer),
        None => {
            drop_unheard(&f.switch, &mut f.taps);
            leg.layer[id as usize].store(NO_LAYER, Ordering::Relaxed);
            if id == SlotId::CameraVideo
                && let Ok(mut link) = leg.link.lock()
            {
                link.forwarding(Instant::now(), None);
            }
            f.interrupt();
        }
    }
    // The shared screen's frame rate follows her link as the camera's layer does: all three
    // temporal layers on a link that carries the top camera layer, the base one on the weakest. She
    // goes up at the lecturer's layer-sync frames, which come often; only if none came for a while
    // (an encoder that marks none) is a keyframe asked for, so viewers climbing back do not flood
    // everyone with the screen's large keyframes.
    let mut stuck = false;
    if id == SlotId::ScreenVideo {
        if let Quality::Video(l) = Quality::from_code(leg.quality.load(Ordering::Relaxed)) {
            f.temporal.aim(u8::try_from(l).unwrap_or(u8::MAX));
        }
        f.behind_since = if f.temporal.behind() {
            Some(f.behind_since.unwrap_or_else(Instant::now))
        } else {
            None
        };
        stuck = f.behind_since.is_some_and(|t| t.elapsed() >= TEMPORAL_SYNC_WAIT);
    }
    // Asked again until it comes: one request lost on the lecturer's uplink must not leave her
    // without a picture. Only while her leg is up (a reconnect asks by itself), and not before the
    // last request had time to be answered.
    if let Some(layer) = wanted
        && (f.switch.current() != Some(layer) || stuck)
        && leg.connected.load(Ordering::Relaxed)
        && f.asked.is_none_or(|t| t.elapsed() >= KEYFRAME_RETRY)
    {
        f.asked = Some(Instant::now());
        if stuck {
            f.behind_since = Some(Instant::now());
        }
        sfu.request_layer_keyframe(id, layer);
    }
}

fn drop_unheard(switch: &LayerSwitch, taps: &mut [Option<Tap>; 2]) {
    for t in taps.iter_mut() {
        if t.as_ref().is_some_and(|t| !switch.listens_to(t.layer)) {
            *t = None;
        }
    }
}

/// Whether a VP8 packet begins a keyframe.
fn starts_keyframe(p: &Packet) -> bool {
    mediafile::vp8::starts_keyframe(&p.payload)
}

/// Her feedback on a track of a leg with a connection of its own (see `heard`).
async fn feedback(sfu: Arc<Sfu>, leg: Arc<ViewerLeg>, id: SlotId, track: Arc<TrackLocalStaticRTP>) {
    while let Some(ev) = track.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = ev {
            heard(&sfu, &leg, id, &packets);
        }
    }
}

/// A viewer leg in a media loop: its state goes to the leg's watcher, her feedback is heard at once.
struct LoopOwner {
    sfu: Arc<Sfu>,
    leg: Arc<ViewerLeg>,
    events: mpsc::UnboundedSender<HandlerEvent>,
}

impl mux::Owner for LoopOwner {
    fn state(&mut self, state: RTCPeerConnectionState) {
        let _ = self.events.send(HandlerEvent::State(state));
    }

    fn rtcp(&mut self, track: usize, packets: Vec<Box<dyn rtc::rtcp::Packet>>) {
        if let Some(id) = SLOTS.get(track) {
            heard(&self.sfu, &self.leg, *id, &packets);
        }
    }
}

/// What her browser says about what she receives: keyframe requests (passed on for the layer she
/// gets, paced by the slot so a room full of viewers asking at once makes one request) and receiver
/// reports (her link's loss, which sets her layer).
fn heard(sfu: &Arc<Sfu>, leg: &ViewerLeg, id: SlotId, packets: &[Box<dyn rtc::rtcp::Packet>]) {
    for p in packets {
        if let Some(rr) = p.as_any().downcast_ref::<ReceiverReport>() {
            let now_ms = sfu.now_ms();
            // While the screen is shared it takes its part of her link, unknown here, so what got
            // through of the camera does not measure the link.
            let lowest = if sfu.slot(SlotId::ScreenVideo).sending(now_ms)[0] {
                None
            } else {
                sfu.slot(SlotId::CameraVideo).lowest_sending(now_ms)
            };
            leg.report(rr, now_ms, lowest);
        } else if let Some(cc) = p.as_any().downcast_ref::<TransportLayerCc>() {
            let (lost, received) = arrivals(cc);
            leg.transport_feedback(lost, received, sfu.now_ms());
        } else if id.is_video() && is_keyframe_request(p.as_ref()) && sfu.viewer_request_due(id) {
            let layer = leg.layer[id as usize].load(Ordering::Relaxed);
            if layer != NO_LAYER {
                sfu.request_layer_keyframe(id, usize::from(layer));
            }
        }
    }
}

/// How many of the packets a transport-wide feedback message covers were lost, and how many arrived.
fn arrivals(cc: &TransportLayerCc) -> (u32, u32) {
    let mut left = u32::from(cc.packet_status_count);
    let (mut lost, mut received) = (0u32, 0u32);
    let mut count = |symbol: SymbolTypeTcc, n: u32| {
        let n = n.min(left);
        left -= n;
        if symbol == SymbolTypeTcc::PacketNotReceived {
            lost += n;
        } else {
            received += n;
        }
    };
    for chunk in &cc.packet_chunks {
        match chunk {
            PacketStatusChunk::RunLengthChunk(run) => count(run.packet_status_symbol, u32::from(run.run_length)),
            PacketStatusChunk::StatusVectorChunk(v) => v.symbol_list.iter().for_each(|s| count(*s, 1)),
        }
    }
    (lost, received)
}

/// A slot's packet as one viewer's track carries it: its SSRC and payload type, no header extensions.
fn for_viewer(p: &Packet, ssrc: u32, pt: u8) -> Packet {
    let mut out = p.clone();
    out.header.ssrc = ssrc;
    out.header.payload_type = pt;
    out.header.extension = false;
    out.header.extensions.clear();
    out.header.extension_profile = 0;
    // The padding that went with the lecturer's extensions: left behind, the next extension added
    // (the sound's transport-wide number) would be sized against it and the packet fail to encode.
    out.header.extensions_padding = 0;
    out
}

/// Where a viewer's forwarder writes a track's packets: her connection's track, or her connection's
/// track in a media loop.
enum Out {
    Track(Arc<TrackLocalStaticRTP>),
    Loop(mux::Writer),
}

/// Writes a packet, waiting at most half a second for room in the connection's queue.
async fn write(stats: &Stats, out: &Out, p: Packet) {
    let sent = match out {
        Out::Track(track) => matches!(tokio::time::timeout(WRITE_WAIT, track.write_rtp(p)).await, Ok(Ok(()))),
        Out::Loop(writer) => writer.write(p, WRITE_WAIT).await,
    };
    let counter = if sent { &stats.packets_out } else { &stats.write_errors };
    counter.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_feedback_counts_what_arrived_and_what_did_not() {
        use rtc::rtcp::transport_feedbacks::transport_layer_cc::{
            RecvDelta, RunLengthChunk, StatusChunkTypeTcc, StatusVectorChunk, SymbolSizeTypeTcc,
        };
        use rtc::shared::marshal::{Marshal, Unmarshal};
        let (got, lost) = (
            SymbolTypeTcc::PacketReceivedSmallDelta,
            SymbolTypeTcc::PacketNotReceived,
        );
        // 20 arrived, then 7 in a vector (two missing), then a run of 3 missing; the last vector
        // is padded past the status count, and the padding is no loss.
        let mut cc = TransportLayerCc {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_sequence_number: 65_530,
            packet_status_count: 32,
            packet_chunks: vec![
                PacketStatusChunk::RunLengthChunk(RunLengthChunk {
                    type_tcc: StatusChunkTypeTcc::RunLengthChunk,
                    packet_status_symbol: got,
                    run_length: 20,
                }),
                PacketStatusChunk::StatusVectorChunk(StatusVectorChunk {
                    type_tcc: StatusChunkTypeTcc::StatusVectorChunk,
                    symbol_size: SymbolSizeTypeTcc::TwoBit,
                    symbol_list: vec![got, lost, got, SymbolTypeTcc::PacketReceivedLargeDelta, lost, got, got],
                }),
                PacketStatusChunk::RunLengthChunk(RunLengthChunk {
                    type_tcc: StatusChunkTypeTcc::RunLengthChunk,
                    packet_status_symbol: lost,
                    run_length: 3,
                }),
                PacketStatusChunk::StatusVectorChunk(StatusVectorChunk {
                    type_tcc: StatusChunkTypeTcc::StatusVectorChunk,
                    symbol_size: SymbolSizeTypeTcc::OneBit,
                    symbol_list: [vec![got, got], vec![lost; 12]].concat(),
                }),
            ],
            ..Default::default()
        };
        assert_eq!(arrivals(&cc), (5, 27));
        // As it comes off the wire (one-bit vectors decode to the same symbols); each packet that
        // arrived has its arrival delta.
        let large = SymbolTypeTcc::PacketReceivedLargeDelta;
        let received = [vec![got; 21], vec![got, large, got, got, got, got]].concat();
        cc.recv_deltas = received
            .into_iter()
            .map(|s| RecvDelta {
                type_tcc_packet: s,
                delta: if s == large { 100_000 } else { 250 },
            })
            .collect();
        let wire = cc.marshal().unwrap();
        let back = TransportLayerCc::unmarshal(&mut wire.as_ref()).unwrap();
        assert_eq!(arrivals(&back), (5, 27));
    }

    #[test]
    fn a_report_on_no_new_packet_is_not_taken_for_a_clean_one() {
        use rtc::rtcp::reception_report::ReceptionReport;
        let ssrcs: Vec<(SlotId, u32)> = SLOTS.iter().map(|id| (*id, 100 + *id as u32)).collect();
        let (tx, _rx) = mpsc::unbounded_channel();
        let leg = ViewerLeg::new(false, &ssrcs, tx);
        let now_ms = 10_000;
        leg.camera_forwarded_ms.store(now_ms, Ordering::Relaxed);
        let camera = |fraction_lost: u8, highest: u32| ReceiverReport {
            ssrc: 1,
            reports: vec![ReceptionReport {
                ssrc: 100 + SlotId::CameraVideo as u32,
                fraction_lost,
                last_sequence_number: highest,
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(leg.quality.load(Ordering::Relaxed), 1);
        // Lossy, then a report on nothing new (no loss to see where nothing came), then lossy again:
        // two lossy reports in a row, a step down.
        leg.report(&camera(40, 1_000), now_ms, None);
        leg.report(&camera(0, 1_000), now_ms, None);
        assert_eq!(leg.quality.load(Ordering::Relaxed), 1);
        leg.report(&camera(40, 1_100), now_ms, None);
        assert_eq!(leg.quality.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_viewer_packet_takes_a_new_extension_after_the_lecturer_s_are_gone() {
        use rtc::shared::marshal::{Marshal, MarshalSize};
        let mut p = pkt(1, 7, 960);
        p.payload = vec![0xAB; 80].into();
        // The lecturer's sound: its audio level, two bytes with the one-byte header, two of padding.
        p.header.set_extension(1, vec![0x80].into()).unwrap();
        assert_eq!(p.header.extensions_padding, 2);
        let mut out = for_viewer(&p, 9, OPUS_PT);
        assert!(!out.header.extension);
        // What the transport-wide numbering then adds for her.
        out.header.set_extension(3, vec![0, 42].into()).unwrap();
        let wire = out.marshal().expect("it encodes");
        assert_eq!(wire.len(), out.marshal_size());
    }

    fn pkt(ssrc: u32, seq: u16, ts: u32) -> Packet {
        let mut p = Packet::default();
        p.header.ssrc = ssrc;
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p
    }

    #[test]
    fn sequence_continues_across_publishers() {
        let mut r = Rewriter::default();
        let mut a = pkt(1, 100, 9000);
        r.rewrite(&mut a, 3000, 90);
        assert_eq!((a.header.sequence_number, a.header.timestamp), (100, 9000));
        let mut b = pkt(2, 60000, 5);
        r.rewrite(&mut b, 3000, 90);
        assert_eq!((b.header.sequence_number, b.header.timestamp), (101, 12000));
        let mut c = pkt(2, 60001, 3005);
        r.rewrite(&mut c, 3000, 90);
        assert_eq!((c.header.sequence_number, c.header.timestamp), (102, 15000));
    }

    #[test]
    fn a_late_packet_does_not_pull_the_numbering_back() {
        let mut r = Rewriter::default();
        for seq in 100..110 {
            let mut p = pkt(1, seq, 9000 + u32::from(seq - 100) * 3000);
            r.rewrite(&mut p, 3000, 90);
        }
        // A retransmission of 103 arrives, then the stream is interrupted.
        let mut late = pkt(1, 103, 18000);
        r.rewrite(&mut late, 3000, 90);
        assert_eq!(late.header.sequence_number, 103);
        r.interrupt();
        let mut next = pkt(2, 5000, 1);
        r.rewrite(&mut next, 3000, 90);
        assert_eq!(next.header.sequence_number, 110, "after the newest sent, 109");
    }

    #[test]
    fn skipped_packets_leave_no_gap_and_the_timestamp_follows_the_clock() {
        let mut r = Rewriter::default();
        let mut a = pkt(1, 100, 9000);
        r.rewrite(&mut a, 3000, 90);
        // 50 packets (2 s) skipped while she was audio only.
        r.interrupt();
        r.last_at = r.last_at.map(|t| t - Duration::from_secs(2));
        let mut b = pkt(1, 151, 9000 + 180_000);
        r.rewrite(&mut b, 3000, 90);
        assert_eq!(b.header.sequence_number, 101);
        let ts = b.header.timestamp.wrapping_sub(9000);
        assert!((180_000..181_000).contains(&ts), "{ts}");
        let mut c = pkt(1, 152, 9000 + 183_000);
        r.rewrite(&mut c, 3000, 90);
        assert_eq!(c.header.sequence_number, 102);
    }
}
