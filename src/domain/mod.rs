//! Pure types and rules. Nothing here knows about HTTP, SQL, email or media.

pub mod contact;
pub mod org;
pub mod person;
pub mod roster;
pub mod throttle;
pub mod time;
