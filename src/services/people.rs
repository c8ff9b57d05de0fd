//! Managing accounts: admins create people and set roles and scopes; officials list their street's chairs.

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::StreetScope;
use crate::db::{self, org, people};
use crate::domain::audit::Action;
use crate::domain::contact::{EmailAddress, PhoneNumber};
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::{DisplayName, Person, PersonId, Role, Roles};
use crate::i18n::Text;

/// A new or edited account as typed into the admin form, already parsed.
pub struct AccountInput {
    pub name: DisplayName,
    pub phone: PhoneNumber,
    pub email: Option<EmailAddress>,
    pub roles: Roles,
    pub streets: Vec<i64>,
    /// Districts an official is scoped to as a whole (each with all its streets).
    pub districts: Vec<i64>,
    pub committee_id: Option<i64>,
    pub position: Option<String>,
}

impl AccountInput {
    /// What the audit trail says about an account's creation or change: roles and scopes, never the
    /// name, number or address (those are in the account itself).
    pub fn audit_summary(&self) -> String {
        let roles: Vec<&str> = self.roles.iter().map(|r| r.code()).collect();
        let ids = |v: &[i64]| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        format!(
            "角色 {}；所辖街道 [{}]；所辖区 [{}]；业委会 {}",
            roles.join(","),
            ids(&self.streets),
            ids(&self.districts),
            self.committee_id.map(|c| c.to_string()).unwrap_or_else(|| "无".into())
        )
    }
}

/// Field-level problems of an account form: (field name, message).
pub use super::FieldErrors;

/// The account form's fields as typed (kept as typed, so they survive a failed submit).
#[derive(Debug, Default, Clone)]
pub struct AccountFields {
    pub name: String,
    pub phone: String,
    pub email: String,
    pub roles: Vec<String>,
    pub streets: Vec<i64>,
    pub districts: Vec<i64>,
    pub committee: Option<i64>,
    pub position: String,
}

impl AccountFields {
    /// An existing account's fields, to edit.
    pub fn of(p: &Person, streets: &[i64], districts: &[i64]) -> AccountFields {
        AccountFields {
            name: p.name.as_str().to_string(),
            phone: p.phone.as_str().to_string(),
            email: p.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
            roles: p.roles.iter().map(|r| r.code().to_string()).collect(),
            streets: streets.to_vec(),
            districts: districts.to_vec(),
            committee: p.committee_id,
            position: p.position.clone().unwrap_or_default(),
        }
    }
}

/// A name that is valid and that the certificate font can print.
fn printable_name(name: &str) -> Result<DisplayName, Text> {
    let name = DisplayName::parse(name)?;
    match crate::pdf::unsupported_char(name.as_str()) {
        Some(c) => Err(Text::new(
            format!("姓名中的“{c}”（U+{:04X}）无法印在结业证书上", c as u32),
            format!("the certificate font cannot print “{c}” (U+{:04X})", c as u32),
        )),
        None => Ok(name),
    }
}

/// No address when left empty.
fn optional_email(email: &str) -> Result<Option<EmailAddress>, Text> {
    if email.trim().is_empty() {
        return Ok(None);
    }
    EmailAddress::parse(email).map(Some).map_err(|e| e.reason)
}

/// Roles, with the street or district an official needs.
fn roles_of(f: &AccountFields, errors: &mut FieldErrors) -> Roles {
    let roles = Roles::new(f.roles.iter().filter_map(|r| Role::parse(r)));
    if roles.is_empty() {
        errors.add("roles", "请至少选择一个角色", "choose at least one role");
    }
    if roles.has(Role::Official) && f.streets.is_empty() && f.districts.is_empty() {
        errors.add(
            "streets",
            "街道干部需要至少一个所辖区或街道",
            "an official needs at least one district or street",
        );
    }
    roles
}

impl TryFrom<&AccountFields> for AccountInput {
    type Error = FieldErrors;

    fn try_from(f: &AccountFields) -> Result<AccountInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = printable_name(&f.name).map_err(|e| errors.push(("name", e))).ok();
        let phone = PhoneNumber::parse(&f.phone)
            .map_err(|e| errors.push(("phone", e.reason)))
            .ok();
        let email = optional_email(&f.email).map_err(|e| errors.push(("email", e))).ok();
        let roles = roles_of(f, &mut errors);
        let position = f.position.trim();
        match (name, phone, email) {
            (Some(name), Some(phone), Some(email)) => errors.or_ok(AccountInput {
                name,
                phone,
                email,
                roles,
                streets: f.streets.clone(),
                districts: f.districts.clone(),
                committee_id: f.committee,
                position: (!position.is_empty()).then(|| position.to_string()),
            }),
            _ => Err(errors),
        }
    }
}

impl AccountInput {
    /// The same as the form's `TryFrom`, from loose values (seeding, tests).
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
        AccountInput::try_from(&AccountFields {
            name: name.into(),
            phone: phone.into(),
            email: email.into(),
            roles: roles.to_vec(),
            streets: streets.to_vec(),
            districts: Vec::new(),
            committee: committee_id,
            position: position.into(),
        })
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
    for d in &input.districts {
        if org::get(db, *d).await?.map(|u| u.kind) != Some(OrgKind::District) {
            return Err(ServiceError::rejected(
                "streets",
                "所选的区不存在",
                "a chosen district does not exist",
            ));
        }
    }
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
    create_with(db, input, password_hash, None).await
}

/// An admin creates an account on the web (`create`), recorded in the audit trail in the same
/// transaction.
pub async fn create_by(
    db: &DatabaseConnection,
    by: &super::audit::Actor,
    input: &AccountInput,
) -> Result<PersonId, ServiceError> {
    create_with(db, input, None, Some(by)).await
}

async fn create_with(
    db: &DatabaseConnection,
    input: &AccountInput,
    password_hash: Option<String>,
    by: Option<&super::audit::Actor>,
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
    people::set_official_districts(&txn, id, &input.districts).await?;
    if let Some(by) = by {
        let object = format!("person:{id}");
        super::audit::record_in(&txn, by, Action::AccountCreate, object, input.audit_summary()).await?;
    }
    txn.commit().await?;
    tracing::info!(person = id, "account created");
    Ok(id)
}

/// Updates an account's name, email, roles, streets and committee (the phone number is the identity
/// and is not changed here); recorded in the audit trail in the same transaction.
pub async fn update(
    db: &DatabaseConnection,
    by: &super::audit::Actor,
    id: PersonId,
    input: &AccountInput,
) -> Result<(), ServiceError> {
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
    people::set_official_districts(&txn, id, &input.districts).await?;
    let object = format!("person:{id}");
    super::audit::record_in(&txn, by, Action::AccountUpdate, object, input.audit_summary()).await?;
    txn.commit().await?;
    Ok(())
}

/// A chair with where they belong, for officials' lists.
#[derive(Debug, Clone)]
pub struct ChairListing {
    pub person: Person,
    pub neighbourhood: String,
    pub estate: String,
    /// The committee's own name (printed on sign-in cards).
    pub committee: String,
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
            let (neighbourhood, estate, committee) = person
                .committee_id
                .and_then(|c| labels.get(&c))
                .cloned()
                .unwrap_or_default();
            ChairListing {
                person,
                neighbourhood,
                estate,
                committee,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.neighbourhood, &a.estate, a.person.id).cmp(&(&b.neighbourhood, &b.estate, b.person.id)));
    Ok(out)
}

/// Accounts whose name or mobile number contains `query` (everyone when empty), newest first.
pub async fn search(db: &impl ConnectionTrait, query: &str) -> Result<Vec<Person>, ServiceError> {
    Ok(people::search(db, query, 200).await?)
}

/// What the account form needs: the account (when editing) with its streets, and the choices.
pub struct AccountPage {
    pub person: Option<Person>,
    /// The streets and districts the account is scoped to (officials), as stored.
    pub official_streets: Vec<i64>,
    pub official_districts: Vec<i64>,
    pub streets: Vec<OrgUnit>,
    pub districts: Vec<OrgUnit>,
    /// Committees with a display label.
    pub committees: Vec<(i64, String)>,
}

impl AccountPage {
    /// The form's fields: the account's as stored, or empty for a new one.
    pub fn fields(&self) -> AccountFields {
        self.person
            .as_ref()
            .map(|p| AccountFields::of(p, &self.official_streets, &self.official_districts))
            .unwrap_or_default()
    }
}

/// The account form's data, for a new account (`None`) or an existing one.
pub async fn account_page(db: &impl ConnectionTrait, id: Option<PersonId>) -> Result<AccountPage, ServiceError> {
    let (person, official_streets, official_districts) = match id {
        Some(id) => {
            let p = people::get(db, id).await?.ok_or(ServiceError::NotFound)?;
            (
                Some(p),
                people::official_street_ids(db, id).await?,
                people::official_district_ids(db, id).await?,
            )
        }
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(AccountPage {
        person,
        official_streets,
        official_districts,
        streets: org::all_of_kind(db, OrgKind::Street).await?,
        districts: org::all_of_kind(db, OrgKind::District).await?,
        committees: super::org::committee_choices(db).await?,
    })
}
