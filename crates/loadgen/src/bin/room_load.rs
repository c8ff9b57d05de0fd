//! Load generator for the live room (see BENCHMARKS.md).
//!
//! Seeds a fresh SQLite database (a street, a lecturer, N chairs, a live session), starts the real
//! server binary on it as a child process, then connects one synthetic publisher (VP8 at the given
//! bitrate plus Opus, payloads stamped with a sequence number and send time) and N viewers over
//! 127.0.0.1. Reports delivered and lost packets, forwarding latency percentiles, join-to-first-keyframe
//! time, and the server's CPU and RSS. `--cycles K` instead joins and leaves one viewer K times and
//! reports the server's RSS before and after.
//!
//! Slow viewers (`--slow N`, `--stalled N`): the media of these viewers passes through a UDP relay in
//! this process that reads what the server sends at a fixed packet rate (`--slow-pps`, a fraction of
//! the stream) or stops reading altogether, so the server sees what a phone on a congested network
//! looks like: a receiver that cannot keep up. `--server-cpus 0` pins the server to one core (taskset)
//! so it, too, cannot keep up with everyone. Loss is reported separately for healthy viewers.
//!
//! Sink viewers (`--sinks K`): one core cannot run the WebRTC stacks of hundreds of viewers, so past
//! about a hundred the generator, not the server, sets the loss and latency measured. The last K
//! viewers join like the others but bind to `--sink-ip`, where an iptables rule (added here, removed at
//! the end; root) drops the media the server sends them in the kernel, before any process reads it:
//! STUN, DTLS and RTCP pass, so they stay connected and the server does all its work for them. Loss and
//! latency come from the other, measuring viewers, who share the server with them.
//!
//! `--target janus` measures a Janus (1.1, VideoRoom plugin, HTTP API) with the same synthetic
//! publisher and viewers instead: it creates a room on the running Janus at `--janus-url`, publishes
//! into it and subscribes the viewers, binding them to `--janus-ip` (Janus gathers no loopback
//! candidates), and samples the process `--janus-pid`. scripts/janus-side-by-side runs both.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::janus::{self, Janus};
use loadgen::room::{publish, seed_live_room};
use loadgen::{Error, Server, ServerSpec};
use serde_json::json;
use testkit::room_client::{Signal, Viewer};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

type BoxSendError = Box<dyn std::error::Error + Send + Sync>;

use loadgen::room::LOOPBACK;

#[derive(Parser)]
#[command(about = "Load generator for Quorum's live room")]
struct Args {
    /// Viewers to connect.
    #[arg(long, default_value_t = 50)]
    viewers: usize,
    /// Seconds to measure once everyone is connected.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Publisher video bitrate, kbit/s.
    #[arg(long, default_value_t = 1500)]
    kbps: u32,
    /// Join/leave one viewer this many times instead (memory-growth check).
    #[arg(long)]
    cycles: Option<usize>,
    /// The server binary (default: the `quorum` next to this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Media threads for the server.
    #[arg(long, default_value_t = 2)]
    media_threads: usize,
    /// Of the viewers, this many read their media at `--slow-pps` only.
    #[arg(long, default_value_t = 0)]
    slow: usize,
    /// Packets per second a slow viewer reads (the stream is about 220: 170 video + 50 audio).
    #[arg(long, default_value_t = 60)]
    slow_pps: u32,
    /// Of the viewers, this many stop reading their media once they have joined.
    #[arg(long, default_value_t = 0)]
    stalled: usize,
    /// Pin the server to these CPUs (`taskset -c`), e.g. `0`.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Turn the server's recording off (to measure what recording costs: run with and without).
    #[arg(long)]
    no_recording: bool,
    /// What to measure: `quorum` (started here) or `janus` (already running).
    #[arg(long, default_value = "quorum")]
    target: String,
    /// Janus's HTTP API.
    #[arg(long, default_value = "http://127.0.0.1:8088/janus")]
    janus_url: String,
    /// The address Janus gathers candidates on; the synthetic clients bind to it too.
    #[arg(long, default_value = "10.232.0.1")]
    janus_ip: std::net::IpAddr,
    /// Janus's process, for its CPU and RSS.
    #[arg(long)]
    janus_pid: Option<u32>,
    /// Of the viewers, this many (the last ones) are sinks: connected, their media dropped in the
    /// kernel (see above). Loss and latency are the others'.
    #[arg(long, default_value_t = 0)]
    sinks: usize,
    /// The local address sinks bind to (a second loopback address, or one on Janus's link).
    #[arg(long, default_value = "127.0.0.2")]
    sink_ip: std::net::IpAddr,
    /// The publisher sends three simulcast layers (the top at `--kbps`, the others at a third and a
    /// tenth), as the room page does; each viewer gets the layer its link carries (Quorum only).
    #[arg(long)]
    simulcast: bool,
}

/// Where the viewers join.
enum Target<'a> {
    Quorum {
        ws: &'a str,
        chairs: &'a [String],
    },
    Janus {
        janus: &'a Janus,
        room: u64,
        feed: u64,
        bind: std::net::IpAddr,
    },
}

/// How a viewer reads its media.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pace {
    Healthy,
    /// Reads this many packets per second; the rest overflows the relay's socket buffer.
    Slow(u32),
    /// Stops reading after joining.
    Stalled,
    /// Its media is dropped in the kernel (`--sinks`).
    Sink,
}

/// The rule that drops the media sent to `--sink-ip`: UDP whose first byte says RTP version 2 and
/// whose second is no RTCP packet type (192–223; RTP's payload type with the marker bit never is,
/// RFC 5761). Added by `SinkRule::add`, removed when dropped.
struct SinkRule {
    rule: Vec<String>,
    ip: String,
}

impl SinkRule {
    fn add(ip: std::net::IpAddr) -> Result<SinkRule, Error> {
        let rule: Vec<String> = [
            "INPUT",
            "-d",
            &ip.to_string(),
            "-p",
            "udp",
            "-m",
            "u32",
            "--u32",
            "0>>22&0x3C@8>>24&0xC0=0x80 && 0>>22&0x3C@8>>16&0xFF=0:191,224:255",
            "-j",
            "DROP",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A run killed before it could clean up left its rule behind: one copy is enough.
        while std::process::Command::new("iptables")
            .args(["-w", "-D"])
            .args(&rule)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {}
        let status = std::process::Command::new("iptables")
            .args(["-w", "-I"])
            .args(&rule)
            .status()
            .map_err(|e| format!("--sinks needs iptables (as root): {e}"))?;
        if !status.success() {
            return Err("--sinks: iptables could not add the rule (root, and the u32 match, are needed)".into());
        }
        Ok(SinkRule {
            rule,
            ip: ip.to_string(),
        })
    }

    /// Bytes the rule has dropped so far: what the server sent the sinks. Bytes, not packets: a server
    /// sending with UDP GSO passes a run of datagrams through the network stack, and this rule, as one.
    fn bytes(&self) -> u64 {
        let Ok(out) = std::process::Command::new("iptables")
            .args(["-w", "-L", "INPUT", "-v", "-x", "-n"])
            .output()
        else {
            return 0;
        };
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains("u32") && l.split_whitespace().any(|w| w == self.ip))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0)
    }
}

/// Checks that the sinks were served: the server sends each about 200 kB a second (1.5 Mbit/s of
/// video, 60 kbit/s of sound; with `--simulcast` they stay on the 500 kbit/s layer, about 70 kB). A
/// sink whose connection failed costs the server nothing, and the run would overstate what it
/// carries; less than 15 kB a second per sink (sound alone is under 10) counts them all as failed.
fn sinks_served(rule: Option<&SinkRule>, sinks: usize, window: &Window, crowd: &mut Crowd) {
    let Some(rule) = rule else { return };
    let per_sink = rule.bytes() as f64 / sinks.max(1) as f64 / window.since_join.max(1.0) / 1000.0;
    println!(
        "sink viewers: the server sent each {per_sink:.0} kB a second on average since they began joining (dropped in the kernel)"
    );
    if per_sink < 15.0 {
        eprintln!("the sinks were not served (connections failed?): counting them as failed");
        crowd.failures += sinks;
    }
}

impl Drop for SinkRule {
    fn drop(&mut self) {
        let _ = std::process::Command::new("iptables")
            .args(["-w", "-D"])
            .args(&self.rule)
            .status();
    }
}

/// The first host candidate's address in an SDP.
fn candidate_addr(sdp: &str) -> Option<std::net::SocketAddr> {
    sdp.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("a=candidate:")?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.get(2).map(|t| t.eq_ignore_ascii_case("udp")) != Some(true) {
            return None;
        }
        Some(std::net::SocketAddr::new(
            f.get(4)?.parse().ok()?,
            f.get(5)?.parse().ok()?,
        ))
    })
}

fn rewrite_candidate(sdp: &str, from: std::net::SocketAddr, to: std::net::SocketAddr) -> String {
    sdp.replace(
        &format!(" {} {} typ", from.ip(), from.port()),
        &format!(" {} {} typ", to.ip(), to.port()),
    )
}

/// A UDP relay between the server and one viewer: the viewer talks to `toward_viewer`, the server to
/// `toward_server`. Viewer → server passes at once; server → viewer at the viewer's pace.
struct Relay {
    toward_viewer: Arc<UdpSocket>,
    toward_server: Arc<UdpSocket>,
}

impl Relay {
    async fn bind() -> std::io::Result<Relay> {
        Ok(Relay {
            toward_viewer: Arc::new(UdpSocket::bind((LOOPBACK, 0)).await?),
            toward_server: Arc::new(UdpSocket::bind((LOOPBACK, 0)).await?),
        })
    }

    fn run(self, server: SocketAddr, viewer: SocketAddr, pace: Pace) -> Vec<JoinHandle<()>> {
        let up = tokio::spawn(forward(self.toward_viewer.clone(), self.toward_server.clone(), server));
        let down = tokio::spawn(forward_at_pace(self.toward_server, self.toward_viewer, viewer, pace));
        vec![up, down]
    }
}

/// Passes everything `from` receives on to `to` through `via`.
async fn forward(from: Arc<UdpSocket>, via: Arc<UdpSocket>, to: SocketAddr) {
    let mut buf = vec![0u8; 2048];
    while let Ok((n, _)) = from.recv_from(&mut buf).await {
        let _ = via.send_to(&buf[..n], to).await;
    }
}

/// Like `forward`, but reads at the viewer's pace: a slow viewer `pps` packets a second, a stalled one
/// not at all once it has completed the handshake.
async fn forward_at_pace(from: Arc<UdpSocket>, via: Arc<UdpSocket>, to: SocketAddr, pace: Pace) {
    let mut buf = vec![0u8; 2048];
    let mut tick = match pace {
        Pace::Slow(pps) => Some(tokio::time::interval(Duration::from_secs_f64(
            1.0 / f64::from(pps.max(1)),
        ))),
        _ => None,
    };
    // A stalled viewer still completes the handshake, then stops reading.
    let stall_at = (pace == Pace::Stalled).then(|| Instant::now() + Duration::from_secs(5));
    loop {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        if stall_at.is_some_and(|t| Instant::now() > t) {
            std::future::pending::<()>().await;
        }
        match from.recv_from(&mut buf).await {
            Ok((n, _)) => {
                let _ = via.send_to(&buf[..n], to).await;
            }
            Err(_) => break,
        }
    }
}

/// (utime + stime in clock ticks, RSS in KiB) of a process.
fn proc_usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn start_server(bin: &Path, url: &str, dir: &Path, args: &Args) -> Result<Server, Error> {
    Server::start(&ServerSpec {
        bin,
        database_url: url,
        var_dir: dir,
        banks_dir: dir.join("no-banks"),
        secret_key: "load-test-secret-key-load-test-secret-key",
        env: vec![
            ("QUORUM__ROOMS__MEDIA_THREADS", args.media_threads.to_string()),
            ("QUORUM__RECORDINGS__ENABLED", (!args.no_recording).to_string()),
        ],
        cpus: args.server_cpus.as_deref(),
        wait: Duration::from_secs(20),
    })
    .await
}

/// Viewer `i` joins the target (a sink binds to `sink_ip`).
async fn join_one(target: &Target<'_>, i: usize, pace: Pace, sink_ip: IpAddr) -> Result<Watching, BoxSendError> {
    match target {
        Target::Quorum { ws, chairs } => {
            let token = chairs.get(i).ok_or("more viewers than chairs")?;
            watch(ws, token, pace, sink_ip).await
        }
        Target::Janus {
            janus,
            room,
            feed,
            bind,
        } => {
            let bind = if pace == Pace::Sink { sink_ip } else { *bind };
            let viewer = janus::subscribe(janus, *room, *feed, bind)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Watching {
                signal: None,
                viewer,
                relay: Vec::new(),
                pace,
            })
        }
    }
}

/// Joins as a viewer, through a relay if `pace` is slow or stalled.
async fn watch(ws: &str, token: &str, pace: Pace, sink_ip: IpAddr) -> Result<Watching, BoxSendError> {
    let mut s = Signal::connect(ws, token).await?;
    s.expect("welcome", Duration::from_secs(10)).await?;
    s.send(json!({"type": "subscribe"}));
    let offer = s.offer("view").await?;
    if matches!(pace, Pace::Healthy | Pace::Sink) {
        let bind = if pace == Pace::Sink { sink_ip } else { LOOPBACK };
        let (v, answer) = Viewer::answer(offer, bind).await?;
        s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
        return Ok(Watching {
            signal: Some(s),
            viewer: v,
            relay: Vec::new(),
            pace,
        });
    }
    let relay = Relay::bind().await?;
    let server = candidate_addr(&offer).ok_or("no candidate in the offer")?;
    let offer = rewrite_candidate(&offer, server, relay.toward_viewer.local_addr()?);
    let (v, answer) = Viewer::answer(offer, LOOPBACK).await?;
    let viewer = candidate_addr(&answer).ok_or("no candidate in the answer")?;
    let answer = rewrite_candidate(&answer, viewer, relay.toward_server.local_addr()?);
    let tasks = relay.run(server, viewer, pace);
    s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
    Ok(Watching {
        signal: Some(s),
        viewer: v,
        relay: tasks,
        pace,
    })
}

/// A viewer that joined, with its relay's tasks (none for a healthy viewer).
struct Watching {
    /// Quorum's room socket (none on Janus).
    signal: Option<Signal>,
    viewer: Viewer,
    relay: Vec<JoinHandle<()>>,
    pace: Pace,
}

impl Args {
    /// The first `slow` viewers are slow, the next `stalled` stall, the last `sinks` are sinks, the
    /// rest are healthy.
    fn pace_of(&self, i: usize) -> Pace {
        if i >= self.viewers.saturating_sub(self.sinks) {
            Pace::Sink
        } else if i < self.slow {
            Pace::Slow(self.slow_pps)
        } else if i < self.slow + self.stalled {
            Pace::Stalled
        } else {
            Pace::Healthy
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    if args.sinks > 0 && args.sinks >= args.viewers {
        return Err("--sinks must leave at least one viewer that measures".into());
    }
    if args.target == "janus" {
        return janus_run(&args).await;
    }
    let dir = std::env::temp_dir().join(format!("quorum-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("load.db").display());
    let chairs = if args.cycles.is_some() { 1 } else { args.viewers };
    let bin = loadgen::server_binary(args.server.clone())?;
    let seeded = seed_live_room(&url, &dir, chairs).await?;
    let server = start_server(&bin, &url, &dir, &args).await?;
    let ws = format!("ws://127.0.0.1:{}/sessions/{}/ws", server.port, seeded.session);
    let (_lecturer, publisher) = publish(&ws, &seeded.lecturer, args.kbps, args.simulcast).await?;
    if let Some(cycles) = args.cycles {
        join_leave_cycles(server.pid(), &ws, &seeded.chairs[0], cycles).await?;
        publisher.close().await;
        return Ok(());
    }
    let target = Target::Quorum {
        ws: &ws,
        chairs: &seeded.chairs,
    };
    let sinks = (args.sinks > 0).then(|| SinkRule::add(args.sink_ip)).transpose()?;
    let rule_since = Instant::now();
    let mut crowd = Crowd::join(&args, &target, server.pid()).await;
    if args.simulcast {
        // Viewers start on the middle layer and try the top one after 3 s of clean reports.
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    let mut window = Window::measure(&crowd, server.pid(), args.seconds).await;
    window.sound_only = crowd.sound_only_notices();
    window.since_join = rule_since.elapsed().as_secs_f64();
    sinks_served(sinks.as_ref(), args.sinks, &window, &mut crowd);
    report(&args, &crowd, &window);
    report_recording(&dir.join("recordings"));
    publisher.close().await;
    crowd.close().await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `--target janus`: the same publisher and viewers on a running Janus.
async fn janus_run(args: &Args) -> Result<(), Error> {
    if args.slow + args.stalled > 0 || args.cycles.is_some() {
        return Err("--target janus measures healthy viewers only".into());
    }
    let pid = args.janus_pid.ok_or("--target janus needs --janus-pid")?;
    let janus = Janus::connect(&args.janus_url).await?;
    let room = 4000 + u64::from(std::process::id() % 1000);
    janus::create_room(&janus, room).await?;
    let (publisher, feed) = janus::publish(&janus, room, args.kbps, args.janus_ip).await?;
    let target = Target::Janus {
        janus: &janus,
        room,
        feed,
        bind: args.janus_ip,
    };
    let sinks = (args.sinks > 0).then(|| SinkRule::add(args.sink_ip)).transpose()?;
    let rule_since = Instant::now();
    let mut crowd = Crowd::join(args, &target, pid).await;
    let mut window = Window::measure(&crowd, pid, args.seconds).await;
    window.since_join = rule_since.elapsed().as_secs_f64();
    println!("target: Janus at {}", args.janus_url);
    sinks_served(sinks.as_ref(), args.sinks, &window, &mut crowd);
    report(args, &crowd, &window);
    publisher.close().await;
    crowd.close().await;
    Ok(())
}

/// `--cycles`: one viewer joins and leaves `cycles` times; prints the server's RSS along the way.
async fn join_leave_cycles(pid: u32, ws: &str, token: &str, cycles: usize) -> Result<(), Error> {
    let (_, rss_start) = proc_usage(pid);
    let mut rss_after_100 = 0;
    for i in 0..cycles {
        let w = watch(ws, token, Pace::Healthy, LOOPBACK)
            .await
            .map_err(|e| e.to_string())?;
        tokio::time::sleep(Duration::from_millis(150)).await;
        w.viewer.close().await;
        drop(w);
        if i == 99 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            rss_after_100 = proc_usage(pid).1;
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, rss_end) = proc_usage(pid);
    println!("join/leave cycles: {cycles}");
    println!(
        "server RSS: start {} MiB, after 100 cycles {} MiB, after {cycles} cycles {} MiB",
        rss_start / 1024,
        rss_after_100 / 1024,
        rss_end / 1024
    );
    println!(
        "growth after the first 100 cycles: {} KiB",
        rss_end as i64 - rss_after_100 as i64
    );
    Ok(())
}

/// The viewers of one run and how their joining went.
struct Crowd {
    viewers: Vec<Watching>,
    failures: usize,
    joined_in: Duration,
    /// The server's RSS in KiB before anyone joined.
    rss_before: u64,
}

impl Crowd {
    /// Joins every viewer, ten at a time.
    async fn join(args: &Args, target: &Target<'_>, pid: u32) -> Crowd {
        let (_, rss_before) = proc_usage(pid);
        let started = Instant::now();
        let mut crowd = Crowd {
            viewers: Vec::new(),
            failures: 0,
            joined_in: Duration::ZERO,
            rss_before,
        };
        let all: Vec<usize> = (0..args.viewers).collect();
        for chunk in all.chunks(10) {
            let joins = chunk
                .iter()
                .map(|i| join_one(target, *i, args.pace_of(*i), args.sink_ip));
            for r in futures_util::future::join_all(joins).await {
                crowd.add(r);
            }
        }
        crowd.joined_in = started.elapsed();
        crowd
    }

    fn add(&mut self, joined: Result<Watching, BoxSendError>) {
        match joined {
            Ok(w) => self.viewers.push(w),
            Err(e) => {
                self.failures += 1;
                eprintln!("viewer failed to join: {e}");
            }
        }
    }

    /// (video expected, video received, audio received) per viewer.
    fn snapshot(&self) -> Vec<(u64, u64, u64)> {
        self.viewers
            .iter()
            .map(|w| {
                let (e, r) = w.viewer.stats.video_expected_received();
                (e, r, w.viewer.stats.audio_packets.load(Ordering::Relaxed))
            })
            .collect()
    }

    fn clear_latencies(&self) {
        for w in &self.viewers {
            if let Ok(mut l) = w.viewer.stats.latencies.lock() {
                l.clear();
            }
        }
    }

    /// How many healthy viewers the server told (so far) that their link carries sound only: the
    /// video they then miss is the SFU's choice, not lost on the way.
    fn sound_only_notices(&mut self) -> usize {
        let mut told = 0;
        for w in self.viewers.iter_mut().filter(|w| w.pace == Pace::Healthy) {
            let Some(s) = w.signal.as_mut() else { continue };
            let mut on = false;
            while let Ok(m) = s.incoming.try_recv() {
                if m["type"] == "auto_audio_only" && m["on"] == true {
                    on = true;
                }
            }
            told += usize::from(on);
        }
        told
    }

    fn healthy(&self) -> impl Iterator<Item = &Viewer> {
        self.viewers
            .iter()
            .filter(|w| w.pace == Pace::Healthy)
            .map(|w| &w.viewer)
    }

    /// Forwarding latencies of the healthy viewers, sorted (µs).
    fn healthy_latencies(&self) -> Vec<u32> {
        let mut lat: Vec<u32> = self
            .healthy()
            .flat_map(|v| v.stats.latencies.lock().map(|l| l.clone()).unwrap_or_default())
            .collect();
        lat.sort_unstable();
        lat
    }

    /// Join-to-first-keyframe times of the healthy viewers that got one, sorted (ms).
    fn healthy_keyframes(&self) -> Vec<u32> {
        let mut keyframe: Vec<u32> = self
            .healthy()
            .map(|v| (v.stats.first_keyframe_us.load(Ordering::Relaxed) / 1000) as u32)
            .filter(|k| *k > 0)
            .collect();
        keyframe.sort_unstable();
        keyframe
    }

    async fn close(&self) {
        for w in &self.viewers {
            w.viewer.close().await;
            for t in &w.relay {
                t.abort();
            }
        }
    }
}

/// Packets in the window for one kind of viewer.
struct PaceTotals {
    label: &'static str,
    expected: u64,
    received: u64,
    audio: u64,
    count: usize,
}

/// What the measurement window saw.
struct Window {
    /// Healthy, slow, stalled, sink, in that order.
    by_pace: Vec<PaceTotals>,
    elapsed: f64,
    cpu_pct: f64,
    rss_during: u64,
    rss_peak: u64,
    rss_samples: Vec<u64>,
    /// Healthy viewers told they get sound only (Quorum's notice).
    sound_only: usize,
    /// Seconds since the sinks' rule went in (joins included).
    since_join: f64,
}

impl Window {
    /// Lets the crowd settle, then counts packets and samples the server for `seconds`.
    async fn measure(crowd: &Crowd, pid: u32, seconds: u64) -> Window {
        tokio::time::sleep(Duration::from_secs(3)).await;
        crowd.clear_latencies();
        let before = crowd.snapshot();
        let (cpu0, _) = proc_usage(pid);
        let t0 = Instant::now();
        let (rss_peak, rss_samples) = sample_rss(pid, t0, seconds).await;
        let (cpu1, rss_during) = proc_usage(pid);
        let elapsed = t0.elapsed().as_secs_f64();
        let after = crowd.snapshot();
        let ticks_per_sec = 100.0; // Linux USER_HZ
        Window {
            by_pace: totals_by_pace(crowd, &before, &after),
            elapsed,
            cpu_pct: (cpu1 - cpu0) as f64 / ticks_per_sec / elapsed * 100.0,
            rss_during,
            rss_peak,
            rss_samples,
            sound_only: 0,
            since_join: 0.0,
        }
    }
}

/// RSS every second until `seconds` after `t0`: with slow viewers the question is whether it keeps
/// growing. Returns (peak KiB, samples in MiB).
async fn sample_rss(pid: u32, t0: Instant, seconds: u64) -> (u64, Vec<u64>) {
    let mut rss_peak = 0;
    let mut rss_samples = Vec::new();
    while t0.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = proc_usage(pid).1;
        rss_peak = rss_peak.max(rss);
        rss_samples.push(rss / 1024);
    }
    (rss_peak, rss_samples)
}

fn totals_by_pace(crowd: &Crowd, before: &[(u64, u64, u64)], after: &[(u64, u64, u64)]) -> Vec<PaceTotals> {
    let kind = |pace: Pace| match pace {
        Pace::Healthy => 0,
        Pace::Slow(_) => 1,
        Pace::Stalled => 2,
        Pace::Sink => 3,
    };
    let mut by_pace = Vec::new();
    for (label, want) in [("healthy", 0), ("slow", 1), ("stalled", 2), ("sink", 3)] {
        let mut t = PaceTotals {
            label,
            expected: 0,
            received: 0,
            audio: 0,
            count: 0,
        };
        for ((b, a), w) in before.iter().zip(after).zip(&crowd.viewers) {
            if kind(w.pace) == want {
                t.expected += a.0 - b.0;
                t.received += a.1 - b.1;
                t.audio += a.2 - b.2;
                t.count += 1;
            }
        }
        by_pace.push(t);
    }
    by_pace
}

fn loss(expected: u64, received: u64) -> f64 {
    if expected > 0 {
        100.0 * (expected.saturating_sub(received)) as f64 / expected as f64
    } else {
        0.0
    }
}

fn report(args: &Args, crowd: &Crowd, window: &Window) {
    report_setup(args, crowd, window);
    report_delivery(window);
    if args.simulcast {
        report_layers(crowd);
    }
    report_timing(crowd, window);
    report_server(crowd, window);
    report_summary(args, crowd, window);
}

/// One line for scripts (scripts/janus-side-by-side): the healthy viewers' loss and latency, the
/// server's CPU (% of one core) and RSS (MiB).
fn report_summary(args: &Args, crowd: &Crowd, w: &Window) {
    let healthy = &w.by_pace[0];
    let lat = crowd.healthy_latencies();
    println!(
        "summary target={} viewers={} failed={} loss_pct={:.3} p50_ms={:.1} p99_ms={:.1} cpu_pct={:.1} rss_mib={}",
        args.target,
        crowd.viewers.len(),
        crowd.failures,
        loss(healthy.expected, healthy.received),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        w.cpu_pct,
        w.rss_during / 1024
    );
}

fn report_setup(args: &Args, crowd: &Crowd, window: &Window) {
    println!(
        "viewers: {} joined ({} failed) in {:.1} s; publisher {} kbit/s VP8{} + Opus; window {:.0} s",
        crowd.viewers.len(),
        crowd.failures,
        crowd.joined_in.as_secs_f64(),
        args.kbps,
        if args.simulcast {
            " in three simulcast layers (l, m, h: a tenth, a third, all)"
        } else {
            ""
        },
        window.elapsed
    );
    if args.slow + args.stalled > 0 {
        println!(
            "slow viewers: {} reading {} packets/s, {} that stop reading{}",
            args.slow,
            args.slow_pps,
            args.stalled,
            args.server_cpus
                .as_ref()
                .map(|c| format!("; server pinned to CPU {c}"))
                .unwrap_or_default()
        );
    }
}

fn report_delivery(window: &Window) {
    if window.sound_only > 0 {
        println!(
            "healthy viewers the server switched to sound only (their reports said their link was losing packets): {}",
            window.sound_only
        );
    }
    for t in window.by_pace.iter().filter(|t| t.count > 0) {
        if t.label == "sink" {
            // Anything here means the rule did not hold: the generator then did their work too.
            println!(
                "sink viewers ({}): media dropped in the kernel; video packets that reached them anyway {}, audio {}",
                t.count, t.received, t.audio
            );
            continue;
        }
        println!(
            "{} viewers ({}): video packets expected {}, delivered {}, lost {} ({:.3} %); audio packets delivered {}",
            t.label,
            t.count,
            t.expected,
            t.received,
            t.expected.saturating_sub(t.received),
            loss(t.expected, t.received),
            t.audio
        );
    }
}

/// Which simulcast layer each healthy viewer got last, and the window's video packets per layer.
fn report_layers(crowd: &Crowd) {
    let mut last = [0usize; 3];
    let mut packets = [0u64; 3];
    for v in crowd.healthy() {
        if let Some(l) = v.stats.layer() {
            last[usize::from(l)] += 1;
        }
        for (p, c) in packets.iter_mut().zip(&v.stats.layer_packets) {
            *p += c.load(Ordering::Relaxed);
        }
    }
    let (switches, at_key) = crowd.healthy().fold((0, 0), |(s, k), v| {
        (
            s + v.stats.switches.load(Ordering::Relaxed),
            k + v.stats.switches_at_keyframe.load(Ordering::Relaxed),
        )
    });
    println!(
        "simulcast layers, healthy viewers: on l {}, m {}, h {} at the end; video packets received l {}, m {}, h {}; {switches} layer changes ({at_key} at a keyframe)",
        last[0], last[1], last[2], packets[0], packets[1], packets[2]
    );
}

fn report_timing(crowd: &Crowd, window: &Window) {
    let lat = crowd.healthy_latencies();
    let keyframe = crowd.healthy_keyframes();
    println!(
        "forwarding latency, healthy viewers (publisher send → viewer receive): p50 {:.1} ms, p99 {:.1} ms ({} samples)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.len()
    );
    println!(
        "join to first keyframe, healthy viewers: p50 {:.0} ms, p99 {:.0} ms, {} of {} viewers",
        percentile(&keyframe, 0.5) * 1000.0,
        percentile(&keyframe, 0.99) * 1000.0,
        keyframe.len(),
        window.by_pace[0].count
    );
}

/// The recording the server wrote meanwhile (still open: the lecture is live): size, length, and what an
/// hour of it takes on disk.
fn report_recording(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("recording: none (recording off)");
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let Ok(probe) = mediafile::webm::probe(&bytes) else {
            continue;
        };
        let last = probe.blocks.iter().map(|b| b.ts_ms).max().unwrap_or(0);
        let first = probe.blocks.iter().map(|b| b.ts_ms).min().unwrap_or(0);
        let secs = (last - first).max(1) as f64 / 1000.0;
        println!(
            "recording {}: {:.1} MB for {:.0} s of lecture ({} blocks) → {:.0} MB per hour",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            bytes.len() as f64 / 1e6,
            secs,
            probe.blocks.len(),
            bytes.len() as f64 / 1e6 / secs * 3600.0
        );
    }
}

fn report_server(crowd: &Crowd, w: &Window) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let n = crowd.viewers.len().max(1) as f64;
    let per_viewer = |rss: u64| (rss.saturating_sub(crowd.rss_before)) as f64 / 1024.0 / n;
    println!(
        "server: CPU {:.1} % of one core ({:.1} % of this machine's {cores} cores); RSS {} MiB before viewers, {} MiB with them ({:.2} MiB per viewer), peak {} MiB ({:.2} MiB per viewer)",
        w.cpu_pct,
        w.cpu_pct / cores as f64,
        crowd.rss_before / 1024,
        w.rss_during / 1024,
        per_viewer(w.rss_during),
        w.rss_peak / 1024,
        per_viewer(w.rss_peak)
    );
    println!("server RSS each second (MiB): {:?}", w.rss_samples);
}
