//! Input refused field by field: what every form answers with when it cannot take what was typed.
//!
//! Domain rules and services both produce it; the web edge puts each message beside its field (the
//! form's name for it) and answers 422 with the form again, never a dead-end error page.

use crate::i18n::Text;

/// The field name that means "the whole form" (a message shown above the fields).
pub const WHOLE_FORM: &str = "";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldErrors(Vec<(&'static str, Text)>);

impl FieldErrors {
    pub fn new() -> FieldErrors {
        FieldErrors(Vec::new())
    }

    /// One message for one field.
    pub fn one(field: &'static str, message: Text) -> FieldErrors {
        FieldErrors(vec![(field, message)])
    }

    /// One message about the form as a whole.
    pub fn whole(message: Text) -> FieldErrors {
        FieldErrors::one(WHOLE_FORM, message)
    }

    pub fn push(&mut self, (field, message): (&'static str, Text)) {
        self.0.push((field, message));
    }

    pub fn add(&mut self, field: &'static str, zh: impl Into<String>, en: impl Into<String>) {
        self.0.push((field, Text::new(zh, en)));
    }

    /// The first message for `field`, to show beside it.
    pub fn get(&self, field: &str) -> Option<&Text> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, t)| t)
    }

    /// `Ok(value)` when nothing was refused, else the messages.
    pub fn or_ok<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }

    /// All messages in one line per language, for places that cannot show a form (the command line,
    /// a page reached without one).
    pub fn joined(&self) -> Text {
        let zh: Vec<&str> = self.0.iter().map(|(_, t)| t.zh.as_str()).collect();
        let en: Vec<&str> = self.0.iter().map(|(_, t)| t.en.as_str()).collect();
        Text::new(zh.join("；"), en.join("; "))
    }
}

impl std::ops::Deref for FieldErrors {
    type Target = [(&'static str, Text)];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<Vec<(&'static str, Text)>> for FieldErrors {
    fn from(v: Vec<(&'static str, Text)>) -> Self {
        FieldErrors(v)
    }
}

impl FromIterator<(&'static str, Text)> for FieldErrors {
    fn from_iter<I: IntoIterator<Item = (&'static str, Text)>>(iter: I) -> Self {
        FieldErrors(iter.into_iter().collect())
    }
}

impl Extend<(&'static str, Text)> for FieldErrors {
    fn extend<I: IntoIterator<Item = (&'static str, Text)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for FieldErrors {
    type Item = (&'static str, Text);
    type IntoIter = std::vec::IntoIter<(&'static str, Text)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_found_by_field_and_joined_for_pages_without_a_form() {
        let mut e = FieldErrors::one("title", Text::new("请填写标题", "give a title"));
        e.add("street", "请选择街道", "choose a street");
        assert_eq!(e.get("street").map(|t| t.en.as_str()), Some("choose a street"));
        assert!(e.get("ends_at").is_none());
        assert_eq!(e.joined().zh, "请填写标题；请选择街道");
        assert_eq!(FieldErrors::new().or_ok(3), Ok(3));
        assert!(e.or_ok(3).is_err());
    }
}
