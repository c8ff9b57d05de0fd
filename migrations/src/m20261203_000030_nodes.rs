//! Several app processes on one database: the nodes with their heartbeats, which node hosts each
//! session's room (a lease its owner renews), and the commands other nodes leave for a room's owner.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Nodes::Table)
                    .col(string_len(Nodes::Id, 64).primary_key())
                    .col(string_len(Nodes::Url, 512))
                    .col(string_len(Nodes::MediaAddress, 128))
                    .col(integer(Nodes::Rooms).default(0))
                    .col(integer(Nodes::Viewers).default(0))
                    .col(boolean(Nodes::Draining).default(false))
                    .col(timestamp_with_time_zone(Nodes::StartedAt))
                    .col(timestamp_with_time_zone(Nodes::HeartbeatAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoomLeases::Table)
                    .col(big_integer(RoomLeases::SessionId).primary_key())
                    .col(string_len(RoomLeases::NodeId, 64))
                    // Raised at each change of owner: a claim is a compare-and-set on it.
                    .col(big_integer(RoomLeases::Epoch))
                    .col(timestamp_with_time_zone(RoomLeases::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoomLeases::Table, RoomLeases::SessionId)
                            .to(TrainingSessions::Table, TrainingSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_room_leases_node")
                    .table(RoomLeases::Table)
                    .col(RoomLeases::NodeId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoomCommands::Table)
                    .col(big_pk_auto(RoomCommands::Id))
                    .col(string_len(RoomCommands::NodeId, 64))
                    .col(big_integer(RoomCommands::SessionId))
                    .col(text(RoomCommands::Body))
                    // Set by the owner for a command that asks something (who is present).
                    .col(text_null(RoomCommands::Reply))
                    .col(boolean(RoomCommands::Done).default(false))
                    .col(timestamp_with_time_zone(RoomCommands::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_room_commands_node")
                    .table(RoomCommands::Table)
                    .col(RoomCommands::NodeId)
                    .col(RoomCommands::Done)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            RoomCommands::Table.into_iden(),
            RoomLeases::Table.into_iden(),
            Nodes::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
    Url,
    MediaAddress,
    Rooms,
    Viewers,
    Draining,
    StartedAt,
    HeartbeatAt,
}

#[derive(DeriveIden)]
enum RoomLeases {
    Table,
    SessionId,
    NodeId,
    Epoch,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum RoomCommands {
    Table,
    Id,
    NodeId,
    SessionId,
    Body,
    Reply,
    Done,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TrainingSessions {
    Table,
    Id,
}
