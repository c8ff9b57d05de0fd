//! A version written on the web may be kept as a draft: its author goes on editing it, and only once
//! she submits it does it wait for a second lawyer's approval. `submitted_at` is null for a draft;
//! every version before this was submitted when written.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(QuestionVersions::Table)
                    .add_column(timestamp_with_time_zone_null(QuestionVersions::SubmittedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE question_versions SET submitted_at = created_at")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(QuestionVersions::Table)
                    .drop_column(QuestionVersions::SubmittedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum QuestionVersions {
    Table,
    SubmittedAt,
}
