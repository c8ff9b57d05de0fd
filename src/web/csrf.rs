//! CSRF protection: a signed double-submit token.
//!
//! Every visitor gets a random nonce in an HttpOnly cookie; forms carry HMAC(key, nonce) in a hidden
//! field. A cross-site page can neither read the cookie nor compute the HMAC, and a cookie planted from a
//! sibling domain does not help without the key. It also protects the sign-in form (login CSRF), where
//! there is no session yet.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use serde::de::DeserializeOwned;
use sha2::Sha256;

use super::context::RequestCtx;
use crate::error::AppError;
use crate::services::tokens::hex;

pub const FIELD: &str = "csrf";

pub fn token_for(key: &[u8], nonce: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => return String::new(),
    };
    mac.update(nonce.as_bytes());
    hex(&mac.finalize().into_bytes())
}

pub fn verify(key: &[u8], nonce: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = token_for(key, nonce);
    !token.is_empty() && expected.as_bytes().ct_eq(token.as_bytes()).into()
}

/// Checks a submitted token against the request's nonce.
pub fn check(req: &HttpRequest, token: &str) -> Result<(), AppError> {
    let ctx = RequestCtx::of(req)?;
    let state = req
        .app_data::<web::Data<super::state::AppState>>()
        .ok_or(AppError::Csrf)?;
    if ctx.nonce_from_cookie && verify(&state.csrf_key, &ctx.csrf_nonce, token) {
        Ok(())
    } else {
        tracing::warn!(route = %super::route_of(req), "CSRF check failed");
        Err(AppError::Csrf)
    }
}

/// Form types that carry the token.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// A urlencoded form whose CSRF token has been checked. Use it instead of `web::Form` on every POST.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + HasCsrf + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge {
                        limit_bytes: super::FORM_MAX_BYTES,
                    }
                    .into()
                } else {
                    e
                }
            })?;
            // serde_html_form, unlike serde_urlencoded, reads repeated keys (checkboxes) into a Vec.
            let form: T = match serde_html_form::from_bytes(&body) {
                Ok(f) => f,
                Err(e) => {
                    // Check the token first: a forged post must read as such, not as a bad form.
                    let token = serde_html_form::from_bytes::<OnlyCsrfLoose>(&body)
                        .map(|t| t.csrf)
                        .unwrap_or_default();
                    check(&req, &token)?;
                    return Err(AppError::BadRequest(crate::i18n::Text::new(
                        format!("表单内容无法识别：{e}"),
                        format!("the form could not be read: {e}"),
                    ))
                    .into());
                }
            };
            check(&req, form.csrf())?;
            Ok(CsrfForm(form))
        })
    }
}

/// Declares `csrf` as the token field of form structs.
#[macro_export]
macro_rules! has_csrf {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::web::csrf::HasCsrf for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}

/// A form with only the token (buttons such as "sign out").
#[derive(serde::Deserialize)]
pub struct OnlyCsrf {
    pub csrf: String,
}
has_csrf!(OnlyCsrf);

#[derive(serde::Deserialize)]
struct OnlyCsrfLoose {
    #[serde(default)]
    csrf: String,
}
