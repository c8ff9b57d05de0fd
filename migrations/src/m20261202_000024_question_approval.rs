//! A second lawyer approves each version before it is drawn: a question keeps the version it is drawn
//! with (`approved_version_id`) while a newer one awaits approval; each version records who wrote it,
//! who approved it and when, or who sent it back and why. Questions in use before this keep being
//! drawn with their current version.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Questions::Table)
                    .add_column(big_integer_null(Questions::ApprovedVersionId))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for col in [
            big_integer_null(QuestionVersions::AuthorId),
            string_len_null(QuestionVersions::ApprovedBy, 100),
            big_integer_null(QuestionVersions::ApprovedById),
            timestamp_with_time_zone_null(QuestionVersions::ApprovedAt),
            string_len_null(QuestionVersions::ReturnedBy, 100),
            timestamp_with_time_zone_null(QuestionVersions::ReturnedAt),
            text_null(QuestionVersions::ReturnComment),
        ] {
            let mut col = col;
            manager
                .alter_table(
                    Table::alter()
                        .table(QuestionVersions::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("UPDATE questions SET approved_version_id = current_version_id")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            QuestionVersions::AuthorId,
            QuestionVersions::ApprovedBy,
            QuestionVersions::ApprovedById,
            QuestionVersions::ApprovedAt,
            QuestionVersions::ReturnedBy,
            QuestionVersions::ReturnedAt,
            QuestionVersions::ReturnComment,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(QuestionVersions::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Questions::Table)
                    .drop_column(Questions::ApprovedVersionId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Questions {
    Table,
    ApprovedVersionId,
}

#[derive(DeriveIden, Clone, Copy)]
enum QuestionVersions {
    Table,
    AuthorId,
    ApprovedBy,
    ApprovedById,
    ApprovedAt,
    ReturnedBy,
    ReturnedAt,
    ReturnComment,
}
