//! What live rooms remember about participants (`room_participants`), one row per session and person.

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::room_participant::{self, ActiveModel, Column, Entity};
use crate::domain::room_state::{ParticipantChange, ParticipantState};

pub async fn participants(db: &impl ConnectionTrait, session: i64) -> Result<Vec<ParticipantState>, DbErr> {
    Ok(Entity::find()
        .filter(Column::SessionId.eq(session))
        .all(db)
        .await?
        .into_iter()
        .map(|m: room_participant::Model| ParticipantState {
            person: m.person_id,
            hand_raised_at: m.hand_raised_at,
            may_speak: m.may_speak,
            muted: m.muted,
            removed: m.removed_at.is_some(),
        })
        .collect())
}

/// Stores one change: inserts the row if it is the person's first, else updates only that field.
pub async fn record(
    db: &impl ConnectionTrait,
    session: i64,
    person: i64,
    change: ParticipantChange,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut row = ActiveModel {
        session_id: Set(session),
        person_id: Set(person),
        hand_raised_at: Set(None),
        may_speak: Set(false),
        muted: Set(false),
        removed_at: Set(None),
        removed_by: Set(None),
        updated_at: Set(now),
    };
    let columns = match change {
        ParticipantChange::Hand(at) => {
            row.hand_raised_at = Set(at);
            vec![Column::HandRaisedAt]
        }
        ParticipantChange::MaySpeak(on) => {
            row.may_speak = Set(on);
            vec![Column::MaySpeak]
        }
        ParticipantChange::Muted(on) => {
            row.muted = Set(on);
            vec![Column::Muted]
        }
        ParticipantChange::Removed { by } => {
            row.removed_at = Set(Some(now));
            row.removed_by = Set(Some(by));
            vec![Column::RemovedAt, Column::RemovedBy]
        }
    };
    let conflict = OnConflict::columns([Column::SessionId, Column::PersonId])
        .update_columns(columns.into_iter().chain([Column::UpdatedAt]))
        .to_owned();
    Entity::insert(row)
        .on_conflict(conflict)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Lowers every hand of a session (it ended: nobody is waiting to speak any more).
pub async fn lower_all_hands(db: &impl ConnectionTrait, session: i64) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            Column::HandRaisedAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .filter(Column::SessionId.eq(session))
        .exec(db)
        .await?;
    Ok(())
}
