//! Managing accounts: admins create people and set roles and scopes; officials list their street's chairs.

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::StreetScope;
use crate::db::{self, org, people};
use crate::domain::contact::{EmailAddress, PhoneNumber};
use crate::domain::org::OrgKind;
use crate::domain::person::{DisplayName, Person, PersonId, Role, Roles};
use crate::i18n::Text;

/// A new or edited account as typed into the admin form, already parsed.
pub struct AccountInput {
    pub name: DisplayName,
    pub phone: PhoneNumber,
    pub email: Option<EmailAddress>,
    pub roles: Roles,
    pub streets: Vec<i64>,
    pub committee_id: Option<i64>,
    pub position: Option<String>,
}

/// Field-level problems of an account form: (field name, message).
pub use super::FieldErrors;

impl AccountInput {
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        phone: &str,
        email: &str,
        roles: &[String],
        streets: &[i64],
        committee_id: Option<i64>,
        position: &str,
    ) -> Result<AccountInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = DisplayName::parse(name).map_err(|e| errors.push(("name", e))).ok();
        if let Some(c) = name.as_ref().and_then(|n| crate::pdf::unsupported_char(n.as_str())) {
            errors.push((
                "name",
                Text::new(
                    format!("姓名中的“{c}”（U+{:04X}）无法印在结业证书上", c as u32),
                    format!("the certificate font cannot print “{c}” (U+{:04X})", c as u32),
                ),
            ));
        }
        let phone = PhoneNumber::parse(phone)
            .map_err(|e| errors.push(("phone", e.reason)))
            .ok();
        let email = if email.trim().is_empty() {
            Some(None)
        } else {
            EmailAddress::parse(email)
                .map(Some)
                .map_err(|e| errors.push(("email", e.reason)))
                .ok()
        };
        let roles = Roles::new(roles.iter().filter_map(|r| Role::parse(r)));
        if roles.is_empty() {
            errors.push(("roles", Text::new("请至少选择一个角色", "choose at least one role")));
        }
        if roles.has(Role::Official) && streets.is_empty() {
            errors.push((
                "streets",
                Text::new("街道干部需要至少一个所辖街道", "an official needs at least one street"),
            ));
        }
        let position = position.trim();
        match (name, phone, email) {
            (Some(name), Some(phone), Some(email)) if errors.is_empty() => Ok(AccountInput {
                name,
                phone,
                email,
                roles,
                streets: streets.to_vec(),
                committee_id,
                position: (!position.is_empty()).then(|| position.to_string()),
            }),
            _ => Err(errors),
        }
    }
}

fn conflict(e: &sea_orm::DbErr) -> Option<FieldErrors> {
    if !db::is_unique_violation(e) {
        return None;
    }
    Some(if e.to_string().contains("email") {
        FieldErrors::one(
            "email",
            Text::new("该邮箱已被另一个账号使用", "this email belongs to another account"),
        )
    } else {
        FieldErrors::one(
            "phone",
            Text::new(
                "该手机号已被另一个账号使用",
                "this mobile number belongs to another account",
            ),
        )
    })
}

async fn check_places(db: &impl ConnectionTrait, input: &AccountInput) -> Result<(), ServiceError> {
    for s in &input.streets {
        if org::get(db, *s).await?.map(|u| u.kind) != Some(OrgKind::Street) {
            return Err(ServiceError::rejected(
                "streets",
                "所选街道不存在",
                "a chosen street does not exist",
            ));
        }
    }
    if let Some(c) = input.committee_id
        && org::get(db, c).await?.map(|u| u.kind) != Some(OrgKind::Committee)
    {
        return Err(ServiceError::rejected(
            "committee",
            "所选业委会不存在",
            "the chosen committee does not exist",
        ));
    }
    Ok(())
}

/// Creates an account; duplicate phone or email and unknown places come back as rejected fields.
pub async fn create(
    db: &DatabaseConnection,
    input: &AccountInput,
    password_hash: Option<String>,
) -> Result<PersonId, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    check_places(&txn, input).await?;
    let id = match people::insert(
        &txn,
        people::NewPerson {
            name: &input.name,
            phone: &input.phone,
            email: input.email.as_ref(),
            password_hash,
            committee_id: input.committee_id,
            position: input.position.as_deref(),
        },
    )
    .await
    {
        Ok(id) => id,
        Err(e) => return Err(conflict(&e).map_or(ServiceError::Db(e), ServiceError::Rejected)),
    };
    people::set_roles(&txn, id, &input.roles).await?;
    people::set_official_streets(&txn, id, &input.streets).await?;
    txn.commit().await?;
    tracing::info!(person = id, "account created");
    Ok(id)
}

/// Updates an account's name, email, roles, streets and committee (the phone number is the identity
/// and is not changed here).
pub async fn update(db: &DatabaseConnection, id: PersonId, input: &AccountInput) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    people::get(&txn, id).await?.ok_or(ServiceError::NotFound)?;
    check_places(&txn, input).await?;
    let res = people::update(
        &txn,
        id,
        people::PersonUpdate {
            name: &input.name,
            email: input.email.as_ref(),
            committee_id: input.committee_id,
            position: input.position.as_deref(),
        },
    )
    .await;
    if let Err(e) = res {
        return Err(conflict(&e).map_or(ServiceError::Db(e), ServiceError::Rejected));
    }
    people::set_roles(&txn, id, &input.roles).await?;
    people::set_official_streets(&txn, id, &input.streets).await?;
    txn.commit().await?;
    Ok(())
}

/// A chair with where they belong, for officials' lists.
#[derive(Debug, Clone)]
pub struct ChairListing {
    pub person: Person,
    pub neighbourhood: String,
    pub estate: String,
}

/// The chairs of a street, by 居委 and 小区.
pub async fn chairs_of_street(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    street: i64,
) -> Result<Vec<ChairListing>, ServiceError> {
    if !scope.allows(street) {
        return Err(ServiceError::Forbidden);
    }
    let labels = super::org::committee_labels(db, street).await?;
    let committees: Vec<i64> = labels.keys().copied().collect();
    let mut out: Vec<ChairListing> = people::members_of_committees(db, &committees)
        .await?
        .into_iter()
        .filter(|p| p.roles.has(Role::Chair))
        .map(|person| {
            let (n, e, _) = person
                .committee_id
                .and_then(|c| labels.get(&c))
                .cloned()
                .unwrap_or_default();
            ChairListing {
                person,
                neighbourhood: n,
                estate: e,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.neighbourhood, &a.estate, a.person.id).cmp(&(&b.neighbourhood, &b.estate, b.person.id)));
    Ok(out)
}
