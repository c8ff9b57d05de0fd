//! The organisation tree 区 → 街道 → 居委 → 小区 → 业委会 in one table: every level is a node with a kind
//! and a parent. `street_id` is denormalised on every node below a street because scoping (officials see
//! their streets) and report roll-ups filter by street constantly.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(org_units()).await?;
        manager.create_index(ux_org_units_parent_kind_name()).await?;
        manager.create_index(ix_org_units_street()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrgUnits::Table).to_owned())
            .await
    }
}

fn org_units() -> TableCreateStatement {
    Table::create()
        .table(OrgUnits::Table)
        .col(big_pk_auto(OrgUnits::Id))
        .col(string_len(OrgUnits::Kind, 16))
        .col(big_integer_null(OrgUnits::ParentId))
        .col(big_integer_null(OrgUnits::StreetId))
        .col(string_len(OrgUnits::Name, 100))
        .col(date_null(OrgUnits::TermStart))
        .col(date_null(OrgUnits::TermEnd))
        .col(timestamp_with_time_zone(OrgUnits::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(OrgUnits::Table, OrgUnits::ParentId)
                .to(OrgUnits::Table, OrgUnits::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

/// Two siblings of the same kind never share a name: the roster import finds 居委 and 小区 by name.
fn ux_org_units_parent_kind_name() -> IndexCreateStatement {
    Index::create()
        .name("ux_org_units_parent_kind_name")
        .table(OrgUnits::Table)
        .col(OrgUnits::ParentId)
        .col(OrgUnits::Kind)
        .col(OrgUnits::Name)
        .unique()
        .to_owned()
}

fn ix_org_units_street() -> IndexCreateStatement {
    Index::create()
        .name("ix_org_units_street")
        .table(OrgUnits::Table)
        .col(OrgUnits::StreetId)
        .col(OrgUnits::Kind)
        .to_owned()
}

#[derive(DeriveIden)]
pub enum OrgUnits {
    Table,
    Id,
    Kind,
    ParentId,
    StreetId,
    Name,
    TermStart,
    TermEnd,
    CreatedAt,
}
