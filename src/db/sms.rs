//! SMS sign-in codes and the SMS outbox.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{sms_code, sms_outbox};
use crate::domain::person::PersonId;
use crate::domain::sms_code::{IssuedCode, MAX_TRIES};

/// A stored code: what the rules need, and what checking it needs.
#[derive(Debug, Clone)]
pub struct StoredCode {
    pub id: i64,
    pub person: Option<PersonId>,
    pub code_hash: String,
    pub issued: IssuedCode,
}

pub struct NewCode<'a> {
    pub phone_key: &'a str,
    pub address_key: &'a str,
    pub person: Option<PersonId>,
    pub code_hash: &'a str,
    pub issued_at: DateTime<Utc>,
}

pub async fn insert_code(db: &impl ConnectionTrait, c: NewCode<'_>) -> Result<i64, DbErr> {
    Ok(sms_code::ActiveModel {
        phone_key: Set(c.phone_key.to_string()),
        address_key: Set(c.address_key.to_string()),
        person_id: Set(c.person),
        code_hash: Set(c.code_hash.to_string()),
        issued_at: Set(c.issued_at),
        tries: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

/// When codes were asked for by this number, or from this address, since `since`.
pub async fn requested_since(
    db: &impl ConnectionTrait,
    phone_key: &str,
    address_key: &str,
    since: DateTime<Utc>,
) -> Result<(Vec<DateTime<Utc>>, Vec<DateTime<Utc>>), DbErr> {
    let rows = sms_code::Entity::find()
        .filter(sms_code::Column::IssuedAt.gte(since))
        .filter(
            Condition::any()
                .add(sms_code::Column::PhoneKey.eq(phone_key))
                .add(sms_code::Column::AddressKey.eq(address_key)),
        )
        .all(db)
        .await?;
    let phone = rows
        .iter()
        .filter(|r| r.phone_key == phone_key)
        .map(|r| r.issued_at)
        .collect();
    let address = rows
        .iter()
        .filter(|r| r.address_key == address_key)
        .map(|r| r.issued_at)
        .collect();
    Ok((phone, address))
}

/// The newest code of a number: only the newest counts, so asking again retires the earlier one.
pub async fn newest_code(db: &impl ConnectionTrait, phone_key: &str) -> Result<Option<StoredCode>, DbErr> {
    Ok(sms_code::Entity::find()
        .filter(sms_code::Column::PhoneKey.eq(phone_key))
        .order_by_desc(sms_code::Column::IssuedAt)
        .order_by_desc(sms_code::Column::Id)
        .one(db)
        .await?
        .map(|m| StoredCode {
            id: m.id,
            person: m.person_id,
            code_hash: m.code_hash,
            issued: IssuedCode {
                issued_at: m.issued_at,
                tries: m.tries,
                used: m.used_at.is_some(),
            },
        }))
}

/// Counts a try; false if the code was used or its tries ran out meanwhile (two tries at once cannot
/// both take the last one).
pub async fn count_try(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    let r = sms_code::Entity::update_many()
        .col_expr(sms_code::Column::Tries, Expr::col(sms_code::Column::Tries).add(1))
        .filter(sms_code::Column::Id.eq(id))
        .filter(sms_code::Column::UsedAt.is_null())
        .filter(sms_code::Column::Tries.lt(MAX_TRIES))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Marks a code used; true only for the first caller.
pub async fn use_code(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = sms_code::Entity::update_many()
        .col_expr(sms_code::Column::UsedAt, Expr::value(now))
        .filter(sms_code::Column::Id.eq(id))
        .filter(sms_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Codes are worth keeping only as long as throttling looks back (an hour); older rows are removed.
pub async fn forget_codes_before(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(sms_code::Entity::delete_many()
        .filter(sms_code::Column::IssuedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// One text waiting in, or gone through, the outbox.
#[derive(Debug, Clone)]
pub struct SmsJob {
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub purpose: String,
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

fn job(m: sms_outbox::Model) -> SmsJob {
    SmsJob {
        id: m.id,
        phone: m.phone,
        body: m.body,
        purpose: m.purpose,
        status: m.status,
        attempts: m.attempts,
        created_at: m.created_at,
        sent_at: m.sent_at,
        last_error: m.last_error,
    }
}

pub async fn enqueue(
    db: &impl ConnectionTrait,
    phone: &str,
    body: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    Ok(sms_outbox::ActiveModel {
        phone: Set(phone.to_string()),
        body: Set(body.to_string()),
        purpose: Set(purpose.to_string()),
        status: Set("pending".into()),
        attempts: Set(0),
        created_at: Set(now),
        next_attempt_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

fn due_condition(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(sms_outbox::Column::Status.eq("pending"))
                .add(sms_outbox::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(sms_outbox::Column::Status.eq("sending"))
                .add(sms_outbox::Column::LockedUntil.lt(now)),
        )
}

/// Texts ready to send: pending and due, or sending with an expired lease (a worker died mid-send).
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<Vec<SmsJob>, DbErr> {
    Ok(sms_outbox::Entity::find()
        .filter(due_condition(now))
        .order_by_asc(sms_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(job)
        .collect())
}

/// Claims a text until `until`; false if another worker (another node) got it first.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = sms_outbox::Entity::update_many()
        .col_expr(sms_outbox::Column::Status, Expr::value("sending"))
        .col_expr(sms_outbox::Column::LockedUntil, Expr::value(until))
        .col_expr(
            sms_outbox::Column::Attempts,
            Expr::col(sms_outbox::Column::Attempts).add(1),
        )
        .filter(sms_outbox::Column::Id.eq(id))
        .filter(due_condition(now))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Sent: the code in the stored text is blanked (`kept_body`), it is no one's business after this.
pub async fn mark_sent(db: &impl ConnectionTrait, id: i64, kept_body: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    sms_outbox::Entity::update_many()
        .col_expr(sms_outbox::Column::Status, Expr::value("sent"))
        .col_expr(sms_outbox::Column::Body, Expr::value(kept_body))
        .col_expr(sms_outbox::Column::SentAt, Expr::value(now))
        .col_expr(
            sms_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(sms_outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Failed this time: retried at `retry_at`, or given up (`None`) with the text's code blanked.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    kept_body: &str,
) -> Result<(), DbErr> {
    let mut q = sms_outbox::Entity::update_many()
        .col_expr(sms_outbox::Column::LastError, Expr::value(error))
        .col_expr(
            sms_outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    q = match retry_at {
        Some(at) => q
            .col_expr(sms_outbox::Column::Status, Expr::value("pending"))
            .col_expr(sms_outbox::Column::NextAttemptAt, Expr::value(at)),
        None => q
            .col_expr(sms_outbox::Column::Status, Expr::value("failed"))
            .col_expr(sms_outbox::Column::Body, Expr::value(kept_body)),
    };
    q.filter(sms_outbox::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// The newest texts, for the officials' delivery page.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<SmsJob>, DbErr> {
    Ok(sms_outbox::Entity::find()
        .order_by_desc(sms_outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(job)
        .collect())
}

/// Removes a number from the SMS outbox (its owner's account is being erased): the texts are
/// deleted, sent or not (a sign-in code is worth nothing later).
pub async fn forget_phone(db: &impl ConnectionTrait, phone: &str) -> Result<u64, DbErr> {
    Ok(sms_outbox::Entity::delete_many()
        .filter(sms_outbox::Column::Phone.eq(phone))
        .exec(db)
        .await?
        .rows_affected)
}
