//! What an area's chairs get wrong: for a district, street or 居委, the rules (each question's rule
//! key, shown by the article it cites first) its chairs answered worst in the range, with the
//! questions behind each and the article's text, so that officials can plan the next training.
//! Lawyers keep the city-wide item analysis.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use super::{DashboardQuery, area_units, dashboard_choices, streets_under, trail_to};
use crate::db::{banks, org, quiz as quiz_db, sessions as sessions_db};
use crate::domain::org::{OrgKind, OrgUnit, ancestors_of};
use crate::domain::report::{AnsweredVersion, RuleMistakes, mistakes_by_rule};
use crate::services::ServiceError;
use crate::services::access::StreetScope;
use crate::services::banks::{CitedArticle, articles_in_force};

/// How many rules the page ranks.
const SHOWN: usize = 15;

pub struct MistakesPage {
    pub unit: OrgUnit,
    pub trail: Vec<OrgUnit>,
    pub from: String,
    pub to: String,
    /// The worst-answered rules, each with the text in force of the article it names.
    pub rules: Vec<(RuleMistakes, CitedArticle)>,
    /// Rules answered too few times to rank (`MIN_ANSWERS`), in the same order, after them.
    pub few: Vec<(RuleMistakes, CitedArticle)>,
    /// Answers counted in all.
    pub answers: u64,
}

/// The page for the unit (by default the dashboard's) and range asked; the same scope as the unit's
/// dashboard.
pub async fn mistakes_page(
    db: &impl ConnectionTrait,
    scope: &StreetScope,
    q: &DashboardQuery<'_>,
) -> Result<MistakesPage, ServiceError> {
    let range = q.range()?;
    let unit = match q.unit {
        Some(u) => u,
        None => q.unit_or_first(&dashboard_choices(db, scope).await?)?,
    };
    let unit = org::get(db, unit).await?.ok_or(ServiceError::NotFound)?;
    if !scope.allows_unit(&unit) {
        return Err(ServiceError::Forbidden);
    }
    let streets = streets_under(db, &unit).await?;
    let units = area_units(db, &unit, &streets).await?;
    let committees: Vec<i64> = units
        .values()
        .filter(|u| u.kind == OrgKind::Committee && ancestors_of(&units, u.id).contains(&unit.id))
        .map(|u| u.id)
        .collect();
    let sessions = sessions_db::ids_for_streets_between(db, &streets, range.start, range.end).await?;
    let quizzes: Vec<i64> = quiz_db::for_sessions(db, &sessions)
        .await?
        .iter()
        .map(|q| q.id)
        .collect();
    let counts = quiz_db::answer_counts(db, &quizzes, &committees).await?;
    let answers = counts.iter().map(|c| c.1.max(0) as u64).sum();
    let by_version: HashMap<i64, (i64, i64)> = counts.iter().map(|&(v, n, r)| (v, (n, r))).collect();
    let versions = banks::versions(db, &by_version.keys().copied().collect::<Vec<_>>()).await?;
    let (mut ranked, mut few) = mistakes_by_rule(versions.into_iter().map(|v| {
        let (n, r) = by_version.get(&v.id).copied().unwrap_or_default();
        AnsweredVersion {
            question_id: v.question_id,
            version_no: v.version_no,
            rule: v.content.rule_key(),
            stem: v.content.stem,
            citations: v.content.citations,
            answered: n.max(0) as u64,
            right: r.max(0) as u64,
        }
    }));
    ranked.truncate(SHOWN);
    few.truncate(SHOWN);
    let citations: Vec<_> = ranked.iter().chain(&few).map(|r| r.rule.citation.clone()).collect();
    let mut articles = articles_in_force(db, &citations).await?;
    let few_articles = articles.split_off(ranked.len());
    let trail = trail_to(db, scope, unit.id).await?;
    Ok(MistakesPage {
        unit,
        trail,
        from: range.from,
        to: range.to,
        rules: ranked.into_iter().zip(articles).collect(),
        few: few.into_iter().zip(few_articles).collect(),
        answers,
    })
}
