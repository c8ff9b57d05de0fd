//! Sign-in throttling counters and one-time sign-in links.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::OnConflict,
};

use super::entities::{signin_link, signin_throttle};
use crate::domain::person::PersonId;
use crate::domain::signin_link::SigninLink;
use crate::domain::throttle::{ThrottlePolicy, ThrottleState};

pub async fn throttle_state(db: &impl ConnectionTrait, key: &str) -> Result<Option<ThrottleState>, DbErr> {
    Ok(signin_throttle::Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .map(|m| ThrottleState {
            failures: m.failures.max(0) as u32,
            next_allowed_at: m.next_allowed_at,
        }))
}

/// Counts one more failure and sets when the next try is allowed.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> Result<ThrottleState, DbErr> {
    let failures = throttle_state(db, key).await?.map(|s| s.failures).unwrap_or(0) + 1;
    let state = ThrottleState {
        failures,
        next_allowed_at: now + policy.delay_after(failures),
    };
    signin_throttle::Entity::insert(signin_throttle::ActiveModel {
        key: Set(key.to_string()),
        failures: Set(failures as i32),
        next_allowed_at: Set(state.next_allowed_at),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(signin_throttle::Column::Key)
            .update_columns([
                signin_throttle::Column::Failures,
                signin_throttle::Column::NextAllowedAt,
                signin_throttle::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(state)
}

pub async fn clear_failures(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    signin_throttle::Entity::delete_by_id(key.to_string()).exec(db).await?;
    Ok(())
}

fn link(m: signin_link::Model) -> SigninLink {
    SigninLink {
        id: m.id,
        person_id: m.person_id,
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
        revoked_at: m.revoked_at,
        session_id: m.session_id,
    }
}

pub async fn insert_link(
    db: &impl ConnectionTrait,
    person: PersonId,
    token_hash: &str,
    created_by: Option<PersonId>,
    expires_at: DateTime<Utc>,
    session: Option<i64>,
) -> Result<(), DbErr> {
    signin_link::ActiveModel {
        person_id: Set(person),
        session_id: Set(session),
        token_hash: Set(token_hash.to_string()),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn link_by_hash(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<SigninLink>, DbErr> {
    Ok(signin_link::Entity::find()
        .filter(signin_link::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .map(link))
}

/// Marks a link used; true only for the one caller that got there first (single use under concurrency).
pub async fn consume_link(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = signin_link::Entity::update_many()
        .col_expr(signin_link::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(signin_link::Column::Id.eq(id))
        .filter(signin_link::Column::UsedAt.is_null())
        .filter(signin_link::Column::RevokedAt.is_null())
        .filter(signin_link::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes a person's unused links of the same kind: those for `session`, or (`None`) her general ones.
/// A reset issues a new one; cards printed for another session stay good.
pub async fn revoke_links_of(
    db: &impl ConnectionTrait,
    person: PersonId,
    session: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let same_kind = match session {
        Some(id) => signin_link::Column::SessionId.eq(id),
        None => signin_link::Column::SessionId.is_null(),
    };
    signin_link::Entity::update_many()
        .col_expr(signin_link::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(signin_link::Column::PersonId.eq(person))
        .filter(same_kind)
        .filter(signin_link::Column::UsedAt.is_null())
        .filter(signin_link::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The newest link of each of these people.
pub async fn latest_links(db: &impl ConnectionTrait, people: &[PersonId]) -> Result<Vec<SigninLink>, DbErr> {
    let rows = signin_link::Entity::find()
        .filter(signin_link::Column::PersonId.is_in(people.iter().copied()))
        .order_by_desc(signin_link::Column::Id)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|m| seen.insert(m.person_id))
        .map(link)
        .collect())
}

/// Voids every unused sign-in link of a person (her account is being erased).
pub async fn void_links_of(db: &impl ConnectionTrait, person: PersonId) -> Result<(), DbErr> {
    signin_link::Entity::delete_many()
        .filter(signin_link::Column::PersonId.eq(person))
        .exec(db)
        .await?;
    Ok(())
}
