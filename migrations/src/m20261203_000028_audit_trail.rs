//! The audit trail of privileged actions (who, when, what, from where), append-only and hash-chained:
//! each entry's hash covers the previous entry's, so changing, removing or reordering entries breaks
//! the chain (`quorum audit check`). `audit_head` holds the last sequence number and hash; appending
//! updates it first, which serialises concurrent appends on PostgreSQL (the row lock) as SQLite's
//! single writer does. Triggers refuse UPDATE and DELETE on entries.
//!
//! Sign-in events (sign-ins, failures, SMS codes sent, sign-outs) are kept apart, unchained: they are
//! many, and for security review rather than accountability.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGERS: [&str; 2] = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

const POSTGRES_TRIGGERS: [&str; 2] = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
     BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_integer(AuditLog::Seq).primary_key())
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Action, 40))
                    .col(string_len(AuditLog::Object, 80))
                    .col(text(AuditLog::Summary))
                    .col(string_len(AuditLog::Address, 64))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_audit_log_at", AuditLog::At),
            ("ix_audit_log_actor", AuditLog::ActorId),
        ] {
            manager
                .create_index(Index::create().name(name).table(AuditLog::Table).col(col).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::Seq))
                    .col(string_len(AuditHead::Hash, 64))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // The chain starts from 64 zeros.
        db.execute_unprepared(&format!(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{}')",
            "0".repeat(64)
        ))
        .await?;
        let triggers = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => POSTGRES_TRIGGERS,
            _ => SQLITE_TRIGGERS,
        };
        for t in triggers {
            db.execute_unprepared(t).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SigninEvents::Table)
                    .col(big_pk_auto(SigninEvents::Id))
                    .col(timestamp_with_time_zone(SigninEvents::At))
                    .col(big_integer_null(SigninEvents::PersonId))
                    .col(string_len(SigninEvents::Kind, 20))
                    .col(string_len(SigninEvents::Method, 20))
                    .col(string_len(SigninEvents::Address, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_signin_events_at")
                    .table(SigninEvents::Table)
                    .col(SigninEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigninEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only()")
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    At,
    ActorId,
    Action,
    Object,
    Summary,
    Address,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

#[derive(DeriveIden)]
enum SigninEvents {
    Table,
    Id,
    At,
    PersonId,
    Kind,
    Method,
    Address,
}
