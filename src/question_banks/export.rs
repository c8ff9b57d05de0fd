//! Writing a bank in the file format, so web edits go back into version control. `format::parse` of the
//! output gives the same questions.

use std::fmt::Write;

use super::BankMeta;
use crate::domain::question::{Answer, QuestionContent, letter};

fn s(v: &str) -> String {
    toml::Value::String(v.to_string()).to_string()
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.iter().map(|x| s(x)).collect::<Vec<_>>().join(", "))
}

pub fn write(meta: &BankMeta, questions: &[(String, QuestionContent)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} — exported by Quorum. Format: question-banks/FORMAT.md",
        meta.title
    );
    if meta.sample {
        let _ = writeln!(out, "# 示例题库：正式使用前须经执业律师审核。");
    }
    let _ = writeln!(out, "[bank]");
    let _ = writeln!(out, "id = {}", s(&meta.id));
    let _ = writeln!(out, "title = {}", s(&meta.title));
    let _ = writeln!(out, "topic = {}", s(&meta.topic));
    let _ = writeln!(out, "authors = {}", list(&meta.authors));
    let _ = writeln!(out, "reviewer = {}", s(&meta.reviewer));
    let _ = writeln!(out, "review_date = {}", meta.review_date);
    if meta.sample {
        let _ = writeln!(out, "sample = true");
    }
    for (id, q) in questions {
        let _ = writeln!(out, "\n[[question]]");
        let _ = writeln!(out, "id = {}", s(id));
        let _ = writeln!(out, "kind = {}", s(q.kind.code()));
        let _ = writeln!(out, "stem = {}", s(&q.stem));
        if !q.options.is_empty() {
            let _ = writeln!(out, "options = [");
            for o in &q.options {
                let _ = writeln!(out, "  {},", s(o));
            }
            let _ = writeln!(out, "]");
        }
        let answer = match &q.answer {
            Answer::Truth(b) => b.to_string(),
            Answer::Choices(c) if c.len() == 1 && q.kind != crate::domain::question::QuestionKind::Multiple => {
                s(&c.iter().map(|i| letter(*i).to_string()).collect::<String>())
            }
            Answer::Choices(c) => list(&c.iter().map(|i| letter(*i).to_string()).collect::<Vec<_>>()),
        };
        let _ = writeln!(out, "answer = {answer}");
        let _ = writeln!(out, "explanation = {}", s(&q.explanation));
        let _ = writeln!(out, "citations = [");
        for c in &q.citations {
            let mut parts = vec![
                format!("statute = {}", s(&c.statute)),
                format!("article = {}", c.article),
            ];
            if let Some(p) = c.paragraph {
                parts.push(format!("paragraph = {p}"));
            }
            if let Some(i) = c.item {
                parts.push(format!("item = {i}"));
            }
            let _ = writeln!(out, "  {{ {} }},", parts.join(", "));
        }
        let _ = writeln!(out, "]");
        if !q.tags.is_empty() {
            let _ = writeln!(out, "tags = {}", list(&q.tags));
        }
        let _ = writeln!(out, "difficulty = {}", q.difficulty);
    }
    out
}
