//! Importing a street's roster of chairs from CSV or XLSX: preview, then apply all-or-nothing.

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use super::access::StreetScope;
use crate::db::{org, people, roster};
use crate::domain::audit::Action;
use crate::domain::contact::{EmailAddress, PhoneNumber};
use crate::domain::org::{OrgKind, OrgUnit};
use crate::domain::person::Role;
use crate::domain::roster::{PlanPreview, RosterPlan, RosterRow, RowAction, RowError, plan};
use crate::i18n::Text;
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

/// Rows (or errors) shown per preview page.
pub const PREVIEW_PAGE: usize = 100;

/// Runs CPU-bound work (reading a file of up to 5 MB, planning tens of thousands of rows, turning a
/// plan into JSON and back) on the blocking pool, never on an HTTP worker: a big file must not stall
/// every other request on that worker. A panic there fails this request only.
async fn blocking<T, F>(f: F) -> Result<T, ServiceError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("roster work failed: {e}")))
}

/// The phone numbers and email addresses a file names (valid ones), to look their owners up.
fn contacts_in(read: &roster_files::ReadRoster) -> (Vec<String>, Vec<String>) {
    let cells = |column: &'static str| read.rows.iter().filter_map(move |r| r.cells.get(column));
    let phones = cells("手机号")
        .filter_map(|p| PhoneNumber::parse(p).ok())
        .map(|p| p.as_str().to_string())
        .collect();
    let emails = cells("邮箱")
        .filter_map(|e| EmailAddress::parse(e).ok())
        .map(|e| e.as_str().to_string())
        .collect();
    (phones, emails)
}

/// Turns rows whose name the certificate cannot print into errors: better fixed now than discovered
/// when the chair passes.
fn refuse_unprintable_names(p: &mut RosterPlan) {
    let unprintable: Vec<_> = p
        .rows
        .iter()
        .filter_map(|r| crate::pdf::unsupported_char(r.row.name.as_str()).map(|c| (r.row.line, c)))
        .collect();
    for (line, c) in unprintable {
        p.rows.retain(|r| r.row.line != line);
        let message = Text::new(
            format!(
                "姓名中的“{c}”（U+{:04X}）无法印在结业证书上，请改用常用字或联系管理员",
                c as u32
            ),
            format!(
                "the certificate font cannot print “{c}” (U+{:04X}) in the name",
                c as u32
            ),
        );
        p.errors.push(RowError {
            line,
            column: Some("姓名"),
            message,
        });
    }
    p.errors.sort_by_key(|e| e.line);
}

/// Reads a file and plans its import against the street as it is now.
pub async fn plan_file(
    db: &impl ConnectionTrait,
    street: i64,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<RosterPlan, ServiceError> {
    let name = filename.to_string();
    let (read, (phones, emails)) = blocking(move || {
        let read = roster_files::read(&name, &bytes);
        let contacts = contacts_in(&read);
        (read, contacts)
    })
    .await?;
    let snapshot = roster::snapshot(db, street, &phones, &emails).await?;
    blocking(move || {
        let mut p = plan(&read.rows, read.errors, &snapshot);
        refuse_unprintable_names(&mut p);
        p
    })
    .await
}

/// Plans a file and returns the plan with its preview as stored (JSON).
async fn plan_with_preview(
    db: &impl ConnectionTrait,
    street: i64,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<(RosterPlan, PlanPreview, String), ServiceError> {
    let plan = plan_file(db, street, filename, bytes).await?;
    blocking(move || {
        let preview = PlanPreview::from(&plan);
        let json = serde_json::to_string(&preview).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok((plan, preview, json))
    })
    .await?
}

/// The street a roster is for, if it is one the official may manage; a unit that is not a street is
/// rejected at the form's street field.
async fn check_street(db: &impl ConnectionTrait, scope: &StreetScope, street: i64) -> Result<OrgUnit, ServiceError> {
    let unit = org::get(db, street).await?.ok_or(ServiceError::NotFound)?;
    if unit.kind != OrgKind::Street {
        return Err(ServiceError::rejected("street", "请选择一个街道", "choose a street"));
    }
    if !scope.allows(street) {
        return Err(ServiceError::Forbidden);
    }
    Ok(unit)
}

/// Stores an uploaded file with its plan (planned here, once) and returns its id.
#[tracing::instrument(skip_all, fields(street))]
pub async fn upload(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    uploader: i64,
    street: i64,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<i64, ServiceError> {
    check_street(db, scope, street).await?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ServiceError::rejected(
            "file",
            "文件太大（上限 5 MB）",
            "the file is larger than 5 MB",
        ));
    }
    let (_, _, json) = plan_with_preview(db, street, filename, bytes.clone()).await?;
    let id = roster::insert_upload(db, street, uploader, filename, bytes).await?;
    roster::set_plan(db, id, &json).await?;
    Ok(id)
}

/// One page of a stored upload's preview: errors first (a file with errors shows only them), then the
/// planned rows, [`PREVIEW_PAGE`] at a time. Totals and summary are over the whole file.
#[derive(Debug)]
pub struct PreviewPage {
    pub upload_id: i64,
    pub street_id: i64,
    pub street_name: String,
    pub filename: String,
    /// The plan with only this page's errors or rows.
    pub plan: PlanPreview,
    pub total_errors: usize,
    pub total_rows: usize,
    /// 1-based.
    pub page: usize,
    pub pages: usize,
}

/// The preview of a stored upload, read from the plan made at upload (never planned again here).
pub async fn preview(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    upload_id: i64,
    page: usize,
) -> Result<PreviewPage, ServiceError> {
    let (street_id, filename, stored) = roster::get_upload_plan(db, upload_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let street_name = check_street(db, scope, street_id).await?.name;
    let json = match stored {
        Some(j) => j,
        None => plan_stored_upload(db, upload_id, street_id).await?,
    };
    let plan = blocking(move || serde_json::from_str::<PlanPreview>(&json))
        .await?
        .map_err(|e| ServiceError::Internal(format!("stored roster plan: {e}")))?;
    let (total_errors, total_rows) = (plan.errors.len(), plan.rows.len());
    let (plan, page, pages) = page_of(plan, page);
    Ok(PreviewPage {
        upload_id,
        street_id,
        street_name,
        filename,
        plan,
        total_errors,
        total_rows,
        page,
        pages,
    })
}

/// Plans an upload stored before plans were kept (now, once) and keeps its plan.
async fn plan_stored_upload(db: &impl ConnectionTrait, upload_id: i64, street: i64) -> Result<String, ServiceError> {
    let up = roster::get_upload(db, upload_id).await?.ok_or(ServiceError::NotFound)?;
    let (_, _, json) = plan_with_preview(db, street, &up.filename, up.content).await?;
    roster::set_plan(db, upload_id, &json).await?;
    Ok(json)
}

/// One page (1-based, clamped) of a plan: its errors if it has any, else its rows; with the page shown
/// and the number of pages.
fn page_of(mut plan: PlanPreview, page: usize) -> (PlanPreview, usize, usize) {
    let (total_errors, total_rows) = (plan.errors.len(), plan.rows.len());
    let shown = if total_errors > 0 { total_errors } else { total_rows };
    let pages = shown.div_ceil(PREVIEW_PAGE).max(1);
    let page = page.clamp(1, pages);
    let range = |len: usize| ((page - 1) * PREVIEW_PAGE).min(len)..(page * PREVIEW_PAGE).min(len);
    if total_errors > 0 {
        plan.errors = plan.errors.drain(range(total_errors)).collect();
        plan.rows.clear();
    } else {
        plan.rows = plan.rows.drain(range(total_rows)).collect();
    }
    (plan, page, pages)
}

/// What confirming an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Imported(ImportOutcome),
    /// The street changed since the preview: the new plan is stored and nothing was imported; the
    /// official should look at the preview again.
    PlanChanged,
}

/// Applies a stored upload in one transaction; refuses if any row is bad. The file is planned again
/// inside the transaction, and imported only if that plan is the one the official previewed.
#[tracing::instrument(skip_all, fields(upload = upload_id))]
pub async fn apply_upload(
    db: &DatabaseConnection,
    scope: &StreetScope,
    by: &super::audit::Actor,
    upload_id: i64,
) -> Result<Applied, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let up = roster::get_upload(&txn, upload_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    check_street(&txn, scope, up.street_id).await?;
    let (plan, preview, json) = plan_with_preview(&txn, up.street_id, &up.filename, up.content).await?;
    refuse_errors(&plan)?;
    let seen = match up.plan.as_deref() {
        Some(stored) => {
            let stored = stored.to_string();
            blocking(move || serde_json::from_str::<PlanPreview>(&stored).ok()).await?
        }
        None => None,
    };
    if seen.is_some_and(|seen| seen != preview) {
        roster::set_plan(&txn, up.id, &json).await?;
        txn.commit().await?;
        tracing::info!(upload = up.id, "roster changed since its preview; not imported");
        return Ok(Applied::PlanChanged);
    }
    let outcome = apply_plan(&txn, up.street_id, &plan).await?;
    roster::mark_applied(&txn, up.id).await?;
    let summary = format!(
        "新增 {}，更新 {}，未变 {}",
        outcome.created, outcome.updated, outcome.unchanged
    );
    super::audit::record_in(&txn, by, Action::RosterImport, format!("roster:{}", up.id), summary).await?;
    txn.commit().await?;
    tracing::info!(upload = up.id, street = up.street_id, ?outcome, "roster imported");
    Ok(Applied::Imported(outcome))
}

/// Plans and applies a file in one transaction (the `import-roster` command).
#[tracing::instrument(skip_all, fields(street))]
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
    let plan = plan_file(txn, street, filename, bytes.to_vec()).await?;
    refuse_errors(&plan)?;
    apply_plan(txn, street, &plan).await
}

fn refuse_errors(plan: &RosterPlan) -> Result<(), ServiceError> {
    if plan.errors.is_empty() {
        return Ok(());
    }
    Err(ServiceError::refused(
        format!("文件有{}处错误，没有导入任何数据", plan.errors.len()),
        format!("the file has {} errors; nothing was imported", plan.errors.len()),
    ))
}

async fn apply_plan(txn: &impl ConnectionTrait, street: i64, plan: &RosterPlan) -> Result<ImportOutcome, ServiceError> {
    let mut outcome = ImportOutcome::default();
    for p in &plan.rows {
        match (&p.action, p.existing_id) {
            (RowAction::Unchanged, _) => outcome.unchanged += 1,
            (RowAction::Create, _) => {
                create_chair(txn, street, &p.row).await?;
                outcome.created += 1;
            }
            (RowAction::Update(_), Some(id)) => {
                update_chair(txn, street, id, &p.row).await?;
                outcome.updated += 1;
            }
            (RowAction::Update(_), None) => return Err(ServiceError::Internal("update without a person".into())),
        }
    }
    Ok(outcome)
}

async fn create_chair(txn: &impl ConnectionTrait, street: i64, r: &RosterRow) -> Result<(), ServiceError> {
    let committee = super::org::ensure_committee(txn, street, &r.neighbourhood, &r.estate).await?;
    let person = people::NewPerson {
        name: &r.name,
        phone: &r.phone,
        email: r.email.as_ref(),
        password_hash: None,
        committee_id: Some(committee),
        position: Some(&r.position),
    };
    let id = people::insert(txn, person).await?;
    people::add_role(txn, id, Role::Chair).await?;
    Ok(())
}

/// Brings a known person up to the roster's line; an email the roster leaves empty is kept.
async fn update_chair(txn: &impl ConnectionTrait, street: i64, id: i64, r: &RosterRow) -> Result<(), ServiceError> {
    let committee = super::org::ensure_committee(txn, street, &r.neighbourhood, &r.estate).await?;
    let current = people::get(txn, id).await?.ok_or(ServiceError::NotFound)?;
    let email = r.email.clone().or(current.email);
    let update = people::PersonUpdate {
        name: &r.name,
        email: email.as_ref(),
        committee_id: Some(committee),
        position: Some(&r.position),
    };
    people::update(txn, id, update).await?;
    people::add_role(txn, id, Role::Chair).await?;
    Ok(())
}
