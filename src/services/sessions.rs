//! Scheduling training sessions, their life cycle (one rule for every path that changes a status), and
//! what the session pages and the room page show.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::{Moderates, SessionAccess, StreetScope};
use super::attendance::Attendance;
use super::audit::{self, Actor};
use crate::db::{org, people, sessions as sessions_db};
use crate::domain::audit::Action;
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::{Person, Role};
use crate::domain::session::{
    AUTO_END_AFTER_HOURS, RoomRole, Schedule, SessionRecord, SessionStatus, SessionSummary, forgotten_end,
};
use crate::domain::time::to_shanghai;

pub use super::FieldErrors;

pub use super::live_room::{LiveRoom, NoRoom};

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

/// Checks people and places against the database and resolves the invited committees, in a fixed
/// number of queries.
async fn resolve(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    input: &SessionInput,
) -> Result<Vec<i64>, ServiceError> {
    let street = org::get(db, input.street).await?;
    if street.as_ref().map(|s| s.kind) != Some(OrgKind::Street) {
        return Err(ServiceError::rejected("street", "请选择街道", "choose a street"));
    }
    if !scope.allows(input.street) {
        return Err(ServiceError::Forbidden);
    }
    let mut errors = FieldErrors::new();
    check_lecturers(db, &input.lecturers, &mut errors).await?;
    check_moderators(db, input, &mut errors).await?;
    let committees = invited_committees(db, input, &mut errors).await?;
    Ok(errors.or_ok(committees)?)
}

async fn check_lecturers(db: &impl ConnectionTrait, ids: &[i64], errors: &mut FieldErrors) -> Result<(), ServiceError> {
    if ids.is_empty() {
        errors.add("lecturers", "请至少选择一位主讲律师", "choose at least one lecturer");
        return Ok(());
    }
    let lawyers: BTreeSet<i64> = people::get_many(db, ids)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Lawyer))
        .map(|p| p.id)
        .collect();
    if !ids.iter().all(|id| lawyers.contains(id)) {
        errors.add("lecturers", "主讲人必须是律师账号", "lecturers must be lawyer accounts");
    }
    Ok(())
}

/// Moderators are admins, or officials of the session's street.
async fn check_moderators(
    db: &impl ConnectionTrait,
    input: &SessionInput,
    errors: &mut FieldErrors,
) -> Result<(), ServiceError> {
    if input.moderators.is_empty() {
        return Ok(());
    }
    let of_street: BTreeSet<i64> = org::officials_of_streets(db, &[input.street])
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let ok: BTreeSet<i64> = people::get_many(db, &input.moderators)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Admin) || (p.roles.has(Role::Official) && of_street.contains(&p.id)))
        .map(|p| p.id)
        .collect();
    if !input.moderators.iter().all(|id| ok.contains(id)) {
        errors.add(
            "moderators",
            "主持人必须是本街道的街道干部",
            "moderators must be officials of this street",
        );
    }
    Ok(())
}

async fn invited_committees(
    db: &impl ConnectionTrait,
    input: &SessionInput,
    errors: &mut FieldErrors,
) -> Result<Vec<i64>, ServiceError> {
    let in_street = org::in_street(db, input.street, OrgKind::Committee).await?;
    let committees: Vec<i64> = match &input.invitees {
        Invitees::WholeStreet => in_street.iter().map(|c| c.id).collect(),
        Invitees::Neighbourhoods(ns) => under_neighbourhoods(db, input.street, ns, &in_street).await?,
        Invitees::Committees(cs) => {
            if cs.iter().any(|c| !in_street.iter().any(|x| x.id == *c)) {
                errors.add(
                    "committees",
                    "所选业委会不属于该街道",
                    "a chosen committee is not in this street",
                );
            }
            cs.clone()
        }
    };
    if committees.is_empty() && errors.get("committees").is_none() {
        errors.add("committees", "没有邀请任何业委会", "no committee is invited");
    }
    Ok(committees)
}

/// The committees (of `in_street`) whose estates lie under these 居委.
async fn under_neighbourhoods(
    db: &impl ConnectionTrait,
    street: i64,
    neighbourhoods: &[i64],
    in_street: &[OrgUnit],
) -> Result<Vec<i64>, ServiceError> {
    let estates: BTreeSet<i64> = org::in_street(db, street, OrgKind::Estate)
        .await?
        .into_iter()
        .filter(|e| e.parent_id.is_some_and(|p| neighbourhoods.contains(&p)))
        .map(|e| e.id)
        .collect();
    Ok(in_street
        .iter()
        .filter(|c| c.parent_id.is_some_and(|p| estates.contains(&p)))
        .map(|c| c.id)
        .collect())
}

/// A schedule's dates in Shanghai time, as the audit trail summarises them.
fn shanghai_range(s: &crate::domain::session::Schedule) -> String {
    format!(
        "{}–{}",
        to_shanghai(s.starts_at).format("%Y-%m-%d %H:%M"),
        to_shanghai(s.ends_at).format("%H:%M")
    )
}

#[tracing::instrument(skip_all, fields(street = input.street))]
pub async fn create(
    db: &DatabaseConnection,
    scope: &StreetScope,
    creator: &Actor,
    input: &SessionInput,
) -> Result<i64, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let committees = resolve(&txn, scope, input).await?;
    let s = &input.schedule;
    let id = sessions_db::insert(
        &txn,
        sessions_db::NewSession {
            title: &s.title,
            description: &s.description,
            street_id: input.street,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_by: creator.person_id,
            invite_token: super::tokens::new_token(),
            lecturers: &input.lecturers,
            committees: &committees,
        },
    )
    .await?;
    sessions_db::set_people(&txn, id, &input.lecturers, &input.moderators, &committees).await?;
    let summary = format!("{}；{}；邀请 {} 个业委会", s.title, shanghai_range(s), committees.len());
    audit::record_in(&txn, creator, Action::SessionSchedule, format!("session:{id}"), summary).await?;
    txn.commit().await?;
    tracing::info!(session = id, committees = committees.len(), "session scheduled");
    Ok(id)
}

/// The session, if the user may manage it (officials of its street, admins).
pub async fn managed(db: &impl ConnectionTrait, scope: &StreetScope, id: i64) -> Result<SessionRecord, ServiceError> {
    let s = sessions_db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows(s.street_id) {
        return Err(ServiceError::Forbidden);
    }
    Ok(s)
}

#[tracing::instrument(skip_all, fields(session = id))]
pub async fn update(
    db: &DatabaseConnection,
    scope: &StreetScope,
    by: &Actor,
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
    sessions_db::update_schedule(&txn, id, &s.title, &s.description, s.starts_at, s.ends_at).await?;
    sessions_db::set_people(&txn, id, &input.lecturers, &input.moderators, &committees).await?;
    let summary = format!("{}；{}；邀请 {} 个业委会", s.title, shanghai_range(s), committees.len());
    audit::record_in(&txn, by, Action::SessionEdit, format!("session:{id}"), summary).await?;
    txn.commit().await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(session = id))]
pub async fn cancel(db: &impl ConnectionTrait, scope: &StreetScope, id: i64) -> Result<(), ServiceError> {
    let s = managed(db, scope, id).await?;
    transition(db, &s, SessionStatus::Cancelled, Utc::now()).await
}

/// An official cancels a session (`cancel`), audited in the same transaction.
pub async fn cancel_by(db: &DatabaseConnection, scope: &StreetScope, by: &Actor, id: i64) -> Result<(), ServiceError> {
    let cancel = async |txn: &sea_orm::DatabaseTransaction| cancel(txn, scope, id).await;
    audit::audited(db, by, Action::SessionCancel, format!("session:{id}"), cancel, |_| {
        "取消".into()
    })
    .await
}

/// Starts or ends a session (the moderator's buttons, on the page or in the room), then tells its room.
#[tracing::instrument(skip_all, fields(session = who.session().id, to = to.code()))]
pub async fn change_status(
    db: &DatabaseConnection,
    who: &Moderates,
    to: SessionStatus,
    room: &impl LiveRoom,
) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    transition(&txn, who.session(), to, Utc::now()).await?;
    let action = if to == SessionStatus::Ended {
        Action::SessionEnd
    } else {
        Action::SessionStart
    };
    let object = format!("session:{}", who.session().id);
    audit::record_in(&txn, &who.actor(), action, object, to.code()).await?;
    txn.commit().await?;
    room.status_changed(who.session().id, to).await;
    Ok(())
}

/// The one path by which a session's status changes — the moderator (page or room), cancellation and
/// the job that ends forgotten sessions all come here: the life-cycle rule (`SessionStatus::change_to`)
/// against the status read, then a conditional update, so that two paths racing (a room and a form
/// post, two processes) cannot both win; the loser is told why by the status that won.
async fn transition(
    db: &impl ConnectionTrait,
    s: &SessionRecord,
    to: SessionStatus,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    s.status.change_to(to).map_err(ServiceError::Refused)?;
    if !sessions_db::set_status(db, s.id, to, at).await? {
        let now = sessions_db::get(db, s.id).await?.map_or(s.status, |x| x.status);
        return Err(ServiceError::Refused(now.refusal(to)));
    }
    if to == SessionStatus::Ended {
        // Nobody waits to speak in a session that is over, whichever path ended it (room or not).
        crate::db::rooms::lower_all_hands(db, s.id).await?;
    }
    tracing::info!(session = s.id, status = to.code(), "session status changed");
    Ok(())
}

/// Ends live sessions their moderators forgot: two hours after the scheduled end, at the later of that
/// end and the last time anyone was seen in the room (`session::forgotten_end`). Their rooms are told.
#[tracing::instrument(skip_all)]
pub async fn end_forgotten(db: &impl ConnectionTrait, room: &impl LiveRoom) -> Result<Vec<i64>, ServiceError> {
    let now = Utc::now();
    let mut ended = Vec::new();
    for s in sessions_db::live_ending_before(db, now - chrono::Duration::hours(AUTO_END_AFTER_HOURS)).await? {
        let last_seen = sessions_db::last_seen(db, s.id).await?;
        let Some(at) = forgotten_end(s.status, s.ends_at, last_seen, now) else {
            continue;
        };
        if transition(db, &s, SessionStatus::Ended, at).await.is_ok() {
            tracing::info!(session = s.id, "forgotten session ended by itself");
            room.status_changed(s.id, SessionStatus::Ended).await;
            ended.push(s.id);
        }
    }
    Ok(ended)
}

/// The session an invitation link leads to.
pub async fn by_invite(db: &impl ConnectionTrait, token: &str) -> Result<i64, ServiceError> {
    Ok(sessions_db::by_invite(db, token)
        .await?
        .ok_or(ServiceError::NotFound)?
        .id)
}

/// What the group link shows anyone who has it, signed in or not: the training itself (what the
/// poster in the chat group says too), nothing about who was invited.
pub struct Invitation {
    pub session: SessionRecord,
    pub street: String,
    pub lecturers: Vec<String>,
}

impl Invitation {
    pub fn when_text(&self) -> String {
        when_text(self.session.starts_at, self.session.ends_at)
    }
}

/// The time as a poster or a chat message says it: "12月8日（星期二）14:00–16:00", Shanghai time.
pub fn when_text(starts: DateTime<Utc>, ends: DateTime<Utc>) -> String {
    use chrono::Datelike;
    const DAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    let (from, to) = (to_shanghai(starts), to_shanghai(ends));
    let day = DAYS[from.weekday().num_days_from_monday() as usize];
    format!(
        "{}（星期{day}）{}–{}",
        from.format("%-m月%-d日"),
        from.format("%H:%M"),
        to.format("%H:%M")
    )
}

pub async fn invitation(db: &impl ConnectionTrait, token: &str) -> Result<Invitation, ServiceError> {
    let session = sessions_db::by_invite(db, token).await?.ok_or(ServiceError::NotFound)?;
    let lecturers = people::get_many(db, &session.lecturers).await?;
    Ok(Invitation {
        street: street_name(db, session.street_id).await?,
        lecturers: lecturers.into_iter().map(|p| p.name.as_str().to_string()).collect(),
        session,
    })
}

/// The official's list: the sessions of the streets they may see.
pub async fn list_page(db: &impl ConnectionTrait, scope: &StreetScope) -> Result<Vec<SessionSummary>, ServiceError> {
    let ids: Vec<i64> = super::streets::visible(db, scope).await?.iter().map(|s| s.id).collect();
    Ok(sessions_db::for_streets(db, &ids, 200).await?)
}

/// What the session form offers an official: their streets, the lawyers, the officials of those
/// streets, and the 居委 and committees of those streets labelled with their street. A fixed number of
/// queries however many streets.
#[derive(Debug, Default)]
pub struct FormChoices {
    pub streets: Vec<OrgUnit>,
    pub lawyers: Vec<Person>,
    pub officials: Vec<Person>,
    /// (id, "街道 · 居委")
    pub neighbourhoods: Choices,
    /// (id, "街道 · 居委 · 业委会"), sorted by label within each street.
    pub committees: Choices,
}

pub async fn form_choices(db: &impl ConnectionTrait, scope: &StreetScope) -> Result<FormChoices, ServiceError> {
    let streets = super::streets::visible(db, scope).await?;
    let ids: Vec<i64> = streets.iter().map(|s| s.id).collect();
    let lawyers = people::with_role(db, Role::Lawyer).await?;
    let official_ids: BTreeSet<i64> = org::officials_of_streets(db, &ids)
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let mut officials: Vec<Person> = people::get_many(db, &official_ids.into_iter().collect::<Vec<_>>())
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Official))
        .collect();
    officials.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
    let kinds = [OrgKind::Neighbourhood, OrgKind::Estate, OrgKind::Committee];
    let units = org::in_streets(db, &ids, &kinds).await?;
    let (neighbourhoods, committees) = unit_choices(&streets, &units);
    Ok(FormChoices {
        streets,
        lawyers,
        officials,
        neighbourhoods,
        committees,
    })
}

/// Labels the 居委 and committees of each street (streets in the order given, units by name).
/// (id, label) choices for a form.
pub type Choices = Vec<(i64, String)>;

fn unit_choices(streets: &[OrgUnit], units: &[OrgUnit]) -> (Choices, Choices) {
    let by_id: HashMap<i64, &OrgUnit> = units.iter().map(|u| (u.id, u)).collect();
    let parent = |u: &OrgUnit| u.parent_id.and_then(|p| by_id.get(&p).copied());
    let (mut neighbourhoods, mut committees) = (Vec::new(), Vec::new());
    for s in streets {
        let here = || units.iter().filter(move |u| u.street_id == Some(s.id));
        for n in here().filter(|u| u.kind == OrgKind::Neighbourhood) {
            neighbourhoods.push((n.id, format!("{} · {}", s.name, n.name)));
        }
        let mut list: Vec<(i64, String)> = here()
            .filter(|u| u.kind == OrgKind::Committee)
            .map(|c| {
                let n = parent(c).and_then(parent).map(|n| n.name.as_str()).unwrap_or_default();
                (c.id, format!("{} · {n} · {}", s.name, c.name))
            })
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        committees.extend(list);
    }
    (neighbourhoods, committees)
}

/// The official's page of one session.
pub struct DetailPage {
    pub session: SessionRecord,
    pub street: String,
    pub lecturers: Vec<Person>,
    pub attendance: Vec<AttendanceRow>,
    pub recording: Option<crate::domain::recording::RecordingRecord>,
}

pub async fn detail_page(db: &impl ConnectionTrait, scope: &StreetScope, id: i64) -> Result<DetailPage, ServiceError> {
    let session = managed(db, scope, id).await?;
    Ok(DetailPage {
        street: street_name(db, session.street_id).await?,
        lecturers: people::get_many(db, &session.lecturers).await?,
        attendance: attendance(db, &session).await?,
        recording: crate::db::recordings::for_session(db, session.id).await?,
        session,
    })
}

async fn street_name(db: &impl ConnectionTrait, street: i64) -> Result<String, ServiceError> {
    Ok(org::get(db, street).await?.map(|u| u.name).unwrap_or_default())
}

/// The room page: lobby, live room or ended, for the person's part in the session.
pub struct RoomPage {
    pub session: SessionRecord,
    pub role: RoomRole,
    pub you: i64,
    pub street: String,
    pub lecturers: Vec<Person>,
    /// The session's quiz while chairs can enter it: a chair who arrives (or reloads) after it opened
    /// missed the socket's push, so the page itself must lead there.
    pub open_quiz: Option<i64>,
}

pub async fn room_page(db: &impl ConnectionTrait, access: SessionAccess) -> Result<RoomPage, ServiceError> {
    let session = access.session().clone();
    Ok(RoomPage {
        street: street_name(db, session.street_id).await?,
        lecturers: people::get_many(db, &session.lecturers).await?,
        open_quiz: super::quiz::open_now(db, session.id).await?,
        role: access.role(),
        you: access.person(),
        session,
    })
}

/// Attendance per invited chair: minutes present within the lecture (the same rule as the quiz gate).
pub struct AttendanceRow {
    pub person: Person,
    /// Live and replay together, each moment once (the gate's measure).
    pub minutes: i64,
    pub live_minutes: i64,
    /// What the replay added to her live minutes.
    pub replay_minutes: i64,
    pub share: f64,
}

pub async fn attendance(db: &impl ConnectionTrait, s: &SessionRecord) -> Result<Vec<AttendanceRow>, ServiceError> {
    let chairs: Vec<Person> = people::members_of_committees(db, &s.committees)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Chair))
        .collect();
    let attendance = Attendance::of_session(db, s, Utc::now()).await?;
    Ok(chairs
        .into_iter()
        .map(|person| AttendanceRow {
            minutes: attendance.minutes(person.id),
            live_minutes: attendance.live_minutes(person.id),
            replay_minutes: attendance.replay_minutes(person.id),
            share: attendance.share(person.id),
            person,
        })
        .collect())
}
