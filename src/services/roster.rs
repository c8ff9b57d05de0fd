//! Importing a street's roster of chairs from CSV or XLSX: preview, then apply all-or-nothing.

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::StreetScope;
use crate::db::{org, people, roster};
use crate::domain::contact::EmailAddress;
use crate::domain::org::OrgKind;
use crate::domain::person::Role;
use crate::domain::roster::{RosterPlan, RowAction, plan};
use crate::roster_files;

/// Largest accepted upload: a street's roster is a few hundred rows, far below this.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// What applying a plan did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Reads a file and plans its import against the street as it is now.
pub async fn plan_file(
    db: &impl ConnectionTrait,
    street: i64,
    filename: &str,
    bytes: &[u8],
) -> Result<RosterPlan, ServiceError> {
    let read = roster_files::read(filename, bytes);
    let phones: Vec<String> = read
        .rows
        .iter()
        .filter_map(|r| r.cells.get("手机号"))
        .filter_map(|p| crate::domain::contact::PhoneNumber::parse(p).ok())
        .map(|p| p.as_str().to_string())
        .collect();
    let emails: Vec<String> = read
        .rows
        .iter()
        .filter_map(|r| r.cells.get("邮箱"))
        .filter_map(|e| EmailAddress::parse(e).ok())
        .map(|e| e.as_str().to_string())
        .collect();
    let snapshot = roster::snapshot(db, street, &phones, &emails).await?;
    let mut p = plan(&read.rows, read.errors, &snapshot);
    // A name the certificate cannot print is better fixed now than discovered when the chair passes.
    let unprintable: Vec<_> = p
        .rows
        .iter()
        .filter_map(|r| crate::pdf::unsupported_char(r.row.name.as_str()).map(|c| (r.row.line, c)))
        .collect();
    for (line, c) in unprintable {
        p.rows.retain(|r| r.row.line != line);
        p.errors.push(crate::domain::roster::RowError {
            line,
            column: Some("姓名"),
            message: crate::i18n::Text::new(
                format!(
                    "姓名中的“{c}”（U+{:04X}）无法印在结业证书上，请改用常用字或联系管理员",
                    c as u32
                ),
                format!(
                    "the certificate font cannot print “{c}” (U+{:04X}) in the name",
                    c as u32
                ),
            ),
        });
    }
    p.errors.sort_by_key(|e| e.line);
    Ok(p)
}

async fn check_street(db: &impl ConnectionTrait, scope: &StreetScope, street: i64) -> Result<(), ServiceError> {
    let unit = org::get(db, street).await?.ok_or(ServiceError::NotFound)?;
    if unit.kind != OrgKind::Street {
        return Err(ServiceError::invalid("请选择一个街道", "choose a street"));
    }
    if !scope.allows(street) {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

/// Stores an uploaded file and returns its id with the plan for the preview page.
pub async fn upload(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    uploader: i64,
    street: i64,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<(i64, RosterPlan), ServiceError> {
    check_street(db, scope, street).await?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ServiceError::invalid(
            "文件太大（上限 5 MB）",
            "the file is larger than 5 MB",
        ));
    }
    let plan = plan_file(db, street, filename, &bytes).await?;
    let id = roster::insert_upload(db, street, uploader, filename, bytes).await?;
    Ok((id, plan))
}

/// The preview of a stored upload (planned afresh: the street may have changed since).
pub async fn preview(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    upload_id: i64,
) -> Result<(roster::Upload, RosterPlan), ServiceError> {
    let up = roster::get_upload(db, upload_id).await?.ok_or(ServiceError::NotFound)?;
    check_street(db, scope, up.street_id).await?;
    let plan = plan_file(db, up.street_id, &up.filename, &up.content).await?;
    Ok((up, plan))
}

/// Applies a stored upload in one transaction; refuses if any row is bad.
pub async fn apply_upload(
    db: &DatabaseConnection,
    scope: &StreetScope,
    upload_id: i64,
) -> Result<ImportOutcome, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let up = roster::get_upload(&txn, upload_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    check_street(&txn, scope, up.street_id).await?;
    let outcome = apply_bytes(&txn, up.street_id, &up.filename, &up.content).await?;
    roster::mark_applied(&txn, up.id).await?;
    txn.commit().await?;
    tracing::info!(upload = up.id, street = up.street_id, ?outcome, "roster imported");
    Ok(outcome)
}

/// Plans and applies a file in one transaction (the `import-roster` command).
pub async fn import_file(
    db: &DatabaseConnection,
    street: i64,
    filename: &str,
    bytes: &[u8],
) -> Result<ImportOutcome, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    check_street(&txn, &StreetScope::All, street).await?;
    let outcome = apply_bytes(&txn, street, filename, bytes).await?;
    txn.commit().await?;
    Ok(outcome)
}

async fn apply_bytes(
    txn: &impl ConnectionTrait,
    street: i64,
    filename: &str,
    bytes: &[u8],
) -> Result<ImportOutcome, ServiceError> {
    let plan = plan_file(txn, street, filename, bytes).await?;
    if !plan.errors.is_empty() {
        return Err(ServiceError::invalid(
            format!("文件有{}处错误，没有导入任何数据", plan.errors.len()),
            format!("the file has {} errors; nothing was imported", plan.errors.len()),
        ));
    }
    let mut outcome = ImportOutcome::default();
    for p in &plan.rows {
        let r = &p.row;
        match (&p.action, p.existing_id) {
            (RowAction::Unchanged, _) => outcome.unchanged += 1,
            (RowAction::Create, _) => {
                let committee = super::org::ensure_committee(txn, street, &r.neighbourhood, &r.estate).await?;
                let id = people::insert(
                    txn,
                    people::NewPerson {
                        name: &r.name,
                        phone: &r.phone,
                        email: r.email.as_ref(),
                        password_hash: None,
                        committee_id: Some(committee),
                        position: Some(&r.position),
                    },
                )
                .await?;
                people::add_role(txn, id, Role::Chair).await?;
                outcome.created += 1;
            }
            (RowAction::Update(_), Some(id)) => {
                let committee = super::org::ensure_committee(txn, street, &r.neighbourhood, &r.estate).await?;
                let current = people::get(txn, id).await?.ok_or(ServiceError::NotFound)?;
                let email = r.email.clone().or(current.email);
                people::update(
                    txn,
                    id,
                    people::PersonUpdate {
                        name: &r.name,
                        email: email.as_ref(),
                        committee_id: Some(committee),
                        position: Some(&r.position),
                    },
                )
                .await?;
                people::add_role(txn, id, Role::Chair).await?;
                outcome.updated += 1;
            }
            (RowAction::Update(_), None) => return Err(ServiceError::Internal("update without a person".into())),
        }
    }
    Ok(outcome)
}
