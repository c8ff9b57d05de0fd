//! Moodle's GIFT format, the parts that map onto our question kinds: multiple choice with one right
//! answer (`=`/`~`), multiple choice with several (`~%50%`), and true/false (`{T}`/`{F}`). General feedback
//! (`####…`) becomes the explanation. Other GIFT types (short answer, matching, numeric, essay) are
//! reported as unsupported, naming the line.
//!
//! Nothing is lost without a word: two questions run together (no blank line between them) and
//! repeated options are errors; feedback per answer, partial-credit weights and HTML/Markdown markup,
//! which our questions cannot hold, are warnings naming the line.

use std::collections::BTreeSet;

use super::{ImportResult, ImportedQuestion, Problem};
use crate::domain::question::{Answer, QuestionContent, QuestionKind};

/// Escaped characters are swapped for private-use code points while parsing, then restored.
const ESCAPES: [(char, char); 6] = [
    (':', '\u{E000}'),
    ('~', '\u{E001}'),
    ('=', '\u{E002}'),
    ('#', '\u{E003}'),
    ('{', '\u{E004}'),
    ('}', '\u{E005}'),
];

fn protect(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && let Some((_, p)) = ESCAPES.iter().find(|(e, _)| *e == next)
        {
            out.push(*p);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

fn restore(s: &str) -> String {
    s.chars()
        .map(|c| ESCAPES.iter().find(|(_, p)| *p == c).map(|(e, _)| *e).unwrap_or(c))
        .collect::<String>()
        .trim()
        .to_string()
}

/// Blocks of non-comment lines separated by blank lines, with the file line of each of their lines.
fn blocks(text: &str) -> Vec<(Vec<usize>, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(Vec<usize>, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches('\u{feff}');
        if line.trim_start().starts_with("//") || line.trim_start().starts_with("$CATEGORY") {
            continue;
        }
        if line.trim().is_empty() {
            if let Some(b) = cur.take() {
                out.push(b);
            }
            continue;
        }
        match &mut cur {
            Some((lines, s)) => {
                lines.push(i + 1);
                s.push('\n');
                s.push_str(line);
            }
            None => cur = Some((vec![i + 1], line.to_string())),
        }
    }
    out.extend(cur);
    out
}

/// A text format named in front of a GIFT text (`[html]…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    Html,
    Markdown,
}

/// Removes a leading `[plain]`, `[moodle]`, `[html]` or `[markdown]`; HTML tags are removed too (our
/// texts are plain), Markdown is kept as written. Other bracketed text (`[多选]`) is the text itself.
fn strip_format(s: &str) -> (String, Option<Markup>) {
    let t = s.trim_start();
    for (marker, markup) in [
        ("[plain]", None),
        ("[moodle]", None),
        ("[html]", Some(Markup::Html)),
        ("[markdown]", Some(Markup::Markdown)),
    ] {
        if t.len() >= marker.len() && t.is_char_boundary(marker.len()) && t[..marker.len()].eq_ignore_ascii_case(marker)
        {
            let rest = t[marker.len()..].trim_start();
            let text = if markup == Some(Markup::Html) {
                html_to_text(rest)
            } else {
                rest.to_string()
            };
            return (text, markup);
        }
    }
    (s.to_string(), None)
}

fn html_to_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn unsupported(line: usize, what: &str, en: &str) -> Problem {
    Problem::new(
        line,
        format!("不支持的 GIFT 题型：{what}（只支持单选、多选和判断题）"),
        format!("unsupported GIFT question type: {en} (only choice and true/false)"),
    )
}

/// What was read but not kept as written, line by line.
#[derive(Default)]
struct Warnings(Vec<Problem>);

impl Warnings {
    fn add(&mut self, line: usize, zh: impl Into<String>, en: impl Into<String>) {
        self.0.push(Problem::new(line, zh, en));
    }

    fn markup(&mut self, line: usize, markup: Option<Markup>) {
        match markup {
            Some(Markup::Html) => self.add(
                line,
                "HTML 格式的文字已去掉标记、按纯文本导入，请核对",
                "HTML text was imported as plain text with its tags removed; check it",
            ),
            Some(Markup::Markdown) => self.add(
                line,
                "Markdown 格式的文字按纯文本导入，标记符号保留在文字中，请核对",
                "Markdown text was imported as plain text, its marks left in; check it",
            ),
            None => {}
        }
    }
}

/// A question read from a block, with what was not kept as written.
struct Read {
    question: ImportedQuestion,
    warnings: Vec<Problem>,
}

/// A block with its escapes protected, and the file line of each of its lines.
struct Block<'a> {
    lines: &'a [usize],
    /// The block's first line: where problems with the question as a whole are reported.
    line: usize,
    text: String,
}

/// Where the parts of `::title:: stem {answers} trailing stem` lie in a block.
struct Parts<'b> {
    title: Option<String>,
    stem: &'b str,
    /// The answer part without its braces, trimmed.
    body: &'b str,
    /// The byte offset of `body` in the block.
    body_offset: usize,
    /// Text after the answer part (a fill-in-the-blank stem), trimmed.
    trailing: &'b str,
}

/// An answer as written: its mark (`=` right, `~` other), its line, and the text after the mark.
struct Written {
    mark: char,
    line: usize,
    text: String,
}

impl<'a> Block<'a> {
    fn new(lines: &'a [usize], block: &str) -> Block<'a> {
        Block {
            lines,
            line: lines.first().copied().unwrap_or(0),
            text: protect(block),
        }
    }

    /// The file line of a byte offset in the block (protecting keeps every newline in place).
    fn line_at(&self, offset: usize) -> usize {
        let n = self.text[..offset.min(self.text.len())].matches('\n').count();
        self.lines.get(n).copied().unwrap_or(self.line)
    }

    fn error(&self, zh: &str, en: &str) -> Vec<Problem> {
        vec![Problem::new(self.line, zh, en)]
    }

    fn parse(&self) -> Result<Read, Vec<Problem>> {
        let parts = self.parts()?;
        let mut warnings = Warnings::default();
        let stem = self.stem(&parts, &mut warnings)?;
        let (answers, explanation) = self.explanation(&parts, &mut warnings);
        let (kind, options, answer) = self.answers(answers, parts.body_offset, &mut warnings)?;
        let content = QuestionContent {
            kind,
            stem,
            options,
            answer,
            explanation,
            citations: Vec::new(),
            tags: Vec::new(),
            difficulty: 2,
            rule: None,
        };
        Ok(Read {
            question: ImportedQuestion {
                line: self.line,
                title: parts.title,
                content,
            },
            warnings: warnings.0,
        })
    }

    /// The kind, options and answer from the answer part (which starts at `offset` in the block).
    fn answers(
        &self,
        answers: &str,
        offset: usize,
        warnings: &mut Warnings,
    ) -> Result<(QuestionKind, Vec<String>, Answer), Vec<Problem>> {
        if let Some(truth) = self.true_false(answers, warnings) {
            return Ok((QuestionKind::TrueFalse, Vec::new(), Answer::Truth(truth)));
        }
        self.reject_unsupported(answers)?;
        let written = self.split_answers(answers, offset)?;
        let choices = Choices::read(&written, warnings)?;
        let kind = self.choice_kind(&choices, warnings)?;
        warnings.0.sort_by_key(|w| w.line);
        Ok((kind, choices.options, Answer::Choices(choices.correct)))
    }

    fn parts(&self) -> Result<Parts<'_>, Vec<Problem>> {
        let b = self.text.as_str();
        let (title, rest) = match b.strip_prefix("::").and_then(|r| r.split_once("::")) {
            Some((t, r)) => (Some(restore(t)), r),
            None => (None, b),
        };
        let base = b.len() - rest.len();
        let open = rest
            .find('{')
            .ok_or_else(|| self.error("缺少答案部分 {…}", "missing the answer part {…}"))?;
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| self.error("答案部分缺少右括号 }", "the answer part has no closing }"))?;
        let after = &rest[close + 1..];
        if let Some(next_open) = after.find('{') {
            return Err(vec![self.run_together(base + close + 1, after, next_open)]);
        }
        let inner = &rest[open + 1..close];
        Ok(Parts {
            title,
            stem: rest[..open].trim(),
            body: inner.trim(),
            body_offset: base + open + 1 + (inner.len() - inner.trim_start().len()),
            trailing: after.trim(),
        })
    }

    /// A second answer part after the first (`after` starts at `offset`): the next question was written
    /// without a blank line in between. Reported where that question starts.
    fn run_together(&self, offset: usize, after: &str, next_open: usize) -> Problem {
        let first_text = after.len() - after.trim_start().len();
        let starts = if after[..first_text].contains('\n') {
            first_text
        } else {
            after[..next_open].rfind('\n').map_or(next_open, |n| n + 1)
        };
        let line = self.line;
        Problem::new(
            self.line_at(offset + starts),
            format!(
                "这里开始了另一道题，但它和第{line}行的上一题之间没有空行；GIFT 用空行分隔题目，请在两题之间加一个空行"
            ),
            format!(
                "another question starts here with no blank line after the question on line {line}; GIFT separates questions with a blank line"
            ),
        )
    }

    /// The stem, with text after the answer part joined on as a blank to fill.
    fn stem(&self, parts: &Parts, warnings: &mut Warnings) -> Result<String, Vec<Problem>> {
        let (stem, markup) = strip_format(parts.stem);
        warnings.markup(self.line, markup);
        let mut stem = stem.trim().to_string();
        if !parts.trailing.is_empty() {
            stem = format!("{stem}____{}", parts.trailing);
        }
        let stem = restore(&stem);
        if stem.is_empty() {
            return Err(self.error("题干是空的", "the stem is empty"));
        }
        Ok(stem)
    }

    /// The answers, and the general feedback (`####…`) that becomes the explanation.
    fn explanation<'p>(&self, parts: &Parts<'p>, warnings: &mut Warnings) -> (&'p str, String) {
        match parts.body.split_once("####") {
            Some((answers, general)) => {
                let (general, markup) = strip_format(general);
                warnings.markup(self.line_at(parts.body_offset + answers.len()), markup);
                (answers.trim(), restore(&general))
            }
            None => (parts.body, String::new()),
        }
    }

    /// `{T}`, `{FALSE}`…: the truth of a true/false question.
    fn true_false(&self, answers: &str, warnings: &mut Warnings) -> Option<bool> {
        let mut tf = answers.split('#');
        let upper = tf.next().unwrap_or("").trim().to_uppercase();
        if !matches!(upper.as_str(), "T" | "TRUE" | "F" | "FALSE") {
            return None;
        }
        if tf.any(|f| !f.trim().is_empty()) {
            warnings.add(
                self.line,
                "判断题的答题反馈（# 后的文字）没有导入：本系统只有整题解析，如需要请写进解析",
                "the true/false feedback (after #) was not imported: questions here have one explanation; add it there if needed",
            );
        }
        Some(upper.starts_with('T'))
    }

    fn reject_unsupported(&self, answers: &str) -> Result<(), Vec<Problem>> {
        let (what, en) = if answers.is_empty() {
            ("问答题", "essay")
        } else if answers.starts_with('#') {
            ("数值题", "numeric")
        } else if answers.contains("->") {
            ("匹配题", "matching")
        } else {
            return Ok(());
        };
        Err(vec![unsupported(self.line, what, en)])
    }

    /// Splits the answer part at unescaped `=` and `~`, keeping the line each answer starts on.
    fn split_answers(&self, answers: &str, offset: usize) -> Result<Vec<Written>, Vec<Problem>> {
        let mut out: Vec<Written> = Vec::new();
        for (i, c) in answers.char_indices() {
            if c == '=' || c == '~' {
                out.push(Written {
                    mark: c,
                    line: self.line_at(offset + i),
                    text: String::new(),
                });
            } else if let Some(w) = out.last_mut() {
                w.text.push(c);
            } else if !c.is_whitespace() {
                return Err(self.error("答案部分应以 = 或 ~ 开头", "answers start with = or ~"));
            }
        }
        if !out.iter().any(|w| w.mark == '~') {
            return Err(vec![unsupported(self.line, "填空/简答题", "short answer")]);
        }
        Ok(out)
    }

    /// Single or multiple choice: several right answers only count when weights mark them.
    fn choice_kind(&self, choices: &Choices, warnings: &mut Warnings) -> Result<QuestionKind, Vec<Problem>> {
        let kind = if choices.weighted && choices.correct.len() > 1 {
            QuestionKind::Multiple
        } else {
            QuestionKind::Single
        };
        if choices.partial && kind == QuestionKind::Multiple {
            warnings.add(
                self.line,
                "多选题各选项的得分比例（如 %50%）没有导入：本系统多选题须全部选对才得分",
                "the per-option weights of this multiple-answer question (such as %50%) were not imported: all right answers must be chosen to score",
            );
        }
        if choices.correct.is_empty() {
            return Err(self.error(
                "没有标出正确答案（= 或正权重）",
                "no right answer marked (= or a positive weight)",
            ));
        }
        if kind == QuestionKind::Single && choices.correct.len() > 1 {
            return Err(self.error("单选题只能有一个 = 答案", "a single-choice question has one = answer"));
        }
        Ok(kind)
    }
}

/// The options of a choice question, which of them are right, and how weights were used.
#[derive(Default)]
struct Choices {
    options: Vec<String>,
    correct: BTreeSet<usize>,
    /// Some answer carries a `%weight%`.
    weighted: bool,
    /// Without any `=`, some weight is neither 100% nor absent: partial credit we cannot keep.
    partial: bool,
    /// Whether some answer is marked `=`; weights then only count as partial credit.
    has_equals: bool,
}

impl Choices {
    fn read(written: &[Written], warnings: &mut Warnings) -> Result<Choices, Vec<Problem>> {
        let mut choices = Choices {
            has_equals: written.iter().any(|w| w.mark == '='),
            ..Choices::default()
        };
        let errors: Vec<Problem> = (written.iter().enumerate())
            .filter_map(|(i, w)| choices.add(i, w, warnings).err())
            .collect();
        if errors.is_empty() { Ok(choices) } else { Err(errors) }
    }

    fn add(&mut self, i: usize, w: &Written, warnings: &mut Warnings) -> Result<(), Problem> {
        let mut parts = w.text.splitn(2, '#');
        let text = parts.next().unwrap_or("").trim();
        let feedback = parts.next().map(restore).unwrap_or_default();
        let (weight, text) =
            weight(text).ok_or_else(|| Problem::new(w.line, "答案权重应为 %数字%", "a weight reads %number%"))?;
        let (text, markup) = strip_format(text);
        warnings.markup(w.line, markup);
        let text = restore(&text);
        self.weighted |= weight.is_some();
        if w.mark == '=' || (!self.has_equals && weight.is_some_and(|w| w > 0.0)) {
            self.correct.insert(i);
        }
        self.note_dropped(w, &text, weight, &feedback, warnings);
        let repeated = self.options.contains(&text);
        let problem = repeated.then(|| {
            Problem::new(
                w.line,
                format!("选项“{text}”与前面的选项重复"),
                format!("option “{text}” repeats an earlier option"),
            )
        });
        self.options.push(text);
        problem.map_or(Ok(()), Err)
    }

    /// Partial credit and feedback per answer, which our questions cannot hold.
    fn note_dropped(&mut self, w: &Written, text: &str, weight: Option<f64>, feedback: &str, warnings: &mut Warnings) {
        match weight {
            Some(pct) if self.has_equals && pct > 0.0 && w.mark == '~' => warnings.add(
                w.line,
                format!("选项“{text}”的部分得分（{pct}%）没有导入，按错误选项处理：本系统每题只有对错"),
                format!(
                    "the partial credit of option “{text}” ({pct}%) was not imported; it counts as wrong: answers here are right or wrong"
                ),
            ),
            Some(pct) if !self.has_equals && pct != 100.0 => self.partial = true,
            _ => {}
        }
        if !feedback.is_empty() {
            warnings.add(
                w.line,
                format!("选项“{text}”的反馈“{feedback}”没有导入：本系统只有整题解析，如需要请写进解析"),
                format!(
                    "the feedback of option “{text}” (“{feedback}”) was not imported: questions here have one explanation; add it there if needed"
                ),
            );
        }
    }
}

/// A leading `%weight%` and the text after it; `None` when the weight is not a number.
fn weight(text: &str) -> Option<(Option<f64>, &str)> {
    match text.strip_prefix('%').and_then(|t| t.split_once('%')) {
        Some((w, t)) => w.trim().parse::<f64>().ok().map(|w| (Some(w), t.trim())),
        None => Some((None, text)),
    }
}

pub fn parse(text: &str) -> ImportResult {
    let mut out = ImportResult::default();
    for (lines, block) in blocks(text) {
        match Block::new(&lines, &block).parse() {
            Ok(r) => {
                out.questions.push(r.question);
                out.warnings.extend(r.warnings);
            }
            Err(p) => out.problems.extend(p),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_supported_kinds() {
        let r = parse(
            "// 注释\n::Q1:: 业主大会的决定对谁有约束力？ {~仅赞成者 =全体业主 ~业委会}\n\n\
             业委会可以自行决定使用维修资金。{F}\n\n\
             ::Q3:: 以下哪些需要业主共同决定？ {~%50%制定管理规约 ~%50%选举业委会 ~%-100%更换门锁 ####见民法典第278条}\n\n\
             2 \\= 2 {T}\n",
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.questions.len(), 4);
        assert_eq!(r.questions[0].content.answer, Answer::Choices([1].into()));
        assert_eq!(r.questions[1].content.answer, Answer::Truth(false));
        assert_eq!(r.questions[2].content.kind, QuestionKind::Multiple);
        assert_eq!(r.questions[2].content.explanation, "见民法典第278条");
        assert_eq!(r.questions[3].content.stem, "2 = 2");
    }

    #[test]
    fn names_the_line_of_unsupported_or_broken_questions() {
        let r = parse("好题 {=甲 ~乙}\n\n简答 {=甲}\n\n匹配 {=a -> 1 =b -> 2}\n\n\n缺括号 {=甲 ~乙\n");
        assert_eq!(r.questions.len(), 1);
        let lines: Vec<usize> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 5, 8]);
    }

    #[test]
    fn two_questions_without_a_blank_line_are_an_error_at_the_second() {
        let r = parse("// 题目\n::Q1:: 问题一 {=甲 ~乙}\n::Q2:: 问题二 {=丙 ~丁}\n\n问题三 {=戊 ~己}\n");
        assert_eq!(r.questions.len(), 1, "{:?}", r.questions);
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].line, 3);
        assert!(
            r.problems[0].message.zh.contains("第2行的上一题之间没有空行"),
            "{:?}",
            r.problems
        );
        // A comment line inside a block still counts for line numbers.
        let r = parse("问题一 {=甲 ~乙}\n// 注释\n问题二 {T}\n");
        assert_eq!(r.problems[0].line, 3, "{:?}", r.problems);
    }

    #[test]
    fn repeated_options_are_an_error_at_their_line() {
        let r = parse("问题\n{\n=甲\n~乙\n~甲\n}\n");
        assert!(r.questions.is_empty());
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].line, 5);
        assert!(r.problems[0].message.zh.contains("选项“甲”与前面的选项重复"));
    }

    #[test]
    fn format_markers_are_removed_and_markup_is_a_warning() {
        let r = parse(
            "::Q1::[html]<p>业主大会&amp;业委会</p> {=[plain]甲 ~[html]<b>乙</b> ####[markdown]见*第278条*}\n\n[多选] 保留方括号 {=甲 ~乙}\n",
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let q = &r.questions[0].content;
        assert_eq!(q.stem, "业主大会&业委会");
        assert_eq!(q.options, ["甲", "乙"]);
        assert_eq!(q.explanation, "见*第278条*");
        assert_eq!(r.questions[1].content.stem, "[多选] 保留方括号");
        let w: Vec<_> = r.warnings.iter().map(|w| (w.line, w.message.en.clone())).collect();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w.iter().all(|(l, _)| *l == 1));
        assert!(w.iter().filter(|(_, m)| m.contains("HTML")).count() == 2, "{w:?}");
        assert!(w.iter().any(|(_, m)| m.contains("Markdown")), "{w:?}");
    }

    #[test]
    fn feedback_per_answer_and_partial_weights_are_warnings_by_line() {
        let r = parse(
            "问题一 {\n=甲#对，见第278条\n~%50%乙#接近\n~丙\n}\n\n问题二 {~%50%甲 ~%50%乙 ~%-100%丙}\n\n问题三 {T#错了#对了}\n",
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.questions[0].content.answer,
            Answer::Choices([0].into()),
            "partial credit is not a right answer"
        );
        assert_eq!(r.questions[0].content.kind, QuestionKind::Single);
        assert_eq!(r.questions[1].content.kind, QuestionKind::Multiple);
        let w: Vec<_> = r.warnings.iter().map(|w| (w.line, w.message.zh.clone())).collect();
        assert_eq!(w.len(), 5, "{w:?}");
        assert!(
            w[0].0 == 2 && w[0].1.contains("选项“甲”的反馈“对，见第278条”没有导入"),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|(l, m)| *l == 3 && m.contains("选项“乙”的部分得分（50%）没有导入")),
            "{w:?}"
        );
        assert!(
            w.iter()
                .any(|(l, m)| *l == 3 && m.contains("选项“乙”的反馈“接近”没有导入")),
            "{w:?}"
        );
        assert!(
            w.iter().any(|(l, m)| *l == 7 && m.contains("多选题各选项的得分比例")),
            "{w:?}"
        );
        assert!(
            w.iter().any(|(l, m)| *l == 9 && m.contains("判断题的答题反馈")),
            "{w:?}"
        );
    }
}
