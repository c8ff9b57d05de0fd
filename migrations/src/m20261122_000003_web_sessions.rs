//! Server-side sign-in sessions. The cookie carries a random token; only its SHA-256 is stored, so a
//! leaked database cannot be replayed as cookies. Server-side rows make sign-out and "sign out everywhere
//! after a password reset" real, and work across several app processes.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebSessions::Table)
                    .col(big_pk_auto(WebSessions::Id))
                    .col(string_len_uniq(WebSessions::TokenHash, 64))
                    .col(big_integer(WebSessions::PersonId))
                    .col(timestamp_with_time_zone(WebSessions::CreatedAt))
                    .col(timestamp_with_time_zone(WebSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebSessions::Table, WebSessions::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_web_sessions_person")
                    .table(WebSessions::Table)
                    .col(WebSessions::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebSessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum WebSessions {
    Table,
    Id,
    TokenHash,
    PersonId,
    CreatedAt,
    ExpiresAt,
}
