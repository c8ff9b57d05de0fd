//! Per-request context: who is signed in, the language, the CSRF nonce. A middleware fills it once per
//! request; handlers and views read it through the `Ctx` extractor.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use std::future::{Ready, ready};

use super::state::AppState;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::services::accounts::{self, CurrentUser};

pub const SESSION_COOKIE: &str = "q_sid";
pub const CSRF_COOKIE: &str = "q_csrf";
pub const LANG_COOKIE: &str = "q_lang";

#[derive(Clone)]
pub struct RequestCtx {
    pub user: Option<CurrentUser>,
    pub lang: Lang,
    pub csrf_nonce: String,
    /// False when the nonce was minted for this response (no cookie came in): a POST then always fails.
    pub nonce_from_cookie: bool,
    /// The signed token to put into forms.
    pub csrf_token: String,
    /// Path and query of this request, for "come back here after signing in" and the language switch.
    pub here: String,
}

impl RequestCtx {
    pub fn of(req: &HttpRequest) -> Result<RequestCtx, AppError> {
        req.extensions()
            .get::<RequestCtx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("request context missing (middleware not installed)".into()))
    }

    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.lang.t(zh, en)
    }
}

/// The extractor handlers use.
pub type Ctx = RequestCtx;

impl FromRequest for RequestCtx {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(RequestCtx::of(req))
    }
}

pub fn session_cookie(token: &str, days: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(days))
        .finish()
}

pub fn removal_cookie(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path("/").finish();
    c.make_removal();
    c
}

/// Resolves the session, language and CSRF nonce, and sets the CSRF cookie on first visit.
pub async fn load_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let lang = req
        .cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .unwrap_or_default();
    let (nonce, from_cookie) = match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() >= 16 => (c.value().to_string(), true),
        _ => (crate::services::tokens::new_token(), false),
    };
    let mut user = None;
    let mut stale_session = false;
    if let (Some(state), Some(cookie)) = (&state, req.cookie(SESSION_COOKIE)) {
        match accounts::current_user(&state.db, cookie.value()).await {
            Ok(u) => {
                stale_session = u.is_none();
                user = u;
            }
            // The page can still render for a signed-out visitor; the error is in the log.
            Err(e) => tracing::error!(error = %e, "loading the session failed"),
        }
    }
    let csrf_token = state
        .as_ref()
        .map(|s| super::csrf::token_for(&s.csrf_key, &nonce))
        .unwrap_or_default();
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let secure = state.as_ref().is_some_and(|s| s.settings.cookie_secure());
    req.extensions_mut().insert(RequestCtx {
        user,
        lang,
        csrf_nonce: nonce.clone(),
        nonce_from_cookie: from_cookie,
        csrf_token,
        here,
    });
    let mut res = next.call(req).await?;
    if !from_cookie {
        let c = Cookie::build(CSRF_COOKIE, nonce)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&c)?;
    }
    if stale_session {
        res.response_mut().add_cookie(&removal_cookie(SESSION_COOKIE))?;
    }
    Ok(res)
}
