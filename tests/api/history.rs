//! Rewriting recorded history: moving stored times into the past as time passing would (a deadline that
//! went by, a lease that ran out, a link that expired) and erasing a record a test wants to replace.
//!
//! The service rightly has no way to do this, and a test cannot wait an hour, so these are the suite's
//! only raw SQL statements. Each is named for the state it creates; the tests then drive the service as
//! usual and assert on what it does with that state.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::helpers::TestApp;

/// A timestamp as the service writes it (RFC 3339, as sqlx encodes it for SQLite; PostgreSQL parses
/// it).
fn sql_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

/// Long ago: before anything the tests create.
fn long_ago() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap()
}

async fn sql(app: &TestApp, statement: String) {
    app.db.execute_unprepared(&statement).await.unwrap();
}

/// The lecture started at `at` (as if the moderator had pressed start then).
pub async fn lecture_started(app: &TestApp, session: i64, at: DateTime<Utc>) {
    let at = sql_time(at);
    sql(
        app,
        format!("UPDATE training_sessions SET started_at = '{at}' WHERE id = {session}"),
    )
    .await;
}

/// The session was scheduled from `starts` to `ends` (scheduling in the past is refused, rightly).
pub async fn scheduled(app: &TestApp, session: i64, starts: DateTime<Utc>, ends: DateTime<Utc>) {
    let (starts, ends) = (sql_time(starts), sql_time(ends));
    sql(
        app,
        format!("UPDATE training_sessions SET starts_at = '{starts}', ends_at = '{ends}' WHERE id = {session}"),
    )
    .await;
}

/// The person's attendance of every session is forgotten, so a test can record it afresh.
pub async fn attendance_forgotten(app: &TestApp, person: i64) {
    sql(
        app,
        format!("DELETE FROM attendance_intervals WHERE person_id = {person}"),
    )
    .await;
}

/// The quiz opened at `at`.
pub async fn quiz_opened(app: &TestApp, quiz: i64, at: DateTime<Utc>) {
    let at = sql_time(at);
    sql(app, format!("UPDATE quizzes SET opened_at = '{at}' WHERE id = {quiz}")).await;
}

/// The quiz's closing time is `at`.
pub async fn quiz_closes(app: &TestApp, quiz: i64, at: DateTime<Utc>) {
    let at = sql_time(at);
    sql(app, format!("UPDATE quizzes SET closes_at = '{at}' WHERE id = {quiz}")).await;
}

/// The attempt's deadline is `at`.
pub async fn attempt_deadline(app: &TestApp, attempt: i64, at: DateTime<Utc>) {
    let at = sql_time(at);
    sql(
        app,
        format!("UPDATE attempts SET deadline = '{at}' WHERE id = {attempt}"),
    )
    .await;
}

/// She began the attempt at `started` and submitted it at `submitted`.
pub async fn attempt_taken(app: &TestApp, attempt: i64, started: DateTime<Utc>, submitted: DateTime<Utc>) {
    let (started, submitted) = (sql_time(started), sql_time(submitted));
    sql(
        app,
        format!("UPDATE attempts SET started_at = '{started}', submitted_at = '{submitted}' WHERE id = {attempt}"),
    )
    .await;
}

/// The attempt's deadline passed long ago.
pub async fn attempt_deadline_long_past(app: &TestApp, attempt: i64) {
    attempt_deadline(app, attempt, long_ago()).await;
}

/// Every waiting email job's retry time has come.
pub async fn email_retries_due(app: &TestApp) {
    let t = sql_time(long_ago());
    sql(app, format!("UPDATE email_outbox SET next_attempt_at = '{t}'")).await;
}

/// Every email job was queued long ago (longer than the outbox keeps trying).
pub async fn email_jobs_queued_long_ago(app: &TestApp) {
    let t = sql_time(long_ago());
    sql(app, format!("UPDATE email_outbox SET created_at = '{t}'")).await;
}

/// The leases of the email jobs being sent ran out (their worker is presumed dead).
pub async fn email_leases_expired(app: &TestApp) {
    let t = sql_time(long_ago());
    sql(
        app,
        format!("UPDATE email_outbox SET locked_until = '{t}' WHERE status = 'sending'"),
    )
    .await;
}

/// Every personal sign-in link has expired.
pub async fn signin_links_expired(app: &TestApp) {
    let t = sql_time(long_ago());
    sql(app, format!("UPDATE signin_links SET expires_at = '{t}'")).await;
}
