//! Managing the organisation tree.

use sea_orm::ConnectionTrait;

use std::collections::HashMap;

use super::{FieldErrors, ServiceError};
use crate::db::{self, org, people};
use crate::domain::audit::Action;
use crate::domain::org::{
    CommitteePlace, OrgKind, OrgUnit, OrgUnitId, Term, committee_name_for, committee_places, parse_unit_name,
};
use crate::domain::person::Person;

fn duplicate(name: &str) -> ServiceError {
    ServiceError::rejected(
        "name",
        format!("同一级下已有名为“{name}”的单位"),
        format!("a sibling named “{name}” already exists"),
    )
}

fn term_rejected() -> ServiceError {
    ServiceError::rejected("term_start", "只有业委会有任期", "only an owners' committee has a term")
}

fn unit_name(name: &str) -> Result<String, ServiceError> {
    parse_unit_name(name).map_err(|t| FieldErrors::one("name", t).into())
}

/// Adds a node under `parent` (None for a district). The kind follows from the parent.
pub async fn create_unit(
    db: &impl ConnectionTrait,
    parent: Option<OrgUnitId>,
    name: &str,
    term: Option<Term>,
) -> Result<OrgUnit, ServiceError> {
    let name = unit_name(name)?;
    let (kind, street_id) = match parent {
        None => (OrgKind::District, None),
        Some(pid) => {
            let p = org::get(db, pid).await?.ok_or(ServiceError::NotFound)?;
            let kind = p.kind.child_kind().ok_or_else(|| {
                ServiceError::refused("业委会下不能再添加下级单位", "an owners' committee has no sub-units")
            })?;
            (kind, p.street_id)
        }
    };
    if term.is_some() && kind != OrgKind::Committee {
        return Err(term_rejected());
    }
    if kind == OrgKind::District && org::children(db, None).await?.iter().any(|d| d.name == name) {
        // The unique index cannot see duplicates among roots (NULL parents never collide).
        return Err(duplicate(&name));
    }
    let id = match org::insert(db, kind, parent, street_id, &name, term).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => return Err(duplicate(&name)),
        Err(e) => return Err(e.into()),
    };
    org::get(db, id).await?.ok_or(ServiceError::NotFound)
}

pub async fn update_unit(
    db: &impl ConnectionTrait,
    id: OrgUnitId,
    name: &str,
    term: Option<Term>,
) -> Result<(), ServiceError> {
    let unit = org::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    let name = unit_name(name)?;
    if term.is_some() && unit.kind != OrgKind::Committee {
        return Err(term_rejected());
    }
    match org::update(db, id, &name, term).await {
        Err(e) if db::is_unique_violation(&e) => Err(duplicate(&name)),
        other => Ok(other?),
    }
}

/// Deletes a unit that has no sub-units and no members; anything else is refused with the reason.
pub async fn delete_unit(db: &impl ConnectionTrait, id: OrgUnitId) -> Result<OrgUnit, ServiceError> {
    let unit = org::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    let (children, members) = org::usage(db, id).await?;
    if children > 0 {
        return Err(ServiceError::refused(
            format!("“{}”下还有{children}个下级单位，请先删除它们", unit.name),
            format!("“{}” still has {children} sub-units; delete them first", unit.name),
        ));
    }
    if members > 0 {
        return Err(ServiceError::refused(
            format!("“{}”还有{members}名成员，不能删除", unit.name),
            format!("“{}” still has {members} members", unit.name),
        ));
    }
    match org::delete(db, id).await {
        Ok(()) => Ok(unit),
        // Sessions may refer to a street or committee; the foreign key says no.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))) => {
            Err(ServiceError::refused(
                "该单位已被培训场次引用，不能删除",
                "a training session refers to this unit",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Finds or creates 居委 → 小区 → 业委会 under a street; returns the committee.
pub async fn ensure_committee(
    db: &impl ConnectionTrait,
    street: OrgUnitId,
    neighbourhood: &str,
    estate: &str,
) -> Result<OrgUnitId, ServiceError> {
    let n = find_or_create(db, street, OrgKind::Neighbourhood, neighbourhood).await?;
    let e = find_or_create(db, n, OrgKind::Estate, estate).await?;
    match org::children(db, Some(e))
        .await?
        .into_iter()
        .find(|c| c.kind == OrgKind::Committee)
    {
        Some(c) => Ok(c.id),
        None => find_or_create(db, e, OrgKind::Committee, &committee_name_for(estate)).await,
    }
}

async fn find_or_create(
    db: &impl ConnectionTrait,
    parent: OrgUnitId,
    kind: OrgKind,
    name: &str,
) -> Result<OrgUnitId, ServiceError> {
    if let Some(u) = org::find_child(db, parent, kind, name).await? {
        return Ok(u.id);
    }
    Ok(create_unit(db, Some(parent), name, None).await?.id)
}

/// A committee's place in the tree, for display: (居委, 小区, 业委会).
pub async fn committee_labels(
    db: &impl ConnectionTrait,
    street: OrgUnitId,
) -> Result<HashMap<OrgUnitId, (String, String, String)>, ServiceError> {
    let units = org::whole_street(db, street).await?;
    Ok(committee_places(&units)
        .into_iter()
        .map(|(id, p)| (id, (p.neighbourhood, p.estate, p.committee)))
        .collect())
}

/// Every committee with a label "街道 · 居委 · 业委会", for pickers: by street, then 居委 and name.
pub async fn committee_choices(db: &impl ConnectionTrait) -> Result<Vec<(OrgUnitId, String)>, ServiceError> {
    let units = org::all_of_kinds(db, &OrgKind::ALL[1..]).await?;
    let places = committee_places(&units);
    let street_of: HashMap<OrgUnitId, Option<OrgUnitId>> = units.iter().map(|u| (u.id, u.street_id)).collect();
    let mut out = Vec::new();
    for street in units.iter().filter(|u| u.kind == OrgKind::Street) {
        let mut here: Vec<(&OrgUnitId, &CommitteePlace)> = places
            .iter()
            .filter(|(id, _)| street_of.get(id).copied().flatten() == Some(street.id))
            .collect();
        here.sort_by(|a, b| (&a.1.neighbourhood, &a.1.committee).cmp(&(&b.1.neighbourhood, &b.1.committee)));
        out.extend(
            here.into_iter()
                .map(|(id, p)| (*id, format!("{} · {} · {}", street.name, p.neighbourhood, p.committee))),
        );
    }
    Ok(out)
}

/// What a unit's admin page shows: where it is, what hangs under it and, for a committee, its members.
pub struct UnitPage {
    /// Root first; empty for the top level (districts).
    pub path: Vec<OrgUnit>,
    pub children: Vec<OrgUnit>,
    pub members: Vec<Person>,
}

/// A unit's page (`None`: the top level).
pub async fn unit_page(db: &impl ConnectionTrait, id: Option<OrgUnitId>) -> Result<UnitPage, ServiceError> {
    let path = match id {
        Some(id) => org::path(db, id).await?,
        None => Vec::new(),
    };
    if id.is_some() && path.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let children = org::children(db, id).await?;
    let members = match path.last() {
        Some(u) if u.kind == OrgKind::Committee => people::members_of_committees(db, &[u.id]).await?,
        _ => Vec::new(),
    };
    Ok(UnitPage {
        path,
        children,
        members,
    })
}

/// An admin adds a unit: `create_unit`, recorded in the audit trail in the same transaction.
pub async fn create_unit_by(
    db: &sea_orm::DatabaseConnection,
    by: &super::audit::Actor,
    parent: Option<OrgUnitId>,
    name: &str,
    term: Option<Term>,
) -> Result<OrgUnit, ServiceError> {
    let object = format!("org:{}", parent.map(|p| p.to_string()).unwrap_or_default());
    let create = async |txn: &sea_orm::DatabaseTransaction| create_unit(txn, parent, name, term).await;
    super::audit::audited(db, by, Action::OrgCreate, object, create, |u| {
        format!("新建 {}（编号 {}）", u.name, u.id)
    })
    .await
}

/// An admin renames a unit or sets its term, audited.
pub async fn update_unit_by(
    db: &sea_orm::DatabaseConnection,
    by: &super::audit::Actor,
    id: OrgUnitId,
    name: &str,
    term: Option<Term>,
) -> Result<(), ServiceError> {
    let term_text = term.map(|t| format!("{}–{}", t.start, t.end)).unwrap_or_default();
    let update = async |txn: &sea_orm::DatabaseTransaction| update_unit(txn, id, name, term).await;
    super::audit::audited(db, by, Action::OrgUpdate, format!("org:{id}"), update, |_| {
        format!("名称 {name}；任期 {term_text}")
    })
    .await
}

/// An admin deletes an empty unit, audited.
pub async fn delete_unit_by(
    db: &sea_orm::DatabaseConnection,
    by: &super::audit::Actor,
    id: OrgUnitId,
) -> Result<OrgUnit, ServiceError> {
    let delete = async |txn: &sea_orm::DatabaseTransaction| delete_unit(txn, id).await;
    super::audit::audited(db, by, Action::OrgDelete, format!("org:{id}"), delete, |u| {
        format!("删除 {}", u.name)
    })
    .await
}
