//! People and what they may do.

use std::collections::BTreeSet;
use std::fmt;

use crate::i18n::{Lang, Text};

use super::contact::{EmailAddress, PhoneNumber};

pub type PersonId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Chair,
    Lawyer,
    Official,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Chair, Role::Lawyer, Role::Official, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Chair => "chair",
            Role::Lawyer => "lawyer",
            Role::Official => "official",
            Role::Admin => "admin",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::Chair => lang.t("业委会主任/委员", "Committee chair"),
            Role::Lawyer => lang.t("律师", "Lawyer"),
            Role::Official => lang.t("街道干部", "Street official"),
            Role::Admin => lang.t("管理员", "Administrator"),
        }
    }
}

/// The roles one person holds (a person may hold several).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Roles {
        Roles(roles.into_iter().collect())
    }

    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A person's name as shown on screens and certificates: 1–50 characters, none of the characters
/// refused in shown text (`text::refused_char`: controls, bidi overrides, invisible characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<DisplayName, Text> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Text::new("姓名不能为空", "the name is empty"));
        }
        if s.chars().count() > 50 {
            return Err(Text::new("姓名不能超过50个字", "the name is longer than 50 characters"));
        }
        if let Some(c) = super::text::refused_char(s) {
            return Err(Text::new(
                format!("姓名包含不可见或控制字符（{}）", super::text::code_point(c)),
                format!(
                    "the name contains an invisible or control character ({})",
                    super::text::code_point(c)
                ),
            ));
        }
        if !super::text::has_visible(s) {
            return Err(Text::new("姓名没有可见的文字", "the name has no visible text"));
        }
        Ok(DisplayName(s.to_string()))
    }

    /// A name read back from the database. Names saved before the rule above tightened may hold a
    /// character it now refuses; that must not make the person impossible to load, so only emptiness
    /// is checked here.
    pub fn from_stored(stored: &str) -> Option<DisplayName> {
        let s = stored.trim();
        (!s.is_empty()).then(|| DisplayName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 张* / 欧阳** : the public form used on verification pages and in logs.
    pub fn masked(&self) -> String {
        mask_name(&self.0)
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Keeps the first character of a name and stars the rest.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// A new password as chosen by its owner. Kept simple on purpose: many users are over 60, so length is
/// what we ask for (at least 8 characters), not symbol soup; throttling protects against guessing.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(input: &str, confirm: &str) -> Result<NewPassword, Text> {
        if input.chars().count() < 8 {
            return Err(Text::new("密码至少需要8位", "the password needs at least 8 characters"));
        }
        if input.chars().count() > 128 {
            return Err(Text::new(
                "密码不能超过128位",
                "the password is longer than 128 characters",
            ));
        }
        if input != confirm {
            return Err(Text::new("两次输入的密码不一致", "the two passwords differ"));
        }
        let first = input.chars().next();
        if input.chars().all(|c| Some(c) == first) || "12345678901234567890".contains(input) {
            return Err(Text::new("密码太简单，请换一个", "that password is too easy to guess"));
        }
        Ok(NewPassword(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person as the rest of the application sees them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: PersonId,
    pub name: DisplayName,
    pub phone: PhoneNumber,
    pub email: Option<EmailAddress>,
    pub committee_id: Option<i64>,
    pub position: Option<String>,
    pub has_password: bool,
    pub roles: Roles,
    /// The display she chose while signed in (长辈版…); `None` until she chooses.
    pub view_mode: Option<super::view::ViewMode>,
    /// The version of the personal-information notice she accepted last (`domain::privacy`).
    pub notice_version: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_names() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(DisplayName::parse(" 王芳 ").unwrap().as_str(), "王芳");
        assert!(DisplayName::parse("  ").is_err());
    }

    #[test]
    fn names_refuse_hidden_characters_but_stored_ones_still_load() {
        for bad in ["王\u{202E}芳", "\u{200B}", "王\t芳", "\u{200D}\u{200D}"] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            DisplayName::from_stored("王\u{200B}芳").unwrap().as_str(),
            "王\u{200B}芳"
        );
        assert!(DisplayName::from_stored(" ").is_none());
    }

    #[test]
    fn password_rules() {
        assert!(NewPassword::parse("short", "short").is_err());
        assert!(NewPassword::parse("12345678", "12345678").is_err());
        assert!(NewPassword::parse("aaaaaaaa", "aaaaaaaa").is_err());
        assert!(NewPassword::parse("lujiazui2026", "lujiazui2025").is_err());
        assert!(NewPassword::parse("lujiazui2026", "lujiazui2026").is_ok());
    }

    #[test]
    fn roles_roundtrip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
        }
    }
}
