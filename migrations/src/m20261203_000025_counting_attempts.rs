//! Each chair's attempt that counts at a quiz (`domain::attempt::counting_attempt`) is marked when an
//! attempt is submitted, so that a district's dashboard sums marked rows from one index instead of
//! ranking a hundred thousand attempts per request. Attempts submitted before this are marked here by
//! the same rule, written in SQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counting rule over submitted attempts, per quiz and chair: the first pass; without a pass, the
/// best score (correct/total, scaled to integers as the Rust rule does), the later attempt on a tie.
/// Window functions: SQLite 3.25 and PostgreSQL alike.
pub const MARK_COUNTING: &str = "UPDATE attempts SET counts = TRUE WHERE id IN (\
    SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY quiz_id, person_id ORDER BY \
        CASE WHEN passed THEN 1 ELSE 0 END DESC, \
        CASE WHEN passed THEN -number \
             WHEN total > 0 THEN COALESCE(correct, 0) * 1000000 / total \
             ELSE -1 END DESC, \
        CASE WHEN passed THEN 0 ELSE number END DESC) AS place \
    FROM attempts WHERE status = 'submitted') ranked WHERE place = 1)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attempts::Table)
                    .add_column(boolean(Attempts::Counts).default(false))
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared(MARK_COUNTING).await?;
        // The tally index read only submitted attempts grouped per quiz and chair; the marked rows
        // replace that grouping.
        manager
            .drop_index(
                Index::drop()
                    .name("ix_attempts_tally")
                    .table(Attempts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attempts_counting")
                    .table(Attempts::Table)
                    .col(Attempts::QuizId)
                    .col(Attempts::Counts)
                    .col(Attempts::PersonId)
                    .col(Attempts::Passed)
                    .col(Attempts::Makeup)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_attempts_counting")
                    .table(Attempts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attempts_tally")
                    .table(Attempts::Table)
                    .col(Attempts::QuizId)
                    .col(Attempts::Status)
                    .col(Attempts::PersonId)
                    .col(Attempts::Passed)
                    .col(Attempts::Makeup)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Attempts::Table)
                    .drop_column(Attempts::Counts)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Attempts {
    Table,
    QuizId,
    Status,
    PersonId,
    Passed,
    Makeup,
    Counts,
}
