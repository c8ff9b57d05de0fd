//! What a live room remembers about a participant beyond her socket: a raised hand (and when, for the
//! queue's order), the right to speak, a moderator's mute, removal. Kept in the database so that a
//! server restart (or a room rebuilt on another node) brings them back, and so that they belong to the
//! person rather than to one connection.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;
use crate::m20261122_000006_training_sessions::TrainingSessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RoomParticipants::Table)
                    .col(big_integer(RoomParticipants::SessionId))
                    .col(big_integer(RoomParticipants::PersonId))
                    .col(timestamp_with_time_zone_null(RoomParticipants::HandRaisedAt))
                    .col(boolean(RoomParticipants::MaySpeak).default(false))
                    .col(boolean(RoomParticipants::Muted).default(false))
                    .col(timestamp_with_time_zone_null(RoomParticipants::RemovedAt))
                    .col(big_integer_null(RoomParticipants::RemovedBy))
                    .col(timestamp_with_time_zone(RoomParticipants::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(RoomParticipants::SessionId)
                            .col(RoomParticipants::PersonId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoomParticipants::Table, RoomParticipants::SessionId)
                            .to(TrainingSessions::Table, TrainingSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoomParticipants::Table, RoomParticipants::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RoomParticipants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum RoomParticipants {
    Table,
    SessionId,
    PersonId,
    HandRaisedAt,
    MaySpeak,
    Muted,
    RemovedAt,
    RemovedBy,
    UpdatedAt,
}
