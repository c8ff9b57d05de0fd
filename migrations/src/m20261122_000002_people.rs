//! People, their roles, and the streets an official is scoped to.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_org_units::OrgUnits;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(people()).await?;
        manager.create_index(ix_people_committee()).await?;
        manager.create_table(person_roles()).await?;
        manager.create_table(official_streets()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            OfficialStreets::Table.into_iden(),
            PersonRoles::Table.into_iden(),
            People::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

fn people() -> TableCreateStatement {
    Table::create()
        .table(People::Table)
        .col(big_pk_auto(People::Id))
        .col(string_len(People::DisplayName, 50))
        .col(string_len_uniq(People::Phone, 11))
        // NULLs never collide in a unique index, on SQLite and PostgreSQL alike.
        .col(string_len_null(People::Email, 254).unique_key())
        .col(text_null(People::PasswordHash))
        .col(big_integer_null(People::CommitteeId))
        .col(string_len_null(People::Position, 20))
        .col(timestamp_with_time_zone(People::CreatedAt))
        .col(timestamp_with_time_zone(People::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(People::Table, People::CommitteeId)
                .to(OrgUnits::Table, OrgUnits::Id)
                .on_delete(ForeignKeyAction::SetNull),
        )
        .to_owned()
}

fn ix_people_committee() -> IndexCreateStatement {
    Index::create()
        .name("ix_people_committee")
        .table(People::Table)
        .col(People::CommitteeId)
        .to_owned()
}

fn person_roles() -> TableCreateStatement {
    Table::create()
        .table(PersonRoles::Table)
        .col(big_integer(PersonRoles::PersonId))
        .col(string_len(PersonRoles::Role, 16))
        .primary_key(Index::create().col(PersonRoles::PersonId).col(PersonRoles::Role))
        .foreign_key(
            ForeignKey::create()
                .from(PersonRoles::Table, PersonRoles::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn official_streets() -> TableCreateStatement {
    Table::create()
        .table(OfficialStreets::Table)
        .col(big_integer(OfficialStreets::PersonId))
        .col(big_integer(OfficialStreets::StreetId))
        .primary_key(
            Index::create()
                .col(OfficialStreets::PersonId)
                .col(OfficialStreets::StreetId),
        )
        .foreign_key(
            ForeignKey::create()
                .from(OfficialStreets::Table, OfficialStreets::PersonId)
                .to(People::Table, People::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .from(OfficialStreets::Table, OfficialStreets::StreetId)
                .to(OrgUnits::Table, OrgUnits::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden)]
pub enum People {
    Table,
    Id,
    DisplayName,
    Phone,
    Email,
    PasswordHash,
    CommitteeId,
    Position,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum PersonRoles {
    Table,
    PersonId,
    Role,
}

#[derive(DeriveIden)]
pub enum OfficialStreets {
    Table,
    PersonId,
    StreetId,
}
