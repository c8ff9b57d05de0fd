//! Roster rows (the chairs of a street as offices keep them in Excel) and the import plan.
//!
//! Planning is pure: given the parsed rows and a snapshot of what the database already holds for the
//! street, it decides per row whether to create, update or leave a person, and collects every bad row
//! with its line number. The service applies a plan only when it has no errors.

use std::collections::{BTreeSet, HashMap};

use crate::i18n::Text;

use super::contact::{EmailAddress, PhoneNumber};
use super::person::DisplayName;

/// The columns, in the Chinese spelling of the template (English accepted too).
pub const COLUMNS: [(&str, &str, bool); 6] = [
    ("姓名", "name", true),
    ("手机号", "phone", true),
    ("邮箱", "email", false),
    ("居委", "neighbourhood", true),
    ("小区", "estate", true),
    ("职务", "position", true),
];

/// One data row of a file, before validation: 1-based line number in the file and the cells by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    pub line: usize,
    pub cells: HashMap<&'static str, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub line: usize,
    pub name: DisplayName,
    pub phone: PhoneNumber,
    pub email: Option<EmailAddress>,
    pub neighbourhood: String,
    pub estate: String,
    pub position: String,
}

/// A problem with the file, located by line (0 for the file as a whole) and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: Option<&'static str>,
    pub message: Text,
}

impl RowError {
    fn new(line: usize, column: Option<&'static str>, zh: impl Into<String>, en: impl Into<String>) -> RowError {
        RowError {
            line,
            column,
            message: Text::new(zh, en),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}: {}: {}", self.line, c, self.message.en),
            None => write!(f, "{}: {}", self.line, self.message.en),
        }
    }
}

/// Maps header cells to known columns; unknown headers are errors (a typo would silently drop data).
pub fn map_header(line: usize, header: &[String]) -> Result<Vec<Option<&'static str>>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let mut mapping = Vec::with_capacity(header.len());
    for cell in header {
        let h = cell.trim().trim_start_matches('\u{feff}');
        if h.is_empty() {
            mapping.push(None);
            continue;
        }
        match column(h) {
            Some(zh) => {
                if !seen.insert(zh) {
                    errors.push(RowError::new(
                        line,
                        Some(zh),
                        format!("表头“{zh}”出现了两次"),
                        format!("column “{zh}” appears twice"),
                    ));
                }
                mapping.push(Some(zh));
            }
            None => errors.push(RowError::new(
                line,
                None,
                format!("不认识的表头“{h}”，应为：姓名、手机号、邮箱、居委、小区、职务"),
                format!("unknown column “{h}”; expected 姓名, 手机号, 邮箱, 居委, 小区, 职务"),
            )),
        }
    }
    errors.extend(missing_columns(line, &seen));
    if errors.is_empty() { Ok(mapping) } else { Err(errors) }
}

/// The column a header names, in either spelling.
fn column(header: &str) -> Option<&'static str> {
    COLUMNS
        .iter()
        .find(|(zh, en, _)| *zh == header || en.eq_ignore_ascii_case(header))
        .map(|(zh, _, _)| *zh)
}

fn missing_columns(line: usize, seen: &BTreeSet<&'static str>) -> Vec<RowError> {
    (COLUMNS.iter())
        .filter(|(zh, _, required)| *required && !seen.contains(zh))
        .map(|(zh, _, _)| {
            RowError::new(
                line,
                Some(zh),
                format!("缺少必需的列“{zh}”"),
                format!("the required column “{zh}” is missing"),
            )
        })
        .collect()
}

fn required(row: &RawRow, col: &'static str, max: usize, errors: &mut Vec<RowError>) -> Option<String> {
    let v = row.cells.get(col).map(|s| s.trim()).unwrap_or("");
    let err = |zh: String, en: String| RowError::new(row.line, Some(col), zh, en);
    if v.is_empty() {
        errors.push(err(format!("“{col}”不能为空"), format!("“{col}” is empty")));
        None
    } else if v.chars().count() > max {
        errors.push(err(
            format!("“{col}”不能超过{max}个字"),
            format!("“{col}” is longer than {max} characters"),
        ));
        None
    } else {
        Some(v.to_string())
    }
}

impl RosterRow {
    /// Validates one row, reporting every problem in it.
    pub fn parse(row: &RawRow) -> Result<RosterRow, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut at = |col: &'static str, message: Text| {
            errors.push(RowError {
                line: row.line,
                column: Some(col),
                message,
            })
        };
        let name = DisplayName::parse(cell(row, "姓名")).map_err(|m| at("姓名", m)).ok();
        let phone = PhoneNumber::parse(cell(row, "手机号"))
            .map_err(|e| at("手机号", e.reason))
            .ok();
        // An empty email cell is no email; a filled one must be an address.
        let email = match row.cells.get("邮箱").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(s) => EmailAddress::parse(s).map(Some).map_err(|e| at("邮箱", e.reason)).ok(),
        };
        let neighbourhood = required(row, "居委", 100, &mut errors);
        let estate = required(row, "小区", 100, &mut errors);
        let position = required(row, "职务", 20, &mut errors);
        match (name, phone, email, neighbourhood, estate, position) {
            (Some(name), Some(phone), Some(email), Some(neighbourhood), Some(estate), Some(position))
                if errors.is_empty() =>
            {
                Ok(RosterRow {
                    line: row.line,
                    name,
                    phone,
                    email,
                    neighbourhood,
                    estate,
                    position,
                })
            }
            _ => Err(errors),
        }
    }
}

fn cell<'r>(row: &'r RawRow, col: &str) -> &'r str {
    row.cells.get(col).map(String::as_str).unwrap_or("")
}

/// What the database holds about a person already registered under the same phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPerson {
    pub person_id: i64,
    pub name: String,
    pub email: Option<String>,
    /// The street, 居委 and 小区 of their committee, if they belong to one.
    pub street_id: Option<i64>,
    pub neighbourhood: Option<String>,
    pub estate: Option<String>,
    pub position: Option<String>,
    pub is_chair: bool,
}

/// The database snapshot the planner needs.
#[derive(Debug, Default)]
pub struct RosterSnapshot {
    pub street_id: i64,
    /// Keyed by phone number.
    pub people: HashMap<String, ExistingPerson>,
    /// Email address → the phone number of the person who has it.
    pub email_owners: HashMap<String, String>,
    /// (居委, 小区) pairs that already exist in the street, and 居委 names.
    pub estates: BTreeSet<(String, String)>,
    pub neighbourhoods: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    Create,
    /// The fields that change, as (column, old, new).
    Update(Vec<(&'static str, String, String)>),
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRow {
    pub row: RosterRow,
    pub action: RowAction,
    pub existing_id: Option<i64>,
}

#[derive(Debug, Default)]
pub struct RosterPlan {
    pub rows: Vec<PlannedRow>,
    pub errors: Vec<RowError>,
    pub new_neighbourhoods: BTreeSet<String>,
    pub new_estates: BTreeSet<(String, String)>,
}

impl RosterPlan {
    pub fn count(&self, pred: impl Fn(&RowAction) -> bool) -> usize {
        self.rows.iter().filter(|r| pred(&r.action)).count()
    }

    pub fn changes_anything(&self) -> bool {
        !self.new_neighbourhoods.is_empty()
            || !self.new_estates.is_empty()
            || self.rows.iter().any(|r| r.action != RowAction::Unchanged)
    }
}

/// What the preview shows of a plan, kept with the upload so that it is planned once, not at every
/// page view. Plain data (no domain newtypes) so it can be stored as JSON and compared: applying
/// plans again and refuses if the result differs from what the official saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PlanPreview {
    pub errors: Vec<PreviewError>,
    pub rows: Vec<PreviewRow>,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub new_neighbourhoods: Vec<String>,
    pub new_estates: Vec<String>,
    pub changes_anything: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviewError {
    pub line: usize,
    pub column: Option<String>,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PreviewRow {
    pub line: usize,
    pub name: String,
    pub neighbourhood: String,
    pub estate: String,
    pub action: PreviewAction,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PreviewAction {
    Create,
    /// (column, old, new) per changed field.
    Update(Vec<(String, String, String)>),
    Unchanged,
}

impl From<&RosterPlan> for PlanPreview {
    fn from(p: &RosterPlan) -> PlanPreview {
        PlanPreview {
            errors: p.errors.iter().map(PreviewError::from).collect(),
            rows: p.rows.iter().map(PreviewRow::from).collect(),
            created: p.count(|a| *a == RowAction::Create),
            updated: p.count(|a| matches!(a, RowAction::Update(_))),
            unchanged: p.count(|a| *a == RowAction::Unchanged),
            new_neighbourhoods: p.new_neighbourhoods.iter().cloned().collect(),
            new_estates: p.new_estates.iter().map(|(_, e)| e.clone()).collect(),
            changes_anything: p.changes_anything(),
        }
    }
}

impl From<&RowError> for PreviewError {
    fn from(e: &RowError) -> PreviewError {
        PreviewError {
            line: e.line,
            column: e.column.map(str::to_string),
            zh: e.message.zh.clone(),
            en: e.message.en.clone(),
        }
    }
}

impl From<&PlannedRow> for PreviewRow {
    fn from(r: &PlannedRow) -> PreviewRow {
        PreviewRow {
            line: r.row.line,
            name: r.row.name.as_str().to_string(),
            neighbourhood: r.row.neighbourhood.clone(),
            estate: r.row.estate.clone(),
            action: PreviewAction::from(&r.action),
        }
    }
}

impl From<&RowAction> for PreviewAction {
    fn from(a: &RowAction) -> PreviewAction {
        match a {
            RowAction::Create => PreviewAction::Create,
            RowAction::Unchanged => PreviewAction::Unchanged,
            RowAction::Update(c) => PreviewAction::Update(
                c.iter()
                    .map(|(col, old, new)| (col.to_string(), old.clone(), new.clone()))
                    .collect(),
            ),
        }
    }
}

/// Decides what importing these rows would do. `rows` are the raw data rows; `file_errors` are problems
/// already found while reading the file (they are kept in the plan's error list).
pub fn plan(rows: &[RawRow], file_errors: Vec<RowError>, snapshot: &RosterSnapshot) -> RosterPlan {
    let mut planner = Planner {
        snapshot,
        plan: RosterPlan {
            errors: file_errors,
            ..RosterPlan::default()
        },
        phones_seen: HashMap::new(),
        emails_seen: HashMap::new(),
    };
    if rows.is_empty() && planner.plan.errors.is_empty() {
        planner
            .plan
            .errors
            .push(RowError::new(0, None, "文件中没有数据行", "the file has no data rows"));
    }
    for raw in rows {
        planner.add(raw);
    }
    planner.plan.errors.sort_by_key(|e| e.line);
    planner.plan
}

/// The plan so far, and the phone numbers and emails of the rows before (by line).
struct Planner<'s> {
    snapshot: &'s RosterSnapshot,
    plan: RosterPlan,
    phones_seen: HashMap<String, usize>,
    emails_seen: HashMap<String, usize>,
}

impl Planner<'_> {
    fn add(&mut self, raw: &RawRow) {
        let row = match RosterRow::parse(raw) {
            Ok(r) => r,
            Err(errs) => return self.plan.errors.extend(errs),
        };
        if let Some(e) = self.conflict(&row) {
            return self.plan.errors.push(e);
        }
        if !self.snapshot.neighbourhoods.contains(&row.neighbourhood) {
            self.plan.new_neighbourhoods.insert(row.neighbourhood.clone());
        }
        let estate_key = (row.neighbourhood.clone(), row.estate.clone());
        if !self.snapshot.estates.contains(&estate_key) {
            self.plan.new_estates.insert(estate_key);
        }
        let existing = self.snapshot.people.get(row.phone.as_str());
        let action = existing.map_or(RowAction::Create, |p| action(p, &row));
        self.plan.rows.push(PlannedRow {
            row,
            action,
            existing_id: existing.map(|p| p.person_id),
        });
    }

    /// Why a row cannot be imported beside the rows before it and the people already registered.
    fn conflict(&mut self, row: &RosterRow) -> Option<RowError> {
        self.repeated(row).or_else(|| self.taken(row))
    }

    /// A phone number or email that an earlier row of the file has.
    fn repeated(&mut self, row: &RosterRow) -> Option<RowError> {
        if let Some(first) = self.phones_seen.insert(row.phone.as_str().to_string(), row.line) {
            return Some(RowError::new(
                row.line,
                Some("手机号"),
                format!("手机号与第{first}行重复"),
                format!("same mobile number as line {first}"),
            ));
        }
        let email = row.email.as_ref()?;
        let first = self.emails_seen.insert(email.as_str().to_string(), row.line)?;
        Some(RowError::new(
            row.line,
            Some("邮箱"),
            format!("邮箱与第{first}行重复"),
            format!("same email as line {first}"),
        ))
    }

    /// An email of another account, or a person registered with another street.
    fn taken(&self, row: &RosterRow) -> Option<RowError> {
        if let Some(email) = &row.email
            && let Some(owner) = self.snapshot.email_owners.get(email.as_str())
            && owner != row.phone.as_str()
        {
            return Some(RowError::new(
                row.line,
                Some("邮箱"),
                "该邮箱已被另一个账号使用",
                "this email already belongs to another account",
            ));
        }
        let other_street = self.snapshot.people.get(row.phone.as_str())?.street_id?;
        (other_street != self.snapshot.street_id).then(|| {
            RowError::new(
                row.line,
                Some("手机号"),
                "该手机号已登记在其他街道的业委会，请联系管理员",
                "this mobile number is registered with a committee in another street; ask an administrator",
            )
        })
    }
}

/// What importing a row does to the person already registered under its phone number.
fn action(p: &ExistingPerson, row: &RosterRow) -> RowAction {
    let mut changes = Vec::new();
    let mut diff = |col: &'static str, old: Option<&str>, new: Option<&str>| {
        if old != new {
            changes.push((col, old.unwrap_or("").to_string(), new.unwrap_or("").to_string()));
        }
    };
    diff("姓名", Some(&p.name), Some(row.name.as_str()));
    // An empty email cell keeps the address the person already gave: the roster is often
    // older than what a chair entered on their account page.
    if let Some(e) = &row.email {
        diff("邮箱", p.email.as_deref(), Some(e.as_str()));
    }
    diff("居委", p.neighbourhood.as_deref(), Some(&row.neighbourhood));
    diff("小区", p.estate.as_deref(), Some(&row.estate));
    diff("职务", p.position.as_deref(), Some(&row.position));
    if !p.is_chair {
        changes.push(("角色", String::new(), "业委会主任/委员".into()));
    }
    if changes.is_empty() {
        RowAction::Unchanged
    } else {
        RowAction::Update(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(line: usize, cells: &[(&'static str, &str)]) -> RawRow {
        RawRow {
            line,
            cells: cells.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    fn good(line: usize, name: &str, phone: &str) -> RawRow {
        raw(
            line,
            &[
                ("姓名", name),
                ("手机号", phone),
                ("居委", "一居"),
                ("小区", "花园"),
                ("职务", "主任"),
            ],
        )
    }

    #[test]
    fn header_mapping_reports_unknown_and_missing() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(map_header(1, &h(&["姓名", "手机号", "邮箱", "居委", "小区", "职务"])).is_ok());
        let errs = map_header(1, &h(&["姓名", "电话", "居委", "小区", "职务"])).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    #[test]
    fn plan_creates_then_reports_duplicates_and_bad_rows() {
        let snap = RosterSnapshot {
            street_id: 1,
            ..Default::default()
        };
        let rows = vec![
            good(2, "张三", "13800000001"),
            good(3, "李四", "13800000001"),
            raw(
                4,
                &[
                    ("姓名", ""),
                    ("手机号", "123"),
                    ("居委", "一居"),
                    ("小区", "花园"),
                    ("职务", "主任"),
                ],
            ),
        ];
        let p = plan(&rows, vec![], &snap);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].action, RowAction::Create);
        let lines: Vec<_> = p.errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(lines, vec![(3, Some("手机号")), (4, Some("姓名")), (4, Some("手机号"))]);
        assert!(p.new_estates.contains(&("一居".into(), "花园".into())));
    }

    #[test]
    fn plan_detects_unchanged_and_updates() {
        let mut snap = RosterSnapshot {
            street_id: 1,
            ..Default::default()
        };
        snap.neighbourhoods.insert("一居".into());
        snap.estates.insert(("一居".into(), "花园".into()));
        snap.people.insert(
            "13800000001".into(),
            ExistingPerson {
                person_id: 7,
                name: "张三".into(),
                email: None,
                street_id: Some(1),
                neighbourhood: Some("一居".into()),
                estate: Some("花园".into()),
                position: Some("主任".into()),
                is_chair: true,
            },
        );
        let p = plan(&[good(2, "张三", "13800000001")], vec![], &snap);
        assert_eq!(p.rows[0].action, RowAction::Unchanged);
        assert!(!p.changes_anything());
        let p = plan(&[good(2, "张叁", "13800000001")], vec![], &snap);
        assert!(matches!(&p.rows[0].action, RowAction::Update(c) if c.len() == 1));
    }

    #[test]
    fn plan_refuses_people_of_other_streets() {
        let mut snap = RosterSnapshot {
            street_id: 1,
            ..Default::default()
        };
        snap.people.insert(
            "13800000001".into(),
            ExistingPerson {
                person_id: 7,
                name: "张三".into(),
                email: None,
                street_id: Some(2),
                neighbourhood: None,
                estate: None,
                position: None,
                is_chair: true,
            },
        );
        let p = plan(&[good(2, "张三", "13800000001")], vec![], &snap);
        assert_eq!(p.errors.len(), 1);
        assert!(p.rows.is_empty());
    }
}
