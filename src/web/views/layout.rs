//! The page shell: header with the role's navigation, the 长辈版 and language switches, main, footer.

use maud::{DOCTYPE, Markup, html};

use crate::domain::person::{Role, Roles};
use crate::domain::view::ViewMode;
use crate::web::context::Ctx;
use crate::web::urls;

pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    shell(ctx, title, content, true)
}

/// A page for one task that needs the whole screen (a quiz question on a phone): the header with its
/// 长辈版 and language switches, but no navigation bar and a small heading.
pub fn focused_page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    shell(ctx, title, content, false)
}

fn shell(ctx: &Ctx, title: &str, content: Markup, with_nav: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.html_lang()) class=[ctx.view.html_class()] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t("业委会学堂", "Quorum")) }
                link rel="stylesheet" href=(urls::STYLESHEET);
            }
            body {
                a.skip href="#main" { (ctx.t("跳到正文", "Skip to content")) }
                header.site {
                    a.brand href=(urls::HOME) { (ctx.t("业委会学堂", "Quorum")) }
                    div.prefs {
                        (view_switch(ctx))
                        a.lang href=(urls::lang_switch(ctx.lang.other().code(), &ctx.here)) lang=(ctx.lang.other().html_lang()) {
                            (ctx.t("English", "中文"))
                        }
                    }
                }
                @if with_nav { (nav(ctx)) }
                main #main .focused[!with_nav] {
                    h1 { (title) }
                    (content)
                }
                footer.site {
                    p { (ctx.t("业委会学堂 · 业委会主任培训与随堂测试", "Quorum · training and quizzes for owners' committee chairs")) }
                    p { a href=(urls::PRIVACY) { (ctx.t("个人信息处理告知", "Personal information notice")) }
                        @if ctx.user.is_some() { " · " a href=(urls::MY_DATA) { (ctx.t("我的个人信息", "My data")) } } }
                }
                script src=(urls::READ_ALOUD_SCRIPT) {}
            }
        }
    }
}

/// The 长辈版 switch: each link names what it turns on, so the state is in words, not only in the look.
fn view_switch(ctx: &Ctx) -> Markup {
    let link = |mode: ViewMode, zh: &str, en: &str| {
        html! { a.view href=(urls::view_switch(mode.code(), &ctx.here)) { (ctx.t(zh, en)) } }
    };
    match ctx.view {
        ViewMode::Standard => link(ViewMode::Large, "长辈版", "Large text"),
        ViewMode::Large => html! {
            (link(ViewMode::Standard, "标准版", "Standard text"))
            (link(ViewMode::LargeContrast, "高对比度", "High contrast"))
        },
        ViewMode::LargeContrast => html! {
            (link(ViewMode::Standard, "标准版", "Standard text"))
            (link(ViewMode::Large, "普通对比度", "Normal contrast"))
        },
    }
}

/// The pages a person's roles lead to, in menu order (sign-out follows them).
fn menu(ctx: &Ctx, roles: &Roles) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![(urls::HOME, ctx.t("首页", "Home"))];
    if roles.has(Role::Official) || roles.has(Role::Admin) {
        out.extend([
            (urls::SESSIONS, ctx.t("培训场次", "Sessions")),
            (urls::DASHBOARD, ctx.t("统计", "Statistics")),
            (urls::CHAIRS, ctx.t("主任名单", "Chairs")),
            (urls::ROSTER, ctx.t("导入名单", "Import roster")),
        ]);
    }
    if roles.has(Role::Lawyer) {
        out.push((urls::BANKS, ctx.t("题库", "Banks")));
    }
    if roles.has(Role::Admin) {
        out.push((urls::ADMIN_ORG, ctx.t("组织架构", "Organisation")));
        out.push((urls::ADMIN_PEOPLE, ctx.t("账号管理", "Accounts")));
        out.push((urls::ADMIN_AUDIT, ctx.t("操作记录", "Audit trail")));
    }
    // Imported chairs sign in by SMS code and have none yet: "change" would puzzle them.
    let has_password = ctx.user.as_ref().is_some_and(|u| u.person.has_password);
    out.push((
        urls::PASSWORD,
        if has_password {
            ctx.t("修改密码", "Password")
        } else {
            ctx.t("设置密码", "Set a password")
        },
    ));
    out
}

fn nav(ctx: &Ctx) -> Markup {
    let Some(user) = &ctx.user else {
        return html! {};
    };
    html! {
        nav.site aria-label=(ctx.t("主导航", "Main navigation")) {
            ul {
                @for (href, label) in menu(ctx, &user.person.roles) {
                    li { a href=(href) { (label) } }
                }
                li {
                    form.inline method="post" action=(urls::SIGNOUT) {
                        input type="hidden" name="csrf" value=(ctx.csrf_token);
                        button.link type="submit" { (ctx.t("退出登录", "Sign out")) }
                    }
                }
            }
            p.who { (ctx.t("当前用户：", "Signed in as ")) (user.person.name.as_str()) }
        }
    }
}
