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

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use quorum::domain::person::{Role, Roles};
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::services::access::StreetScope;
use quorum::services::people::AccountInput;
use quorum::services::sessions::{Invitees, SessionInput};
use serde_json::json;
use testkit::room_client::{Publisher, Signal, Viewer};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

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
}

/// How a viewer reads its media.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pace {
    Healthy,
    /// Reads this many packets per second; the rest overflows the relay's socket buffer.
    Slow(u32),
    /// Stops reading after joining.
    Stalled,
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
    toward_viewer: std::sync::Arc<tokio::net::UdpSocket>,
    toward_server: std::sync::Arc<tokio::net::UdpSocket>,
}

impl Relay {
    async fn bind() -> std::io::Result<Relay> {
        Ok(Relay {
            toward_viewer: std::sync::Arc::new(tokio::net::UdpSocket::bind((LOOPBACK, 0)).await?),
            toward_server: std::sync::Arc::new(tokio::net::UdpSocket::bind((LOOPBACK, 0)).await?),
        })
    }

    fn run(
        self,
        server: std::net::SocketAddr,
        viewer: std::net::SocketAddr,
        pace: Pace,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let (tv, ts) = (self.toward_viewer.clone(), self.toward_server.clone());
        let up = tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            while let Ok((n, _)) = tv.recv_from(&mut buf).await {
                let _ = ts.send_to(&buf[..n], server).await;
            }
        });
        let (tv, ts) = (self.toward_viewer, self.toward_server);
        let down = tokio::spawn(async move {
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
                match ts.recv_from(&mut buf).await {
                    Ok((n, _)) => {
                        let _ = tv.send_to(&buf[..n], viewer).await;
                    }
                    Err(_) => break,
                }
            }
        });
        vec![up, down]
    }
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

struct Seed {
    session: i64,
    lecturer: String,
    chairs: Vec<String>,
}

async fn seed(url: &str, dir: &std::path::Path, chairs: usize) -> Result<Seed, Box<dyn std::error::Error>> {
    let settings = testkit::settings(url, dir.to_path_buf());
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    let district = quorum::services::org::create_unit(&db, None, "测试区", None).await?;
    let street = quorum::services::org::create_unit(&db, Some(district.id), "测试街道", None).await?;
    let committee = quorum::services::org::ensure_committee(&db, street.id, "一居委", "一号小区").await?;
    let person = |name: &str, phone: String, role: Role, committee: Option<i64>| {
        let input = AccountInput::parse(name, &phone, "", &[role.code().to_string()], &[], committee, "");
        input.map(|i| AccountInput {
            roles: Roles::new([role]),
            ..i
        })
    };
    let lawyer_input = person("讲师", "13700000000".into(), Role::Lawyer, None).map_err(|e| format!("{e:?}"))?;
    let lawyer = quorum::services::people::create(&db, &lawyer_input, None).await?;
    let mut ids = Vec::new();
    for i in 0..chairs {
        let input = person("主任", format!("136{i:08}"), Role::Chair, Some(committee)).map_err(|e| format!("{e:?}"))?;
        ids.push(quorum::services::people::create(&db, &input, None).await?);
    }
    let now = chrono::Utc::now() + chrono::Duration::hours(8);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let schedule = Schedule::parse("压力测试", "", &fmt(now), &fmt(now + chrono::Duration::hours(2)))
        .map_err(|e| format!("{e:?}"))?;
    let input = SessionInput {
        schedule,
        street: street.id,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    let session = quorum::services::sessions::create(&db, &StreetScope::All, lawyer, &input).await?;
    quorum::db::training::set_status(&db, session, SessionStatus::Live, chrono::Utc::now()).await?;
    let token = |id: i64| {
        let db = db.clone();
        async move {
            let p = quorum::db::people::get(&db, id).await?.ok_or("no person")?;
            Ok::<_, Box<dyn std::error::Error>>(quorum::services::accounts::start_session(&db, p, 1).await?.token)
        }
    };
    let lecturer = token(lawyer).await?;
    let mut tokens = Vec::new();
    for id in ids {
        tokens.push(token(id).await?);
    }
    db.close().await?;
    Ok(Seed {
        session,
        lecturer,
        chairs: tokens,
    })
}

fn start_server(
    bin: &PathBuf,
    url: &str,
    dir: &std::path::Path,
    media_threads: usize,
    cpus: Option<&str>,
) -> Result<Server, Box<dyn std::error::Error>> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = match cpus {
        // taskset execs the server, so the child's pid is the server's.
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c).arg(bin);
            cmd
        }
        None => Command::new(bin),
    };
    let child = cmd
        .arg("serve")
        .env("QUORUM__DATABASE__URL", url)
        .env("QUORUM__PATHS__VAR_DIR", dir)
        .env("QUORUM__PATHS__BANKS_DIR", dir.join("no-banks"))
        .env("QUORUM__DEMO__SEED", "false")
        .env("QUORUM__SERVER__PORT", port.to_string())
        .env("QUORUM__ROOMS__MEDIA_THREADS", media_threads.to_string())
        .env(
            "QUORUM__SECURITY__SECRET_KEY",
            "load-test-secret-key-load-test-secret-key",
        )
        .env("QUORUM_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("the server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(server)
}

async fn watch(
    ws: &str,
    token: &str,
    pace: Pace,
) -> Result<(Signal, Viewer, Vec<tokio::task::JoinHandle<()>>), Box<dyn std::error::Error + Send + Sync>> {
    let mut s = Signal::connect(ws, token).await?;
    s.expect("welcome", Duration::from_secs(10)).await?;
    s.send(json!({"type": "subscribe"}));
    let offer = s.offer("view").await?;
    if pace == Pace::Healthy {
        let (v, answer) = Viewer::answer(offer, LOOPBACK).await?;
        s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
        return Ok((s, v, Vec::new()));
    }
    let relay = Relay::bind().await?;
    let server = candidate_addr(&offer).ok_or("no candidate in the offer")?;
    let offer = rewrite_candidate(&offer, server, relay.toward_viewer.local_addr()?);
    let (v, answer) = Viewer::answer(offer, LOOPBACK).await?;
    let viewer = candidate_addr(&answer).ok_or("no candidate in the answer")?;
    let answer = rewrite_candidate(&answer, viewer, relay.toward_server.local_addr()?);
    let tasks = relay.run(server, viewer, pace);
    s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
    Ok((s, v, tasks))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("quorum-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("load.db").display());
    let chairs = if args.cycles.is_some() { 1 } else { args.viewers };
    let bin = loadgen::server_binary(args.server.clone())?;
    let seeded = seed(&url, &dir, chairs).await?;
    let server = start_server(&bin, &url, &dir, args.media_threads, args.server_cpus.as_deref())?;
    let pid = server.child.id();
    let ws = format!("ws://127.0.0.1:{}/sessions/{}/ws", server.port, seeded.session);

    let mut lecturer = Signal::connect(&ws, &seeded.lecturer)
        .await
        .map_err(|e| e.to_string())?;
    lecturer
        .expect("welcome", Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?;
    lecturer.send(json!({"type": "publish", "source": "camera"}));
    let offer = lecturer.offer("camera").await.map_err(|e| e.to_string())?;
    let (publisher, answer) = Publisher::answer(offer, LOOPBACK).await.map_err(|e| e.to_string())?;
    lecturer.send(json!({"type": "answer", "leg": "camera", "sdp": answer}));
    publisher.start(args.kbps);
    tokio::time::sleep(Duration::from_secs(1)).await;

    if let Some(cycles) = args.cycles {
        let (_, rss_start) = proc_usage(pid);
        let mut rss_after_100 = 0;
        for i in 0..cycles {
            let (s, v, _) = watch(&ws, &seeded.chairs[0], Pace::Healthy)
                .await
                .map_err(|e| e.to_string())?;
            tokio::time::sleep(Duration::from_millis(150)).await;
            v.close().await;
            drop(s);
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
        publisher.close().await;
        return Ok(());
    }

    let (_, rss_before) = proc_usage(pid);
    let join_started = Instant::now();
    let pace_of = |i: usize| {
        if i < args.slow {
            Pace::Slow(args.slow_pps)
        } else if i < args.slow + args.stalled {
            Pace::Stalled
        } else {
            Pace::Healthy
        }
    };
    let mut viewers: Vec<(Signal, Viewer, Vec<tokio::task::JoinHandle<()>>, Pace)> = Vec::new();
    let mut failures = 0;
    let chairs: Vec<(usize, &String)> = seeded.chairs.iter().enumerate().collect();
    for chunk in chairs.chunks(10) {
        let joins = chunk.iter().map(|(i, t)| {
            let pace = pace_of(*i);
            let ws = ws.clone();
            async move { watch(&ws, t, pace).await.map(|(s, v, r)| (s, v, r, pace)) }
        });
        for r in futures_util::future::join_all(joins).await {
            match r {
                Ok(v) => viewers.push(v),
                Err(e) => {
                    failures += 1;
                    eprintln!("viewer failed to join: {e}");
                }
            }
        }
    }
    let joined_in = join_started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Measurement window.
    let snapshot = |viewers: &Vec<(Signal, Viewer, Vec<tokio::task::JoinHandle<()>>, Pace)>| -> Vec<(u64, u64, u64)> {
        viewers
            .iter()
            .map(|(_, v, _, _)| {
                let (e, r) = v.stats.video_expected_received();
                (e, r, v.stats.audio_packets.load(Ordering::Relaxed))
            })
            .collect()
    };
    for (_, v, _, _) in &viewers {
        if let Ok(mut l) = v.stats.latencies.lock() {
            l.clear();
        }
    }
    let before = snapshot(&viewers);
    let (cpu0, _) = proc_usage(pid);
    let t0 = Instant::now();
    // RSS every second: with slow viewers the question is whether it keeps growing.
    let mut rss_peak = 0;
    let mut rss_samples = Vec::new();
    while t0.elapsed() < Duration::from_secs(args.seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = proc_usage(pid).1;
        rss_peak = rss_peak.max(rss);
        rss_samples.push(rss / 1024);
    }
    let (cpu1, rss_during) = proc_usage(pid);
    let elapsed = t0.elapsed().as_secs_f64();
    let after = snapshot(&viewers);
    // (expected, received, audio) per kind of viewer.
    let mut by_pace: Vec<(&str, u64, u64, u64, usize)> = Vec::new();
    for (label, want) in [("healthy", 0), ("slow", 1), ("stalled", 2)] {
        let mut t = (label, 0u64, 0u64, 0u64, 0usize);
        for ((b, a), (_, _, _, pace)) in before.iter().zip(&after).zip(&viewers) {
            let kind = match pace {
                Pace::Healthy => 0,
                Pace::Slow(_) => 1,
                Pace::Stalled => 2,
            };
            if kind == want {
                t.1 += a.0 - b.0;
                t.2 += a.1 - b.1;
                t.3 += a.2 - b.2;
                t.4 += 1;
            }
        }
        by_pace.push(t);
    }
    let (_, expected, received, audio, _) = by_pace[0];
    let mut lat: Vec<u32> = viewers
        .iter()
        .filter(|(_, _, _, p)| *p == Pace::Healthy)
        .flat_map(|(_, v, _, _)| v.stats.latencies.lock().map(|l| l.clone()).unwrap_or_default())
        .collect();
    lat.sort_unstable();
    let mut keyframe: Vec<u32> = viewers
        .iter()
        .filter(|(_, _, _, p)| *p == Pace::Healthy)
        .map(|(_, v, _, _)| (v.stats.first_keyframe_us.load(Ordering::Relaxed) / 1000) as u32)
        .filter(|k| *k > 0)
        .collect();
    keyframe.sort_unstable();
    let ticks_per_sec = 100.0; // Linux USER_HZ
    let cpu_pct = (cpu1 - cpu0) as f64 / ticks_per_sec / elapsed * 100.0;
    let loss = |expected: u64, received: u64| {
        if expected > 0 {
            100.0 * (expected.saturating_sub(received)) as f64 / expected as f64
        } else {
            0.0
        }
    };
    let n = viewers.len();
    println!(
        "viewers: {n} joined ({failures} failed) in {:.1} s; publisher {} kbit/s VP8 + Opus; window {elapsed:.0} s",
        joined_in.as_secs_f64(),
        args.kbps
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
    for (label, e, r, a, count) in &by_pace {
        if *count == 0 {
            continue;
        }
        println!(
            "{label} viewers ({count}): video packets expected {e}, delivered {r}, lost {} ({:.3} %); audio packets delivered {a}",
            e.saturating_sub(*r),
            loss(*e, *r)
        );
    }
    let _ = (expected, received, audio);
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
        by_pace[0].4
    );
    println!(
        "server: CPU {cpu_pct:.0} % of one core ({:.0} % of this machine's {} cores); RSS {} MiB before viewers, {} MiB with them ({:.2} MiB per viewer), peak {} MiB ({:.2} MiB per viewer)",
        cpu_pct / std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        rss_before / 1024,
        rss_during / 1024,
        (rss_during.saturating_sub(rss_before)) as f64 / 1024.0 / n.max(1) as f64,
        rss_peak / 1024,
        (rss_peak.saturating_sub(rss_before)) as f64 / 1024.0 / n.max(1) as f64
    );
    println!("server RSS each second (MiB): {rss_samples:?}");
    publisher.close().await;
    for (_, v, relay, _) in &viewers {
        v.close().await;
        for t in relay {
            t.abort();
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
