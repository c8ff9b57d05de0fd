//! Statutes as versioned texts: each revision has its articles; a question cites (statute, article) and an
//! attempt shows the article text of the revision the question version was written against.

use std::collections::BTreeMap;

use super::question::Citation;
use crate::i18n::Text;

/// A statute as registered: its id, title and the revision in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatuteInfo {
    pub short_id: String,
    pub title: String,
    pub current_revision: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub number: u32,
    pub label: String,
    pub chapter: String,
    pub text: String,
}

impl Article {
    /// Whether a paragraph (款) and item (项) exist in the text. Paragraphs are the lines that are not
    /// items; items are lines starting with （一）/(一)… and belong to the paragraph above them.
    pub fn has(&self, paragraph: Option<u32>, item: Option<u32>) -> bool {
        let Some(p) = paragraph else { return item.is_none() };
        let mut para = 0;
        let mut items_in_para = 0;
        let mut found_para = false;
        for line in self.text.lines() {
            if is_item_line(line) {
                if para == p {
                    items_in_para += 1;
                }
            } else {
                para += 1;
                if para == p {
                    found_para = true;
                }
            }
        }
        match item {
            None => found_para,
            Some(i) => found_para && i >= 1 && i <= items_in_para,
        }
    }
}

fn is_item_line(line: &str) -> bool {
    let l = line.trim_start();
    (l.starts_with('（') && l.contains('）') && l.chars().nth(1).is_some_and(is_cn_digit))
        || (l.starts_with('(') && l.contains(')') && l.chars().nth(1).is_some_and(is_cn_digit))
}

fn is_cn_digit(c: char) -> bool {
    "一二三四五六七八九十".contains(c)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statute {
    pub short_id: String,
    pub title: String,
    /// ISO date of the revision (e.g. 2023-12-28).
    pub revision_date: String,
    pub articles: BTreeMap<u32, Article>,
}

/// What is wrong with a citation, given the statute its code names (none: the code is unknown).
pub fn citation_problem(statute: Option<&Statute>, c: &Citation) -> Option<Text> {
    match statute {
        None => Some(Text::new(
            format!("未知的法规代号“{}”", c.statute),
            format!("unknown statute `{}`", c.statute),
        )),
        Some(s) => s.check(c).err(),
    }
}

impl Statute {
    /// Checks that a citation points at something this statute contains.
    pub fn check(&self, c: &Citation) -> Result<(), Text> {
        let Some(a) = self.articles.get(&c.article) else {
            return Err(Text::new(
                format!("《{}》中没有第{}条", self.title, c.article),
                format!("{} has no article {}", self.short_id, c.article),
            ));
        };
        if !a.has(c.paragraph, c.item) {
            return Err(Text::new(
                format!("《{}》第{}条没有所引的款或项（{}）", self.title, c.article, c),
                format!(
                    "{} article {} has no such paragraph or item ({c})",
                    self.short_id, c.article
                ),
            ));
        }
        Ok(())
    }

    /// Articles whose text differs in `newer` (or that it no longer has).
    pub fn changed_in(&self, newer: &Statute) -> Vec<u32> {
        self.articles
            .iter()
            .filter(|(n, a)| newer.articles.get(n).is_none_or(|b| b.text != a.text))
            .map(|(n, _)| *n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(text: &str) -> Article {
        Article {
            number: 1,
            label: "第一条".into(),
            chapter: String::new(),
            text: text.into(),
        }
    }

    #[test]
    fn paragraphs_and_items() {
        let a = art("第一款：\n（一）甲；\n（二）乙。\n第二款。\n(一)丙");
        assert!(a.has(None, None));
        assert!(a.has(Some(1), None) && a.has(Some(2), None) && !a.has(Some(3), None));
        assert!(a.has(Some(1), Some(2)) && !a.has(Some(1), Some(3)));
        assert!(a.has(Some(2), Some(1)));
        assert!(!a.has(None, Some(1)));
    }
}

/// One article in force and the drawable questions citing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleCoverage {
    pub article: u32,
    pub label: String,
    pub chapter: String,
    /// Ids of the questions citing the article (any of their citations), sorted.
    pub questions: Vec<String>,
}

/// A statute's articles with the questions citing each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatuteCoverage {
    pub short_id: String,
    pub title: String,
    pub revision_date: String,
    pub articles: Vec<ArticleCoverage>,
}

impl StatuteCoverage {
    pub fn covered(&self) -> usize {
        self.articles.iter().filter(|a| !a.questions.is_empty()).count()
    }
}

/// Which articles of the statutes in force the questions cite: `cited` holds each question's id and
/// citations. A question citing one article twice (two paragraphs) counts once for it.
pub fn coverage(statutes: &[Statute], cited: &[(String, Vec<Citation>)]) -> Vec<StatuteCoverage> {
    let mut by_article: BTreeMap<(&str, u32), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (qid, citations) in cited {
        for c in citations {
            by_article
                .entry((c.statute.as_str(), c.article))
                .or_default()
                .insert(qid);
        }
    }
    statutes
        .iter()
        .map(|s| StatuteCoverage {
            short_id: s.short_id.clone(),
            title: s.title.clone(),
            revision_date: s.revision_date.clone(),
            articles: s
                .articles
                .values()
                .map(|a| ArticleCoverage {
                    article: a.number,
                    label: a.label.clone(),
                    chapter: a.chapter.clone(),
                    questions: by_article
                        .get(&(s.short_id.as_str(), a.number))
                        .map(|q| q.iter().map(|q| q.to_string()).collect())
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod coverage_tests {
    use super::*;

    #[test]
    fn coverage_counts_each_question_once_per_article_and_lists_the_uncovered() {
        let article = |number: u32| {
            (
                number,
                Article {
                    number,
                    label: format!("第{number}条"),
                    chapter: "第一章".into(),
                    text: "……".into(),
                },
            )
        };
        let statute = Statute {
            short_id: "law".into(),
            title: "某法".into(),
            revision_date: "2024-01-01".into(),
            articles: [article(1), article(2), article(3)].into_iter().collect(),
        };
        let cite = |statute: &str, article: u32, paragraph: Option<u32>| Citation {
            statute: statute.into(),
            article,
            paragraph,
            item: None,
        };
        let cited = vec![
            (
                "q-1".to_string(),
                vec![cite("law", 1, Some(1)), cite("law", 1, Some(2))],
            ),
            ("q-2".to_string(), vec![cite("law", 1, None), cite("law", 3, None)]),
            ("q-3".to_string(), vec![cite("other", 2, None)]),
        ];
        let c = coverage(&[statute], &cited);
        let got: Vec<(u32, Vec<String>)> = c[0].articles.iter().map(|a| (a.article, a.questions.clone())).collect();
        assert_eq!(
            got,
            vec![
                (1, vec!["q-1".to_string(), "q-2".to_string()]),
                (2, vec![]),
                (3, vec!["q-2".to_string()]),
            ]
        );
        assert_eq!(c[0].covered(), 2);
    }
}
