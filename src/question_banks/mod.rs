//! Question-bank files: the text format lawyers edit (`format`), statute texts (`statutes`), whole-folder
//! validation with `file:line` messages (`check`), whether a question fits a phone's first screen (`fit`),
//! writing a bank back out (`export`), and importing Moodle's GIFT and Aiken formats (`gift`, `aiken`).
//! Syncing into the database is `services::banks`.

pub mod aiken;
pub mod check;
pub mod export;
pub mod fit;
pub mod format;
pub mod gift;
pub mod statutes;

use crate::domain::question::QuestionContent;
use crate::i18n::Text;

/// A problem at a line of a file (line 0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: Text,
}

impl Problem {
    pub fn new(line: usize, zh: impl Into<String>, en: impl Into<String>) -> Problem {
        Problem {
            line,
            message: Text::new(zh, en),
        }
    }
}

/// A bank's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankMeta {
    pub id: String,
    pub title: String,
    pub topic: String,
    pub authors: Vec<String>,
    pub reviewer: String,
    /// ISO date.
    pub review_date: String,
    pub sample: bool,
}

/// A question read from a file, with where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileQuestion {
    pub line: usize,
    pub id: String,
    pub content: QuestionContent,
    /// The line of each citation, for error messages.
    pub citation_lines: Vec<usize>,
}

/// A whole bank file, parsed as far as it could be.
#[derive(Debug, Clone, Default)]
pub struct ParsedBank {
    pub meta: Option<BankMeta>,
    /// The line of the bank's `id`, for messages about it (0 when there is no header).
    pub bank_id_line: usize,
    pub questions: Vec<FileQuestion>,
    pub problems: Vec<Problem>,
}

/// An imported question (GIFT, Aiken): content without citations yet, and the line it started on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedQuestion {
    pub line: usize,
    pub title: Option<String>,
    pub content: QuestionContent,
}

/// The result of an import: what could be read, and every line that could not.
#[derive(Debug, Clone, Default)]
pub struct ImportResult {
    pub questions: Vec<ImportedQuestion>,
    /// Lines that could not be read: nothing is imported while there is one.
    pub problems: Vec<Problem>,
    /// What was read but not kept as written (feedback per answer, partial weights, markup): the
    /// questions import, and the lawyer is told line by line.
    pub warnings: Vec<Problem>,
}
