//! Time-limited TURN credentials (the "TURN REST API" scheme that coturn's `use-auth-secret` implements):
//! the relay and this service share a secret, so each room page can carry its own credentials that stop
//! working at a set time, instead of one static password printed into every page.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// What the browser presents to the TURN server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredentials {
    /// `"{expiry_unix}:{person_id}"`: coturn reads the timestamp before its `rest-api-separator` (`:`)
    /// and refuses the credentials once it has passed; the part after it only names who used the relay
    /// in coturn's log (an internal number, no personal data).
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)), which coturn recomputes from its `static-auth-secret`.
    pub credential: String,
}

/// Credentials for `person_id` valid until `expires_unix` (seconds since the epoch).
pub fn mint(secret: &[u8], person_id: i64, expires_unix: i64) -> TurnCredentials {
    let username = format!("{expires_unix}:{person_id}");
    let credential = match Hmac::<Sha1>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(username.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => String::new(),
    };
    TurnCredentials { username, credential }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_match_the_turn_rest_scheme() {
        // Computed independently: python3 -c "import hmac,hashlib,base64; print(base64.b64encode(
        //   hmac.new(b'test-secret-0123456789', b'1767225600:42', hashlib.sha1).digest()).decode())"
        let c = mint(b"test-secret-0123456789", 42, 1_767_225_600);
        assert_eq!(c.username, "1767225600:42");
        assert_eq!(c.credential, "ZRMSI9U5M9AkoMushW47M7TK38g=");
    }

    #[test]
    fn another_expiry_or_secret_gives_another_credential() {
        let a = mint(b"s1", 42, 100);
        assert_ne!(a.credential, mint(b"s1", 42, 101).credential);
        assert_ne!(a.credential, mint(b"s2", 42, 100).credential);
    }
}
