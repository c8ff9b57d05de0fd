//! Signing in with an SMS code: the number first, then the code. Both steps work without JavaScript and
//! say plainly what happens next — most chairs have never set a password and never will.

use maud::{Markup, html};

use super::When;
use super::forms::{Input, csrf, notice};
use super::layout::page;
use crate::i18n::Text;
use crate::services::sessions::Invitation;
use crate::web::context::Ctx;
use crate::web::urls;

/// The number step: what was typed, and what was wrong with it.
pub struct PhoneStep<'a> {
    pub phone: &'a str,
    pub next: &'a str,
    pub phone_error: Option<&'a Text>,
}

/// The code step.
pub struct CodeStep<'a> {
    pub phone: &'a str,
    pub next: &'a str,
    /// Shown above the form: a code was sent, or she must wait before another.
    pub status: Option<(&'static str, Text)>,
    pub code_error: Option<&'a Text>,
}

/// The number form, on its own page or inside another (the group link's page).
pub fn phone_form(ctx: &Ctx, s: &PhoneStep) -> Markup {
    html! {
        form.stack method="post" action=(urls::SIGNIN_CODE_SEND) {
            (csrf(ctx))
            input type="hidden" name="next" value=(s.next);
            (Input::new("phone", ctx.t("手机号", "Mobile number"), s.phone)
                .kind("tel").required().autocomplete("tel").inputmode("numeric")
                .hint(ctx.t("填写登记在业委会名单上的手机号", "The number on your committee's roster"))
                .error(s.phone_error).render(ctx.lang))
            button.primary type="submit" { (ctx.t("获取验证码", "Send me a code")) }
        }
    }
}

pub fn phone_page(ctx: &Ctx, s: &PhoneStep) -> Markup {
    page(
        ctx,
        ctx.t("短信验证码登录", "Sign in with a text message"),
        html! {
            p.lead { (ctx.t("不需要密码：填写手机号，我们会发一条短信验证码给您。",
                            "No password needed: enter your mobile number and we text you a code.")) }
            (phone_form(ctx, s))
            (other_ways(ctx, s.next))
        },
    )
}

pub fn code_page(ctx: &Ctx, s: &CodeStep) -> Markup {
    page(
        ctx,
        ctx.t("填写短信验证码", "Enter the code"),
        html! {
            @if let Some((kind, t)) = &s.status { (notice(kind, t.get(ctx.lang))) }
            form.stack method="post" action=(urls::SIGNIN_CODE) {
                (csrf(ctx))
                input type="hidden" name="next" value=(s.next);
                input type="hidden" name="phone" value=(s.phone);
                (Input::new("code", ctx.t("6 位验证码", "6-digit code"), "")
                    .required().autocomplete("one-time-code").inputmode("numeric")
                    .hint(ctx.t("验证码 5 分钟内有效", "The code is valid for 5 minutes"))
                    .error(s.code_error).render(ctx.lang))
                button.primary type="submit" { (ctx.t("登录", "Sign in")) }
            }
            form.stack method="post" action=(urls::SIGNIN_CODE_SEND) {
                (csrf(ctx))
                input type="hidden" name="next" value=(s.next);
                input type="hidden" name="phone" value=(s.phone);
                button type="submit" { (ctx.t("没收到？重新获取验证码", "Nothing came? Send a new code")) }
            }
            p.help {
                (ctx.t("一分钟后可以重新获取。如果您的手机号没有登记在业委会名单上，就收不到验证码，请联系您所在的街道办事处。",
                       "You can ask again after a minute. If your number is not on a committee roster, no code is sent: please contact your street office."))
            }
            p { a href=(urls::signin_code_with_next(s.next)) { (ctx.t("换一个手机号", "Use another number")) } }
        },
    )
}

/// Password sign-in stays for those who have one.
fn other_ways(ctx: &Ctx, next: &str) -> Markup {
    html! {
        p.help {
            (ctx.t("有密码的用户（街道工作人员、律师）也可以", "Staff and lawyers with a password can also "))
            a href=(urls::signin_password_with_next(next)) { (ctx.t("用密码登录", "sign in with a password")) }
            "。"
        }
    }
}

/// The group link's page for someone signed out: which training this is, and the number form that
/// brings her back to its room once signed in.
pub fn invitation_page(ctx: &Ctx, inv: &Invitation) -> Markup {
    let s = &inv.session;
    let next = urls::room(s.id);
    page(
        ctx,
        &s.title,
        html! {
            dl.facts {
                dt { (ctx.t("时间", "When")) } dd { (When(s.starts_at, ctx.lang)) (ctx.t("（北京时间）", " (Shanghai time)")) }
                dt { (ctx.t("街道", "Street")) } dd { (inv.street) }
                dt { (ctx.t("主讲律师", "Lecturer")) } dd { (inv.lecturers.join("、")) }
            }
            h2 { (ctx.t("登录后进入培训", "Sign in to join")) }
            p.lead { (ctx.t("不需要密码：填写手机号，获取短信验证码即可进入。",
                            "No password needed: enter your mobile number and we text you a code.")) }
            (phone_form(ctx, &PhoneStep { phone: "", next: &next, phone_error: None }))
            (other_ways(ctx, &next))
        },
    )
}
