//! Server-side sign-in sessions (the cookie holds a random token; only its hash is stored).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::web_session;
use crate::domain::person::PersonId;

pub async fn insert(
    db: &impl ConnectionTrait,
    token_hash: &str,
    person: PersonId,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    web_session::ActiveModel {
        token_hash: Set(token_hash.to_string()),
        person_id: Set(person),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The person a live session belongs to.
pub async fn person_for(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<PersonId>, DbErr> {
    Ok(web_session::Entity::find()
        .filter(web_session::Column::TokenHash.eq(token_hash))
        .filter(web_session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(|s| s.person_id))
}

pub async fn delete(db: &impl ConnectionTrait, token_hash: &str) -> Result<(), DbErr> {
    web_session::Entity::delete_many()
        .filter(web_session::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// Signs a person out everywhere except, optionally, the session they are using.
pub async fn delete_all_for(db: &impl ConnectionTrait, person: PersonId, keep: Option<&str>) -> Result<(), DbErr> {
    let mut q = web_session::Entity::delete_many().filter(web_session::Column::PersonId.eq(person));
    if let Some(k) = keep {
        q = q.filter(web_session::Column::TokenHash.ne(k));
    }
    q.exec(db).await?;
    Ok(())
}

pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(web_session::Entity::delete_many()
        .filter(web_session::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
