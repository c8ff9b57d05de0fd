//! An email attempt is recorded *before* the message is handed to SMTP (state `sending`) and closed
//! afterwards (`sent` or `failed`), so a process that dies mid-send leaves a trace (`interrupted` once
//! the job is reclaimed). Attempts recorded before this change were written after the fact.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailAttempts::Table)
                    .add_column(string_len(EmailAttempts::State, 16).default("sent"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(EmailAttempts::Table)
                    .value(EmailAttempts::State, "failed")
                    .and_where(Expr::col(EmailAttempts::Error).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailAttempts::Table)
                    .drop_column(EmailAttempts::State)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum EmailAttempts {
    Table,
    State,
    Error,
}
