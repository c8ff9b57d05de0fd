//! Sign-in page.

use maud::{Markup, html};

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
            @if let Some(p) = &f.problem { (notice("error", p.get(lang))) }
            form.stack method="post" action=(urls::SIGNIN) {
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
