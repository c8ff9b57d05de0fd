//! Persistence: connecting, migrating, and query functions that take `&impl ConnectionTrait` (so they work
//! inside and outside transactions) and return domain types. Entities never leave this module.

pub mod audit;
pub mod banks;
pub mod certificates;
pub(crate) mod entities;
pub mod nodes;
pub mod org;
pub mod people;
pub mod quiz;
pub mod recordings;
pub mod regrades;
pub mod rooms;
pub mod roster;
pub mod sessions;
pub mod signin;
pub mod sms;
pub mod statutes;
pub mod web_sessions;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, SqlErr};

use crate::config::Settings;

pub use sea_orm::{ConnectionTrait, DatabaseConnection as Db, TransactionTrait};

/// Opens the pool. For SQLite the file's folder is created and WAL mode switched on, so readers do not
/// block the writer (many chairs save answers at once).
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    if settings.is_sqlite()
        && let Some(path) = sqlite_path(&settings.database.url)
        && let Some(parent) = std::path::Path::new(&path).parent()
    {
        std::fs::create_dir_all(parent).map_err(|e| DbErr::Custom(format!("creating {}: {e}", parent.display())))?;
    }
    let mut opts = ConnectOptions::new(settings.database.url.clone());
    opts.max_connections(settings.database.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // 16 MiB of page cache per connection (the default is 2 MiB): district reports read
                // tens of thousands of rows spread over a large file.
                .pragma("cache_size", "-16384")
        });
    Database::connect(opts).await
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Starts a transaction that will write. On SQLite it takes the write lock at BEGIN (IMMEDIATE): a
/// deferred transaction that reads and then writes cannot wait for the lock when another writer got in
/// between (SQLITE_BUSY_SNAPSHOT fails at once, busy_timeout does not help). PostgreSQL ignores it.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// True when the error is a unique-constraint violation: callers turn it into a domain error.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths() {
        assert_eq!(
            super::sqlite_path("sqlite:///tmp/x.db?mode=rwc").as_deref(),
            Some("/tmp/x.db")
        );
        assert_eq!(super::sqlite_path("sqlite::memory:"), None);
    }
}
