//! Mainland mobile numbers and email addresses, parsed once at the boundary.

use std::fmt;

use crate::i18n::Text;

/// A mainland China mobile number: 11 digits, starting with 1 and a second digit 3–9.
///
/// Accepts what people actually type or paste from Excel: spaces, dashes, a `+86`/`86` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid mobile number: {reason}")]
pub struct PhoneError {
    pub reason: Text,
}

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, PhoneError> {
        let digits = national_digits(input);
        match mobile_problem(&digits) {
            Some(reason) => Err(PhoneError { reason }),
            None => Ok(PhoneNumber(digits)),
        }
    }

    /// What an erased account keeps in place of its number: unique (its id) and never a mobile number
    /// (it starts with a letter), so no sign-in, lookup or text can reach it.
    pub fn erased(id: i64) -> PhoneNumber {
        PhoneNumber(format!("x{:010}", id.rem_euclid(10_000_000_000)))
    }

    /// A number as stored: a mobile number, or an erased account's placeholder.
    pub fn from_stored(s: &str) -> Result<PhoneNumber, PhoneError> {
        if s.len() == 11 && s.starts_with('x') && s[1..].chars().all(|c| c.is_ascii_digit()) {
            return Ok(PhoneNumber(s.to_string()));
        }
        PhoneNumber::parse(s)
    }

    pub fn is_erased(&self) -> bool {
        self.0.starts_with('x')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****5678: what logs and other people's screens may show.
    pub fn masked(&self) -> String {
        if self.is_erased() {
            return "（已删除）".to_string();
        }
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// The number without separators (spaces, hyphens, full-width spaces) or a +86/0086/86 country code.
fn national_digits(input: &str) -> String {
    let digits: String = input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
        .collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    let digits = if digits.len() == 13 {
        digits.strip_prefix("86").unwrap_or(digits)
    } else {
        digits
    };
    digits.to_string()
}

/// What keeps these digits from being a mainland mobile number, if anything.
fn mobile_problem(digits: &str) -> Option<Text> {
    if digits.is_empty() {
        return Some(Text::new("手机号不能为空", "the mobile number is empty"));
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(Text::new("手机号只能包含数字", "a mobile number contains digits only"));
    }
    if digits.len() != 11 {
        return Some(Text::new(
            format!("手机号应为11位，这里是{}位", digits.len()),
            format!("a mobile number has 11 digits, this one has {}", digits.len()),
        ));
    }
    let b = digits.as_bytes();
    if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
        return Some(Text::new(
            "不是有效的大陆手机号（应以13–19开头）",
            "not a mainland mobile number (it starts with 13–19)",
        ));
    }
    None
}

impl fmt::Display for PhoneNumber {
    /// Display masks: a phone number must never reach a log by accident.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// An email address, checked for the shape mail servers accept (not a full RFC 5322 parser: what matters
/// is catching typos such as a missing `@`, spaces or a full-width `＠` from a Chinese keyboard).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid email address: {reason}")]
pub struct EmailError {
    pub reason: Text,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, EmailError> {
        let s = input.trim();
        let err = |zh: &str, en: &str| {
            Err(EmailError {
                reason: Text::new(zh, en),
            })
        };
        if s.is_empty() {
            return err("邮箱不能为空", "the email address is empty");
        }
        if s.contains('＠') {
            return err(
                "邮箱中的＠是全角字符，请改为半角 @",
                "the ＠ is full-width; use a plain @",
            );
        }
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("邮箱不能包含空格", "an email address has no spaces");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return err("邮箱缺少 @", "the email address has no @");
        };
        if local.is_empty() || local.contains('@') {
            return err("邮箱 @ 前面的部分不正确", "the part before @ is not valid");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || !l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        {
            return err("邮箱 @ 后面的域名不正确", "the domain after @ is not valid");
        }
        // Stored and compared in lower case: people type their address with whatever capitals their
        // phone keyboard gives them, and every mail provider they use ignores case.
        Ok(EmailAddress(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// z***@example.com
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// What a person types in the sign-in box: a phone number or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigninIdentifier {
    Phone(PhoneNumber),
    Email(EmailAddress),
}

impl SigninIdentifier {
    pub fn parse(input: &str) -> Result<SigninIdentifier, Text> {
        if input.contains('@') || input.contains('＠') {
            EmailAddress::parse(input)
                .map(SigninIdentifier::Email)
                .map_err(|e| e.reason)
        } else {
            PhoneNumber::parse(input)
                .map(SigninIdentifier::Phone)
                .map_err(|e| e.reason)
        }
    }

    /// A stable string for throttling keys (hashed before storage).
    pub fn canonical(&self) -> &str {
        match self {
            SigninIdentifier::Phone(p) => p.as_str(),
            SigninIdentifier::Email(e) => e.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_accepts_common_spellings() {
        for s in [
            "13812345678",
            " 138 1234 5678 ",
            "138-1234-5678",
            "+8613812345678",
            "8613812345678",
        ] {
            assert_eq!(
                PhoneNumber::parse(s).map(|p| p.as_str().to_string()),
                Ok("13812345678".into()),
                "{s}"
            );
        }
    }

    #[test]
    fn phone_rejects_with_reason() {
        assert!(PhoneNumber::parse("1381234567").unwrap_err().reason.zh.contains("10位"));
        assert!(PhoneNumber::parse("12812345678").is_err());
        assert!(PhoneNumber::parse("1381234567a").is_err());
        assert!(PhoneNumber::parse("").is_err());
    }

    #[test]
    fn phone_display_is_masked() {
        let p = PhoneNumber::parse("13812345678").unwrap();
        assert_eq!(p.to_string(), "138****5678");
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            EmailAddress::parse("Wang@Example.COM").unwrap().as_str(),
            "wang@example.com"
        );
        assert!(
            EmailAddress::parse("wang＠example.com")
                .unwrap_err()
                .reason
                .zh
                .contains("全角")
        );
        assert!(EmailAddress::parse("wang example.com").is_err());
        assert!(EmailAddress::parse("wang@example").is_err());
        assert!(EmailAddress::parse("@example.com").is_err());
        assert_eq!(
            EmailAddress::parse("wang@example.com").unwrap().to_string(),
            "w***@example.com"
        );
    }

    #[test]
    fn identifier_picks_kind() {
        assert!(matches!(
            SigninIdentifier::parse("13812345678"),
            Ok(SigninIdentifier::Phone(_))
        ));
        assert!(matches!(
            SigninIdentifier::parse("a@b.cn"),
            Ok(SigninIdentifier::Email(_))
        ));
    }
}
