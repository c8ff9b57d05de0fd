//! Use cases: domain rules plus persistence, inside transactions where several writes belong together.
//! No actix types here; handlers call these and render the outcome.

pub mod access;
pub mod accounts;
pub mod attendance;
pub mod banks;
pub mod certificates;
pub mod demo;
pub mod home;
pub mod org;
pub mod passwords;
pub mod people;
pub mod quiz;
pub mod reports;
pub mod roster;
pub mod sessions;
pub mod signin_links;
pub mod streets;
pub mod tokens;

use crate::i18n::Text;

/// Input refused field by field: the form field's name and what is wrong with it, in both languages.
pub type FieldErrors = Vec<(&'static str, Text)>;

/// Errors shared by every use case, so handlers map them in one place (`error.rs`).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input was wrong; the text says what and where, in both languages.
    #[error("invalid input: {0}")]
    Invalid(Text),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
        ServiceError::Invalid(Text::new(zh, en))
    }
}

impl From<sea_orm::TransactionError<ServiceError>> for ServiceError {
    fn from(e: sea_orm::TransactionError<ServiceError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => ServiceError::Db(e),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}
