//! Quorum's database schema, as portable sea-query migrations: every file runs unchanged on SQLite and
//! PostgreSQL. One change per file; never edit a migration that has shipped, add a new one.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_org_units;
mod m20261122_000002_people;
mod m20261122_000003_web_sessions;
mod m20261122_000004_signin_guards;
mod m20261122_000005_roster_uploads;
mod m20261122_000006_training_sessions;
mod m20261122_000007_question_banks;
mod m20261122_000008_live_rooms;
mod m20261122_000009_quizzes;
mod m20261122_000010_certificates;
mod m20261202_000012_email_attempt_state;
mod m20261202_000015_roster_upload_plan;
mod m20261202_000016_people_view_mode;
mod m20261202_000017_sms_signin;
mod m20261202_000018_signin_link_session;
mod m20261202_000019_room_participants;
mod m20261202_000020_recordings;
mod m20261202_000021_official_districts;
mod m20261202_000022_question_rule;
mod m20261202_000023_report_indexes;
mod m20261202_000024_question_approval;
mod m20261203_000025_counting_attempts;
mod m20261203_000026_regrades;
mod m20261203_000027_version_drafts;
mod m20261203_000028_audit_trail;
mod m20261203_000029_privacy_notice;
mod m20261203_000030_nodes;
mod m20261203_000031_recording_writer;

/// Marks every chair's counting attempt from scratch (the migration's backfill); tests check it agrees
/// with the Rust rule.
pub use m20261203_000025_counting_attempts::MARK_COUNTING;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_org_units::Migration),
            Box::new(m20261122_000002_people::Migration),
            Box::new(m20261122_000003_web_sessions::Migration),
            Box::new(m20261122_000004_signin_guards::Migration),
            Box::new(m20261122_000005_roster_uploads::Migration),
            Box::new(m20261122_000006_training_sessions::Migration),
            Box::new(m20261122_000007_question_banks::Migration),
            Box::new(m20261122_000008_live_rooms::Migration),
            Box::new(m20261122_000009_quizzes::Migration),
            Box::new(m20261122_000010_certificates::Migration),
            Box::new(m20261202_000012_email_attempt_state::Migration),
            Box::new(m20261202_000015_roster_upload_plan::Migration),
            Box::new(m20261202_000016_people_view_mode::Migration),
            Box::new(m20261202_000017_sms_signin::Migration),
            Box::new(m20261202_000018_signin_link_session::Migration),
            Box::new(m20261202_000019_room_participants::Migration),
            Box::new(m20261202_000020_recordings::Migration),
            Box::new(m20261202_000021_official_districts::Migration),
            Box::new(m20261202_000022_question_rule::Migration),
            Box::new(m20261202_000023_report_indexes::Migration),
            Box::new(m20261202_000024_question_approval::Migration),
            Box::new(m20261203_000025_counting_attempts::Migration),
            Box::new(m20261203_000026_regrades::Migration),
            Box::new(m20261203_000027_version_drafts::Migration),
            Box::new(m20261203_000028_audit_trail::Migration),
            Box::new(m20261203_000029_privacy_notice::Migration),
            Box::new(m20261203_000030_nodes::Migration),
            Box::new(m20261203_000031_recording_writer::Migration),
        ]
    }
}
