//! Regrading: when an approved version changes how a question already answered is graded, a lawyer
//! regrades the submitted attempts that answered it. Each regrade records who did it, why and when,
//! and each attempt whose score changed, before and after. Certificates follow, and a revoked
//! certificate's holder is told by email: the outbox now carries two kinds of message.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regrades::Table)
                    .col(big_pk_auto(Regrades::Id))
                    .col(big_integer(Regrades::QuestionId))
                    .col(big_integer(Regrades::VersionId))
                    .col(big_integer(Regrades::ById))
                    .col(string_len(Regrades::ByName, 100))
                    .col(text(Regrades::Reason))
                    .col(timestamp_with_time_zone(Regrades::At))
                    .col(integer(Regrades::Issued))
                    .col(integer(Regrades::Revoked))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Regrades::Table, Regrades::QuestionId)
                            .to(Questions::Table, Questions::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_regrades_question")
                    .table(Regrades::Table)
                    .col(Regrades::QuestionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RegradeChanges::Table)
                    .col(big_pk_auto(RegradeChanges::Id))
                    .col(big_integer(RegradeChanges::RegradeId))
                    .col(big_integer(RegradeChanges::AttemptId))
                    .col(integer(RegradeChanges::CorrectBefore))
                    .col(integer(RegradeChanges::CorrectAfter))
                    .col(boolean(RegradeChanges::PassedBefore))
                    .col(boolean(RegradeChanges::PassedAfter))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RegradeChanges::Table, RegradeChanges::RegradeId)
                            .to(Regrades::Table, Regrades::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RegradeChanges::Table, RegradeChanges::AttemptId)
                            .to(Attempts::Table, Attempts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_regrade_changes_regrade")
                    .table(RegradeChanges::Table)
                    .col(RegradeChanges::RegradeId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .add_column(string_len(EmailOutbox::Kind, 20).default("certificate"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .drop_column(EmailOutbox::Kind)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(RegradeChanges::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Regrades::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Regrades {
    Table,
    Id,
    QuestionId,
    VersionId,
    ById,
    ByName,
    Reason,
    At,
    Issued,
    Revoked,
}

#[derive(DeriveIden)]
enum RegradeChanges {
    Table,
    Id,
    RegradeId,
    AttemptId,
    CorrectBefore,
    CorrectAfter,
    PassedBefore,
    PassedAfter,
}

#[derive(DeriveIden)]
enum Questions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Attempts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Kind,
}
