//! Who may act on what: scoping of officials to their streets.

use super::accounts::CurrentUser;
use crate::domain::person::Role;

/// The streets a user may manage: all (admins) or the ones they are scoped to (officials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreetScope {
    All,
    Only(Vec<i64>),
}

impl StreetScope {
    pub fn of(user: &CurrentUser) -> StreetScope {
        if user.person.roles.has(Role::Admin) {
            StreetScope::All
        } else if user.person.roles.has(Role::Official) {
            StreetScope::Only(user.official_streets.clone())
        } else {
            StreetScope::Only(Vec::new())
        }
    }

    pub fn allows(&self, street: i64) -> bool {
        match self {
            StreetScope::All => true,
            StreetScope::Only(s) => s.contains(&street),
        }
    }
}
