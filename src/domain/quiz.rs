//! The in-class quiz (随堂测试): settings, the blueprint draw, option shuffling and grading.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::question::{Answer, QuestionContent, QuestionKind};
use crate::i18n::Text;

/// A quiz's life: a draft while it is being set up, open (from the room) until it closes — by the
/// moderator, or when its time runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuizStatus {
    Draft,
    Open,
    Closed,
}

impl QuizStatus {
    pub fn code(self) -> &'static str {
        match self {
            QuizStatus::Draft => "draft",
            QuizStatus::Open => "open",
            QuizStatus::Closed => "closed",
        }
    }

    pub fn parse(code: &str) -> Option<QuizStatus> {
        [QuizStatus::Draft, QuizStatus::Open, QuizStatus::Closed]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// A session's quiz.
#[derive(Debug, Clone)]
pub struct QuizRecord {
    pub id: i64,
    pub session_id: i64,
    pub settings: QuizSettings,
    pub status: QuizStatus,
    pub opened_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl QuizRecord {
    /// Where attendance stops being measured (`domain::attendance::lecture_window`): when the quiz was
    /// due to close or was closed, whichever came first — not when the background job got round to
    /// recording it (it lags, and after a crash it is the restart time). `None` while it runs.
    pub fn measured_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let due = self.closes_at.filter(|d| *d <= now);
        match (self.closed_at, due) {
            (Some(c), Some(d)) => Some(c.min(d)),
            (c, d) => c.or(d),
        }
    }

    /// Open and not past its deadline: the background job closes overdue quizzes a little later, so the
    /// status alone is not enough.
    pub fn takes_answers_at(&self, now: DateTime<Utc>) -> bool {
        self.status == QuizStatus::Open && self.closes_at.is_none_or(|c| c > now)
    }

    /// Settings can change only before the quiz opens.
    pub fn editable(&self) -> bool {
        self.status == QuizStatus::Draft
    }

    /// The quiz opened at `now`: it stays open long enough for every allowed attempt.
    pub fn opened(self, now: DateTime<Utc>) -> QuizRecord {
        QuizRecord {
            status: QuizStatus::Open,
            opened_at: Some(now),
            closes_at: Some(now + Duration::minutes(self.settings.open_minutes())),
            ..self
        }
    }

    /// The deadline of an attempt started at `now`: its time limit, but never past the quiz's closing.
    pub fn attempt_deadline(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let limit = now + Duration::minutes(i64::from(self.settings.time_limit_minutes));
        self.closes_at.map_or(limit, |c| c.min(limit))
    }
}

/// How many questions to draw from a topic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlueprintRule {
    pub topic: String,
    pub count: u32,
}

/// When answers and explanations are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    AfterSubmit,
    AfterClose,
}

impl Reveal {
    pub fn code(self) -> &'static str {
        match self {
            Reveal::AfterSubmit => "after_submit",
            Reveal::AfterClose => "after_close",
        }
    }

    pub fn parse(code: &str) -> Option<Reveal> {
        match code {
            "after_submit" => Some(Reveal::AfterSubmit),
            "after_close" => Some(Reveal::AfterClose),
            _ => None,
        }
    }
}

/// A session's quiz settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizSettings {
    pub blueprint: Vec<BlueprintRule>,
    /// Percent of questions right needed to pass (1–100).
    pub pass_mark: u32,
    pub time_limit_minutes: u32,
    pub attempts_allowed: u32,
    /// Minutes between attempts when retakes are allowed.
    pub retake_wait_minutes: u32,
    /// Minimum share of the lecture attended, percent (0 disables the gate).
    pub attendance_gate: u32,
    pub reveal: Reveal,
}

impl Default for QuizSettings {
    fn default() -> Self {
        QuizSettings {
            blueprint: Vec::new(),
            pass_mark: 60,
            time_limit_minutes: 15,
            attempts_allowed: 1,
            retake_wait_minutes: 0,
            attendance_gate: 60,
            reveal: Reveal::AfterSubmit,
        }
    }
}

pub type Problems = Vec<(&'static str, Text)>;

/// A day: longer waits would keep a quiz open for weeks after the session.
pub const MAX_RETAKE_WAIT_MINUTES: u32 = 24 * 60;

impl QuizSettings {
    /// The settings in one line, as the audit trail records them.
    pub fn summary(&self) -> String {
        let topics: Vec<String> = self
            .blueprint
            .iter()
            .map(|r| format!("{} {}", r.topic, r.count))
            .collect();
        format!(
            "出题：{}；及格 {}%；限时 {} 分钟；可答 {} 次；出勤要求 {}%",
            topics.join("、"),
            self.pass_mark,
            self.time_limit_minutes,
            self.attempts_allowed,
            self.attendance_gate
        )
    }

    /// Checks the numbers; `available` says how many drawable questions each topic has.
    pub fn check(&self, available: &dyn Fn(&str) -> u32) -> Problems {
        let mut p = self.check_blueprint(available);
        p.extend(self.check_numbers());
        p
    }

    fn check_blueprint(&self, available: &dyn Fn(&str) -> u32) -> Problems {
        let bad = |zh: String, en: String| ("blueprint", Text::new(zh, en));
        let mut p = Problems::new();
        if self.blueprint.is_empty() {
            p.push(bad(
                "请至少设置一个出题主题".into(),
                "add at least one topic to draw from".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for r in &self.blueprint {
            let t = &r.topic;
            if !seen.insert(t.as_str()) {
                p.push(bad(
                    format!("主题“{t}”出现了两次"),
                    format!("topic “{t}” appears twice"),
                ));
            }
            if r.count == 0 {
                p.push(bad(
                    format!("主题“{t}”的题数必须大于0"),
                    format!("topic “{t}” needs at least one question"),
                ));
            }
            let (have, n) = (available(t), r.count);
            if n > have {
                p.push(bad(
                    format!("主题“{t}”只有 {have} 道可用题目（须经律师批准，不含待复核；考同一规则的题只算一道），不够抽 {n} 道"),
                    format!(
                        "topic “{t}” has only {have} usable questions (approved by a lawyer, not awaiting review; those testing one rule count once), not {n}"
                    ),
                ));
            }
        }
        if self.total() > 100 {
            p.push(bad(
                "一次测试最多100道题".into(),
                "a quiz has at most 100 questions".into(),
            ));
        }
        p
    }

    /// Each number within its range, or a message for its field.
    fn check_numbers(&self) -> Problems {
        let w = MAX_RETAKE_WAIT_MINUTES;
        let wait_zh = format!("两次答题之间的等待应在0到{w}分钟之间");
        let wait_en = format!("the wait between attempts is 0 to {w} minutes");
        let rules: [(&'static str, bool, &str, &str); 5] = [
            (
                "pass_mark",
                (1..=100).contains(&self.pass_mark),
                "合格线应在1%到100%之间",
                "the pass mark is between 1% and 100%",
            ),
            (
                "time_limit_minutes",
                (1..=180).contains(&self.time_limit_minutes),
                "限时应在1到180分钟之间",
                "the time limit is 1 to 180 minutes",
            ),
            (
                "attempts_allowed",
                (1..=5).contains(&self.attempts_allowed),
                "答题次数应在1到5次之间",
                "attempts allowed is 1 to 5",
            ),
            ("retake_wait_minutes", self.retake_wait_minutes <= w, &wait_zh, &wait_en),
            (
                "attendance_gate",
                self.attendance_gate <= 100,
                "出勤要求应在0%到100%之间",
                "the attendance requirement is 0% to 100%",
            ),
        ];
        rules
            .into_iter()
            .filter(|(_, ok, _, _)| !ok)
            .map(|(field, _, zh, en)| (field, Text::new(zh, en)))
            .collect()
    }

    /// Questions in an attempt (saturating: an absurd blueprint is refused by `check`, never wrapped).
    pub fn total(&self) -> u32 {
        self.blueprint.iter().fold(0u32, |n, r| n.saturating_add(r.count))
    }

    /// How long the quiz stays open: room for every allowed attempt with the waits between them. In
    /// i64 minutes so that no setting can overflow it; `check` bounds the inputs far below that.
    pub fn open_minutes(&self) -> i64 {
        let limit = i64::from(self.time_limit_minutes);
        let retakes = i64::from(self.attempts_allowed).saturating_sub(1).max(0);
        limit.saturating_add(retakes.saturating_mul(limit.saturating_add(i64::from(self.retake_wait_minutes))))
    }
}

/// A small, fixed PRNG (SplitMix64): a draw must replay identically from its seed forever, whatever
/// version of a random-number crate the project later uses.
#[derive(Debug, Clone)]
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0), without modulo bias worth caring about at these sizes.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A question that may be drawn: its id and the version to pin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub question_id: i64,
    pub version_id: i64,
    /// Number of options (0 for true/false), for shuffling.
    pub options: usize,
    /// The rule it tests (`QuestionContent::rule_key`): one draw takes at most one question per rule.
    pub rule: String,
}

/// How many questions a pool can give one draw: one per rule.
pub fn distinct_rules(pool: &[Candidate]) -> usize {
    pool.iter().map(|c| c.rule.as_str()).collect::<BTreeSet<_>>().len()
}

/// One drawn item: the pinned version and the order its options are shown in
/// (`order[shown] = original index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawnItem {
    pub question_id: i64,
    pub version_id: i64,
    pub order: Vec<usize>,
}

/// Draws by the blueprint from per-topic pools (already limited to drawable questions), never two
/// questions with the same rule, whichever topics they come from. Reproducible: the same pools and
/// seed give the same items in the same order with the same option orders.
pub fn draw(
    blueprint: &[BlueprintRule],
    pools: &dyn Fn(&str) -> Vec<Candidate>,
    seed: u64,
) -> Result<Vec<DrawnItem>, Text> {
    let mut rng = SeededRng::new(seed);
    let mut items = Vec::new();
    let mut questions = BTreeSet::new();
    let mut rules = BTreeSet::new();
    for b in blueprint {
        let mut pool: Vec<Candidate> = pools(&b.topic)
            .into_iter()
            .filter(|c| !questions.contains(&c.question_id) && !rules.contains(&c.rule))
            .collect();
        pool.sort();
        let (t, have, n) = (&b.topic, distinct_rules(&pool), b.count as usize);
        if have < n {
            return Err(Text::new(
                format!("主题“{t}”只有 {have} 道可用题目（考同一规则的题只算一道），不够抽 {n} 道"),
                format!("topic “{t}” has only {have} usable questions (those testing one rule count once), not {n}"),
            ));
        }
        rng.shuffle(&mut pool);
        // The first of each rule in the shuffled pool: every question of a rule is as likely.
        let mut got = 0;
        for c in pool {
            if got == n {
                break;
            }
            if rules.insert(c.rule.clone()) {
                questions.insert(c.question_id);
                items.push(drawn(c, &mut rng));
                got += 1;
            }
        }
    }
    Ok(items)
}

/// A drawn question with its options in a shuffled order.
fn drawn(c: Candidate, rng: &mut SeededRng) -> DrawnItem {
    let mut order: Vec<usize> = (0..c.options).collect();
    rng.shuffle(&mut order);
    DrawnItem {
        question_id: c.question_id,
        version_id: c.version_id,
        order,
    }
}

/// What a chair answered, in the question's own (unshuffled) terms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Given {
    Choices(BTreeSet<usize>),
    Truth(bool),
}

/// Why an answer is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerProblem {
    NotAnOption,
    WrongShape,
    Empty,
}

/// Checks an answer against the question (options exist; one choice for single choice).
pub fn check_given(q: &QuestionContent, given: &Given) -> Result<(), AnswerProblem> {
    match (q.kind, given) {
        (QuestionKind::TrueFalse, Given::Truth(_)) => Ok(()),
        (QuestionKind::TrueFalse, _) | (_, Given::Truth(_)) => Err(AnswerProblem::WrongShape),
        (_, Given::Choices(c)) if c.is_empty() => Err(AnswerProblem::Empty),
        (_, Given::Choices(c)) if c.iter().any(|i| *i >= q.options.len()) => Err(AnswerProblem::NotAnOption),
        (QuestionKind::Single, Given::Choices(c)) if c.len() != 1 => Err(AnswerProblem::WrongShape),
        _ => Ok(()),
    }
}

/// Single choice and true/false: exact. Multiple choice: all or nothing.
pub fn is_correct(q: &QuestionContent, given: Option<&Given>) -> bool {
    match (&q.answer, given) {
        (Answer::Truth(t), Some(Given::Truth(g))) => t == g,
        (Answer::Choices(right), Some(Given::Choices(g))) => right == g,
        _ => false,
    }
}

/// The outcome of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub correct: u32,
    pub total: u32,
}

impl Score {
    pub fn percent(self) -> u32 {
        (self.correct * 100 + self.total / 2)
            .checked_div(self.total)
            .unwrap_or(0)
    }

    /// Passing compares exact fractions (no rounding up to the mark).
    pub fn passes(self, pass_mark: u32) -> bool {
        self.total > 0 && self.correct * 100 >= pass_mark * self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::question::Citation;

    fn pool(topic: &str) -> Vec<Candidate> {
        let base = if topic == "A" { 0 } else { 100 };
        (0..10)
            .map(|i| Candidate {
                question_id: base + i,
                version_id: 1000 + base + i,
                options: 4,
                rule: format!("rule-{}", base + i),
            })
            .collect()
    }

    /// Ten questions per topic on four rules (0, 1, 2 and 3 repeat), topic B sharing rules 2 and 3
    /// with topic A.
    fn shared(topic: &str) -> Vec<Candidate> {
        let base = if topic == "A" { 0 } else { 100 };
        let rules = if topic == "A" { [0, 1, 2, 3] } else { [2, 3, 4, 5] };
        (0..10)
            .map(|i| Candidate {
                question_id: base + i,
                version_id: 1000 + base + i,
                options: 4,
                rule: format!("rule-{}", rules[i as usize % 4]),
            })
            .collect()
    }

    #[test]
    fn a_draw_never_asks_one_rule_twice() {
        let rule_of = |q: i64| {
            shared(if q < 100 { "A" } else { "B" })
                .into_iter()
                .find(|c| c.question_id == q)
                .map(|c| c.rule)
        };
        let bp = |a: u32, b: u32| {
            vec![
                BlueprintRule {
                    topic: "A".into(),
                    count: a,
                },
                BlueprintRule {
                    topic: "B".into(),
                    count: b,
                },
            ]
        };
        let mut seen = BTreeSet::new();
        for seed in 0..2000 {
            let items = draw(&bp(3, 2), &shared, seed).unwrap();
            let rules: BTreeSet<_> = items.iter().map(|i| rule_of(i.question_id)).collect();
            assert_eq!(rules.len(), 5, "seed {seed}: {items:?}");
            seen.extend(items.iter().map(|i| i.question_id));
        }
        assert_eq!(seen.len(), 20, "every question is drawn by some seed");
        // A has four rules: five questions cannot come from it.
        let e = draw(&bp(5, 1), &shared, 1).unwrap_err();
        assert!(e.zh.contains("只有 4 道可用题目（考同一规则的题只算一道）"), "{}", e.zh);
        assert!(
            draw(&bp(4, 3), &shared, 1).is_err(),
            "A takes 2 and 3; B has only 4 and 5"
        );
        assert_eq!(distinct_rules(&shared("B")), 4);
    }

    #[test]
    fn draw_counts_per_topic_and_replays_from_the_seed() {
        let bp = vec![
            BlueprintRule {
                topic: "A".into(),
                count: 3,
            },
            BlueprintRule {
                topic: "B".into(),
                count: 4,
            },
        ];
        let a = draw(&bp, &pool, 42).unwrap();
        assert_eq!(a.len(), 7);
        assert_eq!(a.iter().filter(|i| i.question_id < 100).count(), 3);
        assert_eq!(a, draw(&bp, &pool, 42).unwrap(), "same seed, same draw");
        assert_ne!(a, draw(&bp, &pool, 43).unwrap(), "another seed, another draw");
        assert!(
            a.iter().all(|i| i.version_id == i.question_id + 1000),
            "versions pinned"
        );
        let mut o = a[0].order.clone();
        o.sort();
        assert_eq!(o, vec![0, 1, 2, 3], "options are a permutation");
        assert!(
            draw(
                &[BlueprintRule {
                    topic: "A".into(),
                    count: 11
                }],
                &pool,
                1
            )
            .is_err()
        );
    }

    #[test]
    fn the_generator_is_fixed_forever() {
        // Values computed independently from the SplitMix64 definition: changing the generator would
        // change the replay of every past attempt.
        let mut r = SeededRng::new(7);
        assert_eq!(
            [r.next_u64(), r.next_u64()],
            [0x63cb_e1e4_5932_0dd7, 0x044c_3cd7_f43c_661c]
        );
    }

    fn q(kind: QuestionKind, answer: Answer) -> QuestionContent {
        QuestionContent {
            kind,
            stem: "s".into(),
            options: if kind == QuestionKind::TrueFalse {
                vec![]
            } else {
                vec!["a".into(), "b".into(), "c".into()]
            },
            answer,
            explanation: "e".into(),
            citations: vec![Citation {
                statute: "x".into(),
                article: 1,
                paragraph: None,
                item: None,
            }],
            tags: vec![],
            difficulty: 1,
            rule: None,
        }
    }

    #[test]
    fn grading_rules() {
        let single = q(QuestionKind::Single, Answer::Choices([1].into()));
        assert!(is_correct(&single, Some(&Given::Choices([1].into()))));
        assert!(!is_correct(&single, Some(&Given::Choices([0].into()))));
        assert!(!is_correct(&single, None));
        let multi = q(QuestionKind::Multiple, Answer::Choices([0, 2].into()));
        assert!(is_correct(&multi, Some(&Given::Choices([0, 2].into()))));
        assert!(
            !is_correct(&multi, Some(&Given::Choices([0].into()))),
            "partly right is wrong"
        );
        assert!(!is_correct(&multi, Some(&Given::Choices([0, 1, 2].into()))));
        let tf = q(QuestionKind::TrueFalse, Answer::Truth(false));
        assert!(is_correct(&tf, Some(&Given::Truth(false))));
        assert_eq!(
            check_given(&single, &Given::Choices([0, 1].into())),
            Err(AnswerProblem::WrongShape)
        );
        assert_eq!(
            check_given(&single, &Given::Choices([7].into())),
            Err(AnswerProblem::NotAnOption)
        );
        assert_eq!(
            check_given(&tf, &Given::Choices([0].into())),
            Err(AnswerProblem::WrongShape)
        );
    }

    #[test]
    fn pass_marks_compare_exactly() {
        assert!(Score { correct: 6, total: 10 }.passes(60));
        assert!(!Score { correct: 5, total: 9 }.passes(60), "55.6% is below 60%");
        assert!(!Score { correct: 0, total: 0 }.passes(60));
        assert_eq!(Score { correct: 2, total: 3 }.percent(), 67);
    }

    #[test]
    fn numbers_are_bounded_and_never_wrap() {
        let s = QuizSettings {
            blueprint: vec![
                BlueprintRule {
                    topic: "A".into(),
                    count: u32::MAX,
                },
                BlueprintRule {
                    topic: "B".into(),
                    count: 2,
                },
            ],
            retake_wait_minutes: u32::MAX,
            attempts_allowed: 5,
            ..Default::default()
        };
        assert_eq!(s.total(), u32::MAX, "saturates instead of wrapping to 1");
        let p = s.check(&|_| u32::MAX);
        assert!(p.iter().any(|(f, _)| *f == "retake_wait_minutes"), "{p:?}");
        assert!(
            p.iter().any(|(f, t)| *f == "blueprint" && t.zh.contains("最多100道")),
            "{p:?}"
        );
        let ok = QuizSettings {
            time_limit_minutes: 180,
            attempts_allowed: 5,
            retake_wait_minutes: MAX_RETAKE_WAIT_MINUTES,
            ..Default::default()
        };
        assert_eq!(ok.open_minutes(), 180 + 4 * (180 + 1440));
    }

    #[test]
    fn settings_name_the_short_topic() {
        let s = QuizSettings {
            blueprint: vec![BlueprintRule {
                topic: "业主大会".into(),
                count: 30,
            }],
            ..Default::default()
        };
        let p = s.check(&|_| 21);
        assert!(
            p.iter().any(|(_, t)| t.zh.contains("主题“业主大会”只有 21 道")),
            "{p:?}"
        );
    }
}
