//! Test and benchmark support for Quorum: what the integration tests (`tests/api`) and the load
//! generators (`crates/loadgen`) need around the service, kept out of it. The `quorum` binary never links
//! this crate, so its dependencies (an SMTP server, a WebSocket client) stay out of the service's build.
//!
//! - [`smtp`]: a real SMTP server on 127.0.0.1 that keeps what it receives and can refuse or stall.
//! - [`room_client`]: synthetic live-room clients (signaling, a publisher, viewers that measure).
//! - [`seed`]: bulk data for the benchmarks (a district, certificates with queued emails).
//! - [`settings`], [`database`]: settings and fresh databases for a test or a benchmark run.
//!
//! Everything here talks to the service through `quorum`'s public API: services, `db` query functions,
//! the room protocol. It is not for production use.

#![forbid(unsafe_code)]

pub mod database;
pub mod room_client;
pub mod seed;
pub mod smtp;

use std::path::PathBuf;

use quorum::config::Settings;

/// Settings for a test or a benchmark: the given database, port 0, no demo data, a fixed key, and no
/// question banks unless the caller points `paths.banks_dir` at some (loading the shipped ones every
/// time is slow). Panics if they do not load: that is a bug in this function, not in the caller.
pub fn settings(database_url: &str, var_dir: PathBuf) -> Settings {
    let env = [
        ("QUORUM__DATABASE__URL".to_string(), database_url.to_string()),
        ("QUORUM__SERVER__PORT".to_string(), "0".to_string()),
        ("QUORUM__SERVER__WORKERS".to_string(), "2".to_string()),
        ("QUORUM__DEMO__SEED".to_string(), "false".to_string()),
        (
            "QUORUM__SECURITY__SECRET_KEY".to_string(),
            "test-secret-key-test-secret-key-0123456789".to_string(),
        ),
        ("QUORUM__PATHS__VAR_DIR".to_string(), var_dir.display().to_string()),
        (
            "QUORUM__PATHS__BANKS_DIR".to_string(),
            var_dir.join("banks").display().to_string(),
        ),
    ];
    match Settings::load_from(None, env.into_iter()) {
        Ok(s) => s,
        Err(e) => panic!("test settings are invalid: {e}"),
    }
}
