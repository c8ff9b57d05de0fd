//! The organisation tree.

use chrono::Utc;
use sea_orm::sea_query::{ExprTrait, IntoCondition};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::{org_unit, person};
use crate::domain::org::{OrgKind, OrgUnit, OrgUnitId, Term};

fn to_domain(m: org_unit::Model) -> Result<OrgUnit, DbErr> {
    let kind =
        OrgKind::parse(&m.kind).ok_or_else(|| DbErr::Custom(format!("org unit {} has kind {}", m.id, m.kind)))?;
    let term = match (m.term_start, m.term_end) {
        (Some(start), Some(end)) => Some(Term { start, end }),
        _ => None,
    };
    Ok(OrgUnit {
        id: m.id,
        kind,
        parent_id: m.parent_id,
        street_id: m.street_id,
        name: m.name,
        term,
    })
}

fn all_to_domain(rows: Vec<org_unit::Model>) -> Result<Vec<OrgUnit>, DbErr> {
    rows.into_iter().map(to_domain).collect()
}

/// The units `condition` picks, by name.
async fn by_name(db: &impl ConnectionTrait, condition: impl IntoCondition) -> Result<Vec<OrgUnit>, DbErr> {
    let rows = org_unit::Entity::find()
        .filter(condition)
        .order_by_asc(org_unit::Column::Name)
        .all(db)
        .await?;
    all_to_domain(rows)
}

pub async fn get(db: &impl ConnectionTrait, id: OrgUnitId) -> Result<Option<OrgUnit>, DbErr> {
    org_unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

pub async fn children(db: &impl ConnectionTrait, parent: Option<OrgUnitId>) -> Result<Vec<OrgUnit>, DbErr> {
    let q = org_unit::Entity::find();
    let q = match parent {
        Some(p) => q.filter(org_unit::Column::ParentId.eq(p)),
        None => q.filter(org_unit::Column::ParentId.is_null()),
    };
    all_to_domain(q.order_by_asc(org_unit::Column::Name).all(db).await?)
}

pub async fn find_child(
    db: &impl ConnectionTrait,
    parent: OrgUnitId,
    kind: OrgKind,
    name: &str,
) -> Result<Option<OrgUnit>, DbErr> {
    org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.eq(parent))
        .filter(org_unit::Column::Kind.eq(kind.code()))
        .filter(org_unit::Column::Name.eq(name))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()
}

/// Every unit of a kind within a street (for the street itself, pass `OrgKind::Street` and get it back).
pub async fn in_street(db: &impl ConnectionTrait, street: OrgUnitId, kind: OrgKind) -> Result<Vec<OrgUnit>, DbErr> {
    let in_street = org_unit::Column::StreetId.eq(street);
    by_name(db, in_street.and(org_unit::Column::Kind.eq(kind.code()))).await
}

/// Every unit of these kinds within these streets, by name (one query for a page that lists several
/// streets' units).
pub async fn in_streets(
    db: &impl ConnectionTrait,
    streets: &[OrgUnitId],
    kinds: &[OrgKind],
) -> Result<Vec<OrgUnit>, DbErr> {
    let in_streets = org_unit::Column::StreetId.is_in(streets.iter().copied());
    by_name(
        db,
        in_streets.and(org_unit::Column::Kind.is_in(kinds.iter().map(|k| k.code()))),
    )
    .await
}

/// The officials scoped to any of these streets, as (person, street) pairs.
pub async fn officials_of_streets(
    db: &impl ConnectionTrait,
    streets: &[OrgUnitId],
) -> Result<Vec<(i64, OrgUnitId)>, DbErr> {
    Ok(super::entities::official_street::Entity::find()
        .filter(super::entities::official_street::Column::StreetId.is_in(streets.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.person_id, r.street_id))
        .collect())
}

pub async fn all_of_kind(db: &impl ConnectionTrait, kind: OrgKind) -> Result<Vec<OrgUnit>, DbErr> {
    by_name(db, org_unit::Column::Kind.eq(kind.code())).await
}

/// Every unit of these kinds, by name (one query for a whole picker or roll-up).
pub async fn all_of_kinds(db: &impl ConnectionTrait, kinds: &[OrgKind]) -> Result<Vec<OrgUnit>, DbErr> {
    by_name(db, org_unit::Column::Kind.is_in(kinds.iter().map(|k| k.code()))).await
}

/// Every unit within a street, the street itself included, by name.
pub async fn whole_street(db: &impl ConnectionTrait, street: OrgUnitId) -> Result<Vec<OrgUnit>, DbErr> {
    by_name(db, org_unit::Column::StreetId.eq(street)).await
}

/// The streets of these districts, by name.
pub async fn streets_of_districts(db: &impl ConnectionTrait, districts: &[OrgUnitId]) -> Result<Vec<OrgUnit>, DbErr> {
    let in_districts = org_unit::Column::ParentId.is_in(districts.iter().copied());
    by_name(db, in_districts.and(org_unit::Column::Kind.eq(OrgKind::Street.code()))).await
}

/// Every unit within these streets (the streets themselves included), by name: a district's subtree
/// below the district, in one query.
pub async fn whole_streets(db: &impl ConnectionTrait, streets: &[OrgUnitId]) -> Result<Vec<OrgUnit>, DbErr> {
    by_name(db, org_unit::Column::StreetId.is_in(streets.iter().copied())).await
}

pub async fn get_many(db: &impl ConnectionTrait, ids: &[OrgUnitId]) -> Result<Vec<OrgUnit>, DbErr> {
    all_to_domain(
        org_unit::Entity::find()
            .filter(org_unit::Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await?,
    )
}

/// Inserts a node. The caller has checked the parent's kind; `street_id` is the street this node lies in.
pub async fn insert(
    db: &impl ConnectionTrait,
    kind: OrgKind,
    parent: Option<OrgUnitId>,
    street_id: Option<OrgUnitId>,
    name: &str,
    term: Option<Term>,
) -> Result<OrgUnitId, DbErr> {
    let m = org_unit::ActiveModel {
        kind: Set(kind.code().to_string()),
        parent_id: Set(parent),
        street_id: Set(street_id),
        name: Set(name.to_string()),
        term_start: Set(term.map(|t| t.start)),
        term_end: Set(term.map(|t| t.end)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // A street is its own street: scoping queries then need no special case.
    if kind == OrgKind::Street {
        org_unit::ActiveModel {
            id: Set(m.id),
            street_id: Set(Some(m.id)),
            ..Default::default()
        }
        .update(db)
        .await?;
    }
    Ok(m.id)
}

pub async fn update(db: &impl ConnectionTrait, id: OrgUnitId, name: &str, term: Option<Term>) -> Result<(), DbErr> {
    org_unit::ActiveModel {
        id: Set(id),
        name: Set(name.to_string()),
        term_start: Set(term.map(|t| t.start)),
        term_end: Set(term.map(|t| t.end)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// How many children and members a unit has (a unit in use is not deleted).
pub async fn usage(db: &impl ConnectionTrait, id: OrgUnitId) -> Result<(u64, u64), DbErr> {
    let children = org_unit::Entity::find()
        .filter(org_unit::Column::ParentId.eq(id))
        .count(db)
        .await?;
    let members = person::Entity::find()
        .filter(person::Column::CommitteeId.eq(id))
        .count(db)
        .await?;
    Ok((children, members))
}

pub async fn delete(db: &impl ConnectionTrait, id: OrgUnitId) -> Result<(), DbErr> {
    org_unit::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The unit and its ancestors, root first.
pub async fn path(db: &impl ConnectionTrait, id: OrgUnitId) -> Result<Vec<OrgUnit>, DbErr> {
    let mut out = Vec::new();
    let mut next = Some(id);
    while let Some(id) = next {
        let Some(u) = get(db, id).await? else { break };
        next = u.parent_id;
        out.push(u);
        if out.len() > 8 {
            break;
        }
    }
    out.reverse();
    Ok(out)
}
