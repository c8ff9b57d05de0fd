//! Certificates (结业证书): what one says, its serial and verification code, and the email retry rules.

use chrono::{DateTime, Duration, Utc};

/// Everything printed on a certificate, fixed when it is issued (renaming a session later does not
/// change a certificate already handed out).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertificateContent {
    pub name: String,
    pub committee: String,
    pub estate: String,
    pub session_title: String,
    /// The session's date, Shanghai time, e.g. 2026年11月25日.
    pub session_date: String,
    pub lecturers: Vec<String>,
    pub correct: u32,
    pub total: u32,
    /// The issuing street office.
    pub street: String,
    pub issued_on: String,
    /// Earned through the replay and the make-up quiz (回看补测), not in the live sitting. Absent in
    /// certificates issued before make-up existed, which were all live.
    #[serde(default)]
    pub via_replay: bool,
}

impl CertificateContent {
    /// Every piece of text that goes onto the page (for the glyph check).
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("name", self.name.as_str()),
            ("committee", self.committee.as_str()),
            ("estate", self.estate.as_str()),
            ("session", self.session_title.as_str()),
            ("street", self.street.as_str()),
        ];
        v.extend(self.lecturers.iter().map(|l| ("lecturer", l.as_str())));
        v
    }
}

/// An issued certificate as kept: who, which session and street, its serial and code, what it says,
/// and whether it was revoked.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    pub id: i64,
    pub attempt_id: i64,
    pub person_id: i64,
    pub session_id: i64,
    pub street_id: i64,
    pub serial: String,
    pub code: String,
    pub content: CertificateContent,
    pub issued_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
}

/// Email status of a certificate, as officials see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailStatus {
    Pending,
    Sent,
    Failed,
    NoEmail,
}

impl EmailStatus {
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            EmailStatus::Pending => lang.t("待发送", "Pending"),
            EmailStatus::Sent => lang.t("已发送", "Sent"),
            EmailStatus::Failed => lang.t("失败", "Failed"),
            EmailStatus::NoEmail => lang.t("无邮箱", "No email"),
        }
    }
}

/// Human-readable serial: year, street, running number — e.g. `2026-S0002-00017`.
pub fn serial(year: i32, street_id: i64, number: u64) -> String {
    format!("{year}-S{street_id:04}-{number:05}")
}

/// The running number of a serial.
pub fn serial_number(serial: &str) -> Option<u64> {
    serial.rsplit('-').next()?.parse().ok()
}

/// Letters and digits that cannot be confused when read aloud or typed from paper (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// An unguessable verification code: 12 symbols from 31, about 59 bits.
pub fn new_verification_code() -> String {
    (0..12)
        .map(|_| CODE_ALPHABET[rand::random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Normalises what a person types into the verification box.
pub fn normalise_code(input: &str) -> String {
    input
        .trim()
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// Email retries: 1, 2, 4 … minutes, capped at 4 hours; after a day the job is given up.
pub fn retry_delay(attempts: u32) -> Duration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(8);
    Duration::minutes(minutes.min(240))
}

pub const GIVE_UP_AFTER: Duration = Duration::hours(24);

pub fn give_up(created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - created_at >= GIVE_UP_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_and_codes() {
        assert_eq!(serial(2026, 2, 17), "2026-S0002-00017");
        assert_eq!(serial_number("2026-S0002-00017"), Some(17));
        let c = new_verification_code();
        assert_eq!(c.len(), 12);
        assert!(c.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_ne!(c, new_verification_code());
        assert_eq!(normalise_code(" abcd-2345 "), "ABCD-2345");
    }

    #[test]
    fn backoff_grows_to_hours() {
        assert_eq!(retry_delay(1), Duration::minutes(1));
        assert_eq!(retry_delay(2), Duration::minutes(2));
        assert_eq!(retry_delay(6), Duration::minutes(32));
        assert_eq!(retry_delay(20), Duration::minutes(240));
        let t = Utc::now();
        assert!(!give_up(t, t + Duration::hours(23)));
        assert!(give_up(t, t + Duration::hours(24)));
    }
}
