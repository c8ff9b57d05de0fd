//! Report arithmetic: rates, averages, medians and histograms that never divide by zero.

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

/// Item statistics from submitted attempts: `scores` maps attempt → score (0–100); `answers` lists
/// (attempt, item key, correct) for every drawn item.
pub fn item_stats<K: Copy + Eq + std::hash::Hash>(
    scores: &[(i64, f64)],
    answers: &[(i64, K, bool)],
) -> std::collections::HashMap<K, ItemStat> {
    use std::collections::{HashMap, HashSet};
    let mut ranked: Vec<(i64, f64)> = scores.to_vec();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let k = ((ranked.len() as f64) * 0.27).round().max(1.0) as usize;
    let upper: HashSet<i64> = ranked.iter().take(k.min(ranked.len())).map(|(a, _)| *a).collect();
    let lower: HashSet<i64> = ranked.iter().rev().take(k.min(ranked.len())).map(|(a, _)| *a).collect();
    let mut acc: HashMap<K, (u64, u64, u64, u64, u64, u64)> = HashMap::new();
    for (attempt, key, ok) in answers {
        let e = acc.entry(*key).or_default();
        e.0 += 1;
        e.1 += u64::from(*ok);
        if upper.contains(attempt) {
            e.2 += 1;
            e.3 += u64::from(*ok);
        }
        if lower.contains(attempt) {
            e.4 += 1;
            e.5 += u64::from(*ok);
        }
    }
    acc.into_iter()
        .map(|(key, (n, c, un, uc, ln, lc))| {
            let f = |c: u64, n: u64| (n > 0).then(|| c as f64 / n as f64);
            let discrimination = match (f(uc, un), f(lc, ln)) {
                (Some(u), Some(l)) => Some(u - l),
                _ => None,
            };
            (
                key,
                ItemStat {
                    drawn: n,
                    correct: c,
                    facility: f(c, n),
                    discrimination,
                },
            )
        })
        .collect()
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
