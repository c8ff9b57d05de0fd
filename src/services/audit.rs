//! The audit trail (issue 20): every privileged action is recorded, inside the transaction that makes
//! it, with who, what, a summary of the change and the address it came from; sign-in events are kept
//! apart. Admins read, filter and export the trail; `quorum audit check` verifies its chain.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction};

use super::ServiceError;
use crate::db::audit::{self as db, Filter};
use crate::db::people;
use crate::domain::audit::{Action, Broken, Entry, GENESIS, Record, check as check_chain};

pub use crate::db::audit::SigninEvent;

/// Who acted, from where: a signed-in person, or the system (the CLI, background jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person_id: Option<i64>,
    pub address: String,
}

impl Actor {
    /// Run from the command line on the server.
    pub fn console() -> Actor {
        Actor {
            person_id: None,
            address: "console".into(),
        }
    }
}

/// Records a privileged action inside the transaction that performs it: the entry is kept exactly
/// when the action is.
pub async fn record_in(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: Action,
    object: impl Into<String>,
    summary: impl Into<String>,
) -> Result<(), ServiceError> {
    let r = Record {
        actor_id: actor.person_id,
        object: object.into(),
        summary: summary.into(),
        address: actor.address.clone(),
    };
    let e = db::append(txn, action.code(), &r, Utc::now()).await?;
    tracing::info!(seq = e.seq, action = action.code(), object = %r.object, "audited");
    Ok(())
}

/// Runs a use case and records it in one transaction: the entry exists exactly when the action
/// happened. `summary` reads the use case's result (what was created, how many…).
pub async fn audited<T>(
    db: &DatabaseConnection,
    actor: &Actor,
    action: Action,
    object: impl Into<String>,
    op: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, ServiceError>,
    summary: impl FnOnce(&T) -> String,
) -> Result<T, ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    let out = op(&txn).await?;
    record_in(&txn, actor, action, object, summary(&out)).await?;
    txn.commit().await?;
    Ok(out)
}

/// Records an action that has no transaction of its own (a download): in one of its own.
pub async fn record(
    db: &DatabaseConnection,
    actor: &Actor,
    action: Action,
    object: impl Into<String>,
    summary: impl Into<String>,
) -> Result<(), ServiceError> {
    let txn = crate::db::begin_write(db).await?;
    record_in(&txn, actor, action, object, summary).await?;
    txn.commit().await?;
    Ok(())
}

/// Records a sign-in event. A failure to record is logged and does not stop the sign-in: the
/// security record must not lock chairs out.
pub async fn signin_event(db: &impl ConnectionTrait, kind: &str, method: &str, person: Option<i64>, address: &str) {
    if let Err(e) = db::signin_event(db, kind, method, person, address).await {
        tracing::error!(error = %e, kind, method, "recording a sign-in event failed");
    }
}

/// What a chain check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub entries: i64,
    /// The last entry's hash: noted elsewhere (a ticket, a printout), it also shows that nothing was
    /// later rewritten from scratch.
    pub head_hash: String,
}

/// Verifies the chain, page by page, up to the head read first (entries appended meanwhile are for
/// the next check), and that it ends where the head said.
pub async fn check(db: &impl ConnectionTrait) -> Result<Result<Checked, Broken>, ServiceError> {
    let (head_seq, head_hash) = db::head(db).await?;
    let mut at = (0, GENESIS.to_string());
    while at.0 < head_seq {
        let page: Vec<Entry> = db::after(db, at.0, 1000)
            .await?
            .into_iter()
            .filter(|e| e.seq <= head_seq)
            .collect();
        if page.is_empty() {
            break;
        }
        match check_chain(&page, at.clone()) {
            Ok(next) => at = next,
            Err(b) => return Ok(Err(b)),
        }
    }
    if head_seq != at.0 || head_hash != at.1 {
        return Ok(Err(Broken::Truncated {
            head_seq,
            last_seq: at.0,
        }));
    }
    Ok(Ok(Checked {
        entries: at.0,
        head_hash,
    }))
}

/// The admin page: the newest matching entries with their actors' names, and the total.
pub struct AuditPage {
    pub entries: Vec<Entry>,
    pub total: u64,
    pub names: HashMap<i64, String>,
    pub signins: Vec<SigninEvent>,
}

/// At most this many entries on the page (the export has them all).
pub const PAGE: u64 = 200;

/// The admin's filter as typed.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor: Option<i64>,
    pub action: Option<Action>,
    pub object: Option<String>,
}

/// The filter form's fields as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditForm {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub object: String,
}

impl AuditForm {
    /// The query, or each problem at its field.
    pub fn parse(&self) -> Result<AuditQuery, ServiceError> {
        use crate::domain::time::{end_of_shanghai_day, start_of_shanghai_day};
        let mut errors = super::FieldErrors::new();
        let date =
            |v: &str, f: fn(&str) -> Option<DateTime<Utc>>, field: &'static str, errors: &mut super::FieldErrors| {
                if v.trim().is_empty() {
                    return None;
                }
                let d = f(v);
                if d.is_none() {
                    errors.add(field, "日期格式应为 2026-12-03", "use a date like 2026-12-03");
                }
                d
            };
        let from = date(&self.from, start_of_shanghai_day, "from", &mut errors);
        // Entries before the start of the next day (the filter is `<`), so 23:59:59.5 is in.
        let to = date(&self.to, end_of_shanghai_day, "to", &mut errors).map(|t| t + chrono::Duration::seconds(1));
        let actor = match self.actor.trim() {
            "" => None,
            a => match a.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.add("actor", "操作人应填人员编号（数字）", "the actor is a person number");
                    None
                }
            },
        };
        let action = match self.action.trim() {
            "" => None,
            a => match Action::parse(a) {
                Some(a) => Some(a),
                None => {
                    errors.add("action", "没有这种操作", "no such action");
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ServiceError::Rejected(errors));
        }
        Ok(AuditQuery {
            from,
            to,
            actor,
            action,
            object: Some(self.object.trim().to_string()).filter(|o| !o.is_empty()),
        })
    }
}

impl AuditQuery {
    fn filter(&self) -> Filter {
        Filter {
            from: self.from,
            to: self.to,
            actor: self.actor,
            action: self.action.map(|a| a.code().to_string()),
            object: self.object.clone().filter(|o| !o.trim().is_empty()),
        }
    }
}

pub async fn page(db: &impl ConnectionTrait, q: &AuditQuery, limit: u64) -> Result<AuditPage, ServiceError> {
    let (entries, total) = db::find(db, &q.filter(), limit).await?;
    let signins = db::signin_events(db, q.actor, 50).await?;
    let mut ids: Vec<i64> = entries.iter().filter_map(|e| e.record.actor_id).collect();
    ids.extend(signins.iter().filter_map(|s| s.person_id));
    ids.sort_unstable();
    ids.dedup();
    let names = people::get_many(db, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name.as_str().to_string()))
        .collect();
    Ok(AuditPage {
        entries,
        total,
        names,
        signins,
    })
}

/// Most entries one export holds (the newest first); a narrower filter exports older ones.
pub const EXPORT_MAX: u64 = 100_000;

/// The trail as a table, for CSV or XLSX.
pub fn table(lang: crate::i18n::Lang, p: &AuditPage) -> crate::export::Table {
    use crate::export::{Cell, Table};
    let t = |zh: &str, en: &str| lang.t(zh, en).to_string();
    Table {
        title: t("操作记录", "Audit trail"),
        headers: vec![
            t("序号", "Seq"),
            t("时间（北京时间）", "Time (Shanghai)"),
            t("操作人编号", "Actor id"),
            t("操作人", "Actor"),
            t("操作", "Action"),
            t("对象", "Object"),
            t("摘要", "Summary"),
            t("来源地址", "Address"),
            t("哈希", "Hash"),
        ],
        rows: p
            .entries
            .iter()
            .map(|e| {
                let actor = e.record.actor_id;
                vec![
                    Cell::Number(e.seq as f64),
                    Cell::Text(
                        crate::domain::time::to_shanghai(e.at)
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                    ),
                    Cell::Text(actor.map(|a| a.to_string()).unwrap_or_default()),
                    Cell::Text(actor.and_then(|a| p.names.get(&a).cloned()).unwrap_or_default()),
                    Cell::Text(action_label(lang, &e.action)),
                    Cell::Text(e.record.object.clone()),
                    Cell::Text(e.record.summary.clone()),
                    Cell::Text(e.record.address.clone()),
                    Cell::Text(e.hash.clone()),
                ]
            })
            .collect(),
    }
}

/// An action's name, or its stored code when this version does not know it.
pub fn action_label(lang: crate::i18n::Lang, code: &str) -> String {
    Action::parse(code).map_or_else(|| code.to_string(), |a| a.label(lang).to_string())
}
