//! Validating a whole folder of banks: every file's own problems plus what only shows across files
//! (duplicate ids) and against the statutes (citations).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ParsedBank, Problem, format, statutes};
use crate::domain::statute::Statute;
use crate::i18n::Text;

/// One bank file, parsed, with all its problems.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub path: PathBuf,
    pub parsed: ParsedBank,
}

impl CheckedFile {
    pub fn is_valid(&self) -> bool {
        self.parsed.problems.is_empty() && self.parsed.meta.is_some()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub files: Vec<CheckedFile>,
    pub statutes: Vec<Statute>,
    /// Problems with statute files themselves.
    pub statute_problems: Vec<(String, Problem)>,
}

impl Report {
    /// All problems as `file:line: message` (English, for the terminal and logs).
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .statute_problems
            .iter()
            .map(|(f, p)| format!("{f}:{}: {}", p.line, p.message.en))
            .collect();
        for f in &self.files {
            for p in &f.parsed.problems {
                out.push(format!("{}:{}: {}", f.path.display(), p.line, p.message.en));
            }
        }
        out
    }

    pub fn is_clean(&self) -> bool {
        self.statute_problems.is_empty() && self.files.iter().all(CheckedFile::is_valid)
    }

    pub fn question_count(&self) -> usize {
        self.files.iter().map(|f| f.parsed.questions.len()).sum()
    }
}

/// Bank files are the `*.toml` files directly in `dir`; statutes are in `dir/statutes`.
pub fn check_dir(dir: &Path) -> Report {
    let (statutes, statute_problems) = statutes::load_dir(&dir.join("statutes"));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    let mut files: Vec<CheckedFile> = paths
        .into_iter()
        .map(|path| {
            let parsed = match std::fs::read_to_string(&path) {
                Ok(text) => format::parse(&text),
                Err(e) => ParsedBank {
                    problems: vec![Problem {
                        line: 0,
                        message: Text::new(format!("无法读取：{e}"), format!("cannot read: {e}")),
                    }],
                    ..Default::default()
                },
            };
            CheckedFile { path, parsed }
        })
        .collect();
    cross_check(&mut files, &statutes);
    Report {
        files,
        statutes,
        statute_problems,
    }
}

/// Checks across files: unique bank and question ids, citations that resolve.
pub fn cross_check(files: &mut [CheckedFile], statutes: &[Statute]) {
    let by_id: HashMap<&str, &Statute> = statutes.iter().map(|s| (s.short_id.as_str(), s)).collect();
    let mut question_ids: HashMap<String, (String, usize)> = HashMap::new();
    let mut bank_ids: HashMap<String, String> = HashMap::new();
    for f in files.iter_mut() {
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut extra = Vec::new();
        if let Some(meta) = &f.parsed.meta
            && let Some(other) = bank_ids.insert(meta.id.clone(), name.clone())
        {
            extra.push(Problem {
                line: 1,
                message: Text::new(
                    format!("题库编号“{}”与 {other} 重复", meta.id),
                    format!("bank id `{}` is also used by {other}", meta.id),
                ),
            });
        }
        for q in &f.parsed.questions {
            match question_ids.get(&q.id) {
                Some((other, line)) if *other != name => extra.push(Problem {
                    line: q.line,
                    message: Text::new(
                        format!("题目编号“{}”与 {other} 第{line}行重复", q.id),
                        format!("question id `{}` is also used at {other}:{line}", q.id),
                    ),
                }),
                Some(_) => {}
                None => {
                    question_ids.insert(q.id.clone(), (name.clone(), q.line));
                }
            }
            for (c, line) in q.content.citations.iter().zip(&q.citation_lines) {
                let problem = match by_id.get(c.statute.as_str()) {
                    None => Some(Text::new(
                        format!("未知的法规代号“{}”", c.statute),
                        format!("unknown statute `{}`", c.statute),
                    )),
                    Some(s) => s.check(c).err(),
                };
                if let Some(message) = problem {
                    extra.push(Problem { line: *line, message });
                }
            }
        }
        f.parsed.problems.extend(extra);
        f.parsed.problems.sort_by_key(|p| p.line);
    }
}
