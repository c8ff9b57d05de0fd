//! Moodle's GIFT format, the parts that map onto our question kinds: multiple choice with one right
//! answer (`=`/`~`), multiple choice with several (`~%50%`), and true/false (`{T}`/`{F}`). General feedback
//! (`####…`) becomes the explanation. Other GIFT types (short answer, matching, numeric, essay) are
//! reported as unsupported, naming the line.

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

/// Blocks of non-comment lines separated by blank lines, with the line each starts on.
fn blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
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
            Some((_, s)) => {
                s.push('\n');
                s.push_str(line);
            }
            None => cur = Some((i + 1, line.to_string())),
        }
    }
    out.extend(cur);
    out
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

fn parse_block(line: usize, block: &str) -> Result<ImportedQuestion, Problem> {
    let b = protect(block);
    let bad = |zh: &str, en: &str| Problem {
        line,
        message: Text::new(zh, en),
    };
    let (title, rest) = match b.strip_prefix("::").and_then(|r| r.split_once("::")) {
        Some((t, r)) => (Some(restore(t)), r.to_string()),
        None => (None, b.clone()),
    };
    let open = rest
        .find('{')
        .ok_or_else(|| bad("缺少答案部分 {…}", "missing the answer part {…}"))?;
    let close = rest[open..]
        .find('}')
        .map(|c| open + c)
        .ok_or_else(|| bad("答案部分缺少右括号 }", "the answer part has no closing }"))?;
    let mut stem = rest[..open].trim().to_string();
    if stem.starts_with('[')
        && let Some(end) = stem.find(']')
    {
        stem = stem[end + 1..].trim().to_string(); // [html], [moodle], [markdown]
    }
    let after = rest[close + 1..].trim();
    if !after.is_empty() {
        stem = format!("{stem}____{after}");
    }
    let stem = restore(&stem);
    if stem.is_empty() {
        return Err(bad("题干是空的", "the stem is empty"));
    }
    let body = rest[open + 1..close].trim();
    let (body, explanation) = match body.split_once("####") {
        Some((b, g)) => (b.trim(), restore(g)),
        None => (body, String::new()),
    };
    let upper = body.split('#').next().unwrap_or("").trim().to_uppercase();
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
    if matches!(upper.as_str(), "T" | "TRUE" | "F" | "FALSE") {
        let truth = upper.starts_with('T');
        return Ok(ImportedQuestion {
            line,
            title,
            content: content(QuestionKind::TrueFalse, Vec::new(), Answer::Truth(truth)),
        });
    }
    if body.is_empty() {
        return Err(unsupported(line, "问答题", "essay"));
    }
    if body.starts_with('#') {
        return Err(unsupported(line, "数值题", "numeric"));
    }
    if body.contains("->") {
        return Err(unsupported(line, "匹配题", "matching"));
    }
    // Split into answers at unescaped = and ~.
    let mut answers: Vec<(char, String)> = Vec::new();
    for c in body.chars() {
        if c == '=' || c == '~' {
            answers.push((c, String::new()));
        } else if let Some((_, s)) = answers.last_mut() {
            s.push(c);
        } else if !c.is_whitespace() {
            return Err(bad("答案部分应以 = 或 ~ 开头", "answers start with = or ~"));
        }
    }
    if !answers.iter().any(|(c, _)| *c == '~') {
        return Err(unsupported(line, "填空/简答题", "short answer"));
    }
    let mut options = Vec::new();
    let mut correct = BTreeSet::new();
    let mut weighted = false;
    for (i, (mark, raw)) in answers.iter().enumerate() {
        let text = raw.split('#').next().unwrap_or("").trim();
        let (weight, text) = match text.strip_prefix('%').and_then(|t| t.split_once('%')) {
            Some((w, t)) => (
                Some(
                    w.trim()
                        .parse::<f64>()
                        .map_err(|_| bad("答案权重应为 %数字%", "a weight reads %number%"))?,
                ),
                t.trim(),
            ),
            None => (None, text),
        };
        weighted |= weight.is_some();
        if *mark == '=' || weight.is_some_and(|w| w > 0.0) {
            correct.insert(i);
        }
        options.push(restore(text));
    }
    let kind = if weighted && correct.len() > 1 {
        QuestionKind::Multiple
    } else {
        QuestionKind::Single
    };
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
    Ok(ImportedQuestion {
        line,
        title,
        content: content(kind, options, Answer::Choices(correct)),
    })
}

pub fn parse(text: &str) -> ImportResult {
    let mut out = ImportResult::default();
    for (line, block) in blocks(text) {
        match parse_block(line, &block) {
            Ok(q) => out.questions.push(q),
            Err(p) => out.problems.push(p),
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
}
