//! Training sessions (培训场次): the minimum the home pages and the demo need — title, time, street,
//! lecturers and invited committees. The live room and quiz add their own tables.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_org_units::OrgUnits;
use crate::m20261122_000002_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(training_sessions()).await?;
        manager.create_index(ix_training_sessions_street_start()).await?;
        manager.create_table(session_lecturers()).await?;
        manager.create_table(session_invitations()).await?;
        manager.create_index(ix_session_invitations_committee()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SessionInvitations::Table.into_iden(),
            SessionLecturers::Table.into_iden(),
            TrainingSessions::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

fn training_sessions() -> TableCreateStatement {
    Table::create()
        .table(TrainingSessions::Table)
        .col(big_pk_auto(TrainingSessions::Id))
        .col(string_len(TrainingSessions::Title, 200))
        .col(text(TrainingSessions::Description))
        .col(big_integer(TrainingSessions::StreetId))
        .col(timestamp_with_time_zone(TrainingSessions::StartsAt))
        .col(timestamp_with_time_zone(TrainingSessions::EndsAt))
        .col(string_len(TrainingSessions::Status, 16))
        .col(big_integer_null(TrainingSessions::CreatedBy))
        .col(timestamp_with_time_zone(TrainingSessions::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(TrainingSessions::Table, TrainingSessions::StreetId)
                .to(OrgUnits::Table, OrgUnits::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(TrainingSessions::Table, TrainingSessions::CreatedBy)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

fn ix_training_sessions_street_start() -> IndexCreateStatement {
    Index::create()
        .name("ix_training_sessions_street_start")
        .table(TrainingSessions::Table)
        .col(TrainingSessions::StreetId)
        .col(TrainingSessions::StartsAt)
        .to_owned()
}

fn session_lecturers() -> TableCreateStatement {
    Table::create()
        .table(SessionLecturers::Table)
        .col(big_integer(SessionLecturers::SessionId))
        .col(big_integer(SessionLecturers::PersonId))
        .primary_key(
            Index::create()
                .col(SessionLecturers::SessionId)
                .col(SessionLecturers::PersonId),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SessionLecturers::Table, SessionLecturers::SessionId)
                .to(TrainingSessions::Table, TrainingSessions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SessionLecturers::Table, SessionLecturers::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn session_invitations() -> TableCreateStatement {
    Table::create()
        .table(SessionInvitations::Table)
        .col(big_integer(SessionInvitations::SessionId))
        .col(big_integer(SessionInvitations::CommitteeId))
        .primary_key(
            Index::create()
                .col(SessionInvitations::SessionId)
                .col(SessionInvitations::CommitteeId),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SessionInvitations::Table, SessionInvitations::SessionId)
                .to(TrainingSessions::Table, TrainingSessions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(SessionInvitations::Table, SessionInvitations::CommitteeId)
                .to(OrgUnits::Table, OrgUnits::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ix_session_invitations_committee() -> IndexCreateStatement {
    Index::create()
        .name("ix_session_invitations_committee")
        .table(SessionInvitations::Table)
        .col(SessionInvitations::CommitteeId)
        .to_owned()
}

#[derive(DeriveIden)]
pub enum TrainingSessions {
    Table,
    Id,
    Title,
    Description,
    StreetId,
    StartsAt,
    EndsAt,
    Status,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum SessionLecturers {
    Table,
    SessionId,
    PersonId,
}

#[derive(DeriveIden)]
pub enum SessionInvitations {
    Table,
    SessionId,
    CommitteeId,
}
