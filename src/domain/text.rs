//! Text that one person shows to others (names, chat): which characters are refused.
//!
//! One rule for every such field, so a trick refused in a name cannot come back through chat.

/// The first character refused in shown text, if any:
/// - control characters (line breaks, escapes, NUL…);
/// - bidirectional controls (embeddings, overrides, isolates, marks): U+202E turns `gpj.exe` into
///   what reads as `exe.jpg`, and they reorder everything after them on the page;
/// - invisible characters that only hide or split words: zero-width space, word joiner, invisible
///   operators, byte-order mark, soft hyphen, Mongolian vowel separator, combining grapheme joiner,
///   Hangul fillers.
///
/// Zero-width joiner and non-joiner stay allowed: emoji sequences and some scripts need them. Text
/// made only of those (or of spaces) is caught by [`has_visible`].
pub fn refused_char(s: &str) -> Option<char> {
    s.chars().find(|&c| is_refused(c))
}

fn is_refused(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200B}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
                | '\u{00AD}'
                | '\u{180E}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{FFA0}'
        )
}

/// Whether the text has something a reader can see (not only spaces, joiners or variation selectors).
pub fn has_visible(s: &str) -> bool {
    s.chars().any(|c| {
        !c.is_whitespace() && !matches!(c, '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}') && !is_refused(c)
    })
}

/// The character as `U+XXXX`, for messages that must name an invisible character.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_bidi_and_invisible_characters() {
        for bad in [
            "a\u{7}b",
            "line\nbreak",
            "gpj.\u{202E}exe",
            "\u{2066}x",
            "a\u{200B}b",
            "\u{FEFF}x",
            "x\u{200F}",
        ] {
            assert!(refused_char(bad).is_some(), "{bad:?}");
        }
        for ok in [
            "王秀英",
            "欧阳 娜娜",
            "Zoë O'Brien",
            "👨\u{200D}👩\u{200D}👧",
            "第3条（业主大会）",
        ] {
            assert_eq!(refused_char(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn joiners_and_spaces_alone_are_not_visible() {
        assert!(!has_visible("\u{200D}\u{200C} \u{3000}\u{FE0F}"));
        assert!(!has_visible("\u{200B}\u{200B}"));
        assert!(has_visible(" 好 "));
        assert_eq!(code_point('\u{202E}'), "U+202E");
    }
}
