//! Regrading: a lawyer corrects the key (or the options) of a question chairs have already answered,
//! and the attempts that answered it are graded again under the version now approved, as Moodle
//! regrades. Answers are kept as positions in the question's own option order, so an answer given
//! under one version reads the same under another only when the kind and the number of options match.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::attempt::{AttemptRecord, Graded, ItemRecord, counting_attempt, grade};
use super::question::QuestionContent;
use crate::i18n::Text;

/// One attempt's result before and after a regrade: (correct answers, passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptChange {
    pub attempt_id: i64,
    pub before: (u32, bool),
    pub after: (u32, bool),
}

/// A regrade as recorded: who, when, why, under which version, and what it changed.
#[derive(Debug, Clone)]
pub struct RegradeRecord {
    pub id: i64,
    pub version_id: i64,
    pub by_name: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub issued: u32,
    pub revoked: u32,
    pub changes: Vec<AttemptChange>,
}

/// Why answers given under `old` cannot be graded by `new`, if they cannot.
pub fn unregradable(old: &QuestionContent, new: &QuestionContent) -> Option<Text> {
    if old.kind != new.kind {
        return Some(Text::new(
            "题型变了，旧版本的作答无法按新版本评分",
            "the question's kind changed: answers to the old version cannot be graded by the new one",
        ));
    }
    if old.options.len() != new.options.len() {
        return Some(Text::new(
            "选项数量变了，旧版本的作答无法按新版本评分",
            "the number of options changed: answers to the old version cannot be graded by the new one",
        ));
    }
    None
}

/// Whether grading an answer may differ between the versions: the key or the options changed.
pub fn grading_changed(old: &QuestionContent, new: &QuestionContent) -> bool {
    old.kind != new.kind || old.answer != new.answer || old.options != new.options
}

/// An attempt graded again with `new` for every item drawn from one of `versions` (the question's
/// other versions), its other items under their own versions.
pub fn regrade_attempt<'a>(
    items: &[ItemRecord],
    content_of: impl Fn(i64) -> Option<&'a QuestionContent>,
    versions: &HashSet<i64>,
    new: &'a QuestionContent,
    pass_mark: u32,
) -> Graded {
    grade(
        items,
        |v| {
            if versions.contains(&v) {
                Some(new)
            } else {
                content_of(v)
            }
        },
        pass_mark,
    )
}

/// What a regrade does to a chair's certificate for one quiz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateChange {
    /// Nothing: she holds one and still passes, or holds none and still fails.
    Keep,
    /// Her attempt that counts now passes and she holds no valid certificate.
    Issue,
    /// Her attempt that counts now fails and she holds a valid certificate.
    Revoke,
}

/// The change for a chair whose attempts at a quiz read `after` once regraded.
pub fn certificate_change(holds_valid: bool, after: &[AttemptRecord]) -> CertificateChange {
    let passes = counting_attempt(after).is_some_and(|a| a.passed == Some(true));
    match (holds_valid, passes) {
        (false, true) => CertificateChange::Issue,
        (true, false) => CertificateChange::Revoke,
        _ => CertificateChange::Keep,
    }
}

/// An attempt with the result a regrade gives it.
pub fn with_result(a: &AttemptRecord, g: &Graded) -> AttemptRecord {
    AttemptRecord {
        correct: Some(g.score.correct as i32),
        passed: Some(g.passed),
        ..a.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::attempt::AttemptStatus;
    use crate::domain::question::{Answer, QuestionKind};
    use crate::domain::quiz::Given;
    use chrono::Utc;

    fn single(options: usize, key: usize) -> QuestionContent {
        QuestionContent {
            kind: QuestionKind::Single,
            stem: "问".into(),
            options: (0..options).map(|i| format!("选项{i}")).collect(),
            answer: Answer::Choices([key].into()),
            explanation: String::new(),
            citations: vec![],
            tags: vec![],
            difficulty: 1,
            rule: None,
        }
    }

    fn item(position: i32, version_id: i64, answer: usize) -> ItemRecord {
        ItemRecord {
            position,
            question_id: version_id / 10,
            version_id,
            order: vec![0, 1, 2, 3],
            answer: Some(Given::Choices([answer].into())),
            answered_at: None,
            correct: None,
        }
    }

    fn attempt(number: i32, correct: i32, passed: bool) -> AttemptRecord {
        let now = Utc::now();
        AttemptRecord {
            id: i64::from(number),
            quiz_id: 1,
            person_id: 1,
            number,
            seed: 0,
            status: AttemptStatus::Submitted,
            created_at: now,
            started_at: Some(now),
            deadline: now,
            submitted_at: Some(now),
            submitted_by: None,
            correct: Some(correct),
            total: 2,
            passed: Some(passed),
            makeup: false,
        }
    }

    #[test]
    fn only_the_questions_versions_are_graded_by_the_new_one() {
        // Question 1 (versions 11, 12) had key A and now B; question 2 (version 21) keeps key A.
        let (old, new, other) = (single(4, 0), single(4, 1), single(4, 0));
        let content = |v: i64| match v {
            11 => Some(&old),
            21 => Some(&other),
            _ => None,
        };
        let versions: HashSet<i64> = [11, 12].into();
        let items = [item(0, 11, 1), item(1, 21, 0)];
        assert_eq!(grade(&items, content, 2).score.correct, 1, "before: B was wrong");
        let g = regrade_attempt(&items, content, &versions, &new, 2);
        assert_eq!((g.score.correct, g.passed), (2, true));
        assert_eq!(g.items, vec![(0, true), (1, true)]);
    }

    #[test]
    fn answers_cannot_be_regraded_across_kinds_or_option_counts() {
        assert!(unregradable(&single(4, 0), &single(4, 2)).is_none());
        assert!(unregradable(&single(4, 0), &single(3, 0)).is_some());
        let tf = QuestionContent {
            kind: QuestionKind::TrueFalse,
            options: vec![],
            answer: Answer::Truth(true),
            ..single(0, 0)
        };
        assert!(unregradable(&single(4, 0), &tf).is_some());
        assert!(grading_changed(&single(4, 0), &single(4, 1)));
        assert!(!grading_changed(&single(4, 0), &single(4, 0)));
    }

    #[test]
    fn certificates_follow_the_attempt_that_counts() {
        // She failed once then passed: holding the certificate, she keeps it while either passes.
        let after = [attempt(1, 1, false), attempt(2, 2, true)];
        assert_eq!(certificate_change(true, &after), CertificateChange::Keep);
        let after = [attempt(1, 1, false), attempt(2, 1, false)];
        assert_eq!(certificate_change(true, &after), CertificateChange::Revoke);
        let after = [attempt(1, 2, true)];
        assert_eq!(certificate_change(false, &after), CertificateChange::Issue);
        assert_eq!(
            certificate_change(false, &[attempt(1, 0, false)]),
            CertificateChange::Keep
        );
    }
}
