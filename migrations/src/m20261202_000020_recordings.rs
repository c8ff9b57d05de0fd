//! Recordings of live lectures and what replay adds to attendance.
//!
//! - `recordings`: one per session, written by the room while the lecture runs. Files are named by an
//!   unguessable token, never by the session id, so a replay link cannot be guessed.
//! - `recording_segments`: the stretches of wall-clock time the file holds (a pause or a restart ends
//!   one), so a position in the file maps back to a moment of the lecture.
//! - `recording_chapters`: marks a replay shows (a screen share started, the quiz opened).
//! - `replay_intervals`: the moments of the lecture a chair has watched on replay, as wall-clock
//!   intervals of the lecture, kept apart from live attendance and united with it at the gate.
//! - `replay_devices`: each playing device's last reported position, so that the next heartbeat can
//!   tell watching from seeking.
//! - `training_sessions.makeup_until`: the end of the make-up quiz window, if the official opened one.
//! - `attempts.makeup`: an attempt taken in that window (its certificate says so).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_people::People;
use crate::m20261122_000006_training_sessions::TrainingSessions;
use crate::m20261122_000009_quizzes::Attempts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recordings(manager).await?;
        segments(manager).await?;
        chapters(manager).await?;
        replay_intervals(manager).await?;
        replay_devices(manager).await?;
        add_column(
            manager,
            TrainingSessions::Table,
            timestamp_with_time_zone_null(Makeup::MakeupUntil),
        )
        .await?;
        add_column(
            manager,
            Attempts::Table,
            boolean(Makeup::Makeup).default(false).to_owned(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            (Attempts::Table.into_iden(), Makeup::Makeup.into_iden()),
            (TrainingSessions::Table.into_iden(), Makeup::MakeupUntil.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        for table in [
            ReplayDevices::Table.into_iden(),
            ReplayIntervals::Table.into_iden(),
            RecordingChapters::Table.into_iden(),
            RecordingSegments::Table.into_iden(),
            Recordings::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn add_column(manager: &SchemaManager<'_>, table: impl IntoIden, column: ColumnDef) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(Table::alter().table(table).add_column(&mut column).to_owned())
        .await
}

fn cascade_to_session(from: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(TrainingSessions::Table, TrainingSessions::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn cascade_to_person(from: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(People::Table, People::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn cascade_to_recording(from: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(Recordings::Table, Recordings::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn recordings(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Recordings::Table)
                .col(pk_auto(Recordings::Id).big_integer())
                .col(big_integer(Recordings::SessionId).unique_key())
                .col(string_len(Recordings::Token, 64).unique_key())
                .col(string_len(Recordings::State, 16))
                .col(string_len(Recordings::Storage, 16))
                .col(big_integer(Recordings::DurationMs).default(0))
                .col(big_integer(Recordings::VideoBytes).default(0))
                .col(big_integer(Recordings::AudioBytes).default(0))
                .col(timestamp_with_time_zone(Recordings::StartedAt))
                .col(timestamp_with_time_zone_null(Recordings::FinishedAt))
                .col(timestamp_with_time_zone_null(Recordings::DeletedAt))
                .col(big_integer_null(Recordings::DeletedBy))
                .foreign_key(&mut cascade_to_session(Recordings::Table, Recordings::SessionId))
                .to_owned(),
        )
        .await
}

async fn segments(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(RecordingSegments::Table)
                .col(pk_auto(RecordingSegments::Id).big_integer())
                .col(big_integer(RecordingSegments::RecordingId))
                .col(big_integer(RecordingSegments::MediaFromMs))
                .col(timestamp_with_time_zone(RecordingSegments::WallFrom))
                .col(timestamp_with_time_zone_null(RecordingSegments::WallTo))
                .foreign_key(&mut cascade_to_recording(
                    RecordingSegments::Table,
                    RecordingSegments::RecordingId,
                ))
                .to_owned(),
        )
        .await
}

async fn chapters(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(RecordingChapters::Table)
                .col(pk_auto(RecordingChapters::Id).big_integer())
                .col(big_integer(RecordingChapters::RecordingId))
                .col(big_integer(RecordingChapters::MediaMs))
                .col(string_len(RecordingChapters::Kind, 32))
                .col(timestamp_with_time_zone(RecordingChapters::At))
                .foreign_key(&mut cascade_to_recording(
                    RecordingChapters::Table,
                    RecordingChapters::RecordingId,
                ))
                .to_owned(),
        )
        .await
}

async fn replay_intervals(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(ReplayIntervals::Table)
                .col(pk_auto(ReplayIntervals::Id).big_integer())
                .col(big_integer(ReplayIntervals::SessionId))
                .col(big_integer(ReplayIntervals::PersonId))
                .col(timestamp_with_time_zone(ReplayIntervals::WatchedFrom))
                .col(timestamp_with_time_zone(ReplayIntervals::WatchedTo))
                .col(timestamp_with_time_zone(ReplayIntervals::RecordedAt))
                .foreign_key(&mut cascade_to_session(
                    ReplayIntervals::Table,
                    ReplayIntervals::SessionId,
                ))
                .foreign_key(&mut cascade_to_person(
                    ReplayIntervals::Table,
                    ReplayIntervals::PersonId,
                ))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_replay_intervals_session_person")
                .table(ReplayIntervals::Table)
                .col(ReplayIntervals::SessionId)
                .col(ReplayIntervals::PersonId)
                .to_owned(),
        )
        .await
}

async fn replay_devices(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(ReplayDevices::Table)
                .col(big_integer(ReplayDevices::SessionId))
                .col(big_integer(ReplayDevices::PersonId))
                .col(string_len(ReplayDevices::Device, 64))
                .col(big_integer(ReplayDevices::PositionMs))
                .col(timestamp_with_time_zone(ReplayDevices::At))
                .primary_key(
                    Index::create()
                        .col(ReplayDevices::SessionId)
                        .col(ReplayDevices::PersonId)
                        .col(ReplayDevices::Device),
                )
                .foreign_key(&mut cascade_to_session(ReplayDevices::Table, ReplayDevices::SessionId))
                .foreign_key(&mut cascade_to_person(ReplayDevices::Table, ReplayDevices::PersonId))
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden)]
enum Recordings {
    Table,
    Id,
    SessionId,
    Token,
    State,
    Storage,
    DurationMs,
    VideoBytes,
    AudioBytes,
    StartedAt,
    FinishedAt,
    DeletedAt,
    DeletedBy,
}

#[derive(DeriveIden)]
enum RecordingSegments {
    Table,
    Id,
    RecordingId,
    MediaFromMs,
    WallFrom,
    WallTo,
}

#[derive(DeriveIden)]
enum RecordingChapters {
    Table,
    Id,
    RecordingId,
    MediaMs,
    Kind,
    At,
}

#[derive(DeriveIden)]
enum ReplayIntervals {
    Table,
    Id,
    SessionId,
    PersonId,
    WatchedFrom,
    WatchedTo,
    RecordedAt,
}

#[derive(DeriveIden)]
enum ReplayDevices {
    Table,
    SessionId,
    PersonId,
    Device,
    PositionMs,
    At,
}

#[derive(DeriveIden)]
enum Makeup {
    MakeupUntil,
    Makeup,
}
