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
