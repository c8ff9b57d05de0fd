//! What the roster import reads and keeps: a snapshot of a street, and uploaded files awaiting confirmation.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::{org_unit, person, person_role, roster_upload};
use crate::domain::org::OrgKind;
use crate::domain::roster::{ExistingPerson, RosterSnapshot};

/// Reads what the planner needs about a street and about the people named in a file.
pub async fn snapshot(
    db: &impl ConnectionTrait,
    street_id: i64,
    phones: &[String],
    emails: &[String],
) -> Result<RosterSnapshot, DbErr> {
    let units = org_unit::Entity::find()
        .filter(org_unit::Column::StreetId.eq(street_id))
        .all(db)
        .await?;
    let places = Places::of(&units);
    let people = known_people(db, street_id, &places, phones).await?;
    let email_owners = (people_with(db, person::Column::Email, emails).await?.into_iter())
        .filter_map(|p| Some((p.email?, p.phone)))
        .collect();
    Ok(RosterSnapshot {
        street_id,
        people,
        email_owners,
        estates: places.estates,
        neighbourhoods: places.neighbourhoods,
    })
}

/// The people already registered under these phone numbers, by phone number.
async fn known_people(
    db: &impl ConnectionTrait,
    street_id: i64,
    places: &Places,
    phones: &[String],
) -> Result<HashMap<String, ExistingPerson>, DbErr> {
    let found = people_with(db, person::Column::Phone, phones).await?;
    // People of other streets: we only need to know their street.
    let foreign: Vec<i64> = found
        .iter()
        .filter_map(|p| p.committee_id)
        .filter(|c| !places.committees.contains_key(c))
        .collect();
    let foreign_street = streets_of(db, foreign).await?;
    let chairs = chairs_among(db, &found).await?;
    let people = found.into_iter().map(|p| {
        let place = p.committee_id.and_then(|c| places.committees.get(&c));
        let street = match (p.committee_id, place) {
            (Some(_), Some(_)) => Some(street_id),
            (Some(c), None) => foreign_street.get(&c).copied().flatten(),
            (None, _) => None,
        };
        let is_chair = chairs.contains(&p.id);
        (p.phone.clone(), existing_person(p, place, street, is_chair))
    });
    Ok(people.collect())
}

/// The places of a street by name.
struct Places {
    neighbourhoods: BTreeSet<String>,
    /// (居委, 小区) pairs.
    estates: BTreeSet<(String, String)>,
    /// Committee id → (居委, 小区).
    committees: HashMap<i64, (String, String)>,
}

impl Places {
    fn of(units: &[org_unit::Model]) -> Places {
        let by_id: HashMap<i64, &org_unit::Model> = units.iter().map(|u| (u.id, u)).collect();
        let mut places = Places {
            neighbourhoods: BTreeSet::new(),
            estates: BTreeSet::new(),
            committees: HashMap::new(),
        };
        for u in units {
            let parent = u.parent_id.and_then(|p| by_id.get(&p));
            match OrgKind::parse(&u.kind) {
                Some(OrgKind::Neighbourhood) => {
                    places.neighbourhoods.insert(u.name.clone());
                }
                Some(OrgKind::Estate) => {
                    if let Some(n) = parent {
                        places.estates.insert((n.name.clone(), u.name.clone()));
                    }
                }
                Some(OrgKind::Committee) => {
                    if let Some(estate) = parent
                        && let Some(n) = estate.parent_id.and_then(|p| by_id.get(&p))
                    {
                        places.committees.insert(u.id, (n.name.clone(), estate.name.clone()));
                    }
                }
                _ => {}
            }
        }
        places
    }
}

/// The people whose `column` holds one of `values` (asked in chunks, to keep the query small).
async fn people_with(
    db: &impl ConnectionTrait,
    column: person::Column,
    values: &[String],
) -> Result<Vec<person::Model>, DbErr> {
    let mut found = Vec::new();
    for chunk in values.chunks(500) {
        found.extend(
            person::Entity::find()
                .filter(column.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// The street of each of these committees.
async fn streets_of(db: &impl ConnectionTrait, committees: Vec<i64>) -> Result<HashMap<i64, Option<i64>>, DbErr> {
    Ok(org_unit::Entity::find()
        .filter(org_unit::Column::Id.is_in(committees))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.street_id))
        .collect())
}

async fn chairs_among(db: &impl ConnectionTrait, people: &[person::Model]) -> Result<HashSet<i64>, DbErr> {
    Ok(person_role::Entity::find()
        .filter(person_role::Column::PersonId.is_in(people.iter().map(|p| p.id)))
        .filter(person_role::Column::Role.eq("chair"))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.person_id)
        .collect())
}

fn existing_person(
    p: person::Model,
    place: Option<&(String, String)>,
    street_id: Option<i64>,
    is_chair: bool,
) -> ExistingPerson {
    ExistingPerson {
        person_id: p.id,
        name: p.display_name,
        email: p.email,
        street_id,
        neighbourhood: place.map(|(n, _)| n.clone()),
        estate: place.map(|(_, e)| e.clone()),
        position: p.position,
        is_chair,
    }
}

#[derive(Debug, Clone)]
pub struct Upload {
    pub id: i64,
    pub street_id: i64,
    pub uploaded_by: i64,
    pub filename: String,
    pub content: Vec<u8>,
    pub applied_at: Option<DateTime<Utc>>,
    /// The stored plan (JSON of `PlanPreview`), once planned.
    pub plan: Option<String>,
}

pub async fn insert_upload(
    db: &impl ConnectionTrait,
    street_id: i64,
    uploaded_by: i64,
    filename: &str,
    content: Vec<u8>,
) -> Result<i64, DbErr> {
    let m = roster_upload::ActiveModel {
        street_id: Set(street_id),
        uploaded_by: Set(uploaded_by),
        filename: Set(filename.chars().take(255).collect()),
        content: Set(content),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(m.id)
}

pub async fn get_upload(db: &impl ConnectionTrait, id: i64) -> Result<Option<Upload>, DbErr> {
    Ok(roster_upload::Entity::find_by_id(id).one(db).await?.map(|m| Upload {
        id: m.id,
        street_id: m.street_id,
        uploaded_by: m.uploaded_by,
        filename: m.filename,
        content: m.content,
        applied_at: m.applied_at,
        plan: m.plan,
    }))
}

/// An upload without its file (which can be megabytes): what the preview pages need.
pub async fn get_upload_plan(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(i64, String, Option<String>)>, DbErr> {
    use sea_orm::QuerySelect;
    roster_upload::Entity::find_by_id(id)
        .select_only()
        .columns([
            roster_upload::Column::StreetId,
            roster_upload::Column::Filename,
            roster_upload::Column::Plan,
        ])
        .into_tuple::<(i64, String, Option<String>)>()
        .one(db)
        .await
}

pub async fn set_plan(db: &impl ConnectionTrait, id: i64, plan: &str) -> Result<(), DbErr> {
    roster_upload::ActiveModel {
        id: Set(id),
        plan: Set(Some(plan.to_string())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn mark_applied(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    roster_upload::ActiveModel {
        id: Set(id),
        applied_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
