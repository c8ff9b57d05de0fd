//! The personal-information notice (PIPL arts. 14, 17): which version of it each person accepted and
//! when, on the person for the check at sign-in, and every acceptance kept as a record.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(People::Table)
                    .add_column(integer_null(People::NoticeVersion))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NoticeAcceptances::Table)
                    .col(big_pk_auto(NoticeAcceptances::Id))
                    .col(big_integer(NoticeAcceptances::PersonId))
                    .col(integer(NoticeAcceptances::Version))
                    .col(timestamp_with_time_zone(NoticeAcceptances::AcceptedAt))
                    .col(string_len(NoticeAcceptances::Address, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(NoticeAcceptances::Table, NoticeAcceptances::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notice_acceptances_person")
                    .table(NoticeAcceptances::Table)
                    .col(NoticeAcceptances::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NoticeAcceptances::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(People::Table)
                    .drop_column(People::NoticeVersion)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    NoticeVersion,
}

#[derive(DeriveIden)]
enum NoticeAcceptances {
    Table,
    Id,
    PersonId,
    Version,
    AcceptedAt,
    Address,
}
