//! Signing in and out, slowing down after failures, CSRF, passwords.

use quorum::domain::person::Role;

use crate::helpers::{PASSWORD, make_person, signed_in_as, spawn_app};

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_person_signs_in_with_phone_or_email_and_out_again() {
    let app = spawn_app().await;
    let id = make_person(&app, "13800000001", &[Role::Lawyer], &[], None).await;
    quorum::db::people::update(
        &app.db,
        id,
        quorum::db::people::PersonUpdate {
            name: &quorum::domain::person::DisplayName::parse("刘律师").unwrap(),
            email: Some(&quorum::domain::contact::EmailAddress::parse("liu@example.com").unwrap()),
            committee_id: None,
            position: None,
        },
    )
    .await
    .unwrap();

    let r = app.sign_in("138 0000 0001", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303);
    let home = app.get_text("/").await;
    assert!(home.contains("刘律师"), "home greets the person");
    assert!(home.contains("我的题库"), "a lawyer's home shows their banks");

    app.sign_out().await;
    assert!(!app.get_text("/").await.contains("刘律师"));
    let r = app.get("/account/password").await;
    assert_eq!(r.status().as_u16(), 303, "signed out again");

    let r = app.sign_in("Liu@Example.com", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303, "email works too, whatever the capitals");
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    let r = app.sign_in("13800000001", "wrong-password").await;
    assert_eq!(r.status().as_u16(), 401);
    let page = r.text().await.unwrap();
    assert!(page.contains("手机号/邮箱或密码不正确"), "{page}");
    assert!(page.contains("value=\"13800000001\""), "the typed identifier is kept");

    let r = app.sign_in("1380000000", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        r.text().await.unwrap().contains("手机号应为11位"),
        "a malformed number is explained"
    );

    let r = app.sign_in("13900000009", PASSWORD).await;
    assert_eq!(
        r.status().as_u16(),
        401,
        "an unknown account reads the same as a wrong password"
    );
}

#[tokio::test]
async fn repeated_failures_slow_down_the_account_with_a_stated_wait() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    for _ in 0..3 {
        assert_eq!(
            app.sign_in("13800000001", "nope-nope-nope").await.status().as_u16(),
            401
        );
    }
    let r = app.sign_in("13800000001", "nope-nope-nope").await;
    assert_eq!(r.status().as_u16(), 429, "the fourth failure starts a wait");
    let page = r.text().await.unwrap();
    assert!(page.contains("请在 30 秒后再试"), "{page}");

    // Even the right password waits: guessing cannot continue at full speed.
    let r = app.sign_in("13800000001", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 429);

    // Another browser (same address) for the same account waits too; another account does not.
    make_person(&app, "13800000002", &[Role::Chair], &[], None).await;
    let other = app.other_browser();
    assert_eq!(other.sign_in("13800000001", PASSWORD).await.status().as_u16(), 429);
    assert_eq!(other.sign_in("13800000002", PASSWORD).await.status().as_u16(), 303);
}

#[tokio::test]
async fn repeated_failures_from_one_address_slow_it_down_across_accounts() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    // 20 failures spread over many accounts are allowed from one address; the 21st waits.
    for i in 0..20 {
        let phone = format!("139{:08}", i);
        assert_eq!(
            app.sign_in(&phone, "nope-nope-nope").await.status().as_u16(),
            401,
            "attempt {i}"
        );
    }
    let r = app.sign_in("13912345678", "nope-nope-nope").await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(app.sign_in("13800000001", PASSWORD).await.status().as_u16(), 429);
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_is_rejected() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    let _ = app.csrf().await; // the client has a CSRF cookie

    let no_token = app
        .client
        .post(app.url("/signin"))
        .form(&[("identifier", "13800000001"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status().as_u16(), 403);
    assert!(no_token.text().await.unwrap().contains("页面已过期"));

    let forged = app
        .client
        .post(app.url("/signin"))
        .form(&[
            ("csrf", "0123456789abcdef"),
            ("identifier", "13800000001"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);

    // A token from another browser's page does not work with this browser's cookie.
    let other = app.other_browser();
    let foreign = other.csrf().await;
    let r = app
        .client
        .post(app.url("/signin"))
        .form(&[
            ("csrf", foreign.as_str()),
            ("identifier", "13800000001"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // Signed in, a forged sign-out does nothing.
    assert_eq!(app.sign_in("13800000001", PASSWORD).await.status().as_u16(), 303);
    let r = app
        .client
        .post(app.url("/signout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(
        app.get("/account/password").await.status().as_u16(),
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn changing_the_password_checks_it_and_signs_out_other_devices() {
    let app = spawn_app().await;
    signed_in_as(&app, "13800000001", &[Role::Chair], &[], None).await;
    let phone2 = app.other_browser();
    assert_eq!(phone2.sign_in("13800000001", PASSWORD).await.status().as_u16(), 303);

    let r = app
        .post_form("/account/password", &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        crate::errors::beside_field(&page, "password", "密码至少需要8位"),
        "{page}"
    );

    let r = app
        .post_form(
            "/account/password",
            &[("password", "lujiazui-2026"), ("confirm", "lujiazui-2026")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("密码已保存"));

    assert_eq!(
        phone2.get("/account/password").await.status().as_u16(),
        303,
        "the other device is signed out"
    );
    assert_eq!(
        app.get("/account/password").await.status().as_u16(),
        200,
        "this one is not"
    );
    let fresh = app.other_browser();
    assert_eq!(
        fresh.sign_in("13800000001", "lujiazui-2026").await.status().as_u16(),
        303
    );
    assert_eq!(
        fresh
            .other_browser()
            .sign_in("13800000001", PASSWORD)
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn the_interface_switches_to_english_and_back() {
    let app = spawn_app().await;
    let page = app.get_text("/signin").await;
    assert!(page.contains("lang=\"zh-CN\"") && page.contains("手机号或邮箱"));
    let r = app.get("/lang/en?next=/signin").await;
    assert_eq!(r.headers()["location"], "/signin");
    let page = app.get_text("/signin").await;
    assert!(
        page.contains("lang=\"en\"") && page.contains("Mobile number or email"),
        "{page}"
    );
    app.get("/lang/zh?next=//evil.example").await;
    assert!(app.get_text("/signin").await.contains("手机号或邮箱"));
}

#[tokio::test]
async fn unknown_pages_get_a_friendly_chinese_404() {
    let app = spawn_app().await;
    let r = app.get("/no/such/page").await;
    assert_eq!(r.status().as_u16(), 404);
    let page = r.text().await.unwrap();
    assert!(page.contains("页面不存在") && page.contains("返回首页"));
}

#[tokio::test]
async fn health_reports_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    assert_eq!(app.get("/healthz").await.status().as_u16(), 503);
}
