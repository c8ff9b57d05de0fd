//! People, roles and official scopes.

use chrono::Utc;
use sea_orm::sea_query::IntoCondition;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{official_district, official_street, person, person_role};
use crate::domain::contact::{EmailAddress, PhoneNumber};
use crate::domain::person::{DisplayName, Person, PersonId, Role, Roles};
use crate::domain::view::ViewMode;

/// A person row plus the stored password hash, for signing in.
pub struct Credentials {
    pub person: Person,
    pub password_hash: Option<String>,
}

fn to_domain(m: person::Model, roles: Roles) -> Result<Person, DbErr> {
    let bad = |what: &str| DbErr::Custom(format!("person {} has an invalid {what} in the database", m.id));
    Ok(Person {
        id: m.id,
        name: DisplayName::from_stored(&m.display_name).ok_or_else(|| bad("name"))?,
        phone: PhoneNumber::from_stored(&m.phone).map_err(|_| bad("phone"))?,
        email: match &m.email {
            Some(e) => Some(EmailAddress::parse(e).map_err(|_| bad("email"))?),
            None => None,
        },
        committee_id: m.committee_id,
        position: m.position.clone(),
        has_password: m.password_hash.is_some(),
        roles,
        // An unknown stored code (a mode since retired) reads as "not chosen", not as a broken account.
        view_mode: m.view_mode.as_deref().and_then(ViewMode::parse),
        notice_version: m.notice_version.map(|v| v.max(0) as u32),
    })
}

pub async fn roles_of(db: &impl ConnectionTrait, id: PersonId) -> Result<Roles, DbErr> {
    let rows = person_role::Entity::find()
        .filter(person_role::Column::PersonId.eq(id))
        .all(db)
        .await?;
    Ok(Roles::new(rows.iter().filter_map(|r| Role::parse(&r.role))))
}

async fn with_roles(db: &impl ConnectionTrait, m: person::Model) -> Result<Credentials, DbErr> {
    let roles = roles_of(db, m.id).await?;
    let hash = m.password_hash.clone();
    Ok(Credentials {
        person: to_domain(m, roles)?,
        password_hash: hash,
    })
}

/// The one person `condition` picks out (by a unique column), with roles and password hash.
async fn credentials_where(
    db: &impl ConnectionTrait,
    condition: impl IntoCondition,
) -> Result<Option<Credentials>, DbErr> {
    match person::Entity::find().filter(condition).one(db).await? {
        Some(m) => Ok(Some(with_roles(db, m).await?)),
        None => Ok(None),
    }
}

pub async fn get(db: &impl ConnectionTrait, id: PersonId) -> Result<Option<Person>, DbErr> {
    Ok(credentials_where(db, person::Column::Id.eq(id))
        .await?
        .map(|c| c.person))
}

pub async fn credentials_by_phone(
    db: &impl ConnectionTrait,
    phone: &PhoneNumber,
) -> Result<Option<Credentials>, DbErr> {
    credentials_where(db, person::Column::Phone.eq(phone.as_str())).await
}

pub async fn credentials_by_email(
    db: &impl ConnectionTrait,
    email: &EmailAddress,
) -> Result<Option<Credentials>, DbErr> {
    credentials_where(db, person::Column::Email.eq(email.as_str())).await
}

pub struct NewPerson<'a> {
    pub name: &'a DisplayName,
    pub phone: &'a PhoneNumber,
    pub email: Option<&'a EmailAddress>,
    pub password_hash: Option<String>,
    pub committee_id: Option<i64>,
    pub position: Option<&'a str>,
}

/// Inserts a person; a duplicate phone or email surfaces as a unique violation (see `db::is_unique_violation`).
pub async fn insert(db: &impl ConnectionTrait, p: NewPerson<'_>) -> Result<PersonId, DbErr> {
    let now = Utc::now();
    let m = person::ActiveModel {
        display_name: Set(p.name.as_str().to_string()),
        phone: Set(p.phone.as_str().to_string()),
        email: Set(p.email.map(|e| e.as_str().to_string())),
        password_hash: Set(p.password_hash),
        committee_id: Set(p.committee_id),
        position: Set(p.position.map(str::to_string)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(m.id)
}

pub struct PersonUpdate<'a> {
    pub name: &'a DisplayName,
    pub email: Option<&'a EmailAddress>,
    pub committee_id: Option<i64>,
    pub position: Option<&'a str>,
}

pub async fn update(db: &impl ConnectionTrait, id: PersonId, u: PersonUpdate<'_>) -> Result<(), DbErr> {
    person::ActiveModel {
        id: Set(id),
        display_name: Set(u.name.as_str().to_string()),
        email: Set(u.email.map(|e| e.as_str().to_string())),
        committee_id: Set(u.committee_id),
        position: Set(u.position.map(str::to_string)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Remembers her display preference on the account.
pub async fn set_view_mode(db: &impl ConnectionTrait, id: PersonId, mode: ViewMode) -> Result<(), DbErr> {
    person::ActiveModel {
        id: Set(id),
        view_mode: Set(Some(mode.code().to_string())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn set_password_hash(db: &impl ConnectionTrait, id: PersonId, hash: String) -> Result<(), DbErr> {
    person::ActiveModel {
        id: Set(id),
        password_hash: Set(Some(hash)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn add_role(db: &impl ConnectionTrait, id: PersonId, role: Role) -> Result<(), DbErr> {
    person_role::Entity::insert(person_role::ActiveModel {
        person_id: Set(id),
        role: Set(role.code().to_string()),
    })
    .on_conflict_do_nothing_on([person_role::Column::PersonId, person_role::Column::Role])
    .exec(db)
    .await?;
    Ok(())
}

/// Replaces a person's roles.
pub async fn set_roles(db: &impl ConnectionTrait, id: PersonId, roles: &Roles) -> Result<(), DbErr> {
    person_role::Entity::delete_many()
        .filter(person_role::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    for r in roles.iter() {
        add_role(db, id, r).await?;
    }
    Ok(())
}

pub async fn official_street_ids(db: &impl ConnectionTrait, id: PersonId) -> Result<Vec<i64>, DbErr> {
    Ok(official_street::Entity::find()
        .filter(official_street::Column::PersonId.eq(id))
        .order_by_asc(official_street::Column::StreetId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.street_id)
        .collect())
}

pub async fn set_official_streets(db: &impl ConnectionTrait, id: PersonId, streets: &[i64]) -> Result<(), DbErr> {
    official_street::Entity::delete_many()
        .filter(official_street::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    for s in streets {
        official_street::ActiveModel {
            person_id: Set(id),
            street_id: Set(*s),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The districts an official is scoped to as a whole (each with all its streets).
pub async fn official_district_ids(db: &impl ConnectionTrait, id: PersonId) -> Result<Vec<i64>, DbErr> {
    Ok(official_district::Entity::find()
        .filter(official_district::Column::PersonId.eq(id))
        .order_by_asc(official_district::Column::DistrictId)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.district_id)
        .collect())
}

pub async fn set_official_districts(db: &impl ConnectionTrait, id: PersonId, districts: &[i64]) -> Result<(), DbErr> {
    official_district::Entity::delete_many()
        .filter(official_district::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    for d in districts {
        official_district::ActiveModel {
            person_id: Set(id),
            district_id: Set(*d),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Everyone, newest first, optionally filtered by a name or phone fragment.
pub async fn search(db: &impl ConnectionTrait, query: &str, limit: u64) -> Result<Vec<Person>, DbErr> {
    use sea_orm::{Condition, QuerySelect};
    let mut q = person::Entity::find().order_by_desc(person::Column::Id).limit(limit);
    let query = query.trim();
    if !query.is_empty() {
        q = q.filter(
            Condition::any()
                .add(person::Column::DisplayName.contains(query))
                .add(person::Column::Phone.contains(query)),
        );
    }
    load_many(db, q.all(db).await?).await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    person::Entity::find().count(db).await
}

/// The people who belong to any of these committees, by committee.
pub async fn members_of_committees(db: &impl ConnectionTrait, committees: &[i64]) -> Result<Vec<Person>, DbErr> {
    let rows = person::Entity::find()
        .filter(person::Column::CommitteeId.is_in(committees.iter().copied()))
        .order_by_asc(person::Column::CommitteeId)
        .order_by_asc(person::Column::Id)
        .all(db)
        .await?;
    // Their roles in one query, whatever their number (a district has ten thousand chairs).
    let members = sea_orm::sea_query::Query::select()
        .column(person::Column::Id)
        .from(person::Entity)
        .and_where(person::Column::CommitteeId.is_in(committees.iter().copied()))
        .to_owned();
    let mut roles: std::collections::HashMap<i64, Vec<Role>> = std::collections::HashMap::new();
    for r in person_role::Entity::find()
        .filter(person_role::Column::PersonId.in_subquery(members))
        .all(db)
        .await?
    {
        if let Some(role) = Role::parse(&r.role) {
            roles.entry(r.person_id).or_default().push(role);
        }
    }
    rows.into_iter()
        .map(|m| {
            let r = Roles::new(roles.remove(&m.id).unwrap_or_default());
            to_domain(m, r)
        })
        .collect()
}

/// Turns rows into people with one query for all their roles (not one per person).
async fn load_many(db: &impl ConnectionTrait, rows: Vec<person::Model>) -> Result<Vec<Person>, DbErr> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let mut roles: std::collections::HashMap<i64, Vec<Role>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for r in person_role::Entity::find()
            .filter(person_role::Column::PersonId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            if let Some(role) = Role::parse(&r.role) {
                roles.entry(r.person_id).or_default().push(role);
            }
        }
    }
    rows.into_iter()
        .map(|m| {
            let r = Roles::new(roles.remove(&m.id).unwrap_or_default());
            to_domain(m, r)
        })
        .collect()
}

/// Everyone holding a role, by name.
pub async fn with_role(db: &impl ConnectionTrait, role: Role) -> Result<Vec<Person>, DbErr> {
    let ids: Vec<i64> = person_role::Entity::find()
        .filter(person_role::Column::Role.eq(role.code()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.person_id)
        .collect();
    let rows = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .order_by_asc(person::Column::DisplayName)
        .all(db)
        .await?;
    load_many(db, rows).await
}

pub async fn get_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<Person>, DbErr> {
    let rows = person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    load_many(db, rows).await
}

/// Records that she accepted notice `version` now, from `address`: on her account (what sign-in
/// checks) and as a record of its own.
pub async fn accept_notice(db: &impl ConnectionTrait, id: PersonId, version: u32, address: &str) -> Result<(), DbErr> {
    use super::entities::notice_acceptance;
    let now = chrono::Utc::now();
    person::Entity::update_many()
        .col_expr(
            person::Column::NoticeVersion,
            sea_orm::sea_query::Expr::value(version as i32),
        )
        .filter(person::Column::Id.eq(id))
        .exec(db)
        .await?;
    notice_acceptance::ActiveModel {
        person_id: Set(id),
        version: Set(version as i32),
        accepted_at: Set(now),
        address: Set(address.chars().take(64).collect()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Her acceptances of the notice, oldest first: (version, when).
pub async fn notice_acceptances(
    db: &impl ConnectionTrait,
    id: PersonId,
) -> Result<Vec<(u32, chrono::DateTime<chrono::Utc>)>, DbErr> {
    use super::entities::notice_acceptance;
    Ok(notice_acceptance::Entity::find()
        .filter(notice_acceptance::Column::PersonId.eq(id))
        .order_by_asc(notice_acceptance::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.version.max(0) as u32, m.accepted_at))
        .collect())
}

/// Erases a person's personal information, keeping the row (her attempts, attendance and certificates
/// point at it) and her place in the tree (committee, position, the chair role), so reports count her
/// as before, anonymously: a placeholder name and number, no email, password, other roles, scopes,
/// display choice or notice record.
pub async fn erase(db: &impl ConnectionTrait, id: PersonId, placeholder_name: &str) -> Result<(), DbErr> {
    use super::entities::notice_acceptance;
    use sea_orm::sea_query::Expr;
    let none: Option<String> = None;
    person::Entity::update_many()
        .col_expr(person::Column::DisplayName, Expr::value(placeholder_name))
        .col_expr(person::Column::Phone, Expr::value(PhoneNumber::erased(id).as_str()))
        .col_expr(person::Column::Email, Expr::value(none.clone()))
        .col_expr(person::Column::PasswordHash, Expr::value(none.clone()))
        .col_expr(person::Column::ViewMode, Expr::value(none))
        .col_expr(person::Column::NoticeVersion, Expr::value(Option::<i32>::None))
        .filter(person::Column::Id.eq(id))
        .exec(db)
        .await?;
    person_role::Entity::delete_many()
        .filter(person_role::Column::PersonId.eq(id))
        .filter(person_role::Column::Role.ne(Role::Chair.code()))
        .exec(db)
        .await?;
    official_street::Entity::delete_many()
        .filter(official_street::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    official_district::Entity::delete_many()
        .filter(official_district::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    notice_acceptance::Entity::delete_many()
        .filter(notice_acceptance::Column::PersonId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
