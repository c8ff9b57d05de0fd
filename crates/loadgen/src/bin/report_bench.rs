//! Report benchmark (see BENCHMARKS.md): generates a district (10,000 chairs, N sessions, M attempts
//! with ten answers each) on SQLite or PostgreSQL, starts the release server on it, and times the
//! district and street dashboards, what the district gets wrong, and session reports over HTTP as an
//! official of the district would request them.

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::quantile as p;
use loadgen::{Error, Server, ServerSpec};
use testkit::seed::District;

#[derive(Parser)]
#[command(about = "Report benchmark: dashboards, per-area mistakes and session reports at district scale")]
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

/// Response times in ms by report, and how many responses were not a success.
#[derive(Default)]
struct Timings {
    district: Vec<f64>,
    dashboard: Vec<f64>,
    mistakes: Vec<f64>,
    report: Vec<f64>,
    errors: usize,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
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
    let t = Instant::now();
    let (district, token) = generate(&url, &dir, &args).await?;
    eprintln!("generated the district in {:.0} s", t.elapsed().as_secs_f64());
    let server = start_server(&bin, &url, &dir).await?;
    let timings = time_reports(&args, &server.base_url(), &token, &district).await?;
    drop(server);
    report(&args, timings);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The district, and a signed-in session token for its official.
async fn generate(url: &str, dir: &Path, args: &Args) -> Result<(District, String), Error> {
    let settings = testkit::settings(url, dir.to_path_buf());
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    let d = testkit::seed::district(&db, args.sessions, args.attempts).await?;
    // A bulk load leaves PostgreSQL without statistics until autovacuum's next pass; a database in
    // service has them, so gather them now (SQLite plans without them).
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE").await?;
    }
    let official = quorum::db::people::get(&db, d.official).await?.ok_or("official")?;
    let token = quorum::services::accounts::start_session(&db, official, 1).await?.token;
    db.close().await?;
    Ok((d, token))
}

async fn start_server(bin: &Path, url: &str, dir: &Path) -> Result<Server, Error> {
    Server::start(&ServerSpec {
        bin,
        database_url: url,
        var_dir: dir,
        banks_dir: dir.join("none"),
        secret_key: "report-bench-secret-key-report-bench-secret",
        env: vec![("QUORUM__EMAIL__WORKER", "false".into())],
        cpus: None,
        wait: Duration::from_secs(10),
    })
    .await
}

/// Requests the district and street dashboards, the district's mistakes and a session report
/// `requests` times each, one after the other.
async fn time_reports(args: &Args, base: &str, token: &str, d: &District) -> Result<Timings, Error> {
    let client = reqwest::Client::new();
    let cookie = format!("q_sid={token}");
    let mut timings = Timings::default();
    let range = "from=2020-01-01&to=2030-12-31";
    for i in 0..args.requests {
        let district = format!("{base}/street/dashboard?unit={}&{range}", d.district);
        let (ms, ok) = time(&client, &cookie, district).await?;
        timings.district.push(ms);
        timings.errors += usize::from(!ok);
        let dashboard = format!("{base}/street/dashboard?unit={}&{range}", d.street);
        let (ms, ok) = time(&client, &cookie, dashboard).await?;
        timings.dashboard.push(ms);
        timings.errors += usize::from(!ok);
        let mistakes = format!("{base}/street/mistakes?unit={}&{range}", d.district);
        let (ms, ok) = time(&client, &cookie, mistakes).await?;
        timings.mistakes.push(ms);
        timings.errors += usize::from(!ok);
        let report = format!("{base}/sessions/{}/report", d.sessions[i % d.sessions.len()]);
        let (ms, ok) = time(&client, &cookie, report).await?;
        timings.report.push(ms);
        timings.errors += usize::from(!ok);
    }
    Ok(timings)
}

/// (milliseconds to the whole body, whether the status was a success).
async fn time(client: &reqwest::Client, cookie: &str, url: String) -> Result<(f64, bool), reqwest::Error> {
    let t = Instant::now();
    let r = client.get(url).header("Cookie", cookie).send().await?;
    let ok = r.status().is_success();
    r.bytes().await?;
    Ok((t.elapsed().as_secs_f64() * 1000.0, ok))
}

fn report(args: &Args, mut t: Timings) {
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
        "district dashboard (10,000 chairs, all sessions): p50 {:.0} ms, p99 {:.0} ms",
        p(&mut t.district, 0.5),
        p(&mut t.district, 0.99)
    );
    println!(
        "what the district gets wrong (every answer of every attempt): p50 {:.0} ms, p99 {:.0} ms",
        p(&mut t.mistakes, 0.5),
        p(&mut t.mistakes, 0.99)
    );
    println!(
        "street dashboard (1,000 chairs, 30 sessions): p50 {:.0} ms, p99 {:.0} ms",
        p(&mut t.dashboard, 0.5),
        p(&mut t.dashboard, 0.99)
    );
    println!(
        "session report (100 committees invited): p50 {:.0} ms, p99 {:.0} ms",
        p(&mut t.report, 0.5),
        p(&mut t.report, 0.99)
    );
    println!("errors: {}", t.errors);
}
