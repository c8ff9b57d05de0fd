//! Load generator for the in-class quiz (see BENCHMARKS.md).
//!
//! Seeds a database (the shipped question banks, a street, K chairs who attended a live session, a quiz
//! opened for all of them), starts the release server on it, then simulates K chairs starting at random
//! moments within a window: each opens the quiz link, loads the attempt page, saves 10 answers one by
//! one through the autosave API and submits. Reports throughput and p50/p99 latency per request kind
//! and every error. With `--nodes N`, N servers share the database as cluster nodes and the chairs are
//! dealt among them in turn, as a proxy's round robin would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use loadgen::{Error, Server, ServerSpec, create_account, quantile, session_tokens, street_with_committee};
use quorum::domain::person::Role;
use quorum::domain::quiz::{BlueprintRule, QuizSettings};
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::services::access::{SessionAccess, StreetScope};
use quorum::services::sessions::{Invitees, NoRoom, SessionInput};
use sea_orm::DatabaseConnection;

const SECRET: &str = "quiz-load-secret-key-quiz-load-secret-key";
const NONCE: &str = "loadtest-nonce-0123456789abcdef";

#[derive(Parser)]
#[command(about = "Load generator for Quorum's in-class quiz")]
struct Args {
    /// Chairs taking the quiz.
    #[arg(long, default_value_t = 1000)]
    chairs: usize,
    /// Seconds over which chairs start.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// `sqlite` (a temporary file) or a PostgreSQL URL to create a temporary database on.
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// The server binary (default: the `quorum` next to this program).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Server processes on the one database (cluster nodes `n1`, `n2`, …).
    #[arg(long, default_value_t = 1)]
    nodes: usize,
}

type Stats = Arc<Mutex<BTreeMap<&'static str, Kind>>>;

struct Seeded {
    quiz: i64,
    tokens: Vec<String>,
    open_ms: u128,
}

async fn seed(url: &str, dir: &std::path::Path, chairs: usize) -> Result<Seeded, Error> {
    let db = connect(url, dir).await?;
    let now = chrono::Utc::now();
    let (street, committee) = street_with_committee(&db).await?;
    let lawyer = create_account(&db, "讲师", "13700000000".into(), Role::Lawyer, None).await?;
    // Opening the quiz needs a moderator.
    let admin = create_account(&db, "管理员", "13700000001".into(), Role::Admin, None).await?;
    let mut ids = Vec::with_capacity(chairs);
    for i in 0..chairs {
        ids.push(create_account(&db, "主任", format!("136{i:08}"), Role::Chair, Some(committee)).await?);
    }
    let session = live_session(&db, street, lawyer, &ids, now).await?;
    configure_quiz(&db, session).await?;
    let t = Instant::now();
    let quiz = open_quiz(&db, session, admin, &ids).await?;
    let open_ms = t.elapsed().as_millis();
    let tokens = session_tokens(&db, &ids).await?;
    db.close().await?;
    Ok(Seeded { quiz, tokens, open_ms })
}

/// A migrated database with the shipped question banks.
async fn connect(url: &str, dir: &std::path::Path) -> Result<DatabaseConnection, Error> {
    let mut settings = testkit::settings(url, dir.to_path_buf());
    settings.database.max_connections = 4;
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    quorum::services::banks::sync_dir(&db, &question_banks()).await?;
    Ok(db)
}

/// A session that went live 50 minutes ago and that every chair in `chairs` has attended since.
async fn live_session(
    db: &DatabaseConnection,
    street: i64,
    lawyer: i64,
    chairs: &[i64],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Error> {
    let fmt = |t: chrono::DateTime<chrono::Utc>| (t + chrono::Duration::hours(8)).format("%Y-%m-%dT%H:%M").to_string();
    let schedule = Schedule::parse(
        "压力测试",
        "",
        &fmt(now - chrono::Duration::hours(1)),
        &fmt(now + chrono::Duration::hours(1)),
    )
    .map_err(|e| format!("{e:?}"))?;
    let input = SessionInput {
        schedule,
        street,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    let session = quorum::services::sessions::create(
        db,
        &StreetScope::All,
        &quorum::services::audit::Actor::console(),
        &input,
    )
    .await?;
    quorum::db::sessions::set_status(db, session, SessionStatus::Live, now - chrono::Duration::minutes(50)).await?;
    for id in chairs {
        let iv = quorum::db::sessions::open_interval(db, session, *id, now - chrono::Duration::minutes(51)).await?;
        quorum::db::sessions::touch_interval(db, iv, now).await?;
    }
    Ok(session)
}

/// Ten questions: five from each of two topics, 30 minutes.
async fn configure_quiz(db: &DatabaseConnection, session: i64) -> Result<(), Error> {
    let rule = |topic: &str| BlueprintRule {
        topic: topic.into(),
        count: 5,
    };
    let quiz_settings = QuizSettings {
        blueprint: vec![rule("业主大会"), rule("业委会组建与换届改选")],
        time_limit_minutes: 30,
        ..Default::default()
    };
    quorum::services::quiz::save_settings(db, session, &quiz_settings).await?;
    Ok(())
}

/// Opens the quiz as `admin` for everyone in `present` (which creates their attempts); the quiz id.
async fn open_quiz(db: &DatabaseConnection, session: i64, admin: i64, present: &[i64]) -> Result<i64, Error> {
    let moderates = SessionAccess::current(db, admin, session)
        .await?
        .ok_or("the admin may not moderate")?
        .moderates()?;
    let room = NoRoom {
        present: present.to_vec(),
    };
    Ok(quorum::services::quiz::open(db, &moderates, &room).await?.quiz_id)
}

/// The shipped question banks (the repository's `question-banks/`).
fn question_banks() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../question-banks")
}

#[derive(Default)]
struct Kind {
    ms: Vec<f64>,
    errors: Vec<String>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("quorum-quizload-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bin = loadgen::server_binary(args.server.clone())?;
    let url = loadgen::database_url(
        &args.database,
        &dir,
        "quiz.db",
        &format!("quorum_load_{}", std::process::id()),
    )
    .await?;
    let t = Instant::now();
    let seeded = seed(&url, &dir, args.chairs).await?;
    eprintln!(
        "seeded {} chairs in {:.0} s; opening the quiz created their attempts in {} ms",
        args.chairs,
        t.elapsed().as_secs_f64(),
        seeded.open_ms
    );
    let mut servers = Vec::new();
    for n in 1..=args.nodes.max(1) {
        servers.push(start_server(&bin, &url, &dir, (args.nodes > 1).then_some(n)).await?);
    }
    let bases: Vec<String> = servers.iter().map(Server::base_url).collect();
    let started = Instant::now();
    let stats = run_chairs(&args, &bases, seeded).await?;
    report(&args, &stats, started.elapsed().as_secs_f64());
    drop(servers);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One server, or cluster node `n{node}` (its own var dir, the shared database and signing key).
async fn start_server(bin: &Path, url: &str, dir: &Path, node: Option<usize>) -> Result<Server, Error> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut env = vec![("QUORUM__DATABASE__MAX_CONNECTIONS", "16".to_string())];
    let var_dir = match node {
        Some(n) => {
            env.push(("QUORUM__CLUSTER__NODE_ID", format!("n{n}")));
            env.push(("QUORUM__CLUSTER__NODE_URL", format!("http://127.0.0.1:{port}")));
            dir.join(format!("node-{n}"))
        }
        None => dir.to_path_buf(),
    };
    std::fs::create_dir_all(&var_dir)?;
    let spec = ServerSpec {
        bin,
        database_url: url,
        var_dir: &var_dir,
        banks_dir: question_banks(),
        secret_key: SECRET,
        env,
        cpus: None,
        wait: Duration::from_secs(30),
    };
    Server::start_on(&spec, port).await
}

/// Every chair takes the quiz, starting spread evenly over the window, on the servers in turn; the
/// timings by request kind.
async fn run_chairs(args: &Args, bases: &[String], seeded: Seeded) -> Result<Stats, Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(2048)
        .build()?;
    let stats: Stats = Arc::default();
    let mut tasks = Vec::new();
    for (i, token) in seeded.tokens.into_iter().enumerate() {
        let base = &bases[i % bases.len()];
        let chair = Chair::new(client.clone(), base, &token, stats.clone());
        let offset = Duration::from_millis((i as u64 * args.window * 1000) / args.chairs as u64);
        let quiz = seeded.quiz;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            chair.take_quiz(quiz).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(stats)
}

/// One synthetic chair's browser.
struct Chair {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
    stats: Stats,
}

impl Chair {
    fn new(client: reqwest::Client, base: &str, token: &str, stats: Stats) -> Chair {
        // Tokens are bound to each chair's session.
        let csrf = quorum::web::csrf::token_for(SECRET.as_bytes(), &quorum::web::csrf::binding_for_session(token));
        Chair {
            client,
            base: base.to_string(),
            cookie: format!("q_sid={token}; q_csrf={NONCE}"),
            csrf,
            stats,
        }
    }

    fn record(&self, kind: &'static str, t: Instant, ok: Result<(), String>) {
        let mut s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let k = s.entry(kind).or_default();
        k.ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Err(e) = ok {
            k.errors.push(e);
        }
    }

    /// Link, attempt page, ten answers, submit; stops early if the link does not lead to an attempt.
    async fn take_quiz(self, quiz: i64) {
        let Some(attempt_path) = self.open_link(quiz).await else {
            return;
        };
        self.attempt_page(&attempt_path).await;
        let id = attempt_path.rsplit('/').next().unwrap_or("0").to_string();
        for pos in 0..10 {
            self.save_answer(&id, pos).await;
        }
        self.submit(&id).await;
    }

    /// The quiz link redirects to the chair's attempt: its path.
    async fn open_link(&self, quiz: i64) -> Option<String> {
        let t = Instant::now();
        let r = self
            .client
            .get(format!("{}/quiz/{quiz}", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await;
        let location = match &r {
            Ok(r) if r.status().as_u16() == 303 => r
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_string),
            _ => None,
        };
        let ok = location
            .as_ref()
            .map(|_| ())
            .ok_or_else(|| format!("{:?}", r.map(|r| r.status())));
        self.record("open quiz link", t, ok);
        location
    }

    async fn attempt_page(&self, path: &str) {
        let t = Instant::now();
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .send()
            .await;
        let ok = match r {
            Ok(r) if r.status().is_success() => r.text().await.map(|_| ()).map_err(|e| e.to_string()),
            Ok(r) => Err(r.status().to_string()),
            Err(e) => Err(e.to_string()),
        };
        self.record("attempt page", t, ok);
    }

    async fn save_answer(&self, id: &str, pos: usize) {
        let t = Instant::now();
        let ok = match self
            .post_answer(id, serde_json::json!({"position": pos, "choice": [0]}))
            .await
        {
            Ok(r) if r.status().as_u16() == 200 => Ok(()),
            // A true/false question takes a truth value: resend in that shape.
            Ok(r) if r.status().as_u16() == 409 => expect_status(
                self.post_answer(id, serde_json::json!({"position": pos, "truth": true}))
                    .await,
                200,
            ),
            other => expect_status(other, 200),
        };
        self.record("save answer", t, ok);
    }

    async fn post_answer(&self, id: &str, body: serde_json::Value) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(format!("{}/api/attempts/{id}/answers", self.base))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
    }

    async fn submit(&self, id: &str) {
        let t = Instant::now();
        let r = self
            .client
            .post(format!("{}/attempts/{id}/submit", self.base))
            .header("Cookie", &self.cookie)
            .form(&[("csrf", self.csrf.as_str()), ("confirm", "yes")])
            .send()
            .await;
        self.record("submit", t, expect_status(r, 303));
    }
}

/// Ok if the response came with `status`, else the status or the error as text.
fn expect_status(r: reqwest::Result<reqwest::Response>, status: u16) -> Result<(), String> {
    match r {
        Ok(r) if r.status().as_u16() == status => Ok(()),
        Ok(r) => Err(r.status().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn report(args: &Args, stats: &Stats, total: f64) {
    println!(
        "chairs: {} over a {} s window on {}, {} server process(es); all done in {total:.1} s",
        args.chairs,
        args.window,
        if args.database == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        args.nodes.max(1)
    );
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "request", "count", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let stats = stats.lock().unwrap_or_else(|e| e.into_inner());
    for (kind, k) in stats.iter() {
        report_kind(kind, k, total);
    }
}

fn report_kind(kind: &str, k: &Kind, total: f64) {
    let mut ms = k.ms.clone();
    println!(
        "{kind:<16} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7}",
        ms.len(),
        ms.len() as f64 / total,
        quantile(&mut ms, 0.5),
        quantile(&mut ms, 0.99),
        quantile(&mut ms, 1.0),
        k.errors.len()
    );
    for e in k.errors.iter().take(3) {
        println!("    e.g. {e}");
    }
}
