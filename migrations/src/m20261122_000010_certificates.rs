//! Certificates and the email outbox. A certificate is written in the same transaction as the passing
//! result and its email job; the worker claims jobs with a lease column (portable: no SKIP LOCKED).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;
use crate::m20261122_000009_quizzes::Attempts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(certificates()).await?;
        manager.create_index(ix_certificates_person()).await?;
        manager.create_index(ix_certificates_session()).await?;
        manager.create_table(email_outbox()).await?;
        manager.create_index(ix_outbox_due()).await?;
        manager.create_index(ix_outbox_certificate()).await?;
        manager.create_table(email_attempts()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            EmailAttempts::Table.into_iden(),
            EmailOutbox::Table.into_iden(),
            Certificates::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

fn certificates() -> TableCreateStatement {
    Table::create()
        .table(Certificates::Table)
        .col(big_pk_auto(Certificates::Id))
        .col(big_integer_uniq(Certificates::AttemptId))
        .col(big_integer(Certificates::PersonId))
        .col(big_integer(Certificates::SessionId))
        .col(big_integer(Certificates::StreetId))
        .col(string_len_uniq(Certificates::Serial, 40))
        .col(string_len_uniq(Certificates::Code, 24))
        .col(text(Certificates::Content))
        .col(timestamp_with_time_zone(Certificates::IssuedAt))
        .col(timestamp_with_time_zone_null(Certificates::RevokedAt))
        .col(text_null(Certificates::RevokeReason))
        .col(big_integer_null(Certificates::RevokedBy))
        .foreign_key(
            ForeignKey::create()
                .from(Certificates::Table, Certificates::AttemptId)
                .to(Attempts::Table, Attempts::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Certificates::Table, Certificates::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

fn ix_certificates_person() -> IndexCreateStatement {
    Index::create()
        .name("ix_certificates_person")
        .table(Certificates::Table)
        .col(Certificates::PersonId)
        .to_owned()
}

fn ix_certificates_session() -> IndexCreateStatement {
    Index::create()
        .name("ix_certificates_session")
        .table(Certificates::Table)
        .col(Certificates::SessionId)
        .to_owned()
}

fn email_outbox() -> TableCreateStatement {
    Table::create()
        .table(EmailOutbox::Table)
        .col(big_pk_auto(EmailOutbox::Id))
        .col(big_integer(EmailOutbox::CertificateId))
        .col(string_len(EmailOutbox::ToAddress, 254))
        .col(string_len_uniq(EmailOutbox::MessageId, 200))
        .col(string_len(EmailOutbox::Status, 16))
        .col(integer(EmailOutbox::Attempts))
        .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
        .col(timestamp_with_time_zone_null(EmailOutbox::LockedUntil))
        .col(string_len_null(EmailOutbox::LockedBy, 64))
        .col(text_null(EmailOutbox::LastError))
        .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
        .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
        .foreign_key(
            ForeignKey::create()
                .from(EmailOutbox::Table, EmailOutbox::CertificateId)
                .to(Certificates::Table, Certificates::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ix_outbox_due() -> IndexCreateStatement {
    Index::create()
        .name("ix_outbox_due")
        .table(EmailOutbox::Table)
        .col(EmailOutbox::Status)
        .col(EmailOutbox::NextAttemptAt)
        .to_owned()
}

fn ix_outbox_certificate() -> IndexCreateStatement {
    Index::create()
        .name("ix_outbox_certificate")
        .table(EmailOutbox::Table)
        .col(EmailOutbox::CertificateId)
        .to_owned()
}

fn email_attempts() -> TableCreateStatement {
    Table::create()
        .table(EmailAttempts::Table)
        .col(big_pk_auto(EmailAttempts::Id))
        .col(big_integer(EmailAttempts::OutboxId))
        .col(timestamp_with_time_zone(EmailAttempts::AttemptedAt))
        .col(string_len(EmailAttempts::Worker, 64))
        .col(text_null(EmailAttempts::Error))
        .foreign_key(
            ForeignKey::create()
                .from(EmailAttempts::Table, EmailAttempts::OutboxId)
                .to(EmailOutbox::Table, EmailOutbox::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
pub enum Certificates {
    Table,
    Id,
    AttemptId,
    PersonId,
    SessionId,
    StreetId,
    Serial,
    Code,
    Content,
    IssuedAt,
    RevokedAt,
    RevokeReason,
    RevokedBy,
}

#[derive(DeriveIden)]
pub enum EmailOutbox {
    Table,
    Id,
    CertificateId,
    ToAddress,
    MessageId,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LockedBy,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
pub enum EmailAttempts {
    Table,
    Id,
    OutboxId,
    AttemptedAt,
    Worker,
    Error,
}
