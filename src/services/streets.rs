//! The streets a user may see.

use sea_orm::ConnectionTrait;

use super::ServiceError;
use super::access::StreetScope;
use crate::db::org;
use crate::domain::org::{OrgKind, OrgUnit};

pub async fn visible(db: &impl ConnectionTrait, scope: &StreetScope) -> Result<Vec<OrgUnit>, ServiceError> {
    let mut list = match scope {
        StreetScope::All => org::all_of_kind(db, OrgKind::Street).await?,
        StreetScope::Only(ids) => org::get_many(db, ids).await?,
    };
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}
