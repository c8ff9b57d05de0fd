//! Use cases: domain rules plus persistence, inside transactions where several writes belong together.
//! No actix types here; handlers call these and render the outcome.

pub mod access;
pub mod accounts;
pub mod attendance;
pub mod audit;
pub mod banks;
pub mod certificates;
pub mod demo;
pub mod home;
pub mod live_room;
pub mod org;
pub mod people;
pub mod privacy;
pub mod quiz;
pub mod recordings;
pub mod regrade;
pub mod reports;
pub mod roster;
pub mod sessions;
pub mod streets;
pub mod tokens;

use crate::i18n::Text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_the_picture_font_lacks_is_refused_by_name_not_a_server_error() {
        let e = ServiceError::from(crate::raster::RasterError::MissingGlyph('\u{E000}'));
        assert!(
            matches!(&e, ServiceError::Refused(t) if t.zh.contains("U+E000")),
            "{e:?}"
        );
        let e = ServiceError::from(crate::raster::RasterError::Draw("x".into()));
        assert!(matches!(e, ServiceError::Internal(_)));
    }
}

pub use crate::domain::input::FieldErrors;

/// Errors shared by every use case, so handlers map them in one place (`error.rs`). Four meanings:
/// the input was wrong (rejected: back to the form, each message beside its field), the request was
/// understood but the state of things says no (refused: a page that says why and where to go), nothing
/// there or not yours (not found / forbidden), and our fault (internal).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// What was typed is wrong; each message names its form field.
    #[error("rejected input: {}", .0.joined().en)]
    Rejected(FieldErrors),
    /// Understood, but not now or not in this state (the quiz has started, the certificate is already
    /// revoked…); the text says why, in both languages.
    #[error("refused: {0}")]
    Refused(Text),
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
    pub fn refused(zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
        ServiceError::Refused(Text::new(zh, en))
    }

    /// Input refused at one form field.
    pub fn rejected(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> ServiceError {
        ServiceError::Rejected(FieldErrors::one(field, Text::new(zh, en)))
    }
}

impl From<FieldErrors> for ServiceError {
    fn from(e: FieldErrors) -> Self {
        ServiceError::Rejected(e)
    }
}

/// A picture that cannot be drawn because the font lacks a character is the data's problem, said so
/// with the character named (as the PDF does), not a server error.
impl From<crate::raster::RasterError> for ServiceError {
    fn from(e: crate::raster::RasterError) -> Self {
        match e {
            crate::raster::RasterError::MissingGlyph(ch) => ServiceError::Refused(Text::new(
                format!(
                    "“{ch}”（U+{:04X}）无法用图片的字体显示，不能生成这张图片。请联系管理员更正姓名或标题。",
                    ch as u32
                ),
                format!(
                    "The picture's font cannot show “{ch}” (U+{:04X}), so this picture cannot be drawn. Ask an \
                     administrator to correct the name or title.",
                    ch as u32
                ),
            )),
            crate::raster::RasterError::Draw(d) => ServiceError::Internal(d),
        }
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
