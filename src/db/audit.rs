//! The audit trail's storage: appending under the head row, reading for the admin page and for the
//! chain check. Nothing here updates or deletes an entry (the database refuses it too).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{audit_head, audit_log, signin_event};
use crate::domain::audit::{Entry, Record, entry_time, hash};

/// Appends an entry inside the caller's transaction. Bumping the head first takes its row lock on
/// PostgreSQL, so a concurrent append waits for this transaction and then chains onto its entry; on
/// SQLite the write transaction already excludes other writers.
pub async fn append(txn: &DatabaseTransaction, action: &str, r: &Record, at: DateTime<Utc>) -> Result<Entry, DbErr> {
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, Expr::col(audit_head::Column::Seq).add(1))
        .filter(audit_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    let head = audit_head::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::Custom("the audit head row is missing".into()))?;
    let at = entry_time(at);
    let h = hash(head.seq, at, action, r, &head.hash);
    audit_log::ActiveModel {
        seq: Set(head.seq),
        at: Set(at),
        actor_id: Set(r.actor_id),
        action: Set(action.to_string()),
        object: Set(r.object.clone()),
        summary: Set(r.summary.clone()),
        address: Set(r.address.chars().take(64).collect()),
        prev_hash: Set(head.hash.clone()),
        hash: Set(h.clone()),
    }
    .insert(txn)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(h.clone()))
        .filter(audit_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(Entry {
        seq: head.seq,
        at,
        action: action.to_string(),
        record: Record {
            address: r.address.chars().take(64).collect(),
            ..r.clone()
        },
        prev_hash: head.hash,
        hash: h,
    })
}

fn to_entry(m: audit_log::Model) -> Entry {
    Entry {
        seq: m.seq,
        at: m.at,
        action: m.action,
        record: Record {
            actor_id: m.actor_id,
            object: m.object,
            summary: m.summary,
            address: m.address,
        },
        prev_hash: m.prev_hash,
        hash: m.hash,
    }
}

/// The last sequence number and hash, as the head records them.
pub async fn head(db: &impl ConnectionTrait) -> Result<(i64, String), DbErr> {
    let h = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("the audit head row is missing".into()))?;
    Ok((h.seq, h.hash))
}

/// Up to `limit` entries after `after`, in sequence order (the chain check reads the trail in pages).
pub async fn after(db: &impl ConnectionTrait, after: i64, limit: u64) -> Result<Vec<Entry>, DbErr> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::Seq.gt(after))
        .order_by_asc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(to_entry)
        .collect())
}

/// Which entries the admin page shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor: Option<i64>,
    pub action: Option<String>,
    pub object: Option<String>,
}

fn filtered(f: &Filter) -> sea_orm::Select<audit_log::Entity> {
    let mut q = audit_log::Entity::find();
    if let Some(t) = f.from {
        q = q.filter(audit_log::Column::At.gte(t));
    }
    if let Some(t) = f.to {
        q = q.filter(audit_log::Column::At.lt(t));
    }
    if let Some(a) = f.actor {
        q = q.filter(audit_log::Column::ActorId.eq(a));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_log::Column::Action.eq(a.as_str()));
    }
    if let Some(o) = &f.object {
        q = q.filter(audit_log::Column::Object.eq(o.as_str()));
    }
    q
}

/// The newest entries matching the filter, and how many match in all.
pub async fn find(db: &impl ConnectionTrait, f: &Filter, limit: u64) -> Result<(Vec<Entry>, u64), DbErr> {
    let total = filtered(f).count(db).await?;
    let rows = filtered(f)
        .order_by_desc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows.into_iter().map(to_entry).collect(), total))
}

/// A sign-in event: `kind` is signin, failure, code_sent or signout; `method` password, sms or link.
pub async fn signin_event(
    db: &impl ConnectionTrait,
    kind: &str,
    method: &str,
    person: Option<i64>,
    address: &str,
) -> Result<(), DbErr> {
    signin_event::ActiveModel {
        at: Set(Utc::now()),
        person_id: Set(person),
        kind: Set(kind.to_string()),
        method: Set(method.to_string()),
        address: Set(address.chars().take(64).collect()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One sign-in event as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninEvent {
    pub at: DateTime<Utc>,
    pub person_id: Option<i64>,
    pub kind: String,
    pub method: String,
    pub address: String,
}

/// The newest sign-in events, of one person or all.
pub async fn signin_events(
    db: &impl ConnectionTrait,
    person: Option<i64>,
    limit: u64,
) -> Result<Vec<SigninEvent>, DbErr> {
    let mut q = signin_event::Entity::find();
    if let Some(p) = person {
        q = q.filter(signin_event::Column::PersonId.eq(p));
    }
    Ok(q.order_by_desc(signin_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| SigninEvent {
            at: m.at,
            person_id: m.person_id,
            kind: m.kind,
            method: m.method,
            address: m.address,
        })
        .collect())
}

/// Deletes a person's sign-in events (her account is being erased).
pub async fn erase_signin_events_of(db: &impl ConnectionTrait, person: i64) -> Result<u64, DbErr> {
    Ok(signin_event::Entity::delete_many()
        .filter(signin_event::Column::PersonId.eq(person))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes sign-in events older than `cutoff` (retention).
pub async fn delete_signin_events_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(signin_event::Entity::delete_many()
        .filter(signin_event::Column::At.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
