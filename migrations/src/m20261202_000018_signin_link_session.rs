//! A personal sign-in link may be issued for one training session: spending it then leads its owner
//! straight into that session's lobby instead of the home page. Null for links issued from the chairs'
//! list (they lead home, as before).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: SQLite cannot add one to an existing table; a link whose session is gone
        // simply leads home (the service checks the session exists).
        manager
            .alter_table(
                Table::alter()
                    .table(SigninLinks::Table)
                    .add_column(big_integer_null(SigninLinks::SessionId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigninLinks::Table)
                    .drop_column(SigninLinks::SessionId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SigninLinks {
    Table,
    SessionId,
}
