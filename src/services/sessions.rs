//! Scheduling training sessions and deciding who may enter their rooms.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::StreetScope;
use super::accounts::CurrentUser;
use super::attendance::Attendance;
use crate::db::training::{self, SessionRecord};
use crate::db::{org, people};
use crate::domain::org::OrgKind;
use crate::domain::person::{Person, Role};
use crate::domain::session::{AUTO_END_AFTER_HOURS, RoomRole, Schedule, SessionStatus, forgotten_end};
use crate::i18n::Text;

pub use super::FieldErrors;

/// Which committees are invited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitees {
    /// Every committee in the street.
    WholeStreet,
    /// Every committee under these 居委.
    Neighbourhoods(Vec<i64>),
    /// These committees.
    Committees(Vec<i64>),
}

/// The session form, parsed where it can be without the database.
pub struct SessionInput {
    pub schedule: Schedule,
    pub street: i64,
    pub lecturers: Vec<i64>,
    pub moderators: Vec<i64>,
    pub invitees: Invitees,
}

/// Checks people and places against the database and resolves the invited committees.
async fn resolve(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    input: &SessionInput,
) -> Result<Vec<i64>, ServiceError> {
    let mut errors = FieldErrors::new();
    let street = org::get(db, input.street).await?;
    if street.as_ref().map(|s| s.kind) != Some(OrgKind::Street) {
        errors.push(("street", Text::new("请选择街道", "choose a street")));
        return Err(errors.into());
    }
    if !scope.allows(input.street) {
        return Err(ServiceError::Forbidden);
    }
    if input.lecturers.is_empty() {
        errors.push((
            "lecturers",
            Text::new("请至少选择一位主讲律师", "choose at least one lecturer"),
        ));
    }
    for id in &input.lecturers {
        if !people::get(db, *id).await?.is_some_and(|p| p.roles.has(Role::Lawyer)) {
            errors.push((
                "lecturers",
                Text::new("主讲人必须是律师账号", "lecturers must be lawyer accounts"),
            ));
            break;
        }
    }
    for id in &input.moderators {
        let ok = match people::get(db, *id).await? {
            Some(p) if p.roles.has(Role::Admin) => true,
            Some(p) if p.roles.has(Role::Official) => {
                people::official_street_ids(db, p.id).await?.contains(&input.street)
            }
            _ => false,
        };
        if !ok {
            errors.push((
                "moderators",
                Text::new(
                    "主持人必须是本街道的街道干部",
                    "moderators must be officials of this street",
                ),
            ));
            break;
        }
    }
    let in_street: Vec<_> = org::in_street(db, input.street, OrgKind::Committee).await?;
    let committees: Vec<i64> = match &input.invitees {
        Invitees::WholeStreet => in_street.iter().map(|c| c.id).collect(),
        Invitees::Neighbourhoods(ns) => {
            let estates: BTreeSet<i64> = org::in_street(db, input.street, OrgKind::Estate)
                .await?
                .into_iter()
                .filter(|e| e.parent_id.is_some_and(|p| ns.contains(&p)))
                .map(|e| e.id)
                .collect();
            in_street
                .iter()
                .filter(|c| c.parent_id.is_some_and(|p| estates.contains(&p)))
                .map(|c| c.id)
                .collect()
        }
        Invitees::Committees(cs) => {
            if cs.iter().any(|c| !in_street.iter().any(|x| x.id == *c)) {
                errors.push((
                    "committees",
                    Text::new("所选业委会不属于该街道", "a chosen committee is not in this street"),
                ));
            }
            cs.clone()
        }
    };
    if committees.is_empty() && errors.iter().all(|(f, _)| *f != "committees") {
        errors.push(("committees", Text::new("没有邀请任何业委会", "no committee is invited")));
    }
    Ok(errors.or_ok(committees)?)
}

#[tracing::instrument(skip_all, fields(street = input.street))]
pub async fn create(
    db: &DatabaseConnection,
    scope: &StreetScope,
    creator: i64,
    input: &SessionInput,
) -> Result<i64, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let committees = resolve(&txn, scope, input).await?;
    let s = &input.schedule;
    let id = training::insert(
        &txn,
        training::NewSession {
            title: &s.title,
            description: &s.description,
            street_id: input.street,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_by: Some(creator),
            invite_token: super::tokens::new_token(),
            lecturers: &input.lecturers,
            committees: &committees,
        },
    )
    .await?;
    training::set_people(&txn, id, &input.lecturers, &input.moderators, &committees).await?;
    txn.commit().await?;
    tracing::info!(session = id, committees = committees.len(), "session scheduled");
    Ok(id)
}

/// The session, if the user may manage it (officials of its street, admins).
pub async fn managed(db: &impl ConnectionTrait, scope: &StreetScope, id: i64) -> Result<SessionRecord, ServiceError> {
    let s = training::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows(s.street_id) {
        return Err(ServiceError::Forbidden);
    }
    Ok(s)
}

#[tracing::instrument(skip_all, fields(session = id))]
pub async fn update(
    db: &DatabaseConnection,
    scope: &StreetScope,
    id: i64,
    input: &SessionInput,
) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let current = managed(&txn, scope, id).await?;
    if matches!(current.status, SessionStatus::Ended | SessionStatus::Cancelled) {
        return Err(ServiceError::refused(
            "已结束或已取消的场次不能修改",
            "an ended or cancelled session cannot be changed",
        ));
    }
    if input.street != current.street_id {
        return Err(ServiceError::rejected(
            "street",
            "场次创建后不能更换街道",
            "the street of a session cannot change",
        ));
    }
    let committees = resolve(&txn, scope, input).await?;
    let s = &input.schedule;
    training::update_schedule(&txn, id, &s.title, &s.description, s.starts_at, s.ends_at).await?;
    training::set_people(&txn, id, &input.lecturers, &input.moderators, &committees).await?;
    txn.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(session = id))]
pub async fn cancel(db: &impl ConnectionTrait, scope: &StreetScope, id: i64) -> Result<(), ServiceError> {
    let s = managed(db, scope, id).await?;
    change_status(db, &s, SessionStatus::Cancelled).await
}

/// Moves a session along its life cycle by the one rule (`SessionStatus::may_become`), refusing with
/// a message that says why. Used where no live room holds the session: cancellation, and starting or
/// ending without a room.
#[tracing::instrument(skip_all, fields(session = s.id, to = to.code()))]
pub async fn change_status(
    db: &impl ConnectionTrait,
    s: &SessionRecord,
    to: SessionStatus,
) -> Result<(), ServiceError> {
    if !s.status.may_become(to) || !training::set_status(db, s.id, to, Utc::now()).await? {
        // Re-read: a race with another path changed it since `s` was read.
        let now = training::get(db, s.id).await?.map_or(s.status, |x| x.status);
        return Err(ServiceError::Refused(now.refusal(to)));
    }
    tracing::info!(session = s.id, status = to.code(), "session status changed");
    Ok(())
}

/// Ends live sessions their moderators forgot: two hours after the scheduled end, at the later of that
/// end and the last time anyone was seen in the room (`session::forgotten_end`). Returns the ended
/// sessions, so that open rooms can be told.
#[tracing::instrument(skip_all)]
pub async fn end_forgotten(db: &impl ConnectionTrait) -> Result<Vec<i64>, ServiceError> {
    let now = Utc::now();
    let mut ended = Vec::new();
    for s in training::live_ending_before(db, now - chrono::Duration::hours(AUTO_END_AFTER_HOURS)).await? {
        let last_seen = training::last_seen(db, s.id).await?;
        if let Some(at) = forgotten_end(s.status, s.ends_at, last_seen, now)
            && training::set_status(db, s.id, SessionStatus::Ended, at).await?
        {
            tracing::info!(session = s.id, "forgotten session ended by itself");
            ended.push(s.id);
        }
    }
    Ok(ended)
}

/// The role a user has in a session, or `None` when they may not enter. `user` is loaded from the
/// database on every request, so this reflects the roles and streets an admin set a moment ago.
pub async fn room_role(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    s: &SessionRecord,
) -> Result<Option<RoomRole>, ServiceError> {
    let _ = db;
    Ok(role_in(&user.person, &user.official_streets, s))
}

/// A person's role in a session now: reloads their roles and streets and the session, for a
/// connection that outlives the request that opened it (the room's WebSocket re-checks before every
/// command that needs more than a viewer's rights).
pub async fn current_room_role(
    db: &impl ConnectionTrait,
    person: i64,
    session: i64,
) -> Result<Option<RoomRole>, ServiceError> {
    let (Some(p), Some(s)) = (people::get(db, person).await?, training::get(db, session).await?) else {
        return Ok(None);
    };
    let streets = if p.roles.has(Role::Official) {
        people::official_street_ids(db, p.id).await?
    } else {
        Vec::new()
    };
    Ok(role_in(&p, &streets, &s))
}

/// The one rule for session rights, from current roles and scope only. Moderating is for admins and
/// the officials of the session's street; the session's explicit moderator list grants nothing by
/// itself (it was checked against the same rule when saved, and must not outlive a removed role or
/// street). Lecturing needs the lawyer role still.
fn role_in(p: &Person, official_streets: &[i64], s: &SessionRecord) -> Option<RoomRole> {
    if p.roles.has(Role::Admin) || (p.roles.has(Role::Official) && official_streets.contains(&s.street_id)) {
        return Some(RoomRole::Moderator);
    }
    if p.roles.has(Role::Lawyer) && s.lecturers.contains(&p.id) {
        return Some(RoomRole::Lecturer);
    }
    if p.roles.has(Role::Chair) && p.committee_id.is_some_and(|c| s.committees.contains(&c)) {
        return Some(RoomRole::Viewer);
    }
    None
}

/// Attendance per invited chair: minutes present within the lecture (the same rule as the quiz gate).
pub struct AttendanceRow {
    pub person: Person,
    pub minutes: i64,
    pub share: f64,
}

pub async fn attendance(db: &impl ConnectionTrait, s: &SessionRecord) -> Result<Vec<AttendanceRow>, ServiceError> {
    let chairs: Vec<Person> = people::members_of_committees(db, &s.committees)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Chair))
        .collect();
    let quiz = crate::db::quiz::for_session(db, s.id).await?;
    let attendance = Attendance::of(db, s, quiz.as_ref(), Utc::now()).await?;
    Ok(chairs
        .into_iter()
        .map(|person| AttendanceRow {
            minutes: attendance.minutes(person.id),
            share: attendance.share(person.id),
            person,
        })
        .collect())
}
