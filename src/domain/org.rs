//! The organisation tree: 区 (district) → 街道 (street) → 居委 (residents' committee area) → 小区 (estate)
//! → 业委会 (owners' committee, with a term).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::input::FieldErrors;
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

/// The start and end typed into a committee's form: both empty (no term), or a term; each problem
/// at its own field.
pub fn parse_term_fields(start: &str, end: &str) -> Result<Option<Term>, FieldErrors> {
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() && end.is_empty() {
        return Ok(None);
    }
    let date = |field: &'static str, s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            FieldErrors::one(
                field,
                Text::new(
                    format!("日期“{s}”格式应为 2026-01-31"),
                    format!("date “{s}” should look like 2026-01-31"),
                ),
            )
        })
    };
    let (from, to) = (date("term_start", start), date("term_end", end));
    match (from, to) {
        (Ok(from), Ok(to)) => Term::new(from, to)
            .map(Some)
            .map_err(|t| FieldErrors::one("term_end", t)),
        (from, to) => Err(from.err().into_iter().chain(to.err()).flatten().collect()),
    }
}

/// A committee's place in the tree by name, for display: 居委, 小区 and the committee itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitteePlace {
    pub neighbourhood: String,
    pub estate: String,
    pub committee: String,
}

/// Where each committee among `units` sits (the units of a street, or of several): by committee id.
pub fn committee_places(units: &[OrgUnit]) -> HashMap<OrgUnitId, CommitteePlace> {
    let by_id: HashMap<OrgUnitId, &OrgUnit> = units.iter().map(|u| (u.id, u)).collect();
    let name = |u: Option<&&OrgUnit>| u.map(|u| u.name.clone()).unwrap_or_default();
    units
        .iter()
        .filter(|u| u.kind == OrgKind::Committee)
        .map(|u| {
            let estate = u.parent_id.and_then(|p| by_id.get(&p));
            let neighbourhood = estate.and_then(|e| e.parent_id).and_then(|p| by_id.get(&p));
            let place = CommitteePlace {
                neighbourhood: name(neighbourhood),
                estate: name(estate),
                committee: u.name.clone(),
            };
            (u.id, place)
        })
        .collect()
}

/// A unit and its ancestors among `units`, the unit first (to sum figures upwards).
pub fn ancestors_of(units: &HashMap<OrgUnitId, OrgUnit>, id: OrgUnitId) -> Vec<OrgUnitId> {
    let mut out = Vec::new();
    let mut next = Some(id);
    while let Some(u) = next.and_then(|id| units.get(&id)) {
        out.push(u.id);
        next = u.parent_id;
    }
    out
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

    #[test]
    fn term_problems_are_told_at_their_field() {
        assert_eq!(parse_term_fields(" ", ""), Ok(None));
        let e = parse_term_fields("2024/01/01", "x").unwrap_err();
        assert!(e.get("term_start").is_some() && e.get("term_end").is_some());
        let e = parse_term_fields("2024-01-01", "2023-01-01").unwrap_err();
        assert_eq!(
            e.get("term_end").map(|t| t.zh.as_str()),
            Some("任期结束日期必须晚于开始日期")
        );
        assert!(parse_term_fields("2024-01-01", "2029-01-01").unwrap().is_some());
    }

    fn unit(id: i64, kind: OrgKind, parent: Option<i64>, name: &str) -> OrgUnit {
        OrgUnit {
            id,
            kind,
            parent_id: parent,
            street_id: Some(1),
            name: name.into(),
            term: None,
        }
    }

    #[test]
    fn committees_are_placed_and_ancestors_found() {
        let units = vec![
            unit(1, OrgKind::Street, None, "花木街道"),
            unit(2, OrgKind::Neighbourhood, Some(1), "一居委"),
            unit(3, OrgKind::Estate, Some(2), "幸福小区"),
            unit(4, OrgKind::Committee, Some(3), "幸福小区业主委员会"),
        ];
        let places = committee_places(&units);
        assert_eq!(places.len(), 1);
        assert_eq!(
            places[&4],
            CommitteePlace {
                neighbourhood: "一居委".into(),
                estate: "幸福小区".into(),
                committee: "幸福小区业主委员会".into()
            }
        );
        let by_id = units.into_iter().map(|u| (u.id, u)).collect();
        assert_eq!(ancestors_of(&by_id, 4), vec![4, 3, 2, 1]);
        assert!(ancestors_of(&by_id, 9).is_empty());
    }
}
