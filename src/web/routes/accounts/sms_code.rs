//! Signing in with an SMS code (`services::accounts::sms_signin`): the number, then the code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::contact::PhoneNumber;
use crate::domain::sms_code::{TypedCode, wait_words};
use crate::has_csrf;
use crate::i18n::Text;
use crate::services::ServiceError;
use crate::services::accounts::sms_signin::{self, CodeRequest};
use crate::web::context::Ctx;
use crate::web::csrf::CsrfForm;
use crate::web::error::AppError;
use crate::web::routes::{client_ip, html, html_status, redirect};
use crate::web::state::AppState;
use crate::web::urls;
use crate::web::views::code_signin::{CodeStep, PhoneStep, code_page, phone_page};

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[get("/signin/code")]
async fn phone_step(ctx: Ctx, q: web::Query<NextQuery>) -> HttpResponse {
    let next = urls::safe_next(q.next.as_deref());
    if ctx.user.is_some() {
        return redirect(&next);
    }
    html(phone_page(
        &ctx,
        &PhoneStep {
            phone: "",
            next: &next,
            phone_error: None,
        },
    ))
}

#[derive(Deserialize)]
struct SendInput {
    csrf: String,
    phone: String,
    next: Option<String>,
}
has_csrf!(SendInput);

fn phone_text(e: impl std::fmt::Display) -> Text {
    Text::new(
        "请填写 11 位手机号，例如 13912345678",
        format!("enter an 11-digit mobile number, e.g. 13912345678 ({e})"),
    )
}

/// The number step again, with what was wrong with the number typed.
fn phone_again(ctx: &Ctx, phone: &str, next: &str, error: &Text) -> HttpResponse {
    let step = PhoneStep {
        phone,
        next,
        phone_error: Some(error),
    };
    html_status(StatusCode::UNPROCESSABLE_ENTITY, phone_page(ctx, &step))
}

/// The note above the code form, and its status: sent, or asked too often (a code already sent still works).
fn request_note(outcome: CodeRequest, phone: &PhoneNumber) -> (StatusCode, (&'static str, Text)) {
    match outcome {
        CodeRequest::Sent => {
            let text = Text::new(
                format!("验证码短信已发送到 {}，请查看手机短信。", phone.masked()),
                format!("A code was texted to {}. Check your messages.", phone.masked()),
            );
            (StatusCode::OK, ("success", text))
        }
        CodeRequest::Wait(d) => {
            let w = wait_words(d);
            let text = Text::new(
                format!("获取太频繁了，请 {}后再获取。刚才收到的验证码仍然可以用。", w.zh),
                format!(
                    "Too many requests: ask again in {}. A code you already have still works.",
                    w.en
                ),
            );
            (StatusCode::TOO_MANY_REQUESTS, ("error", text))
        }
    }
}

/// Sends a code (to a known number) and shows the code step; the answer is the same for every number.
#[post("/signin/code/send")]
async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<SendInput>,
) -> Result<HttpResponse, AppError> {
    let next = urls::safe_next(f.next.as_deref());
    let phone = match PhoneNumber::parse(&f.phone) {
        Ok(p) => p,
        Err(e) => return Ok(phone_again(&ctx, &f.phone, &next, &phone_text(e))),
    };
    let ip = client_ip(&req, &state.settings);
    let outcome = sms_signin::request_code(&state.db, &state.csrf_key, &phone, &ip, Utc::now()).await?;
    let (status, note) = request_note(outcome, &phone);
    let step = CodeStep {
        phone: phone.as_str(),
        next: &next,
        status: Some(note),
        code_error: None,
    };
    Ok(html_status(status, code_page(&ctx, &step)))
}

#[derive(Deserialize)]
struct CodeInput {
    csrf: String,
    phone: String,
    code: String,
    next: Option<String>,
}
has_csrf!(CodeInput);

/// Signs in with the code and goes where she was going (the session's lobby, for the group link).
#[post("/signin/code")]
async fn sign_in(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<CodeInput>,
) -> Result<HttpResponse, AppError> {
    let next = urls::safe_next(f.next.as_deref());
    let phone = PhoneNumber::parse(&f.phone).map_err(|e| AppError::BadRequest(phone_text(e)))?;
    let days = i64::from(state.settings.security.session_days);
    let outcome = match TypedCode::parse(&f.code) {
        Ok(code) => {
            let ip = client_ip(&req, &state.settings);
            sms_signin::sign_in_with_code(&state.db, &state.csrf_key, &phone, &code, days, &ip, Utc::now()).await
        }
        Err(t) => Err(ServiceError::Rejected(crate::services::FieldErrors::one("code", t))),
    };
    match outcome {
        Ok(s) => super::signed_in(&s, &next, &state.settings),
        Err(ServiceError::Rejected(errors)) => {
            let step = CodeStep {
                phone: phone.as_str(),
                next: &next,
                status: None,
                code_error: errors.get("code"),
            };
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, code_page(&ctx, &step)))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(phone_step).service(send).service(sign_in);
}
