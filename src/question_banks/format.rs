//! Reading a bank file (see `question-banks/FORMAT.md`).
//!
//! The file is split at its `[bank]` and `[[question]]` headers and each part is parsed on its own, so a
//! typo in one question does not hide the problems of the others, and every problem carries the line it
//! is on.

use std::collections::BTreeSet;

use serde::Deserialize;
use toml::Spanned;

use super::{BankMeta, FileQuestion, ParsedBank, Problem};
use crate::domain::question::{Answer, Citation, QuestionContent, QuestionKind, letter_index, valid_id};
use crate::i18n::Text;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderFile {
    id: Spanned<String>,
    title: Spanned<String>,
    topic: Spanned<String>,
    authors: Spanned<Vec<String>>,
    reviewer: Spanned<String>,
    review_date: Spanned<toml::value::Datetime>,
    #[serde(default)]
    sample: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    id: Spanned<String>,
    kind: Spanned<String>,
    stem: Spanned<String>,
    #[serde(default)]
    options: Option<Spanned<Vec<String>>>,
    answer: Spanned<toml::Value>,
    explanation: Spanned<String>,
    citations: Spanned<Vec<Spanned<CitationFile>>>,
    #[serde(default)]
    tags: Vec<String>,
    difficulty: Spanned<i64>,
    #[serde(default)]
    rule: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CitationFile {
    statute: String,
    article: i64,
    paragraph: Option<i64>,
    item: Option<i64>,
}

enum Section {
    Preamble,
    Bank,
    Question,
    Other(String),
}

/// One part of the file: its kind, the line of its header, and its body (the text after the header).
struct Part<'a> {
    section: Section,
    header_line: usize,
    body: &'a str,
}

/// The section a line opens, if it is a header.
fn header(line: &str) -> Option<Section> {
    let t = line.trim();
    let t = t.split('#').next().unwrap_or("").trim();
    match t {
        "[bank]" => Some(Section::Bank),
        "[[question]]" => Some(Section::Question),
        _ if t.starts_with('[') => Some(Section::Other(t.to_string())),
        _ => None,
    }
}

fn split(text: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let mut current = Part {
        section: Section::Preamble,
        header_line: 0,
        body: "",
    };
    let mut body_start = 0;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if let Some(section) = header(line) {
            current.body = &text[body_start..offset];
            parts.push(current);
            current = Part {
                section,
                header_line: i + 1,
                body: "",
            };
            body_start = offset + line.len();
        }
        offset += line.len();
    }
    current.body = &text[body_start..];
    parts.push(current);
    parts
}

/// Line number of a byte offset within a part's body.
fn line_of(part: &Part, byte: usize) -> usize {
    part.header_line + 1 + part.body[..byte.min(part.body.len())].matches('\n').count()
}

fn toml_problem(part: &Part, e: &toml::de::Error) -> Problem {
    let line = e.span().map(|s| line_of(part, s.start)).unwrap_or(part.header_line);
    let msg = e.message().trim().to_string();
    // Name the question when its id can still be read, so the message stands on its own.
    let prefix = match part.section {
        Section::Question => toml::from_str::<toml::Table>(part.body)
            .ok()
            .and_then(|t| {
                t.get("id")
                    .and_then(|v| v.as_str())
                    .map(|id| format!("question {id}: "))
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    let field = |m: &str, p: &str| m.strip_prefix(p).and_then(|r| r.split('`').nth(1)).map(str::to_string);
    let zh = if let Some(f) = field(&msg, "unknown field") {
        format!("未知字段“{f}”（可用字段见 FORMAT.md）")
    } else if let Some(f) = field(&msg, "missing field") {
        format!("缺少字段“{f}”")
    } else {
        format!("格式错误：{msg}")
    };
    Problem {
        line,
        message: Text::new(format!("{prefix}{zh}"), format!("{prefix}{msg}")),
    }
}

fn empty(line: usize, field: &str) -> Problem {
    Problem {
        line,
        message: Text::new(format!("“{field}”不能为空"), format!("`{field}` is empty")),
    }
}

pub fn parse(text: &str) -> ParsedBank {
    let mut reader = Reader::default();
    for part in split(text) {
        match &part.section {
            Section::Preamble => reader.preamble(&part),
            Section::Other(h) => reader.out.problems.push(Problem::new(
                part.header_line,
                format!("不认识的表头 {h}，只能是 [bank] 或 [[question]]"),
                format!("unknown section {h}; only [bank] and [[question]] are allowed"),
            )),
            Section::Bank => reader.bank(&part),
            Section::Question => reader.question(&part),
        }
    }
    reader.finish()
}

/// The bank read part by part, and the question ids seen so far.
#[derive(Default)]
struct Reader {
    out: ParsedBank,
    ids: BTreeSet<String>,
}

impl Reader {
    /// Only comments may stand before `[bank]`.
    fn preamble(&mut self, part: &Part) {
        if let Some(line) = part
            .body
            .lines()
            .position(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        {
            self.out.problems.push(Problem::new(
                line + 1,
                "文件应以 [bank] 开头",
                "the file must start with [bank]",
            ));
        }
    }

    fn bank(&mut self, part: &Part) {
        let h = match toml::from_str::<HeaderFile>(part.body) {
            Ok(h) => h,
            Err(e) => return self.out.problems.push(toml_problem(part, &e)),
        };
        if self.out.meta.is_some() {
            self.out.problems.push(Problem::new(
                part.header_line,
                "[bank] 只能出现一次",
                "[bank] appears twice",
            ));
        }
        self.out.bank_id_line = line_of(part, h.id.span().start);
        self.out.meta = Some(read_header(part, h, &mut self.out.problems));
    }

    fn question(&mut self, part: &Part) {
        let q = match toml::from_str::<QuestionFile>(part.body) {
            Ok(q) => q,
            Err(e) => return self.out.problems.push(toml_problem(part, &e)),
        };
        let Some(fq) = read_question(part, q, &mut self.out.problems) else {
            return;
        };
        if !self.ids.insert(fq.id.clone()) {
            self.out.problems.push(Problem::new(
                fq.line,
                format!("题目编号“{}”重复", fq.id),
                format!("duplicate question id `{}`", fq.id),
            ));
        }
        self.out.questions.push(fq);
    }

    fn finish(mut self) -> ParsedBank {
        let out = &mut self.out;
        if out.meta.is_none() && !out.problems.iter().any(|p| p.message.en.contains("[bank]")) {
            out.problems
                .push(Problem::new(1, "缺少 [bank] 部分", "the [bank] section is missing"));
        }
        out.problems.sort_by_key(|p| p.line);
        self.out
    }
}

fn read_header(part: &Part, h: HeaderFile, problems: &mut Vec<Problem>) -> BankMeta {
    check_header(part, &h, problems);
    BankMeta {
        id: h.id.into_inner(),
        title: h.title.into_inner().trim().to_string(),
        topic: h.topic.into_inner().trim().to_string(),
        authors: h.authors.into_inner(),
        reviewer: h.reviewer.into_inner(),
        review_date: h.review_date.get_ref().date.map(|d| d.to_string()).unwrap_or_default(),
        sample: h.sample,
    }
}

fn check_header(part: &Part, h: &HeaderFile, problems: &mut Vec<Problem>) {
    let at = |s: &std::ops::Range<usize>| line_of(part, s.start);
    if !valid_id(h.id.get_ref()) {
        problems.push(Problem::new(
            at(&h.id.span()),
            "题库编号只能包含小写字母、数字和连字符",
            "a bank id has lowercase letters, digits and '-' only",
        ));
    }
    for (field, v) in [("title", &h.title), ("topic", &h.topic), ("reviewer", &h.reviewer)] {
        if v.get_ref().trim().is_empty() {
            problems.push(empty(at(&v.span()), field));
        }
    }
    if h.authors.get_ref().iter().all(|a| a.trim().is_empty()) {
        problems.push(empty(at(&h.authors.span()), "authors"));
    }
    // The reviewer's name and date approve every question of a bank that is not a sample: a
    // placeholder cannot. (A sample's questions are approved in the web review queue in production.)
    let reviewer = h.reviewer.get_ref();
    if !h.sample && reviewer.contains('待') && reviewer.contains("审核") {
        problems.push(Problem::new(
            at(&h.reviewer.span()),
            "reviewer 应写审核本题库的执业律师姓名；尚未审核的题库请标明 sample = true",
            "reviewer should name the lawyer who reviewed the bank; mark a bank not yet reviewed `sample = true`",
        ));
    }
    if h.review_date.get_ref().date.is_none() || h.review_date.get_ref().time.is_some() {
        problems.push(Problem::new(
            at(&h.review_date.span()),
            "审核日期应为日期，例如 2026-11-20",
            "review_date should be a date such as 2026-11-20",
        ));
    }
}

fn read_answer(kind: QuestionKind, v: &toml::Value) -> Result<Answer, Text> {
    let letters = |vals: Vec<&str>| -> Result<Answer, Text> {
        let mut set = std::collections::BTreeSet::new();
        for l in vals {
            let i = letter_index(l).ok_or_else(|| {
                Text::new(
                    format!("答案“{l}”应为选项字母 A、B、C……"),
                    format!("answer `{l}` should be an option letter A, B, C…"),
                )
            })?;
            if !set.insert(i) {
                return Err(Text::new(format!("答案“{l}”重复"), format!("answer `{l}` is repeated")));
            }
        }
        Ok(Answer::Choices(set))
    };
    match (kind, v) {
        (_, toml::Value::Boolean(b)) => Ok(Answer::Truth(*b)),
        (_, toml::Value::String(s)) => letters(vec![s.as_str()]),
        (_, toml::Value::Array(a)) => {
            let strs: Option<Vec<&str>> = a.iter().map(|v| v.as_str()).collect();
            letters(strs.ok_or_else(|| Text::new("答案列表只能包含字母", "the answer list must hold letters"))?)
        }
        _ => Err(Text::new(
            "答案应为字母、字母列表或 true/false",
            "answer should be a letter, a list of letters or true/false",
        )),
    }
}

fn read_question(part: &Part, q: QuestionFile, problems: &mut Vec<Problem>) -> Option<FileQuestion> {
    let at = |s: std::ops::Range<usize>| line_of(part, s.start);
    let id = question_id(&q.id, at(q.id.span()), problems);
    let kind = question_kind(&q.kind, at(q.kind.span()), problems)?;
    let answer = read_answer(kind, q.answer.get_ref())
        .map_err(|message| {
            problems.push(Problem {
                line: at(q.answer.span()),
                message,
            })
        })
        .ok()?;
    let (citations, citation_lines) = read_citations(part, q.citations.get_ref(), problems);
    let lines = FieldLines::of(part, &q);
    let content = content(q, kind, answer, citations);
    problems.extend(content.problems().into_iter().map(|p| Problem {
        line: lines.line(p.field),
        message: p.message,
    }));
    problems.extend(first_screen_problem(&id, &content, lines.stem));
    // Returned even with problems: the id still counts for duplicate detection across files.
    Some(FileQuestion {
        line: part.header_line,
        id,
        content,
        citation_lines,
    })
}

/// A question a chair would have to scroll to read on her phone (`fit`), reported at its stem.
fn first_screen_problem(id: &str, content: &QuestionContent, stem_line: usize) -> Option<Problem> {
    let fit = super::fit::estimate(content);
    if fit.fits() {
        return None;
    }
    let (lines, max) = (fit.lines(), super::fit::Estimate::max_lines());
    Some(Problem::new(
        stem_line,
        format!("题目 {id} 在手机上一屏放不下（约 {lines} 行，最多 {max} 行；每行约 14 个字），请精简题干或选项"),
        format!(
            "question {id} does not fit a phone's first screen (about {lines} lines, at most {max}; a line holds \
             about 14 Chinese characters): shorten the stem or the options"
        ),
    ))
}

fn question_kind(kind: &Spanned<String>, line: usize, problems: &mut Vec<Problem>) -> Option<QuestionKind> {
    let kind = kind.get_ref();
    let parsed = QuestionKind::parse(kind);
    if parsed.is_none() {
        problems.push(Problem::new(
            line,
            format!("题型“{kind}”应为 single、multiple 或 true_false"),
            format!("kind `{kind}` should be single, multiple or true_false"),
        ));
    }
    parsed
}

fn content(q: QuestionFile, kind: QuestionKind, answer: Answer, citations: Vec<Citation>) -> QuestionContent {
    QuestionContent {
        kind,
        stem: q.stem.into_inner().trim().to_string(),
        options: q
            .options
            .map(|o| o.into_inner().into_iter().map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        answer,
        explanation: q.explanation.into_inner().trim().to_string(),
        citations,
        tags: q.tags.into_iter().map(|t| t.trim().to_string()).collect(),
        difficulty: u8::try_from(*q.difficulty.get_ref()).unwrap_or(0),
        rule: q.rule.map(|r| r.into_inner().trim().to_string()),
    }
}

fn question_id(id: &Spanned<String>, line: usize, problems: &mut Vec<Problem>) -> String {
    let id = id.get_ref().trim().to_string();
    if !valid_id(&id) {
        problems.push(Problem::new(
            line,
            format!("题目编号“{id}”只能包含小写字母、数字和连字符"),
            format!("question id `{id}` may hold lowercase letters, digits and '-' only"),
        ));
    }
    id
}

/// The citations that could be read, with the line of each.
fn read_citations(
    part: &Part,
    citations: &[Spanned<CitationFile>],
    problems: &mut Vec<Problem>,
) -> (Vec<Citation>, Vec<usize>) {
    let mut out = Vec::new();
    let mut lines = Vec::new();
    for c in citations {
        let line = line_of(part, c.span().start);
        match read_citation(c.get_ref()) {
            Ok((citation, problem)) => {
                problems.extend(problem.map(|(zh, en)| Problem::new(line, zh, en)));
                out.push(citation);
                lines.push(line);
            }
            Err((zh, en)) => problems.push(Problem::new(line, zh, en)),
        }
    }
    (out, lines)
}

type Message = (&'static str, &'static str);

/// A citation with positive numbers, and a problem that still lets it be read (an item without its
/// paragraph).
fn read_citation(cf: &CitationFile) -> Result<(Citation, Option<Message>), Message> {
    let positive = |n: i64| u32::try_from(n).ok().filter(|n| *n > 0);
    match (positive(cf.article), cf.paragraph.map(positive), cf.item.map(positive)) {
        (Some(article), p, i) if p != Some(None) && i != Some(None) => {
            let problem =
                (i.is_some() && p.is_none()).then_some(("引用“项”时必须同时写明“款”", "an item needs its paragraph"));
            let citation = Citation {
                statute: cf.statute.trim().to_string(),
                article,
                paragraph: p.flatten(),
                item: i.flatten(),
            };
            Ok((citation, problem))
        }
        _ => Err((
            "条、款、项的编号必须是正整数",
            "article, paragraph and item numbers are positive integers",
        )),
    }
}

/// The line of each field of a question, for the content's problems.
struct FieldLines {
    question: usize,
    stem: usize,
    explanation: usize,
    options: usize,
    answer: usize,
    difficulty: usize,
    citations: usize,
    rule: usize,
}

impl FieldLines {
    fn of(part: &Part, q: &QuestionFile) -> FieldLines {
        let at = |s: std::ops::Range<usize>| line_of(part, s.start);
        FieldLines {
            question: part.header_line,
            stem: at(q.stem.span()),
            explanation: at(q.explanation.span()),
            options: q.options.as_ref().map(|o| at(o.span())).unwrap_or(part.header_line),
            answer: at(q.answer.span()),
            difficulty: at(q.difficulty.span()),
            citations: at(q.citations.span()),
            rule: q.rule.as_ref().map(|r| at(r.span())).unwrap_or(part.header_line),
        }
    }

    fn line(&self, field: &str) -> usize {
        match field {
            "stem" => self.stem,
            "explanation" => self.explanation,
            "options" => self.options,
            "answer" => self.answer,
            "difficulty" => self.difficulty,
            "citations" => self.citations,
            "rule" => self.rule,
            _ => self.question,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"# sample
[bank]
id = "b"
title = "题库"
topic = "业主大会"
authors = ["甲"]
reviewer = "乙"
review_date = 2026-11-20

[[question]]
id = "q-1"
kind = "single"
stem = "题干"
options = ["甲", "乙"]
answer = "B"
explanation = "因为"
citations = [{ statute = "civil-code", article = 278 }]
difficulty = 1

[[question]]
id = "q-2"
kind = "true_false"
stem = "判断"
answer = false
explanation = "因为"
citations = [
  { statute = "civil-code", article = 278, paragraph = 1 },
]
tags = ["表决"]
difficulty = 2
"#;

    #[test]
    fn parses_a_good_file() {
        let p = parse(GOOD);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.meta.unwrap().review_date, "2026-11-20");
        assert_eq!(p.questions.len(), 2);
        assert_eq!(p.questions[1].line, 20);
        assert_eq!(p.questions[1].citation_lines, vec![27]);
    }

    #[test]
    fn reports_each_problem_on_its_line() {
        let bad = GOOD
            .replace("answer = \"B\"", "answer = \"C\"")
            .replace("kind = \"true_false\"", "kind = \"true_false\"\nanwser = 1");
        let p = parse(&bad);
        let lines: Vec<usize> = p.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![15, 23], "{:?}", p.problems);
        assert!(p.problems[1].message.en.contains("anwser"), "{:?}", p.problems[1]);
    }

    #[test]
    fn a_placeholder_reviewer_approves_only_a_sample_bank() {
        let placeholder = GOOD.replace("reviewer = \"乙\"", "reviewer = \"待执业律师审核\"");
        let p = parse(&placeholder);
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(p.problems[0].line, 7);
        assert!(p.problems[0].message.zh.contains("sample = true"));
        let sample = placeholder.replace("review_date = 2026-11-20", "review_date = 2026-11-20\nsample = true");
        assert!(parse(&sample).problems.is_empty());
    }

    #[test]
    fn a_question_too_long_for_a_phone_screen_is_reported_at_its_stem() {
        // With its two short options, the first question fits a phone's first screen with a stem of 15 lines
        // of 14 characters, and not with one more character.
        let with_stem = |n: usize| parse(&GOOD.replace("stem = \"题干\"", &format!("stem = \"{}\"", "字".repeat(n))));
        let p = with_stem(210);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let p = with_stem(211);
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(p.problems[0].line, 13);
        assert_eq!(
            p.problems[0].message.zh,
            "题目 q-1 在手机上一屏放不下（约 20 行，最多 19 行；每行约 14 个字），请精简题干或选项"
        );
        assert!(
            p.problems[0].message.en.starts_with("question q-1 does not fit"),
            "{:?}",
            p.problems[0]
        );
    }

    #[test]
    fn a_rule_is_read_and_a_malformed_one_reported_on_its_line() {
        let with_rule =
            |r: &str| parse(&GOOD.replacen("difficulty = 1", &format!("difficulty = 1\nrule = \"{r}\""), 1));
        let p = with_rule("civil-code-278-2-quorum");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.questions[0].content.rule.as_deref(), Some("civil-code-278-2-quorum"));
        assert_eq!(p.questions[0].content.rule_key(), "civil-code-278-2-quorum");
        assert_eq!(
            p.questions[1].content.rule_key(),
            p.questions[1]
                .content
                .citations
                .first()
                .map(crate::domain::question::derived_rule)
                .unwrap_or_default()
        );
        let p = with_rule("Civil Code 278");
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(p.problems[0].line, 19, "the rule's own line: {:?}", p.problems);
        assert!(
            p.problems[0].message.zh.contains("规则编号“Civil Code 278”"),
            "{:?}",
            p.problems
        );
    }
}
