//! Training sessions: schedule, people, invitations, status; chat and attendance of the live room.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{
    attendance_interval, chat_message, session_invitation, session_lecturer, session_moderator, training_session,
};
use crate::domain::attendance::Interval;
use crate::domain::session::SessionStatus;

pub use crate::domain::session::{SessionRecord, SessionSummary};

fn status_of(id: i64, code: &str) -> Result<SessionStatus, DbErr> {
    SessionStatus::parse(code).ok_or_else(|| DbErr::Custom(format!("session {id} has status {code}")))
}

fn summary(m: training_session::Model) -> Result<SessionSummary, DbErr> {
    Ok(SessionSummary {
        status: status_of(m.id, &m.status)?,
        id: m.id,
        title: m.title,
        street_id: m.street_id,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
    })
}

fn summaries(rows: Vec<training_session::Model>) -> Result<Vec<SessionSummary>, DbErr> {
    rows.into_iter().map(summary).collect()
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
    /// The group link's secret (`services::tokens::new_token`).
    pub invite_token: String,
}

pub async fn insert(db: &impl ConnectionTrait, s: NewSession<'_>) -> Result<i64, DbErr> {
    let m = training_session::ActiveModel {
        title: Set(s.title.to_string()),
        description: Set(s.description.to_string()),
        street_id: Set(s.street_id),
        starts_at: Set(s.starts_at),
        ends_at: Set(s.ends_at),
        status: Set(SessionStatus::Scheduled.code().to_string()),
        created_by: Set(s.created_by),
        created_at: Set(Utc::now()),
        invite_token: Set(Some(s.invite_token)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    set_people(db, m.id, s.lecturers, &[], s.committees).await?;
    Ok(m.id)
}

/// Replaces lecturers, moderators and invited committees.
pub async fn set_people(
    db: &impl ConnectionTrait,
    id: i64,
    lecturers: &[i64],
    moderators: &[i64],
    committees: &[i64],
) -> Result<(), DbErr> {
    session_lecturer::Entity::delete_many()
        .filter(session_lecturer::Column::SessionId.eq(id))
        .exec(db)
        .await?;
    session_moderator::Entity::delete_many()
        .filter(session_moderator::Column::SessionId.eq(id))
        .exec(db)
        .await?;
    session_invitation::Entity::delete_many()
        .filter(session_invitation::Column::SessionId.eq(id))
        .exec(db)
        .await?;
    insert_people(db, id, lecturers, moderators).await?;
    insert_invitations(db, id, committees).await
}

async fn insert_people(db: &impl ConnectionTrait, id: i64, lecturers: &[i64], moderators: &[i64]) -> Result<(), DbErr> {
    for l in lecturers {
        let row = session_lecturer::ActiveModel {
            session_id: Set(id),
            person_id: Set(*l),
        };
        row.insert(db).await?;
    }
    for m in moderators {
        let row = session_moderator::ActiveModel {
            session_id: Set(id),
            person_id: Set(*m),
        };
        row.insert(db).await?;
    }
    Ok(())
}

async fn insert_invitations(db: &impl ConnectionTrait, id: i64, committees: &[i64]) -> Result<(), DbErr> {
    for chunk in committees.chunks(200) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|c| session_invitation::ActiveModel {
                session_id: Set(id),
                committee_id: Set(*c),
            })
            .collect();
        session_invitation::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}

pub async fn update_schedule(
    db: &impl ConnectionTrait,
    id: i64,
    title: &str,
    description: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    training_session::ActiveModel {
        id: Set(id),
        title: Set(title.to_string()),
        description: Set(description.to_string()),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Moves a session to a new status, stamping the start or end time, if the life-cycle rule
/// (`SessionStatus::may_become`) allows it from the status stored now. A conditional update, so two
/// paths racing (a room and a form post, two processes) cannot both win. True if it changed.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: i64,
    status: SessionStatus,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let from: Vec<&str> = status.reachable_from().into_iter().map(|s| s.code()).collect();
    let mut q = training_session::Entity::update_many()
        .col_expr(training_session::Column::Status, Expr::value(status.code()))
        .filter(training_session::Column::Id.eq(id))
        .filter(training_session::Column::Status.is_in(from));
    match status {
        SessionStatus::Live => q = q.col_expr(training_session::Column::StartedAt, Expr::value(at)),
        SessionStatus::Ended => q = q.col_expr(training_session::Column::EndedAt, Expr::value(at)),
        _ => {}
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Live sessions whose scheduled end is before `cutoff` (candidates for ending by themselves).
pub async fn live_ending_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<Vec<SessionRecord>, DbErr> {
    let mut out = Vec::new();
    for m in training_session::Entity::find()
        .filter(training_session::Column::Status.eq(SessionStatus::Live.code()))
        .filter(training_session::Column::EndsAt.lt(cutoff))
        .all(db)
        .await?
    {
        out.push(record(db, m).await?);
    }
    Ok(out)
}

/// The last time anyone was seen in a session's room.
pub async fn last_seen(db: &impl ConnectionTrait, session: i64) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(attendance_interval::Entity::find()
        .filter(attendance_interval::Column::SessionId.eq(session))
        .order_by_desc(attendance_interval::Column::LastSeenAt)
        .one(db)
        .await?
        .map(|m| m.left_at.unwrap_or(m.last_seen_at).max(m.last_seen_at)))
}

async fn record(db: &impl ConnectionTrait, m: training_session::Model) -> Result<SessionRecord, DbErr> {
    let lecturers = session_lecturer::Entity::find()
        .filter(session_lecturer::Column::SessionId.eq(m.id))
        .all(db)
        .await?;
    let moderators = session_moderator::Entity::find()
        .filter(session_moderator::Column::SessionId.eq(m.id))
        .all(db)
        .await?;
    let committees = session_invitation::Entity::find()
        .filter(session_invitation::Column::SessionId.eq(m.id))
        .all(db)
        .await?;
    Ok(SessionRecord {
        id: m.id,
        status: status_of(m.id, &m.status)?,
        title: m.title,
        description: m.description,
        street_id: m.street_id,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        invite_token: m.invite_token.unwrap_or_default(),
        started_at: m.started_at,
        ended_at: m.ended_at,
        makeup_until: m.makeup_until,
        lecturers: lecturers.into_iter().map(|l| l.person_id).collect(),
        moderators: moderators.into_iter().map(|l| l.person_id).collect(),
        committees: committees.into_iter().map(|c| c.committee_id).collect(),
    })
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<SessionRecord>, DbErr> {
    match training_session::Entity::find_by_id(id).one(db).await? {
        Some(m) => Ok(Some(record(db, m).await?)),
        None => Ok(None),
    }
}

pub async fn by_invite(db: &impl ConnectionTrait, token: &str) -> Result<Option<SessionRecord>, DbErr> {
    match training_session::Entity::find()
        .filter(training_session::Column::InviteToken.eq(token))
        .one(db)
        .await?
    {
        Some(m) => Ok(Some(record(db, m).await?)),
        None => Ok(None),
    }
}

/// Gives sessions created before invitation links existed a token.
/// Sets or clears the end of the make-up window.
pub async fn set_makeup_until(db: &impl ConnectionTrait, id: i64, until: Option<DateTime<Utc>>) -> Result<(), DbErr> {
    training_session::ActiveModel {
        id: Set(id),
        makeup_until: Set(until),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn ensure_invite_tokens(db: &impl ConnectionTrait, new_token: impl Fn() -> String) -> Result<(), DbErr> {
    for m in training_session::Entity::find()
        .filter(training_session::Column::InviteToken.is_null())
        .all(db)
        .await?
    {
        training_session::ActiveModel {
            id: Set(m.id),
            invite_token: Set(Some(new_token())),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(())
}

async fn invited_ids(db: &impl ConnectionTrait, committee: i64) -> Result<Vec<i64>, DbErr> {
    Ok(session_invitation::Entity::find()
        .filter(session_invitation::Column::CommitteeId.eq(committee))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.session_id)
        .collect())
}

/// Sessions a committee is invited to that have not ended yet, soonest first.
pub async fn upcoming_for_committee(
    db: &impl ConnectionTrait,
    committee: i64,
    now: DateTime<Utc>,
) -> Result<Vec<SessionSummary>, DbErr> {
    summaries(
        training_session::Entity::find()
            .filter(training_session::Column::Id.is_in(invited_ids(db, committee).await?))
            .filter(training_session::Column::EndsAt.gt(now))
            .filter(training_session::Column::Status.is_in(["scheduled", "live"]))
            .order_by_asc(training_session::Column::StartsAt)
            .all(db)
            .await?,
    )
}

/// A session that has been held (or is being held), with when its lecture ran: what a chair's record
/// of her trainings needs to measure her attendance.
#[derive(Debug, Clone)]
pub struct HeldSession {
    pub summary: SessionSummary,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub makeup_until: Option<DateTime<Utc>>,
}

/// Sessions a committee was invited to that are live or over (not cancelled), newest first: two
/// queries whatever the number.
pub async fn held_for_committee(
    db: &impl ConnectionTrait,
    committee: i64,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<HeldSession>, DbErr> {
    use sea_orm::Condition;
    training_session::Entity::find()
        .filter(training_session::Column::Id.is_in(invited_ids(db, committee).await?))
        .filter(
            Condition::any()
                .add(training_session::Column::EndsAt.lte(now))
                .add(training_session::Column::Status.is_in(["live", "ended"])),
        )
        .filter(training_session::Column::Status.ne("cancelled"))
        .order_by_desc(training_session::Column::StartsAt)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let (started_at, ended_at, makeup_until) = (m.started_at, m.ended_at, m.makeup_until);
            Ok(HeldSession {
                summary: summary(m)?,
                started_at,
                ended_at,
                makeup_until,
            })
        })
        .collect()
}

/// The sessions of these streets, newest first.
pub async fn for_streets(db: &impl ConnectionTrait, streets: &[i64], limit: u64) -> Result<Vec<SessionSummary>, DbErr> {
    summaries(
        training_session::Entity::find()
            .filter(training_session::Column::StreetId.is_in(streets.iter().copied()))
            .order_by_desc(training_session::Column::StartsAt)
            .limit(limit)
            .all(db)
            .await?,
    )
}

/// The ids of the sessions of these streets starting in `[from, to)`.
pub async fn ids_for_streets_between(
    db: &impl ConnectionTrait,
    streets: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    training_session::Entity::find()
        .select_only()
        .column(training_session::Column::Id)
        .filter(training_session::Column::StreetId.is_in(streets.iter().copied()))
        .filter(training_session::Column::StartsAt.gte(from))
        .filter(training_session::Column::StartsAt.lt(to))
        .into_tuple()
        .all(db)
        .await
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
    summaries(
        training_session::Entity::find()
            .filter(training_session::Column::Id.is_in(ids))
            .order_by_desc(training_session::Column::StartsAt)
            .limit(limit)
            .all(db)
            .await?,
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: i64,
    pub person_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_chat(
    db: &impl ConnectionTrait,
    session: i64,
    person: i64,
    body: &str,
) -> Result<ChatMessage, DbErr> {
    let m = chat_message::ActiveModel {
        session_id: Set(session),
        person_id: Set(person),
        body: Set(body.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(ChatMessage {
        id: m.id,
        person_id: m.person_id,
        body: m.body,
        created_at: m.created_at,
    })
}

/// The latest messages that were not removed, oldest first.
pub async fn recent_chat(db: &impl ConnectionTrait, session: i64, limit: u64) -> Result<Vec<ChatMessage>, DbErr> {
    let mut rows: Vec<ChatMessage> = chat_message::Entity::find()
        .filter(chat_message::Column::SessionId.eq(session))
        .filter(chat_message::Column::RemovedAt.is_null())
        .order_by_desc(chat_message::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|m| ChatMessage {
            id: m.id,
            person_id: m.person_id,
            body: m.body,
            created_at: m.created_at,
        })
        .collect();
    rows.reverse();
    Ok(rows)
}

/// Removes a message of this session; true if one was removed.
pub async fn remove_chat(db: &impl ConnectionTrait, session: i64, id: i64, by: i64) -> Result<bool, DbErr> {
    let r = chat_message::Entity::update_many()
        .col_expr(chat_message::Column::RemovedAt, Expr::value(Utc::now()))
        .col_expr(chat_message::Column::RemovedBy, Expr::value(by))
        .filter(chat_message::Column::Id.eq(id))
        .filter(chat_message::Column::SessionId.eq(session))
        .filter(chat_message::Column::RemovedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Opens an attendance interval for a live connection.
pub async fn open_interval(
    db: &impl ConnectionTrait,
    session: i64,
    person: i64,
    at: DateTime<Utc>,
) -> Result<i64, DbErr> {
    Ok(attendance_interval::ActiveModel {
        session_id: Set(session),
        person_id: Set(person),
        joined_at: Set(at),
        last_seen_at: Set(at),
        left_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?
    .id)
}

pub async fn touch_interval(db: &impl ConnectionTrait, id: i64, at: DateTime<Utc>) -> Result<(), DbErr> {
    attendance_interval::ActiveModel {
        id: Set(id),
        last_seen_at: Set(at),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn close_interval(db: &impl ConnectionTrait, id: i64, at: DateTime<Utc>) -> Result<(), DbErr> {
    attendance_interval::ActiveModel {
        id: Set(id),
        last_seen_at: Set(at),
        left_at: Set(Some(at)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Closes intervals whose connection vanished without a goodbye (a crash or a killed process): they
/// end at the last heartbeat seen.
pub async fn close_stale_intervals(db: &impl ConnectionTrait, seen_before: DateTime<Utc>) -> Result<u64, DbErr> {
    let which = sea_orm::Condition::all().add(attendance_interval::Column::LastSeenAt.lt(seen_before));
    end_open_at_last_seen(db, which).await
}

/// Ends the session's intervals opened before `before` and still open, at their last heartbeat: when a
/// room opens, connections counted by a process or node that hosted it earlier (and died, or lost it)
/// are over; the chairs' new connections open intervals of their own, so no minute counts twice.
pub async fn close_open_intervals(
    db: &impl ConnectionTrait,
    session: i64,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let which = sea_orm::Condition::all()
        .add(attendance_interval::Column::SessionId.eq(session))
        .add(attendance_interval::Column::JoinedAt.lt(before));
    end_open_at_last_seen(db, which).await
}

/// Open intervals matching `which` end at their last heartbeat.
async fn end_open_at_last_seen(db: &impl ConnectionTrait, which: sea_orm::Condition) -> Result<u64, DbErr> {
    let r = attendance_interval::Entity::update_many()
        .col_expr(
            attendance_interval::Column::LeftAt,
            Expr::col(attendance_interval::Column::LastSeenAt),
        )
        .filter(attendance_interval::Column::LeftAt.is_null())
        .filter(which)
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Every person's intervals in a session as seen at `now`; a connection still open counts up to now
/// while its heartbeats are recent (`attendance::open_until`).
pub async fn intervals(db: &impl ConnectionTrait, session: i64) -> Result<Vec<(i64, Interval)>, DbErr> {
    let now = Utc::now();
    Ok(attendance_interval::Entity::find()
        .filter(attendance_interval::Column::SessionId.eq(session))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.person_id, seen_interval(&m, now)))
        .collect())
}

/// A stored interval as it reads at `now`: a connection still open runs up to now while its heartbeats
/// are recent, else ends at its last heartbeat (`attendance::open_until`).
fn seen_interval(m: &attendance_interval::Model, now: DateTime<Utc>) -> Interval {
    Interval {
        from: m.joined_at,
        to: m
            .left_at
            .unwrap_or_else(|| crate::domain::attendance::open_until(m.last_seen_at, now)),
    }
}

/// One person's intervals in these sessions as seen now (as [`intervals`]): (session, interval).
pub async fn intervals_of_person(
    db: &impl ConnectionTrait,
    person: i64,
    sessions: &[i64],
) -> Result<Vec<(i64, Interval)>, DbErr> {
    let now = Utc::now();
    Ok(attendance_interval::Entity::find()
        .filter(attendance_interval::Column::PersonId.eq(person))
        .filter(attendance_interval::Column::SessionId.is_in(sessions.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.session_id, seen_interval(&m, now)))
        .collect())
}

/// Everything one person wrote in any room's chat, removed messages included: (session, message).
pub async fn chat_of_person(db: &impl ConnectionTrait, person: i64) -> Result<Vec<(i64, ChatMessage)>, DbErr> {
    Ok(chat_message::Entity::find()
        .filter(chat_message::Column::PersonId.eq(person))
        .order_by_asc(chat_message::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| {
            let msg = ChatMessage {
                id: m.id,
                person_id: m.person_id,
                body: m.body,
                created_at: m.created_at,
            };
            (m.session_id, msg)
        })
        .collect())
}

/// Erases what a person wrote in chat: the messages stay (others' replies refer to them) with their
/// text gone, and are hidden.
pub async fn erase_chat_of(db: &impl ConnectionTrait, person: i64, placeholder: &str) -> Result<u64, DbErr> {
    use sea_orm::sea_query::Expr;
    chat_message::Entity::update_many()
        .col_expr(chat_message::Column::RemovedAt, Expr::value(Utc::now()))
        .filter(chat_message::Column::PersonId.eq(person))
        .filter(chat_message::Column::RemovedAt.is_null())
        .exec(db)
        .await?;
    let r = chat_message::Entity::update_many()
        .col_expr(chat_message::Column::Body, Expr::value(placeholder))
        .filter(chat_message::Column::PersonId.eq(person))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Deletes chat messages written before `cutoff` (retention).
pub async fn delete_chat_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(chat_message::Entity::delete_many()
        .filter(chat_message::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes attendance recorded before `cutoff`, live and on replay (retention).
pub async fn delete_attendance_before(db: &impl ConnectionTrait, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    use super::entities::replay_interval;
    let live = attendance_interval::Entity::delete_many()
        .filter(attendance_interval::Column::LastSeenAt.lt(cutoff))
        .filter(attendance_interval::Column::LeftAt.is_not_null())
        .exec(db)
        .await?
        .rows_affected;
    let replay = replay_interval::Entity::delete_many()
        .filter(replay_interval::Column::RecordedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    Ok(live + replay)
}
