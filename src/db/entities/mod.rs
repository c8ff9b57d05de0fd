//! sea-orm entities, one per table. Crate-private: the rest of the code sees domain types.

pub(crate) mod attempt;
pub(crate) mod attempt_item;
pub(crate) mod attendance_interval;
pub(crate) mod bank;
pub(crate) mod bank_file;
pub(crate) mod chat_message;
pub(crate) mod official_street;
pub(crate) mod org_unit;
pub(crate) mod person;
pub(crate) mod person_role;
pub(crate) mod question;
pub(crate) mod question_citation;
pub(crate) mod question_version;
pub(crate) mod quiz;
pub(crate) mod roster_upload;
pub(crate) mod session_invitation;
pub(crate) mod session_lecturer;
pub(crate) mod session_moderator;
pub(crate) mod signin_link;
pub(crate) mod signin_throttle;
pub(crate) mod statute;
pub(crate) mod statute_article;
pub(crate) mod training_session;
pub(crate) mod web_session;
