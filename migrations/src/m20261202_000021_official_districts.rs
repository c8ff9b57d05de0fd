//! An official may be scoped to a whole district (区) as well as to streets: a district office sees
//! all its streets, including streets added later, without anyone ticking each one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OfficialDistricts::Table)
                    .col(big_integer(OfficialDistricts::PersonId))
                    .col(big_integer(OfficialDistricts::DistrictId))
                    .primary_key(
                        Index::create()
                            .col(OfficialDistricts::PersonId)
                            .col(OfficialDistricts::DistrictId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OfficialDistricts::Table, OfficialDistricts::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OfficialDistricts::Table, OfficialDistricts::DistrictId)
                            .to(OrgUnits::Table, OrgUnits::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OfficialDistricts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OfficialDistricts {
    Table,
    PersonId,
    DistrictId,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum OrgUnits {
    Table,
    Id,
}
