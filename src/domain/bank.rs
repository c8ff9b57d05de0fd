//! Banks and versioned questions as stored.

use chrono::{DateTime, Utc};

use super::question::QuestionContent;
use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BankSource {
    /// Loaded from `question-banks/*.toml`; the file is the source of truth for changes made in it.
    File,
    /// Created in the web UI.
    Web,
}

impl BankSource {
    pub fn code(self) -> &'static str {
        match self {
            BankSource::File => "file",
            BankSource::Web => "web",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub topic: String,
    pub authors: Vec<String>,
    pub reviewer: String,
    pub review_date: String,
    pub sample: bool,
    pub source: BankSource,
    pub file_name: Option<String>,
    pub retired: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionStatus {
    /// In use: may be drawn into quizzes.
    Active,
    /// 待复核: a cited article changed, or the question lacks something; never drawn until a lawyer edits
    /// or re-confirms it.
    NeedsReview,
    /// Removed from its bank; kept so old attempts can still show it.
    Retired,
}

impl QuestionStatus {
    pub const ALL: [QuestionStatus; 3] = [
        QuestionStatus::Active,
        QuestionStatus::NeedsReview,
        QuestionStatus::Retired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            QuestionStatus::Active => "active",
            QuestionStatus::NeedsReview => "needs_review",
            QuestionStatus::Retired => "retired",
        }
    }

    pub fn parse(code: &str) -> Option<QuestionStatus> {
        QuestionStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            QuestionStatus::Active => lang.t("使用中", "Active"),
            QuestionStatus::NeedsReview => lang.t("待复核", "Needs review"),
            QuestionStatus::Retired => lang.t("已停用", "Retired"),
        }
    }
}

/// One immutable version of a question, with the statute revision each citation was written against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionVersion {
    pub id: i64,
    pub question_id: i64,
    pub version_no: i32,
    pub content: QuestionContent,
    /// Parallel to `content.citations`.
    pub revisions: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub bank_id: i64,
    pub qid: String,
    pub status: QuestionStatus,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub current: QuestionVersion,
    pub file_fingerprint: Option<String>,
}

/// The outcome of loading one bank file at start-up, for the lawyers' page.
#[derive(Debug, Clone)]
pub struct BankFileStatus {
    pub file_name: String,
    pub bank_id: Option<i64>,
    /// `line: message` lines, when the file was refused.
    pub problems: Option<String>,
    pub checked_at: DateTime<Utc>,
}
