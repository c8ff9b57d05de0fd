//! Report arithmetic and roll-ups: rates, averages, medians and histograms that never divide by zero;
//! a session's figures from its chairs' lines; the dashboard summed up the organisation tree;
//! item statistics. Pure: the services read the facts and hand them here.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::certificate::EmailStatus;
use super::input::FieldErrors;
use super::org::{OrgKind, OrgUnit, OrgUnitId, ancestors_of};
use super::person::Person;
use super::question::{Citation, letter};
use super::quiz::Given;
use super::time::from_shanghai_local;
use crate::i18n::Text;

/// A share that may have no data (shown as 无数据, never as 0 % or NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub part: u64,
    pub whole: u64,
}

impl Rate {
    pub fn value(self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }

    pub fn label(self, lang: crate::i18n::Lang) -> String {
        match self.value() {
            Some(v) => format!("{:.1}%", v * 100.0),
            None => lang.t("无数据", "no data").to_string(),
        }
    }
}

pub fn average(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Counts of percentages in ten buckets: 0–9, 10–19, … 90–100.
pub fn deciles(percentages: &[f64]) -> [u64; 10] {
    let mut b = [0u64; 10];
    for p in percentages {
        let i = ((p / 10.0).floor() as isize).clamp(0, 9) as usize;
        b[i] += 1;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_empty_data() {
        assert_eq!(Rate { part: 1, whole: 4 }.value(), Some(0.25));
        assert_eq!(Rate { part: 0, whole: 0 }.label(crate::i18n::Lang::Zh), "无数据");
        assert_eq!(average(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(deciles(&[0.0, 9.9, 10.0, 100.0, 95.0]), [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    }
}

/// How one question version performed.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemStat {
    pub drawn: u64,
    pub correct: u64,
    /// Share correct among submitted attempts that drew it.
    pub facility: Option<f64>,
    /// Facility in the top 27 % of attempts (by score) minus facility in the bottom 27 %; `None` when
    /// neither group drew the item.
    pub discrimination: Option<f64>,
}

impl ItemStat {
    /// Very hard (facility under 30 %) or not separating strong from weak chairs (discrimination at or
    /// below 0.1): worth a lawyer's look. Needs at least five answers to say anything.
    pub fn flagged(&self) -> bool {
        self.drawn >= 5 && (self.facility.is_some_and(|f| f < 0.3) || self.discrimination.is_some_and(|d| d <= 0.1))
    }
}

/// The top and bottom 27 % of attempts by score (at least one each; ties by attempt id).
fn extreme_groups(scores: &[(i64, f64)]) -> (HashSet<i64>, HashSet<i64>) {
    let mut ranked: Vec<(i64, f64)> = scores.to_vec();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let k = (((ranked.len() as f64) * 0.27).round().max(1.0) as usize).min(ranked.len());
    let upper = ranked.iter().take(k).map(|(a, _)| *a).collect();
    let lower = ranked.iter().rev().take(k).map(|(a, _)| *a).collect();
    (upper, lower)
}

/// Answers and right answers: overall, in the top group, in the bottom group.
#[derive(Default)]
struct ItemCounts {
    all: (u64, u64),
    upper: (u64, u64),
    lower: (u64, u64),
}

impl ItemCounts {
    fn stat(&self) -> ItemStat {
        let f = |(n, c): (u64, u64)| (n > 0).then(|| c as f64 / n as f64);
        let discrimination = match (f(self.upper), f(self.lower)) {
            (Some(u), Some(l)) => Some(u - l),
            _ => None,
        };
        ItemStat {
            drawn: self.all.0,
            correct: self.all.1,
            facility: f(self.all),
            discrimination,
        }
    }
}

/// Item statistics from submitted attempts: `scores` maps attempt → score (0–100); `answers` lists
/// (attempt, item key, correct) for every drawn item.
pub fn item_stats<K: Copy + Eq + std::hash::Hash>(
    scores: &[(i64, f64)],
    answers: &[(i64, K, bool)],
) -> HashMap<K, ItemStat> {
    let (upper, lower) = extreme_groups(scores);
    let mut acc: HashMap<K, ItemCounts> = HashMap::new();
    let add = |n: &mut (u64, u64), ok: bool| {
        n.0 += 1;
        n.1 += u64::from(ok);
    };
    for (attempt, key, ok) in answers {
        let e = acc.entry(*key).or_default();
        add(&mut e.all, *ok);
        if upper.contains(attempt) {
            add(&mut e.upper, *ok);
        }
        if lower.contains(attempt) {
            add(&mut e.lower, *ok);
        }
    }
    acc.into_iter().map(|(key, counts)| (key, counts.stat())).collect()
}

#[cfg(test)]
mod item_tests {
    use super::*;

    #[test]
    fn facility_and_discrimination_by_hand() {
        // Ten attempts scored 100, 90, … 10. 27 % of 10 rounds to 3: upper = {1,2,3}, lower = {8,9,10}.
        let scores: Vec<(i64, f64)> = (1..=10).map(|a| (a, 110.0 - 10.0 * a as f64)).collect();
        // Item 'a': right in attempts 1–5, wrong in 6–10 → facility 0.5, discrimination 1 − 0 = 1.
        // Item 'b': right only in 8, 9, 10 → facility 0.3, discrimination 0 − 1 = −1 (flagged).
        let mut answers = Vec::new();
        for a in 1..=10 {
            answers.push((a, 'a', a <= 5));
            answers.push((a, 'b', a >= 8));
        }
        let s = item_stats(&scores, &answers);
        assert_eq!(s[&'a'].facility, Some(0.5));
        assert_eq!(s[&'a'].discrimination, Some(1.0));
        assert!(!s[&'a'].flagged());
        assert_eq!(s[&'b'].facility, Some(0.3));
        assert_eq!(s[&'b'].discrimination, Some(-1.0));
        assert!(s[&'b'].flagged());
        assert!(item_stats::<char>(&[], &[]).is_empty());
    }
}

/// A chair's counting attempt as reports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// Drawn but not handed in; `started` once she opened it.
    InProgress {
        started: bool,
    },
    Submitted {
        correct: u32,
        total: u32,
        passed: bool,
    },
}

impl AttemptResult {
    pub fn started(self) -> bool {
        match self {
            AttemptResult::InProgress { started } => started,
            AttemptResult::Submitted { .. } => true,
        }
    }

    pub fn submitted(self) -> bool {
        matches!(self, AttemptResult::Submitted { .. })
    }

    pub fn passed(self) -> bool {
        matches!(self, AttemptResult::Submitted { passed: true, .. })
    }

    /// The score in percent, once submitted (none for an empty quiz).
    pub fn score(self) -> Option<f64> {
        match self {
            AttemptResult::Submitted { correct, total, .. } if total > 0 => {
                Some(f64::from(correct) * 100.0 / f64::from(total))
            }
            _ => None,
        }
    }
}

/// One invited chair's line in a session report.
#[derive(Debug, Clone)]
pub struct ChairLine {
    pub person_id: i64,
    pub name: String,
    pub neighbourhood: String,
    pub estate: String,
    /// Live and replay together, each moment once (the gate's measure).
    pub minutes: i64,
    pub live_minutes: i64,
    /// What watching the replay added to her live minutes.
    pub replay_minutes: i64,
    /// Share of the lecture she was present for, 0–1.
    pub share: f64,
    pub met_gate: bool,
    pub attempt: Option<AttemptResult>,
    /// Her counting attempt was a make-up attempt (回看补测).
    pub makeup: bool,
    pub email: Option<EmailStatus>,
}

/// A session's figures, from its chairs' lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFigures {
    pub invited: u64,
    pub attended: u64,
    pub average_minutes: Option<f64>,
    pub met_gate: u64,
    pub started: u64,
    pub submitted: u64,
    pub passed: u64,
    pub pass_rate: Rate,
    /// Chairs whose replay watching added minutes.
    pub watched_replay: u64,
    /// Passed of submitted, in class and in the make-up window apart.
    pub live_pass_rate: Rate,
    pub makeup_pass_rate: Rate,
    pub average_score: Option<f64>,
    pub median_score: Option<f64>,
    pub score_deciles: [u64; 10],
    pub attendance_deciles: [u64; 10],
}

/// Sums up a session's lines; `lecture_known`: the lecture has started, so shares of it mean something.
pub fn session_figures(lines: &[ChairLine], lecture_known: bool) -> SessionFigures {
    let count = |f: &dyn Fn(&ChairLine) -> bool| lines.iter().filter(|l| f(l)).count() as u64;
    let attempt = |f: fn(AttemptResult) -> bool| move |l: &ChairLine| l.attempt.is_some_and(f);
    let minutes: Vec<f64> = lines
        .iter()
        .filter(|l| l.minutes > 0)
        .map(|l| l.minutes as f64)
        .collect();
    let scores: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.attempt.and_then(AttemptResult::score))
        .collect();
    let (submitted, passed) = (
        count(&attempt(AttemptResult::submitted)),
        count(&attempt(AttemptResult::passed)),
    );
    let shares: Vec<f64> = lines.iter().map(|l| l.share * 100.0).collect();
    SessionFigures {
        invited: lines.len() as u64,
        attended: minutes.len() as u64,
        average_minutes: average(&minutes),
        met_gate: count(&|l| l.met_gate),
        started: count(&attempt(AttemptResult::started)),
        submitted,
        passed,
        pass_rate: Rate {
            part: passed,
            whole: submitted,
        },
        watched_replay: count(&|l| l.replay_minutes > 0),
        live_pass_rate: Rate {
            part: count(&|l| !l.makeup && l.attempt.is_some_and(AttemptResult::passed)),
            whole: count(&|l| !l.makeup && l.attempt.is_some_and(AttemptResult::submitted)),
        },
        makeup_pass_rate: Rate {
            part: count(&|l| l.makeup && l.attempt.is_some_and(AttemptResult::passed)),
            whole: count(&|l| l.makeup && l.attempt.is_some_and(AttemptResult::submitted)),
        },
        average_score: average(&scores),
        median_score: median(&scores),
        score_deciles: deciles(&scores),
        attendance_deciles: if lecture_known { deciles(&shares) } else { [0; 10] },
    }
}

/// What the dashboard counts for one chair over the sessions in range: counting attempts submitted
/// and passed, and of them those taken in a make-up window (回看补测).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChairResults {
    pub submitted: u64,
    pub passed: u64,
    pub makeup_submitted: u64,
    pub makeup_passed: u64,
}

/// A row of the dashboard: one unit, everything below it summed.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub unit: OrgUnit,
    pub chairs: u64,
    pub submitted: u64,
    pub passed: u64,
    pub pass_rate: Rate,
    /// Of the submitted and passed, those in a make-up window after the session (回看补测).
    pub makeup_submitted: u64,
    pub makeup_passed: u64,
    /// Chairs holding a valid certificate (not revoked, issued within the range).
    pub certified: u64,
    pub coverage: Rate,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub unit: OrgUnit,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: UnitRow,
    pub rows: Vec<UnitRow>,
    /// Committees whose chair (主任) has no valid certificate: never passed, or a new term began since.
    pub uncertified_committees: Vec<(OrgUnit, String)>,
    /// Committees all of whose members hold a valid certificate.
    pub certified_committees: Vec<OrgUnit>,
}

/// What the dashboard rolls up: the units of an area (a street, or a district with the district
/// itself), its chairs, their results over the range and the issue dates of their valid certificates.
pub struct AreaFacts {
    pub units: HashMap<OrgUnitId, OrgUnit>,
    pub chairs: Vec<Person>,
    pub results: HashMap<i64, ChairResults>,
    pub certificates: HashMap<i64, Vec<DateTime<Utc>>>,
}

/// Figures summed up a unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    chairs: u64,
    results: ChairResults,
    certified: u64,
}

impl AreaFacts {
    /// Whether a chair of `committee` holds a certificate issued in the committee's current term (any,
    /// when the committee has no term recorded).
    fn certified(&self, person: i64, committee: OrgUnitId) -> bool {
        let term_start = self
            .units
            .get(&committee)
            .and_then(|u| u.term)
            .map(|t| t.start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
        self.certificates
            .get(&person)
            .is_some_and(|list| list.iter().any(|at| term_start.is_none_or(|t| *at >= t)))
    }

    /// Each unit's sums: every chair counted at her committee and every unit above it.
    fn sums(&self) -> HashMap<OrgUnitId, Sums> {
        let mut sums: HashMap<OrgUnitId, Sums> = HashMap::new();
        for p in &self.chairs {
            let Some(c) = p.committee_id else { continue };
            let r = self.results.get(&p.id).copied().unwrap_or_default();
            let certified = u64::from(self.certified(p.id, c));
            for a in ancestors_of(&self.units, c) {
                let e = sums.entry(a).or_default();
                e.chairs += 1;
                e.results.submitted += r.submitted;
                e.results.passed += r.passed;
                e.results.makeup_submitted += r.makeup_submitted;
                e.results.makeup_passed += r.makeup_passed;
                e.certified += certified;
            }
        }
        sums
    }

    /// The members of each committee, in the order given.
    fn members(&self) -> HashMap<OrgUnitId, Vec<&Person>> {
        let mut out: HashMap<OrgUnitId, Vec<&Person>> = HashMap::new();
        for p in &self.chairs {
            if let Some(c) = p.committee_id {
                out.entry(c).or_default().push(p);
            }
        }
        out
    }
}

fn unit_row(u: &OrgUnit, sums: &HashMap<OrgUnitId, Sums>) -> UnitRow {
    let s = sums.get(&u.id).copied().unwrap_or_default();
    UnitRow {
        unit: u.clone(),
        chairs: s.chairs,
        submitted: s.results.submitted,
        passed: s.results.passed,
        pass_rate: Rate {
            part: s.results.passed,
            whole: s.results.submitted,
        },
        makeup_submitted: s.results.makeup_submitted,
        makeup_passed: s.results.makeup_passed,
        certified: s.certified,
        coverage: Rate {
            part: s.certified,
            whole: s.chairs,
        },
    }
}

/// The committees below `unit` whose chair (the member whose position is 主任, else the first) has no
/// valid certificate, with her name; and those whose members all have one. Both by name.
fn committees_by_certificate(facts: &AreaFacts, unit: OrgUnitId) -> (Vec<(OrgUnit, String)>, Vec<OrgUnit>) {
    let members = facts.members();
    let mut uncertified = Vec::new();
    let mut certified = Vec::new();
    let below = facts
        .units
        .values()
        .filter(|u| u.kind == OrgKind::Committee && ancestors_of(&facts.units, u.id).contains(&unit));
    for c in below {
        let list = members.get(&c.id).map(Vec::as_slice).unwrap_or_default();
        let chair = list
            .iter()
            .find(|p| p.position.as_deref() == Some("主任"))
            .or(list.first());
        if let Some(p) = chair.filter(|p| !facts.certified(p.id, c.id)) {
            uncertified.push((c.clone(), p.name.as_str().to_string()));
        }
        if !list.is_empty() && list.iter().all(|p| facts.certified(p.id, c.id)) {
            certified.push(c.clone());
        }
    }
    uncertified.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    certified.sort_by(|a, b| a.name.cmp(&b.name));
    (uncertified, certified)
}

/// The dashboard of `unit` (a district, a street or a unit below) from its area's facts over `from`–`to`.
pub fn dashboard(facts: &AreaFacts, unit: OrgUnit, from: DateTime<Utc>, to: DateTime<Utc>) -> Dashboard {
    let sums = facts.sums();
    let mut rows: Vec<UnitRow> = facts
        .units
        .values()
        .filter(|u| u.parent_id == Some(unit.id))
        .map(|u| unit_row(u, &sums))
        .collect();
    rows.sort_by(|a, b| a.unit.name.cmp(&b.unit.name));
    let (uncertified_committees, certified_committees) = committees_by_certificate(facts, unit.id);
    Dashboard {
        total: unit_row(&unit, &sums),
        unit,
        from,
        to,
        rows,
        uncertified_committees,
        certified_committees,
    }
}

/// What a question tests, to group answers across questions and banks: its rule key (the one a draw
/// never repeats, `QuestionContent::rule_key`), shown by the article it names (its first citation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleKey {
    pub key: String,
    pub citation: Citation,
}

impl RuleKey {
    pub fn of(key: &str, citations: &[Citation]) -> Option<RuleKey> {
        citations.first().map(|c| RuleKey {
            key: key.to_string(),
            citation: c.clone(),
        })
    }
}

/// How one question version was answered in an area's submitted attempts.
#[derive(Debug, Clone)]
pub struct AnsweredVersion {
    pub question_id: i64,
    pub version_no: i32,
    pub stem: String,
    /// `QuestionContent::rule_key`.
    pub rule: String,
    pub citations: Vec<Citation>,
    pub answered: u64,
    pub right: u64,
}

/// One question within a rule: all its versions together, with its latest stem.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionMistakes {
    pub question_id: i64,
    pub stem: String,
    pub answered: u64,
    pub wrong: u64,
}

/// The answers to the questions testing one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMistakes {
    pub rule: RuleKey,
    pub answered: u64,
    pub wrong: u64,
    /// Worst answered first.
    pub questions: Vec<QuestionMistakes>,
}

impl RuleMistakes {
    pub fn wrong_rate(&self) -> Rate {
        Rate {
            part: self.wrong,
            whole: self.answered,
        }
    }
}

/// Fewer answers than this say little about a rule: such rules are listed apart, after the ranking.
pub const MIN_ANSWERS: u64 = 10;

/// Answers grouped by rule, the rules answered worst first (share wrong, then more answers): those
/// with at least `MIN_ANSWERS` answers, then apart and in the same order those with fewer.
pub fn mistakes_by_rule(versions: impl IntoIterator<Item = AnsweredVersion>) -> (Vec<RuleMistakes>, Vec<RuleMistakes>) {
    let mut questions: BTreeMap<i64, (RuleKey, i32, QuestionMistakes)> = BTreeMap::new();
    for v in versions {
        let Some(rule) = RuleKey::of(&v.rule, &v.citations) else {
            continue;
        };
        let wrong = v.answered.saturating_sub(v.right);
        let e = questions.entry(v.question_id).or_insert_with(|| {
            let q = QuestionMistakes {
                question_id: v.question_id,
                stem: v.stem.clone(),
                answered: 0,
                wrong: 0,
            };
            (rule.clone(), v.version_no, q)
        });
        // The latest version names the question (and its rule).
        if v.version_no > e.1 {
            (e.0, e.1, e.2.stem) = (rule, v.version_no, v.stem);
        }
        e.2.answered += v.answered;
        e.2.wrong += wrong;
    }
    // By key alone: questions sharing a rule may cite it through different articles (the first one's
    // names the rule on the page).
    let mut rules: BTreeMap<String, RuleMistakes> = BTreeMap::new();
    for (rule, _, q) in questions.into_values() {
        let r = rules.entry(rule.key.clone()).or_insert_with(|| RuleMistakes {
            rule,
            answered: 0,
            wrong: 0,
            questions: Vec::new(),
        });
        r.answered += q.answered;
        r.wrong += q.wrong;
        r.questions.push(q);
    }
    let worse = |a: (u64, u64), b: (u64, u64)| {
        // a.wrong / a.answered against b's, without dividing; then more answers first.
        (u128::from(b.0) * u128::from(a.1))
            .cmp(&(u128::from(a.0) * u128::from(b.1)))
            .then(b.1.cmp(&a.1))
    };
    let mut rules: Vec<RuleMistakes> = rules.into_values().collect();
    for r in &mut rules {
        r.questions
            .sort_by(|a, b| worse((a.wrong, a.answered), (b.wrong, b.answered)));
    }
    rules.sort_by(|a, b| worse((a.wrong, a.answered), (b.wrong, b.answered)));
    rules.into_iter().partition(|r| r.answered >= MIN_ANSWERS)
}

/// Whether citations match a filter typed as `statute` or `statute article` (empty: all do).
pub fn cites(citations: &[Citation], filter: &str) -> bool {
    let mut parts = filter.split_whitespace();
    match (parts.next(), parts.next().and_then(|a| a.parse::<u32>().ok())) {
        (None, _) => true,
        (Some(s), None) => citations.iter().any(|x| x.statute == s),
        (Some(s), Some(a)) => citations.iter().any(|x| x.statute == s && x.article == a),
    }
}

/// How often each choice was given: option letters, 对/错, or 未答 (not answered), in that key order.
pub fn choice_counts<'a>(answers: impl IntoIterator<Item = Option<&'a Given>>) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for given in answers {
        match given {
            Some(Given::Choices(set)) => set
                .iter()
                .for_each(|i| *counts.entry(letter(*i).to_string()).or_default() += 1),
            Some(Given::Truth(t)) => *counts.entry(if *t { "对".into() } else { "错".into() }).or_default() += 1,
            None => *counts.entry("未答".into()).or_default() += 1,
        }
    }
    counts.into_iter().collect()
}

/// One question version's line in the item analysis.
#[derive(Debug, Clone)]
pub struct ItemLine {
    pub question_id: i64,
    pub qid: String,
    pub version_no: i32,
    pub bank: String,
    pub topic: String,
    pub stem: String,
    pub citations: Vec<String>,
    pub stat: ItemStat,
    /// (option letter or 对/错, times chosen)
    pub choices: Vec<(String, u64)>,
}

/// Flagged first, then the hardest, then by id.
pub fn sort_items(items: &mut [ItemLine]) {
    let facility = |i: &ItemLine| i.stat.facility.unwrap_or(1.0);
    items.sort_by(|a, b| {
        b.stat
            .flagged()
            .cmp(&a.stat.flagged())
            .then(facility(a).total_cmp(&facility(b)))
            .then(a.qid.cmp(&b.qid))
    });
}

/// A reporting range typed as Shanghai dates, `to` inclusive, as typed and as instants (`end` is the
/// start of the day after `to`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub from: String,
    pub to: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl DateRange {
    /// Parses the range; an empty end means the start or the end of `year`. Each wrong date is told at
    /// its field (`from`, `to`).
    pub fn parse(from: &str, to: &str, year: i32) -> Result<DateRange, FieldErrors> {
        let or = |s: &str, default: String| if s.is_empty() { default } else { s.to_string() };
        let (from, to) = (or(from, format!("{year}-01-01")), or(to, format!("{year}-12-31")));
        let date = |field: &'static str, s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                let message = Text::new(
                    format!("日期“{s}”格式应为 2026-01-31"),
                    format!("date “{s}” should look like 2026-01-31"),
                );
                FieldErrors::one(field, message)
            })
        };
        let at = |d: NaiveDate| from_shanghai_local(d.and_hms_opt(0, 0, 0).unwrap_or_default()).unwrap_or_default();
        match (date("from", &from), date("to", &to)) {
            (Ok(f), Ok(t)) => Ok(DateRange {
                start: at(f),
                end: at(t + chrono::Duration::days(1)),
                from,
                to,
            }),
            (f, t) => Err(f.err().into_iter().chain(t.err()).flatten().collect()),
        }
    }
}

#[cfg(test)]
mod rollup_tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::contact::PhoneNumber;
    use crate::domain::org::Term;
    use crate::domain::person::{DisplayName, Roles};

    fn line(minutes: i64, share: f64, attempt: Option<AttemptResult>) -> ChairLine {
        ChairLine {
            person_id: 1,
            name: "王".into(),
            neighbourhood: String::new(),
            estate: String::new(),
            minutes,
            live_minutes: minutes,
            replay_minutes: 0,
            share,
            met_gate: share >= 0.6,
            attempt,
            makeup: false,
            email: None,
        }
    }

    #[test]
    fn session_figures_count_each_kind_of_line() {
        let done = |correct, passed| {
            Some(AttemptResult::Submitted {
                correct,
                total: 10,
                passed,
            })
        };
        let lines = vec![
            line(60, 1.0, done(9, true)),
            line(30, 0.5, done(5, false)),
            line(45, 0.75, Some(AttemptResult::InProgress { started: true })),
            line(0, 0.0, Some(AttemptResult::InProgress { started: false })),
            line(0, 0.0, None),
        ];
        let f = session_figures(&lines, true);
        assert_eq!((f.invited, f.attended, f.met_gate), (5, 3, 2));
        assert_eq!((f.started, f.submitted, f.passed), (3, 2, 1));
        assert_eq!(f.pass_rate.value(), Some(0.5));
        assert_eq!((f.average_score, f.median_score), (Some(70.0), Some(70.0)));
        assert_eq!(f.average_minutes, Some(45.0));
        assert_eq!(f.attendance_deciles[9], 1);
        assert_eq!(session_figures(&lines, false).attendance_deciles, [0; 10]);
        assert_eq!(
            (f.live_pass_rate.value(), f.makeup_pass_rate.value()),
            (Some(0.5), None)
        );
        // A chair who missed the lecture, watched the replay and passed the make-up quiz.
        let mut makeup = line(50, 0.9, done(8, true));
        (makeup.live_minutes, makeup.replay_minutes, makeup.makeup) = (0, 50, true);
        let mut with_makeup = lines.clone();
        with_makeup.push(makeup);
        let f = session_figures(&with_makeup, true);
        assert_eq!(f.watched_replay, 1);
        assert_eq!(
            (f.live_pass_rate.value(), f.makeup_pass_rate.value()),
            (Some(0.5), Some(1.0))
        );
        assert_eq!(f.pass_rate.value(), Some(2.0 / 3.0));
        let none = session_figures(&[], true);
        assert_eq!((none.average_score, none.pass_rate.value()), (None, None));
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

    fn chair(id: i64, committee: i64, position: &str) -> Person {
        Person {
            id,
            name: DisplayName::parse(&format!("主任{id}")).unwrap(),
            phone: PhoneNumber::parse(&format!("139000001{id:02}")).unwrap(),
            email: None,
            committee_id: Some(committee),
            position: Some(position.into()),
            has_password: false,
            roles: Roles::default(),
            view_mode: None,
            notice_version: None,
        }
    }

    #[test]
    fn the_dashboard_sums_up_the_tree_and_respects_terms() {
        let at = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap();
        let mut units: HashMap<i64, OrgUnit> = [
            unit(1, OrgKind::Street, None, "花木街道"),
            unit(2, OrgKind::Neighbourhood, Some(1), "一居委"),
            unit(3, OrgKind::Estate, Some(2), "甲小区"),
            unit(4, OrgKind::Committee, Some(3), "甲业委会"),
            unit(5, OrgKind::Estate, Some(2), "乙小区"),
            unit(6, OrgKind::Committee, Some(5), "乙业委会"),
        ]
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
        // 乙's term began after its chair's certificate: it no longer counts.
        let term = Term::new(
            NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            NaiveDate::from_ymd_opt(2031, 5, 31).unwrap(),
        );
        units.get_mut(&6).unwrap().term = Some(term.unwrap());
        let facts = AreaFacts {
            units,
            chairs: vec![chair(10, 4, "主任"), chair(11, 4, "委员"), chair(12, 6, "主任")],
            results: [(10, true, false), (11, false, false), (12, true, true)]
                .map(|(person, passed, makeup)| {
                    let (p, m) = (u64::from(passed), u64::from(makeup));
                    let r = ChairResults {
                        submitted: 1,
                        passed: p,
                        makeup_submitted: m,
                        makeup_passed: p * m,
                    };
                    (person, r)
                })
                .into_iter()
                .collect(),
            certificates: [(10, vec![at(2026, 3, 1)]), (12, vec![at(2026, 3, 1)])]
                .into_iter()
                .collect(),
        };
        let d = dashboard(&facts, facts.units[&1].clone(), at(2026, 1, 1), at(2027, 1, 1));
        assert_eq!(
            (d.total.chairs, d.total.submitted, d.total.passed, d.total.certified),
            (3, 3, 2, 1)
        );
        assert_eq!((d.total.makeup_submitted, d.total.makeup_passed), (1, 1));
        assert_eq!(d.rows.len(), 1, "the street's own children");
        assert_eq!(d.rows[0].unit.name, "一居委");
        assert_eq!(d.rows[0].coverage, Rate { part: 1, whole: 3 });
        let names: Vec<_> = d
            .uncertified_committees
            .iter()
            .map(|(c, n)| (c.name.as_str(), n.as_str()))
            .collect();
        assert_eq!(names, vec![("乙业委会", "主任12")]);
        assert!(d.certified_committees.is_empty(), "甲 has an uncertified 委员");
        let estate = dashboard(&facts, facts.units[&3].clone(), at(2026, 1, 1), at(2027, 1, 1));
        assert_eq!(estate.rows.len(), 1);
        assert!(estate.uncertified_committees.is_empty());
    }

    #[test]
    fn mistakes_group_versions_by_question_and_questions_by_rule() {
        let cite = |article, paragraph| Citation {
            statute: "civil-code".into(),
            article,
            paragraph,
            item: None,
        };
        let v = |question_id, version_no, citations: Vec<Citation>, answered, right| AnsweredVersion {
            question_id,
            version_no,
            stem: format!("题{question_id}v{version_no}"),
            rule: citations
                .first()
                .map(crate::domain::question::derived_rule)
                .unwrap_or_default(),
            citations,
            answered,
            right,
        };
        let (ranked, few) = mistakes_by_rule([
            // Question 1, two versions, both on 278 ¶2: 20 answered, 12 wrong.
            v(1, 1, vec![cite(278, Some(2))], 8, 4),
            v(1, 2, vec![cite(278, Some(2)), cite(280, None)], 12, 4),
            // Question 2 on the same rule (its first citation decides): 10 answered, 1 wrong.
            v(2, 1, vec![cite(278, Some(2))], 10, 9),
            // Question 3 on 280: 30 answered, 15 wrong.
            v(3, 1, vec![cite(280, None)], 30, 15),
            // Question 4: too few answers to rank.
            v(4, 1, vec![cite(281, None)], 3, 0),
        ]);
        assert_eq!(
            few.iter().map(|r| r.rule.citation.article).collect::<Vec<_>>(),
            vec![281]
        );
        let got: Vec<(u32, u64, u64)> = ranked
            .iter()
            .map(|r| (r.rule.citation.article, r.answered, r.wrong))
            .collect();
        // 280: 15/30 = 50 %; 278 ¶2: 13/30 ≈ 43 %.
        assert_eq!(got, vec![(280, 30, 15), (278, 30, 13)]);
        let q: Vec<(i64, &str, u64, u64)> = ranked[1]
            .questions
            .iter()
            .map(|q| (q.question_id, q.stem.as_str(), q.answered, q.wrong))
            .collect();
        assert_eq!(q, vec![(1, "题1v2", 20, 12), (2, "题2v1", 10, 1)]);
        assert_eq!(ranked[0].wrong_rate().label(crate::i18n::Lang::Zh), "50.0%");
    }

    #[test]
    fn a_range_defaults_to_the_year_and_names_the_wrong_date() {
        let r = DateRange::parse("", "", 2026).unwrap();
        assert_eq!((r.from.as_str(), r.to.as_str()), ("2026-01-01", "2026-12-31"));
        assert_eq!(r.start, Utc.with_ymd_and_hms(2025, 12, 31, 16, 0, 0).unwrap());
        assert_eq!(r.end, Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap());
        let e = DateRange::parse("2026/01/01", "2026-13-01", 2026).unwrap_err();
        assert!(e.get("from").is_some() && e.get("to").is_some());
        assert!(DateRange::parse("2026-03-01", "", 2026).is_ok());
    }

    #[test]
    fn choices_and_citations() {
        let given = [Given::Choices([0, 2].into_iter().collect()), Given::Truth(true)];
        let counts = choice_counts([Some(&given[0]), Some(&given[1]), None, Some(&given[0])]);
        assert_eq!(
            counts,
            vec![("A".into(), 2), ("C".into(), 2), ("对".into(), 1), ("未答".into(), 1)]
        );
        let c = vec![Citation {
            statute: "civil-code".into(),
            article: 278,
            paragraph: None,
            item: None,
        }];
        assert!(cites(&c, "") && cites(&c, "civil-code") && cites(&c, "civil-code 278"));
        assert!(!cites(&c, "civil-code 279") && !cites(&c, "other"));
    }
}
