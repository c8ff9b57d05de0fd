//! Statute files (`question-banks/statutes/*.toml`): verbatim article texts with a revision date.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Problem;
use crate::domain::statute::{Article, Statute};
use crate::i18n::Text;

#[derive(Deserialize)]
struct StatuteFile {
    short_id: String,
    title: String,
    revision_date: toml::Value,
    #[serde(default)]
    article: Vec<ArticleFile>,
}

#[derive(Deserialize)]
struct ArticleFile {
    number: u32,
    #[serde(default)]
    label: String,
    #[serde(default)]
    chapter: String,
    text: String,
}

pub fn parse(text: &str) -> Result<Statute, Problem> {
    let f: StatuteFile = toml::from_str(text).map_err(|e| Problem {
        line: e.span().map(|s| text[..s.start].matches('\n').count() + 1).unwrap_or(0),
        message: Text::new(
            format!("法规文件格式错误：{}", e.message()),
            format!("statute file: {}", e.message()),
        ),
    })?;
    let revision_date = revision_date(&f.revision_date)?;
    let articles = articles(f.article)?;
    Ok(Statute {
        short_id: f.short_id,
        title: f.title,
        revision_date,
        articles,
    })
}

fn revision_date(v: &toml::Value) -> Result<String, Problem> {
    let revision_date = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => String::new(),
    };
    if chrono::NaiveDate::parse_from_str(&revision_date, "%Y-%m-%d").is_err() {
        return Err(Problem::new(
            0,
            "revision_date 应为日期，例如 2023-12-28",
            "revision_date should be a date such as 2023-12-28",
        ));
    }
    Ok(revision_date)
}

/// Articles by number; a number given twice is a problem.
fn articles(files: Vec<ArticleFile>) -> Result<BTreeMap<u32, Article>, Problem> {
    let mut articles = BTreeMap::new();
    for a in files {
        if articles.contains_key(&a.number) {
            return Err(Problem::new(
                0,
                format!("第{}条出现了两次", a.number),
                format!("article {} appears twice", a.number),
            ));
        }
        articles.insert(
            a.number,
            Article {
                number: a.number,
                label: a.label,
                chapter: a.chapter,
                text: a.text,
            },
        );
    }
    Ok(articles)
}

/// Every statute in a folder, or the problems per file.
pub fn load_dir(dir: &Path) -> (Vec<Statute>, Vec<(String, Problem)>) {
    let mut statutes = Vec::new();
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (statutes, problems);
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&text) {
                Ok(s) => statutes.push(s),
                Err(p) => problems.push((name, p)),
            },
            Err(e) => problems.push((
                name,
                Problem {
                    line: 0,
                    message: Text::new(format!("无法读取：{e}"), format!("cannot read: {e}")),
                },
            )),
        }
    }
    (statutes, problems)
}
