//! How sign-in slows down after wrong passwords. Pure arithmetic; the counters live in the database so
//! that several app processes agree.
//!
//! Never a lockout: after a few free tries each further failure doubles a waiting time (capped), and the
//! page says exactly how long to wait. Per-IP limits are much looser than per-account ones because many
//! chairs share a mobile carrier's NAT address or a community centre's Wi-Fi.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before any waiting.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; doubles after each further failure.
    pub base_delay_secs: i64,
    pub max_delay_secs: i64,
}

impl ThrottlePolicy {
    pub const PER_ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 3,
        base_delay_secs: 30,
        max_delay_secs: 15 * 60,
    };
    pub const PER_IP: ThrottlePolicy = ThrottlePolicy {
        free_failures: 20,
        base_delay_secs: 10,
        max_delay_secs: 5 * 60,
    };

    /// How long to wait after `failures` consecutive failures.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures <= self.free_failures {
            return Duration::zero();
        }
        let doublings = (failures - self.free_failures - 1).min(20);
        let secs = self
            .base_delay_secs
            .saturating_mul(1i64 << doublings)
            .min(self.max_delay_secs);
        Duration::seconds(secs)
    }
}

/// The state of one counter as read from storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: u32,
    pub next_allowed_at: DateTime<Utc>,
}

/// Whether a sign-in may be tried now, and if not, how many seconds remain (rounded up).
pub fn wait_remaining(state: Option<ThrottleState>, now: DateTime<Utc>) -> Option<i64> {
    let state = state?;
    if state.next_allowed_at <= now {
        return None;
    }
    let ms = (state.next_allowed_at - now).num_milliseconds();
    Some((ms + 999) / 1000)
}

/// Friendly wording of a wait: "30 秒" / "2 分钟".
pub fn describe_wait(secs: i64) -> crate::i18n::Text {
    if secs < 60 {
        crate::i18n::Text::new(format!("{secs} 秒"), format!("{secs} seconds"))
    } else {
        let mins = (secs + 59) / 60;
        crate::i18n::Text::new(format!("{mins} 分钟"), format!("{mins} minutes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_tries_then_doubling_with_cap() {
        let p = ThrottlePolicy::PER_ACCOUNT;
        assert_eq!(p.delay_after(3), Duration::zero());
        assert_eq!(p.delay_after(4), Duration::seconds(30));
        assert_eq!(p.delay_after(5), Duration::seconds(60));
        assert_eq!(p.delay_after(100), Duration::seconds(900));
    }

    #[test]
    fn remaining_rounds_up() {
        let now = Utc::now();
        let st = ThrottleState {
            failures: 4,
            next_allowed_at: now + Duration::milliseconds(1500),
        };
        assert_eq!(wait_remaining(Some(st), now), Some(2));
        assert_eq!(wait_remaining(Some(st), now + Duration::seconds(2)), None);
        assert_eq!(wait_remaining(None, now), None);
    }
}
