//! Logging setup. Log lines carry ids and masked values only: `PhoneNumber`, `EmailAddress` and
//! `DisplayName` mask themselves when formatted with `{}`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("QUORUM_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
