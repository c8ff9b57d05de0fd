//! Synthetic room clients, for the integration tests and the load generator (`loadgen`'s `room_load`):
//! a WebSocket signaling client, a publisher that sends stamped VP8 and Opus and answers keyframe
//! requests, and viewers that count what arrives, its latency and loss.
//!
//! Payload stamps: video `[VP8 descriptor][key? 0 : 1][seq u64][sent µs u64][layer u8][padding]`,
//! audio `[seq u64][sent µs u64][padding]` — the sequence reveals loss, the send time gives forwarding
//! latency (same host clock), the layer which simulcast layer arrived (`SCREEN_LAYER`: the screen).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use rtc::interceptor::{Attribute, Interceptor, Packet as IPacket, Slot, StreamInfo, TaggedPacket};
use rtc::media_stream::MediaStreamTrack;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::shared::error::Error as RtcError;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
    RTCSessionDescription, SettingEngineBuilder,
};

use quorum::rooms::sfu::{Packet, media_engine, opus, vp8};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn err(e: impl std::fmt::Display) -> BoxError {
    e.to_string().into()
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A signaling connection to a room, authenticated with a session cookie.
pub struct Signal {
    out: mpsc::UnboundedSender<String>,
    pub incoming: mpsc::UnboundedReceiver<serde_json::Value>,
}

impl Signal {
    pub async fn connect(url: &str, session_cookie: &str) -> Result<Signal, BoxError> {
        let mut req = url.into_client_request().map_err(err)?;
        req.headers_mut()
            .insert("Cookie", format!("q_sid={session_cookie}").parse().map_err(err)?);
        let (ws, _) = tokio_tungstenite::connect_async(req).await.map_err(err)?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let (in_tx, incoming) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(t) = msg
                    && let Ok(v) = serde_json::from_str(t.as_str())
                    && in_tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        Ok(Signal { out, incoming })
    }

    pub fn send(&self, msg: serde_json::Value) {
        let _ = self.out.send(msg.to_string());
    }

    /// The next message of a type, skipping others (with a deadline).
    pub async fn expect(&mut self, kind: &str, within: Duration) -> Result<serde_json::Value, BoxError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.incoming.recv())
                .await
                .map_err(|_| err(format!("no `{kind}` message within {within:?}")))?
                .ok_or_else(|| err("connection closed"))?;
            if msg["type"] == kind {
                return Ok(msg);
            }
        }
    }

    /// The next offer for a leg.
    pub async fn offer(&mut self, leg: &str) -> Result<String, BoxError> {
        loop {
            let m = self.expect("offer", Duration::from_secs(10)).await?;
            if m["leg"] == leg {
                return Ok(m["sdp"].as_str().unwrap_or_default().to_string());
            }
        }
    }
}

/// Opens a room WebSocket with a session cookie and, if given, an `Origin` header (as a browser page
/// would send), then closes it. Returns 101 when the server upgraded the connection, or the HTTP status
/// it answered instead.
pub async fn handshake_status(url: &str, session_cookie: &str, origin: Option<&str>) -> Result<u16, BoxError> {
    let mut req = url.into_client_request().map_err(err)?;
    req.headers_mut()
        .insert("Cookie", format!("q_sid={session_cookie}").parse().map_err(err)?);
    if let Some(o) = origin {
        req.headers_mut().insert("Origin", o.parse().map_err(err)?);
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, response)) => {
            let _ = ws.close(None).await;
            Ok(response.status().as_u16())
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Ok(r.status().as_u16()),
        Err(e) => Err(err(e)),
    }
}

/// An interceptor that looks at each incoming packet and passes it on (true) or drops it (false);
/// everything outgoing passes. The synthetic clients' two hooks (`mark_keyframe_requests`, `lossy_link`)
/// are closures over it.
struct OnRead<F> {
    hook: F,
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl<F: FnMut(&mut TaggedPacket) -> bool> OnRead<F> {
    fn new(hook: F) -> OnRead<F> {
        OnRead {
            hook,
            read: VecDeque::new(),
            write: VecDeque::new(),
        }
    }
}

impl<F: FnMut(&mut TaggedPacket) -> bool> rtc::sansio::Protocol<TaggedPacket, TaggedPacket, ()> for OnRead<F> {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = RtcError;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if (self.hook)(&mut msg) {
            self.read.push_back(msg);
        }
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write.pop_front()
    }
}

impl<F: FnMut(&mut TaggedPacket) -> bool + Send + Sync> Interceptor for OnRead<F> {
    fn bind_local_stream(&mut self, _: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}

/// Marks keyframe requests for the application, so the synthetic publisher can answer them.
fn mark_keyframe_requests(msg: &mut TaggedPacket) -> bool {
    if let IPacket::Rtcp(packets) = &msg.message.packet
        && packets.iter().any(|p| p.as_any().is::<PictureLossIndication>())
    {
        msg.message.add(Attribute::DeliverToApplication);
    }
    true
}

/// A lossy link in front of a viewer: drops a share of the incoming camera packets of the layers
/// from a given one up, chosen by sequence number so a retransmission is lost as its original was
/// and the loss her receiver reports stays what the link does (as on a link too narrow for those
/// layers). Spread evenly: of any hundred packets in a row, as many as the share says (the sequence
/// number times 37, a number prime to 100, goes round the hundred in steps). The shared screen
/// passes. `loss`: percent lost (low byte) and the lowest layer losing them (the next byte).
fn lossy_link(loss: Arc<AtomicU64>) -> impl FnMut(&mut TaggedPacket) -> bool + Send + Sync + 'static {
    move |msg| {
        let loss = loss.load(Ordering::Relaxed);
        let (percent, from_layer) = (loss & 0xFF, (loss >> 8) as u8);
        !(matches!(&msg.message.packet, IPacket::Rtp(p)
            if p.header.payload_type == 96
                && u64::from(p.header.sequence_number % 100) * 37 % 100 < percent
                && mediafile::vp8::payload(&p.payload)
                    .is_some_and(|(_, data)| data.get(17).is_some_and(|l| (from_layer..=2).contains(l)))))
    }
}

enum Ev {
    Gathered,
    Connected,
    Track(Arc<dyn TrackRemote>),
}

struct Handler(mpsc::UnboundedSender<Ev>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.0.send(Ev::Gathered);
        }
    }
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if state == RTCPeerConnectionState::Connected {
            let _ = self.0.send(Ev::Connected);
        }
    }
    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.0.send(Ev::Track(track));
    }
}

async fn peer(
    bind: IpAddr,
    keyframe_requests: bool,
    loss: Option<Arc<AtomicU64>>,
) -> Result<(Arc<dyn PeerConnection>, mpsc::UnboundedReceiver<Ev>), BoxError> {
    let (me, mut registry) = media_engine().map_err(err)?;
    if keyframe_requests {
        registry = registry.with(Slot::from(14_000), OnRead::new(mark_keyframe_requests));
    }
    if let Some(loss) = loss {
        // Next to the wire, before anything that counts what arrives.
        registry = registry.with(Slot::from(500), OnRead::new(lossy_link(loss)));
        // Receiver reports several times a second, as a browser sends them (every 200 ms or so for
        // video in Chrome), not the default once a second: the SFU's link policy is tested with
        // what it meets.
        registry = registry.with(
            Slot::ReceiverReport,
            rtc::interceptor::ReceiverReportBuilder::new()
                .with_interval(Duration::from_millis(250))
                .build(),
        );
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let se = SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .build();
    let pc = PeerConnectionBuilder::new()
        .with_media_engine(me)
        .with_interceptor_registry(registry)
        .with_setting_engine(se)
        .with_handler(Arc::new(Handler(tx)))
        .with_udp_addrs(vec![SocketAddr::new(bind, 0)])
        .build()
        .await
        .map_err(err)?;
    Ok((Arc::new(pc), rx))
}

/// Answers an offer and waits for gathering; returns the answer SDP.
async fn answer(
    pc: &Arc<dyn PeerConnection>,
    events: &mut mpsc::UnboundedReceiver<Ev>,
    early: &mut Vec<Ev>,
    offer: String,
) -> Result<String, BoxError> {
    pc.set_remote_description(RTCSessionDescription::offer(offer).map_err(err)?)
        .await
        .map_err(err)?;
    finish_answer(pc, events, early).await
}

async fn finish_answer(
    pc: &Arc<dyn PeerConnection>,
    events: &mut mpsc::UnboundedReceiver<Ev>,
    early: &mut Vec<Ev>,
) -> Result<String, BoxError> {
    let a = pc.create_answer(None).await.map_err(err)?;
    pc.set_local_description(a).await.map_err(err)?;
    gathered(pc, events, early).await
}

/// The local description once ICE gathering is complete (at most 3 s).
async fn gathered(
    pc: &Arc<dyn PeerConnection>,
    events: &mut mpsc::UnboundedReceiver<Ev>,
    early: &mut Vec<Ev>,
) -> Result<String, BoxError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Ev::Gathered)) | Err(_) => break,
            Ok(Some(other)) => early.push(other),
            Ok(None) => return Err(err("closed while gathering")),
        }
    }
    pc.local_description()
        .await
        .map(|d| d.sdp)
        .ok_or_else(|| err("no local description"))
}

/// A synthetic lecturer: camera video (a keyframe on request or every 5 s) and microphone audio, or
/// a shared screen. The camera is one encoding, or three simulcast layers (`rid` l, m, h) as the room
/// page publishes them; the screen one encoding in three temporal layers (`L1T3`).
pub struct Publisher {
    pc: Arc<dyn PeerConnection>,
    video: Arc<TrackLocalStaticRTP>,
    audio: Option<Arc<TrackLocalStaticRTP>>,
    /// The video's encodings, lowest first.
    layers: Vec<LayerOut>,
    /// A shared screen: temporal layers, no audio.
    screen: bool,
    /// Simulcast only: the header extensions that name each packet's media section and layer.
    tags: Option<Tags>,
    pub keyframes_sent: Arc<AtomicU64>,
    pub packets_sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// One video encoding the publisher sends.
struct LayerOut {
    ssrc: u32,
    rid: &'static str,
    /// Its share of the video bitrate, in tenths.
    tenths: u32,
    /// Set by a keyframe request for this encoding; the first frame is a keyframe.
    key: Arc<AtomicBool>,
    /// Not sending (a browser drops its top layer when its uplink is short).
    paused: Arc<AtomicBool>,
}

/// The SDES header extensions a simulcast receiver maps a packet's SSRC with (RFC 8852): the video
/// section's `mid` and the layer's `rid`, under the ids the offer gave them.
#[derive(Clone)]
struct Tags {
    mid_id: u8,
    mid: bytes::Bytes,
    rid_id: u8,
}

impl Tags {
    /// Reads the ids and the video section's mid from the offer this publisher made.
    fn from_offer(sdp: &str) -> Option<Tags> {
        let extmap = |uri: &str| {
            sdp.lines().find_map(|l| {
                let rest = l.trim().strip_prefix("a=extmap:")?;
                let (id, u) = rest.split_once(' ')?;
                (u.split_whitespace().next()? == uri).then(|| id.split('/').next()?.parse().ok())?
            })
        };
        let video = sdp.split("m=").find(|s| s.starts_with("video"))?;
        let mid = video.lines().find_map(|l| l.trim().strip_prefix("a=mid:"))?;
        Some(Tags {
            mid_id: extmap("urn:ietf:params:rtp-hdrext:sdes:mid")?,
            mid: bytes::Bytes::from(mid.to_owned()),
            rid_id: extmap("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")?,
        })
    }
}

const VIDEO_SSRC: u32 = 0x1111_0001;
const AUDIO_SSRC: u32 = 0x1111_0002;
const SCREEN_SSRC: u32 = 0x1111_0003;
/// The layer stamp of the shared screen's packets (the camera's are 0 to 2).
pub const SCREEN_LAYER: u8 = 3;

/// What a synthetic publisher sends.
#[derive(Clone, Copy, PartialEq)]
enum Sends {
    Camera,
    CameraSimulcast,
    Screen,
}
/// The simulcast layers: about a tenth, a third and all of the video bitrate, as the room page's.
const SIMULCAST: [(&str, u32); 3] = [("l", 1), ("m", 3), ("h", 10)];

fn local_track(kind: RtpCodecKind, encodings: &[(u32, &str)]) -> Arc<TrackLocalStaticRTP> {
    let codec = if kind == RtpCodecKind::Video { vp8() } else { opus() };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "synthetic".into(),
        format!("{kind}-{}", encodings[0].0),
        format!("{kind}"),
        kind,
        encodings
            .iter()
            .map(|(ssrc, rid)| RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    rid: (*rid).to_owned(),
                    ssrc: Some(*ssrc),
                    ..Default::default()
                },
                codec: codec.clone(),
                ..Default::default()
            })
            .collect(),
    )))
}

impl Publisher {
    /// Answers the server's camera offer with a video and an audio track.
    pub async fn answer(offer: String, bind: IpAddr) -> Result<(Publisher, String), BoxError> {
        let (pc, mut events) = peer(bind, true, None).await?;
        pc.set_remote_description(RTCSessionDescription::offer(offer).map_err(err)?)
            .await
            .map_err(err)?;
        let p = Publisher::with_tracks(pc, Sends::Camera).await?;
        let mut early = Vec::new();
        let sdp = finish_answer(&p.pc, &mut events, &mut early).await?;
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        Ok((p, sdp))
    }

    /// Answers the server's screen offer: one video track in three temporal layers, each packet's
    /// VP8 descriptor carrying its picture ID, TL0PICIDX and layer, as a browser's `L1T3` encoder does.
    pub async fn answer_screen(offer: String, bind: IpAddr) -> Result<(Publisher, String), BoxError> {
        let (pc, mut events) = peer(bind, true, None).await?;
        pc.set_remote_description(RTCSessionDescription::offer(offer).map_err(err)?)
            .await
            .map_err(err)?;
        let p = Publisher::with_tracks(pc, Sends::Screen).await?;
        let mut early = Vec::new();
        let sdp = finish_answer(&p.pc, &mut events, &mut early).await?;
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        Ok((p, sdp))
    }

    /// Makes the offer, as a browser publishing does (Janus's VideoRoom expects it); `accept` takes
    /// the answer.
    pub async fn offer(bind: IpAddr) -> Result<(Publisher, String), BoxError> {
        Publisher::make_offer(bind, false).await
    }

    /// Makes an offer publishing the video in three simulcast layers, as the room page does.
    pub async fn offer_simulcast(bind: IpAddr) -> Result<(Publisher, String), BoxError> {
        Publisher::make_offer(bind, true).await
    }

    /// Publishes the camera in three simulcast layers through a lecturer's room socket, as the room
    /// page does: its offer, the server's answer.
    pub async fn publish_simulcast(lecturer: &mut Signal, bind: IpAddr) -> Result<Publisher, BoxError> {
        let (publisher, offer) = Publisher::offer_simulcast(bind).await?;
        lecturer.send(serde_json::json!({"type": "publish", "source": "camera", "sdp": offer}));
        let answer = lecturer.expect("answer", Duration::from_secs(10)).await?;
        let sdp = answer["sdp"].as_str().ok_or("an answer without sdp")?.to_owned();
        publisher.accept(sdp).await?;
        Ok(publisher)
    }

    async fn make_offer(bind: IpAddr, simulcast: bool) -> Result<(Publisher, String), BoxError> {
        let (pc, mut events) = peer(bind, true, None).await?;
        let sends = if simulcast {
            Sends::CameraSimulcast
        } else {
            Sends::Camera
        };
        let mut p = Publisher::with_tracks(pc, sends).await?;
        let o = p.pc.create_offer(None).await.map_err(err)?;
        p.pc.set_local_description(o).await.map_err(err)?;
        let mut early = Vec::new();
        let sdp = gathered(&p.pc, &mut events, &mut early).await?;
        if simulcast {
            p.tags = Some(Tags::from_offer(&sdp).ok_or("the offer names no mid and rid header extensions")?);
        }
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        Ok((p, sdp))
    }

    /// The publisher's tracks, added to `pc`.
    async fn with_tracks(pc: Arc<dyn PeerConnection>, sends: Sends) -> Result<Publisher, BoxError> {
        let layers: Vec<LayerOut> = match sends {
            Sends::CameraSimulcast => SIMULCAST
                .iter()
                .enumerate()
                .map(|(i, (rid, tenths))| LayerOut::new(VIDEO_SSRC + 0x10 + i as u32, rid, *tenths))
                .collect(),
            Sends::Camera => vec![LayerOut::new(VIDEO_SSRC, "", 10)],
            Sends::Screen => vec![LayerOut::new(SCREEN_SSRC, "", 10)],
        };
        let encodings: Vec<(u32, &str)> = layers.iter().map(|l| (l.ssrc, l.rid)).collect();
        let video = local_track(RtpCodecKind::Video, &encodings);
        pc.add_track(video.clone() as Arc<dyn TrackLocal>).await.map_err(err)?;
        let audio = if sends == Sends::Screen {
            None
        } else {
            let audio = local_track(RtpCodecKind::Audio, &[(AUDIO_SSRC, "")]);
            pc.add_track(audio.clone() as Arc<dyn TrackLocal>).await.map_err(err)?;
            Some(audio)
        };
        Ok(Publisher {
            pc,
            video,
            audio,
            screen: sends == Sends::Screen,
            layers,
            tags: None,
            keyframes_sent: Arc::new(AtomicU64::new(0)),
            packets_sent: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The answer to `offer`'s offer.
    pub async fn accept(&self, answer: String) -> Result<(), BoxError> {
        let desc = RTCSessionDescription::answer(answer).map_err(err)?;
        self.pc.set_remote_description(desc).await.map_err(err)
    }

    /// Sends `video_kbps` of VP8 at 30 frames per second (1,100-byte packets; in simulcast, the top
    /// layer at that rate and the others at a third and a tenth of it) and Opus every 20 ms.
    pub fn start(&self, video_kbps: u32) {
        self.watch_keyframe_requests();
        for (i, layer) in self.layers.iter().enumerate() {
            let kbps = video_kbps * layer.tenths / 10;
            let video = VideoSender {
                track: self.video.clone(),
                ssrc: layer.ssrc,
                layer: match (self.screen, self.layers.len()) {
                    (true, _) => SCREEN_LAYER,
                    (false, 1) => 2,
                    _ => i as u8,
                },
                temporal: self.screen,
                tags: self
                    .tags
                    .clone()
                    .map(|t| (t, bytes::Bytes::from_static(layer.rid.as_bytes()))),
                per_frame: ((kbps as usize * 1000 / 8 / 30) / 1100).max(1),
                key: layer.key.clone(),
                paused: layer.paused.clone(),
                keys_sent: self.keyframes_sent.clone(),
                sent: self.packets_sent.clone(),
                stop: self.stop.clone(),
            };
            tokio::spawn(video.run());
        }
        if let Some(audio) = &self.audio {
            tokio::spawn(send_audio(audio.clone(), self.packets_sent.clone(), self.stop.clone()));
        }
    }

    /// Stops (or resumes) sending simulcast layer `layer` (0 lowest), as a browser whose uplink
    /// narrows stops its top layer.
    pub fn pause_layer(&self, layer: usize, paused: bool) {
        if let Some(l) = self.layers.get(layer) {
            l.paused.store(paused, Ordering::Relaxed);
            if !paused {
                l.key.store(true, Ordering::Relaxed);
            }
        }
    }

    /// A keyframe request names the encoding by SSRC; one that names none asks for all of them.
    fn watch_keyframe_requests(&self) {
        let requests = self.video.clone();
        let keys: Vec<(u32, Arc<AtomicBool>)> = self.layers.iter().map(|l| (l.ssrc, l.key.clone())).collect();
        tokio::spawn(async move {
            while let Some(ev) = requests.poll().await {
                let TrackLocalEvent::OnRtcpPacket(packets) = ev else {
                    continue;
                };
                for p in packets {
                    let Some(pli) = p.as_any().downcast_ref::<PictureLossIndication>() else {
                        continue;
                    };
                    let named = keys.iter().filter(|(s, _)| *s == pli.media_ssrc);
                    let mut any = false;
                    for (_, key) in named {
                        key.store(true, Ordering::Relaxed);
                        any = true;
                    }
                    if !any {
                        keys.iter().for_each(|(_, k)| k.store(true, Ordering::Relaxed));
                    }
                }
            }
        });
    }

    pub async fn close(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.pc.close().await;
    }
}

impl LayerOut {
    fn new(ssrc: u32, rid: &'static str, tenths: u32) -> LayerOut {
        LayerOut {
            ssrc,
            rid,
            tenths,
            key: Arc::new(AtomicBool::new(true)),
            paused: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// One encoding of the publisher's video: frames of `per_frame` packets, each stamped with a
/// sequence number, the send time and the layer so viewers can measure loss and latency and tell
/// which layer they get.
struct VideoSender {
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    /// 0 lowest, 2 top (a single encoding is the top); `SCREEN_LAYER` for the screen.
    layer: u8,
    /// Frames in three temporal layers (0, 2, 1, 2, … restarting at each keyframe), described in
    /// each packet's VP8 descriptor.
    temporal: bool,
    /// Simulcast: the mid and rid extensions, and this layer's rid.
    tags: Option<(Tags, bytes::Bytes)>,
    per_frame: usize,
    key: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    keys_sent: Arc<AtomicU64>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl VideoSender {
    async fn run(self) {
        let mut tick = tokio::time::interval(Duration::from_millis(33));
        let (mut seq, mut stamp, mut ts) = (0u16, 0u64, 0u32);
        let mut last_key = Instant::now();
        let mut pattern = Pattern::default();
        while !self.stop.load(Ordering::Relaxed) {
            tick.tick().await;
            ts = ts.wrapping_add(3000);
            if self.paused.load(Ordering::Relaxed) {
                continue;
            }
            // A keyframe when asked for, and at least every 5 seconds.
            let is_key = self.key.swap(false, Ordering::Relaxed) || last_key.elapsed() > Duration::from_secs(5);
            if is_key {
                last_key = Instant::now();
                self.keys_sent.fetch_add(1, Ordering::Relaxed);
            }
            let descriptor = if self.temporal {
                pattern.next(is_key)
            } else {
                vec![0x10]
            };
            for i in 0..self.per_frame {
                let p = self.packet(&descriptor, i, is_key, seq, stamp, ts);
                if self.track.write_rtp(p).await.is_ok() {
                    self.sent.fetch_add(1, Ordering::Relaxed);
                }
                seq = seq.wrapping_add(1);
                stamp += 1;
            }
        }
    }

    /// Packet `i` of a frame: the VP8 descriptor (its start-of-partition bit on the first packet),
    /// the keyframe bit, then the stamp, the send time and the layer.
    fn packet(&self, descriptor: &[u8], i: usize, is_key: bool, seq: u16, stamp: u64, ts: u32) -> Packet {
        let mut payload = vec![0u8; 1100];
        let d = descriptor.len();
        payload[..d].copy_from_slice(descriptor);
        if i > 0 {
            payload[0] &= !0x10;
        }
        payload[d] = if is_key { 0 } else { 1 };
        payload[d + 1..d + 9].copy_from_slice(&stamp.to_be_bytes());
        payload[d + 9..d + 17].copy_from_slice(&now_micros().to_be_bytes());
        payload[d + 17] = self.layer;
        let mut p = Packet::default();
        p.header.version = 2;
        p.header.payload_type = 96;
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p.header.ssrc = self.ssrc;
        p.header.marker = i + 1 == self.per_frame;
        if let Some((tags, rid)) = &self.tags {
            // Browsers name the encoding in every packet until the receiver has learnt it; always
            // doing so costs little and survives a receiver that restarts.
            let _ = p.header.set_extension(tags.mid_id, tags.mid.clone());
            let _ = p.header.set_extension(tags.rid_id, rid.clone());
        }
        p.payload = bytes::Bytes::from(payload);
        p
    }
}

/// The temporal layers of a `L1T3` encoder: frames of layers 0, 2, 1, 2, …, restarting at each
/// keyframe, with a picture ID per frame and TL0PICIDX per base frame. As in the browser's pattern,
/// layer 1 frames, and the layer 2 frame right after each base frame, refer to the base layer only
/// and carry the layer-sync bit; the other layer 2 frame refers to layer 1 as well.
#[derive(Default)]
struct Pattern {
    frame: u64,
    picture_id: u16,
    tl0: u8,
}

impl Pattern {
    /// The next frame's VP8 descriptor: X, S; I (15-bit), L, T; picture ID, TL0PICIDX, TID|Y.
    fn next(&mut self, keyframe: bool) -> Vec<u8> {
        if keyframe {
            self.frame = 0;
        }
        let tid: u8 = [0, 2, 1, 2][(self.frame % 4) as usize];
        if tid == 0 && self.frame > 0 {
            self.tl0 = self.tl0.wrapping_add(1);
        }
        let sync = self.frame % 4 == 1 || self.frame % 4 == 2;
        let d = vec![
            0x90,
            0xE0,
            0x80 | (self.picture_id >> 8) as u8,
            self.picture_id as u8,
            self.tl0,
            tid << 6 | if sync { 0x20 } else { 0 },
        ];
        self.frame += 1;
        self.picture_id = (self.picture_id + 1) & 0x7FFF;
        d
    }
}

/// The publisher's audio: an 80-byte packet every 20 ms, stamped like the video.
async fn send_audio(audio: Arc<TrackLocalStaticRTP>, sent: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let (mut seq, mut ts) = (0u16, 0u32);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let mut payload = vec![0u8; 80];
        payload[0..8].copy_from_slice(&(seq as u64).to_be_bytes());
        payload[8..16].copy_from_slice(&now_micros().to_be_bytes());
        let mut p = Packet::default();
        p.header.version = 2;
        p.header.payload_type = 111;
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p.header.ssrc = AUDIO_SSRC;
        p.payload = bytes::Bytes::from(payload);
        if audio.write_rtp(p).await.is_ok() {
            sent.fetch_add(1, Ordering::Relaxed);
        }
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(960);
    }
}

/// What a viewer received.
#[derive(Debug, Default)]
pub struct ViewerStats {
    pub video_packets: AtomicU64,
    pub audio_packets: AtomicU64,
    pub keyframes: AtomicU64,
    /// Microseconds from answering to the first keyframe packet (0 until then).
    pub first_keyframe_us: AtomicU64,
    /// Forwarding latencies in µs, sampled.
    pub latencies: std::sync::Mutex<Vec<u32>>,
    /// The video's stamps, for loss (see `Runs`).
    pub video_stamps: std::sync::Mutex<Runs>,
    /// Video packets per simulcast layer (a single encoding counts as the top, 2).
    pub layer_packets: [AtomicU64; 3],
    /// Changes from one layer to another, and of those the ones that began with a keyframe.
    pub switches: AtomicU64,
    pub switches_at_keyframe: AtomicU64,
    /// Packets whose stamp could not be read (corruption).
    pub malformed: AtomicU64,
}

/// The shared screen as a viewer's decoder sees it: frames per temporal layer, and any gap in the
/// sequence numbers or picture IDs (which it would take for loss).
#[derive(Debug, Default)]
pub struct ScreenStats {
    pub packets: AtomicU64,
    pub frames: AtomicU64,
    pub frames_by_layer: [AtomicU64; 3],
    pub keyframes: AtomicU64,
    pub sequence_gaps: AtomicU64,
    pub picture_id_gaps: AtomicU64,
    /// The last packet's sequence number and picture ID.
    last: std::sync::Mutex<Option<(u16, u16)>>,
}

impl ScreenStats {
    fn add(&self, p: &Packet) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        let Some(t) = mediafile::vp8::temporal(&p.payload) else {
            return;
        };
        let (Some((pid, _, _)), Some((tid, _))) = (t.picture_id, t.tid) else {
            return;
        };
        let seq = p.header.sequence_number;
        let Ok(mut last) = self.last.lock() else { return };
        let new_frame = last.is_none_or(|(_, l)| l != pid);
        if let Some((s, l)) = *last {
            if seq != s.wrapping_add(1) {
                self.sequence_gaps.fetch_add(1, Ordering::Relaxed);
            }
            if new_frame && pid != (l + 1) & 0x7FFF {
                self.picture_id_gaps.fetch_add(1, Ordering::Relaxed);
            }
        }
        *last = Some((seq, pid));
        if new_frame {
            self.frames.fetch_add(1, Ordering::Relaxed);
            self.frames_by_layer[usize::from(tid.min(2))].fetch_add(1, Ordering::Relaxed);
            if mediafile::vp8::payload(&p.payload).is_some_and(|(start, d)| start && d.first() == Some(&0)) {
                self.keyframes.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Video stamps in runs: a run is the packets of one layer between layer changes. Each layer has
/// its own stamps, so a gap counts as loss only inside a run.
#[derive(Debug, Default)]
pub struct Runs {
    /// The current run's layer, lowest and highest stamp and packets received.
    current: Option<(u8, u64, u64, u64)>,
    /// Expected and received packets of the finished runs.
    done: (u64, u64),
}

impl Runs {
    /// Adds a packet; true when it began a run on another layer than the one before.
    fn add(&mut self, layer: u8, stamp: u64) -> bool {
        match &mut self.current {
            Some((l, min, max, n)) if *l == layer => {
                *min = (*min).min(stamp);
                *max = (*max).max(stamp);
                *n += 1;
                false
            }
            other => {
                let switched = other.is_some();
                if let Some((_, min, max, n)) = other.take() {
                    self.done.0 += max - min + 1;
                    self.done.1 += n;
                }
                *other = Some((layer, stamp, stamp, 1));
                switched
            }
        }
    }

    /// (expected, received) video packets.
    fn totals(&self) -> (u64, u64) {
        let (e, r) = self.done;
        match self.current {
            Some((_, min, max, n)) => (e + max - min + 1, r + n),
            None => (e, r),
        }
    }
}

impl ViewerStats {
    /// (expected, received) video packets: within each run of one layer, from its first to its
    /// last stamp.
    pub fn video_expected_received(&self) -> (u64, u64) {
        self.video_stamps.lock().map(|g| g.totals()).unwrap_or_default()
    }

    /// The layer of the last video packet (None before the first).
    pub fn layer(&self) -> Option<u8> {
        self.video_stamps.lock().ok()?.current.map(|c| c.0)
    }
}

/// A synthetic viewer.
pub struct Viewer {
    pc: Arc<dyn PeerConnection>,
    /// The camera and the sound.
    pub stats: Arc<ViewerStats>,
    pub screen: Arc<ScreenStats>,
    /// Percent of her video lost on her link (see `answer_lossy`).
    loss: Arc<AtomicU64>,
}

impl Viewer {
    pub async fn answer(offer: String, bind: IpAddr) -> Result<(Viewer, String), BoxError> {
        Viewer::open(offer, bind, false).await
    }

    /// A viewer on a link whose video loss `set_video_loss` sets (none at first).
    pub async fn answer_lossy(offer: String, bind: IpAddr) -> Result<(Viewer, String), BoxError> {
        Viewer::open(offer, bind, true).await
    }

    /// Loses `tenths` of every ten camera packets from now on (a lossy viewer only).
    pub fn set_video_loss(&self, tenths: u64) {
        self.set_layer_loss(tenths, 0);
    }

    /// Loses `tenths` of every ten packets of the camera's layers from `from_layer` up (0 lowest):
    /// a link that carries the layers below and not those.
    pub fn set_layer_loss(&self, tenths: u64, from_layer: u8) {
        self.set_layer_loss_percent(tenths.min(10) * 10, from_layer);
    }

    /// As `set_layer_loss`, in percent.
    pub fn set_layer_loss_percent(&self, percent: u64, from_layer: u8) {
        self.loss
            .store(percent.min(100) | u64::from(from_layer) << 8, Ordering::Relaxed);
    }

    async fn open(offer: String, bind: IpAddr, lossy: bool) -> Result<(Viewer, String), BoxError> {
        let loss = Arc::new(AtomicU64::new(0));
        let (pc, mut events) = peer(bind, false, lossy.then(|| loss.clone())).await?;
        let stats = Arc::new(ViewerStats::default());
        let screen = Arc::new(ScreenStats::default());
        let mut early = Vec::new();
        let sdp = answer(&pc, &mut events, &mut early, offer).await?;
        let started = Instant::now();
        let (st, sc) = (stats.clone(), screen.clone());
        tokio::spawn(async move {
            let mut pending: VecDeque<Ev> = early.into();
            loop {
                let ev = match pending.pop_front() {
                    Some(e) => e,
                    None => match events.recv().await {
                        Some(e) => e,
                        None => break,
                    },
                };
                if let Ev::Track(track) = ev {
                    tokio::spawn(count(track, st.clone(), sc.clone(), started));
                }
            }
        });
        Ok((
            Viewer {
                pc,
                stats,
                screen,
                loss,
            },
            sdp,
        ))
    }

    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}

/// The SFU's track for the shared screen (its viewer tracks are named by slot).
const SCREEN_TRACK: &str = "slot-1";

async fn count(track: Arc<dyn TrackRemote>, st: Arc<ViewerStats>, screen: Arc<ScreenStats>, started: Instant) {
    let video = track.kind().await == RtpCodecKind::Video;
    let is_screen = video && track.track_id().await == SCREEN_TRACK;
    let mut n = 0u64;
    while let Some(ev) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(p) = ev else { continue };
        if is_screen {
            screen.add(&p);
            continue;
        }
        // Video: past the VP8 descriptor to the stamps, `[key? 0 : 1][seq][sent][layer]`.
        let (start, b) = if video {
            mediafile::vp8::payload(&p.payload).unwrap_or((false, &[]))
        } else {
            (false, &p.payload[..])
        };
        let (stamp, sent) = if video && b.len() >= 18 {
            (
                u64::from_be_bytes(b[1..9].try_into().unwrap_or_default()),
                u64::from_be_bytes(b[9..17].try_into().unwrap_or_default()),
            )
        } else if !video && b.len() >= 16 {
            (
                u64::from_be_bytes(b[0..8].try_into().unwrap_or_default()),
                u64::from_be_bytes(b[8..16].try_into().unwrap_or_default()),
            )
        } else {
            st.malformed.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        n += 1;
        if n.is_multiple_of(10)
            && let Ok(mut l) = st.latencies.lock()
        {
            l.push(now_micros().saturating_sub(sent).min(u32::MAX as u64) as u32);
        }
        if video {
            st.video_packets.fetch_add(1, Ordering::Relaxed);
            let layer = b[17].min(2);
            st.layer_packets[layer as usize].fetch_add(1, Ordering::Relaxed);
            let switched = st.video_stamps.lock().map(|mut g| g.add(layer, stamp)).unwrap_or(false);
            let starts_keyframe = start && b[0] == 0;
            if switched {
                st.switches.fetch_add(1, Ordering::Relaxed);
                if starts_keyframe {
                    st.switches_at_keyframe.fetch_add(1, Ordering::Relaxed);
                }
            }
            if b[0] == 0 {
                st.keyframes.fetch_add(1, Ordering::Relaxed);
                let _ = st.first_keyframe_us.compare_exchange(
                    0,
                    started.elapsed().as_micros().max(1) as u64,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        } else {
            st.audio_packets.fetch_add(1, Ordering::Relaxed);
        }
    }
}
