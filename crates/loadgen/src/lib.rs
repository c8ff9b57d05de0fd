//! Quorum's benchmarks and load generators (see BENCHMARKS.md): `room_load` (the live room's SFU),
//! `room_recovery` (the room after a media cut or a server restart),
//! `quiz_load` (the in-class quiz), `cert_bench` (certificate PDFs and their delivery) and `report_bench`
//! (street dashboard and session reports at district scale). The service never links this crate.
//!
//! The benchmarks that measure the server over HTTP start the real `quorum` binary as a child process,
//! so build it first with the same profile: `cargo build --release --bin quorum`.
//!
//! This library holds what the binaries share; the data seeding and synthetic clients are in `testkit`.

#![forbid(unsafe_code)]

pub mod janus;
pub mod room;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quorum::domain::person::{Role, Roles};
use quorum::services::people::AccountInput;
use sea_orm::DatabaseConnection;

pub type Error = Box<dyn std::error::Error>;

/// The server binary to start: `explicit`, or the `quorum` next to this program (same target folder and
/// profile). Cargo does not build another package's binary for a dependency, hence the hint.
pub fn server_binary(explicit: Option<PathBuf>) -> Result<PathBuf, Error> {
    let bin = match explicit {
        Some(b) => b,
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("quorum"))
            .ok_or("this program has no folder")?,
    };
    if !bin.is_file() {
        return Err(format!(
            "no server binary at {}: build it first (`cargo build --release --bin quorum`) or pass --server",
            bin.display()
        )
        .into());
    }
    Ok(bin)
}

/// A database for one run: `sqlite` gives a file `file` in `dir`; a PostgreSQL URL gets a new database
/// named `name` created on that server (left behind afterwards, for inspection).
pub async fn database_url(spec: &str, dir: &Path, file: &str, name: &str) -> Result<String, Error> {
    if spec == "sqlite" {
        return Ok(format!("sqlite://{}?mode=rwc", dir.join(file).display()));
    }
    Ok(testkit::database::create_postgres(spec, name).await?)
}

/// The `q` quantile of `ms` (sorts it).
pub fn quantile(ms: &mut [f64], q: f64) -> f64 {
    ms.sort_by(|a, b| a.total_cmp(b));
    ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// How to start the server for one run.
pub struct ServerSpec<'a> {
    pub bin: &'a Path,
    pub database_url: &'a str,
    pub var_dir: &'a Path,
    pub banks_dir: PathBuf,
    pub secret_key: &'a str,
    /// More `QUORUM__…` settings for this benchmark.
    pub env: Vec<(&'static str, String)>,
    /// Pin the server to these CPUs (`taskset -c`).
    pub cpus: Option<&'a str>,
    /// How long to wait for the port to accept connections.
    pub wait: Duration,
}

/// The `quorum serve` child process; killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Starts the server on a free port and waits until it accepts connections.
    pub async fn start(spec: &ServerSpec<'_>) -> Result<Server, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        Server::start_on(spec, port).await
    }

    /// Starts the server on `port` (a restart on the port it had) and waits until it accepts connections.
    pub async fn start_on(spec: &ServerSpec<'_>, port: u16) -> Result<Server, Error> {
        let child = server_command(spec)
            .arg("serve")
            .env("QUORUM__DATABASE__URL", spec.database_url)
            .env("QUORUM__PATHS__VAR_DIR", spec.var_dir)
            .env("QUORUM__PATHS__BANKS_DIR", &spec.banks_dir)
            .env("QUORUM__DEMO__SEED", "false")
            .env("QUORUM__SERVER__PORT", port.to_string())
            .env("QUORUM__SECURITY__SECRET_KEY", spec.secret_key)
            .envs(spec.env.iter().map(|(k, v)| (*k, v)))
            .env("QUORUM_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?;
        let server = Server { child, port };
        server.wait_for_port(spec.wait).await?;
        Ok(server)
    }

    async fn wait_for_port(&self, wait: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + wait;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                return Err("the server did not start".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// SIGTERM, as systemd or `docker stop` sends, and waits for the process to exit.
    pub fn terminate(&mut self) -> Result<(), Error> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err("kill -TERM failed".into());
        }
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM without waiting: the clients react to what the server tells them while it stops.
    pub fn send_term(&self) -> Result<(), Error> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err("kill -TERM failed".into());
        }
        Ok(())
    }

    /// SIGKILL: the process dies without a word, as in a crash or a lost machine.
    pub fn kill(&mut self) -> Result<(), Error> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// The server's process id (for /proc measurements).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:port`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// `bin`, or `taskset -c cpus bin`: taskset execs the server, so the child's pid is the server's.
fn server_command(spec: &ServerSpec<'_>) -> Command {
    match spec.cpus {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c).arg(spec.bin);
            cmd
        }
        None => Command::new(spec.bin),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A district with one street and one committee: (street id, committee id).
pub async fn street_with_committee(db: &DatabaseConnection) -> Result<(i64, i64), Error> {
    let district = quorum::services::org::create_unit(db, None, "测试区", None).await?;
    let street = quorum::services::org::create_unit(db, Some(district.id), "测试街道", None).await?;
    let committee = quorum::services::org::ensure_committee(db, street.id, "一居委", "一号小区").await?;
    Ok((street.id, committee))
}

/// An account with exactly `role`, through the service; its id.
pub async fn create_account(
    db: &DatabaseConnection,
    name: &str,
    phone: String,
    role: Role,
    committee: Option<i64>,
) -> Result<i64, Error> {
    let input = AccountInput::parse(name, &phone, "", &[role.code().to_string()], &[], committee, "")
        .map(|i| AccountInput {
            roles: Roles::new([role]),
            ..i
        })
        .map_err(|e| format!("{e:?}"))?;
    Ok(quorum::services::people::create(db, &input, None).await?)
}

/// A signed-in session token for each person, in order.
pub async fn session_tokens(db: &DatabaseConnection, ids: &[i64]) -> Result<Vec<String>, Error> {
    let mut tokens = Vec::with_capacity(ids.len());
    for id in ids {
        let p = quorum::db::people::get(db, *id).await?.ok_or("no person")?;
        tokens.push(quorum::services::accounts::start_session(db, p, 1).await?.token);
    }
    Ok(tokens)
}
