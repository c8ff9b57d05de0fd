//! Managing the organisation tree.

use sea_orm::ConnectionTrait;

use super::ServiceError;
use crate::db::{self, org};
use crate::domain::org::{OrgKind, OrgUnit, OrgUnitId, Term, committee_name_for, parse_unit_name};

fn duplicate(name: &str) -> ServiceError {
    ServiceError::refused(
        format!("同一级下已有名为“{name}”的单位"),
        format!("a sibling named “{name}” already exists"),
    )
}

/// Adds a node under `parent` (None for a district). The kind follows from the parent.
pub async fn create_unit(
    db: &impl ConnectionTrait,
    parent: Option<OrgUnitId>,
    name: &str,
    term: Option<Term>,
) -> Result<OrgUnit, ServiceError> {
    let name = parse_unit_name(name).map_err(ServiceError::Refused)?;
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
        return Err(ServiceError::refused(
            "只有业委会有任期",
            "only an owners' committee has a term",
        ));
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
    let name = parse_unit_name(name).map_err(ServiceError::Refused)?;
    if term.is_some() && unit.kind != OrgKind::Committee {
        return Err(ServiceError::refused(
            "只有业委会有任期",
            "only an owners' committee has a term",
        ));
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
) -> Result<std::collections::HashMap<OrgUnitId, (String, String, String)>, ServiceError> {
    let mut by_id = std::collections::HashMap::new();
    for kind in [OrgKind::Neighbourhood, OrgKind::Estate, OrgKind::Committee] {
        for u in org::in_street(db, street, kind).await? {
            by_id.insert(u.id, u);
        }
    }
    let mut out = std::collections::HashMap::new();
    for u in by_id.values().filter(|u| u.kind == OrgKind::Committee) {
        let estate = u.parent_id.and_then(|p| by_id.get(&p));
        let neighbourhood = estate.and_then(|e| e.parent_id).and_then(|p| by_id.get(&p));
        out.insert(
            u.id,
            (
                neighbourhood.map(|n| n.name.clone()).unwrap_or_default(),
                estate.map(|e| e.name.clone()).unwrap_or_default(),
                u.name.clone(),
            ),
        );
    }
    Ok(out)
}

/// Every committee with a label "街道 · 居委 · 业委会", for pickers.
pub async fn committee_choices(db: &impl ConnectionTrait) -> Result<Vec<(OrgUnitId, String)>, ServiceError> {
    let mut out = Vec::new();
    for street in org::all_of_kind(db, OrgKind::Street).await? {
        let mut labels: Vec<_> = committee_labels(db, street.id).await?.into_iter().collect();
        labels.sort_by(|a, b| (&a.1.0, &a.1.2).cmp(&(&b.1.0, &b.1.2)));
        out.extend(
            labels
                .into_iter()
                .map(|(id, (n, _, c))| (id, format!("{} · {n} · {c}", street.name))),
        );
    }
    Ok(out)
}
