//! Personal one-time sign-in links for imported chairs, who will not remember a password handed to them.
//!
//! Opening the link (GET) only shows a confirmation page; the link is spent by pressing the button (POST).
//! Chat apps fetch links to draw previews, and a GET that signed people in would be spent by the preview.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{NewSession, start_session};
use crate::db::{org, people, sessions as sessions_db, signin};
use crate::domain::audit::Action;
use crate::domain::org::OrgUnit;
use crate::domain::person::{Person, PersonId, Role};
use crate::domain::session::{SessionRecord, SessionStatus};
use crate::domain::signin_link::{LinkState, SigninLink};
use crate::services::access::StreetScope;
use crate::services::people::ChairListing;
use crate::services::{ServiceError, tokens};

/// What a visitor of a link sees before pressing the button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// Valid; carries the person's name so they can check it is theirs.
    Valid {
        name: String,
        /// The training the link leads into, if it was issued for one (shown so she knows where she goes).
        training: Option<String>,
    },
    Used,
    Expired,
    Revoked,
    Unknown,
}

/// A link just made, with what the printed card shows.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub person_id: PersonId,
    pub name: String,
    /// The committee's name, so the right card reaches the right person.
    pub place: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The training it leads into, printed on the card.
    pub training: Option<String>,
}

/// Who a link is for: the person, the street of their committee and its name (for the card).
struct Holder<'a> {
    person: &'a Person,
    street: Option<i64>,
    place: String,
}

impl Holder<'_> {
    /// Admins issue links for anyone; officials for plain chairs of their streets only, never for other
    /// officials, lawyers or admins.
    fn may_be_issued_by(&self, scope: &StreetScope) -> bool {
        match scope {
            StreetScope::All => true,
            StreetScope::Only { .. } => {
                self.person.roles.iter().all(|r| r == Role::Chair) && self.street.is_some_and(|s| scope.allows(s))
            }
        }
    }
}

/// Issues a new link for a chair, revoking any earlier unused one (this is also the reset).
pub async fn issue(
    db: &DatabaseConnection,
    scope: &StreetScope,
    by: &crate::services::audit::Actor,
    person_id: PersonId,
    valid_days: i64,
) -> Result<IssuedLink, ServiceError> {
    let issuer = by.person_id.ok_or(ServiceError::Forbidden)?;
    let txn = crate::db::begin_write(db).await?;
    let person = people::get(&txn, person_id).await?.ok_or(ServiceError::NotFound)?;
    let committee = match person.committee_id {
        Some(c) => org::get(&txn, c).await?,
        None => None,
    };
    let holder = Holder {
        person: &person,
        street: committee.as_ref().and_then(|u| u.street_id),
        place: committee.map(|u| u.name).unwrap_or_default(),
    };
    let link = issue_in(&txn, scope, issuer, holder, valid_days, None).await?;
    let summary = format!("生成 {} 张登录卡", 1);
    crate::services::audit::record_in(&txn, by, Action::SigninLinks, format!("person:{person_id}"), summary).await?;
    txn.commit().await?;
    Ok(link)
}

/// Issues links for every chair of a street who has no password yet, in one transaction.
pub async fn issue_for_street(
    db: &DatabaseConnection,
    scope: &StreetScope,
    by: &crate::services::audit::Actor,
    street: i64,
    valid_days: i64,
) -> Result<Vec<IssuedLink>, ServiceError> {
    let issuer = by.person_id.ok_or(ServiceError::Forbidden)?;
    let txn = crate::db::begin_write(db).await?;
    let chairs = crate::services::people::chairs_of_street(&txn, scope, street).await?;
    let mut out = Vec::new();
    for c in chairs.iter().filter(|c| !c.person.has_password) {
        let holder = Holder {
            person: &c.person,
            street: Some(street),
            place: c.committee.clone(),
        };
        out.push(issue_in(&txn, scope, issuer, holder, valid_days, None).await?);
    }
    let summary = format!("生成 {} 张登录卡", out.len());
    crate::services::audit::record_in(&txn, by, Action::SigninLinks, format!("street:{street}"), summary).await?;
    txn.commit().await?;
    Ok(out)
}

/// Issues links into one session for its invited chairs who have no password yet, in one transaction:
/// each card leads its owner, once signed in, straight to the session's lobby.
pub async fn issue_for_session(
    db: &DatabaseConnection,
    scope: &StreetScope,
    by: &crate::services::audit::Actor,
    session: i64,
    valid_days: i64,
) -> Result<Vec<IssuedLink>, ServiceError> {
    let issuer = by.person_id.ok_or(ServiceError::Forbidden)?;
    let txn = crate::db::begin_write(db).await?;
    let record = crate::services::sessions::managed(&txn, scope, session).await?;
    let committees: HashMap<i64, OrgUnit> = org::get_many(&txn, &record.committees)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let chairs = people::members_of_committees(&txn, &record.committees).await?;
    let into = Some((session, record.title.clone()));
    let mut out = Vec::new();
    for person in chairs.iter().filter(|p| p.roles.has(Role::Chair) && !p.has_password) {
        let committee = person.committee_id.and_then(|c| committees.get(&c));
        let holder = Holder {
            person,
            street: committee.and_then(|u| u.street_id),
            place: committee.map(|u| u.name.clone()).unwrap_or_default(),
        };
        out.push(issue_in(&txn, scope, issuer, holder, valid_days, into.clone()).await?);
    }
    let summary = format!("生成 {} 张登录卡", out.len());
    crate::services::audit::record_in(&txn, by, Action::SigninLinks, format!("session:{session}"), summary).await?;
    txn.commit().await?;
    Ok(out)
}

async fn issue_in(
    txn: &impl ConnectionTrait,
    scope: &StreetScope,
    issuer: PersonId,
    holder: Holder<'_>,
    valid_days: i64,
    into: Option<(i64, String)>,
) -> Result<IssuedLink, ServiceError> {
    if !holder.may_be_issued_by(scope) {
        return Err(ServiceError::Forbidden);
    }
    let person = holder.person;
    let now = Utc::now();
    let expires_at = now + Duration::days(valid_days);
    let session = into.as_ref().map(|(id, _)| *id);
    signin::revoke_links_of(txn, person.id, session, now).await?;
    let token = tokens::new_token();
    signin::insert_link(
        txn,
        person.id,
        &tokens::hash_token(&token),
        Some(issuer),
        expires_at,
        session,
    )
    .await?;
    tracing::info!(person = person.id, issuer, session, "sign-in link issued");
    Ok(IssuedLink {
        person_id: person.id,
        name: person.name.as_str().to_string(),
        place: holder.place,
        token,
        expires_at,
        training: into.map(|(_, title)| title),
    })
}

pub async fn status(db: &impl ConnectionTrait, token: &str) -> Result<LinkStatus, ServiceError> {
    let Some(link) = signin::link_by_hash(db, &tokens::hash_token(token)).await? else {
        return Ok(LinkStatus::Unknown);
    };
    Ok(match link.state(Utc::now()) {
        LinkState::Revoked => LinkStatus::Revoked,
        LinkState::Used => LinkStatus::Used,
        LinkState::Expired => LinkStatus::Expired,
        LinkState::Usable => match people::get(db, link.person_id).await? {
            Some(p) => LinkStatus::Valid {
                name: p.name.as_str().to_string(),
                training: training_of(db, &link).await?.map(|s| s.title),
            },
            None => LinkStatus::Unknown,
        },
    })
}

/// The session a link leads into, if it was issued for one that still exists and was not cancelled.
async fn training_of(db: &impl ConnectionTrait, link: &SigninLink) -> Result<Option<SessionRecord>, ServiceError> {
    let Some(id) = link.session_id else { return Ok(None) };
    Ok(sessions_db::get(db, id)
        .await?
        .filter(|s| s.status != SessionStatus::Cancelled))
}

/// What pressing the button on a link's page did.
pub enum Redeemed {
    /// The link was spent and its owner signed in; `into` is the session it leads into, if any.
    SignedIn { session: NewSession, into: Option<i64> },
    /// The link cannot be used; the page says why.
    Unusable(LinkStatus),
}

/// Spends the link and signs its owner in, or says why the link cannot be used.
pub async fn redeem(db: &DatabaseConnection, token: &str, session_days: i64) -> Result<Redeemed, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let Some(link) = signin::link_by_hash(&txn, &tokens::hash_token(token)).await? else {
        return Ok(Redeemed::Unusable(LinkStatus::Unknown));
    };
    if !signin::consume_link(&txn, link.id, Utc::now()).await? {
        drop(txn);
        return Ok(Redeemed::Unusable(status(db, token).await?));
    }
    let person = people::get(&txn, link.person_id).await?.ok_or(ServiceError::NotFound)?;
    let into = training_of(&txn, &link).await?.map(|s| s.id);
    let session = start_session(&txn, person, session_days).await?;
    txn.commit().await?;
    tracing::info!(person = session.person.id, "signed in with a personal link");
    Ok(Redeemed::SignedIn { session, into })
}

/// The newest link of each of these people.
async fn latest_for(
    db: &impl ConnectionTrait,
    people: &[PersonId],
) -> Result<HashMap<PersonId, SigninLink>, ServiceError> {
    Ok(signin::latest_links(db, people)
        .await?
        .into_iter()
        .map(|l| (l.person_id, l))
        .collect())
}

/// A chair on the officials' list, with their newest sign-in link.
pub struct ChairRow {
    pub chair: ChairListing,
    pub link: Option<SigninLink>,
}

/// The officials' list of chairs: the streets they may choose from, the one shown, its chairs.
pub struct ChairsPage {
    pub streets: Vec<OrgUnit>,
    pub current: Option<OrgUnit>,
    pub rows: Vec<ChairRow>,
}

/// The chairs of one of the official's streets (the first by default), with their sign-in state.
pub async fn chairs_page(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    street: Option<i64>,
) -> Result<ChairsPage, ServiceError> {
    let streets = crate::services::streets::visible(db, scope).await?;
    let current = match street {
        Some(id) => Some(
            streets
                .iter()
                .find(|s| s.id == id)
                .cloned()
                .ok_or(ServiceError::Forbidden)?,
        ),
        None => streets.first().cloned(),
    };
    let listing = match &current {
        Some(s) => crate::services::people::chairs_of_street(db, scope, s.id).await?,
        None => Vec::new(),
    };
    let ids: Vec<PersonId> = listing.iter().map(|c| c.person.id).collect();
    let mut links = latest_for(db, &ids).await?;
    let rows = listing
        .into_iter()
        .map(|chair| ChairRow {
            link: links.remove(&chair.person.id),
            chair,
        })
        .collect();
    Ok(ChairsPage { streets, current, rows })
}
