//! Live rooms: invitation tokens, actual start/end times, moderators, chat and attendance intervals.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;
use crate::m20261122_000006_training_sessions::TrainingSessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for col in [
            string_len_null(Extra::InviteToken, 64),
            timestamp_with_time_zone_null(Extra::StartedAt),
            timestamp_with_time_zone_null(Extra::EndedAt),
        ] {
            manager
                .alter_table(Table::alter().table(TrainingSessions::Table).add_column(col).to_owned())
                .await?;
        }
        manager.create_index(ux_training_sessions_invite()).await?;
        manager.create_table(session_moderators()).await?;
        manager.create_table(chat_messages()).await?;
        manager.create_index(ix_chat_session()).await?;
        manager.create_table(attendance_intervals()).await?;
        manager.create_index(ix_attendance_session_person()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AttendanceIntervals::Table.into_iden(),
            ChatMessages::Table.into_iden(),
            SessionModerators::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ux_training_sessions_invite")
                    .table(TrainingSessions::Table)
                    .to_owned(),
            )
            .await?;
        for c in [Extra::InviteToken, Extra::StartedAt, Extra::EndedAt] {
            manager
                .alter_table(Table::alter().table(TrainingSessions::Table).drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn ux_training_sessions_invite() -> IndexCreateStatement {
    Index::create()
        .name("ux_training_sessions_invite")
        .table(TrainingSessions::Table)
        .col(Extra::InviteToken)
        .unique()
        .to_owned()
}

fn session_moderators() -> TableCreateStatement {
    Table::create()
        .table(SessionModerators::Table)
        .col(big_integer(SessionModerators::SessionId))
        .col(big_integer(SessionModerators::PersonId))
        .primary_key(
            Index::create()
                .col(SessionModerators::SessionId)
                .col(SessionModerators::PersonId),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SessionModerators::Table, SessionModerators::SessionId)
                .to(TrainingSessions::Table, TrainingSessions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SessionModerators::Table, SessionModerators::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn chat_messages() -> TableCreateStatement {
    Table::create()
        .table(ChatMessages::Table)
        .col(big_pk_auto(ChatMessages::Id))
        .col(big_integer(ChatMessages::SessionId))
        .col(big_integer(ChatMessages::PersonId))
        .col(text(ChatMessages::Body))
        .col(timestamp_with_time_zone(ChatMessages::CreatedAt))
        .col(timestamp_with_time_zone_null(ChatMessages::RemovedAt))
        .col(big_integer_null(ChatMessages::RemovedBy))
        .foreign_key(
            ForeignKey::create()
                .from(ChatMessages::Table, ChatMessages::SessionId)
                .to(TrainingSessions::Table, TrainingSessions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(ChatMessages::Table, ChatMessages::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ix_chat_session() -> IndexCreateStatement {
    Index::create()
        .name("ix_chat_session")
        .table(ChatMessages::Table)
        .col(ChatMessages::SessionId)
        .to_owned()
}

fn attendance_intervals() -> TableCreateStatement {
    Table::create()
        .table(AttendanceIntervals::Table)
        .col(big_pk_auto(AttendanceIntervals::Id))
        .col(big_integer(AttendanceIntervals::SessionId))
        .col(big_integer(AttendanceIntervals::PersonId))
        .col(timestamp_with_time_zone(AttendanceIntervals::JoinedAt))
        .col(timestamp_with_time_zone(AttendanceIntervals::LastSeenAt))
        .col(timestamp_with_time_zone_null(AttendanceIntervals::LeftAt))
        .foreign_key(
            ForeignKey::create()
                .from(AttendanceIntervals::Table, AttendanceIntervals::SessionId)
                .to(TrainingSessions::Table, TrainingSessions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(AttendanceIntervals::Table, AttendanceIntervals::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ix_attendance_session_person() -> IndexCreateStatement {
    Index::create()
        .name("ix_attendance_session_person")
        .table(AttendanceIntervals::Table)
        .col(AttendanceIntervals::SessionId)
        .col(AttendanceIntervals::PersonId)
        .to_owned()
}

#[derive(DeriveIden)]
enum Extra {
    InviteToken,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden)]
pub enum SessionModerators {
    Table,
    SessionId,
    PersonId,
}

#[derive(DeriveIden)]
pub enum ChatMessages {
    Table,
    Id,
    SessionId,
    PersonId,
    Body,
    CreatedAt,
    RemovedAt,
    RemovedBy,
}

#[derive(DeriveIden)]
pub enum AttendanceIntervals {
    Table,
    Id,
    SessionId,
    PersonId,
    JoinedAt,
    LastSeenAt,
    LeftAt,
}
