//! sea-orm entities, one per table. Crate-private: the rest of the code sees domain types.

pub(crate) mod official_street;
pub(crate) mod org_unit;
pub(crate) mod person;
pub(crate) mod person_role;
pub(crate) mod roster_upload;
pub(crate) mod session_invitation;
pub(crate) mod session_lecturer;
pub(crate) mod signin_link;
pub(crate) mod signin_throttle;
pub(crate) mod training_session;
pub(crate) mod web_session;
