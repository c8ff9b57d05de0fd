//! Certificates: issued in the transaction that records a passing result (with their email job), the
//! PDF, public verification, revocation, resending, and the outbox worker's one step.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

pub use crate::domain::certificate::EmailStatus;

use super::ServiceError;
use super::access::StreetScope;
use super::accounts::CurrentUser;
use crate::db::certificates::{self as db, EmailJob, JobStatus, MailKind, Outcome};
use crate::db::sessions::SessionRecord;
use crate::db::{org, people, quiz as quiz_db, sessions as sessions_db};
use crate::domain::attempt::PassedAttempt;
use crate::domain::audit::Action;
use crate::domain::certificate::{
    CertificateContent, CertificateRecord, give_up, new_verification_code, normalise_code, retry_delay, serial,
};
use crate::domain::person::Person;
use crate::domain::time::to_shanghai;
use crate::email::{Mailer, OutgoingEmail, SendError};
use crate::pdf::{self, PdfError};

/// What a certificate of `attempt` says: the chair, her committee and estate, the session, its street
/// and lecturers, the score.
async fn content_for(
    txn: &impl ConnectionTrait,
    attempt: &PassedAttempt,
    session: &SessionRecord,
    person: &Person,
) -> Result<CertificateContent, ServiceError> {
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
    let lecturers = people::get_many(txn, &session.lecturers).await?;
    let date = |t: chrono::DateTime<Utc>| to_shanghai(t).format("%Y年%m月%d日").to_string();
    Ok(CertificateContent {
        name: person.name.as_str().to_string(),
        committee,
        estate,
        session_title: session.title.clone(),
        session_date: date(session.started_at.unwrap_or(session.starts_at)),
        lecturers: lecturers.into_iter().map(|p| p.name.as_str().to_string()).collect(),
        correct: attempt.correct,
        total: attempt.total,
        street,
        issued_on: date(Utc::now()),
        via_replay: attempt.makeup,
    })
}

/// Issues the certificate of a passed attempt inside the caller's transaction, and queues its email
/// when the chair has an address. Only a recorded pass can ask (`PassedAttempt`).
pub async fn issue_in(txn: &impl ConnectionTrait, attempt: &PassedAttempt) -> Result<i64, ServiceError> {
    let quiz = quiz_db::get(txn, attempt.quiz_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let session = sessions_db::get(txn, quiz.session_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let person = people::get(txn, attempt.person_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let content = content_for(txn, attempt, &session, &person).await?;
    let code = new_verification_code();
    // The row id makes the serial unique without a counter that concurrent issuance would fight over.
    let placeholder = format!("pending-{code}");
    let certificate = db::NewCertificate {
        attempt_id: attempt.id,
        person_id: person.id,
        session_id: session.id,
        street_id: session.street_id,
        serial: &placeholder,
        code: &code,
        content: &content,
    };
    let id = db::insert(txn, certificate).await?;
    let year = to_shanghai(Utc::now()).format("%Y").to_string().parse().unwrap_or(2026);
    db::set_serial(txn, id, &serial(year, session.street_id, id as u64)).await?;
    if let Some(email) = &person.email {
        db::enqueue(txn, MailKind::Certificate, id, email.as_str(), &message_id(id, &code)).await?;
    }
    tracing::info!(
        certificate = id,
        attempt = attempt.id,
        person = person.id,
        "certificate issued"
    );
    Ok(id)
}

/// The stable Message-ID of a certificate's email (the same for every resend).
fn message_id(id: i64, code: &str) -> String {
    format!("cert-{id}-{}", code.to_lowercase())
}

/// The public verification URL printed in the QR code.
pub fn verify_url(public_url: &str, code: &str) -> String {
    format!("{public_url}/verify/{code}")
}

pub fn render(c: &CertificateRecord, public_url: &str) -> Result<Vec<u8>, PdfError> {
    pdf::render(&c.content, &c.serial, &c.code, &verify_url(public_url, &c.code))
}

/// A certificate's PDF, or why it cannot be drawn.
pub enum Rendered {
    Pdf(Vec<u8>),
    /// The content cannot be printed (a character the font lacks); the reason names it.
    Unprintable(PdfError),
}

/// Renders off the async threads: subsetting a CJK font is CPU work.
pub async fn render_async(c: CertificateRecord, public_url: String) -> Result<Rendered, ServiceError> {
    let rendered = tokio::task::spawn_blocking(move || render(&c, &public_url))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(rendered.map_or_else(Rendered::Unprintable, Rendered::Pdf))
}

/// The holder, officials of the issuing street, and admins may see a certificate's PDF.
fn may_see(user: &CurrentUser, c: &CertificateRecord) -> bool {
    c.person_id == user.person.id || StreetScope::of(user).allows(c.street_id)
}

/// A certificate's PDF for someone allowed to see it, with its serial (for the file name).
pub async fn pdf(
    db: &impl ConnectionTrait,
    viewer: &CurrentUser,
    id: i64,
    public_url: String,
) -> Result<(String, Rendered), ServiceError> {
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !may_see(viewer, &c) {
        return Err(ServiceError::Forbidden);
    }
    let serial = c.serial.clone();
    Ok((serial, render_async(c, public_url).await?))
}

/// A certificate as a PNG picture, for whoever may see its PDF: WeChat on Android neither shows nor
/// downloads PDFs, but it shows and saves pictures.
pub async fn png(
    db: &impl ConnectionTrait,
    viewer: &CurrentUser,
    id: i64,
    public_url: String,
) -> Result<(String, Vec<u8>), ServiceError> {
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !may_see(viewer, &c) {
        return Err(ServiceError::Forbidden);
    }
    let serial = c.serial.clone();
    let bytes = tokio::task::spawn_blocking(move || picture(&c, &verify_url(&public_url, &c.code)))
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))??;
    Ok((serial, bytes))
}

/// A certificate for its page (the HTML page that shows the picture, for WeChat), for whoever may see
/// its PDF.
pub async fn page(db: &impl ConnectionTrait, viewer: &CurrentUser, id: i64) -> Result<CertificateRecord, ServiceError> {
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !may_see(viewer, &c) {
        return Err(ServiceError::Forbidden);
    }
    Ok(c)
}

/// The certificate drawn plainly: a double frame, the title, her name and committee, the session, the
/// score, the issuer and date, the serial and the verification QR code.
fn picture(c: &CertificateRecord, verify: &str) -> Result<Vec<u8>, crate::raster::RasterError> {
    use crate::raster::{Align, Canvas, Rgb};
    let t = &c.content;
    let (w, h) = (1200.0f32, 1600.0f32);
    let (red, gold) = (Rgb(166, 35, 35), Rgb(160, 120, 40));
    let mid = Align::Centre(w / 2.0);
    let mut p = Canvas::new(w as u32, h as u32, Rgb(253, 250, 243))?;
    p.frame(30.0, 30.0, w - 60.0, h - 60.0, 8.0, gold);
    p.frame(56.0, 56.0, w - 112.0, h - 112.0, 2.0, gold);
    p.text("结业证书", 96.0, mid, 250.0, red)?;
    p.text(&t.name, 72.0, mid, 420.0, Rgb::INK)?;
    let unit = format!("{} {}", t.estate, t.committee);
    p.paragraph(unit.trim(), 38.0, mid, 500.0, 52.0, w - 200.0, 2, Rgb::INK)?;
    let attended = format!("于{}参加培训", t.session_date);
    p.text(&attended, 40.0, mid, 640.0, Rgb::INK)?;
    let after = p.paragraph(
        &format!("《{}》", t.session_title),
        46.0,
        mid,
        720.0,
        62.0,
        w - 200.0,
        2,
        Rgb::INK,
    )?;
    let score = format!("随堂测试答对 {}/{} 题，准予结业。", t.correct, t.total);
    p.text(&score, 40.0, mid, after + 40.0, Rgb::INK)?;
    p.text(&t.street, 38.0, Align::Left(140.0), 1150.0, Rgb::INK)?;
    p.text(&t.issued_on, 34.0, Align::Left(140.0), 1210.0, Rgb::INK)?;
    p.text(
        &format!("证书编号：{}", c.serial),
        30.0,
        Align::Left(140.0),
        1290.0,
        Rgb(90, 90, 90),
    )?;
    p.text(
        &format!("验证码：{}", c.code),
        30.0,
        Align::Left(140.0),
        1340.0,
        Rgb(90, 90, 90),
    )?;
    p.qr(verify, w - 140.0 - 300.0, 1100.0, 300.0)?;
    p.text(
        "扫码验证",
        28.0,
        Align::Centre(w - 140.0 - 150.0),
        1440.0,
        Rgb(90, 90, 90),
    )?;
    p.png()
}

/// Looks a certificate up by its verification code (what the QR link carries), and when a serial is given
/// too, only if both belong to the same certificate. Serials are sequential, so a serial alone would let
/// anyone list every certificate; "no such serial" and "wrong code" give the same `None` (no oracle).
pub async fn find(
    db: &impl ConnectionTrait,
    serial: &str,
    code: &str,
) -> Result<Option<CertificateRecord>, ServiceError> {
    let code = normalise_code(code);
    if code.is_empty() {
        return Ok(None);
    }
    let serial = normalise_code(serial);
    Ok(db::by_code(db, &code)
        .await?
        .filter(|c| serial.is_empty() || c.serial.eq_ignore_ascii_case(&serial)))
}

/// What a verification lookup found.
pub enum Verified {
    NotAsked,
    /// A serial without its code: refused, or serials (sequential) would list every certificate.
    CodeMissing,
    /// No certificate with this code, or the serial does not match it: one answer for both.
    NoMatch,
    Found(Box<CertificateRecord>),
}

/// The public verification form's answer for what was typed (either may be empty).
pub async fn verify(db: &impl ConnectionTrait, serial: &str, code: &str) -> Result<Verified, ServiceError> {
    Ok(if serial.trim().is_empty() && code.trim().is_empty() {
        Verified::NotAsked
    } else if code.trim().is_empty() {
        Verified::CodeMissing
    } else {
        found(find(db, serial, code).await?)
    })
}

fn found(c: Option<CertificateRecord>) -> Verified {
    c.map_or(Verified::NoMatch, |c| Verified::Found(Box::new(c)))
}

/// A certificate by id, as the verification page shows it (for the revocation form sent back).
pub async fn verified(db: &impl ConnectionTrait, id: i64) -> Result<(String, Verified), ServiceError> {
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    Ok((c.code.clone(), found(Some(c))))
}

/// Revokes a certificate, giving a reason, and tells its holder by email (when she has an address);
/// returns its verification code (where its page is).
#[tracing::instrument(skip_all, fields(certificate = id, by))]
pub async fn revoke(db: &impl ConnectionTrait, id: i64, reason: &str, by: i64) -> Result<String, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::rejected(
            "reason",
            "请填写撤销原因",
            "give a reason for revoking",
        ));
    }
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !db::revoke(db, id, reason, by).await? {
        return Err(ServiceError::refused(
            "该证书已经撤销",
            "the certificate is already revoked",
        ));
    }
    notify_revoked(db, &c).await?;
    tracing::info!(certificate = id, by, "certificate revoked");
    Ok(c.code)
}

/// Queues the notice that a certificate was revoked, to its holder's address if she has one.
pub(crate) async fn notify_revoked(db: &impl ConnectionTrait, c: &CertificateRecord) -> Result<(), ServiceError> {
    if let Some(email) = people::get(db, c.person_id).await?.and_then(|p| p.email) {
        // One message per revocation (a certificate a regrade gave back may be revoked again).
        let message_id = format!(
            "revoked-{}-{}-{}",
            c.id,
            c.code.to_lowercase(),
            Utc::now().timestamp_millis()
        );
        db::enqueue(db, MailKind::Revocation, c.id, email.as_str(), &message_id).await?;
    }
    Ok(())
}

/// Makes a certificate revoked by a regrade valid again and sends it once more: its earlier job goes
/// back to the queue (its Message-ID stays the certificate's), or one is made if there was none.
pub(crate) async fn reinstate(db: &impl ConnectionTrait, c: &CertificateRecord) -> Result<(), ServiceError> {
    if !db::reinstate(db, c.id).await? {
        return Ok(());
    }
    match db::jobs_for_certificates(db, &[c.id]).await?.into_iter().last() {
        Some(job) => db::requeue(db, job.id).await?,
        None => {
            if let Some(email) = people::get(db, c.person_id).await?.and_then(|p| p.email) {
                db::enqueue(
                    db,
                    MailKind::Certificate,
                    c.id,
                    email.as_str(),
                    &message_id(c.id, &c.code),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// How a certificate's email went, from its newest job.
pub fn status_of(job: Option<&EmailJob>) -> EmailStatus {
    match job.map(|j| j.status) {
        None => EmailStatus::NoEmail,
        Some(JobStatus::Sent) => EmailStatus::Sent,
        Some(JobStatus::Failed) => EmailStatus::Failed,
        Some(_) => EmailStatus::Pending,
    }
}

/// A certificate on the officials' list, with how its email went.
pub struct CertificateRow {
    pub cert: CertificateRecord,
    pub status: EmailStatus,
    /// Why the last try failed, while it is not sent.
    pub last_error: Option<String>,
}

/// The certificates of a session its officials see, with the state of each email: two queries
/// besides the session.
pub async fn session_list(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    session_id: i64,
) -> Result<(SessionRecord, Vec<CertificateRow>), ServiceError> {
    let s = super::sessions::managed(db, scope, session_id).await?;
    let certs = db::for_session(db, s.id).await?;
    let jobs = db::jobs_for_certificates(db, &certs.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    let rows = certs
        .into_iter()
        .map(|cert| {
            let job = jobs.iter().rev().find(|j| j.certificate_id == cert.id);
            CertificateRow {
                status: status_of(job),
                last_error: job
                    .filter(|j| j.status != JobStatus::Sent)
                    .and_then(|j| j.last_error.clone()),
                cert,
            }
        })
        .collect();
    Ok((s, rows))
}

/// Sends a certificate again: its job goes back to the queue (or one is created if the chair has
/// added an email address since). For officials of its street; returns its session.
#[tracing::instrument(skip_all, fields(certificate = id))]
pub async fn resend(db: &impl ConnectionTrait, scope: &StreetScope, id: i64) -> Result<i64, ServiceError> {
    let c = db::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows(c.street_id) {
        return Err(ServiceError::Forbidden);
    }
    match db::jobs_for_certificates(db, &[id]).await?.into_iter().last() {
        Some(job) => db::requeue(db, job.id).await?,
        None => {
            let person = people::get(db, c.person_id).await?.ok_or(ServiceError::NotFound)?;
            let email = person
                .email
                .ok_or_else(|| ServiceError::refused("该主任没有登记邮箱", "this chair has no email address"))?;
            db::enqueue(db, MailKind::Certificate, id, email.as_str(), &message_id(id, &c.code)).await?;
        }
    }
    Ok(c.session_id)
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

/// The notice that a certificate was revoked: which one, why, and where anyone checking it now sees
/// it revoked.
fn revocation_message(c: &CertificateRecord, job: &EmailJob, o: &Outbox) -> OutgoingEmail {
    let url = verify_url(&o.public_url, &c.code);
    let k = &c.content;
    let reason = c.revoke_reason.as_deref().unwrap_or("");
    let text = format!(
        "{} 您好：\n\n您在“{}”获得的结业证书（编号 {}）已被撤销。\n原因：{}\n核验页面会显示该证书已撤销：{}\n如有疑问，请联系{}。\n\n业委会学堂",
        k.name, k.session_title, c.serial, reason, url, k.street
    );
    let html = maud::html! {
        p { (k.name) " 您好：" }
        p { "您在“" (k.session_title) "”获得的结业证书（编号 " strong { (c.serial) } "）已被撤销。" }
        p { "原因：" (reason) }
        p { "核验页面会显示该证书已撤销：" a href=(url) { (url) } }
        p { "如有疑问，请联系" (k.street) "。" br; "业委会学堂" }
    };
    OutgoingEmail {
        to: job.to.clone(),
        to_name: k.name.clone(),
        subject: format!("【业委会学堂】结业证书已撤销（{}）", c.serial),
        text,
        html: html.into_string(),
        attachment: None,
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
    for id in db::due(db, Utc::now(), limit).await? {
        if send_one(db, o, id).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Claims one job and tries to send it; true if it was sent.
async fn send_one(db: &DatabaseConnection, o: &Outbox, id: i64) -> Result<bool, ServiceError> {
    // The lease outlives any single send; a worker that dies leaves the job to be reclaimed.
    if !db::claim(db, id, &o.worker, Utc::now(), Utc::now() + Duration::minutes(5)).await? {
        return Ok(false);
    }
    let Some(job) = db::job(db, id).await? else {
        return Ok(false);
    };
    if db::mark_interrupted(db, id).await? > 0 {
        tracing::warn!(
            job = id,
            "an earlier send of this email was interrupted; sending again with the same Message-ID"
        );
    }
    let cert = db::get(db, job.certificate_id).await?.ok_or(ServiceError::NotFound)?;
    let attempt = db::start_attempt(db, id, &o.worker).await?;
    let delivery = deliver(o, &cert, &job).await?;
    match delivery {
        Delivery::Sent => {
            db::end_attempt(db, attempt, None).await?;
            db::finish(db, id, &o.worker, Outcome::Sent).await?;
            Ok(true)
        }
        Delivery::Failed { permanent, error } => {
            db::end_attempt(db, attempt, Some(&error)).await?;
            schedule_retry(db, o, &job, permanent, &error).await?;
            Ok(false)
        }
    }
}

/// How handing one email to the mail server went.
enum Delivery {
    Sent,
    /// `permanent`: the server refused for good, or the PDF cannot be drawn; no retry helps.
    Failed {
        permanent: bool,
        error: String,
    },
}

/// Renders the PDF and hands the message to the mail server.
async fn deliver(o: &Outbox, cert: &CertificateRecord, job: &EmailJob) -> Result<Delivery, ServiceError> {
    let failed = |permanent: bool, error: String| Delivery::Failed { permanent, error };
    let email = match job.kind {
        MailKind::Revocation => revocation_message(cert, job, o),
        MailKind::Certificate => match render_async(cert.clone(), o.public_url.clone()).await? {
            Rendered::Unprintable(e) => return Ok(failed(true, e.to_string())),
            Rendered::Pdf(pdf) => message(cert, job, o, pdf),
        },
    };
    Ok(match o.mailer.send(&email).await {
        Ok(()) => Delivery::Sent,
        Err(e) => failed(matches!(e, SendError::Permanent(_)), e.to_string()),
    })
}

/// After a failed send: try again later with a growing delay, or give up (a permanent failure, or
/// a day has passed).
async fn schedule_retry(
    db: &DatabaseConnection,
    o: &Outbox,
    job: &EmailJob,
    permanent: bool,
    error: &str,
) -> Result<(), ServiceError> {
    let attempts = job.attempts as u32 + 1;
    let next = Utc::now() + retry_delay(attempts);
    if permanent || give_up(job.created_at, next) {
        tracing::warn!(job = job.id, %error, "email failed for good");
        db::finish(db, job.id, &o.worker, Outcome::Failed { error }).await?;
    } else {
        tracing::info!(job = job.id, attempts, %error, "email failed; will retry");
        db::finish(db, job.id, &o.worker, Outcome::Retry { at: next, error }).await?;
    }
    Ok(())
}

/// An admin revokes a certificate (`revoke`), recorded in the audit trail in the same transaction.
pub async fn revoke_by(
    db: &DatabaseConnection,
    by: &super::audit::Actor,
    id: i64,
    reason: &str,
) -> Result<String, ServiceError> {
    let admin = by.person_id.ok_or(ServiceError::Forbidden)?;
    let revoke = async |txn: &sea_orm::DatabaseTransaction| revoke(txn, id, reason, admin).await;
    let object = format!("certificate:{id}");
    super::audit::audited(db, by, Action::CertificateRevoke, object, revoke, |_| {
        format!("撤销：{}", reason.trim())
    })
    .await
}

/// An official sends a certificate again (`resend`), audited; returns its session.
pub async fn resend_by(
    db: &DatabaseConnection,
    by: &super::audit::Actor,
    scope: &StreetScope,
    id: i64,
) -> Result<i64, ServiceError> {
    let resend = async |txn: &sea_orm::DatabaseTransaction| resend(txn, scope, id).await;
    let object = format!("certificate:{id}");
    super::audit::audited(db, by, Action::CertificateResend, object, resend, |s| {
        format!("重发证书邮件（培训 {s}）")
    })
    .await
}
