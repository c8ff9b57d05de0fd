//! Moodle's Aiken format: a one-line stem, lettered options, then `ANSWER: X`.
//!
//! ```text
//! 业主大会的决定对谁有约束力？
//! A. 仅对投赞成票的业主
//! B. 对全体业主
//! ANSWER: B
//! ```

use std::collections::BTreeSet;

use super::{ImportResult, ImportedQuestion, Problem};
use crate::domain::question::{Answer, QuestionContent, QuestionKind, letter_index};
use crate::i18n::Text;

/// `A. text`, `A) text`, `A．text`, `A、text` → (index, text).
fn option_line(line: &str) -> Option<(usize, String)> {
    let mut chars = line.chars();
    let l = chars.next().filter(|c| c.is_ascii_uppercase())?;
    let sep = chars.next()?;
    if !matches!(sep, '.' | ')' | '．' | '、' | '）') {
        return None;
    }
    let text = chars.as_str().trim();
    (!text.is_empty()).then(|| (letter_index(&l.to_string()).unwrap_or(0), text.to_string()))
}

fn answer_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("ANSWER")?;
    Some(
        rest.trim_start()
            .strip_prefix(':')
            .or_else(|| rest.trim_start().strip_prefix('：'))?
            .trim(),
    )
}

struct Pending {
    line: usize,
    stem: String,
    options: Vec<String>,
    broken: bool,
}

pub fn parse(text: &str) -> ImportResult {
    let mut out = ImportResult::default();
    let mut cur: Option<Pending> = None;
    let problem = |line: usize, zh: String, en: String| Problem {
        line,
        message: Text::new(zh, en),
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        if let Some(ans) = answer_line(line) {
            let Some(p) = cur.take() else {
                out.problems.push(problem(
                    n,
                    "ANSWER 行前面没有题目".into(),
                    "ANSWER line without a question".into(),
                ));
                continue;
            };
            if p.broken {
                continue;
            }
            if p.options.len() < 2 {
                out.problems.push(problem(
                    p.line,
                    "题目至少需要两个选项".into(),
                    "a question needs at least two options".into(),
                ));
                continue;
            }
            match letter_index(ans).filter(|i| *i < p.options.len()) {
                Some(idx) => out.questions.push(ImportedQuestion {
                    line: p.line,
                    title: None,
                    content: QuestionContent {
                        kind: QuestionKind::Single,
                        stem: p.stem,
                        options: p.options,
                        answer: Answer::Choices(BTreeSet::from([idx])),
                        explanation: String::new(),
                        citations: Vec::new(),
                        tags: Vec::new(),
                        difficulty: 2,
                    },
                }),
                None => out.problems.push(problem(
                    n,
                    format!("答案“{ans}”不是本题的选项字母"),
                    format!("answer `{ans}` is not one of this question's option letters"),
                )),
            }
            continue;
        }
        match (&mut cur, option_line(line)) {
            (None, _) => {
                cur = Some(Pending {
                    line: n,
                    stem: line.to_string(),
                    options: Vec::new(),
                    broken: false,
                })
            }
            (Some(p), Some((idx, text))) => {
                if idx != p.options.len() {
                    out.problems.push(problem(
                        n,
                        "选项字母应按 A、B、C 顺序排列".into(),
                        "option letters must run A, B, C in order".into(),
                    ));
                    p.broken = true;
                }
                p.options.push(text);
            }
            (Some(p), None) if p.options.is_empty() => {
                out.problems.push(problem(
                    n,
                    "Aiken 格式的题干只能占一行".into(),
                    "an Aiken stem is a single line".into(),
                ));
                p.broken = true;
            }
            (Some(p), None) => {
                out.problems.push(problem(
                    n,
                    "这一行既不是选项（如 A. ……）也不是答案（ANSWER: B）".into(),
                    "this line is neither an option (A. …) nor the answer (ANSWER: B)".into(),
                ));
                p.broken = true;
            }
        }
    }
    if let Some(p) = cur {
        out.problems.push(problem(
            p.line,
            "题目缺少 ANSWER 行".into(),
            "the question has no ANSWER line".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_questions_and_reports_bad_lines() {
        let r = parse(
            "问题一\nA. 甲\nB) 乙\nANSWER: B\n\n问题二\nA. 甲\n乱写\nANSWER: A\n\n问题三\nA. 甲\nB. 乙\nANSWER: E\n问题四\nA. 甲\nB. 乙\n",
        );
        assert_eq!(r.questions.len(), 1);
        assert_eq!(r.questions[0].content.answer, Answer::Choices([1].into()));
        let lines: Vec<usize> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![8, 14, 15]);
    }
}
