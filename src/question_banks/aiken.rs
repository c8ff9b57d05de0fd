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
    /// The question's last line so far: where a missing ANSWER line belongs.
    last_line: usize,
    stem: String,
    options: Vec<String>,
    broken: bool,
}

impl Pending {
    fn new(line: usize, stem: &str) -> Pending {
        Pending {
            line,
            last_line: line,
            stem: stem.to_string(),
            options: Vec::new(),
            broken: false,
        }
    }

    fn into_question(self, answer: usize) -> ImportedQuestion {
        ImportedQuestion {
            line: self.line,
            title: None,
            content: QuestionContent {
                kind: QuestionKind::Single,
                stem: self.stem,
                options: self.options,
                answer: Answer::Choices(BTreeSet::from([answer])),
                explanation: String::new(),
                citations: Vec::new(),
                tags: Vec::new(),
                difficulty: 2,
                rule: None,
            },
        }
    }
}

/// A question's missing ANSWER line, reported at the question's own last line and naming it.
fn missing_answer(p: &Pending) -> Problem {
    let short: String = p.stem.chars().take(20).collect();
    let more = if p.stem.chars().count() > 20 { "…" } else { "" };
    Problem::new(
        p.last_line,
        format!(
            "第{}行的题目“{short}{more}”缺少 ANSWER 行（应在最后一个选项之后，如 ANSWER: B）",
            p.line
        ),
        format!(
            "the question on line {} (“{short}{more}”) has no ANSWER line (after its last option, e.g. ANSWER: B)",
            p.line
        ),
    )
}

/// Reading line by line: the question being read, and what was read so far.
#[derive(Default)]
struct Reader {
    out: ImportResult,
    cur: Option<Pending>,
}

impl Reader {
    fn problem(&mut self, line: usize, zh: impl Into<String>, en: impl Into<String>) {
        self.out.problems.push(Problem::new(line, zh, en));
    }

    /// A line that is neither option nor answer after a question's options, followed by an option A:
    /// the next question's stem, so this question lacks its ANSWER line.
    fn close_unanswered(&mut self, line: &str, following: &[&str]) {
        let next_is_option_a = || {
            following
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty())
                .and_then(option_line)
                .is_some_and(|(idx, _)| idx == 0)
        };
        if answer_line(line).is_none()
            && option_line(line).is_none()
            && self.cur.as_ref().is_some_and(|p| !p.options.is_empty())
            && next_is_option_a()
            && let Some(p) = self.cur.take()
        {
            self.out.problems.push(missing_answer(&p));
        }
    }

    /// `ANSWER: X` on line `n`: the question being read is complete.
    fn answer(&mut self, n: usize, ans: &str) {
        let Some(p) = self.cur.take() else {
            return self.problem(n, "ANSWER 行前面没有题目", "ANSWER line without a question");
        };
        if p.broken {
            return;
        }
        if p.options.len() < 2 {
            return self.problem(p.line, "题目至少需要两个选项", "a question needs at least two options");
        }
        match letter_index(ans).filter(|i| *i < p.options.len()) {
            Some(idx) => self.out.questions.push(p.into_question(idx)),
            None => self.problem(
                n,
                format!("答案“{ans}”不是本题的选项字母"),
                format!("answer `{ans}` is not one of this question's option letters"),
            ),
        }
    }

    /// Any other line `n`: a stem, an option, or a line that has no place.
    fn stem_or_option(&mut self, n: usize, line: &str) {
        let Some(p) = &mut self.cur else {
            self.cur = Some(Pending::new(n, line));
            return;
        };
        let (zh, en) = match option_line(line) {
            Some((idx, text)) => {
                let in_order = idx == p.options.len();
                p.options.push(text);
                p.last_line = n;
                if in_order {
                    return;
                }
                (
                    "选项字母应按 A、B、C 顺序排列",
                    "option letters must run A, B, C in order",
                )
            }
            None if p.options.is_empty() => ("Aiken 格式的题干只能占一行", "an Aiken stem is a single line"),
            None => (
                "这一行既不是选项（如 A. ……）也不是答案（ANSWER: B）",
                "this line is neither an option (A. …) nor the answer (ANSWER: B)",
            ),
        };
        p.broken = true;
        self.problem(n, zh, en);
    }

    fn finish(mut self) -> ImportResult {
        if let Some(p) = self.cur.take() {
            self.out.problems.push(missing_answer(&p));
        }
        self.out
    }
}

pub fn parse(text: &str) -> ImportResult {
    let lines: Vec<&str> = text.lines().collect();
    let mut reader = Reader::default();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() {
            continue;
        }
        reader.close_unanswered(line, &lines[i + 1..]);
        match answer_line(line) {
            Some(ans) => reader.answer(i + 1, ans),
            None => reader.stem_or_option(i + 1, line),
        }
    }
    reader.finish()
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
        assert_eq!(lines, vec![8, 14, 17], "{:?}", r.problems);
        assert!(r.problems[2].message.zh.contains("第15行的题目“问题四”缺少 ANSWER 行"));
    }

    #[test]
    fn a_missing_answer_is_reported_at_its_own_question_not_the_next() {
        let r = parse("问题一\nA. 甲\nB. 乙\n\n问题二\nA. 丙\nB. 丁\nANSWER: A\n");
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].line, 3);
        assert!(
            r.problems[0].message.zh.contains("第1行的题目“问题一”缺少 ANSWER 行"),
            "{:?}",
            r.problems
        );
        assert_eq!(r.questions.len(), 1, "the next question is read on its own");
        assert_eq!(r.questions[0].content.stem, "问题二");
    }
}
