//! How fast the live room recovers (see BENCHMARKS.md).
//!
//! Seeds a live session, starts the real server, connects a synthetic lecturer and N viewers, then:
//! - `--cut-secs S`: every viewer's media passes through a UDP relay in this process; the relays drop
//!   everything in both directions for S seconds (a network that stops carrying UDP: a lift, a tunnel,
//!   a NAT rebinding), then pass again. Reported: for each viewer, the time from the end of the cut to
//!   the first keyframe it receives (the picture is back), p50/p99/max.
//! - `--restart`: the server gets SIGTERM with everyone connected and is started again on the same port;
//!   each client does what the room page does (retry every second until the socket opens, then join
//!   and ask for media; the lecturer publishes again). Reported: the time from the new process's start
//!   to each viewer's first keyframe, p50/p99/max, and to the last viewer.
//! - `--failover kill|term`: two cluster nodes on one database (`--database`), the room on node A;
//!   A gets SIGKILL (it dies; its lease runs out) or SIGTERM (it hands the room to B). Each client does
//!   what the room page does: ask B where the room is (waiting out the lease it is told of when that is
//!   still the node that failed), connect there, join and ask for media; the lecturer publishes again.
//!   Reported: the time from the signal to each viewer's first keyframe on B, p50/p99/max.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::room::{LOOPBACK, Seed, publish, seed_live_room};
use loadgen::{Error, Server, ServerSpec, quantile};
use serde_json::json;
use testkit::room_client::{Publisher, Signal, Viewer};
use tokio::net::UdpSocket;

type BoxSendError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser)]
#[command(about = "Recovery of Quorum's live room after a media cut or a server restart")]
struct Args {
    #[arg(long, default_value_t = 100)]
    viewers: usize,
    /// Cut every viewer's media for this many seconds.
    #[arg(long)]
    cut_secs: Option<u64>,
    /// Restart the server (SIGTERM, then start again on the same port).
    #[arg(long)]
    restart: bool,
    #[arg(long, default_value_t = 1500)]
    kbps: u32,
    #[arg(long)]
    server: Option<PathBuf>,
    /// Pin the server to these CPUs (`taskset -c`).
    #[arg(long)]
    server_cpus: Option<String>,
    /// Move the room to another node: `kill` (SIGKILL its node) or `term` (SIGTERM: it drains).
    #[arg(long)]
    failover: Option<Failover>,
    /// `sqlite` (a temporary file) or a PostgreSQL URL to create a temporary database on.
    #[arg(long, default_value = "sqlite")]
    database: String,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Failover {
    Kill,
    Term,
}

/// A viewer whose media goes through a relay that a shared switch can cut.
struct Relayed {
    _signal: Signal,
    viewer: Viewer,
    _tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// The first host candidate's address in an SDP.
fn candidate_addr(sdp: &str) -> Option<SocketAddr> {
    sdp.lines().find_map(|l| {
        let parts: Vec<&str> = l.strip_prefix("a=candidate:")?.split_whitespace().collect();
        (parts.get(2)?.eq_ignore_ascii_case("udp"))
            .then(|| format!("{}:{}", parts.get(4)?, parts.get(5)?).parse().ok())?
    })
}

fn rewrite(sdp: &str, from: SocketAddr, to: SocketAddr) -> String {
    sdp.replace(
        &format!(" {} {} typ", from.ip(), from.port()),
        &format!(" {} {} typ", to.ip(), to.port()),
    )
}

/// Passes what `from` receives on to `to` through `via`, dropping everything while `cut` is set.
async fn forward(from: Arc<UdpSocket>, via: Arc<UdpSocket>, to: SocketAddr, cut: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 2048];
    while let Ok((n, _)) = from.recv_from(&mut buf).await {
        if !cut.load(Ordering::Relaxed) {
            let _ = via.send_to(&buf[..n], to).await;
        }
    }
}

async fn watch_relayed(ws: &str, token: &str, cut: Arc<AtomicBool>) -> Result<Relayed, BoxSendError> {
    let mut s = Signal::connect(ws, token).await?;
    s.expect("welcome", Duration::from_secs(10)).await?;
    s.send(json!({"type": "subscribe"}));
    let offer = s.offer("view").await?;
    let toward_viewer = Arc::new(UdpSocket::bind((LOOPBACK, 0)).await?);
    let toward_server = Arc::new(UdpSocket::bind((LOOPBACK, 0)).await?);
    let server = candidate_addr(&offer).ok_or("no candidate in the offer")?;
    let offer = rewrite(&offer, server, toward_viewer.local_addr()?);
    let (viewer, answer) = Viewer::answer(offer, LOOPBACK).await?;
    let client = candidate_addr(&answer).ok_or("no candidate in the answer")?;
    let answer = rewrite(&answer, client, toward_server.local_addr()?);
    let tasks = vec![
        tokio::spawn(forward(
            toward_viewer.clone(),
            toward_server.clone(),
            server,
            cut.clone(),
        )),
        tokio::spawn(forward(toward_server, toward_viewer, client, cut)),
    ];
    s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
    Ok(Relayed {
        _signal: s,
        viewer,
        _tasks: tasks,
    })
}

/// Joins directly, as a page does after a restart: retries every second until the socket opens.
async fn watch_again(ws: String, token: String, deadline: Instant) -> Result<(Signal, Viewer), BoxSendError> {
    loop {
        let attempt = async {
            let mut s = Signal::connect(&ws, &token).await?;
            s.expect("welcome", Duration::from_secs(10)).await?;
            s.send(json!({"type": "subscribe"}));
            let offer = s.offer("view").await?;
            let (viewer, answer) = Viewer::answer(offer, LOOPBACK).await?;
            s.send(json!({"type": "answer", "leg": "view", "sdp": answer}));
            Ok::<_, BoxSendError>((s, viewer))
        };
        match attempt.await {
            Ok(joined) => return Ok(joined),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Waits until every viewer has received a keyframe beyond `before[i]`; the time each took from `from`
/// (ms), for those that did within `limit`.
async fn keyframe_times(viewers: &[&Viewer], before: &[u64], from: Instant, limit: Duration) -> Vec<f64> {
    let mut times: Vec<Option<f64>> = vec![None; viewers.len()];
    while from.elapsed() < limit && times.iter().any(Option::is_none) {
        for (i, v) in viewers.iter().enumerate() {
            if times[i].is_none() && v.stats.keyframes.load(Ordering::Relaxed) > before[i] {
                times[i] = Some(from.elapsed().as_secs_f64() * 1000.0);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    times.into_iter().flatten().collect()
}

fn report(what: &str, mut ms: Vec<f64>, of: usize) {
    ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{what}: {} of {of} viewers; p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms.len(),
        quantile(&mut ms.clone(), 0.5),
        quantile(&mut ms.clone(), 0.99),
        ms.last().copied().unwrap_or(0.0)
    );
}

async fn cut_run(ws: &str, seeded: &Seed, secs: u64) -> Result<(), Error> {
    let cut = Arc::new(AtomicBool::new(false));
    let mut crowd = Vec::new();
    for chunk in seeded.chairs.chunks(10) {
        let joins = chunk.iter().map(|t| watch_relayed(ws, t, cut.clone()));
        for r in futures_util::future::join_all(joins).await {
            crowd.push(r.map_err(|e| e.to_string())?);
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let viewers: Vec<&Viewer> = crowd.iter().map(|r| &r.viewer).collect();
    cut.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let before: Vec<u64> = viewers
        .iter()
        .map(|v| v.stats.keyframes.load(Ordering::Relaxed))
        .collect();
    cut.store(false, Ordering::Relaxed);
    let ended = Instant::now();
    let times = keyframe_times(&viewers, &before, ended, Duration::from_secs(30)).await;
    report(
        &format!("picture back after a {secs} s cut (cut end → first keyframe)"),
        times,
        viewers.len(),
    );
    Ok(())
}

async fn restart_run(
    ws: &str,
    seeded: &Seed,
    server: &mut Server,
    spec: &ServerSpec<'_>,
    kbps: u32,
) -> Result<Server, Error> {
    let mut crowd = Vec::new();
    for chunk in seeded.chairs.chunks(10) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let joins = chunk.iter().map(|t| watch_again(ws.to_string(), t.clone(), deadline));
        for r in futures_util::future::join_all(joins).await {
            crowd.push(r.map_err(|e| e.to_string())?);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopping = Instant::now();
    server.terminate()?;
    println!(
        "SIGTERM → process gone: {:.0} ms",
        stopping.elapsed().as_secs_f64() * 1000.0
    );
    drop(crowd);
    let started = Instant::now();
    let new = Server::start_on(spec, server.port).await?;
    let (lecturer, publisher) = publish(ws, &seeded.lecturer, kbps, false).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let joins = seeded
        .chairs
        .iter()
        .map(|t| tokio::spawn(watch_again(ws.to_string(), t.clone(), deadline)));
    let mut back = Vec::new();
    for j in futures_util::future::join_all(joins).await {
        if let Ok(Ok(joined)) = j {
            back.push(joined);
        }
    }
    let viewers: Vec<&Viewer> = back.iter().map(|(_, v)| v).collect();
    let zeros = vec![0; viewers.len()];
    let times = keyframe_times(&viewers, &zeros, started, Duration::from_secs(60)).await;
    report(
        "back after a restart (new process started → first keyframe)",
        times,
        seeded.chairs.len(),
    );
    publisher.close().await;
    drop(lecturer);
    Ok(new)
}

fn spec<'a>(bin: &'a Path, url: &'a str, dir: &'a Path, cpus: Option<&'a str>) -> ServerSpec<'a> {
    ServerSpec {
        bin,
        database_url: url,
        var_dir: dir,
        banks_dir: dir.join("no-banks"),
        secret_key: "load-test-secret-key-load-test-secret-key",
        env: vec![],
        cpus,
        wait: Duration::from_secs(20),
    }
}

/// Where the room page is told to open its socket (`GET /sessions/{id}/room/socket` on `base`): the
/// socket URL and how long the lease of the node named has to run.
async fn locate(client: &reqwest::Client, base: &str, session: i64, token: &str) -> Option<(String, u64)> {
    let r = client
        .get(format!("{base}/sessions/{session}/room/socket"))
        .header("Cookie", format!("q_sid={token}"))
        .send()
        .await
        .ok()?;
    let body: serde_json::Value = r.error_for_status().ok()?.json().await.ok()?;
    Some((
        body["ws"].as_str()?.to_string(),
        body["settle_ms"].as_u64().unwrap_or(0),
    ))
}

/// What a room page does after its node failed: ask `base` where the room is; told the node that
/// failed again, wait out its lease (plus up to a second of jitter) and ask again; else connect there.
async fn relocate(
    client: &reqwest::Client,
    base: &str,
    session: i64,
    token: &str,
    failed: &str,
    deadline: Instant,
) -> Result<String, BoxSendError> {
    while Instant::now() < deadline {
        match locate(client, base, session, token).await {
            Some((ws, settle)) if ws == failed && settle > 0 => {
                let jitter = rand_jitter_ms(token);
                tokio::time::sleep(Duration::from_millis(settle + jitter)).await;
            }
            Some((ws, _)) if ws != failed => return Ok(ws),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    Err("the room was not found on another node in time".into())
}

/// Up to a second, different for each client (as the page's `Math.random()`).
fn rand_jitter_ms(token: &str) -> u64 {
    token
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1000
}

async fn failover_run(args: &Args, bin: &Path, url: &str, dir: &Path, seeded: &Seed) -> Result<(), Error> {
    let mut nodes = Vec::new();
    for id in ["a", "b"] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let var = dir.join(format!("node-{id}"));
        std::fs::create_dir_all(&var)?;
        let mut spec = spec(bin, url, &var, args.server_cpus.as_deref());
        spec.env = vec![
            ("QUORUM__CLUSTER__NODE_ID", id.to_string()),
            ("QUORUM__CLUSTER__NODE_URL", format!("http://127.0.0.1:{port}")),
        ];
        nodes.push(Server::start_on(&spec, port).await?);
    }
    let ws_a = format!("ws://127.0.0.1:{}/sessions/{}/ws", nodes[0].port, seeded.session);
    let base_b = nodes[1].base_url();
    // The lecture and every viewer on A (their sockets arrive there first).
    let (lecturer, publisher) = publish(&ws_a, &seeded.lecturer, args.kbps, false).await?;
    let mut crowd = Vec::new();
    for chunk in seeded.chairs.chunks(10) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let joins = chunk.iter().map(|t| watch_again(ws_a.clone(), t.clone(), deadline));
        for r in futures_util::future::join_all(joins).await {
            crowd.push(r.map_err(|e| e.to_string())?);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let failed = Instant::now();
    // SIGTERM: the node hands the room over and tells the pages at once (1012) while it finishes
    // stopping. SIGKILL: nothing is said; the sockets just drop.
    let drained = args.failover == Some(Failover::Term);
    if drained {
        nodes[0].send_term()?;
    } else {
        nodes[0].kill()?;
    }
    let client = reqwest::Client::new();
    let deadline = failed + Duration::from_secs(60);
    let (session, failed_ws) = (seeded.session, ws_a.clone());
    let lecture = {
        let (client, base, failed_ws, token) = (
            client.clone(),
            base_b.clone(),
            failed_ws.clone(),
            seeded.lecturer.clone(),
        );
        let kbps = args.kbps;
        let old = (lecturer, publisher);
        tokio::spawn(async move {
            as_a_page(old.0, drained, &token).await;
            old.1.close().await;
            let ws = relocate(&client, &base, session, &token, &failed_ws, deadline).await?;
            publish(&ws, &token, kbps, false)
                .await
                .map_err(|e| BoxSendError::from(e.to_string()))
        })
    };
    let joins = seeded.chairs.iter().zip(crowd).map(|(t, (signal, viewer))| {
        let (client, base, failed_ws, token) = (client.clone(), base_b.clone(), failed_ws.clone(), t.clone());
        tokio::spawn(async move {
            as_a_page(signal, drained, &token).await;
            viewer.close().await;
            let ws = relocate(&client, &base, session, &token, &failed_ws, deadline).await?;
            watch_again(ws, token, deadline).await
        })
    });
    let joins = futures_util::future::join_all(joins).await;
    let _lecture = lecture.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    let mut back = Vec::new();
    for j in joins {
        if let Ok(Ok(joined)) = j {
            back.push(joined);
        }
    }
    let viewers: Vec<&Viewer> = back.iter().map(|(_, v)| v).collect();
    let zeros = vec![0; viewers.len()];
    let times = keyframe_times(&viewers, &zeros, failed, Duration::from_secs(60)).await;
    let what = match args.failover {
        Some(Failover::Term) => "room moved by draining (SIGTERM to node A → first keyframe on B)",
        _ => "room failed over (SIGKILL of node A → first keyframe on B)",
    };
    report(what, times, seeded.chairs.len());
    _lecture.1.close().await;
    Ok(())
}

/// What the room page does when its node goes: told it is restarting (a drain), it waits 1–2 s
/// (jittered, as `room.js` does after a 1012) before asking where the room is; a socket that just
/// dropped (a killed node) is retried after its 1–1.5 s back-off.
async fn as_a_page(mut signal: Signal, drained: bool, token: &str) {
    let jitter = rand_jitter_ms(token);
    if drained {
        let _ = signal.expect("restarting", Duration::from_secs(5)).await;
        tokio::time::sleep(Duration::from_millis(1000 + jitter)).await;
    } else {
        tokio::time::sleep(Duration::from_millis(1000 + jitter / 2)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("quorum-recovery-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = loadgen::database_url(
        &args.database,
        &dir,
        "load.db",
        &format!("quorum_recovery_{}", std::process::id()),
    )
    .await?;
    let bin = loadgen::server_binary(args.server.clone())?;
    let seeded = seed_live_room(&url, &dir, args.viewers).await?;
    if args.failover.is_some() {
        failover_run(&args, &bin, &url, &dir, &seeded).await?;
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    let spec = spec(&bin, &url, &dir, args.server_cpus.as_deref());
    let mut server = Server::start(&spec).await?;
    let ws = format!("ws://127.0.0.1:{}/sessions/{}/ws", server.port, seeded.session);
    let (lecturer, publisher): (Signal, Publisher) = publish(&ws, &seeded.lecturer, args.kbps, false).await?;
    if let Some(secs) = args.cut_secs {
        cut_run(&ws, &seeded, secs).await?;
    }
    if args.restart {
        // The lecturer's connection dies with the old process; she publishes again to the new one.
        let restarted = restart_run(&ws, &seeded, &mut server, &spec, args.kbps).await?;
        drop(restarted);
    }
    publisher.close().await;
    drop(lecturer);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
