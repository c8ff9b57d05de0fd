//! The personal-information notice (个人信息处理告知, PIPL arts. 14 and 17): a version number that
//! changes whenever the notice's substance changes, so that everyone is asked again.

/// The notice in force. Raise it when what is collected, why, for how long or who sees it changes.
pub const NOTICE_VERSION: u32 = 1;

/// Whether a person who accepted `accepted` (none yet, or an older version) must read the notice.
pub fn must_accept(accepted: Option<u32>) -> bool {
    accepted.is_none_or(|v| v < NOTICE_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_asks_again() {
        assert!(must_accept(None));
        assert!(must_accept(Some(NOTICE_VERSION - 1)));
        assert!(!must_accept(Some(NOTICE_VERSION)));
    }
}
