//! The command line: `serve` (default), `migrate`, `create-admin`, `import-roster`.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::domain::audit::Action;
use crate::domain::org::OrgKind;
use crate::domain::person::{NewPassword, Role, Roles};
use crate::services::people::AccountInput;
use crate::services::{self, FieldErrors, ServiceError};
use crate::{db, startup::Application};

#[derive(Parser)]
#[command(
    name = "quorum",
    version,
    about = "业委会学堂 — training and quizzes for owners' committee chairs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create an administrator account.
    CreateAdmin {
        #[arg(long)]
        name: String,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        email: Option<String>,
        /// The password (at least 8 characters). Prefer the environment variable to keep it out of
        /// shell history.
        #[arg(long, env = "QUORUM_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Question banks: `banks check [DIR]` validates bank files and prints `file:line: message`.
    Banks {
        #[command(subcommand)]
        command: BanksCommand,
    },
    /// The audit trail: `audit check` verifies its hash chain; exits non-zero when it is broken.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Import a street's roster of chairs (CSV or XLSX). Nothing is imported if any row is bad.
    ImportRoster {
        file: PathBuf,
        /// The street's name, as in the organisation tree.
        #[arg(long)]
        street: String,
        /// Only show what would change.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that every entry hashes to what it records and follows the one before, to the head.
    Check,
}

#[derive(Subcommand)]
pub enum BanksCommand {
    /// Validate every bank in DIR (default: the configured banks folder); exits non-zero on any problem.
    Check { dir: Option<PathBuf> },
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(settings).await?.run_until_stopped().await?,
        Command::Migrate => {
            migrated(&settings).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin {
            name,
            phone,
            email,
            password,
        } => create_admin(&settings, &name, &phone, email.as_deref(), &password).await?,
        Command::Banks {
            command: BanksCommand::Check { dir },
        } => check_banks(dir.unwrap_or_else(|| settings.paths.banks_dir.clone()))?,
        Command::Audit {
            command: AuditCommand::Check,
        } => check_audit(&settings).await?,
        Command::ImportRoster { file, street, dry_run } => import_roster(&settings, &file, &street, dry_run).await?,
    }
    Ok(())
}

/// Verifies the audit chain; an error (non-zero exit) names where it breaks.
async fn check_audit(settings: &Settings) -> anyhow::Result<()> {
    let conn = migrated(settings).await?;
    match services::audit::check(&conn).await? {
        Ok(c) => {
            println!("audit trail intact: {} entries; last hash {}", c.entries, c.head_hash);
            Ok(())
        }
        Err(broken) => anyhow::bail!("audit trail broken: {broken}"),
    }
}

/// A connection to a migrated database.
async fn migrated(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let conn = db::connect(settings).await?;
    db::migrate(&conn).await?;
    Ok(conn)
}

/// `field: message; field: message` for the terminal.
fn listed(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(f, t)| format!("{f}: {t}"))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn create_admin(
    settings: &Settings,
    name: &str,
    phone: &str,
    email: Option<&str>,
    password: &str,
) -> anyhow::Result<()> {
    let conn = migrated(settings).await?;
    let input = AccountInput::parse(name, phone, email.unwrap_or(""), &["admin".into()], &[], None, "")
        .map_err(|errs| anyhow::anyhow!(listed(&errs)))?;
    let password = NewPassword::parse(password, password).map_err(|t| anyhow::anyhow!("password: {t}"))?;
    let hash = services::accounts::passwords::hash(password.expose().to_string()).await?;
    let input = AccountInput {
        roles: Roles::new([Role::Admin]),
        ..input
    };
    match services::people::create(&conn, &input, Some(hash)).await {
        Ok(id) => println!("administrator created (id {id})"),
        Err(ServiceError::Rejected(errs)) => anyhow::bail!(listed(&errs)),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn check_banks(dir: PathBuf) -> anyhow::Result<()> {
    let report = crate::question_banks::check::check_dir(&dir);
    for line in report.lines() {
        println!("{line}");
    }
    if !report.is_clean() {
        anyhow::bail!("{} problems in {}", report.lines().len(), dir.display());
    }
    let shared = report.shared_rules();
    if !shared.is_empty() {
        println!("rules tested in more than one bank (a quiz draws at most one question of each):");
        for (rule, questions) in &shared {
            println!("  {rule}");
            for q in questions {
                println!("    {q}");
            }
        }
    }
    println!(
        "{}: {} banks, {} questions, {} statutes — all valid",
        dir.display(),
        report.files.len(),
        report.question_count(),
        report.statutes.len()
    );
    Ok(())
}

async fn import_roster(settings: &Settings, file: &Path, street: &str, dry_run: bool) -> anyhow::Result<()> {
    let conn = migrated(settings).await?;
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let street_id = street_named(&conn, street).await?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let plan = services::roster::plan_file(&conn, street_id, &name, bytes.clone()).await?;
    for e in &plan.errors {
        eprintln!("{}:{e}", file.display());
    }
    if !plan.errors.is_empty() {
        anyhow::bail!("{} problems; nothing imported", plan.errors.len());
    }
    if dry_run {
        println!(
            "{} rows OK; would create, update or keep them (dry run)",
            plan.rows.len()
        );
        return Ok(());
    }
    match services::roster::import_file(&conn, street_id, &name, &bytes).await {
        Ok(o) => {
            println!(
                "created {}, updated {}, unchanged {}",
                o.created, o.updated, o.unchanged
            );
            let summary = format!(
                "命令行导入：新增 {}，更新 {}，未变 {}",
                o.created, o.updated, o.unchanged
            );
            let object = format!("street:{street_id}");
            let actor = services::audit::Actor::console();
            services::audit::record(&conn, &actor, Action::RosterImport, object, summary).await?;
        }
        Err(ServiceError::Refused(t)) => anyhow::bail!("{t}"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// The id of the one street with this name.
async fn street_named(conn: &DatabaseConnection, street: &str) -> anyhow::Result<i64> {
    let streets: Vec<_> = db::org::all_of_kind(conn, OrgKind::Street)
        .await?
        .into_iter()
        .filter(|s| s.name == street)
        .collect();
    let [s] = streets.as_slice() else {
        anyhow::bail!(
            "street “{street}”: {} streets have that name (need exactly one)",
            streets.len()
        );
    };
    Ok(s.id)
}
