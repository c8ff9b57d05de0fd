//! Regrading: a lawyer corrects the key (or the options) of a question chairs have already answered,
//! and the attempts that answered it are graded again under the version now approved, as Moodle
//! regrades. Answers are kept as positions in the question's own option order, so an answer given
//! under one version reads the same under another only when the kind and the number of options match.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::attempt::{AttemptRecord, Graded, ItemRecord, counting_attempt};
use super::question::QuestionContent;
use super::quiz::{Score, is_correct};
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

/// An attempt graded again: items drawn from one of `versions` (the question's other versions) are
/// marked by `new`; every other item keeps the mark it has (an earlier regrade of another question
/// stays). An item of this question whose answer retention cleared (answered, no answer kept) keeps
/// its mark too: there is nothing to grade again.
pub fn regrade_attempt(items: &[ItemRecord], versions: &HashSet<i64>, new: &QuestionContent, pass_mark: u32) -> Graded {
    let results: Vec<(i32, bool)> = items
        .iter()
        .map(|i| {
            let cleared = i.answer.is_none() && i.answered_at.is_some();
            let right = if versions.contains(&i.version_id) && !cleared {
                is_correct(new, i.answer.as_ref())
            } else {
                i.correct.unwrap_or(false)
            };
            (i.position, right)
        })
        .collect();
    let score = Score {
        correct: results.iter().filter(|(_, ok)| *ok).count() as u32,
        total: items.len() as u32,
    };
    Graded {
        passed: score.passes(pass_mark),
        score,
        items: results,
    }
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

/// The change for a chair whose attempts at a quiz read `before` and, once regraded, `after`. Only a
/// regrade that turns her result acts on her certificate: one an admin revoked while she still passes
/// stays revoked, and a chair who failed without a certificate and still fails is left alone.
pub fn certificate_change(holds_valid: bool, before: &[AttemptRecord], after: &[AttemptRecord]) -> CertificateChange {
    let passes = |list: &[AttemptRecord]| counting_attempt(list).is_some_and(|a| a.passed == Some(true));
    match (passes(before), passes(after), holds_valid) {
        (false, true, false) => CertificateChange::Issue,
        (true, false, true) => CertificateChange::Revoke,
        _ => CertificateChange::Keep,
    }
}

/// The reason a regrade gives when it revokes a certificate; only such a revocation is undone by a
/// later regrade.
pub const REVOKED_BY_REGRADE: &str = "重新评分：";

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
    fn only_the_questions_items_are_marked_again_and_others_keep_their_marks() {
        // Question 1 (versions 11, 12) had key A and now B; question 2's item (version 21) keeps its
        // stored mark, whatever an earlier regrade made it.
        let new = single(4, 1);
        let versions: HashSet<i64> = [11, 12].into();
        let mut other = item(1, 21, 0);
        other.correct = Some(true);
        let mut mine = item(0, 11, 1);
        mine.correct = Some(false);
        let g = regrade_attempt(&[mine.clone(), other.clone()], &versions, &new, 2);
        assert_eq!((g.score.correct, g.passed), (2, true));
        assert_eq!(g.items, vec![(0, true), (1, true)]);
        // An answer cleared by retention (answered, nothing kept) is not graded again.
        let cleared = ItemRecord {
            answer: None,
            answered_at: Some(Utc::now()),
            correct: Some(true),
            ..mine
        };
        let g = regrade_attempt(&[cleared, other], &versions, &new, 2);
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
    fn certificates_follow_only_a_turned_result() {
        let failed = [attempt(1, 1, false)];
        let passed = [attempt(1, 2, true)];
        assert_eq!(certificate_change(false, &failed, &passed), CertificateChange::Issue);
        assert_eq!(certificate_change(true, &passed, &failed), CertificateChange::Revoke);
        // She failed once then passed: she keeps her certificate while the pass stands.
        let retaken = [attempt(1, 1, false), attempt(2, 2, true)];
        assert_eq!(certificate_change(true, &retaken, &retaken), CertificateChange::Keep);
        // An admin revoked it while she passes: a regrade that leaves her passing does not restore it.
        assert_eq!(certificate_change(false, &passed, &passed), CertificateChange::Keep);
        assert_eq!(certificate_change(false, &failed, &failed), CertificateChange::Keep);
    }
}
