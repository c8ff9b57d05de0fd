//! Quorum's benchmarks and load generators (see BENCHMARKS.md): `room_load` (the live room's SFU),
//! `quiz_load` (the in-class quiz), `cert_bench` (certificate PDFs and their delivery) and `report_bench`
//! (street dashboard and session reports at district scale). The service never links this crate.
//!
//! The benchmarks that measure the server over HTTP start the real `quorum` binary as a child process,
//! so build it first with the same profile: `cargo build --release --bin quorum`.
//!
//! This library holds what the binaries share; the data seeding and synthetic clients are in `testkit`.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

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
