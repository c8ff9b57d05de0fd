//! Pure types and rules. Nothing here knows about HTTP, SQL, email or media.

pub mod attempt;
pub mod attendance;
pub mod audit;
pub mod bank;
pub mod certificate;
pub mod chat;
pub mod contact;
pub mod input;
pub mod org;
pub mod person;
pub mod placement;
pub mod privacy;
pub mod question;
pub mod quiz;
pub mod recording;
pub mod regrade;
pub mod replay;
pub mod report;
pub mod room_state;
pub mod roster;
pub mod session;
pub mod signin_link;
pub mod simulcast;
pub mod sms_code;
pub mod statute;
pub mod text;
pub mod throttle;
pub mod time;
pub mod turn;
pub mod view;

/// Lowercase hex of bytes (fingerprints, token hashes).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
