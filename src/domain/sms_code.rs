//! Signing in with a code sent by SMS, the way every service in China does: the rules, without the
//! database or the sender.
//!
//! A code is six digits, valid five minutes, good for five tries. A phone may ask again after a minute,
//! at most five times an hour; one address at most twenty times an hour (a phone number is cheap to make
//! up, an address less so). The answer to a request never says whether the number is known: unknown
//! numbers are counted and made to wait exactly like known ones, they just receive nothing.

use chrono::{DateTime, Duration, Utc};

use crate::i18n::Text;

pub const CODE_DIGITS: usize = 6;
pub const VALID_FOR: Duration = Duration::minutes(5);
pub const MAX_TRIES: i32 = 5;
pub const RESEND_AFTER: Duration = Duration::seconds(60);
pub const PER_PHONE_PER_HOUR: usize = 5;
pub const PER_ADDRESS_PER_HOUR: usize = 20;

/// What a person typed as the code, normalised: full-width digits (中文输入法) become ASCII, spaces and
/// dashes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedCode(String);

impl TypedCode {
    pub fn parse(input: &str) -> Result<TypedCode, Text> {
        let digits: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                _ => c,
            })
            .collect();
        if digits.is_empty() {
            return Err(Text::new(
                "请填写短信里的 6 位验证码",
                "enter the 6-digit code from the text message",
            ));
        }
        if digits.chars().count() != CODE_DIGITS || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(Text::new(
                "验证码是 6 位数字，请对照短信重新填写",
                "the code is 6 digits; check the text message and type it again",
            ));
        }
        Ok(TypedCode(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The code for a random number (the service draws it): six digits, leading zeros kept.
pub fn code_from(random: u32) -> TypedCode {
    TypedCode(format!("{:06}", random % 1_000_000))
}

/// The text message. The service's name leads (Chinese SMS rules require the 【签名】), the validity is
/// stated, and it warns against passing the code on — the usual scam asks for it.
pub fn message(code: &TypedCode) -> String {
    format!(
        "【业委会学堂】您的登录验证码是 {}，{} 分钟内有效。请勿告诉他人，工作人员不会向您索要验证码。",
        code.as_str(),
        VALID_FOR.num_minutes()
    )
}

/// A code as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub issued_at: DateTime<Utc>,
    pub tries: i32,
    pub used: bool,
}

impl IssuedCode {
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.issued_at + VALID_FOR
    }
}

/// Why a typed code did not sign her in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// No code was asked for this number (or it was already used).
    NotRequested,
    Expired,
    /// All tries used: she must ask for a new code.
    Exhausted,
    Wrong {
        tries_left: i32,
    },
}

impl CodeRefusal {
    pub fn explain(self) -> Text {
        match self {
            CodeRefusal::NotRequested => Text::new(
                "请先点“获取验证码”，再填写短信里的验证码",
                "tap “Send code” first, then enter the code from the text message",
            ),
            CodeRefusal::Expired => Text::new(
                "验证码已过期（5 分钟内有效），请重新获取",
                "the code has expired (it is valid for 5 minutes); ask for a new one",
            ),
            CodeRefusal::Exhausted => Text::new(
                "验证码输错次数太多，已失效，请重新获取",
                "too many wrong tries; this code no longer works, ask for a new one",
            ),
            CodeRefusal::Wrong { tries_left } => Text::new(
                format!("验证码不对，还可以再试 {tries_left} 次"),
                format!("that code is wrong; {tries_left} tries left"),
            ),
        }
    }
}

/// Whether the newest code of a number may be tried now, before comparing it (a try that is refused
/// here does not count).
pub fn may_try(code: Option<&IssuedCode>, now: DateTime<Utc>) -> Result<(), CodeRefusal> {
    let Some(c) = code.filter(|c| !c.used) else {
        return Err(CodeRefusal::NotRequested);
    };
    if now >= c.expires_at() {
        return Err(CodeRefusal::Expired);
    }
    if c.tries >= MAX_TRIES {
        return Err(CodeRefusal::Exhausted);
    }
    Ok(())
}

/// The answer to a wrong code that has been counted (`tries_after` includes this one).
pub fn wrong(tries_after: i32) -> CodeRefusal {
    if tries_after >= MAX_TRIES {
        CodeRefusal::Exhausted
    } else {
        CodeRefusal::Wrong {
            tries_left: MAX_TRIES - tries_after,
        }
    }
}

/// How long before another code may be asked for: zero when it may be now. `phone` and `address` are
/// the times of earlier requests from this number and this address within the last hour.
pub fn wait_before_request(phone: &[DateTime<Utc>], address: &[DateTime<Utc>], now: DateTime<Utc>) -> Duration {
    let hour = Duration::hours(1);
    let within = |times: &[DateTime<Utc>]| -> Vec<DateTime<Utc>> {
        let mut v: Vec<_> = times.iter().copied().filter(|t| now - *t < hour).collect();
        v.sort();
        v
    };
    let (phone, address) = (within(phone), within(address));
    let mut until = now;
    if let Some(last) = phone.last() {
        until = until.max(*last + RESEND_AFTER);
    }
    // Over the hourly limit: wait until the oldest request in the hour falls out of it.
    if phone.len() >= PER_PHONE_PER_HOUR {
        until = until.max(phone[phone.len() - PER_PHONE_PER_HOUR] + hour);
    }
    if address.len() >= PER_ADDRESS_PER_HOUR {
        until = until.max(address[address.len() - PER_ADDRESS_PER_HOUR] + hour);
    }
    until - now
}

/// "59 秒" / "12 分钟": a wait as people say it, rounded up.
pub fn wait_words(wait: Duration) -> Text {
    let secs = wait.num_seconds().max(1);
    if secs < 60 {
        Text::new(format!("{secs} 秒"), format!("{secs} seconds"))
    } else {
        let mins = (secs + 59) / 60;
        Text::new(format!("{mins} 分钟"), format!("{mins} minutes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap_or_default()
    }

    #[test]
    fn codes_are_six_digits_and_typing_is_forgiving() {
        assert_eq!(code_from(42).as_str(), "000042");
        assert_eq!(code_from(u32::MAX).as_str(), "967295");
        assert_eq!(TypedCode::parse(" 012 345 ").map(|c| c.0), Ok("012345".into()));
        assert_eq!(TypedCode::parse("０１２３４５").map(|c| c.0), Ok("012345".into()));
        assert!(TypedCode::parse("12345").is_err());
        assert!(TypedCode::parse("12345a").is_err());
        assert!(TypedCode::parse("").is_err());
        assert!(message(&TypedCode("012345".into())).contains("012345"));
    }

    #[test]
    fn a_code_lives_five_minutes_and_five_tries() {
        let fresh = IssuedCode {
            issued_at: at(0),
            tries: 0,
            used: false,
        };
        assert_eq!(may_try(Some(&fresh), at(299)), Ok(()));
        assert_eq!(may_try(Some(&fresh), at(300)), Err(CodeRefusal::Expired));
        assert_eq!(may_try(None, at(1)), Err(CodeRefusal::NotRequested));
        let used = IssuedCode {
            used: true,
            ..fresh.clone()
        };
        assert_eq!(may_try(Some(&used), at(1)), Err(CodeRefusal::NotRequested));
        let tired = IssuedCode { tries: 5, ..fresh };
        assert_eq!(may_try(Some(&tired), at(1)), Err(CodeRefusal::Exhausted));
        assert_eq!(wrong(1), CodeRefusal::Wrong { tries_left: 4 });
        assert_eq!(wrong(5), CodeRefusal::Exhausted);
    }

    #[test]
    fn a_phone_waits_a_minute_between_codes_and_five_an_hour() {
        let now = at(10_000);
        assert_eq!(wait_before_request(&[], &[], now), Duration::zero());
        assert_eq!(
            wait_before_request(&[now - Duration::seconds(20)], &[], now),
            Duration::seconds(40)
        );
        assert_eq!(
            wait_before_request(&[now - Duration::seconds(61)], &[], now),
            Duration::zero()
        );
        // Five in the last hour, the oldest 50 minutes ago: ten more minutes.
        let five: Vec<_> = [50, 40, 30, 20, 10]
            .iter()
            .map(|m| now - Duration::minutes(*m))
            .collect();
        assert_eq!(wait_before_request(&five, &[], now), Duration::minutes(10));
        // Requests older than an hour do not count.
        let old: Vec<_> = (61..70).map(|m| now - Duration::minutes(m)).collect();
        assert_eq!(wait_before_request(&old, &[], now), Duration::zero());
        // Twenty from one address, whatever the numbers.
        let busy: Vec<_> = (1..=20).map(|m| now - Duration::minutes(m)).collect();
        assert_eq!(wait_before_request(&[], &busy, now), Duration::minutes(40));
        assert_eq!(wait_words(Duration::seconds(40)).zh, "40 秒");
        assert_eq!(wait_words(Duration::seconds(601)).zh, "11 分钟");
    }
}
