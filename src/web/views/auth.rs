//! Sign-in page.

use maud::{Markup, html};

use super::code_signin::{PhoneStep, phone_form};
use super::forms::{Input, csrf, notice};
use super::layout::page;
use crate::i18n::Text;
use crate::web::context::Ctx;
use crate::web::urls;

pub struct SigninForm<'a> {
    pub identifier: &'a str,
    pub next: &'a str,
    /// A problem with the whole attempt (wrong password, wait).
    pub problem: Option<Text>,
    /// A problem with the identifier field.
    pub identifier_error: Option<Text>,
}

pub fn signin(ctx: &Ctx, f: &SigninForm) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        ctx.t("登录", "Sign in"),
        html! {
            section aria-labelledby="by-code" {
                h2 #by-code { (ctx.t("短信验证码登录", "Sign in with a text message")) }
                p.lead { (ctx.t("不需要密码：填写手机号，我们会发一条短信验证码给您。",
                                "No password needed: enter your mobile number and we text you a code.")) }
                (phone_form(ctx, &PhoneStep { phone: "", next: f.next, phone_error: None }))
            }
            h2 #by-password { (ctx.t("用密码登录", "Sign in with a password")) }
            p.help { (ctx.t("街道工作人员、律师等设置过密码的用户", "For staff, lawyers and others who have set a password")) }
            @if let Some(p) = &f.problem { (notice("error", p.get(lang))) }
            form.stack method="post" action=(urls::SIGNIN) aria-labelledby="by-password" {
                (csrf(ctx))
                input type="hidden" name="next" value=(f.next);
                (Input::new("identifier", ctx.t("手机号或邮箱", "Mobile number or email"), f.identifier)
                    .required().autocomplete("username")
                    .error(f.identifier_error.as_ref()).render(lang))
                (Input::new("password", ctx.t("密码", "Password"), "").kind("password")
                    .required().autocomplete("current-password").render(lang))
                button.primary type="submit" { (ctx.t("登录", "Sign in")) }
            }
            p.help {
                (ctx.t("忘记密码或没有密码？请联系街道工作人员，为您生成专属登录链接或二维码。",
                       "Forgot your password, or never had one? Ask your street office for a personal sign-in link or QR code."))
            }
        },
    )
}
