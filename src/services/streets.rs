//! The streets and districts a user may see.

use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::access::StreetScope;
use crate::db::org;
use crate::domain::org::{OrgKind, OrgUnit};

pub async fn visible(db: &impl ConnectionTrait, scope: &StreetScope) -> Result<Vec<OrgUnit>, ServiceError> {
    let mut list = match scope {
        StreetScope::All => org::all_of_kind(db, OrgKind::Street).await?,
        StreetScope::Only { streets, .. } => org::get_many(db, streets).await?,
    };
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// The districts whose district-wide reports the user may see: all for admins, an official's own.
pub async fn visible_districts(db: &impl ConnectionTrait, scope: &StreetScope) -> Result<Vec<OrgUnit>, ServiceError> {
    let mut list = match scope {
        StreetScope::All => org::all_of_kind(db, OrgKind::District).await?,
        StreetScope::Only { districts, .. } => org::get_many(db, districts).await?,
    };
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}
