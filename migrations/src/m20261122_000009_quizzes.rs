//! The in-class quiz: one per session, attempts created up front when it opens, and one row per drawn
//! question pinned to the question version it showed, with the option order it was shown in.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;
use crate::m20261122_000006_training_sessions::TrainingSessions;
use crate::m20261122_000007_question_banks::{QuestionVersions, Questions};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(quizzes()).await?;
        manager.create_table(attempts()).await?;
        manager.create_index(ux_attempts_quiz_person_number()).await?;
        manager.create_index(ix_attempts_status_deadline()).await?;
        manager.create_table(attempt_items()).await?;
        manager.create_index(ux_attempt_items_position()).await?;
        manager.create_index(ix_attempt_items_version()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AttemptItems::Table.into_iden(),
            Attempts::Table.into_iden(),
            Quizzes::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

fn quizzes() -> TableCreateStatement {
    Table::create()
        .table(Quizzes::Table)
        .col(big_pk_auto(Quizzes::Id))
        .col(big_integer_uniq(Quizzes::SessionId))
        .col(text(Quizzes::Blueprint))
        .col(integer(Quizzes::PassMark))
        .col(integer(Quizzes::TimeLimitMinutes))
        .col(integer(Quizzes::AttemptsAllowed))
        .col(integer(Quizzes::RetakeWaitMinutes))
        .col(integer(Quizzes::AttendanceGate))
        .col(string_len(Quizzes::Reveal, 16))
        .col(string_len(Quizzes::Status, 16))
        .col(timestamp_with_time_zone_null(Quizzes::OpenedAt))
        .col(timestamp_with_time_zone_null(Quizzes::ClosesAt))
        .col(timestamp_with_time_zone_null(Quizzes::ClosedAt))
        .col(timestamp_with_time_zone(Quizzes::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Quizzes::Table, Quizzes::SessionId)
                .to(TrainingSessions::Table, TrainingSessions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn attempts() -> TableCreateStatement {
    Table::create()
        .table(Attempts::Table)
        .col(big_pk_auto(Attempts::Id))
        .col(big_integer(Attempts::QuizId))
        .col(big_integer(Attempts::PersonId))
        .col(integer(Attempts::Number))
        .col(big_integer(Attempts::Seed))
        .col(string_len(Attempts::Status, 16))
        .col(timestamp_with_time_zone(Attempts::CreatedAt))
        .col(timestamp_with_time_zone_null(Attempts::StartedAt))
        .col(timestamp_with_time_zone(Attempts::Deadline))
        .col(timestamp_with_time_zone_null(Attempts::SubmittedAt))
        .col(string_len_null(Attempts::SubmittedBy, 16))
        .col(integer_null(Attempts::Correct))
        .col(integer(Attempts::Total))
        .col(boolean_null(Attempts::Passed))
        .foreign_key(
            ForeignKey::create()
                .from(Attempts::Table, Attempts::QuizId)
                .to(Quizzes::Table, Quizzes::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Attempts::Table, Attempts::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ux_attempts_quiz_person_number() -> IndexCreateStatement {
    Index::create()
        .name("ux_attempts_quiz_person_number")
        .table(Attempts::Table)
        .col(Attempts::QuizId)
        .col(Attempts::PersonId)
        .col(Attempts::Number)
        .unique()
        .to_owned()
}

fn ix_attempts_status_deadline() -> IndexCreateStatement {
    Index::create()
        .name("ix_attempts_status_deadline")
        .table(Attempts::Table)
        .col(Attempts::Status)
        .col(Attempts::Deadline)
        .to_owned()
}

fn attempt_items() -> TableCreateStatement {
    Table::create()
        .table(AttemptItems::Table)
        .col(big_pk_auto(AttemptItems::Id))
        .col(big_integer(AttemptItems::AttemptId))
        .col(integer(AttemptItems::Position))
        .col(big_integer(AttemptItems::QuestionId))
        .col(big_integer(AttemptItems::VersionId))
        .col(string_len(AttemptItems::OptionOrder, 64))
        .col(string_len_null(AttemptItems::Answer, 128))
        .col(timestamp_with_time_zone_null(AttemptItems::AnsweredAt))
        .col(boolean_null(AttemptItems::Correct))
        .foreign_key(
            ForeignKey::create()
                .from(AttemptItems::Table, AttemptItems::AttemptId)
                .to(Attempts::Table, Attempts::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(AttemptItems::Table, AttemptItems::QuestionId)
                .to(Questions::Table, Questions::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(AttemptItems::Table, AttemptItems::VersionId)
                .to(QuestionVersions::Table, QuestionVersions::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

fn ux_attempt_items_position() -> IndexCreateStatement {
    Index::create()
        .name("ux_attempt_items_position")
        .table(AttemptItems::Table)
        .col(AttemptItems::AttemptId)
        .col(AttemptItems::Position)
        .unique()
        .to_owned()
}

fn ix_attempt_items_version() -> IndexCreateStatement {
    Index::create()
        .name("ix_attempt_items_version")
        .table(AttemptItems::Table)
        .col(AttemptItems::VersionId)
        .to_owned()
}

#[derive(DeriveIden)]
pub enum Quizzes {
    Table,
    Id,
    SessionId,
    Blueprint,
    PassMark,
    TimeLimitMinutes,
    AttemptsAllowed,
    RetakeWaitMinutes,
    AttendanceGate,
    Reveal,
    Status,
    OpenedAt,
    ClosesAt,
    ClosedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Attempts {
    Table,
    Id,
    QuizId,
    PersonId,
    Number,
    Seed,
    Status,
    CreatedAt,
    StartedAt,
    Deadline,
    SubmittedAt,
    SubmittedBy,
    Correct,
    Total,
    Passed,
}

#[derive(DeriveIden)]
pub enum AttemptItems {
    Table,
    Id,
    AttemptId,
    Position,
    QuestionId,
    VersionId,
    OptionOrder,
    Answer,
    AnsweredAt,
    Correct,
}
