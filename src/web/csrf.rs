//! CSRF protection: a signed token bound to the visitor's session.
//!
//! Forms carry HMAC(key, binding) in a hidden field. For a signed-in visitor the binding is the web
//! session id (an HttpOnly cookie), so a token and nonce cookie taken from one browser and planted in
//! another are refused in that browser's session. A signed-out visitor (the sign-in form, sign-in links:
//! login CSRF) gets a random pre-session nonce in an HttpOnly cookie as the binding. A cross-site page can
//! neither read the cookies nor compute the HMAC; with secure cookies both carry the `__Host-` prefix, so
//! a sibling subdomain cannot plant them either.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::context::RequestCtx;
pub use crate::services::tokens::{binding_for_session, binding_for_visitor, token_for, verify};
use crate::web::error::AppError;

pub const FIELD: &str = "csrf";

/// Checks a submitted token against the request's binding (session, or pre-session nonce).
pub fn check(req: &HttpRequest, token: &str) -> Result<(), AppError> {
    let ctx = RequestCtx::of(req)?;
    let state = req
        .app_data::<web::Data<super::state::AppState>>()
        .ok_or(AppError::Csrf)?;
    if ctx.csrf_verifiable && verify(&state.csrf_key, &ctx.csrf_binding, token) {
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
            let body = body.await.map_err(too_large)?;
            let form: T = read_form(&req, &body)?;
            check(&req, form.csrf())?;
            Ok(CsrfForm(form))
        })
    }
}

/// A body over the limit is answered as too large (with the limit), not as a bad request.
fn too_large(e: actix_web::Error) -> actix_web::Error {
    if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge {
            limit_bytes: super::FORM_MAX_BYTES,
        }
        .into()
    } else {
        e
    }
}

fn read_form<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, actix_web::Error> {
    // serde_html_form, unlike serde_urlencoded, reads repeated keys (checkboxes) into a Vec.
    serde_html_form::from_bytes(body).or_else(|e| {
        // Check the token first: a forged post must read as such, not as a bad form.
        let token = serde_html_form::from_bytes::<OnlyCsrfLoose>(body)
            .map(|t| t.csrf)
            .unwrap_or_default();
        check(req, &token)?;
        Err(AppError::BadRequest(crate::i18n::Text::new(
            format!("表单内容无法识别：{e}"),
            format!("the form could not be read: {e}"),
        ))
        .into())
    })
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
