//! What each role needs next, for the home page.

use chrono::Utc;
use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::accounts::CurrentUser;
use crate::db::{org, sessions as sessions_db};
use crate::domain::bank::QuestionStatus;
use crate::domain::org::OrgUnit;
use crate::domain::person::Role;
use crate::domain::session::SessionSummary;

#[derive(Debug, Default)]
pub struct Home {
    /// Sessions the chair's committee is invited to that have not ended.
    pub chair_upcoming: Vec<SessionSummary>,
    pub chair_committee: Option<OrgUnit>,
    pub chair_past: Vec<SessionSummary>,
    pub certificates: Vec<crate::db::certificates::CertificateRecord>,
    /// Sessions of the official's streets.
    pub official_sessions: Vec<SessionSummary>,
    pub official_streets: Vec<OrgUnit>,
    /// Banks with (active, needs review) counts, for lawyers.
    pub lawyer_banks: Vec<(crate::domain::bank::Bank, usize, usize)>,
    /// Sessions the lawyer lectures in.
    pub lawyer_sessions: Vec<SessionSummary>,
}

/// Everything the home page shows, for each role the user holds.
pub async fn home(db: &impl ConnectionTrait, user: &CurrentUser) -> Result<Home, ServiceError> {
    let roles = &user.person.roles;
    let mut h = Home::default();
    if roles.has(Role::Chair)
        && let Some(c) = user.person.committee_id
    {
        chair(db, &mut h, user.person.id, c).await?;
    }
    if roles.has(Role::Official) {
        h.official_streets = org::get_many(db, &user.official_streets).await?;
        h.official_sessions = sessions_db::for_streets(db, &user.official_streets, 20).await?;
    }
    if roles.has(Role::Lawyer) {
        lawyer(db, &mut h, user.person.id).await?;
    }
    Ok(h)
}

async fn chair(db: &impl ConnectionTrait, h: &mut Home, person: i64, committee: i64) -> Result<(), ServiceError> {
    h.chair_upcoming = sessions_db::upcoming_for_committee(db, committee, Utc::now()).await?;
    h.chair_committee = org::get(db, committee).await?;
    h.chair_past = sessions_db::past_for_committee(db, committee, Utc::now(), 10).await?;
    h.certificates = crate::db::certificates::for_person(db, person).await?;
    Ok(())
}

async fn lawyer(db: &impl ConnectionTrait, h: &mut Home, person: i64) -> Result<(), ServiceError> {
    h.lawyer_sessions = sessions_db::for_lecturer(db, person, 20).await?;
    for (b, counts) in super::banks::overview(db).await? {
        if !b.retired {
            let n = |s| counts.get(&s).copied().unwrap_or(0);
            h.lawyer_banks
                .push((b, n(QuestionStatus::Active), n(QuestionStatus::NeedsReview)));
        }
    }
    Ok(())
}
