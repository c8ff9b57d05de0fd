//! Personal one-time sign-in links for imported chairs, who will not remember a password handed to them.
//!
//! Opening the link (GET) only shows a confirmation page; the link is spent by pressing the button (POST).
//! Chat apps fetch links to draw previews, and a GET that signed people in would be spent by the preview.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::access::StreetScope;
use super::accounts::{NewSession, start_session};
use super::{ServiceError, tokens};
use crate::db::{org, people, signin};
use crate::domain::person::{Person, PersonId, Role};

/// What a visitor of a link sees before pressing the button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// Valid; carries the person's name so they can check it is theirs.
    Valid {
        name: String,
    },
    Used,
    Expired,
    Revoked,
    Unknown,
}

/// The street of a chair, if they belong to a committee.
async fn street_of(db: &impl ConnectionTrait, person: &Person) -> Result<Option<i64>, ServiceError> {
    match person.committee_id {
        Some(c) => Ok(org::get(db, c).await?.and_then(|u| u.street_id)),
        None => Ok(None),
    }
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
}

/// Issues a new link for a chair, revoking any earlier unused one (this is also the reset).
pub async fn issue(
    db: &DatabaseConnection,
    scope: &StreetScope,
    issuer: PersonId,
    person_id: PersonId,
    valid_days: i64,
) -> Result<IssuedLink, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let person = people::get(&txn, person_id).await?.ok_or(ServiceError::NotFound)?;
    let link = issue_in(&txn, scope, issuer, &person, valid_days).await?;
    txn.commit().await?;
    Ok(link)
}

/// Issues links for every chair of a street who has no password yet, in one transaction.
pub async fn issue_for_street(
    db: &DatabaseConnection,
    scope: &StreetScope,
    issuer: PersonId,
    street: i64,
    valid_days: i64,
) -> Result<Vec<IssuedLink>, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let chairs = super::people::chairs_of_street(&txn, scope, street).await?;
    let mut out = Vec::new();
    for c in chairs.iter().filter(|c| !c.person.has_password) {
        out.push(issue_in(&txn, scope, issuer, &c.person, valid_days).await?);
    }
    txn.commit().await?;
    Ok(out)
}

async fn issue_in(
    txn: &impl ConnectionTrait,
    scope: &StreetScope,
    issuer: PersonId,
    person: &Person,
    valid_days: i64,
) -> Result<IssuedLink, ServiceError> {
    let allowed = match scope {
        StreetScope::All => true,
        StreetScope::Only(_) => {
            // Officials manage chairs of their streets, never other officials, lawyers or admins.
            let plain_chair = person.roles.iter().all(|r| r == Role::Chair);
            plain_chair && street_of(txn, person).await?.is_some_and(|s| scope.allows(s))
        }
    };
    if !allowed {
        return Err(ServiceError::Forbidden);
    }
    let now = Utc::now();
    let expires_at = now + Duration::days(valid_days);
    signin::revoke_links_of(txn, person.id, now).await?;
    let token = tokens::new_token();
    signin::insert_link(txn, person.id, &tokens::hash_token(&token), Some(issuer), expires_at).await?;
    let place = match person.committee_id {
        Some(c) => org::get(txn, c).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    tracing::info!(person = person.id, issuer, "sign-in link issued");
    Ok(IssuedLink {
        person_id: person.id,
        name: person.name.as_str().to_string(),
        place,
        token,
        expires_at,
    })
}

pub async fn status(db: &impl ConnectionTrait, token: &str) -> Result<LinkStatus, ServiceError> {
    let Some(link) = signin::link_by_hash(db, &tokens::hash_token(token)).await? else {
        return Ok(LinkStatus::Unknown);
    };
    Ok(if link.revoked_at.is_some() {
        LinkStatus::Revoked
    } else if link.used_at.is_some() {
        LinkStatus::Used
    } else if link.expires_at <= Utc::now() {
        LinkStatus::Expired
    } else {
        match people::get(db, link.person_id).await? {
            Some(p) => LinkStatus::Valid {
                name: p.name.as_str().to_string(),
            },
            None => LinkStatus::Unknown,
        }
    })
}

/// Spends the link and signs its owner in. Fails with the link's status when it cannot be used.
pub async fn redeem(
    db: &DatabaseConnection,
    token: &str,
    session_days: i64,
) -> Result<Result<NewSession, LinkStatus>, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let Some(link) = signin::link_by_hash(&txn, &tokens::hash_token(token)).await? else {
        return Ok(Err(LinkStatus::Unknown));
    };
    if !signin::consume_link(&txn, link.id, Utc::now()).await? {
        drop(txn);
        return Ok(Err(status(db, token).await?));
    }
    let person = people::get(&txn, link.person_id).await?.ok_or(ServiceError::NotFound)?;
    let session = start_session(&txn, person, session_days).await?;
    txn.commit().await?;
    tracing::info!(person = session.person.id, "signed in with a personal link");
    Ok(Ok(session))
}

/// Link state per chair for the officials' list.
pub async fn latest_for(
    db: &impl ConnectionTrait,
    people: &[PersonId],
) -> Result<std::collections::HashMap<PersonId, signin::SigninLink>, ServiceError> {
    Ok(signin::latest_links(db, people)
        .await?
        .into_iter()
        .map(|l| (l.person_id, l))
        .collect())
}
