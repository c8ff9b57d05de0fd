//! Statutes (versioned article texts), banks, questions and their versions.
//!
//! A question is a stable id with a status; its content lives in immutable versions. Each version's
//! citations pin the statute revision in force when it was written, so an attempt can always show the
//! article text the question was graded against.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(statutes()).await?;
        manager.create_table(statute_articles()).await?;
        manager.create_index(ux_statute_articles()).await?;
        manager.create_table(banks()).await?;
        manager.create_table(bank_files()).await?;
        manager.create_table(questions()).await?;
        manager.create_index(ix_questions_bank()).await?;
        manager.create_table(question_versions()).await?;
        manager.create_index(ux_question_versions()).await?;
        manager.create_table(question_citations()).await?;
        manager.create_index(ix_question_citations_article()).await?;
        manager.create_index(ix_question_citations_version()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            QuestionCitations::Table.into_iden(),
            QuestionVersions::Table.into_iden(),
            Questions::Table.into_iden(),
            BankFiles::Table.into_iden(),
            Banks::Table.into_iden(),
            StatuteArticles::Table.into_iden(),
            Statutes::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

fn statutes() -> TableCreateStatement {
    Table::create()
        .table(Statutes::Table)
        .col(string_len(Statutes::ShortId, 80).primary_key())
        .col(string_len(Statutes::Title, 200))
        .col(string_len(Statutes::CurrentRevision, 10))
        .col(timestamp_with_time_zone(Statutes::UpdatedAt))
        .to_owned()
}

fn statute_articles() -> TableCreateStatement {
    Table::create()
        .table(StatuteArticles::Table)
        .col(big_pk_auto(StatuteArticles::Id))
        .col(string_len(StatuteArticles::StatuteId, 80))
        .col(string_len(StatuteArticles::RevisionDate, 10))
        .col(integer(StatuteArticles::Number))
        .col(string_len(StatuteArticles::Label, 40))
        .col(string_len(StatuteArticles::Chapter, 200))
        .col(text(StatuteArticles::Text))
        .foreign_key(
            ForeignKey::create()
                .from(StatuteArticles::Table, StatuteArticles::StatuteId)
                .to(Statutes::Table, Statutes::ShortId)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ux_statute_articles() -> IndexCreateStatement {
    Index::create()
        .name("ux_statute_articles")
        .table(StatuteArticles::Table)
        .col(StatuteArticles::StatuteId)
        .col(StatuteArticles::RevisionDate)
        .col(StatuteArticles::Number)
        .unique()
        .to_owned()
}

fn banks() -> TableCreateStatement {
    Table::create()
        .table(Banks::Table)
        .col(big_pk_auto(Banks::Id))
        .col(string_len_uniq(Banks::Slug, 64))
        .col(string_len(Banks::Title, 200))
        .col(string_len(Banks::Topic, 100))
        .col(text(Banks::Authors))
        .col(string_len(Banks::Reviewer, 100))
        .col(string_len(Banks::ReviewDate, 10))
        .col(boolean(Banks::Sample))
        .col(string_len(Banks::Source, 8))
        .col(string_len_null(Banks::FileName, 255))
        .col(boolean(Banks::Retired))
        .col(timestamp_with_time_zone(Banks::CreatedAt))
        .col(timestamp_with_time_zone(Banks::UpdatedAt))
        .to_owned()
}

/// The outcome of the last load of each bank file (problems shown on the lawyers' pages).
fn bank_files() -> TableCreateStatement {
    Table::create()
        .table(BankFiles::Table)
        .col(string_len(BankFiles::FileName, 255).primary_key())
        .col(big_integer_null(BankFiles::BankId))
        .col(text_null(BankFiles::Problems))
        .col(timestamp_with_time_zone(BankFiles::CheckedAt))
        .to_owned()
}

fn questions() -> TableCreateStatement {
    Table::create()
        .table(Questions::Table)
        .col(big_pk_auto(Questions::Id))
        .col(big_integer(Questions::BankId))
        .col(string_len_uniq(Questions::Qid, 64))
        .col(string_len(Questions::Status, 16))
        .col(text_null(Questions::ReviewReason))
        .col(string_len_null(Questions::ReviewedBy, 100))
        .col(timestamp_with_time_zone_null(Questions::ReviewedAt))
        .col(big_integer_null(Questions::CurrentVersionId))
        .col(string_len_null(Questions::FileFingerprint, 64))
        .col(timestamp_with_time_zone(Questions::CreatedAt))
        .col(timestamp_with_time_zone(Questions::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Questions::Table, Questions::BankId)
                .to(Banks::Table, Banks::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .to_owned()
}

fn ix_questions_bank() -> IndexCreateStatement {
    Index::create()
        .name("ix_questions_bank")
        .table(Questions::Table)
        .col(Questions::BankId)
        .col(Questions::Status)
        .to_owned()
}

fn question_versions() -> TableCreateStatement {
    Table::create()
        .table(QuestionVersions::Table)
        .col(big_pk_auto(QuestionVersions::Id))
        .col(big_integer(QuestionVersions::QuestionId))
        .col(integer(QuestionVersions::VersionNo))
        .col(string_len(QuestionVersions::Kind, 16))
        .col(text(QuestionVersions::Stem))
        .col(text(QuestionVersions::Options))
        .col(text(QuestionVersions::Answer))
        .col(text(QuestionVersions::Explanation))
        .col(text(QuestionVersions::Tags))
        .col(small_integer(QuestionVersions::Difficulty))
        .col(string_len(QuestionVersions::Fingerprint, 64))
        .col(string_len_null(QuestionVersions::CreatedBy, 100))
        .col(timestamp_with_time_zone(QuestionVersions::CreatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(QuestionVersions::Table, QuestionVersions::QuestionId)
                .to(Questions::Table, Questions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ux_question_versions() -> IndexCreateStatement {
    Index::create()
        .name("ux_question_versions")
        .table(QuestionVersions::Table)
        .col(QuestionVersions::QuestionId)
        .col(QuestionVersions::VersionNo)
        .unique()
        .to_owned()
}

fn question_citations() -> TableCreateStatement {
    Table::create()
        .table(QuestionCitations::Table)
        .col(big_pk_auto(QuestionCitations::Id))
        .col(big_integer(QuestionCitations::VersionId))
        .col(integer(QuestionCitations::Position))
        .col(string_len(QuestionCitations::StatuteId, 80))
        .col(integer(QuestionCitations::Article))
        .col(integer_null(QuestionCitations::Paragraph))
        .col(integer_null(QuestionCitations::Item))
        .col(string_len(QuestionCitations::RevisionDate, 10))
        .foreign_key(
            ForeignKey::create()
                .from(QuestionCitations::Table, QuestionCitations::VersionId)
                .to(QuestionVersions::Table, QuestionVersions::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn ix_question_citations_article() -> IndexCreateStatement {
    Index::create()
        .name("ix_question_citations_article")
        .table(QuestionCitations::Table)
        .col(QuestionCitations::StatuteId)
        .col(QuestionCitations::Article)
        .to_owned()
}

fn ix_question_citations_version() -> IndexCreateStatement {
    Index::create()
        .name("ix_question_citations_version")
        .table(QuestionCitations::Table)
        .col(QuestionCitations::VersionId)
        .to_owned()
}

#[derive(DeriveIden)]
pub enum Statutes {
    Table,
    ShortId,
    Title,
    CurrentRevision,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum StatuteArticles {
    Table,
    Id,
    StatuteId,
    RevisionDate,
    Number,
    Label,
    Chapter,
    Text,
}

#[derive(DeriveIden)]
pub enum Banks {
    Table,
    Id,
    Slug,
    Title,
    Topic,
    Authors,
    Reviewer,
    ReviewDate,
    Sample,
    Source,
    FileName,
    Retired,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum BankFiles {
    Table,
    FileName,
    BankId,
    Problems,
    CheckedAt,
}

#[derive(DeriveIden)]
pub enum Questions {
    Table,
    Id,
    BankId,
    Qid,
    Status,
    ReviewReason,
    ReviewedBy,
    ReviewedAt,
    CurrentVersionId,
    FileFingerprint,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum QuestionVersions {
    Table,
    Id,
    QuestionId,
    VersionNo,
    Kind,
    Stem,
    Options,
    Answer,
    Explanation,
    Tags,
    Difficulty,
    Fingerprint,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum QuestionCitations {
    Table,
    Id,
    VersionId,
    Position,
    StatuteId,
    Article,
    Paragraph,
    Item,
    RevisionDate,
}
