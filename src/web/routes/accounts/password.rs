use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use crate::domain::view::ViewMode;
use crate::has_csrf;
use crate::i18n::{Lang, Text};
use crate::services::accounts::{self, SigninError};
use crate::web::context::{Ctx, LANG_COOKIE, VIEW_COOKIE, removal_cookie, session_cookie_name};
use crate::web::csrf::{CsrfForm, OnlyCsrf};
use crate::web::error::AppError;
use crate::web::guards::{Require, SignedIn};
use crate::web::routes::{client_ip, html, html_status, redirect, with_cookie};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::auth::{SigninForm, signin};

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[get("/signin")]
async fn signin_page(ctx: Ctx, q: web::Query<NextQuery>) -> HttpResponse {
    let next = urls::safe_next(q.next.as_deref());
    if ctx.user.is_some() {
        return redirect(&next);
    }
    html(signin(
        &ctx,
        &SigninForm {
            identifier: "",
            next: &next,
            problem: None,
            identifier_error: None,
        },
    ))
}

#[derive(Deserialize)]
struct SigninInput {
    csrf: String,
    identifier: String,
    password: String,
    next: Option<String>,
}
has_csrf!(SigninInput);

fn wait_text(secs: i64) -> Text {
    let w = crate::domain::throttle::describe_wait(secs);
    Text::new(
        format!(
            "密码错误次数过多。为保护您的账号，请在 {}后再试。忘记密码可以请街道工作人员为您生成登录链接。",
            w.zh
        ),
        format!(
            "Too many wrong passwords. To protect your account, try again in {}. Your street office can give you a sign-in link.",
            w.en
        ),
    )
}

/// How a refused sign-in is told: the status, a problem with the whole attempt, or one with the
/// identifier field. A failure of ours is not a refusal and travels on.
fn refusal(e: SigninError) -> Result<(StatusCode, Option<Text>, Option<Text>), AppError> {
    Ok(match e {
        SigninError::BadIdentifier(t) => (StatusCode::UNPROCESSABLE_ENTITY, None, Some(t)),
        SigninError::WrongCredentials { wait_secs: None } => {
            let t = Text::new("手机号/邮箱或密码不正确。", "Wrong mobile number/email or password.");
            (StatusCode::UNAUTHORIZED, Some(t), None)
        }
        SigninError::WrongCredentials { wait_secs: Some(s) } | SigninError::Throttled { wait_secs: s } => {
            (StatusCode::TOO_MANY_REQUESTS, Some(wait_text(s)), None)
        }
        SigninError::Service(e) => return Err(e.into()),
    })
}

#[post("/signin")]
async fn signin_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<SigninInput>,
) -> Result<HttpResponse, AppError> {
    let next = urls::safe_next(f.next.as_deref());
    let ip = client_ip(&req, &state.settings);
    let days = i64::from(state.settings.security.session_days);
    let (status, problem, identifier_error) =
        match accounts::sign_in(&state.db, &f.identifier, &f.password, &ip, days).await {
            Ok(s) => return super::signed_in(&s, &next, &state.settings),
            Err(e) => refusal(e)?,
        };
    let form = SigninForm {
        identifier: &f.identifier,
        next: &next,
        problem,
        identifier_error,
    };
    Ok(html_status(status, signin(&ctx, &form)))
}

#[post("/signout")]
async fn signout(
    state: web::Data<AppState>,
    me: Require<SignedIn>,
    _f: CsrfForm<OnlyCsrf>,
) -> Result<HttpResponse, AppError> {
    accounts::sign_out(&state.db, &me.user).await?;
    let secure = state.settings.cookie_secure();
    with_cookie(
        redirect(urls::HOME),
        &removal_cookie(session_cookie_name(secure), secure),
    )
}

/// Switches the interface language (a preference, not a state change worth a form).
#[get("/lang/{code}")]
async fn switch_lang(path: web::Path<String>, q: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    let lang = Lang::parse(&path).ok_or(AppError::NotFound)?;
    remember(LANG_COOKIE, lang.code(), q.next.as_deref())
}

/// Goes back to `next` (a clean local path, else home) with a preference kept on this phone for a year.
fn remember(cookie: &'static str, value: &'static str, next: Option<&str>) -> Result<HttpResponse, AppError> {
    let c = Cookie::build(cookie, value)
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(365))
        .finish();
    with_cookie(redirect(&urls::safe_next(next)), &c)
}

/// Switches 长辈版 (large type) and high contrast, like the language: a GET link that works without
/// JavaScript. Kept on this phone (cookie) and, when signed in, on the account for her other phones.
#[get("/view/{code}")]
async fn switch_view(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let mode = ViewMode::parse(&path).ok_or(AppError::NotFound)?;
    if let Some(user) = &ctx.user {
        accounts::set_view_mode(&state.db, user, mode).await?;
    }
    remember(VIEW_COOKIE, mode.code(), q.next.as_deref())
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(signin_page)
        .service(signin_submit)
        .service(signout)
        .service(switch_lang)
        .service(switch_view);
}
