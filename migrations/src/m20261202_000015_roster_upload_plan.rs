//! The import plan of an uploaded roster is computed once, at upload, and kept with the upload (JSON),
//! so the preview pages only read it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RosterUploads::Table)
                    .add_column(text_null(RosterUploads::Plan))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RosterUploads::Table)
                    .drop_column(RosterUploads::Plan)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RosterUploads {
    Table,
    Plan,
}
