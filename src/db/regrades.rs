//! The record of regrades: who regraded which question, why, and each attempt's result before and
//! after.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{regrade, regrade_change};
pub use crate::domain::regrade::{AttemptChange, RegradeRecord};

/// A regrade to record.
pub struct NewRegrade<'a> {
    pub question_id: i64,
    pub version_id: i64,
    pub by_id: i64,
    pub by_name: &'a str,
    pub reason: &'a str,
    pub at: DateTime<Utc>,
    pub issued: u32,
    pub revoked: u32,
}

pub async fn insert(db: &impl ConnectionTrait, r: NewRegrade<'_>, changes: &[AttemptChange]) -> Result<i64, DbErr> {
    let id = regrade::ActiveModel {
        question_id: Set(r.question_id),
        version_id: Set(r.version_id),
        by_id: Set(r.by_id),
        by_name: Set(r.by_name.to_string()),
        reason: Set(r.reason.to_string()),
        at: Set(r.at),
        issued: Set(r.issued as i32),
        revoked: Set(r.revoked as i32),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id;
    let rows: Vec<regrade_change::ActiveModel> = changes
        .iter()
        .map(|c| regrade_change::ActiveModel {
            regrade_id: Set(id),
            attempt_id: Set(c.attempt_id),
            correct_before: Set(c.before.0 as i32),
            correct_after: Set(c.after.0 as i32),
            passed_before: Set(c.before.1),
            passed_after: Set(c.after.1),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(200) {
        regrade_change::Entity::insert_many(chunk.to_vec()).exec(db).await?;
    }
    Ok(id)
}

/// A question's regrades, newest first, with the attempts each changed.
pub async fn of_question(db: &impl ConnectionTrait, question_id: i64) -> Result<Vec<RegradeRecord>, DbErr> {
    let regrades = regrade::Entity::find()
        .filter(regrade::Column::QuestionId.eq(question_id))
        .order_by_desc(regrade::Column::Id)
        .all(db)
        .await?;
    let changes = regrade_change::Entity::find()
        .filter(regrade_change::Column::RegradeId.is_in(regrades.iter().map(|r| r.id)))
        .order_by_asc(regrade_change::Column::Id)
        .all(db)
        .await?;
    Ok(regrades
        .into_iter()
        .map(|r| RegradeRecord {
            changes: changes
                .iter()
                .filter(|c| c.regrade_id == r.id)
                .map(|c| AttemptChange {
                    attempt_id: c.attempt_id,
                    before: (c.correct_before.max(0) as u32, c.passed_before),
                    after: (c.correct_after.max(0) as u32, c.passed_after),
                })
                .collect(),
            id: r.id,
            version_id: r.version_id,
            by_name: r.by_name,
            reason: r.reason,
            at: r.at,
            issued: r.issued.max(0) as u32,
            revoked: r.revoked.max(0) as u32,
        })
        .collect())
}
