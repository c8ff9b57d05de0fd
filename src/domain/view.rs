//! How pages are shown to one reader: the standard size, 长辈版 (large type) or 长辈版 with high contrast.
//! A preference only; it changes no rule, just the class on the page's `<html>`.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewMode {
    #[default]
    Standard,
    /// 长辈版: base type 24 px, question stems 30 px, wider spacing.
    Large,
    /// 长辈版 with high contrast (text at 7:1 or better).
    LargeContrast,
}

impl ViewMode {
    pub fn parse(code: &str) -> Option<ViewMode> {
        match code {
            "standard" => Some(ViewMode::Standard),
            "large" => Some(ViewMode::Large),
            "contrast" => Some(ViewMode::LargeContrast),
            _ => None,
        }
    }

    /// The stored and URL form.
    pub fn code(self) -> &'static str {
        match self {
            ViewMode::Standard => "standard",
            ViewMode::Large => "large",
            ViewMode::LargeContrast => "contrast",
        }
    }

    pub fn is_large(self) -> bool {
        self != ViewMode::Standard
    }

    /// The classes on `<html>` that the stylesheet keys on (none for the standard view).
    pub fn html_class(self) -> Option<&'static str> {
        match self {
            ViewMode::Standard => None,
            ViewMode::Large => Some("view-large"),
            ViewMode::LargeContrast => Some("view-large view-contrast"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ViewMode;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for m in [ViewMode::Standard, ViewMode::Large, ViewMode::LargeContrast] {
            assert_eq!(ViewMode::parse(m.code()), Some(m));
        }
        assert_eq!(ViewMode::parse("huge"), None);
        assert_eq!(ViewMode::parse(""), None);
    }
}
