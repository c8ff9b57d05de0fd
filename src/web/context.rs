//! Per-request context: who is signed in, the language, the CSRF nonce. A middleware fills it once per
//! request; handlers and views read it through the `Ctx` extractor.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use std::future::{Ready, ready};

use super::state::AppState;
use crate::config::Settings;
use crate::domain::view::ViewMode;
use crate::i18n::Lang;
use crate::services::accounts::{self, CurrentUser};
use crate::services::tokens;
use crate::web::error::AppError;

pub const SESSION_COOKIE: &str = "q_sid";
pub const CSRF_COOKIE: &str = "q_csrf";
pub const LANG_COOKIE: &str = "q_lang";
/// The display preference on this phone (长辈版…), for visitors not signed in and accounts that never chose.
pub const VIEW_COOKIE: &str = "q_view";

/// With secure cookies, the session and CSRF cookies carry the `__Host-` prefix: browsers then accept
/// them only from this exact host over HTTPS with `Path=/` and no `Domain`, so a sibling subdomain cannot
/// plant or overwrite them.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-q_sid" } else { SESSION_COOKIE }
}

pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-q_csrf" } else { CSRF_COOKIE }
}

#[derive(Clone)]
pub struct RequestCtx {
    pub user: Option<CurrentUser>,
    pub lang: Lang,
    /// 长辈版 or not: the account's choice, else this phone's, else standard.
    pub view: ViewMode,
    /// What the CSRF token is bound to: the web session for a signed-in visitor, else the pre-session
    /// nonce cookie (see `services::tokens::binding_for_session`).
    pub csrf_binding: String,
    /// False for a signed-out visitor whose nonce was minted for this response (no cookie came in): a POST
    /// then always fails.
    pub csrf_verifiable: bool,
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
    Cookie::build(session_cookie_name(secure), token.to_string())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(days))
        .finish()
}

pub fn removal_cookie(name: &'static str, secure: bool) -> Cookie<'static> {
    // A `__Host-` cookie is only replaced by one that is itself Secure.
    let mut c = Cookie::build(name, "").path("/").secure(secure).finish();
    c.make_removal();
    c
}

/// Resolves the session, language and CSRF nonce, and sets the CSRF cookie on first visit.
pub async fn load_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let secure = state.as_ref().is_some_and(|s| s.settings.cookie_secure());
    let nonce = Nonce::of(&req, secure);
    let session = req.cookie(session_cookie_name(secure));
    let (user, stale_session) = match (&state, &session) {
        (Some(state), Some(cookie)) => {
            let address = client_ip(req.request(), &state.settings);
            signed_in(state, cookie.value(), address).await
        }
        _ => (None, false),
    };
    let ctx = request_ctx(
        &req,
        state.as_ref().map(|s| s.get_ref()),
        user,
        session.as_ref().map(|c| c.value()),
        &nonce,
    );
    req.extensions_mut().insert(ctx);
    let mut res = next.call(req).await?;
    if !nonce.from_cookie {
        res.response_mut().add_cookie(&csrf_cookie(nonce.value, secure))?;
    }
    if stale_session {
        res.response_mut()
            .add_cookie(&removal_cookie(session_cookie_name(secure), secure))?;
    }
    Ok(res)
}

/// The pre-session CSRF nonce: the visitor's cookie, or one minted for this response.
struct Nonce {
    value: String,
    from_cookie: bool,
}

impl Nonce {
    fn of(req: &ServiceRequest, secure: bool) -> Nonce {
        match req.cookie(csrf_cookie_name(secure)) {
            Some(c) if c.value().len() >= 16 => Nonce {
                value: c.value().to_string(),
                from_cookie: true,
            },
            _ => Nonce {
                value: tokens::new_token(),
                from_cookie: false,
            },
        }
    }
}

/// The person a session cookie signs in, and whether the cookie is stale (to be removed).
async fn signed_in(state: &AppState, session: &str, address: String) -> (Option<CurrentUser>, bool) {
    match accounts::current_user(&state.db, session, address).await {
        Ok(user) => {
            let stale = user.is_none();
            (user, stale)
        }
        // The page can still render for a signed-out visitor; the error is in the log.
        Err(e) => {
            tracing::error!(error = %e, "loading the session failed");
            (None, false)
        }
    }
}

fn request_ctx(
    req: &ServiceRequest,
    state: Option<&AppState>,
    user: Option<CurrentUser>,
    session: Option<&str>,
    nonce: &Nonce,
) -> RequestCtx {
    // Signed in: the token is bound to the session, which a cross-site attacker cannot read or plant.
    let (csrf_binding, csrf_verifiable) = match (&user, session) {
        (Some(_), Some(sid)) => (tokens::binding_for_session(sid), true),
        _ => (tokens::binding_for_visitor(&nonce.value), nonce.from_cookie),
    };
    let csrf_token = state
        .map(|s| tokens::token_for(&s.csrf_key, &csrf_binding))
        .unwrap_or_default();
    let view = (user.as_ref().and_then(|u| u.person.view_mode))
        .or_else(|| req.cookie(VIEW_COOKIE).and_then(|c| ViewMode::parse(c.value())))
        .unwrap_or_default();
    RequestCtx {
        user,
        lang: req
            .cookie(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .unwrap_or_default(),
        view,
        csrf_binding,
        csrf_verifiable,
        csrf_token,
        here: here(req),
    }
}

/// Path and query of the request.
fn here(req: &ServiceRequest) -> String {
    req.uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

fn csrf_cookie(nonce: String, secure: bool) -> Cookie<'static> {
    Cookie::build(csrf_cookie_name(secure), nonce)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}

/// The client's address (throttling, the audit trail): the peer, or the proxy's `X-Forwarded-For` when configured.
pub fn client_ip(req: &HttpRequest, settings: &Settings) -> String {
    let info = req.connection_info();
    let addr = if settings.server.behind_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    addr.map(|a| a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a).to_string())
        .unwrap_or_default()
}
