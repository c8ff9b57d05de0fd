//! Personal one-time sign-in links: what a link is and where it stands at a given moment.

use chrono::{DateTime, Utc};

use super::person::PersonId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninLink {
    pub id: i64,
    pub person_id: PersonId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The training session spending the link leads into (else the home page).
    pub session_id: Option<i64>,
}

/// Where a link stands. A link is spent once, and a new one revokes the unused older ones, so a link is
/// never both used and revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Usable,
    Used,
    Expired,
    Revoked,
}

impl SigninLink {
    pub fn state(&self, now: DateTime<Utc>) -> LinkState {
        if self.revoked_at.is_some() {
            LinkState::Revoked
        } else if self.used_at.is_some() {
            LinkState::Used
        } else if self.expires_at <= now {
            LinkState::Expired
        } else {
            LinkState::Usable
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_link_is_usable_until_spent_revoked_or_expired() {
        let now = Utc::now();
        let link = SigninLink {
            id: 1,
            person_id: 2,
            created_at: now,
            expires_at: now + Duration::days(1),
            used_at: None,
            revoked_at: None,
            session_id: None,
        };
        assert_eq!(link.state(now), LinkState::Usable);
        assert_eq!(link.state(now + Duration::days(1)), LinkState::Expired);
        let used = SigninLink {
            used_at: Some(now),
            ..link.clone()
        };
        assert_eq!(used.state(now), LinkState::Used);
        let revoked = SigninLink {
            revoked_at: Some(now),
            ..link
        };
        assert_eq!(revoked.state(now + Duration::days(2)), LinkState::Revoked);
    }
}
