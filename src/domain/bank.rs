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
    /// The account that wrote it on the web (none for bank files and imports run before accounts).
    pub author_id: Option<i64>,
    pub approval: Option<Approval>,
    pub returned: Option<Returned>,
    /// Still its author's draft: not submitted for approval.
    pub draft: bool,
}

/// Who approved a version for drawing, and when. Bank files carry their reviewer's name only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub by: String,
    pub by_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A version a reviewing lawyer sent back to its author, with what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Returned {
    pub by: String,
    pub at: DateTime<Utc>,
    pub comment: String,
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
    /// The version quizzes draw: the latest approved one (none until a first version is approved).
    pub approved: Option<QuestionVersion>,
    pub file_fingerprint: Option<String>,
}

impl Question {
    /// The current version waits for a second lawyer's approval.
    pub fn awaiting_approval(&self) -> bool {
        self.approval_refused(None).is_none()
    }

    /// Why a lawyer (`approver`, or anyone) may not approve the current version, if she may not: each
    /// version is approved once, by a lawyer other than the one who wrote it, and not after it was sent
    /// back (its author edits it again). A version in use before approvals were recorded carries none
    /// and needs none.
    pub fn approval_refused(&self, approver: Option<i64>) -> Option<crate::i18n::Text> {
        use crate::i18n::Text;
        let v = &self.current;
        if self.status == QuestionStatus::Retired {
            return Some(Text::new("这道题已停用", "this question is retired"));
        }
        if v.approval.is_some() {
            return Some(Text::new("这个版本已经批准", "this version is already approved"));
        }
        if v.draft {
            return Some(Text::new(
                "这个版本还是草稿，作者提交审核后才能批准",
                "this version is still a draft: it can be approved once its author submits it",
            ));
        }
        if v.returned.is_some() {
            return Some(Text::new(
                "这个版本已退回修改，请等作者修改后再审核",
                "this version was sent back; review the author's next version",
            ));
        }
        if self.approved.as_ref().map(|a| a.id) == Some(v.id) {
            return Some(Text::new(
                "这个版本已在使用，无需批准",
                "this version is already in use",
            ));
        }
        if approver.is_some() && v.author_id == approver {
            return Some(Text::new(
                "不能批准自己编写的版本，请另一位律师审核",
                "you cannot approve a version you wrote: another lawyer reviews it",
            ));
        }
        None
    }
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
