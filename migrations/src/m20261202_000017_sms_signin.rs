//! Signing in with an SMS code, and the outbox the texts go through.
//!
//! Codes are stored as keyed hashes, never as typed; the number and the address are stored as hashes
//! too (`phone_key`, `address_key`), which is all throttling needs. The outbox holds the real number
//! (it must, to send) and the text until it is sent; the code in a sent text is blanked.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(sms_codes()).await?;
        for (name, col) in [
            ("ix_sms_codes_phone", SmsCodes::PhoneKey),
            ("ix_sms_codes_address", SmsCodes::AddressKey),
        ] {
            manager.create_index(ix_sms_codes_by(name, col)).await?;
        }
        manager.create_table(sms_outbox()).await?;
        manager.create_index(ix_sms_outbox_due()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SmsOutbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SmsCodes::Table).to_owned())
            .await
    }
}

fn sms_codes() -> TableCreateStatement {
    Table::create()
        .table(SmsCodes::Table)
        .col(big_pk_auto(SmsCodes::Id))
        .col(string_len(SmsCodes::PhoneKey, 64))
        .col(string_len(SmsCodes::AddressKey, 64))
        .col(big_integer_null(SmsCodes::PersonId))
        .col(string_len(SmsCodes::CodeHash, 64))
        .col(timestamp_with_time_zone(SmsCodes::IssuedAt))
        .col(integer(SmsCodes::Tries).default(0))
        .col(timestamp_with_time_zone_null(SmsCodes::UsedAt))
        .foreign_key(
            ForeignKey::create()
                .from(SmsCodes::Table, SmsCodes::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// Recent codes for one number or one address, newest last.
fn ix_sms_codes_by(name: &str, key: SmsCodes) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(SmsCodes::Table)
        .col(key)
        .col(SmsCodes::IssuedAt)
        .to_owned()
}

fn sms_outbox() -> TableCreateStatement {
    Table::create()
        .table(SmsOutbox::Table)
        .col(big_pk_auto(SmsOutbox::Id))
        .col(string_len(SmsOutbox::Phone, 32))
        .col(text(SmsOutbox::Body))
        .col(string_len(SmsOutbox::Purpose, 32))
        .col(string_len(SmsOutbox::Status, 16))
        .col(integer(SmsOutbox::Attempts).default(0))
        .col(timestamp_with_time_zone(SmsOutbox::CreatedAt))
        .col(timestamp_with_time_zone(SmsOutbox::NextAttemptAt))
        .col(timestamp_with_time_zone_null(SmsOutbox::LockedUntil))
        .col(timestamp_with_time_zone_null(SmsOutbox::SentAt))
        .col(text_null(SmsOutbox::LastError))
        .to_owned()
}

fn ix_sms_outbox_due() -> IndexCreateStatement {
    Index::create()
        .name("ix_sms_outbox_due")
        .table(SmsOutbox::Table)
        .col(SmsOutbox::Status)
        .col(SmsOutbox::NextAttemptAt)
        .to_owned()
}

#[derive(DeriveIden)]
enum SmsCodes {
    Table,
    Id,
    PhoneKey,
    AddressKey,
    PersonId,
    CodeHash,
    IssuedAt,
    Tries,
    UsedAt,
}

#[derive(DeriveIden)]
enum SmsOutbox {
    Table,
    Id,
    Phone,
    Body,
    Purpose,
    Status,
    Attempts,
    CreatedAt,
    NextAttemptAt,
    LockedUntil,
    SentAt,
    LastError,
}
