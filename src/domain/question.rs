//! Questions as lawyers write them: kind, stem, options, the right answer(s), explanation and the statute
//! articles they test. Validation here is shared by the bank-file validator and the web editor.

use std::collections::BTreeSet;
use std::fmt;

use crate::i18n::Text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionKind {
    Single,
    Multiple,
    TrueFalse,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 3] = [QuestionKind::Single, QuestionKind::Multiple, QuestionKind::TrueFalse];

    pub fn code(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::TrueFalse => "true_false",
        }
    }

    pub fn parse(code: &str) -> Option<QuestionKind> {
        QuestionKind::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            QuestionKind::Single => lang.t("单选题", "Single choice"),
            QuestionKind::Multiple => lang.t("多选题", "Multiple choice"),
            QuestionKind::TrueFalse => lang.t("判断题", "True / false"),
        }
    }
}

/// The right answer: option indexes (0-based) for choice questions, or a truth value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Answer {
    Choices(BTreeSet<usize>),
    Truth(bool),
}

/// A reference to a statute article, optionally down to paragraph (款) and item (项), both 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Citation {
    pub statute: String,
    pub article: u32,
    pub paragraph: Option<u32>,
    pub item: Option<u32>,
}

impl fmt::Display for Citation {
    /// `civil-code 278 ¶2 (3)`: the compact form used in the editor and in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.statute, self.article)?;
        if let Some(p) = self.paragraph {
            write!(f, " ¶{p}")?;
        }
        if let Some(i) = self.item {
            write!(f, " ({i})")?;
        }
        Ok(())
    }
}

impl Citation {
    /// How a lawyer writes it: 《中华人民共和国民法典》第二百七十八条第二款第（三）项.
    pub fn label(&self, statute_title: &str) -> String {
        let mut s = format!("《{statute_title}》第{}条", chinese_number(self.article));
        if let Some(p) = self.paragraph {
            s.push_str(&format!("第{}款", chinese_number(p)));
        }
        if let Some(i) = self.item {
            s.push_str(&format!("第（{}）项", chinese_number(i)));
        }
        s
    }

    /// Parses the compact form: `civil-code 278`, `civil-code 278 2`, `civil-code 278 2 3`,
    /// also accepting `¶2` and `(3)`.
    pub fn parse(s: &str) -> Result<Citation, Text> {
        let parts: Vec<&str> = s.split_whitespace().collect();
        let num = |p: &str| {
            p.trim_matches(|c| matches!(c, '¶' | '(' | ')' | '（' | '）'))
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
        };
        let bad = || {
            Text::new(
                format!("法条依据“{s}”格式应为：法规代号 条 [款] [项]，例如 civil-code 278"),
                format!("citation “{s}” should read: statute article [paragraph] [item], e.g. civil-code 278"),
            )
        };
        match parts.as_slice() {
            [statute, article, rest @ ..] if rest.len() <= 2 => Ok(Citation {
                statute: statute.to_string(),
                article: num(article).ok_or_else(bad)?,
                paragraph: match rest.first() {
                    Some(p) => Some(num(p).ok_or_else(bad)?),
                    None => None,
                },
                item: match rest.get(1) {
                    Some(i) => Some(num(i).ok_or_else(bad)?),
                    None => None,
                },
            }),
            _ => Err(bad()),
        }
    }
}

/// Chinese numerals for article labels: 278 → 二百七十八.
pub fn chinese_number(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n == 0 {
        return DIGITS[0].into();
    }
    let (h, t, u) = (n / 100, (n / 10) % 10, n % 10);
    let mut s = String::new();
    if n >= 1000 {
        return n.to_string();
    }
    if h > 0 {
        s.push_str(DIGITS[h as usize]);
        s.push('百');
    }
    if t > 0 {
        if !(h == 0 && t == 1) {
            s.push_str(DIGITS[t as usize]);
        }
        s.push('十');
    } else if h > 0 && u > 0 {
        s.push('零');
    }
    if u > 0 {
        s.push_str(DIGITS[u as usize]);
    }
    s
}

/// The content of one version of a question.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuestionContent {
    pub kind: QuestionKind,
    pub stem: String,
    /// Empty for true/false.
    pub options: Vec<String>,
    pub answer: Answer,
    pub explanation: String,
    pub citations: Vec<Citation>,
    pub tags: Vec<String>,
    /// 1 easy, 2 medium, 3 hard.
    pub difficulty: u8,
    /// The rule the question tests, when the lawyer names it (`rule_key` derives one otherwise).
    pub rule: Option<String>,
}

/// A problem with a question, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: Text,
}

fn problem(field: &'static str, zh: impl Into<String>, en: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field,
        message: Text::new(zh, en),
    }
}

/// Option letters: A, B, C …
pub fn letter(index: usize) -> char {
    (b'A' + (index as u8).min(25)) as char
}

pub fn letter_index(letter: &str) -> Option<usize> {
    let l = letter.trim();
    let mut chars = l.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Some((c.to_ascii_uppercase() as u8 - b'A') as usize),
        _ => None,
    }
}

pub const MAX_OPTIONS: usize = 8;

/// Whether a rule key is well formed: 3–80 lowercase ASCII letters, digits and '-'.
pub fn valid_rule(rule: &str) -> bool {
    (3..=80).contains(&rule.len())
        && rule
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The rule a citation states, as a key: `civil-code-278-1-5` for article 278, paragraph 1, item 5.
pub fn derived_rule(c: &Citation) -> String {
    let mut key = format!("{}-{}", c.statute, c.article);
    for n in [c.paragraph, c.item].into_iter().flatten() {
        key.push_str(&format!("-{n}"));
    }
    key
}

impl QuestionContent {
    /// The rule the question tests: the lawyer's `rule`, else derived from its first citation. One quiz
    /// never asks two questions with the same rule, whichever banks they are in.
    pub fn rule_key(&self) -> String {
        match (&self.rule, self.citations.first()) {
            (Some(r), _) => r.clone(),
            (None, Some(c)) => derived_rule(c),
            (None, None) => String::new(),
        }
    }

    /// Every problem with the content itself (citations are checked against statutes separately).
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut out = self.missing();
        out.extend(self.option_problems());
        if let Some(r) = self.rule.as_deref().filter(|r| !valid_rule(r)) {
            out.push(problem(
                "rule",
                format!("规则编号“{r}”应为3到80个小写英文字母、数字或连字符（-），例如 civil-code-278-2"),
                format!("rule “{r}” should be 3 to 80 lowercase letters, digits or '-', e.g. civil-code-278-2"),
            ));
        }
        for t in &self.tags {
            if t.trim().is_empty() {
                out.push(problem("tags", "标签不能为空", "a tag is empty"));
            }
        }
        out.extend(self.answer_problems());
        out
    }

    /// Fields every question needs.
    fn missing(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        if self.stem.trim().is_empty() {
            out.push(problem("stem", "题干不能为空", "the stem is empty"));
        }
        if self.explanation.trim().is_empty() {
            out.push(problem("explanation", "解析不能为空", "the explanation is empty"));
        }
        if self.citations.is_empty() {
            out.push(problem(
                "citations",
                "至少需要一条法条依据",
                "at least one citation is required",
            ));
        }
        if !(1..=3).contains(&self.difficulty) {
            out.push(problem("difficulty", "难度应为 1、2 或 3", "difficulty is 1, 2 or 3"));
        }
        out
    }

    /// Empty and repeated options.
    fn option_problems(&self) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, o) in self.options.iter().enumerate() {
            if o.trim().is_empty() {
                out.push(problem(
                    "options",
                    format!("选项 {} 是空的", letter(i)),
                    format!("option {} is empty", letter(i)),
                ));
            } else if !seen.insert(o.trim()) {
                out.push(problem(
                    "options",
                    format!("选项 {} 与前面的选项重复", letter(i)),
                    format!("option {} repeats an earlier option", letter(i)),
                ));
            }
        }
        out
    }

    /// Whether the answer (and the options) fit the kind of question.
    fn answer_problems(&self) -> Vec<FieldProblem> {
        match (self.kind, &self.answer) {
            (QuestionKind::TrueFalse, Answer::Truth(_)) if !self.options.is_empty() => vec![problem(
                "options",
                "判断题不需要选项",
                "a true/false question has no options",
            )],
            (QuestionKind::TrueFalse, Answer::Truth(_)) => Vec::new(),
            (QuestionKind::TrueFalse, Answer::Choices(_)) => vec![problem(
                "answer",
                "判断题的答案应为 true 或 false",
                "a true/false answer is true or false",
            )],
            (_, Answer::Truth(_)) => vec![problem(
                "answer",
                "选择题的答案应为选项字母",
                "a choice answer is option letters",
            )],
            (kind, Answer::Choices(chosen)) => self.choice_problems(kind, chosen),
        }
    }

    fn choice_problems(&self, kind: QuestionKind, chosen: &BTreeSet<usize>) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        if self.options.len() < 2 || self.options.len() > MAX_OPTIONS {
            out.push(problem(
                "options",
                format!("选择题需要 2 到 {MAX_OPTIONS} 个选项"),
                format!("a choice question has 2 to {MAX_OPTIONS} options"),
            ));
        }
        if let Some(bad) = chosen.iter().find(|i| **i >= self.options.len()) {
            out.push(problem(
                "answer",
                format!("答案 {} 不在选项中", letter(*bad)),
                format!("answer {} is not one of the options", letter(*bad)),
            ));
        }
        match kind {
            QuestionKind::Single if chosen.len() != 1 => out.push(problem(
                "answer",
                format!("单选题必须恰好有一个正确答案，这里有 {} 个", chosen.len()),
                format!("a single-choice question has exactly one answer, not {}", chosen.len()),
            )),
            QuestionKind::Multiple if chosen.len() < 2 => out.push(problem(
                "answer",
                "多选题至少要有两个正确答案",
                "a multiple-choice question has at least two answers",
            )),
            _ => {}
        }
        out
    }

    /// A stable fingerprint of the content (a change makes a new version).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        field(self.kind.code());
        field(&self.stem);
        for o in &self.options {
            field(o);
        }
        field(&match &self.answer {
            Answer::Choices(c) => c.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","),
            Answer::Truth(b) => b.to_string(),
        });
        field(&self.explanation);
        for c in &self.citations {
            field(&c.to_string());
        }
        for t in &self.tags {
            field(t);
        }
        field(&self.difficulty.to_string());
        // Only when named: versions stored before rules existed keep their fingerprints.
        if let Some(r) = &self.rule {
            field("rule");
            field(r);
        }
        super::hex(&h.finalize())
    }

    /// The correct answer as shown to people: "B", "A、C", "正确".
    pub fn answer_label(&self, lang: crate::i18n::Lang) -> String {
        match &self.answer {
            Answer::Truth(true) => lang.t("正确", "True").into(),
            Answer::Truth(false) => lang.t("错误", "False").into(),
            Answer::Choices(c) => c.iter().map(|i| letter(*i).to_string()).collect::<Vec<_>>().join("、"),
        }
    }
}

/// The non-empty items of a list separated by any of `separators`, trimmed.
fn split_list(s: &str, separators: &[char]) -> Vec<String> {
    s.split(separators)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The answer as typed in the editor: 对/错 for true/false, option letters otherwise.
fn parse_answer(kind: QuestionKind, a: &str) -> Result<Answer, FieldProblem> {
    if kind == QuestionKind::TrueFalse {
        return match a.to_lowercase().as_str() {
            "对" | "正确" | "true" | "t" | "是" => Ok(Answer::Truth(true)),
            "错" | "错误" | "false" | "f" | "否" => Ok(Answer::Truth(false)),
            _ => Err(problem(
                "answer",
                "判断题的答案请填“对”或“错”",
                "a true/false answer is true or false",
            )),
        };
    }
    let letters = split_list(a, &[',', '，', '、', ' ']);
    let parsed: Option<BTreeSet<usize>> = letters.iter().map(|l| letter_index(l)).collect();
    match parsed {
        // A letter given twice is refused too (the set would be smaller than the list).
        Some(set) if !set.is_empty() && set.len() == letters.len() => Ok(Answer::Choices(set)),
        _ => Err(problem(
            "answer",
            "答案请填选项字母，如 B 或 A,C",
            "answer with option letters such as B or A,C",
        )),
    }
}

/// Whether a question id is well-formed: lowercase letters, digits and '-', 1–64 characters.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The editor's text fields, as typed.
pub struct QuestionDraft<'a> {
    pub kind: &'a str,
    pub stem: &'a str,
    /// One option per line.
    pub options: &'a str,
    /// `B`, `A,C`, or 对/错 (true/false).
    pub answer: &'a str,
    pub explanation: &'a str,
    /// One citation per line, compact form.
    pub citations: &'a str,
    /// Separated by commas (ASCII or Chinese) or 、.
    pub tags: &'a str,
    pub difficulty: &'a str,
    /// Empty: derived from the first citation.
    pub rule: &'a str,
}

impl QuestionDraft<'_> {
    /// Parses the text fields; every problem is reported against its field.
    pub fn parse(&self) -> Result<QuestionContent, Vec<FieldProblem>> {
        let mut errors = Vec::new();
        let kind = QuestionKind::parse(self.kind).unwrap_or(QuestionKind::Single);
        let answer = parse_answer(kind, self.answer.trim()).map_err(|p| errors.push(p)).ok();
        let mut citations = Vec::new();
        for line in self.citations.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match Citation::parse(line) {
                Ok(c) => citations.push(c),
                Err(t) => errors.push(FieldProblem {
                    field: "citations",
                    message: t,
                }),
            }
        }
        let Some(answer) = answer else { return Err(errors) };
        let content = QuestionContent {
            kind,
            stem: self.stem.trim().to_string(),
            options: if kind == QuestionKind::TrueFalse {
                Vec::new()
            } else {
                self.option_lines()
            },
            answer,
            explanation: self.explanation.trim().to_string(),
            citations,
            tags: split_list(self.tags, &[',', '，', '、']),
            difficulty: self.difficulty.trim().parse::<u8>().unwrap_or(0),
            rule: Some(self.rule.trim().to_string()).filter(|r| !r.is_empty()),
        };
        errors.extend(content.problems());
        if errors.is_empty() { Ok(content) } else { Err(errors) }
    }

    fn option_lines(&self) -> Vec<String> {
        (self.options.lines().map(str::trim))
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The citations that parse (for checking them against statutes even when another field is wrong).
    pub fn citations(&self) -> Vec<Citation> {
        self.citations
            .lines()
            .filter_map(|l| Citation::parse(l.trim()).ok())
            .collect()
    }

    /// The text fields for an existing question.
    pub fn fields_of(c: &QuestionContent) -> [String; 9] {
        [
            c.kind.code().to_string(),
            c.stem.clone(),
            c.options.join("\n"),
            match &c.answer {
                Answer::Truth(true) => "对".to_string(),
                Answer::Truth(false) => "错".to_string(),
                Answer::Choices(s) => s.iter().map(|i| letter(*i).to_string()).collect::<Vec<_>>().join(","),
            },
            c.explanation.clone(),
            c.citations.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("\n"),
            c.tags.join("，"),
            c.difficulty.to_string(),
            c.rule.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: QuestionKind, options: &[&str], answer: Answer) -> QuestionContent {
        QuestionContent {
            kind,
            stem: "题干".into(),
            options: options.iter().map(|s| s.to_string()).collect(),
            answer,
            explanation: "解析".into(),
            citations: vec![Citation {
                statute: "civil-code".into(),
                article: 278,
                paragraph: None,
                item: None,
            }],
            tags: vec![],
            difficulty: 2,
            rule: None,
        }
    }

    fn fields(c: &QuestionContent) -> Vec<&'static str> {
        c.problems().iter().map(|p| p.field).collect()
    }

    #[test]
    fn answer_rules_per_kind() {
        let one = Answer::Choices([1].into());
        let two = Answer::Choices([0, 2].into());
        assert!(fields(&q(QuestionKind::Single, &["a", "b", "c"], one.clone())).is_empty());
        assert_eq!(
            fields(&q(QuestionKind::Single, &["a", "b", "c"], two.clone())),
            ["answer"]
        );
        assert!(fields(&q(QuestionKind::Multiple, &["a", "b", "c"], two)).is_empty());
        assert_eq!(fields(&q(QuestionKind::Multiple, &["a", "b", "c"], one)), ["answer"]);
        assert_eq!(
            fields(&q(QuestionKind::Single, &["a", "b"], Answer::Choices([4].into()))),
            ["answer"]
        );
        assert!(fields(&q(QuestionKind::TrueFalse, &[], Answer::Truth(true))).is_empty());
        assert_eq!(
            fields(&q(QuestionKind::TrueFalse, &["a"], Answer::Truth(true))),
            ["options"]
        );
        assert_eq!(
            fields(&q(QuestionKind::Single, &["a", "a"], Answer::Choices([0].into()))),
            ["options"]
        );
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let a = q(QuestionKind::Single, &["a", "b"], Answer::Choices([0].into()));
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.stem.push('？');
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn citations_parse_and_print() {
        let c = Citation::parse("civil-code 278 ¶2 (3)").unwrap();
        assert_eq!((c.article, c.paragraph, c.item), (278, Some(2), Some(3)));
        assert_eq!(c.to_string(), "civil-code 278 ¶2 (3)");
        assert_eq!(Citation::parse(&c.to_string()).unwrap(), c);
        assert!(Citation::parse("civil-code").is_err());
        assert!(Citation::parse("civil-code x").is_err());
    }

    #[test]
    fn chinese_numbers() {
        assert_eq!(chinese_number(278), "二百七十八");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(15), "十五");
        assert_eq!(chinese_number(105), "一百零五");
        assert_eq!(chinese_number(20), "二十");
    }
}
