//! Uploaded roster files, kept between the preview and the confirmation so that a page without
//! JavaScript can confirm exactly the file it previewed.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_org_units::OrgUnits;
use crate::m20261122_000002_people::People;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RosterUploads::Table)
                    .col(big_pk_auto(RosterUploads::Id))
                    .col(big_integer(RosterUploads::StreetId))
                    .col(big_integer(RosterUploads::UploadedBy))
                    .col(string_len(RosterUploads::Filename, 255))
                    .col(binary(RosterUploads::Content))
                    .col(timestamp_with_time_zone(RosterUploads::CreatedAt))
                    .col(timestamp_with_time_zone_null(RosterUploads::AppliedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RosterUploads::Table, RosterUploads::StreetId)
                            .to(OrgUnits::Table, OrgUnits::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RosterUploads::Table, RosterUploads::UploadedBy)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RosterUploads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum RosterUploads {
    Table,
    Id,
    StreetId,
    UploadedBy,
    Filename,
    Content,
    CreatedAt,
    AppliedAt,
}
