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
use crate::i18n::Text;

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
    Problem {
        line,
        message: Text::new(
            format!("不支持的 GIFT 题型：{what}（只支持单选、多选和判断题）"),
            format!("unsupported GIFT question type: {en} (only choice and true/false)"),
        ),
    }
}

/// A question read from a block, with what was not kept as written.
struct Read {
    question: ImportedQuestion,
    warnings: Vec<Problem>,
}

fn parse_block(lines: &[usize], block: &str) -> Result<Read, Vec<Problem>> {
    let line = lines.first().copied().unwrap_or(0);
    let b = protect(block);
    // The file line of a byte offset in `b` (protecting keeps every newline in place).
    let line_at = |offset: usize| {
        let n = b[..offset.min(b.len())].matches('\n').count();
        lines.get(n).copied().unwrap_or(line)
    };
    let bad = |zh: &str, en: &str| {
        vec![Problem {
            line,
            message: Text::new(zh, en),
        }]
    };
    let (title, rest) = match b.strip_prefix("::").and_then(|r| r.split_once("::")) {
        Some((t, r)) => (Some(restore(t)), r),
        None => (None, b.as_str()),
    };
    let base = b.len() - rest.len();
    let open = rest
        .find('{')
        .ok_or_else(|| bad("缺少答案部分 {…}", "missing the answer part {…}"))?;
    let close = rest[open..]
        .find('}')
        .map(|c| open + c)
        .ok_or_else(|| bad("答案部分缺少右括号 }", "the answer part has no closing }"))?;
    let after = &rest[close + 1..];
    if let Some(next_open) = after.find('{') {
        // A second answer part: the next question was written without a blank line in between.
        let first_text = after.len() - after.trim_start().len();
        let starts = if after[..first_text].contains('\n') {
            first_text
        } else {
            after[..next_open].rfind('\n').map_or(next_open, |n| n + 1)
        };
        let at = line_at(base + close + 1 + starts);
        return Err(vec![Problem {
            line: at,
            message: Text::new(
                format!(
                    "这里开始了另一道题，但它和第{line}行的上一题之间没有空行；GIFT 用空行分隔题目，请在两题之间加一个空行"
                ),
                format!(
                    "another question starts here with no blank line after the question on line {line}; GIFT separates questions with a blank line"
                ),
            ),
        }]);
    }
    let mut warnings = Vec::new();
    let warn = |warnings: &mut Vec<Problem>, at: usize, zh: String, en: String| {
        warnings.push(Problem {
            line: at,
            message: Text::new(zh, en),
        })
    };
    let markup_warning = |warnings: &mut Vec<Problem>, at: usize, m: Option<Markup>| match m {
        Some(Markup::Html) => warn(
            warnings,
            at,
            "HTML 格式的文字已去掉标记、按纯文本导入，请核对".into(),
            "HTML text was imported as plain text with its tags removed; check it".into(),
        ),
        Some(Markup::Markdown) => warn(
            warnings,
            at,
            "Markdown 格式的文字按纯文本导入，标记符号保留在文字中，请核对".into(),
            "Markdown text was imported as plain text, its marks left in; check it".into(),
        ),
        None => {}
    };
    let (stem, stem_markup) = strip_format(rest[..open].trim());
    markup_warning(&mut warnings, line, stem_markup);
    let mut stem = stem.trim().to_string();
    let after = after.trim();
    if !after.is_empty() {
        stem = format!("{stem}____{after}");
    }
    let stem = restore(&stem);
    if stem.is_empty() {
        return Err(bad("题干是空的", "the stem is empty"));
    }
    let body_start = open + 1 + (rest[open + 1..close].len() - rest[open + 1..close].trim_start().len());
    let body = rest[open + 1..close].trim();
    let (body, explanation) = match body.split_once("####") {
        Some((b, g)) => {
            let (g, m) = strip_format(g);
            markup_warning(&mut warnings, line_at(base + body_start + b.len()), m);
            (b.trim(), restore(&g))
        }
        None => (body, String::new()),
    };
    let content = |kind, options, answer| QuestionContent {
        kind,
        stem: stem.clone(),
        options,
        answer,
        explanation: explanation.clone(),
        citations: Vec::new(),
        tags: Vec::new(),
        difficulty: 2,
    };
    let mut tf = body.split('#');
    let upper = tf.next().unwrap_or("").trim().to_uppercase();
    if matches!(upper.as_str(), "T" | "TRUE" | "F" | "FALSE") {
        if tf.any(|f| !f.trim().is_empty()) {
            warn(
                &mut warnings,
                line,
                "判断题的答题反馈（# 后的文字）没有导入：本系统只有整题解析，如需要请写进解析".into(),
                "the true/false feedback (after #) was not imported: questions here have one explanation; add it there if needed".into(),
            );
        }
        let truth = upper.starts_with('T');
        return Ok(Read {
            question: ImportedQuestion {
                line,
                title,
                content: content(QuestionKind::TrueFalse, Vec::new(), Answer::Truth(truth)),
            },
            warnings,
        });
    }
    if body.is_empty() {
        return Err(vec![unsupported(line, "问答题", "essay")]);
    }
    if body.starts_with('#') {
        return Err(vec![unsupported(line, "数值题", "numeric")]);
    }
    if body.contains("->") {
        return Err(vec![unsupported(line, "匹配题", "matching")]);
    }
    // Split into answers at unescaped = and ~, keeping where each starts.
    let mut answers: Vec<(char, usize, String)> = Vec::new();
    for (i, c) in body.char_indices() {
        if c == '=' || c == '~' {
            answers.push((c, line_at(base + body_start + i), String::new()));
        } else if let Some((_, _, s)) = answers.last_mut() {
            s.push(c);
        } else if !c.is_whitespace() {
            return Err(bad("答案部分应以 = 或 ~ 开头", "answers start with = or ~"));
        }
    }
    if !answers.iter().any(|(c, _, _)| *c == '~') {
        return Err(vec![unsupported(line, "填空/简答题", "short answer")]);
    }
    let has_equals = answers.iter().any(|(c, _, _)| *c == '=');
    let mut options: Vec<String> = Vec::new();
    let mut correct = BTreeSet::new();
    let mut weighted = false;
    let mut partial = false;
    let mut errors = Vec::new();
    for (i, (mark, at, raw)) in answers.iter().enumerate() {
        let mut parts = raw.splitn(2, '#');
        let text = parts.next().unwrap_or("").trim();
        let feedback = parts.next().map(restore).unwrap_or_default();
        let (weight, text) = match text.strip_prefix('%').and_then(|t| t.split_once('%')) {
            Some((w, t)) => match w.trim().parse::<f64>() {
                Ok(w) => (Some(w), t.trim()),
                Err(_) => {
                    errors.push(Problem {
                        line: *at,
                        message: Text::new("答案权重应为 %数字%", "a weight reads %number%"),
                    });
                    continue;
                }
            },
            None => (None, text),
        };
        let (text, m) = strip_format(text);
        markup_warning(&mut warnings, *at, m);
        let text = restore(&text);
        weighted |= weight.is_some();
        if *mark == '=' || (!has_equals && weight.is_some_and(|w| w > 0.0)) {
            correct.insert(i);
        }
        match weight {
            Some(w) if has_equals && w > 0.0 && *mark == '~' => warn(
                &mut warnings,
                *at,
                format!("选项“{text}”的部分得分（{w}%）没有导入，按错误选项处理：本系统每题只有对错"),
                format!(
                    "the partial credit of option “{text}” ({w}%) was not imported; it counts as wrong: answers here are right or wrong"
                ),
            ),
            Some(w) if !has_equals && w != 100.0 => partial = true,
            _ => {}
        }
        if !feedback.is_empty() {
            warn(
                &mut warnings,
                *at,
                format!("选项“{text}”的反馈“{feedback}”没有导入：本系统只有整题解析，如需要请写进解析"),
                format!(
                    "the feedback of option “{text}” (“{feedback}”) was not imported: questions here have one explanation; add it there if needed"
                ),
            );
        }
        if options.contains(&text) {
            errors.push(Problem {
                line: *at,
                message: Text::new(
                    format!("选项“{text}”与前面的选项重复"),
                    format!("option “{text}” repeats an earlier option"),
                ),
            });
        }
        options.push(text);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let kind = if weighted && correct.len() > 1 {
        QuestionKind::Multiple
    } else {
        QuestionKind::Single
    };
    if partial && kind == QuestionKind::Multiple {
        warn(
            &mut warnings,
            line,
            "多选题各选项的得分比例（如 %50%）没有导入：本系统多选题须全部选对才得分".into(),
            "the per-option weights of this multiple-answer question (such as %50%) were not imported: all right answers must be chosen to score".into(),
        );
    }
    if correct.is_empty() {
        return Err(bad(
            "没有标出正确答案（= 或正权重）",
            "no right answer marked (= or a positive weight)",
        ));
    }
    if kind == QuestionKind::Single && correct.len() > 1 {
        return Err(bad(
            "单选题只能有一个 = 答案",
            "a single-choice question has one = answer",
        ));
    }
    warnings.sort_by_key(|w| w.line);
    Ok(Read {
        question: ImportedQuestion {
            line,
            title,
            content: content(kind, options, Answer::Choices(correct)),
        },
        warnings,
    })
}

pub fn parse(text: &str) -> ImportResult {
    let mut out = ImportResult::default();
    for (lines, block) in blocks(text) {
        match parse_block(&lines, &block) {
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
