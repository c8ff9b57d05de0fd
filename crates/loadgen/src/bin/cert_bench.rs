//! Certificate benchmark (see BENCHMARKS.md): milliseconds and bytes per certificate PDF, and the time
//! to deliver N certificates through the email outbox to a local SMTP server.

use std::path::Path;
use std::time::Instant;

use clap::Parser;
use loadgen::Error;
use quorum::config::{Settings, SmtpSecurity};
use quorum::domain::certificate::{CertificateContent, new_verification_code};
use quorum::services::certificates::Outbox;
use sea_orm::DatabaseConnection;

#[derive(Parser)]
#[command(about = "Certificate PDF and email delivery benchmark")]
struct Args {
    /// PDFs to render for the timing.
    #[arg(long, default_value_t = 100)]
    pdfs: usize,
    /// Certificates to deliver through the outbox.
    #[arg(long, default_value_t = 1000)]
    emails: usize,
}

fn content(i: usize) -> CertificateContent {
    CertificateContent {
        name: ["王秀英", "李建华", "欧阳娜娜", "张玥"][i % 4].to_string(),
        committee: "联洋花园业主委员会".into(),
        estate: "联洋花园".into(),
        session_title: "业主大会召开与业委会换届改选实务".into(),
        session_date: "2026年11月25日".into(),
        lecturers: vec!["刘建国".into()],
        correct: 9,
        total: 10,
        street: "花木街道".into(),
        issued_on: "2026年11月25日".into(),
        via_replay: false,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    bench_pdfs(args.pdfs)?;
    bench_delivery(args.emails).await
}

/// Renders `pdfs` certificates one after the other and prints the time and size of each.
fn bench_pdfs(pdfs: usize) -> Result<(), Error> {
    let t = Instant::now();
    let mut bytes = 0;
    for i in 0..pdfs {
        let code = new_verification_code();
        let pdf = quorum::pdf::render(
            &content(i),
            "2026-S0002-000001",
            &code,
            &format!("https://quorum.example/verify/{code}"),
        )?;
        bytes += pdf.len();
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / pdfs as f64;
    println!(
        "PDF: {} certificates, {per:.1} ms each on one thread, {} bytes on average",
        pdfs,
        bytes / pdfs.max(1)
    );
    Ok(())
}

/// A fresh database with `emails` issued certificates, each with its email job, delivered by two
/// outbox workers to a local SMTP server.
async fn bench_delivery(emails: usize) -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("quorum-certbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut settings = testkit::settings(
        &format!("sqlite://{}?mode=rwc", dir.join("b.db").display()),
        dir.clone(),
    );
    let db = quorum::db::connect(&settings).await?;
    quorum::db::migrate(&db).await?;
    let ids = testkit::seed::certificates_with_jobs(&db, emails, &content(0)).await?;
    let server = testkit::smtp::start(0)?;
    let outbox = local_outbox(&mut settings, server.port, &dir)?;
    let t = Instant::now();
    let (n1, n2) = two_workers(&db, &outbox).await;
    let elapsed = t.elapsed().as_secs_f64();
    println!(
        "delivery: {} of {} certificates sent through the outbox (two workers: {} + {}) to a local SMTP server in {elapsed:.1} s; {} messages received",
        n1 + n2,
        ids,
        n1,
        n2,
        server.inbox.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// An outbox that mails through the local SMTP server on `port`.
fn local_outbox(settings: &mut Settings, port: u16, dir: &Path) -> Result<Outbox, Error> {
    settings.email.smtp_host = Some("127.0.0.1".into());
    settings.email.smtp_port = port;
    settings.email.smtp_security = SmtpSecurity::None;
    Ok(Outbox {
        mailer: quorum::email::Mailer::from_settings(&settings.email, dir)?,
        public_url: "https://quorum.example".into(),
        message_id_domain: "quorum.example".into(),
        worker: "bench".into(),
    })
}

/// Two workers, as two app processes would run: how many each sent.
async fn two_workers(db: &DatabaseConnection, outbox: &Outbox) -> (usize, usize) {
    let second = Outbox {
        worker: "bench-2".into(),
        ..outbox.clone()
    };
    let (n1, n2) = tokio::join!(
        tokio::spawn(drain(db.clone(), outbox.clone())),
        tokio::spawn(drain(db.clone(), second))
    );
    (n1.unwrap_or(0), n2.unwrap_or(0))
}

/// Sends due emails 50 at a time until none is left (or an error); how many were sent.
async fn drain(db: DatabaseConnection, o: Outbox) -> usize {
    let mut n = 0;
    loop {
        match quorum::services::certificates::send_due(&db, &o, 50).await {
            Ok(0) => break n,
            Ok(k) => n += k,
            Err(e) => {
                eprintln!("worker error: {e}");
                break n;
            }
        }
    }
}
