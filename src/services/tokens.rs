//! Random bearer tokens (session cookies, sign-in links) and the hashes stored in their place, and the
//! signed CSRF tokens bound to a visitor (the web's `csrf` and `context` both use these: keeping them
//! here keeps those two from importing each other).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token: hex SHA-256. Tokens are random, so no salt or slow hash is needed.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub use crate::domain::hex;

/// The binding of a signed-in visitor: their web session id (the token itself never leaves the HMAC).
pub fn binding_for_session(session_id: &str) -> String {
    format!("session:{session_id}")
}

/// The binding of a signed-out visitor: the pre-session nonce cookie.
pub fn binding_for_visitor(nonce: &str) -> String {
    format!("visitor:{nonce}")
}

pub fn token_for(key: &[u8], binding: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => return String::new(),
    };
    mac.update(binding.as_bytes());
    hex(&mac.finalize().into_bytes())
}

pub fn verify(key: &[u8], binding: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = token_for(key, binding);
    !token.is_empty() && expected.as_bytes().ct_eq(token.as_bytes()).into()
}
