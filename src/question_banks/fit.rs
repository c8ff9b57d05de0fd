//! Whether a question fits the first screen of a phone (issue 17): on a 390×844 phone at the standard size,
//! a chair sees the stem and every option of a quiz question without scrolling.
//!
//! An estimate of the quiz page's layout (`src/web/views/quiz.rs`, `static/css/app.css`), so that a lawyer
//! learns it from `quorum banks check` while writing, not from a chair. Calibrated in Debian's Chromium
//! against every shipped question (`tests/browser/shipped-questions.test.mjs` measures the real page): it
//! gives the same line count for every stem and option, and the height of the last option within 1px.
//! Widths are in hundredths of the type size (a Chinese character is 100), heights in tenths of a pixel;
//! a change to the quiz page's CSS means measuring again and changing the numbers here.

use crate::domain::question::{QuestionContent, QuestionKind};

/// The phone's screen height, CSS px × 10.
const SCREEN: u32 = 8440;
/// The site header, the clock line and the 第 N 题 line above the stem.
const ABOVE_STEM: u32 = 1620;
/// A stem line: 25px type, line height 1.4.
const STEM_LINE: u32 = 350;
/// A stem line is 360px wide: 14.4 characters of 25px.
const STEM_WIDTH: u32 = 1440;
/// Between the stem and the first option.
const STEM_GAP: u32 = 100;
/// An option line: 21px type, line height 1.3.
const OPTION_LINE: u32 = 273;
/// An option's text is 298px wide (its box less border, padding and the radio): 14.19 characters of 21px.
const OPTION_WIDTH: u32 = 1419;
/// An option box's border and padding, top and bottom.
const OPTION_EDGES: u32 = 140;
/// An option box is a tap target at least 56px high.
const OPTION_MIN: u32 = 560;
/// Between two options.
const OPTION_GAP: u32 = 60;
/// The option's letter and a space (“A ”) before its text.
const LETTER: u32 = 110;
/// An ASCII character (digits, the underscores of a blank); every other character counts as a Chinese one.
const NARROW: u32 = 60;

/// Characters a line never starts with: they stay with the character before them.
const CLOSING: &str = "，。、；：？！）》”’」』】…—,.;:?!)]";
/// Characters a line never ends with: they go with the character after them.
const OPENING: &str = "（《“‘「『【([";

/// How a question lies on the phone's first screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub stem_lines: u32,
    pub option_lines: Vec<u32>,
    /// Where the last option ends, in CSS px × 10 from the top of the page.
    pub bottom: u32,
}

impl Estimate {
    pub fn fits(&self) -> bool {
        self.bottom <= SCREEN
    }

    /// The stem and options in stem lines (rounded up): what the message tells the lawyer.
    pub fn lines(&self) -> u32 {
        (self.bottom - ABOVE_STEM).div_ceil(STEM_LINE)
    }

    /// The stem lines the first screen holds below the question's number.
    pub fn max_lines() -> u32 {
        (SCREEN - ABOVE_STEM) / STEM_LINE
    }
}

pub fn estimate(content: &QuestionContent) -> Estimate {
    let stem_lines = lines(&content.stem, STEM_WIDTH, 0);
    let option_lines: Vec<u32> = match content.kind {
        // 正确 and 错误, one line each and no letter.
        QuestionKind::TrueFalse => vec![1, 1],
        QuestionKind::Single | QuestionKind::Multiple => {
            content.options.iter().map(|o| lines(o, OPTION_WIDTH, LETTER)).collect()
        }
    };
    let boxes: u32 = option_lines
        .iter()
        .map(|k| (OPTION_EDGES + OPTION_LINE * k).max(OPTION_MIN))
        .sum();
    let gaps = OPTION_GAP * (option_lines.len() as u32).saturating_sub(1);
    Estimate {
        stem_lines,
        bottom: ABOVE_STEM + STEM_LINE * stem_lines + STEM_GAP + boxes + gaps,
        option_lines,
    }
}

fn width(c: char) -> u32 {
    if c.is_ascii() { NARROW } else { 100 }
}

/// The units a line breaks between, with their widths: each Chinese character on its own, a run of ASCII
/// (a number, a blank) whole, closing punctuation with what precedes it and opening with what follows.
fn units(text: &str) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    let mut glue_next = false;
    let mut in_word = false;
    for c in text.chars() {
        let w = width(c);
        let word = c.is_ascii() && !c.is_ascii_whitespace() && !CLOSING.contains(c) && !OPENING.contains(c);
        let joins = glue_next || CLOSING.contains(c) || (word && in_word);
        match out.last_mut() {
            Some(last) if joins => *last += w,
            _ => out.push(w),
        }
        glue_next = OPENING.contains(c);
        in_word = word;
    }
    out
}

/// Lines a text takes in a box `width` wide, its first line starting `indent` in.
fn lines(text: &str, width: u32, indent: u32) -> u32 {
    let (mut n, mut x) = (1, indent);
    for w in units(text) {
        if x + w > width && x > 0 {
            n += 1;
            x = w;
        } else {
            x += w;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::question::Answer;

    fn single(stem: &str, options: &[&str]) -> QuestionContent {
        QuestionContent {
            kind: QuestionKind::Single,
            stem: stem.into(),
            options: options.iter().map(|o| o.to_string()).collect(),
            answer: Answer::Choices([0].into()),
            explanation: "因为".into(),
            citations: Vec::new(),
            tags: Vec::new(),
            difficulty: 1,
            rule: None,
        }
    }

    #[test]
    fn a_line_holds_fourteen_characters_of_stem() {
        assert_eq!(lines(&"字".repeat(14), STEM_WIDTH, 0), 1);
        assert_eq!(lines(&"字".repeat(15), STEM_WIDTH, 0), 2);
        // An option's first line also holds its letter.
        assert_eq!(lines(&"字".repeat(13), OPTION_WIDTH, LETTER), 1);
        assert_eq!(lines(&"字".repeat(14), OPTION_WIDTH, LETTER), 2);
    }

    #[test]
    fn numbers_stay_whole_and_punctuation_stays_with_its_character() {
        // 13 characters, then a number that does not fit the rest of the line: it moves down whole.
        assert_eq!(lines(&format!("{}30000", "字".repeat(13)), STEM_WIDTH, 0), 2);
        // The comma cannot start the second line: it takes the character before it along.
        assert_eq!(lines(&format!("{}，字", "字".repeat(14)), STEM_WIDTH, 0), 2);
        assert_eq!(
            units("（甲）乙，30000平方米"),
            vec![300, 200, 5 * NARROW, 100, 100, 100]
        );
    }

    // Measured in Chromium (tests/browser/shipped-questions.test.mjs): ogm-018 ends at 791px with a stem of
    // 7 lines and options of 3, 3, 3 and 2 lines; before it was shortened, its stem took 8 (826px).
    #[test]
    fn agrees_with_the_browser_on_a_shipped_question() {
        let options = [
            "同意的业主超过105户，且这些业主的专有部分面积合计超过10500平方米",
            "同意的业主超过150户，且这些业主的专有部分面积合计超过15000平方米",
            "同意的业主达到158户以上，且这些业主的专有部分面积合计达到15750平方米以上",
            "同意的业主超过105户即可，面积不用计算",
        ];
        let now = estimate(&single(
            "某小区有业主300户（每户计一名业主），专有部分共30000平方米。业主大会表决选聘物业服务企业，参与表决的有210户、面积21000平方米（已达参与表决要求）。要通过这项决定，同意的业主须满足什么条件？",
            &options,
        ));
        assert_eq!((now.stem_lines, now.option_lines.clone()), (7, vec![3, 3, 3, 2]));
        assert!(now.bottom.abs_diff(7910) <= 10, "{now:?}");
        assert!(now.fits());
        let before = estimate(&single(
            "某小区有业主300户（每户按一名业主计），专有部分共30000平方米。业主大会表决选聘新的物业服务企业，参与表决的有210户、面积21000平方米（已达参与表决要求）。要通过这项决定，同意的业主须满足什么条件？",
            &options,
        ));
        assert_eq!(before.stem_lines, 8);
        assert!(before.bottom.abs_diff(8260) <= 10, "{before:?}");
    }

    #[test]
    fn a_long_question_does_not_fit() {
        let option = "字".repeat(40);
        let e = estimate(&single(&"字".repeat(100), &[&option, &option, &option, &option]));
        assert!(!e.fits());
        assert!(e.lines() > Estimate::max_lines(), "{e:?}");
        assert_eq!(Estimate::max_lines(), 19);
    }
}
