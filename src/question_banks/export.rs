//! Writing a bank in the file format, so web edits go back into version control. `format::parse` of the
//! output gives the same questions.

use std::fmt::Write;

use super::BankMeta;
use crate::domain::question::{Answer, Citation, QuestionContent, QuestionKind, letter};

fn s(v: &str) -> String {
    toml::Value::String(v.to_string()).to_string()
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.iter().map(|x| s(x)).collect::<Vec<_>>().join(", "))
}

pub fn write(meta: &BankMeta, questions: &[(String, QuestionContent)]) -> String {
    let mut out = String::new();
    write_header(&mut out, meta);
    for (id, q) in questions {
        write_question(&mut out, id, q);
    }
    out
}

// Writing to a String cannot fail, hence the ignored results.

fn write_header(out: &mut String, meta: &BankMeta) {
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
}

fn write_question(out: &mut String, id: &str, q: &QuestionContent) {
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
    let _ = writeln!(out, "answer = {}", answer(q));
    let _ = writeln!(out, "explanation = {}", s(&q.explanation));
    let _ = writeln!(out, "citations = [");
    for c in &q.citations {
        let _ = writeln!(out, "  {{ {} }},", citation(c));
    }
    let _ = writeln!(out, "]");
    if !q.tags.is_empty() {
        let _ = writeln!(out, "tags = {}", list(&q.tags));
    }
    let _ = writeln!(out, "difficulty = {}", q.difficulty);
    if let Some(r) = &q.rule {
        let _ = writeln!(out, "rule = {}", s(r));
    }
}

/// `true`/`false`, one letter, or a list of letters (always a list for a multiple-answer question).
fn answer(q: &QuestionContent) -> String {
    match &q.answer {
        Answer::Truth(b) => b.to_string(),
        Answer::Choices(c) if c.len() == 1 && q.kind != QuestionKind::Multiple => {
            s(&c.iter().map(|i| letter(*i).to_string()).collect::<String>())
        }
        Answer::Choices(c) => list(&c.iter().map(|i| letter(*i).to_string()).collect::<Vec<_>>()),
    }
}

fn citation(c: &Citation) -> String {
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
    parts.join(", ")
}
