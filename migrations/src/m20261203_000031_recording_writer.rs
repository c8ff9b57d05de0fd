//! Which node writes a recording's files: with several nodes, a room that moves to another node starts
//! the recording's files afresh there, under a new name, so the part left on the old node's disk is
//! never taken for (or uploaded over) the new one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Recordings::Table)
                    .add_column(string_len_null(Recordings::WriterNode, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Recordings::Table)
                    .drop_column(Recordings::WriterNode)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Recordings {
    Table,
    WriterNode,
}
