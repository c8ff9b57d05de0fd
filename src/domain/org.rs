//! The organisation tree: 区 (district) → 街道 (street) → 居委 (residents' committee area) → 小区 (estate)
//! → 业委会 (owners' committee, with a term).

use chrono::NaiveDate;

use crate::i18n::{Lang, Text};

pub type OrgUnitId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgKind {
    District,
    Street,
    Neighbourhood,
    Estate,
    Committee,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::District,
        OrgKind::Street,
        OrgKind::Neighbourhood,
        OrgKind::Estate,
        OrgKind::Committee,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OrgKind::District => "district",
            OrgKind::Street => "street",
            OrgKind::Neighbourhood => "neighbourhood",
            OrgKind::Estate => "estate",
            OrgKind::Committee => "committee",
        }
    }

    pub fn parse(code: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The kind a node of this kind must hang under; `None` for the root.
    pub fn parent_kind(self) -> Option<OrgKind> {
        match self {
            OrgKind::District => None,
            OrgKind::Street => Some(OrgKind::District),
            OrgKind::Neighbourhood => Some(OrgKind::Street),
            OrgKind::Estate => Some(OrgKind::Neighbourhood),
            OrgKind::Committee => Some(OrgKind::Estate),
        }
    }

    pub fn child_kind(self) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.parent_kind() == Some(self))
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            OrgKind::District => lang.t("区", "District"),
            OrgKind::Street => lang.t("街道/镇", "Street / town"),
            OrgKind::Neighbourhood => lang.t("居委", "Residents' committee"),
            OrgKind::Estate => lang.t("小区", "Estate"),
            OrgKind::Committee => lang.t("业委会", "Owners' committee"),
        }
    }
}

/// A committee's term of office (任期).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Term {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Term, Text> {
        if end <= start {
            return Err(Text::new(
                "任期结束日期必须晚于开始日期",
                "the term must end after it starts",
            ));
        }
        Ok(Term { start, end })
    }

    pub fn parse(start: &str, end: &str) -> Result<Option<Term>, Text> {
        let (start, end) = (start.trim(), end.trim());
        if start.is_empty() && end.is_empty() {
            return Ok(None);
        }
        let date = |s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                Text::new(
                    format!("日期“{s}”格式应为 2026-01-31"),
                    format!("date “{s}” should look like 2026-01-31"),
                )
            })
        };
        Term::new(date(start)?, date(end)?).map(Some)
    }
}

/// A node of the tree, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    pub kind: OrgKind,
    pub parent_id: Option<OrgUnitId>,
    pub street_id: Option<OrgUnitId>,
    pub name: String,
    pub term: Option<Term>,
}

/// A unit's name: 1–100 characters after trimming.
pub fn parse_unit_name(input: &str) -> Result<String, Text> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Text::new("名称不能为空", "the name is empty"));
    }
    if s.chars().count() > 100 {
        return Err(Text::new(
            "名称不能超过100个字",
            "the name is longer than 100 characters",
        ));
    }
    Ok(s.to_string())
}

/// The committee of an estate is named after it.
pub fn committee_name_for(estate: &str) -> String {
    format!("{estate}业主委员会")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_shape() {
        assert_eq!(OrgKind::Estate.parent_kind(), Some(OrgKind::Neighbourhood));
        assert_eq!(OrgKind::Street.child_kind(), Some(OrgKind::Neighbourhood));
        assert_eq!(OrgKind::Committee.child_kind(), None);
    }

    #[test]
    fn terms() {
        assert_eq!(Term::parse("", ""), Ok(None));
        assert!(Term::parse("2024-01-01", "2023-01-01").is_err());
        assert!(Term::parse("2024-01-01", "2029-01-01").unwrap().is_some());
        assert!(Term::parse("2024/01/01", "2029-01-01").is_err());
    }
}
