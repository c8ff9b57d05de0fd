//! A question version may name the rule it tests (`rule` in bank files): one quiz never asks two
//! questions with the same rule. Null: the rule is derived from the version's first citation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(QuestionVersions::Table)
                    .add_column(string_len_null(QuestionVersions::Rule, 80))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(QuestionVersions::Table)
                    .drop_column(QuestionVersions::Rule)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum QuestionVersions {
    Table,
    Rule,
}
