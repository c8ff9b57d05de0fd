//! The command line: `serve` (default), `migrate`, `create-admin`, `import-roster`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::org::OrgKind;
use crate::domain::person::{Role, Roles};
use crate::services::people::AccountInput;
use crate::services::{self, ServiceError};
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
pub enum BanksCommand {
    /// Validate every bank in DIR (default: the configured banks folder); exits non-zero on any problem.
    Check { dir: Option<PathBuf> },
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(settings).await?.run_until_stopped().await?,
        Command::Migrate => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin {
            name,
            phone,
            email,
            password,
        } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let input = AccountInput::parse(
                &name,
                &phone,
                email.as_deref().unwrap_or(""),
                &["admin".into()],
                &[],
                None,
                "",
            )
            .map_err(|errs| {
                anyhow::anyhow!(
                    errs.iter()
                        .map(|(f, t)| format!("{f}: {t}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
            let hash = services::passwords::hash(
                crate::domain::person::NewPassword::parse(&password, &password)
                    .map_err(|t| anyhow::anyhow!("password: {t}"))?
                    .expose()
                    .to_string(),
            )
            .await?;
            match services::people::create(
                &conn,
                &AccountInput {
                    roles: Roles::new([Role::Admin]),
                    ..input
                },
                Some(hash),
            )
            .await
            {
                Ok(id) => println!("administrator created (id {id})"),
                Err(ServiceError::Rejected(errs)) => anyhow::bail!(
                    errs.iter()
                        .map(|(f, t)| format!("{f}: {t}"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Err(e) => return Err(e.into()),
            }
        }
        Command::Banks {
            command: BanksCommand::Check { dir },
        } => {
            let dir = dir.unwrap_or_else(|| settings.paths.banks_dir.clone());
            let report = crate::question_banks::check::check_dir(&dir);
            for line in report.lines() {
                println!("{line}");
            }
            if !report.is_clean() {
                anyhow::bail!("{} problems in {}", report.lines().len(), dir.display());
            }
            println!(
                "{}: {} banks, {} questions, {} statutes — all valid",
                dir.display(),
                report.files.len(),
                report.question_count(),
                report.statutes.len()
            );
        }
        Command::ImportRoster { file, street, dry_run } => {
            let conn = db::connect(&settings).await?;
            db::migrate(&conn).await?;
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let streets: Vec<_> = db::org::all_of_kind(&conn, OrgKind::Street)
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
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let plan = services::roster::plan_file(&conn, s.id, &name, bytes.clone()).await?;
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
            match services::roster::import_file(&conn, s.id, &name, &bytes).await {
                Ok(o) => println!(
                    "created {}, updated {}, unchanged {}",
                    o.created, o.updated, o.unchanged
                ),
                Err(ServiceError::Refused(t)) => anyhow::bail!("{t}"),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
