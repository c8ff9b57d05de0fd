//! Signing in with a code sent by SMS (the rules are in `domain::sms_code`), and the SMS outbox worker.
//!
//! Asking for a code answers the same for every number, known or not, and throttles them alike; only
//! a number that belongs to an account is sent a text. Numbers, addresses and codes are stored as keyed
//! hashes (the outbox keeps the number it must send to until the text has gone).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{NewSession, start_session};
use crate::db::{people, sms};
use crate::domain::contact::PhoneNumber;
use crate::domain::sms_code::{self, TypedCode};
use crate::services::{ServiceError, tokens};
use crate::sms::{SendError, SmsSender};

/// What asking for a code came to. `Sent` is also the answer for a number that has no account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRequest {
    Sent,
    /// Asked too soon or too often; may ask again after this long.
    Wait(Duration),
}

/// Keyed, so a leaked table cannot be turned back into numbers by trying every number (there are only
/// about a billion).
fn key_of(secret: &[u8], kind: &str, value: &str) -> String {
    tokens::token_for(secret, &format!("sms-{kind}:{value}"))
}

fn code_hash(secret: &[u8], phone_key: &str, code: &TypedCode) -> String {
    key_of(secret, "code", &format!("{phone_key}:{}", code.as_str()))
}

/// Whether `typed` is the code whose hash was stored, compared in constant time.
fn code_matches(secret: &[u8], phone_key: &str, typed: &TypedCode, stored_hash: &str) -> bool {
    let right = code_hash(secret, phone_key, typed);
    subtle::ConstantTimeEq::ct_eq(right.as_bytes(), stored_hash.as_bytes()).into()
}

/// Sends a sign-in code to `phone` if it has an account; throttled per number and per address.
#[tracing::instrument(skip_all, fields(phone = %phone.masked()))]
pub async fn request_code(
    db: &DatabaseConnection,
    secret: &[u8],
    phone: &PhoneNumber,
    address: &str,
    now: DateTime<Utc>,
) -> Result<CodeRequest, ServiceError> {
    let phone_key = key_of(secret, "phone", phone.as_str());
    let address_key = key_of(secret, "address", address);
    let txn = crate::db::begin_write(db).await?;
    let (by_phone, by_address) = sms::requested_since(&txn, &phone_key, &address_key, now - Duration::hours(1)).await?;
    let wait = sms_code::wait_before_request(&by_phone, &by_address, now);
    if wait > Duration::zero() {
        return Ok(CodeRequest::Wait(wait));
    }
    let person = people::credentials_by_phone(&txn, phone).await?.map(|c| c.person.id);
    let code = sms_code::code_from(rand::random());
    sms::insert_code(
        &txn,
        sms::NewCode {
            phone_key: &phone_key,
            address_key: &address_key,
            person,
            code_hash: &code_hash(secret, &phone_key, &code),
            issued_at: now,
        },
    )
    .await?;
    if person.is_some() {
        sms::enqueue(&txn, phone.as_str(), &sms_code::message(&code), "signin", now).await?;
    }
    txn.commit().await?;
    if person.is_some() {
        crate::services::audit::signin_event(db, "code_sent", "sms", person, address).await;
    }
    tracing::info!(known = person.is_some(), "sign-in code requested");
    Ok(CodeRequest::Sent)
}

/// Signs in with a typed code; a refusal names the `code` field. A code is spent by the first success.
#[tracing::instrument(skip_all, fields(phone = %phone.masked()))]
pub async fn sign_in_with_code(
    db: &DatabaseConnection,
    secret: &[u8],
    phone: &PhoneNumber,
    typed: &TypedCode,
    session_days: i64,
    address: &str,
    now: DateTime<Utc>,
) -> Result<NewSession, ServiceError> {
    let refuse = |r: sms_code::CodeRefusal| {
        let t = r.explain();
        ServiceError::rejected("code", t.zh, t.en)
    };
    let phone_key = key_of(secret, "phone", phone.as_str());
    let txn = crate::db::begin_write(db).await?;
    let stored = sms::newest_code(&txn, &phone_key).await?;
    sms_code::may_try(stored.as_ref().map(|s| &s.issued), now).map_err(refuse)?;
    let Some(stored) = stored else {
        return Err(refuse(sms_code::CodeRefusal::NotRequested));
    };
    if !sms::count_try(&txn, stored.id).await? {
        return Err(refuse(sms_code::CodeRefusal::Exhausted));
    }
    let matches = code_matches(secret, &phone_key, typed, &stored.code_hash);
    // A number without an account was never sent a code: any guess is simply wrong.
    let person = match (matches, stored.person) {
        (true, Some(p)) if sms::use_code(&txn, stored.id, now).await? => people::get(&txn, p).await?,
        _ => None,
    };
    let Some(person) = person else {
        txn.commit().await?;
        crate::services::audit::signin_event(db, "failure", "sms", stored.person, address).await;
        return Err(refuse(sms_code::wrong(stored.issued.tries + 1)));
    };
    let session = start_session(&txn, person, session_days).await?;
    txn.commit().await?;
    crate::services::audit::signin_event(db, "signin", "sms", Some(session.person.id), address).await;
    tracing::info!(person = session.person.id, "signed in with an SMS code");
    Ok(session)
}

/// How long after a failed send to try again: sign-in codes are worth little after a few minutes, so
/// the retries are quick and stop once the code would have expired.
fn retry_at(created: DateTime<Utc>, attempts: i32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let next = now + Duration::seconds(10 * i64::from(attempts.clamp(1, 6)));
    (next < created + sms_code::VALID_FOR).then_some(next)
}

/// What stays of a text once it has gone (or given up): the digits of the code blanked.
fn kept_body(body: &str) -> String {
    body.chars().map(|c| if c.is_ascii_digit() { '•' } else { c }).collect()
}

/// Sends the texts that are due, up to `limit`; returns how many went. Safe with several processes:
/// each text is claimed with a conditional update and a lease.
pub async fn send_due(db: &DatabaseConnection, sender: &SmsSender, limit: u64) -> Result<usize, ServiceError> {
    let mut sent = 0;
    for job in sms::due(db, Utc::now(), limit).await? {
        let now = Utc::now();
        if !sms::claim(db, job.id, now, now + Duration::minutes(1)).await? {
            continue;
        }
        let kept = kept_body(&job.body);
        match sender.send(job.id, &job.phone, &job.body).await {
            Ok(()) => {
                sms::mark_sent(db, job.id, &kept, Utc::now()).await?;
                sent += 1;
            }
            Err(e) => {
                let retry = match &e {
                    SendError::Temporary(_) => retry_at(job.created_at, job.attempts + 1, Utc::now()),
                    SendError::Permanent(_) => None,
                };
                tracing::warn!(job = job.id, error = %e, retry = retry.is_some(), "text message not sent");
                sms::mark_failed(db, job.id, &e.to_string(), retry, &kept).await?;
            }
        }
    }
    Ok(sent)
}

/// Codes older than the throttling window are of no use to anyone; removes them.
pub async fn forget_old_codes(db: &impl ConnectionTrait) -> Result<u64, ServiceError> {
    Ok(sms::forget_codes_before(db, Utc::now() - Duration::hours(2)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_when_the_code_would_have_expired() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        assert_eq!(retry_at(t0, 1, t0), Some(t0 + Duration::seconds(10)));
        assert_eq!(
            retry_at(t0, 3, t0 + Duration::seconds(60)),
            Some(t0 + Duration::seconds(90))
        );
        assert_eq!(retry_at(t0, 6, t0 + Duration::seconds(250)), None);
        assert_eq!(kept_body("验证码 012345，5 分钟"), "验证码 ••••••，• 分钟");
    }
}
