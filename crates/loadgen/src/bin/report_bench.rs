//! Report benchmark (see BENCHMARKS.md): generates a district (10,000 chairs, N sessions, M attempts)
//! on SQLite or PostgreSQL, starts the release server on it, and times the street dashboard and session
//! reports over HTTP as an official of the district would request them.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::quantile as p;

#[derive(Parser)]
#[command(about = "Report benchmark: street dashboard and session report at district scale")]
struct Args {
    #[arg(long, default_value_t = 300)]
    sessions: usize,
    #[arg(long, default_value_t = 100_000)]
    attempts: usize,
    /// `sqlite` or a PostgreSQL URL to create a temporary database on.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Requests per report kind.
    #[arg(long, default_value_t = 50)]
    requests: usize,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("quorum-reportbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bin = loadgen::server_binary(None)?;
    let url = loadgen::database_url(
        &args.database,
        &dir,
        "r.db",
        &format!("quorum_rbench_{}", std::process::id()),
    )
    .await?;
    let settings = testkit::settings(&url, dir.clone());
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    let t = Instant::now();
    let d = testkit::seed::district(&db, args.sessions, args.attempts).await?;
    let official = quorum::db::people::get(&db, d.official).await?.ok_or("official")?;
    let token = quorum::services::accounts::start_session(&db, official, 1).await?.token;
    db.close().await?;
    eprintln!("generated the district in {:.0} s", t.elapsed().as_secs_f64());

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = Command::new(bin)
        .arg("serve")
        .env("QUORUM__DATABASE__URL", &url)
        .env("QUORUM__PATHS__VAR_DIR", &dir)
        .env("QUORUM__PATHS__BANKS_DIR", dir.join("none"))
        .env("QUORUM__DEMO__SEED", "false")
        .env("QUORUM__EMAIL__WORKER", "false")
        .env("QUORUM__SERVER__PORT", port.to_string())
        .env(
            "QUORUM__SECURITY__SECRET_KEY",
            "report-bench-secret-key-report-bench-secret",
        )
        .env("QUORUM_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = reqwest::Client::new();
    let cookie = format!("q_sid={token}");
    let time = |path: String| {
        let (client, cookie) = (client.clone(), cookie.clone());
        async move {
            let t = Instant::now();
            let r = client.get(path).header("Cookie", cookie).send().await?;
            let ok = r.status().is_success();
            let body = r.bytes().await?;
            Ok::<_, reqwest::Error>((t.elapsed().as_secs_f64() * 1000.0, ok, body.len()))
        }
    };
    let mut dashboard = Vec::new();
    let mut report = Vec::new();
    let mut errors = 0;
    for i in 0..args.requests {
        let (ms, ok, _) = time(format!(
            "{base}/street/dashboard?unit={}&from=2020-01-01&to=2030-12-31",
            d.street
        ))
        .await?;
        dashboard.push(ms);
        errors += usize::from(!ok);
        let (ms, ok, _) = time(format!("{base}/sessions/{}/report", d.sessions[i % d.sessions.len()])).await?;
        report.push(ms);
        errors += usize::from(!ok);
    }
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{}: {} sessions, {} attempts, 10,000 chairs; {} requests each",
        if args.database == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        args.sessions,
        args.attempts,
        args.requests
    );
    println!(
        "street dashboard (1,000 chairs, 30 sessions): p50 {:.0} ms, p99 {:.0} ms",
        p(&mut dashboard, 0.5),
        p(&mut dashboard, 0.99)
    );
    println!(
        "session report (100 committees invited): p50 {:.0} ms, p99 {:.0} ms",
        p(&mut report, 0.5),
        p(&mut report, 0.99)
    );
    println!("errors: {errors}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
