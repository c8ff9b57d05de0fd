//! Room chat: what a message may contain, and how fast one person may send.

use std::time::{Duration, Instant};

use super::text;
use crate::i18n::Text;

/// The longest message, in characters.
pub const MAX_CHARS: usize = 500;

/// A chat message as people will see it: trimmed, 1–500 characters, something visible, none of the
/// characters refused in names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatText(String);

impl ChatText {
    pub fn parse(input: &str) -> Result<ChatText, Text> {
        let s = input.trim();
        if s.is_empty() || s.chars().count() > MAX_CHARS {
            return Err(Text::new(
                "消息为空或超过500字",
                "the message is empty or over 500 characters",
            ));
        }
        if let Some(c) = text::refused_char(s) {
            return Err(Text::new(
                format!("消息包含不可见或控制字符（{}）", text::code_point(c)),
                format!(
                    "the message contains an invisible or control character ({})",
                    text::code_point(c)
                ),
            ));
        }
        if !text::has_visible(s) {
            return Err(Text::new("消息没有可见的文字", "the message has no visible text"));
        }
        Ok(ChatText(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How fast one person may chat in one room: a token bucket. A burst lets someone answer a question
/// in a few quick lines; after that one message per `refill` keeps a room of 300 chairs readable (and a
/// flood from one account costs the others nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatRate {
    pub burst: u32,
    pub refill: Duration,
}

impl ChatRate {
    /// Chairs: 5 at once, then one every 3 s (20 a minute, more than anyone types on a phone).
    pub const PARTICIPANT: ChatRate = ChatRate {
        burst: 5,
        refill: Duration::from_secs(3),
    };
    /// Moderators and lecturers answer many people at once, so a higher limit — but still a limit: a
    /// stolen staff account must not flood the room either.
    pub const STAFF: ChatRate = ChatRate {
        burst: 10,
        refill: Duration::from_secs(1),
    };
}

/// One person's bucket.
#[derive(Debug, Clone)]
pub struct ChatBucket {
    tokens: f64,
    at: Instant,
}

impl ChatBucket {
    pub fn new(rate: ChatRate, now: Instant) -> ChatBucket {
        ChatBucket {
            tokens: f64::from(rate.burst),
            at: now,
        }
    }

    /// Takes a token for one message, or says how many whole seconds until the next one is allowed.
    pub fn take(&mut self, rate: ChatRate, now: Instant) -> Result<(), u64> {
        let refill = rate.refill.as_secs_f64().max(0.001);
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed / refill).min(f64::from(rate.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - self.tokens) * refill).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_message_per_refill() {
        let rate = ChatRate::PARTICIPANT;
        let t0 = Instant::now();
        let mut b = ChatBucket::new(rate, t0);
        for _ in 0..5 {
            assert_eq!(b.take(rate, t0), Ok(()));
        }
        assert_eq!(b.take(rate, t0), Err(3));
        assert_eq!(b.take(rate, t0 + Duration::from_secs(1)), Err(2));
        assert_eq!(b.take(rate, t0 + Duration::from_secs(3)), Ok(()));
        assert_eq!(b.take(rate, t0 + Duration::from_secs(3)), Err(3));
        // A long pause refills only up to the burst.
        let later = t0 + Duration::from_secs(600);
        for _ in 0..5 {
            assert_eq!(b.take(rate, later), Ok(()));
        }
        assert!(b.take(rate, later).is_err());
    }

    #[test]
    fn messages_refuse_what_names_refuse() {
        assert_eq!(ChatText::parse("  请问何时换届？ ").unwrap().as_str(), "请问何时换届？");
        assert!(ChatText::parse("").is_err());
        assert!(ChatText::parse(&"长".repeat(501)).is_err());
        assert!(ChatText::parse("\u{200B}\u{200B}").is_err());
        assert!(ChatText::parse("\u{200D}").is_err());
        assert!(ChatText::parse("见附件\u{202E}gpj.exe").is_err());
        assert!(ChatText::parse("a\u{1b}[31mred").is_err());
        assert!(ChatText::parse("好的👍").is_ok());
    }
}
