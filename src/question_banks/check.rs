//! Validating a whole folder of banks: every file's own problems plus what only shows across files
//! (duplicate ids) and against the statutes (citations).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ParsedBank, Problem, format, statutes};
use crate::domain::statute::{Statute, citation_problem};

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

    /// Rules tested by questions in more than one file, each with `file:line id` of its questions: a
    /// quiz never draws two of them together, which a lawyer should know (not an error).
    pub fn shared_rules(&self) -> Vec<(String, Vec<String>)> {
        let mut by_rule: std::collections::BTreeMap<String, Vec<(usize, String)>> = Default::default();
        for (i, f) in self.files.iter().enumerate() {
            for q in &f.parsed.questions {
                let at = format!("{}:{}: {}", f.path.display(), q.line, q.id);
                by_rule.entry(q.content.rule_key()).or_default().push((i, at));
            }
        }
        by_rule
            .into_iter()
            .filter(|(rule, qs)| !rule.is_empty() && qs.iter().any(|(i, _)| *i != qs[0].0))
            .map(|(rule, qs)| (rule, qs.into_iter().map(|(_, at)| at).collect()))
            .collect()
    }
}

/// Which file keeps an id that several files use: the one the database already has it from. Empty for
/// a fresh database (and for `quorum banks check`), where the first file in sorted order keeps it.
#[derive(Debug, Clone, Default)]
pub struct Established {
    /// Bank id → the file that bank was loaded from.
    pub bank_files: HashMap<String, String>,
    /// Question id → the id of the bank that owns the question.
    pub question_banks: HashMap<String, String>,
}

/// Bank files are the `*.toml` files directly in `dir`; statutes are in `dir/statutes`.
pub fn check_dir(dir: &Path) -> Report {
    check_dir_with(dir, &Established::default())
}

/// Like [`check_dir`], with an id used by several files kept by the file the database has it from.
pub fn check_dir_with(dir: &Path, established: &Established) -> Report {
    let (statutes, statute_problems) = statutes::load_dir(&dir.join("statutes"));
    let mut files: Vec<CheckedFile> = bank_paths(dir)
        .into_iter()
        .map(|path| CheckedFile {
            parsed: parse_file(&path),
            path,
        })
        .collect();
    cross_check(&mut files, &statutes, established);
    Report {
        files,
        statutes,
        statute_problems,
    }
}

/// The `*.toml` files directly in `dir`, sorted.
fn bank_paths(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

fn parse_file(path: &Path) -> ParsedBank {
    match std::fs::read_to_string(path) {
        Ok(text) => format::parse(&text),
        Err(e) => ParsedBank {
            problems: vec![Problem::new(0, format!("无法读取：{e}"), format!("cannot read: {e}"))],
            ..Default::default()
        },
    }
}

/// Checks across files: unique bank and question ids, citations that resolve.
///
/// An id used by several files stays with one of them (see [`Established`]); every *other* use is the
/// error, reported at its own file and line and naming where the id is kept. So a question copied into
/// a new file refuses the new file, never the bank it was copied from.
pub fn cross_check(files: &mut [CheckedFile], statutes: &[Statute], established: &Established) {
    let mut clashes = Clashes::new(files, established);
    let bank_keeper = clashes.bank_ids();
    clashes.question_ids(&bank_keeper);
    let extra = clashes.extra;
    let by_id: HashMap<&str, &Statute> = statutes.iter().map(|s| (s.short_id.as_str(), s)).collect();
    for (f, mut extra) in files.iter_mut().zip(extra) {
        extra.extend(unknown_citations(&f.parsed, &by_id));
        f.parsed.problems.extend(extra);
        f.parsed.problems.sort_by_key(|p| p.line);
    }
}

/// Ids used by several files, and the problems they make per file.
struct Clashes<'f> {
    files: &'f [CheckedFile],
    established: &'f Established,
    /// The file name of each file, as messages name it.
    names: Vec<String>,
    /// The problems found per file.
    extra: Vec<Vec<Problem>>,
}

impl<'f> Clashes<'f> {
    fn new(files: &'f [CheckedFile], established: &'f Established) -> Clashes<'f> {
        let names = files
            .iter()
            .map(|f| {
                f.path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
            })
            .collect();
        Clashes {
            files,
            established,
            names,
            extra: vec![Vec::new(); files.len()],
        }
    }

    /// Reports every bank id used by a file other than its keeper; returns the keeper of each id.
    fn bank_ids(&mut self) -> HashMap<&'f str, usize> {
        let files = self.files;
        // File indices in sorted order per id.
        let mut bank_users: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, f) in files.iter().enumerate() {
            if let Some(meta) = &f.parsed.meta {
                bank_users.entry(meta.id.as_str()).or_default().push(i);
            }
        }
        let mut bank_keeper = HashMap::new();
        for (slug, users) in bank_users {
            let keeper = users
                .iter()
                .copied()
                .find(|&i| self.established.bank_files.get(slug) == Some(&self.names[i]))
                .unwrap_or(users[0]);
            bank_keeper.insert(slug, keeper);
            let (other, line) = (&self.names[keeper], files[keeper].parsed.bank_id_line);
            for &i in users.iter().filter(|&&i| i != keeper) {
                self.extra[i].push(Problem::new(
                    files[i].parsed.bank_id_line,
                    format!("题库编号“{slug}”已由 {other} 第{line}行使用，请为这个题库另起编号"),
                    format!("bank id `{slug}` is already used at {other}:{line}; give this bank its own id"),
                ));
            }
        }
        bank_keeper
    }

    /// Reports every question id used in a file other than the one that keeps it.
    fn question_ids(&mut self, bank_keeper: &HashMap<&str, usize>) {
        // (file, line) of every use, files in sorted order.
        let mut question_users: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        for (i, f) in self.files.iter().enumerate() {
            for q in &f.parsed.questions {
                question_users.entry(q.id.as_str()).or_default().push((i, q.line));
            }
        }
        for (qid, users) in &question_users {
            let (first_file, _) = users[0];
            if users.iter().all(|(i, _)| *i == first_file) {
                continue; // repeated within one file: the file's own check reports it
            }
            let keeper = self
                .established
                .question_banks
                .get(*qid)
                .and_then(|slug| bank_keeper.get(slug.as_str()))
                .copied()
                .filter(|k| users.iter().any(|(i, _)| i == k))
                .unwrap_or(first_file);
            self.question_id_used(qid, users, keeper);
        }
    }

    fn question_id_used(&mut self, qid: &str, users: &[(usize, usize)], keeper: usize) {
        let keeper_line = users.iter().find(|(i, _)| *i == keeper).map_or(0, |(_, l)| *l);
        let other = &self.names[keeper];
        for &(i, line) in users.iter().filter(|(i, _)| *i != keeper) {
            self.extra[i].push(Problem::new(
                line,
                format!("题目编号“{qid}”已在 {other} 第{keeper_line}行使用，请为这道题另起编号"),
                format!("question id `{qid}` is already used at {other}:{keeper_line}; give this question its own id"),
            ));
        }
    }
}

/// Citations of a file that name no known statute or no article of it.
fn unknown_citations(parsed: &ParsedBank, by_id: &HashMap<&str, &Statute>) -> Vec<Problem> {
    let mut out = Vec::new();
    for q in &parsed.questions {
        for (c, line) in q.content.citations.iter().zip(&q.citation_lines) {
            if let Some(message) = citation_problem(by_id.get(c.statute.as_str()).copied(), c) {
                out.push(Problem { line: *line, message });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::question::Citation;

    /// FORMAT.md teaches by example: every citation in its example must resolve against the shipped
    /// statutes, as a lawyer copying it would expect.
    #[test]
    fn the_format_guides_example_citations_resolve() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("question-banks");
        let guide = std::fs::read_to_string(root.join("FORMAT.md")).unwrap_or_default();
        let (statutes, problems) = statutes::load_dir(&root.join("statutes"));
        assert!(problems.is_empty(), "{problems:?}");
        let by_id: HashMap<&str, &Statute> = statutes.iter().map(|s| (s.short_id.as_str(), s)).collect();
        let mut seen = 0;
        for line in guide.lines().filter(|l| l.trim_start().starts_with("{ statute =")) {
            let inline = line.split('}').next().unwrap_or_default();
            let table: toml::Table = toml::from_str(&format!("c = {inline} }}")).unwrap_or_default();
            let c = table.get("c").and_then(|c| c.as_table()).cloned().unwrap_or_default();
            let num = |k: &str| c.get(k).and_then(toml::Value::as_integer).map(|n| n as u32);
            let citation = Citation {
                statute: c
                    .get("statute")
                    .and_then(toml::Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                article: num("article").unwrap_or(0),
                paragraph: num("paragraph"),
                item: num("item"),
            };
            let problem = citation_problem(by_id.get(citation.statute.as_str()).copied(), &citation);
            assert!(problem.is_none(), "{line}: {problem:?}");
            seen += 1;
        }
        assert!(seen >= 2, "the example's citations were found ({seen})");
    }
}
