//! The selective forwarding unit: media in from publishers, out to every viewer.
//!
//! Every viewer leg has the same fixed set of slots (camera video, screen video, lecturer audio,
//! speaker audio), so a new publisher never requires renegotiation: publishers are mapped onto slots
//! and the viewer's tracks simply start carrying packets. The server makes every offer, which makes it
//! the DTLS server.
//!
//! Fan-out: each slot has a broadcast channel; each viewer has one forwarder task per slot. A viewer that
//! falls behind (`Lagged`) is counted and re-synced with a keyframe request — never dropped, unlike the
//! upstream broadcast example. Every queue on a viewer's path is bounded: the slot's ring (shared), one
//! packet in flight per forwarder, the leg's driver channel (webrtc-rs, 256 events), and retransmissions
//! (`nack::BoundedNackResponder`, replacing webrtc-rs's unbounded one); what does not fit is dropped,
//! counted and followed by a keyframe. Forwarders rewrite SSRC and payload type per viewer and continue the
//! sequence numbers and timestamps across publisher changes so decoders do not stall.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{broadcast, mpsc};

use super::nack::{BoundedNackResponder, OnOverflow, is_keyframe_request};
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
/// At most one keyframe request per slot in this interval.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(400);
/// Leg ids (`LegHandle::id`).
static NEXT_LEG: AtomicUsize = AtomicUsize::new(1);
/// Viewers' own keyframe requests are passed on at most this often per slot: one viewer on a lossy
/// link must not make the lecturer's phone send keyframes several times a second for everyone.
const VIEWER_KEYFRAME_INTERVAL: Duration = Duration::from_millis(1500);
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

/// For viewer legs: the default interceptors, except that retransmissions are bounded (see `nack`).
fn viewer_media_engine(on_overflow: OnOverflow) -> Result<(MediaEngine, Registry), String> {
    use rtc::interceptor::{NackGeneratorBuilder, Slot};
    use rtc::peer_connection::configuration::interceptor_registry::{
        configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
    };
    use rtc::rtp_transceiver::rtp_sender::RTCPFeedback;
    let mut me = codecs()?;
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
    let registry = Registry::new()
        .with(Slot::NackResponder, BoundedNackResponder::new(on_overflow))
        .with(Slot::NackGenerator, NackGeneratorBuilder::new().build());
    configure_simulcast_extension_headers(&mut me).map_err(|e| e.to_string())?;
    let registry = configure_twcc_receiver_only(registry, &mut me).map_err(|e| e.to_string())?;
    Ok((me, configure_rtcp_reports(registry)))
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
    /// Retransmissions a viewer asked for that did not fit its bounded queue (each burst is followed by
    /// a keyframe request instead).
    pub retransmits_dropped: AtomicU64,
}

/// Continues sequence numbers and timestamps across a change of publisher.
#[derive(Debug, Default)]
struct Rewriter {
    current_ssrc: Option<u32>,
    seq_offset: u16,
    ts_offset: u32,
    last_seq: u16,
    last_ts: u32,
    started: bool,
}

impl Rewriter {
    fn rewrite(&mut self, p: &mut Packet, ts_step: u32) {
        if self.current_ssrc != Some(p.header.ssrc) {
            self.current_ssrc = Some(p.header.ssrc);
            if self.started {
                self.seq_offset = self.last_seq.wrapping_add(1).wrapping_sub(p.header.sequence_number);
                self.ts_offset = self.last_ts.wrapping_add(ts_step).wrapping_sub(p.header.timestamp);
            } else {
                self.seq_offset = 0;
                self.ts_offset = 0;
            }
        }
        p.header.sequence_number = p.header.sequence_number.wrapping_add(self.seq_offset);
        p.header.timestamp = p.header.timestamp.wrapping_add(self.ts_offset);
        self.last_seq = p.header.sequence_number;
        self.last_ts = p.header.timestamp;
        self.started = true;
    }
}

/// One slot: the current publisher's packets, fanned out.
struct Slot {
    tx: broadcast::Sender<Arc<Packet>>,
    /// Asks the current publisher for a keyframe.
    keyframe: std::sync::Mutex<Option<mpsc::Sender<()>>>,
    last_keyframe_request: std::sync::Mutex<Option<Instant>>,
    keyframe_pending: AtomicBool,
    /// When a viewer's own keyframe request was last passed on (see `VIEWER_KEYFRAME_INTERVAL`).
    last_viewer_request: std::sync::Mutex<Option<Instant>>,
    rewriter: std::sync::Mutex<Rewriter>,
    /// Set by the moderator: packets are not forwarded.
    muted: AtomicBool,
}

/// When a keyframe request may go to the publisher.
enum KeyframeRequest {
    Now,
    After(Duration),
}

impl Slot {
    /// When a keyframe request made `now` may be sent (sent now, it counts as the last request);
    /// `None` when the slot's lock is poisoned.
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
}

/// A leg the room holds: answer it, close it.
pub struct LegHandle {
    id: usize,
    pc: Arc<dyn PeerConnection>,
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
    pub fn answer(&self, sdp: String) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        let pc = self.pc.clone();
        async move {
            let desc = RTCSessionDescription::answer(sdp).map_err(|e| e.to_string())?;
            pc.set_remote_description(desc).await.map_err(|e| e.to_string())
        }
    }

    pub fn set_audio_only(&self, on: bool) {
        self.audio_only.store(on, Ordering::Relaxed);
    }

    pub async fn close(self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.pc.close().await;
    }
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
    pub fn new(config: MediaConfig) -> Sfu {
        let slots = SLOTS
            .iter()
            .map(|_| Slot {
                tx: broadcast::channel(SLOT_BUFFER).0,
                keyframe: std::sync::Mutex::new(None),
                last_keyframe_request: std::sync::Mutex::new(None),
                keyframe_pending: AtomicBool::new(false),
                last_viewer_request: std::sync::Mutex::new(None),
                rewriter: std::sync::Mutex::new(Rewriter::default()),
                muted: AtomicBool::new(false),
            })
            .collect();
        Sfu {
            config,
            slots,
            stats: Arc::new(Stats::default()),
            next_ssrc: std::sync::atomic::AtomicU32::new(0x5100_0000),
        }
    }

    fn slot(&self, id: SlotId) -> &Slot {
        &self.slots[id as usize]
    }

    /// Asks the publisher of a video slot for a keyframe, at most every `KEYFRAME_INTERVAL`. A request
    /// inside the interval is deferred to its end, never dropped: three viewers joining within a few
    /// hundred milliseconds all need the keyframe.
    pub fn request_keyframe(self: &Arc<Self>, id: SlotId) {
        if !id.is_video() {
            return;
        }
        match self.slot(id).keyframe_request(Instant::now()) {
            Some(KeyframeRequest::Now) => self.send_keyframe_request(id),
            Some(KeyframeRequest::After(wait)) => self.defer_keyframe_request(id, wait),
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
    fn defer_keyframe_request(self: &Arc<Self>, id: SlotId, wait: Duration) {
        if self.slot(id).keyframe_pending.swap(true, Ordering::Relaxed) {
            return;
        }
        let sfu = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let slot = sfu.slot(id);
            slot.keyframe_pending.store(false, Ordering::Relaxed);
            if let Ok(mut last) = slot.last_keyframe_request.lock() {
                *last = Some(Instant::now());
            }
            sfu.send_keyframe_request(id);
        });
    }

    fn send_keyframe_request(&self, id: SlotId) {
        if let Ok(k) = self.slot(id).keyframe.lock()
            && let Some(tx) = k.as_ref()
        {
            let _ = tx.try_send(());
            self.stats.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A slot's packets from now on, as every viewer gets them (the recorder's tap).
    pub(crate) fn subscribe(&self, id: SlotId) -> broadcast::Receiver<Arc<Packet>> {
        self.slot(id).tx.subscribe()
    }

    pub fn request_all_keyframes(self: &Arc<Self>) {
        self.request_keyframe(SlotId::CameraVideo);
        self.request_keyframe(SlotId::ScreenVideo);
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

    /// Creates the offer and waits for ICE gathering (host candidates only: fast).
    async fn offer(
        &self,
        pc: &Arc<dyn PeerConnection>,
        events: &mut mpsc::UnboundedReceiver<HandlerEvent>,
        early: &mut Vec<HandlerEvent>,
    ) -> Result<String, String> {
        let offer = pc.create_offer(None).await.map_err(|e| e.to_string())?;
        pc.set_local_description(offer).await.map_err(|e| e.to_string())?;
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
        Ok(match self.config.public_ip {
            Some(public) => sdp.replace(&format!(" {} ", self.config.bind_ip), &format!(" {public} ")),
            None => sdp,
        })
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
        let leg = Arc::new(ViewerLeg {
            connected: AtomicBool::new(false),
            audio_only: Arc::new(AtomicBool::new(audio_only)),
            resync: Default::default(),
        });
        let on_overflow = self.on_retransmit_overflow(&leg, ssrcs.clone());
        let pc = self.build(Arc::new(Handler { events: etx }), Some(on_overflow)).await?;
        let tracks = close_on_error(&pc, add_viewer_tracks(&pc, ssrcs).await).await?;
        let mut early = Vec::new();
        let sdp = close_on_error(&pc, self.offer(&pc, &mut erx, &mut early).await).await?;
        let mut tasks: Vec<_> = Vec::new();
        for (id, ssrc, track) in tracks {
            if id.is_video() {
                tasks.push(tokio::spawn(keyframe_requests(self.clone(), id, track.clone())));
            }
            let rx = self.slot(id).tx.subscribe();
            tasks.push(tokio::spawn(forward(self.clone(), leg.clone(), id, ssrc, track, rx)));
        }
        tasks.push(tokio::spawn(watch_viewer(self.clone(), leg.clone(), early, erx, out)));
        let audio_only = leg.audio_only.clone();
        let id = NEXT_LEG.fetch_add(1, Ordering::Relaxed);
        Ok((
            LegHandle {
                id,
                pc,
                tasks,
                audio_only,
            },
            sdp,
        ))
    }

    /// Dropped retransmissions: counted here; the slot's forwarder asks for the keyframe (it runs on the
    /// media runtime, the interceptor inside the connection's driver).
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
                pc,
                tasks: vec![task],
                audio_only,
            },
            sdp,
        ))
    }

    /// A viewer fell behind a slot, skipping `skipped` packets: its decoder lost packets, so it resyncs
    /// from the next keyframe rather than stall.
    fn viewer_lagged(self: &Arc<Self>, id: SlotId, skipped: u64) {
        self.stats.lag_events.fetch_add(1, Ordering::Relaxed);
        self.stats.packets_skipped.fetch_add(skipped, Ordering::Relaxed);
        self.request_keyframe(id);
    }

    /// Puts a publisher's packet into its slot, unless the slot is muted.
    fn publish(&self, slot: &Slot, mut p: Packet, ts_step: u32) {
        self.stats.packets_in.fetch_add(1, Ordering::Relaxed);
        if slot.muted.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut r) = slot.rewriter.lock() {
            r.rewrite(&mut p, ts_step);
        }
        let _ = slot.tx.send(Arc::new(p));
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
    let codec = if id.is_video() { vp8() } else { opus() };
    TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "quorum".to_owned(),
        format!("slot-{}", id as u8),
        format!("slot-{}", id as u8),
        id.kind(),
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    ))
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
    /// Shared with the leg's handle, which the room switches.
    audio_only: Arc<AtomicBool>,
    /// Per slot: retransmissions were dropped, so the viewer needs a keyframe.
    resync: [AtomicBool; 4],
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

/// Reads a publisher's track into its slot; serves keyframe requests for it.
async fn read_track(sfu: Arc<Sfu>, id: SlotId, track: Arc<dyn TrackRemote>) {
    let slot = sfu.slot(id);
    let media_ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    let (ktx, krx) = mpsc::channel::<()>(4);
    if let Ok(mut k) = slot.keyframe.lock() {
        *k = Some(ktx);
    }
    let pli = tokio::spawn(send_picture_loss(track.clone(), media_ssrc, krx));
    // New publisher in a video slot: viewers need a keyframe from it right away.
    if let Ok(mut last) = slot.last_keyframe_request.lock() {
        *last = None;
    }
    sfu.request_keyframe(id);
    let ts_step = if id.is_video() { 3000 } else { 960 };
    while let Some(ev) = track.poll().await {
        match ev {
            TrackRemoteEvent::OnRtpPacket(p) => sfu.publish(slot, p, ts_step),
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    pli.abort();
}

/// Turns each keyframe request into a picture loss indication to the publisher.
async fn send_picture_loss(track: Arc<dyn TrackRemote>, media_ssrc: u32, mut requests: mpsc::Receiver<()>) {
    while requests.recv().await.is_some() {
        let req: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        })];
        if track.write_rtcp(req).await.is_err() {
            break;
        }
    }
}

/// Copies a slot's packets to one viewer's track.
async fn forward(
    sfu: Arc<Sfu>,
    leg: Arc<ViewerLeg>,
    id: SlotId,
    ssrc: u32,
    track: Arc<TrackLocalStaticRTP>,
    mut rx: broadcast::Receiver<Arc<Packet>>,
) {
    let pt = if id.is_video() { VP8_PT } else { OPUS_PT };
    let mut was_skipping = false;
    loop {
        let p = match rx.recv().await {
            Ok(p) => p,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                sfu.viewer_lagged(id, n);
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if !leg.connected.load(Ordering::Relaxed) {
            continue;
        }
        if leg.resync[id as usize].swap(false, Ordering::Relaxed) {
            // Its retransmissions were dropped (none of the slot's packets were).
            sfu.viewer_lagged(id, 0);
        }
        if id.is_video() && leg.audio_only.load(Ordering::Relaxed) {
            was_skipping = true;
            continue;
        }
        if std::mem::take(&mut was_skipping) {
            sfu.request_keyframe(id);
        }
        write(&sfu.stats, &track, for_viewer(&p, ssrc, pt)).await;
    }
}

/// A viewer's keyframe requests for a video slot, passed on to its publisher (paced by the slot, so a
/// room full of viewers asking at once makes one request).
async fn keyframe_requests(sfu: Arc<Sfu>, id: SlotId, track: Arc<TrackLocalStaticRTP>) {
    while let Some(ev) = track.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = ev
            && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
            && sfu.viewer_request_due(id)
        {
            sfu.request_keyframe(id);
        }
    }
}

/// A slot's packet as one viewer's track carries it: its SSRC and payload type, no header extensions.
fn for_viewer(p: &Packet, ssrc: u32, pt: u8) -> Packet {
    let mut out = p.clone();
    out.header.ssrc = ssrc;
    out.header.payload_type = pt;
    out.header.extension = false;
    out.header.extensions.clear();
    out.header.extension_profile = 0;
    out
}

async fn write(stats: &Stats, track: &TrackLocalStaticRTP, p: Packet) {
    match tokio::time::timeout(Duration::from_millis(500), track.write_rtp(p)).await {
        Ok(Ok(())) => stats.packets_out.fetch_add(1, Ordering::Relaxed),
        _ => stats.write_errors.fetch_add(1, Ordering::Relaxed),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

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
        r.rewrite(&mut a, 3000);
        assert_eq!((a.header.sequence_number, a.header.timestamp), (100, 9000));
        let mut b = pkt(2, 60000, 5);
        r.rewrite(&mut b, 3000);
        assert_eq!((b.header.sequence_number, b.header.timestamp), (101, 12000));
        let mut c = pkt(2, 60001, 3005);
        r.rewrite(&mut c, 3000);
        assert_eq!((c.header.sequence_number, c.header.timestamp), (102, 15000));
    }
}
