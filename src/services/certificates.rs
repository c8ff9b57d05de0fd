//! Certificates: issued in the transaction that records a passing result (with their email job), the
//! PDF, public verification, revocation, resending, and the outbox worker's one step.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::ServiceError;
use crate::db::certificates::{self as db, CertificateRecord, EmailJob, JobStatus, Outcome};
use crate::db::{org, people, quiz as quiz_db, training};
use crate::domain::attempt::PassedAttempt;
use crate::domain::certificate::{CertificateContent, give_up, new_verification_code, retry_delay, serial};
use crate::domain::time::to_shanghai;
use crate::email::{Mailer, OutgoingEmail, SendError};
use crate::pdf::{self, PdfError};

/// Issues the certificate of a passed attempt inside the caller's transaction, and queues its email
/// when the chair has an address. Only a recorded pass can ask (`PassedAttempt`).
pub async fn issue_in(txn: &impl ConnectionTrait, attempt: &PassedAttempt) -> Result<i64, ServiceError> {
    let quiz = quiz_db::get(txn, attempt.quiz_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let session = training::get(txn, quiz.session_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let person = people::get(txn, attempt.person_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (committee, estate) = match person.committee_id {
        Some(c) => {
            let path = org::path(txn, c).await?;
            let name = |i: usize| path.iter().rev().nth(i).map(|u| u.name.clone()).unwrap_or_default();
            (name(0), name(1))
        }
        None => (String::new(), String::new()),
    };
    let street = org::get(txn, session.street_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_default();
    let lecturers = people::get_many(txn, &session.lecturers)
        .await?
        .into_iter()
        .map(|p| p.name.as_str().to_string())
        .collect();
    let date = |t: chrono::DateTime<Utc>| to_shanghai(t).format("%Y年%m月%d日").to_string();
    let content = CertificateContent {
        name: person.name.as_str().to_string(),
        committee,
        estate,
        session_title: session.title.clone(),
        session_date: date(session.started_at.unwrap_or(session.starts_at)),
        lecturers,
        correct: attempt.correct,
        total: attempt.total,
        street,
        issued_on: date(Utc::now()),
    };
    let code = new_verification_code();
    // The row id makes the serial unique without a counter that concurrent issuance would fight over.
    let placeholder = format!("pending-{code}");
    let id = db::insert(
        txn,
        db::NewCertificate {
            attempt_id: attempt.id,
            person_id: person.id,
            session_id: session.id,
            street_id: session.street_id,
            serial: &placeholder,
            code: &code,
            content: &content,
        },
    )
    .await?;
    let year = to_shanghai(Utc::now()).format("%Y").to_string().parse().unwrap_or(2026);
    db::set_serial(txn, id, &serial(year, session.street_id, id as u64)).await?;
    if let Some(email) = &person.email {
        db::enqueue(txn, id, email.as_str(), &format!("cert-{id}-{}", code.to_lowercase())).await?;
    }
    tracing::info!(
        certificate = id,
        attempt = attempt.id,
        person = person.id,
        "certificate issued"
    );
    Ok(id)
}

/// The public verification URL printed in the QR code.
pub fn verify_url(public_url: &str, code: &str) -> String {
    format!("{public_url}/verify/{code}")
}

pub fn render(c: &CertificateRecord, public_url: &str) -> Result<Vec<u8>, PdfError> {
    pdf::render(&c.content, &c.serial, &c.code, &verify_url(public_url, &c.code))
}

/// Renders off the async threads: subsetting a CJK font is CPU work.
pub async fn render_async(c: CertificateRecord, public_url: String) -> Result<Result<Vec<u8>, PdfError>, ServiceError> {
    tokio::task::spawn_blocking(move || render(&c, &public_url))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Looks a certificate up by its verification code (what the QR link carries), and when a serial is given
/// too, only if both belong to the same certificate. Serials are sequential, so a serial alone would let
/// anyone list every certificate; "no such serial" and "wrong code" give the same `None` (no oracle).
pub async fn find(
    db: &impl ConnectionTrait,
    serial: &str,
    code: &str,
) -> Result<Option<CertificateRecord>, ServiceError> {
    let code = crate::domain::certificate::normalise_code(code);
    if code.is_empty() {
        return Ok(None);
    }
    let serial = crate::domain::certificate::normalise_code(serial);
    Ok(db::by_code(db, &code)
        .await?
        .filter(|c| serial.is_empty() || c.serial.eq_ignore_ascii_case(&serial)))
}

#[tracing::instrument(skip_all, fields(certificate = id, by))]
pub async fn revoke(db: &impl ConnectionTrait, id: i64, reason: &str, by: i64) -> Result<(), ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::refused("请填写撤销原因", "give a reason for revoking"));
    }
    db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !db::revoke(db, id, reason, by).await? {
        return Err(ServiceError::refused(
            "该证书已经撤销",
            "the certificate is already revoked",
        ));
    }
    tracing::info!(certificate = id, by, "certificate revoked");
    Ok(())
}

/// Email status of a certificate, as officials see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailStatus {
    Pending,
    Sent,
    Failed,
    NoEmail,
}

impl EmailStatus {
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            EmailStatus::Pending => lang.t("待发送", "Pending"),
            EmailStatus::Sent => lang.t("已发送", "Sent"),
            EmailStatus::Failed => lang.t("失败", "Failed"),
            EmailStatus::NoEmail => lang.t("无邮箱", "No email"),
        }
    }
}

pub fn status_of(job: Option<&EmailJob>) -> EmailStatus {
    match job.map(|j| j.status) {
        None => EmailStatus::NoEmail,
        Some(JobStatus::Sent) => EmailStatus::Sent,
        Some(JobStatus::Failed) => EmailStatus::Failed,
        Some(_) => EmailStatus::Pending,
    }
}

/// Sends a certificate again: its job goes back to the queue (or one is created if the chair has
/// added an email address since).
#[tracing::instrument(skip_all, fields(certificate = id))]
pub async fn resend(db: &impl ConnectionTrait, id: i64) -> Result<(), ServiceError> {
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    match db::jobs_for_certificates(db, &[id]).await?.into_iter().last() {
        Some(job) => db::requeue(db, job.id).await?,
        None => {
            let person = people::get(db, c.person_id).await?.ok_or(ServiceError::NotFound)?;
            let email = person
                .email
                .ok_or_else(|| ServiceError::refused("该主任没有登记邮箱", "this chair has no email address"))?;
            db::enqueue(db, id, email.as_str(), &format!("cert-{id}-{}", c.code.to_lowercase())).await?;
        }
    }
    Ok(())
}

/// What the worker needs besides the database.
#[derive(Clone)]
pub struct Outbox {
    pub mailer: Mailer,
    pub public_url: String,
    pub message_id_domain: String,
    /// Unique per process (leases record who holds a job).
    pub worker: String,
}

fn message(c: &CertificateRecord, job: &EmailJob, o: &Outbox, pdf: Vec<u8>) -> OutgoingEmail {
    let url = verify_url(&o.public_url, &c.code);
    let k = &c.content;
    let text = format!(
        "{} 您好：\n\n恭喜您通过“{}”随堂测试（{}/{}），结业证书见附件（PDF）。\n证书编号：{}\n验证码：{}\n任何人都可以在此核验证书：{}\n\n{}\n业委会学堂",
        k.name, k.session_title, k.correct, k.total, c.serial, c.code, url, k.street
    );
    let html = maud::html! {
        p { (k.name) " 您好：" }
        p { "恭喜您通过“" (k.session_title) "”随堂测试（" (k.correct) "/" (k.total) "），结业证书见附件（PDF）。" }
        p { "证书编号：" strong { (c.serial) } br; "验证码：" strong { (c.code) } }
        p { "任何人都可以在此核验证书：" a href=(url) { (url) } }
        p { (k.street) br; "业委会学堂" }
    };
    OutgoingEmail {
        to: job.to.clone(),
        to_name: k.name.clone(),
        subject: format!("【业委会学堂】您的结业证书（{}）", c.serial),
        text,
        html: html.into_string(),
        attachment: Some((format!("结业证书-{}.pdf", c.serial), pdf)),
        message_id: format!("<{}@{}>", job.message_id, o.message_id_domain),
    }
}

/// One step of the outbox worker: claims due jobs one by one and sends them. Returns how many were
/// sent. Failures are retried with growing delays; after a day a job is marked failed.
///
/// Delivery is *at least once*, with a stable Message-ID. Every attempt is recorded as `sending` before
/// the message is handed to the mail server and closed afterwards. A process that dies in between (say
/// during SMTP DATA, after the server may already have the message) leaves the job leased and the
/// attempt `sending`; once the lease runs out another worker reclaims the job, marks that attempt
/// interrupted and sends again with the same Message-ID, so the recipient's mail system can recognise
/// the copy. Exactly-once is impossible without the server's help: it may have accepted the message
/// just before the process died.
pub async fn send_due(db: &DatabaseConnection, o: &Outbox, limit: u64) -> Result<usize, ServiceError> {
    let mut sent = 0;
    let now = Utc::now();
    for id in db::due(db, now, limit).await? {
        // The lease outlives any single send; a worker that dies leaves the job to be reclaimed.
        if !db::claim(db, id, &o.worker, Utc::now(), Utc::now() + Duration::minutes(5)).await? {
            continue;
        }
        let Some(job) = db::job(db, id).await? else { continue };
        if db::mark_interrupted(db, id).await? > 0 {
            tracing::warn!(
                job = id,
                "an earlier send of this email was interrupted; sending again with the same Message-ID"
            );
        }
        let cert = db::get(db, job.certificate_id).await?.ok_or(ServiceError::NotFound)?;
        let attempt = db::start_attempt(db, id, &o.worker).await?;
        let outcome: Result<(), (bool, String)> = match render_async(cert.clone(), o.public_url.clone()).await? {
            Err(e) => Err((true, e.to_string())),
            Ok(pdf) => o
                .mailer
                .send(&message(&cert, &job, o, pdf))
                .await
                .map_err(|e| (matches!(e, SendError::Permanent(_)), e.to_string())),
        };
        match outcome {
            Ok(()) => {
                db::end_attempt(db, attempt, None).await?;
                db::finish(db, id, &o.worker, Outcome::Sent).await?;
                sent += 1;
            }
            Err((permanent, error)) => {
                db::end_attempt(db, attempt, Some(&error)).await?;
                let attempts = job.attempts as u32 + 1;
                let next = Utc::now() + retry_delay(attempts);
                if permanent || give_up(job.created_at, next) {
                    tracing::warn!(job = id, %error, "email failed for good");
                    db::finish(db, id, &o.worker, Outcome::Failed { error: &error }).await?;
                } else {
                    tracing::info!(job = id, attempts, %error, "email failed; will retry");
                    db::finish(
                        db,
                        id,
                        &o.worker,
                        Outcome::Retry {
                            at: next,
                            error: &error,
                        },
                    )
                    .await?;
                }
            }
        }
    }
    Ok(sent)
}
