//! Certificates and their email outbox.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{certificate, email_attempt, email_outbox};
use crate::domain::certificate::CertificateContent;
pub use crate::domain::certificate::CertificateRecord;

fn to_record(m: certificate::Model) -> Result<CertificateRecord, DbErr> {
    Ok(CertificateRecord {
        content: serde_json::from_str(&m.content)
            .map_err(|_| DbErr::Custom(format!("certificate {} is unreadable", m.id)))?,
        id: m.id,
        attempt_id: m.attempt_id,
        person_id: m.person_id,
        session_id: m.session_id,
        street_id: m.street_id,
        serial: m.serial,
        code: m.code,
        issued_at: m.issued_at,
        revoked_at: m.revoked_at,
        revoke_reason: m.revoke_reason,
    })
}

pub struct NewCertificate<'a> {
    pub attempt_id: i64,
    pub person_id: i64,
    pub session_id: i64,
    pub street_id: i64,
    pub serial: &'a str,
    pub code: &'a str,
    pub content: &'a CertificateContent,
}

pub async fn insert(db: &impl ConnectionTrait, c: NewCertificate<'_>) -> Result<i64, DbErr> {
    Ok(certificate::ActiveModel {
        attempt_id: Set(c.attempt_id),
        person_id: Set(c.person_id),
        session_id: Set(c.session_id),
        street_id: Set(c.street_id),
        serial: Set(c.serial.to_string()),
        code: Set(c.code.to_string()),
        content: Set(serde_json::to_string(c.content).map_err(|e| DbErr::Custom(e.to_string()))?),
        issued_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

pub async fn set_serial(db: &impl ConnectionTrait, id: i64, serial: &str) -> Result<(), DbErr> {
    certificate::ActiveModel {
        id: Set(id),
        serial: Set(serial.to_string()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<CertificateRecord>, DbErr> {
    certificate::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<CertificateRecord>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::Code.eq(code))
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

pub async fn by_serial(db: &impl ConnectionTrait, serial: &str) -> Result<Option<CertificateRecord>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::Serial.eq(serial))
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

pub async fn for_person(db: &impl ConnectionTrait, person: i64) -> Result<Vec<CertificateRecord>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::PersonId.eq(person))
        .order_by_desc(certificate::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_record)
        .collect()
}

/// A person's certificates of one session (normally at most one), newest first.
pub async fn for_person_in_session(
    db: &impl ConnectionTrait,
    person: i64,
    session: i64,
) -> Result<Vec<CertificateRecord>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::PersonId.eq(person))
        .filter(certificate::Column::SessionId.eq(session))
        .order_by_desc(certificate::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_record)
        .collect()
}

pub async fn for_session(db: &impl ConnectionTrait, session: i64) -> Result<Vec<CertificateRecord>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::SessionId.eq(session))
        .order_by_asc(certificate::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_record)
        .collect()
}

/// Makes a revoked certificate valid again (a regrade found the attempt it was issued for passes
/// after all); false if it was not revoked.
pub async fn reinstate(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let none: Option<String> = None;
    let r = certificate::Entity::update_many()
        .col_expr(
            certificate::Column::RevokedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(certificate::Column::RevokeReason, Expr::value(none))
        .col_expr(certificate::Column::RevokedBy, Expr::value(Option::<i64>::None))
        .filter(certificate::Column::Id.eq(id))
        .filter(certificate::Column::RevokedAt.is_not_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The certificate issued for an attempt, revoked or not.
pub async fn for_attempt(db: &impl ConnectionTrait, attempt: i64) -> Result<Option<CertificateRecord>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::AttemptId.eq(attempt))
        .one(db)
        .await?
        .map(to_record)
        .transpose()
}

pub async fn revoke(db: &impl ConnectionTrait, id: i64, reason: &str, by: i64) -> Result<bool, DbErr> {
    let r = certificate::Entity::update_many()
        .col_expr(certificate::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(certificate::Column::RevokeReason, Expr::value(reason))
        .col_expr(certificate::Column::RevokedBy, Expr::value(by))
        .filter(certificate::Column::Id.eq(id))
        .filter(certificate::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl JobStatus {
    fn parse(s: &str) -> JobStatus {
        match s {
            "sending" => JobStatus::Sending,
            "sent" => JobStatus::Sent,
            "failed" => JobStatus::Failed,
            _ => JobStatus::Pending,
        }
    }
}

/// What an outbox job sends about its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The certificate itself, with its PDF.
    Certificate,
    /// The notice that it was revoked, and why.
    Revocation,
}

impl MailKind {
    fn code(self) -> &'static str {
        match self {
            MailKind::Certificate => "certificate",
            MailKind::Revocation => "revocation",
        }
    }

    fn parse(s: &str) -> MailKind {
        match s {
            "revocation" => MailKind::Revocation,
            _ => MailKind::Certificate,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmailJob {
    pub id: i64,
    pub kind: MailKind,
    pub certificate_id: i64,
    pub to: String,
    pub message_id: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

fn to_job(m: email_outbox::Model) -> EmailJob {
    EmailJob {
        id: m.id,
        kind: MailKind::parse(&m.kind),
        certificate_id: m.certificate_id,
        to: m.to_address,
        message_id: m.message_id,
        status: JobStatus::parse(&m.status),
        attempts: m.attempts,
        created_at: m.created_at,
        sent_at: m.sent_at,
        last_error: m.last_error,
    }
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    kind: MailKind,
    certificate: i64,
    to: &str,
    message_id: &str,
) -> Result<i64, DbErr> {
    let now = Utc::now();
    Ok(email_outbox::ActiveModel {
        kind: Set(kind.code().into()),
        certificate_id: Set(certificate),
        to_address: Set(to.to_string()),
        message_id: Set(message_id.to_string()),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

/// Jobs ready to send: pending and due, or sending with an expired lease (a worker died mid-send).
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<i64>, DbErr> {
    use sea_orm::{Condition, QuerySelect};
    Ok(email_outbox::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(email_outbox::Column::Status.eq("pending"))
                        .add(email_outbox::Column::NextAttemptAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(email_outbox::Column::Status.eq("sending"))
                        .add(email_outbox::Column::LockedUntil.lt(now)),
                ),
        )
        .order_by_asc(email_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect())
}

/// Claims a job for `worker` until `until`; false if another worker got it first. A conditional
/// update, so it is safe with several processes on one database.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use sea_orm::Condition;
    let r = email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Status, Expr::value("sending"))
        .col_expr(email_outbox::Column::LockedBy, Expr::value(worker))
        .col_expr(email_outbox::Column::LockedUntil, Expr::value(until))
        .filter(email_outbox::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(email_outbox::Column::Status.eq("pending"))
                        .add(email_outbox::Column::NextAttemptAt.lte(now)),
                )
                .add(
                    Condition::all()
                        .add(email_outbox::Column::Status.eq("sending"))
                        .add(email_outbox::Column::LockedUntil.lt(now)),
                ),
        )
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn job(db: &impl ConnectionTrait, id: i64) -> Result<Option<EmailJob>, DbErr> {
    Ok(email_outbox::Entity::find_by_id(id).one(db).await?.map(to_job))
}

/// The jobs that sent (or are sending) these certificates themselves, oldest first; revocation
/// notices are not among them.
pub async fn jobs_for_certificates(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<EmailJob>, DbErr> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::CertificateId.is_in(ids.iter().copied()))
        .filter(email_outbox::Column::Kind.eq(MailKind::Certificate.code()))
        .order_by_asc(email_outbox::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_job)
        .collect())
}

/// Records one try; `outcome` is None for success.
/// Where an attempt to send a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    /// Recorded before the message was handed to the mail server; still under way, or its worker died.
    Sending,
    Sent,
    Failed,
    /// Its worker stopped while sending (found when the job was reclaimed): the message may or may not
    /// have arrived, and the retry carries the same Message-ID.
    Interrupted,
}

impl AttemptState {
    fn code(self) -> &'static str {
        match self {
            AttemptState::Sending => "sending",
            AttemptState::Sent => "sent",
            AttemptState::Failed => "failed",
            AttemptState::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> AttemptState {
        match s {
            "sending" => AttemptState::Sending,
            "failed" => AttemptState::Failed,
            "interrupted" => AttemptState::Interrupted,
            _ => AttemptState::Sent,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmailAttempt {
    pub id: i64,
    pub attempted_at: DateTime<Utc>,
    pub worker: String,
    pub state: AttemptState,
    pub error: Option<String>,
}

/// Records an attempt as under way, before anything is sent; returns its id for [`end_attempt`].
pub async fn start_attempt(db: &impl ConnectionTrait, id: i64, worker: &str) -> Result<i64, DbErr> {
    Ok(email_attempt::ActiveModel {
        outbox_id: Set(id),
        attempted_at: Set(Utc::now()),
        worker: Set(worker.to_string()),
        error: Set(None),
        state: Set(AttemptState::Sending.code().to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

/// Closes an attempt: sent (`error` none) or failed.
pub async fn end_attempt(db: &impl ConnectionTrait, attempt: i64, error: Option<&str>) -> Result<(), DbErr> {
    let state = if error.is_some() {
        AttemptState::Failed
    } else {
        AttemptState::Sent
    };
    email_attempt::ActiveModel {
        id: Set(attempt),
        error: Set(error.map(str::to_string)),
        state: Set(state.code().to_string()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Marks a job's attempts still `sending` as interrupted: called by the worker that has just claimed
/// the job, so no other worker can be in the middle of one. Returns how many there were.
pub async fn mark_interrupted(db: &impl ConnectionTrait, id: i64) -> Result<u64, DbErr> {
    Ok(email_attempt::Entity::update_many()
        .col_expr(
            email_attempt::Column::State,
            Expr::value(AttemptState::Interrupted.code()),
        )
        .col_expr(
            email_attempt::Column::Error,
            Expr::value("interrupted: the worker stopped while sending; the message may have arrived"),
        )
        .filter(email_attempt::Column::OutboxId.eq(id))
        .filter(email_attempt::Column::State.eq(AttemptState::Sending.code()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Every attempt of a job, oldest first.
pub async fn attempt_history(db: &impl ConnectionTrait, id: i64) -> Result<Vec<EmailAttempt>, DbErr> {
    Ok(email_attempt::Entity::find()
        .filter(email_attempt::Column::OutboxId.eq(id))
        .order_by_asc(email_attempt::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| EmailAttempt {
            id: a.id,
            attempted_at: a.attempted_at,
            worker: a.worker,
            state: AttemptState::parse(&a.state),
            error: a.error,
        })
        .collect())
}

pub async fn attempts_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<(DateTime<Utc>, Option<String>)>, DbErr> {
    Ok(email_attempt::Entity::find()
        .filter(email_attempt::Column::OutboxId.eq(id))
        .order_by_asc(email_attempt::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.attempted_at, a.error))
        .collect())
}

/// The outcome of a send by the worker holding the lease.
pub enum Outcome<'a> {
    Sent,
    Retry { at: DateTime<Utc>, error: &'a str },
    Failed { error: &'a str },
}

pub async fn finish(db: &impl ConnectionTrait, id: i64, worker: &str, outcome: Outcome<'_>) -> Result<(), DbErr> {
    let now = Utc::now();
    let q = email_outbox::Entity::update_many()
        .col_expr(
            email_outbox::Column::Attempts,
            Expr::col(email_outbox::Column::Attempts).add(1),
        )
        .col_expr(
            email_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(email_outbox::Column::Id.eq(id))
        .filter(email_outbox::Column::LockedBy.eq(worker));
    let q = match outcome {
        Outcome::Sent => q
            .col_expr(email_outbox::Column::Status, Expr::value("sent"))
            .col_expr(email_outbox::Column::SentAt, Expr::value(now)),
        Outcome::Retry { at, error } => q
            .col_expr(email_outbox::Column::Status, Expr::value("pending"))
            .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(at))
            .col_expr(email_outbox::Column::LastError, Expr::value(error)),
        Outcome::Failed { error } => q
            .col_expr(email_outbox::Column::Status, Expr::value("failed"))
            .col_expr(email_outbox::Column::LastError, Expr::value(error)),
    };
    q.exec(db).await?;
    Ok(())
}

/// Puts a job back in the queue now (an official's resend).
pub async fn requeue(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Status, Expr::value("pending"))
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(Utc::now()))
        .col_expr(email_outbox::Column::CreatedAt, Expr::value(Utc::now()))
        .filter(email_outbox::Column::Id.eq(id))
        .filter(email_outbox::Column::Status.ne("sending"))
        .exec(db)
        .await?;
    Ok(())
}

/// The latest issue date of a valid (unrevoked) certificate of each member of these committees who
/// has one: a chair is certified when it falls in her committee's current term (a later one would too,
/// so the latest is all the dashboard needs of a district's tens of thousands). One query.
pub async fn latest_valid_in_committees(
    db: &impl ConnectionTrait,
    committees: &[i64],
) -> Result<Vec<(i64, DateTime<Utc>)>, DbErr> {
    let members = sea_orm::sea_query::Query::select()
        .column(super::entities::person::Column::Id)
        .from(super::entities::person::Entity)
        .and_where(super::entities::person::Column::CommitteeId.is_in(committees.iter().copied()))
        .to_owned();
    let rows: Vec<(i64, Option<DateTime<Utc>>)> = certificate::Entity::find()
        .select_only()
        .column(certificate::Column::PersonId)
        .column_as(certificate::Column::IssuedAt.max(), "latest")
        .filter(certificate::Column::PersonId.in_subquery(members))
        .filter(certificate::Column::RevokedAt.is_null())
        .group_by(certificate::Column::PersonId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(p, at)| Some((p, at?))).collect())
}

/// Replaces the holder's name on a person's certificates (her account is being erased: they stay
/// verifiable, with the name masked).
pub async fn rename_holder(db: &impl ConnectionTrait, person: i64, name: &str) -> Result<usize, DbErr> {
    let rows = certificate::Entity::find()
        .filter(certificate::Column::PersonId.eq(person))
        .all(db)
        .await?;
    let n = rows.len();
    for m in rows {
        let mut c = to_record(m)?;
        c.content.name = name.to_string();
        let content = serde_json::to_string(&c.content).map_err(|e| DbErr::Custom(e.to_string()))?;
        certificate::Entity::update_many()
            .col_expr(certificate::Column::Content, Expr::value(content))
            .filter(certificate::Column::Id.eq(c.id))
            .exec(db)
            .await?;
    }
    Ok(n)
}

/// Removes a person's email address from the outbox (her account is being erased): jobs not yet sent
/// are stopped, and every job of her certificates forgets the address.
pub async fn forget_address_of(db: &impl ConnectionTrait, person: i64) -> Result<u64, DbErr> {
    let mine = sea_orm::sea_query::Query::select()
        .column(certificate::Column::Id)
        .from(certificate::Entity)
        .and_where(certificate::Column::PersonId.eq(person))
        .to_owned();
    email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::Status, Expr::value("failed"))
        .col_expr(
            email_outbox::Column::LastError,
            Expr::value("the recipient's information was erased"),
        )
        .filter(email_outbox::Column::CertificateId.in_subquery(mine.clone()))
        .filter(email_outbox::Column::Status.ne("sent"))
        .exec(db)
        .await?;
    Ok(email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::ToAddress, Expr::value(""))
        .filter(email_outbox::Column::CertificateId.in_subquery(mine))
        .exec(db)
        .await?
        .rows_affected)
}
