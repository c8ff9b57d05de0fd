//! Account pages: choosing a password, the welcome after a sign-in link, and the link landing page.

use maud::{Markup, html};

use super::forms::{Input, csrf, error_for, notice};
use super::layout::page;
use crate::i18n::Text;
use crate::services::accounts::signin_links::LinkStatus;
use crate::web::context::Ctx;
use crate::web::urls;

pub fn password_form(ctx: &Ctx, errors: &[(&'static str, Text)], saved: bool, welcome: bool) -> Markup {
    let lang = ctx.lang;
    let title = if welcome {
        ctx.t("欢迎！", "Welcome!")
    } else {
        ctx.t("设置密码", "Set your password")
    };
    page(
        ctx,
        title,
        html! {
            @if saved { (notice("ok", ctx.t("密码已保存。其他设备上的登录已退出。", "Password saved. Other devices were signed out."))) }
            @if welcome {
                p.lead { (ctx.t("您已登录。您可以现在设置一个密码，以后用手机号和密码登录；也可以不设密码，这部手机会保持登录。",
                                "You are signed in. Set a password now to sign in with your mobile number later, or skip it: this phone stays signed in.")) }
            }
            form.stack method="post" action=(urls::PASSWORD) {
                (csrf(ctx))
                (Input::new("password", ctx.t("新密码", "New password"), "").kind("password").required()
                    .autocomplete("new-password").hint(ctx.t("至少8位，可以只用数字", "At least 8 characters; digits only is fine"))
                    .error(error_for(errors, "password")).render(lang))
                (Input::new("confirm", ctx.t("再输入一次", "Repeat it"), "").kind("password").required()
                    .autocomplete("new-password").error(error_for(errors, "confirm")).render(lang))
                button.primary type="submit" { (ctx.t("保存密码", "Save password")) }
            }
            @if welcome {
                p { a.button.secondary href=(urls::HOME) { (ctx.t("暂不设置，直接开始", "Skip for now")) } }
            }
        },
    )
}

fn confirm_link(ctx: &Ctx, token: &str, name: &str, training: Option<&str>) -> Markup {
    html! {
        p.lead { (ctx.t("这是", "This link is for ")) strong { (name) } (ctx.t("的专属登录链接。", ".")) }
        @if let Some(title) = training {
            p { (ctx.t("登录后直接进入培训：", "Signing in takes you straight to the training: ")) strong { (title) } }
        }
        p { (ctx.t("如果您不是本人，请不要继续。", "If that is not you, please stop here.")) }
        form.stack method="post" action=(urls::signin_link(token)) {
            (csrf(ctx))
            button.primary type="submit" { (ctx.t("是我本人，登录", "That's me — sign in")) }
        }
    }
}

fn unusable_link(ctx: &Ctx, status: &LinkStatus) -> Markup {
    let why = match status {
        LinkStatus::Used => ctx.t("这个链接已经使用过了。", "This link has already been used."),
        LinkStatus::Expired => ctx.t("这个链接已过期。", "This link has expired."),
        LinkStatus::Revoked => ctx.t(
            "这个链接已作废（已生成了新的链接）。",
            "This link was replaced by a newer one.",
        ),
        _ => ctx.t("链接无效。", "This link is not valid."),
    };
    html! {
        (notice("error", why))
        p { (ctx.t("请联系街道工作人员重新生成登录链接，或用手机号和密码登录。",
                   "Ask your street office for a new link, or sign in with your mobile number and password.")) }
        p { a.button href=(urls::SIGNIN) { (ctx.t("去登录", "Sign in")) } }
    }
}

/// What someone sees after opening a personal sign-in link.
pub fn link_landing(ctx: &Ctx, token: &str, status: &LinkStatus) -> Markup {
    match status {
        LinkStatus::Valid { name, training } => page(
            ctx,
            ctx.t("专属登录链接", "Personal sign-in link"),
            confirm_link(ctx, token, name, training.as_deref()),
        ),
        other => page(ctx, ctx.t("链接不可用", "Link not usable"), unusable_link(ctx, other)),
    }
}
