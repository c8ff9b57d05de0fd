//! Load generator for the live room (see BENCHMARKS.md).
//!
//! Seeds a fresh SQLite database (a street, a lecturer, N chairs, a live session), starts the real
//! server binary on it as a child process, then connects one synthetic publisher (VP8 at the given
//! bitrate plus Opus, payloads stamped with a sequence number and send time) and N viewers over
//! 127.0.0.1. Reports delivered and lost packets, forwarding latency percentiles, join-to-first-keyframe
//! time, and the server's CPU and RSS. `--cycles K` instead joins and leaves one viewer K times and
//! reports the server's RSS before and after.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;
use quorum::config::Settings;
use quorum::domain::person::{Role, Roles};
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::rooms::client::{Publisher, Signal, Viewer};
use quorum::services::access::StreetScope;
use quorum::services::people::AccountInput;
use quorum::services::sessions::{Invitees, SessionInput};
use serde_json::json;

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
    let settings = Settings::for_tests(url, dir.to_path_buf());
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
    let lawyer = quorum::services::people::create(&db, &lawyer_input, None)
        .await?
        .map_err(|e| format!("{e:?}"))?;
    let mut ids = Vec::new();
    for i in 0..chairs {
        let input = person("主任", format!("136{i:08}"), Role::Chair, Some(committee)).map_err(|e| format!("{e:?}"))?;
        ids.push(
            quorum::services::people::create(&db, &input, None)
                .await?
                .map_err(|e| format!("{e:?}"))?,
        );
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
    let session = quorum::services::sessions::create(&db, &StreetScope::All, lawyer, &input)
        .await?
        .map_err(|e| format!("{e:?}"))?;
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
) -> Result<Server, Box<dyn std::error::Error>> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(bin)
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

async fn watch(ws: &str, token: &str) -> Result<(Signal, Viewer), Box<dyn std::error::Error + Send + Sync>> {
    let mut s = Signal::connect(ws, token).await?;
    s.expect("welcome", Duration::from_secs(10)).await?;
    s.send(json!({"type": "subscribe"}));
    let offer = s.offer("view").await?;
    let (v, answer) = Viewer::answer(offer, LOOPBACK).await?;
    s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
    Ok((s, v))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("quorum-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("load.db").display());
    let chairs = if args.cycles.is_some() { 1 } else { args.viewers };
    let seeded = seed(&url, &dir, chairs).await?;
    let bin = args.server.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("quorum")))
            .unwrap_or_default()
    });
    let server = start_server(&bin, &url, &dir, args.media_threads)?;
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
            let (s, v) = watch(&ws, &seeded.chairs[0]).await.map_err(|e| e.to_string())?;
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
    let mut viewers = Vec::new();
    let mut failures = 0;
    for chunk in seeded.chairs.chunks(10) {
        let joins = chunk.iter().map(|t| watch(&ws, t));
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
    let snapshot = |viewers: &Vec<(Signal, Viewer)>| -> Vec<(u64, u64, u64)> {
        viewers
            .iter()
            .map(|(_, v)| {
                let (e, r) = v.stats.video_expected_received();
                (e, r, v.stats.audio_packets.load(Ordering::Relaxed))
            })
            .collect()
    };
    for (_, v) in &viewers {
        if let Ok(mut l) = v.stats.latencies.lock() {
            l.clear();
        }
    }
    let before = snapshot(&viewers);
    let (cpu0, _) = proc_usage(pid);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let (cpu1, rss_during) = proc_usage(pid);
    let elapsed = t0.elapsed().as_secs_f64();
    let after = snapshot(&viewers);
    let (mut expected, mut received, mut audio) = (0u64, 0u64, 0u64);
    for (b, a) in before.iter().zip(&after) {
        expected += a.0 - b.0;
        received += a.1 - b.1;
        audio += a.2 - b.2;
    }
    let mut lat: Vec<u32> = viewers
        .iter()
        .flat_map(|(_, v)| v.stats.latencies.lock().map(|l| l.clone()).unwrap_or_default())
        .collect();
    lat.sort_unstable();
    let mut keyframe: Vec<u32> = viewers
        .iter()
        .map(|(_, v)| (v.stats.first_keyframe_us.load(Ordering::Relaxed) / 1000) as u32)
        .filter(|k| *k > 0)
        .collect();
    keyframe.sort_unstable();
    let ticks_per_sec = 100.0; // Linux USER_HZ
    let cpu_pct = (cpu1 - cpu0) as f64 / ticks_per_sec / elapsed * 100.0;
    let loss = if expected > 0 {
        100.0 * (expected.saturating_sub(received)) as f64 / expected as f64
    } else {
        0.0
    };
    let n = viewers.len();
    println!(
        "viewers: {n} joined ({failures} failed) in {:.1} s; publisher {} kbit/s VP8 + Opus; window {elapsed:.0} s",
        joined_in.as_secs_f64(),
        args.kbps
    );
    println!(
        "video packets: expected {expected}, delivered {received}, lost {} ({loss:.3} %); audio packets delivered {audio}",
        expected.saturating_sub(received)
    );
    println!(
        "forwarding latency (publisher send → viewer receive): p50 {:.1} ms, p99 {:.1} ms ({} samples)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.len()
    );
    println!(
        "join to first keyframe: p50 {:.0} ms, p99 {:.0} ms, {} of {n} viewers",
        percentile(&keyframe, 0.5) * 1000.0,
        percentile(&keyframe, 0.99) * 1000.0,
        keyframe.len()
    );
    println!(
        "server: CPU {cpu_pct:.0} % of one core ({:.0} % of this machine's {} cores); RSS {} MiB before viewers, {} MiB with them ({:.2} MiB per viewer)",
        cpu_pct / std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        rss_before / 1024,
        rss_during / 1024,
        (rss_during.saturating_sub(rss_before)) as f64 / 1024.0 / n.max(1) as f64
    );
    publisher.close().await;
    for (_, v) in &viewers {
        v.close().await;
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
