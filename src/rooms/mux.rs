//! The viewers' media loop: many viewer connections (ICE, DTLS, SRTP and the interceptors, all of
//! them webrtc-rs's sans-IO core `rtc`) on one UDP socket, driven by one task.
//!
//! Why: webrtc-rs's async layer gives every connection a socket and a driver task of its own, so each
//! packet to each viewer crossed a channel, woke that connection's task and ran a full pass of its
//! loop (two async locks on the core, a new timer, a select over its sockets) before one `sendto`.
//! Profiled at 250 viewers on one core, that layer and the runtime under it took about a fifth of the
//! core (BENCHMARKS.md). Here the forwarders' packets arrive on one channel and are taken in batches;
//! the core encrypts them and hands back datagrams, sent from the one socket. Publishers (one or two
//! per room) keep webrtc-rs's own connections.
//!
//! Demultiplexing: a datagram from an address a connection owns goes to it. A STUN request from an
//! address nobody owns goes to the connection whose ICE username fragment it names; that connection
//! owns the address once it has answered the request with a success (the core answers only a request
//! signed with its ICE password, which only her page received): the address is confirmed. A connection
//! also owns, tentatively, an address nobody owns that it sends its own connectivity checks to (the
//! answers come back from there); a tentative address goes to whoever proves it. A confirmed address
//! its owner was heard from within `STALE` is never taken from it, and a connection owns at most
//! `ADDRS` addresses (tentative ones go first). Anything else is dropped.
//!
//! Bounded like the rest of the viewer path: the packet channel holds `PACKETS` packets; a forwarder
//! whose packet does not fit waits (and, behind, lags and resyncs at a keyframe like any slow
//! viewer). Control messages (open, answer, close) travel apart, so a full packet channel never
//! delays a close.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtc::peer_connection::RTCPeerConnection;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate, RTCIceCandidateInit};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

type Packet = rtc::rtp::packet::Packet;

/// Packets the loop's channel holds (all viewers' forwarders together): about a tenth of a second of
/// 300 viewers' video and sound.
const PACKETS: usize = 8192;
/// At most this many packets or datagrams are taken in one pass before the loop sends what they
/// produced and looks at its other inputs.
const BATCH: usize = 256;
/// With no connection asking for a time, the loop still looks at the clock this often.
const IDLE: Duration = Duration::from_secs(1);
/// How long an address stays its connection's after she was last heard from it (ICE fails after 6 s
/// of silence): a spoofed request can not take a live viewer's address.
const STALE: Duration = Duration::from_secs(8);
/// The most addresses a connection owns: more than the candidates of her answer it checks (`CANDIDATES`),
/// so the one she answers from is not pushed out by them.
const ADDRS: usize = 24;
/// Datagrams larger than this are not sent in a GSO run (a segment over the path's MTU fails the run).
const GSO_SEGMENT: usize = 1400;
/// A GSO send's most bytes (an IP packet's limit, with room for the headers).
const GSO_BYTES: usize = 60_000;

/// Asked of the kernel for each loop socket's send and receive buffers (it grants at most
/// `net.core.wmem_max` / `rmem_max`). One socket carries what hundreds did: a video frame to 300
/// viewers is about 1,800 datagrams, 2 MB, which Linux's default 208 KiB could not hold, so the loop
/// would wait on the socket in the middle of every frame.
const SOCKET_BUFFER: usize = 8 << 20;

/// What the loop tells a connection's owner, from inside the loop: keep it short (no waiting).
pub(crate) trait Owner: Send {
    fn state(&mut self, state: RTCPeerConnectionState);
    /// RTCP her browser sent about the track of `track` (its index in `Adopt::senders`).
    fn rtcp(&mut self, track: usize, packets: Vec<Box<dyn rtc::rtcp::Packet>>);
}

/// A viewer connection, built and offered by the caller, handed to the loop.
pub(crate) struct Adopt {
    pub pc: RTCPeerConnection,
    /// Her tracks' senders; a packet names its track by index.
    pub senders: Vec<RTCRtpSenderId>,
    /// The track ids of those senders, in the same order (RTCP names its track by id).
    pub track_ids: Vec<String>,
    /// The ICE username fragment of the offer.
    pub ufrag: String,
    pub owner: Box<dyn Owner>,
}

enum Control {
    Adopt(u64, Box<Adopt>),
    Answer(u64, Box<RTCSessionDescription>, oneshot::Sender<Result<(), String>>),
    Close(u64),
}

struct Rtp {
    conn: u64,
    track: u8,
    packet: Packet,
}

/// One loop: its socket's address and the way in.
pub(crate) struct Mux {
    local: SocketAddr,
    control: mpsc::UnboundedSender<Control>,
    packets: mpsc::Sender<Rtp>,
    next: std::sync::atomic::AtomicU64,
}

impl Mux {
    /// Binds the socket and starts the loop on the current runtime.
    pub(crate) async fn start(bind: SocketAddr) -> std::io::Result<Mux> {
        let socket = UdpSocket::bind(bind).await?;
        let local = socket.local_addr()?;
        let state = quinn_udp::UdpSocketState::new((&socket).into())?;
        // Too small a buffer costs latency, not function: a refusal is not an error.
        let _ = state.set_send_buffer_size((&socket).into(), SOCKET_BUFFER);
        let _ = state.set_recv_buffer_size((&socket).into(), SOCKET_BUFFER);
        let (control, control_rx) = mpsc::unbounded_channel();
        let (packets, packets_rx) = mpsc::channel(PACKETS);
        let out = Out {
            socket,
            state,
            run: Vec::new(),
            received: vec![0; u16::MAX as usize],
        };
        tokio::spawn(run(out, local, control_rx, packets_rx));
        Ok(Mux {
            local,
            control,
            packets,
            next: std::sync::atomic::AtomicU64::new(1),
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether the loop still runs (a panic in it would have ended it).
    pub(crate) fn alive(&self) -> bool {
        !self.control.is_closed()
    }

    /// The host candidate of this loop's socket, announced in every offer it serves.
    pub(crate) fn add_candidates(&self, pc: &mut RTCPeerConnection) -> Result<(), String> {
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: self.local.ip().to_string(),
                port: self.local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .map_err(|e| e.to_string())?;
        let init = RTCIceCandidate::from(&candidate).to_json().map_err(|e| e.to_string())?;
        pc.add_local_candidate(init).map_err(|e| e.to_string())?;
        // The end of gathering: the description now lists the candidate.
        pc.add_local_candidate(RTCIceCandidateInit::default())
            .map_err(|e| e.to_string())
    }

    /// Hands a connection to the loop; the handle closes it when dropped.
    pub(crate) fn adopt(&self, adopt: Adopt) -> Handle {
        let conn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.control.send(Control::Adopt(conn, Box::new(adopt)));
        Handle {
            conn,
            control: self.control.clone(),
        }
    }

    /// Where a forwarder writes one track's packets.
    pub(crate) fn writer(&self, handle: &Handle, track: usize) -> Writer {
        Writer {
            conn: handle.conn,
            track: track as u8,
            packets: self.packets.clone(),
        }
    }
}

/// A connection in the loop. Dropping it closes the connection.
pub(crate) struct Handle {
    conn: u64,
    control: mpsc::UnboundedSender<Control>,
}

impl Handle {
    /// Applies her browser's answer. It is read here, not in the loop every viewer's media waits on,
    /// and keeps at most `CANDIDATES` of its candidates (the loop checks each one it is given; her own
    /// checks find her anyway).
    pub(crate) fn answer(&self, sdp: String) -> impl std::future::Future<Output = Result<(), String>> + Send + 'static {
        let (tx, rx) = oneshot::channel();
        let parsed = RTCSessionDescription::answer(few_candidates(&sdp)).map_err(|e| e.to_string());
        let sent = parsed.map(|d| self.control.send(Control::Answer(self.conn, Box::new(d), tx)));
        async move {
            sent?.map_err(|_| "media loop stopped".to_string())?;
            rx.await.map_err(|_| "connection closed".to_string())?
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Close(self.conn));
    }
}

/// One track of one connection, as its forwarder writes to it.
#[derive(Clone)]
pub(crate) struct Writer {
    conn: u64,
    track: u8,
    packets: mpsc::Sender<Rtp>,
}

impl Writer {
    /// Queues a packet, waiting at most `wait` while the loop is full (no timer unless it is). False
    /// when it was not queued.
    pub(crate) async fn write(&self, packet: Packet, wait: Duration) -> bool {
        let rtp = Rtp {
            conn: self.conn,
            track: self.track,
            packet,
        };
        match self.packets.try_send(rtp) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(rtp)) => {
                matches!(tokio::time::timeout(wait, self.packets.send(rtp)).await, Ok(Ok(())))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

struct Conn {
    pc: RTCPeerConnection,
    senders: Vec<RTCRtpSenderId>,
    track_ids: Vec<String>,
    ufrag: String,
    owner: Box<dyn Owner>,
    /// Addresses it owns (see the module's comment), oldest first.
    addrs: Vec<SocketAddr>,
    /// Whether it was given a packet to send yet (the first starts the sender reports' timer).
    sent_any: bool,
    /// Its next deadline, as last asked (`poll_timeout`).
    deadline: Option<Instant>,
}

/// A connection leaving the loop tells its owner it failed. After a close nobody listens any more; if
/// the loop itself ended (a panic in it: its state is dropped as the task unwinds), each of its
/// viewers' rooms hears so and gives her a new leg, instead of her waiting on a dead one.
impl Drop for Conn {
    fn drop(&mut self) {
        self.owner.state(RTCPeerConnectionState::Failed);
    }
}

/// The loop's state: connections and who owns which address.
struct Loop {
    local: SocketAddr,
    conns: HashMap<u64, Conn, BuildHasherDefault<Numbered>>,
    /// Who owns an address, and when she was last heard from it (None: tentative, not heard yet).
    by_addr: HashMap<SocketAddr, (u64, Option<Instant>)>,
    by_ufrag: HashMap<String, u64>,
    /// Deadlines; an entry no longer matching its connection's `deadline` is stale and skipped.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Connections that read a datagram, a timeout or a control message: datagrams, events, RTCP
    /// and a new deadline may be waiting.
    dirty: Vec<u64>,
    /// Connections that were only given packets to send: only datagrams are waiting (after its first
    /// packet, sending changes no state, timer or event of a connection).
    sending: Vec<u64>,
    out: Vec<(SocketAddr, BytesMut)>,
}

async fn run(
    mut out: Out,
    local: SocketAddr,
    mut control: mpsc::UnboundedReceiver<Control>,
    mut packets: mpsc::Receiver<Rtp>,
) {
    let mut l = Loop::new(local);
    let mut armed = Instant::now() + IDLE;
    let timer = tokio::time::sleep_until(armed.into());
    tokio::pin!(timer);
    loop {
        let wake = l.next_deadline().unwrap_or_else(|| Instant::now() + IDLE);
        if wake != armed {
            armed = wake;
            timer.as_mut().reset(wake.into());
        }
        tokio::select! {
            c = control.recv() => match c {
                Some(c) => l.control(c),
                None => return,
            },
            p = packets.recv() => match p {
                Some(p) => l.rtp(p, Instant::now()),
                None => return,
            },
            _ = out.socket.readable() => {}
            _ = &mut timer => {}
        }
        // Let the other forwarders that are ready run first: a packet goes to hundreds of viewers at
        // once, and taken together their packets cost one pass of this loop instead of one each.
        tokio::task::yield_now().await;
        // Whatever woke the loop, everything else that is ready is taken too, so a stream of packets
        // never keeps her browser's checks and reports, or a connection's timers, waiting.
        while let Ok(c) = control.try_recv() {
            l.control(c);
        }
        let now = Instant::now();
        for _ in 0..BATCH {
            match packets.try_recv() {
                Ok(p) => l.rtp(p, now),
                Err(_) => break,
            }
        }
        out.receive(&mut l);
        l.timeouts(Instant::now());
        l.flush();
        out.send(&mut l.out).await;
    }
}

/// The loop's socket, and what it takes to send from it.
struct Out {
    socket: UdpSocket,
    state: quinn_udp::UdpSocketState,
    /// A run of datagrams to one viewer, end to end (see `send`).
    run: Vec<u8>,
    /// Where datagrams are received: several from one sender may come as one (UDP GRO, which quinn-udp
    /// turns on), split by their size.
    received: Vec<u8>,
}

impl Out {
    /// Takes what has arrived (at most `BATCH` reads) to the connections.
    fn receive(&mut self, l: &mut Loop) {
        let Out {
            socket,
            state,
            received,
            ..
        } = self;
        for _ in 0..BATCH {
            let mut meta = [quinn_udp::RecvMeta::default()];
            let got = socket.try_io(tokio::io::Interest::READABLE, || {
                state.recv((&*socket).into(), &mut [std::io::IoSliceMut::new(received)], &mut meta)
            });
            if !matches!(got, Ok(n) if n > 0) {
                break;
            }
            let now = Instant::now();
            let m = meta[0];
            for datagram in received[..m.len].chunks(m.stride.max(1)) {
                l.datagram(datagram, m.addr, now);
            }
        }
    }

    /// Sends a run of datagrams to `to` (one, or several of `size` bytes but the last): false when the
    /// kernel refused it. Waits while the socket's buffer is full.
    async fn transmit(&mut self, to: SocketAddr, run: &[(SocketAddr, BytesMut)], size: usize) -> bool {
        let contents: &[u8] = if run.len() == 1 {
            &run[0].1
        } else {
            self.run.clear();
            for (_, d) in run {
                self.run.extend_from_slice(d);
            }
            &self.run
        };
        let transmit = quinn_udp::Transmit {
            destination: to,
            ecn: None,
            contents,
            segment_size: (run.len() > 1).then_some(size),
            src_ip: None,
        };
        loop {
            let sent = self.socket.try_io(tokio::io::Interest::WRITABLE, || {
                self.state.try_send((&self.socket).into(), &transmit)
            });
            match sent {
                Ok(()) => return true,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if self.socket.writable().await.is_err() {
                        return false;
                    }
                }
                // No route, no buffer, or a run the kernel would not segment: the caller decides.
                Err(_) => return false,
            }
        }
    }

    /// Sends what the connections produced, waiting for the socket only when its buffer is full. A
    /// run of datagrams to the same viewer (a video frame's packets; the loop drains each connection
    /// in turn) goes in one system call and one pass through the network stack (UDP GSO), where
    /// the kernel supports it; all but the run's last datagram must be of one size.
    async fn send(&mut self, out: &mut Vec<(SocketAddr, BytesMut)>) {
        let most = self.state.max_gso_segments().max(1);
        let mut i = 0;
        while i < out.len() {
            let (to, size) = (out[i].0, out[i].1.len());
            let mut j = i + 1;
            let mut bytes = size;
            while j < out.len()
                && j - i < most
                && out[j].0 == to
                && out[j - 1].1.len() == size
                && out[j].1.len() <= size
                && size <= GSO_SEGMENT
                && bytes + size <= GSO_BYTES
            {
                bytes += out[j].1.len();
                j += 1;
            }
            let run = &out[i..j];
            if !self.transmit(to, run, size).await && run.len() > 1 {
                // The kernel refused the run (a driver without GSO: quinn-udp then stops asking for
                // it): they go one by one, none is lost.
                for k in 0..run.len() {
                    self.transmit(to, &run[k..=k], run[k].1.len()).await;
                }
            }
            i = j;
        }
        out.clear();
    }
}

impl Loop {
    /// A loop answering on `local`, with no connections yet.
    fn new(local: SocketAddr) -> Loop {
        Loop {
            local,
            conns: HashMap::default(),
            by_addr: HashMap::new(),
            by_ufrag: HashMap::new(),
            timers: BinaryHeap::new(),
            dirty: Vec::new(),
            sending: Vec::new(),
            out: Vec::new(),
        }
    }

    fn control(&mut self, c: Control) {
        match c {
            Control::Adopt(id, a) => {
                let Adopt {
                    mut pc,
                    senders,
                    track_ids,
                    ufrag,
                    owner,
                } = *a;
                let deadline = pc.poll_timeout();
                self.by_ufrag.insert(ufrag.clone(), id);
                self.conns.insert(
                    id,
                    Conn {
                        pc,
                        senders,
                        track_ids,
                        ufrag,
                        owner,
                        addrs: Vec::new(),
                        sent_any: false,
                        deadline,
                    },
                );
                if let Some(d) = deadline {
                    self.timers.push(Reverse((d, id)));
                }
                self.dirty.push(id);
            }
            Control::Answer(id, answer, reply) => {
                let result = match self.conns.get_mut(&id) {
                    Some(c) => {
                        c.pc.set_remote_description(Instant::now(), *answer)
                            .map_err(|e| e.to_string())
                    }
                    None => Err("connection closed".to_string()),
                };
                let _ = reply.send(result);
                self.dirty.push(id);
            }
            Control::Close(id) => {
                if let Some(mut c) = self.conns.remove(&id) {
                    let _ = c.pc.close();
                    // Its last datagrams (DTLS close_notify) still go out.
                    while let Some(d) = c.pc.poll_write() {
                        self.out.push((d.transport.peer_addr, d.message));
                    }
                    for a in &c.addrs {
                        if self.by_addr.get(a).is_some_and(|(owner, _)| *owner == id) {
                            self.by_addr.remove(a);
                        }
                    }
                    if self.by_ufrag.get(&c.ufrag) == Some(&id) {
                        self.by_ufrag.remove(&c.ufrag);
                    }
                }
            }
        }
    }

    fn rtp(&mut self, p: Rtp, now: Instant) {
        let Some(c) = self.conns.get_mut(&p.conn) else { return };
        let Some(sender) = c.senders.get(usize::from(p.track)).copied() else {
            return;
        };
        if let Some(mut s) = c.pc.rtp_sender(sender) {
            // An error here is a packet the core refused (not yet connected, a closed leg): dropped.
            let _ = s.write_rtp(now, p.packet);
        }
        if c.sent_any {
            self.sending.push(p.conn);
        } else {
            // Its first packet starts the sender reports' timer: its deadline is read again.
            c.sent_any = true;
            self.dirty.push(p.conn);
        }
    }

    fn datagram(&mut self, data: &[u8], from: SocketAddr, now: Instant) {
        // A STUN request may name another connection than the address's owner: a viewer whose NAT gave
        // her the port of one that has been silent since. It goes to the one named, which owns the
        // address once it answers (see `flush`).
        let named = stun_username(data)
            .and_then(|u| u.split(':').next())
            .and_then(|ufrag| self.by_ufrag.get(ufrag))
            .copied();
        let owner = self.by_addr.get_mut(&from);
        let id = match (named, owner) {
            (Some(named), Some((id, heard))) if named != *id => {
                if heard.is_some_and(|h| now.duration_since(h) < STALE) {
                    return; // a live viewer's address: not to be taken
                }
                named
            }
            (_, Some((id, heard))) => {
                // Only a confirmed owner counts as heard: what comes to a tentative one may be another
                // viewer's answers to her own checks, which must not keep her out.
                if heard.is_some() {
                    *heard = Some(now);
                }
                *id
            }
            (Some(named), None) => named,
            (None, None) => return,
        };
        let Some(c) = self.conns.get_mut(&id) else { return };
        let msg = TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(data),
        };
        // A datagram the core cannot use (a stray, a late one for a closed association, a request
        // with the wrong signature) changes nothing.
        let _ = c.pc.handle_read(msg);
        self.dirty.push(id);
    }

    /// A connection sent a STUN message to an address it does not own: a success answering a signed
    /// request from there (`answered`), or its own check. See the module's comment.
    fn claim(&mut self, id: u64, to: SocketAddr, answered: bool, now: Instant) {
        let take = match self.by_addr.get(&to) {
            None => true,
            // Confirmed (again), never made tentative by a check sent in the same breath.
            Some((owner, _)) if *owner == id => answered,
            Some((_, heard)) => answered && heard.is_none_or(|h| now.duration_since(h) >= STALE),
        };
        if take {
            self.own(to, id, answered.then_some(now));
        }
    }

    /// `addr` is `id`'s from now on, confirmed when `heard`. A connection owns at most `ADDRS`: past
    /// that, a tentative address goes first (the oldest), else the one heard from longest ago.
    fn own(&mut self, addr: SocketAddr, id: u64, heard: Option<Instant>) {
        if let Some((old, _)) = self.by_addr.insert(addr, (id, heard))
            && old != id
            && let Some(c) = self.conns.get_mut(&old)
        {
            c.addrs.retain(|a| *a != addr);
        }
        let Some(c) = self.conns.get_mut(&id) else { return };
        if c.addrs.contains(&addr) {
            return;
        }
        c.addrs.push(addr);
        if c.addrs.len() > ADDRS {
            let by_addr = &self.by_addr;
            let oldest = (0..c.addrs.len())
                .min_by_key(|k| by_addr.get(&c.addrs[*k]).and_then(|(_, heard)| *heard))
                .unwrap_or(0);
            let gone = c.addrs.remove(oldest);
            if self.by_addr.get(&gone).is_some_and(|(owner, _)| *owner == id) {
                self.by_addr.remove(&gone);
            }
        }
    }

    fn timeouts(&mut self, now: Instant) {
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.conns.get_mut(&id) else { continue };
            if c.deadline != Some(at) {
                continue; // stale
            }
            c.deadline = None;
            let _ = c.pc.handle_timeout(now);
            self.dirty.push(id);
        }
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            match self.conns.get(&id) {
                Some(c) if c.deadline == Some(at) => return Some(at),
                _ => {
                    self.timers.pop();
                }
            }
        }
        None
    }

    /// Takes what the connections touched in this pass produced: datagrams to send, state changes
    /// and RTCP for their owners, their next deadlines.
    fn flush(&mut self) {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        // A deadline already past after its timeout was handled would have the loop spin on it: it
        // is handled again a millisecond later at the soonest (as webrtc-rs's own driver does).
        let now = Instant::now();
        let soonest = now + Duration::from_millis(1);
        for id in dirty.drain(..) {
            let Some(c) = self.conns.get_mut(&id) else { continue };
            while let Some(ev) = c.pc.poll_event() {
                if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) = ev {
                    c.owner.state(state);
                }
            }
            while let Some(TaggedRTCMessage { message, .. }) = c.pc.poll_read() {
                if let RTCMessage::RtcpPacket(track_id, packets) = message
                    && let Some(track) = c.track_ids.iter().position(|t| *t == track_id)
                {
                    c.owner.rtcp(track, packets);
                }
            }
            // Last: taking events and reads can queue datagrams (the DTLS handshake once ICE is up).
            let mut claims = Vec::new();
            while let Some(d) = c.pc.poll_write() {
                let to = d.transport.peer_addr;
                if !c.addrs.contains(&to) {
                    match stun_class(&d.message) {
                        Some(StunClass::Success) => claims.push((to, true)),
                        Some(StunClass::Request) => claims.push((to, false)),
                        _ => {}
                    }
                }
                self.out.push((to, d.message));
            }
            let deadline = c.pc.poll_timeout().map(|d| d.max(soonest));
            if deadline != c.deadline {
                c.deadline = deadline;
                if let Some(d) = deadline {
                    self.timers.push(Reverse((d, id)));
                }
            }
            for (to, answered) in claims {
                self.claim(id, to, answered, now);
            }
        }
        self.dirty = dirty;
        // After the others: a connection in both has had its datagrams taken above, with its claims.
        let mut sending = std::mem::take(&mut self.sending);
        sending.sort_unstable();
        sending.dedup();
        for id in sending.drain(..) {
            let Some(c) = self.conns.get_mut(&id) else { continue };
            while let Some(d) = c.pc.poll_write() {
                self.out.push((d.transport.peer_addr, d.message));
            }
        }
        self.sending = sending;
    }
}

/// Hashes the loop's own connection numbers, looked up for every packet of every viewer: they are
/// handed out in sequence, not chosen by anyone, so a multiply spreads them well enough (the default
/// hasher's resistance to chosen keys would cost a few percent of the loop for nothing).
#[derive(Default)]
struct Numbered(u64);

impl Hasher for Numbered {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Whether a datagram is STUN (RFC 7983: first byte 0–3, and the magic cookie).
fn is_stun(d: &[u8]) -> bool {
    d.len() >= 20 && d[0] < 4 && d[4..8] == [0x21, 0x12, 0xa4, 0x42]
}

enum StunClass {
    Request,
    Success,
    Other,
}

/// A STUN message's class (RFC 5389: two bits of the type, apart).
fn stun_class(d: &[u8]) -> Option<StunClass> {
    if !is_stun(d) {
        return None;
    }
    let kind = u16::from_be_bytes([d[0], d[1]]);
    Some(match (kind >> 7) & 0b10 | (kind >> 4) & 0b01 {
        0b00 => StunClass::Request,
        0b10 => StunClass::Success,
        _ => StunClass::Other,
    })
}

/// The USERNAME of a STUN message (ICE: "receiver's fragment:sender's fragment").
fn stun_username(d: &[u8]) -> Option<&str> {
    if !is_stun(d) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([d[2], d[3]]));
    let body = d.get(20..20 + len)?;
    let mut at = 0;
    while at + 4 <= body.len() {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let size = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        let value = body.get(at + 4..at + 4 + size)?;
        if kind == 0x0006 {
            return std::str::from_utf8(value).ok();
        }
        at += 4 + size.div_ceil(4) * 4;
    }
    None
}

/// The most candidates of her answer the loop is given.
const CANDIDATES: usize = 16;

/// A description with at most `CANDIDATES` candidate lines.
fn few_candidates(sdp: &str) -> String {
    let mut kept = 0;
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("a=candidate:") {
            kept += 1;
            if kept > CANDIDATES {
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// The ICE username fragment of a description.
pub(crate) fn ufrag(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=ice-ufrag:"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A STUN binding request carrying USERNAME (and a later attribute, as browsers send).
    fn binding_request(username: &str) -> Vec<u8> {
        let mut attrs = Vec::new();
        attrs.extend_from_slice(&0x0006u16.to_be_bytes());
        attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attrs.extend_from_slice(username.as_bytes());
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        attrs.extend_from_slice(&0x0024u16.to_be_bytes()); // PRIORITY
        attrs.extend_from_slice(&4u16.to_be_bytes());
        attrs.extend_from_slice(&[1, 2, 3, 4]);
        let mut m = vec![0x00, 0x01];
        m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        m.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
        m.extend_from_slice(&[7; 12]);
        m.extend_from_slice(&attrs);
        m
    }

    #[test]
    fn a_binding_request_names_its_connection_by_the_username() {
        let m = binding_request("srvA:brw");
        assert!(is_stun(&m));
        assert_eq!(stun_username(&m), Some("srvA:brw"));
        // Padding: a name not a multiple of four long, the next attribute still found after it.
        assert_eq!(stun_username(&binding_request("abcde:f")), Some("abcde:f"));
    }

    #[test]
    fn media_and_broken_messages_name_nobody() {
        // RTP (first byte 0x80), DTLS (22), a STUN header whose length runs past the datagram.
        let mut rtp = binding_request("a:b");
        rtp[0] = 0x80;
        assert_eq!(stun_username(&rtp), None);
        let mut dtls = binding_request("a:b");
        dtls[0] = 22;
        assert_eq!(stun_username(&dtls), None);
        let mut cut = binding_request("a:b");
        cut.truncate(26);
        assert_eq!(stun_username(&cut), None);
        let mut no_cookie = binding_request("a:b");
        no_cookie[4] = 0;
        assert!(!is_stun(&no_cookie));
        // An attribute claiming more than is there.
        let mut long = binding_request("a:b");
        long[22] = 0x7f;
        assert_eq!(stun_username(&long), None);
    }

    #[test]
    fn an_answer_keeps_its_first_candidates_and_everything_else() {
        let mut sdp = String::from("v=0\r\na=ice-ufrag:b\r\n");
        for i in 0..40 {
            sdp.push_str(&format!("a=candidate:{i} 1 udp 1 10.0.0.1 {} typ host\r\n", 1000 + i));
        }
        sdp.push_str("a=end-of-candidates\r\n");
        let kept = few_candidates(&sdp);
        assert_eq!(kept.matches("a=candidate:").count(), CANDIDATES);
        assert!(kept.contains("a=candidate:15 ") && !kept.contains("a=candidate:16 "));
        assert!(kept.starts_with("v=0\r\na=ice-ufrag:b\r\n") && kept.ends_with("a=end-of-candidates\r\n"));
    }

    #[test]
    fn requests_and_answers_are_told_apart() {
        let request = binding_request("a:b");
        assert!(matches!(stun_class(&request), Some(StunClass::Request)));
        let mut success = request.clone();
        success[0..2].copy_from_slice(&0x0101u16.to_be_bytes());
        assert!(matches!(stun_class(&success), Some(StunClass::Success)));
        let mut error = request.clone();
        error[0..2].copy_from_slice(&0x0111u16.to_be_bytes());
        assert!(matches!(stun_class(&error), Some(StunClass::Other)));
        let mut indication = request;
        indication[0..2].copy_from_slice(&0x0011u16.to_be_bytes());
        assert!(matches!(stun_class(&indication), Some(StunClass::Other)));
        assert!(stun_class(&[0x80; 40]).is_none());
    }

    struct Nobody;

    impl Owner for Nobody {
        fn state(&mut self, _: RTCPeerConnectionState) {}
        fn rtcp(&mut self, _: usize, _: Vec<Box<dyn rtc::rtcp::Packet>>) {}
    }

    /// A loop without a socket, with connections 1 and 2 (ufrags "one", "two").
    fn two_viewers() -> Loop {
        let mut l = Loop::new("127.0.0.1:5000".parse().unwrap());
        for (id, ufrag) in [(1, "one"), (2, "two")] {
            let pc = rtc::peer_connection::RTCPeerConnectionBuilder::new()
                .build(Instant::now())
                .unwrap();
            l.by_ufrag.insert(ufrag.to_owned(), id);
            l.conns.insert(
                id,
                Conn {
                    pc,
                    senders: Vec::new(),
                    track_ids: Vec::new(),
                    ufrag: ufrag.to_owned(),
                    owner: Box::new(Nobody),
                    addrs: Vec::new(),
                    sent_any: false,
                    deadline: None,
                },
            );
        }
        l
    }

    fn owner(l: &Loop, a: SocketAddr) -> Option<u64> {
        l.by_addr.get(&a).map(|(id, _)| *id)
    }

    /// Which connection a datagram went to (none: dropped).
    fn routed(l: &mut Loop, d: &[u8], from: SocketAddr, now: Instant) -> Option<u64> {
        l.dirty.clear();
        l.datagram(d, from, now);
        l.dirty.first().copied()
    }

    #[test]
    fn an_address_goes_to_whoever_proves_it_and_stays_with_a_live_owner() {
        let mut l = two_viewers();
        let x: SocketAddr = "10.0.0.9:4000".parse().unwrap();
        let t = Instant::now();
        // Nobody owns it: a request naming two goes to two, which owns it only once it answers.
        assert_eq!(routed(&mut l, &binding_request("two:b"), x, t), Some(2));
        assert_eq!(owner(&l, x), None);
        l.claim(2, x, true, t);
        assert_eq!(owner(&l, x), Some(2));
        // Media from there is hers; a request naming one from her live address is not let through,
        // and one's answer (were it sent) would not take it.
        let rtp = [0x80u8; 40];
        assert_eq!(routed(&mut l, &rtp, x, t + Duration::from_secs(1)), Some(2));
        assert_eq!(
            routed(&mut l, &binding_request("one:b"), x, t + Duration::from_secs(2)),
            None
        );
        l.claim(1, x, true, t + Duration::from_secs(2));
        assert_eq!(owner(&l, x), Some(2));
        // Silent for longer than STALE (her leg is failing): a new viewer behind the same NAT port may
        // have it.
        let later = t + Duration::from_secs(1) + STALE;
        assert_eq!(routed(&mut l, &binding_request("one:b"), x, later), Some(1));
        l.claim(1, x, true, later);
        assert_eq!(owner(&l, x), Some(1));
        assert!(!l.conns[&2].addrs.contains(&x));
    }

    #[test]
    fn a_tentative_address_never_keeps_its_real_viewer_out() {
        let mut l = two_viewers();
        let x: SocketAddr = "10.0.0.9:4000".parse().unwrap();
        let t = Instant::now();
        // One checks x (her answer listed it): tentatively one's. Two's answers to its own checks
        // arrive from x and go to one, without making one's hold on it live.
        l.claim(1, x, false, t);
        assert_eq!(owner(&l, x), Some(1));
        let mut answer = binding_request("x:y");
        answer[0..2].copy_from_slice(&0x0101u16.to_be_bytes());
        assert_eq!(routed(&mut l, &answer, x, t), Some(1));
        // Two's signed request goes through at once, and her answer makes x hers.
        assert_eq!(routed(&mut l, &binding_request("two:b"), x, t), Some(2));
        l.claim(2, x, true, t);
        assert_eq!(owner(&l, x), Some(2));
        // A check sent in the same breath as her answer does not make it tentative again.
        l.claim(2, x, false, t);
        assert!(l.by_addr[&x].1.is_some());
        // Nor does one's own check take it.
        l.claim(1, x, false, t);
        assert_eq!(owner(&l, x), Some(2));
    }

    #[test]
    fn the_checked_candidates_do_not_push_out_the_address_she_uses() {
        let mut l = two_viewers();
        let t = Instant::now();
        let p: SocketAddr = "10.0.0.9:4000".parse().unwrap();
        l.claim(1, p, true, t);
        for port in 0..(ADDRS as u16 + 10) {
            l.claim(1, SocketAddr::from(([10, 0, 1, 1], 5000 + port)), false, t);
        }
        assert_eq!(owner(&l, p), Some(1));
        assert_eq!(l.conns[&1].addrs.len(), ADDRS);
        assert_eq!(l.by_addr.len(), ADDRS);
        // Closing it frees all it owned.
        l.control(Control::Close(1));
        assert!(l.by_addr.is_empty());
        assert!(!l.by_ufrag.contains_key("one"));
    }

    #[test]
    fn the_offer_s_fragment_is_read() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\na=ice-ufrag:XyZ1\r\na=ice-pwd:secret\r\n";
        assert_eq!(ufrag(sdp).as_deref(), Some("XyZ1"));
        assert_eq!(ufrag("v=0\r\n"), None);
    }
}
