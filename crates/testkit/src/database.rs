//! Fresh databases for a test or a benchmark run.

use sea_orm::{ConnectionTrait, Database, DbErr};

/// Creates database `name` on the PostgreSQL server of `admin_url` (a URL with a database path, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`) and returns the URL of the new database.
pub async fn create_postgres(admin_url: &str, name: &str) -> Result<String, DbErr> {
    let (prefix, _) = admin_url
        .rsplit_once('/')
        .ok_or_else(|| DbErr::Custom(format!("database URL has no path: {admin_url}")))?;
    let admin = Database::connect(admin_url).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    admin.close().await?;
    Ok(format!("{prefix}/{name}"))
}
