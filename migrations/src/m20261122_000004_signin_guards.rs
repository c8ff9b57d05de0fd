//! Sign-in throttling counters and one-time personal sign-in links.
//!
//! Throttle keys are hashes ("acct:" or "ip:" + SHA-256), never raw phone numbers or addresses.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(signin_throttle()).await?;
        manager.create_table(signin_links()).await?;
        manager.create_index(ix_signin_links_person()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigninLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SigninThrottle::Table).to_owned())
            .await
    }
}

fn signin_throttle() -> TableCreateStatement {
    Table::create()
        .table(SigninThrottle::Table)
        .col(string_len(SigninThrottle::Key, 80).primary_key())
        .col(integer(SigninThrottle::Failures))
        .col(timestamp_with_time_zone(SigninThrottle::NextAllowedAt))
        .col(timestamp_with_time_zone(SigninThrottle::UpdatedAt))
        .to_owned()
}

fn signin_links() -> TableCreateStatement {
    Table::create()
        .table(SigninLinks::Table)
        .col(big_pk_auto(SigninLinks::Id))
        .col(big_integer(SigninLinks::PersonId))
        .col(string_len_uniq(SigninLinks::TokenHash, 64))
        .col(big_integer_null(SigninLinks::CreatedBy))
        .col(timestamp_with_time_zone(SigninLinks::CreatedAt))
        .col(timestamp_with_time_zone(SigninLinks::ExpiresAt))
        .col(timestamp_with_time_zone_null(SigninLinks::UsedAt))
        .col(timestamp_with_time_zone_null(SigninLinks::RevokedAt))
        .foreign_key(
            ForeignKey::create()
                .from(SigninLinks::Table, SigninLinks::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SigninLinks::Table, SigninLinks::CreatedBy)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

fn ix_signin_links_person() -> IndexCreateStatement {
    Index::create()
        .name("ix_signin_links_person")
        .table(SigninLinks::Table)
        .col(SigninLinks::PersonId)
        .to_owned()
}

#[derive(DeriveIden)]
pub enum SigninThrottle {
    Table,
    Key,
    Failures,
    NextAllowedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum SigninLinks {
    Table,
    Id,
    PersonId,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}
