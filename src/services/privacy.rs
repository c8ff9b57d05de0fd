//! Personal information (issue 20): the notice each person accepts before using Quorum, and her own
//! data — what Quorum holds about her, shown on a page and downloadable as one JSON file (PIPL art. 45).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;

use super::ServiceError;
use super::accounts::CurrentUser;
use super::home::{Training, own_trainings};
use crate::db::{audit as audit_db, banks, certificates as certificates_db, org, people, quiz as quiz_db, sessions};
use crate::domain::privacy::NOTICE_VERSION;
use crate::domain::question::{Answer, letter};
use crate::domain::quiz::Given;

/// She accepts the notice in force; recorded with when and from where.
pub async fn accept_notice(db: &impl ConnectionTrait, user: &CurrentUser) -> Result<(), ServiceError> {
    people::accept_notice(db, user.person.id, NOTICE_VERSION, &user.address).await?;
    tracing::info!(
        person = user.person.id,
        version = NOTICE_VERSION,
        "privacy notice accepted"
    );
    Ok(())
}

/// Everything Quorum holds about one person, as she may read and download it.
#[derive(Debug, Clone, Serialize)]
pub struct MyData {
    pub exported_at: DateTime<Utc>,
    pub profile: Profile,
    pub notice_acceptances: Vec<Acceptance>,
    pub trainings: Vec<TrainingData>,
    pub attempts: Vec<AttemptData>,
    pub certificates: Vec<CertificateData>,
    pub chat: Vec<ChatData>,
    pub signins: Vec<SigninData>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub mobile: String,
    pub email: Option<String>,
    pub committee: Option<String>,
    pub position: Option<String>,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    pub version: u32,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainingData {
    pub session: String,
    pub starts_at: DateTime<Utc>,
    /// Minutes present, live and on replay together; of them live.
    pub minutes: Option<i64>,
    pub live_minutes: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptData {
    pub session: String,
    pub number: i32,
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub correct: Option<i32>,
    pub total: i32,
    pub passed: Option<bool>,
    pub makeup: bool,
    pub answers: Vec<AnswerData>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerData {
    pub question: String,
    pub options: Vec<String>,
    /// Her answer: option letters in the question's own order, or 对/错.
    pub answer: Option<String>,
    pub correct: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateData {
    pub serial: String,
    pub session: String,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatData {
    pub session: String,
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SigninData {
    pub at: DateTime<Utc>,
    pub event: String,
    pub method: String,
    pub address: String,
}

fn given_text(g: &Given) -> String {
    match g {
        Given::Choices(c) => c.iter().map(|i| letter(*i)).collect(),
        Given::Truth(t) => if *t { "对" } else { "错" }.to_string(),
    }
}

/// Her data, read in a bounded number of queries per kind.
pub async fn my_data(db: &impl ConnectionTrait, user: &CurrentUser) -> Result<MyData, ServiceError> {
    let p = &user.person;
    let committee = match p.committee_id {
        Some(c) => org::get(db, c).await?.map(|u| u.name),
        None => None,
    };
    let trainings: Vec<Training> = own_trainings(db, p).await?;
    let mut titles: HashMap<i64, String> = trainings
        .iter()
        .map(|t| (t.session.id, t.session.title.clone()))
        .collect();
    let attempts = quiz_db::attempts_by_person(db, p.id).await?;
    let items = quiz_db::items_of_attempts(db, &attempts.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    let version_ids: Vec<i64> = items.values().flatten().map(|i| i.version_id).collect();
    let versions: HashMap<i64, _> = banks::versions(db, &version_ids)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut quiz_sessions: HashMap<i64, i64> = HashMap::new();
    for q in attempts.iter().map(|a| a.quiz_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = quiz_sessions.entry(q)
            && let Some(quiz) = quiz_db::get(db, q).await?
        {
            e.insert(quiz.session_id);
        }
    }
    let chat = sessions::chat_of_person(db, p.id).await?;
    let certificates = certificates_db::for_person(db, p.id).await?;
    let mut session_ids: Vec<i64> = quiz_sessions.values().copied().collect();
    session_ids.extend(chat.iter().map(|(s, _)| *s));
    session_ids.extend(certificates.iter().map(|c| c.session_id));
    for id in session_ids {
        if let std::collections::hash_map::Entry::Vacant(e) = titles.entry(id)
            && let Some(s) = sessions::get(db, id).await?
        {
            e.insert(s.title);
        }
    }
    let title = |session: i64| titles.get(&session).cloned().unwrap_or_default();
    Ok(MyData {
        exported_at: Utc::now(),
        profile: Profile {
            id: p.id,
            name: p.name.as_str().to_string(),
            mobile: p.phone.as_str().to_string(),
            email: p.email.as_ref().map(|e| e.as_str().to_string()),
            committee,
            position: p.position.clone(),
            roles: p.roles.iter().map(|r| r.code().to_string()).collect(),
        },
        notice_acceptances: people::notice_acceptances(db, p.id)
            .await?
            .into_iter()
            .map(|(version, accepted_at)| Acceptance { version, accepted_at })
            .collect(),
        trainings: trainings
            .iter()
            .map(|t| TrainingData {
                session: t.session.title.clone(),
                starts_at: t.session.starts_at,
                minutes: t.attended.map(|a| a.minutes),
                live_minutes: t.attended.map(|a| a.live_minutes),
            })
            .collect(),
        attempts: attempts
            .iter()
            .map(|a| AttemptData {
                session: quiz_sessions.get(&a.quiz_id).map(|s| title(*s)).unwrap_or_default(),
                number: a.number,
                status: match a.status {
                    crate::domain::attempt::AttemptStatus::Open => "open",
                    crate::domain::attempt::AttemptStatus::Submitted => "submitted",
                }
                .to_string(),
                submitted_at: a.submitted_at,
                correct: a.correct,
                total: a.total,
                passed: a.passed,
                makeup: a.makeup,
                answers: items
                    .get(&a.id)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|i| {
                        let v = versions.get(&i.version_id);
                        AnswerData {
                            question: v.map(|v| v.content.stem.clone()).unwrap_or_default(),
                            options: match v.map(|v| &v.content.answer) {
                                Some(Answer::Choices(_)) => v.map(|v| v.content.options.clone()).unwrap_or_default(),
                                _ => Vec::new(),
                            },
                            answer: i.answer.as_ref().map(given_text),
                            correct: i.correct,
                        }
                    })
                    .collect(),
            })
            .collect(),
        certificates: certificates
            .iter()
            .map(|c| CertificateData {
                serial: c.serial.clone(),
                session: title(c.session_id),
                issued_at: c.issued_at,
                revoked_at: c.revoked_at,
                revoke_reason: c.revoke_reason.clone(),
            })
            .collect(),
        chat: chat
            .into_iter()
            .map(|(s, m)| ChatData {
                session: title(s),
                at: m.created_at,
                text: m.body,
            })
            .collect(),
        signins: audit_db::signin_events(db, Some(p.id), 10_000)
            .await?
            .into_iter()
            .map(|e| SigninData {
                at: e.at,
                event: e.kind,
                method: e.method,
                address: e.address,
            })
            .collect(),
    })
}

/// What erasing a person did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    pub certificates: usize,
    pub chat_messages: u64,
}

/// An admin erases a person's personal information (at her request, PIPL art. 47, or when she leaves
/// office), with the reason, in one transaction: her name, number, email, password, staff roles and
/// scopes, notice record, sign-in events, chat texts and her address and number in the email and SMS
/// outboxes are removed; she is signed out everywhere and her sign-in links voided. (Roster files
/// uploaded earlier keep their rows as uploaded; a lawyer's name stays on the versions she wrote.) Her attempts and attendance stay under an anonymous account that
/// keeps her committee, position and chair role, so reports' totals do not change; her certificates
/// stay verifiable with her name masked. She can no longer sign in (no number, password or link).
#[tracing::instrument(skip_all, fields(person = id))]
pub async fn erase_person(
    db: &sea_orm::DatabaseConnection,
    by: &super::audit::Actor,
    id: i64,
    reason: &str,
) -> Result<Erased, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::rejected(
            "reason",
            "请写明删除的原因（本人申请、卸任等）",
            "give the reason (her request, she left office…)",
        ));
    }
    if by.person_id == Some(id) {
        return Err(ServiceError::refused(
            "不能删除自己的账号",
            "you cannot erase your own account",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let p = people::get(&txn, id).await?.ok_or(ServiceError::NotFound)?;
    if p.phone.is_erased() {
        return Err(ServiceError::refused(
            "这个账号已经删除",
            "this account is already erased",
        ));
    }
    let certificates = certificates_db::rename_holder(&txn, id, &p.name.masked()).await?;
    let chat_messages = sessions::erase_chat_of(&txn, id, "（已删除）").await?;
    audit_db::erase_signin_events_of(&txn, id).await?;
    certificates_db::forget_address_of(&txn, id).await?;
    crate::db::sms::forget_phone(&txn, p.phone.as_str()).await?;
    crate::db::web_sessions::delete_all_for(&txn, id, None).await?;
    crate::db::signin::void_links_of(&txn, id).await?;
    people::erase(&txn, id, "已删除用户").await?;
    let summary = format!("删除个人信息：{reason}；证书 {certificates} 张改为遮盖姓名，讨论消息 {chat_messages} 条");
    super::audit::record_in(
        &txn,
        by,
        crate::domain::audit::Action::PersonErase,
        format!("person:{id}"),
        summary,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(person = id, certificates, chat_messages, "person erased");
    Ok(Erased {
        certificates,
        chat_messages,
    })
}

/// What one retention run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    pub attendance: u64,
    pub answers: u64,
    pub chat_messages: u64,
    pub signin_events: u64,
}

/// Deletes what is past its keeping time, and nothing else: attendance after `attendance_days`, the
/// answers of submitted attempts after `answers_days` (their scores stay), chat messages after
/// `chat_days` (0 keeps each), sign-in events after `signin_events_days` (never under six months).
/// Daily.
pub async fn apply_retention(
    db: &impl ConnectionTrait,
    r: &crate::config::RetentionSettings,
    now: DateTime<Utc>,
) -> Result<Retained, ServiceError> {
    let days = |d: u32| chrono::Duration::days(i64::from(d));
    let mut out = Retained::default();
    if r.attendance_days > 0 {
        out.attendance = sessions::delete_attendance_before(db, now - days(r.attendance_days)).await?;
    }
    if r.answers_days > 0 {
        out.answers = quiz_db::clear_answers_before(db, now - days(r.answers_days)).await?;
    }
    if r.chat_days > 0 {
        out.chat_messages = sessions::delete_chat_before(db, now - days(r.chat_days)).await?;
    }
    out.signin_events = audit_db::delete_signin_events_before(db, now - days(r.signin_events_days.max(183))).await?;
    if out != Retained::default() {
        tracing::info!(
            attendance = out.attendance,
            answers = out.answers,
            chat = out.chat_messages,
            signins = out.signin_events,
            "retention applied"
        );
    }
    Ok(out)
}
