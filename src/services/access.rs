//! Who may act on what: officials scoped to their streets (or whole districts), and each person's part
//! in a session.

use sea_orm::{ConnectionTrait, DbErr};

use super::ServiceError;
use crate::db::{org, people, sessions as sessions_db};
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::{Person, Role};
use crate::domain::session::{RoomRole, SessionRecord};

/// The signed-in person as every request sees them.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub person: Person,
    /// The streets an official may manage: the ones she is scoped to and every street of her districts
    /// (empty for others). Every street check reads this, so a district scope needs no special case.
    pub official_streets: Vec<i64>,
    /// The districts an official is scoped to as a whole (their district-level reports are hers).
    pub official_districts: Vec<i64>,
    /// The hash of this session's token (to sign out this session only).
    pub session_hash: String,
    /// Where this request came from (the audit trail records it with her privileged actions).
    pub address: String,
}

impl CurrentUser {
    /// Her, acting from this request's address, as the audit trail records her.
    pub fn actor(&self) -> super::audit::Actor {
        super::audit::Actor {
            person_id: Some(self.person.id),
            address: self.address.clone(),
        }
    }
}

/// The streets a user may manage: all (admins) or the ones they are scoped to (officials), directly or
/// through a district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreetScope {
    All,
    Only { streets: Vec<i64>, districts: Vec<i64> },
}

impl StreetScope {
    pub fn of(user: &CurrentUser) -> StreetScope {
        if user.person.roles.has(Role::Admin) {
            StreetScope::All
        } else if user.person.roles.has(Role::Official) {
            StreetScope::Only {
                streets: user.official_streets.clone(),
                districts: user.official_districts.clone(),
            }
        } else {
            StreetScope::nothing()
        }
    }

    pub fn nothing() -> StreetScope {
        StreetScope::Only {
            streets: Vec::new(),
            districts: Vec::new(),
        }
    }

    pub fn allows(&self, street: i64) -> bool {
        match self {
            StreetScope::All => true,
            StreetScope::Only { streets, .. } => streets.contains(&street),
        }
    }

    /// A district as a whole (its roll-up) is for admins and the officials scoped to it; an official of
    /// some of its streets sees those streets only.
    pub fn allows_district(&self, district: i64) -> bool {
        match self {
            StreetScope::All => true,
            StreetScope::Only { districts, .. } => districts.contains(&district),
        }
    }

    /// Any unit of the tree: a district as a whole, else the street it lies in.
    pub fn allows_unit(&self, unit: &OrgUnit) -> bool {
        match unit.kind {
            OrgKind::District => self.allows_district(unit.id),
            _ => unit.street_id.is_some_and(|s| self.allows(s)),
        }
    }
}

/// An official's scope as stored, resolved: (the streets she may manage, her districts). Empty for
/// anyone who is not an official. Read on every request, so a scope an admin changed applies at once.
pub async fn official_scope(db: &impl ConnectionTrait, person: &Person) -> Result<(Vec<i64>, Vec<i64>), DbErr> {
    if !person.roles.has(Role::Official) {
        return Ok((Vec::new(), Vec::new()));
    }
    let districts = people::official_district_ids(db, person.id).await?;
    let mut streets = people::official_street_ids(db, person.id).await?;
    if !districts.is_empty() {
        streets.extend(org::streets_of_districts(db, &districts).await?.iter().map(|s| s.id));
        streets.sort_unstable();
        streets.dedup();
    }
    Ok((streets, districts))
}

/// A person's part in a session — moderates, lectures or attends — computed once from their current
/// roles and streets, with the session as it was read then. The room page and socket, the quiz settings,
/// and (through `Moderates`) opening and closing the quiz and starting and ending the session take it.
#[derive(Debug, Clone)]
pub struct SessionAccess {
    session: SessionRecord,
    person: i64,
    role: RoomRole,
    /// Where the request (or the room's socket) came from, for the audit trail.
    address: String,
}

/// Proof that the person moderates the session now: what starting and ending it, opening and closing
/// its quiz and moderating its room require.
#[derive(Debug, Clone)]
pub struct Moderates(SessionAccess);

impl SessionAccess {
    /// The signed-in user's part in a session: not found, or forbidden when they have none. `user` is
    /// loaded from the database on every request, so this reflects roles an admin set a moment ago.
    pub async fn of(
        db: &impl ConnectionTrait,
        user: &CurrentUser,
        session: i64,
    ) -> Result<SessionAccess, ServiceError> {
        let s = sessions_db::get(db, session).await?.ok_or(ServiceError::NotFound)?;
        let role = role_in(&user.person, &user.official_streets, &s).ok_or(ServiceError::Forbidden)?;
        Ok(SessionAccess {
            session: s,
            person: user.person.id,
            role,
            address: user.address.clone(),
        })
    }

    /// Reloads a person's roles and streets and the session, for a connection that outlives the request
    /// that opened it (the room's socket, before every command that needs more than a viewer's rights).
    /// `None` when they may no longer enter.
    pub async fn current(
        db: &impl ConnectionTrait,
        person: i64,
        session: i64,
    ) -> Result<Option<SessionAccess>, ServiceError> {
        let (Some(p), Some(s)) = (people::get(db, person).await?, sessions_db::get(db, session).await?) else {
            return Ok(None);
        };
        let (streets, _) = official_scope(db, &p).await?;
        Ok(role_in(&p, &streets, &s).map(|role| SessionAccess {
            session: s,
            person,
            role,
            address: String::new(),
        }))
    }

    /// The same rights, exercised from `address` (a socket reloading rights keeps the address it was
    /// opened from).
    pub fn from_address(self, address: String) -> SessionAccess {
        SessionAccess { address, ..self }
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Who exercises these rights, as the audit trail records her.
    pub fn actor(&self) -> super::audit::Actor {
        super::audit::Actor {
            person_id: Some(self.person),
            address: self.address.clone(),
        }
    }

    pub fn session(&self) -> &SessionRecord {
        &self.session
    }

    pub fn person(&self) -> i64 {
        self.person
    }

    pub fn role(&self) -> RoomRole {
        self.role
    }

    /// Moderators and lecturers (the quiz settings are theirs); forbidden for chairs.
    pub fn staff(self) -> Result<SessionAccess, ServiceError> {
        match self.role {
            RoomRole::Moderator | RoomRole::Lecturer => Ok(self),
            RoomRole::Viewer => Err(ServiceError::Forbidden),
        }
    }

    /// The moderator's rights, or forbidden.
    pub fn moderates(self) -> Result<Moderates, ServiceError> {
        match self.role {
            RoomRole::Moderator => Ok(Moderates(self)),
            _ => Err(ServiceError::Forbidden),
        }
    }
}

impl Moderates {
    pub fn session(&self) -> &SessionRecord {
        &self.0.session
    }

    pub fn person(&self) -> i64 {
        self.0.person
    }

    pub fn actor(&self) -> super::audit::Actor {
        self.0.actor()
    }
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
    if p.roles.has(Role::Chair) && s.invites(p.committee_id) {
        return Some(RoomRole::Viewer);
    }
    None
}
