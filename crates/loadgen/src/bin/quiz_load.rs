//! Load generator for the in-class quiz (see BENCHMARKS.md).
//!
//! Seeds a database (the shipped question banks, a street, K chairs who attended a live session, a quiz
//! opened for all of them), starts the release server on it, then simulates K chairs starting at random
//! moments within a window: each opens the quiz link, loads the attempt page, saves 10 answers one by
//! one through the autosave API and submits. Reports throughput and p50/p99 latency per request kind
//! and every error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use quorum::domain::person::{Role, Roles};
use quorum::domain::quiz::{BlueprintRule, QuizSettings};
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::services::access::{SessionAccess, StreetScope};
use quorum::services::people::AccountInput;
use quorum::services::sessions::{Invitees, NoRoom, SessionInput};

const SECRET: &str = "quiz-load-secret-key-quiz-load-secret-key";

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
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Seeded {
    quiz: i64,
    tokens: Vec<String>,
    open_ms: u128,
}

async fn seed(url: &str, dir: &std::path::Path, chairs: usize) -> Result<Seeded, Box<dyn std::error::Error>> {
    let mut settings = testkit::settings(url, dir.to_path_buf());
    settings.database.max_connections = 4;
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    quorum::services::banks::sync_dir(&db, &question_banks()).await?;
    let district = quorum::services::org::create_unit(&db, None, "测试区", None).await?;
    let street = quorum::services::org::create_unit(&db, Some(district.id), "测试街道", None).await?;
    let committee = quorum::services::org::ensure_committee(&db, street.id, "一居委", "一号小区").await?;
    let account = |name: &str, phone: String, role: Role, committee: Option<i64>| {
        AccountInput::parse(name, &phone, "", &[role.code().to_string()], &[], committee, "").map(|i| AccountInput {
            roles: Roles::new([role]),
            ..i
        })
    };
    let lawyer = quorum::services::people::create(
        &db,
        &account("讲师", "13700000000".into(), Role::Lawyer, None).map_err(|e| format!("{e:?}"))?,
        None,
    )
    .await?;
    // Opening the quiz needs a moderator.
    let admin = quorum::services::people::create(
        &db,
        &account("管理员", "13700000001".into(), Role::Admin, None).map_err(|e| format!("{e:?}"))?,
        None,
    )
    .await?;
    let now = chrono::Utc::now();
    let fmt = |t: chrono::DateTime<chrono::Utc>| (t + chrono::Duration::hours(8)).format("%Y-%m-%dT%H:%M").to_string();
    let schedule = Schedule::parse(
        "压力测试",
        "",
        &fmt(now - chrono::Duration::hours(1)),
        &fmt(now + chrono::Duration::hours(1)),
    )
    .map_err(|e| format!("{e:?}"))?;
    let mut ids = Vec::with_capacity(chairs);
    for i in 0..chairs {
        let input =
            account("主任", format!("136{i:08}"), Role::Chair, Some(committee)).map_err(|e| format!("{e:?}"))?;
        ids.push(quorum::services::people::create(&db, &input, None).await?);
    }
    let input = SessionInput {
        schedule,
        street: street.id,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    let session = quorum::services::sessions::create(&db, &StreetScope::All, lawyer, &input).await?;
    quorum::db::training::set_status(&db, session, SessionStatus::Live, now - chrono::Duration::minutes(50)).await?;
    for id in &ids {
        let iv = quorum::db::training::open_interval(&db, session, *id, now - chrono::Duration::minutes(51)).await?;
        quorum::db::training::touch_interval(&db, iv, now).await?;
    }
    let quiz_settings = QuizSettings {
        blueprint: vec![
            BlueprintRule {
                topic: "业主大会".into(),
                count: 5,
            },
            BlueprintRule {
                topic: "业委会组建与换届改选".into(),
                count: 5,
            },
        ],
        time_limit_minutes: 30,
        ..Default::default()
    };
    quorum::services::quiz::save_settings(&db, session, &quiz_settings).await?;
    let t = Instant::now();
    let moderates = SessionAccess::current(&db, admin, session)
        .await?
        .ok_or("the admin may not moderate")?
        .moderates()?;
    let room = NoRoom { present: ids.clone() };
    let opened = quorum::services::quiz::open(&db, &moderates, &room).await?;
    let open_ms = t.elapsed().as_millis();
    let mut tokens = Vec::with_capacity(chairs);
    for id in ids {
        let p = quorum::db::people::get(&db, id).await?.ok_or("no person")?;
        tokens.push(quorum::services::accounts::start_session(&db, p, 1).await?.token);
    }
    db.close().await?;
    Ok(Seeded {
        quiz: opened.quiz_id,
        tokens,
        open_ms,
    })
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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(bin)
        .arg("serve")
        .env("QUORUM__DATABASE__URL", &url)
        .env("QUORUM__DATABASE__MAX_CONNECTIONS", "16")
        .env("QUORUM__PATHS__VAR_DIR", &dir)
        .env("QUORUM__PATHS__BANKS_DIR", question_banks())
        .env("QUORUM__DEMO__SEED", "false")
        .env("QUORUM__SERVER__PORT", port.to_string())
        .env("QUORUM__SECURITY__SECRET_KEY", SECRET)
        .env("QUORUM_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("server did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(2048)
        .build()?;
    let stats: Arc<Mutex<BTreeMap<&'static str, Kind>>> = Arc::default();
    let nonce = "loadtest-nonce-0123456789abcdef";
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, token) in seeded.tokens.into_iter().enumerate() {
        // Tokens are bound to each chair's session.
        let csrf = quorum::web::csrf::token_for(SECRET.as_bytes(), &quorum::web::csrf::binding_for_session(&token));
        let (client, stats, base) = (client.clone(), stats.clone(), base.clone());
        let offset = Duration::from_millis((i as u64 * args.window * 1000) / args.chairs as u64);
        let quiz = seeded.quiz;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let cookie = format!("q_sid={token}; q_csrf={nonce}");
            let record = |kind: &'static str, t: Instant, ok: Result<(), String>| {
                let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
                let k = s.entry(kind).or_default();
                k.ms.push(t.elapsed().as_secs_f64() * 1000.0);
                if let Err(e) = ok {
                    k.errors.push(e);
                }
            };
            let t = Instant::now();
            let r = client
                .get(format!("{base}/quiz/{quiz}"))
                .header("Cookie", &cookie)
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
            record(
                "open quiz link",
                t,
                location
                    .as_ref()
                    .map(|_| ())
                    .ok_or_else(|| format!("{:?}", r.map(|r| r.status()))),
            );
            let Some(attempt_path) = location else { return };
            let t = Instant::now();
            let r = client
                .get(format!("{base}{attempt_path}"))
                .header("Cookie", &cookie)
                .send()
                .await;
            let ok = match r {
                Ok(r) if r.status().is_success() => r.text().await.map(|_| ()).map_err(|e| e.to_string()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            };
            record("attempt page", t, ok);
            let id = attempt_path.rsplit('/').next().unwrap_or("0").to_string();
            for pos in 0..10 {
                let t = Instant::now();
                let r = client
                    .post(format!("{base}/api/attempts/{id}/answers"))
                    .header("Cookie", &cookie)
                    .header("X-CSRF-Token", &csrf)
                    .json(&serde_json::json!({"position": pos, "choice": [0]}))
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) if r.status().as_u16() == 200 => Ok(()),
                    // A true/false question takes a truth value: resend in that shape.
                    Ok(r) if r.status().as_u16() == 409 => {
                        let again = client
                            .post(format!("{base}/api/attempts/{id}/answers"))
                            .header("Cookie", &cookie)
                            .header("X-CSRF-Token", &csrf)
                            .json(&serde_json::json!({"position": pos, "truth": true}))
                            .send()
                            .await;
                        match again {
                            Ok(r) if r.status().as_u16() == 200 => Ok(()),
                            Ok(r) => Err(r.status().to_string()),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Ok(r) => Err(r.status().to_string()),
                    Err(e) => Err(e.to_string()),
                };
                record("save answer", t, ok);
            }
            let t = Instant::now();
            let r = client
                .post(format!("{base}/attempts/{id}/submit"))
                .header("Cookie", &cookie)
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await;
            let ok = match r {
                Ok(r) if r.status().as_u16() == 303 => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            };
            record("submit", t, ok);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let total = started.elapsed().as_secs_f64();
    println!(
        "chairs: {} over a {} s window on {}; all done in {total:.1} s",
        args.chairs,
        args.window,
        if args.database == "sqlite" {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "request", "count", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let stats = stats.lock().unwrap_or_else(|e| e.into_inner());
    for (kind, k) in stats.iter() {
        let mut ms = k.ms.clone();
        ms.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| {
            ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        println!(
            "{kind:<16} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7}",
            ms.len(),
            ms.len() as f64 / total,
            p(0.5),
            p(0.99),
            p(1.0),
            k.errors.len()
        );
        for e in k.errors.iter().take(3) {
            println!("    e.g. {e}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
