//! Training sessions, as far as the home pages and the demo need them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{session_invitation, session_lecturer, training_session};

#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub id: i64,
    pub title: String,
    pub street_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
}

fn summary(m: training_session::Model) -> SessionSummary {
    SessionSummary {
        id: m.id,
        title: m.title,
        street_id: m.street_id,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        status: m.status,
    }
}

pub struct NewSession<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub street_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub lecturers: &'a [i64],
    pub committees: &'a [i64],
}

pub async fn insert(db: &impl ConnectionTrait, s: NewSession<'_>) -> Result<i64, DbErr> {
    let m = training_session::ActiveModel {
        title: Set(s.title.to_string()),
        description: Set(s.description.to_string()),
        street_id: Set(s.street_id),
        starts_at: Set(s.starts_at),
        ends_at: Set(s.ends_at),
        status: Set("scheduled".to_string()),
        created_by: Set(s.created_by),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for l in s.lecturers {
        session_lecturer::ActiveModel {
            session_id: Set(m.id),
            person_id: Set(*l),
        }
        .insert(db)
        .await?;
    }
    for c in s.committees {
        session_invitation::ActiveModel {
            session_id: Set(m.id),
            committee_id: Set(*c),
        }
        .insert(db)
        .await?;
    }
    Ok(m.id)
}

/// Sessions a committee is invited to that have not ended yet, soonest first.
pub async fn upcoming_for_committee(
    db: &impl ConnectionTrait,
    committee: i64,
    now: DateTime<Utc>,
) -> Result<Vec<SessionSummary>, DbErr> {
    let ids: Vec<i64> = session_invitation::Entity::find()
        .filter(session_invitation::Column::CommitteeId.eq(committee))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.session_id)
        .collect();
    Ok(training_session::Entity::find()
        .filter(training_session::Column::Id.is_in(ids))
        .filter(training_session::Column::EndsAt.gt(now))
        .filter(training_session::Column::Status.ne("cancelled"))
        .order_by_asc(training_session::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// The sessions of these streets, newest first.
pub async fn for_streets(db: &impl ConnectionTrait, streets: &[i64], limit: u64) -> Result<Vec<SessionSummary>, DbErr> {
    Ok(training_session::Entity::find()
        .filter(training_session::Column::StreetId.is_in(streets.iter().copied()))
        .order_by_desc(training_session::Column::StartsAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}

/// Sessions where this person lectures, newest first.
pub async fn for_lecturer(db: &impl ConnectionTrait, person: i64, limit: u64) -> Result<Vec<SessionSummary>, DbErr> {
    let ids: Vec<i64> = session_lecturer::Entity::find()
        .filter(session_lecturer::Column::PersonId.eq(person))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.session_id)
        .collect();
    Ok(training_session::Entity::find()
        .filter(training_session::Column::Id.is_in(ids))
        .order_by_desc(training_session::Column::StartsAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(summary)
        .collect())
}
