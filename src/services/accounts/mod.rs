//! Accounts: signing in and out, sign-in sessions and passwords. The ways in live beside this file:
//! `passwords` (hashing), `sms_signin` (a code by SMS) and `signin_links` (personal one-time links).

pub mod passwords;
pub mod signin_links;
pub mod sms_signin;

use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait;

use super::{FieldErrors, ServiceError, tokens};
use crate::db::{people, signin, web_sessions};
use crate::domain::contact::SigninIdentifier;
use crate::domain::person::{NewPassword, Person};
use crate::domain::throttle::{ThrottlePolicy, wait_remaining};
use crate::i18n::Text;

pub use super::access::CurrentUser;

/// A freshly created session: the token goes into the cookie.
pub struct NewSession {
    pub person: Person,
    pub token: String,
    pub max_age_days: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    #[error("the identifier is not valid")]
    BadIdentifier(Text),
    /// Wrong phone/email or password; `wait_secs` is set when the next try must wait.
    #[error("wrong credentials")]
    WrongCredentials { wait_secs: Option<i64> },
    #[error("too many failed attempts; wait {wait_secs}s")]
    Throttled { wait_secs: i64 },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sea_orm::DbErr> for SigninError {
    fn from(e: sea_orm::DbErr) -> Self {
        SigninError::Service(e.into())
    }
}

fn account_key(id: &SigninIdentifier) -> String {
    format!("acct:{}", tokens::hash_token(id.canonical()))
}

fn ip_key(ip: &str) -> String {
    format!("ip:{}", tokens::hash_token(ip))
}

/// How long the next try must still wait, by account and by address (the longer), if at all.
async fn waiting(db: &impl ConnectionTrait, keys: [&str; 2]) -> Result<Option<i64>, SigninError> {
    let now = Utc::now();
    let mut waits = Vec::new();
    for key in keys {
        waits.push(wait_remaining(signin::throttle_state(db, key).await?, now));
    }
    Ok(waits.into_iter().flatten().max())
}

/// Counts a failure against the account and the address; returns how long the next try must wait.
async fn record_failures(
    db: &impl ConnectionTrait,
    id: &SigninIdentifier,
    acct: &str,
    ipk: &str,
) -> Result<Option<i64>, SigninError> {
    let now = Utc::now();
    let a = signin::record_failure(db, acct, ThrottlePolicy::PER_ACCOUNT, now).await?;
    let i = signin::record_failure(db, ipk, ThrottlePolicy::PER_IP, now).await?;
    tracing::info!(account = %id_masked(id), failures = a.failures, "sign-in failed");
    Ok([wait_remaining(Some(a), now), wait_remaining(Some(i), now)]
        .into_iter()
        .flatten()
        .max())
}

pub async fn sign_in(
    db: &impl ConnectionTrait,
    identifier: &str,
    password: &str,
    ip: &str,
    session_days: i64,
) -> Result<NewSession, SigninError> {
    let id = SigninIdentifier::parse(identifier).map_err(SigninError::BadIdentifier)?;
    let (acct, ipk) = (account_key(&id), ip_key(ip));
    if let Some(wait_secs) = waiting(db, [&acct, &ipk]).await? {
        return Err(SigninError::Throttled { wait_secs });
    }
    let creds = match &id {
        SigninIdentifier::Phone(p) => people::credentials_by_phone(db, p).await?,
        SigninIdentifier::Email(e) => people::credentials_by_email(db, e).await?,
    };
    let (person, hash) = match creds {
        Some(c) => (Some(c.person), c.password_hash),
        None => (None, None),
    };
    let ok = passwords::verify(password.to_string(), hash).await?;
    let Some(person) = person.clone().filter(|_| ok) else {
        let wait_secs = record_failures(db, &id, &acct, &ipk).await?;
        // The account it was tried against, if there is one; never the number or address typed.
        crate::services::audit::signin_event(db, "failure", "password", person.map(|p| p.id), ip).await;
        return Err(SigninError::WrongCredentials { wait_secs });
    };
    signin::clear_failures(db, &acct).await?;
    crate::services::audit::signin_event(db, "signin", "password", Some(person.id), ip).await;
    tracing::info!(person = person.id, "signed in");
    Ok(start_session(db, person, session_days).await?)
}

fn id_masked(id: &SigninIdentifier) -> String {
    match id {
        SigninIdentifier::Phone(p) => p.masked(),
        SigninIdentifier::Email(e) => e.masked(),
    }
}

pub async fn start_session(db: &impl ConnectionTrait, person: Person, days: i64) -> Result<NewSession, ServiceError> {
    let token = tokens::new_token();
    web_sessions::insert(
        db,
        &tokens::hash_token(&token),
        person.id,
        Utc::now() + Duration::days(days),
    )
    .await?;
    Ok(NewSession {
        person,
        token,
        max_age_days: days,
    })
}

/// Resolves a session cookie to the person behind it, acting from `address`.
pub async fn current_user(
    db: &impl ConnectionTrait,
    token: &str,
    address: String,
) -> Result<Option<CurrentUser>, ServiceError> {
    let hash = tokens::hash_token(token);
    let Some(pid) = web_sessions::person_for(db, &hash, Utc::now()).await? else {
        return Ok(None);
    };
    let Some(person) = people::get(db, pid).await? else {
        return Ok(None);
    };
    let (official_streets, official_districts) = crate::services::access::official_scope(db, &person).await?;
    Ok(Some(CurrentUser {
        person,
        official_streets,
        official_districts,
        session_hash: hash,
        address,
    }))
}

/// Remembers the display (长辈版…) she chose, so her other phones show it too.
pub async fn set_view_mode(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    mode: crate::domain::view::ViewMode,
) -> Result<(), ServiceError> {
    people::set_view_mode(db, user.person.id, mode).await?;
    Ok(())
}

pub async fn sign_out(db: &impl ConnectionTrait, user: &CurrentUser) -> Result<(), ServiceError> {
    web_sessions::delete(db, &user.session_hash).await?;
    crate::services::audit::signin_event(db, "signout", "", Some(user.person.id), &user.address).await;
    Ok(())
}

/// Sets a new password and signs the person out of every other device.
pub async fn set_password(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    password: &str,
    confirm: &str,
) -> Result<(), ServiceError> {
    // Every problem is told beside the password field, the one to type again.
    let pw = NewPassword::parse(password, confirm).map_err(|t| FieldErrors::one("password", t))?;
    let hash = passwords::hash(pw.expose().to_string()).await?;
    people::set_password_hash(db, user.person.id, hash).await?;
    web_sessions::delete_all_for(db, user.person.id, Some(&user.session_hash)).await?;
    tracing::info!(person = user.person.id, "password set");
    Ok(())
}
