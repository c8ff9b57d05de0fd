//! Indexes that let a district's dashboard be summed from indexes alone: attempts by quiz, state and
//! chair (with the flags the tally reads), and each chair's valid certificates by issue date.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
            .create_index(
                Index::create()
                    .name("ix_certificates_person_valid")
                    .table(Certificates::Table)
                    .col(Certificates::PersonId)
                    .col(Certificates::RevokedAt)
                    .col(Certificates::IssuedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_certificates_person_valid")
                    .table(Certificates::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_attempts_tally")
                    .table(Attempts::Table)
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
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    PersonId,
    RevokedAt,
    IssuedAt,
}
