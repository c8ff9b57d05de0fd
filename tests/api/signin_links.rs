//! Personal sign-in links for imported chairs: made by officials, work once, expire, can be reset.

use quorum::domain::person::Role;

use crate::helpers::{TestApp, csrf_of, make_street, signed_in_as, spawn_app};

/// The sign-in link printed on a page (the URL under the QR code).
fn link_in(page: &str) -> String {
    let start = page.find("/l/").expect("page shows a link");
    let token: String = page[start + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("/l/{token}")
}

async fn imported_chair(app: &TestApp, committee: i64) -> i64 {
    use quorum::domain::{contact::PhoneNumber, person::DisplayName};
    let id = quorum::db::people::insert(
        &app.db,
        quorum::db::people::NewPerson {
            name: &DisplayName::parse("王秀英").unwrap(),
            phone: &PhoneNumber::parse("13900000101").unwrap(),
            email: None,
            password_hash: None,
            committee_id: Some(committee),
            position: Some("主任"),
        },
    )
    .await
    .unwrap();
    quorum::db::people::add_role(&app.db, id, Role::Chair).await.unwrap();
    id
}

#[tokio::test]
async fn a_chair_signs_in_once_with_a_personal_link_and_chooses_a_password() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let chair = imported_chair(&app, place.committee).await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    assert!(app.get_text("/street/chairs").await.contains("尚未登录"));

    let r = app.post_form(&format!("/street/chairs/{chair}/signin-link"), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let card = r.text().await.unwrap();
    assert!(
        card.contains("王秀英") && card.contains("data:image/svg+xml;base64,"),
        "a printable card with a QR code"
    );
    let link = link_in(&card);
    assert!(app.get_text("/street/chairs").await.contains("链接有效至"));

    // The chair's phone: opening the link (as a chat app's preview would) does not spend it.
    let phone = app.other_browser();
    let landing = phone.get_text(&link).await;
    assert!(landing.contains("王秀英") && landing.contains("是我本人，登录"));
    let landing = phone.get_text(&link).await;
    let r = phone
        .client
        .post(phone.url(&link))
        .form(&[("csrf", csrf_of(&landing))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/account/welcome");
    let welcome = phone.get_text("/account/welcome").await;
    assert!(welcome.contains("暂不设置") && welcome.contains("保存密码"));
    assert!(
        phone.get_text("/").await.contains("即将开始的培训"),
        "signed in as a chair"
    );

    // Once only.
    let again = phone.other_browser();
    let landing = again.get_text(&link).await;
    assert!(landing.contains("已经使用过"), "{landing}");
    let r = again
        .client
        .post(again.url(&link))
        .form(&[("csrf", again.csrf().await)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        again.get("/account/password").await.status().as_u16() == 303,
        "not signed in"
    );

    // The chair sets a password and can then sign in normally.
    let r = phone
        .post_form(
            "/account/password",
            &[("password", "meiyuan-2026"), ("confirm", "meiyuan-2026")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        again.sign_in("13900000101", "meiyuan-2026").await.status().as_u16(),
        303
    );
    assert!(app.get_text("/street/chairs").await.contains("已设密码"));
}

#[tokio::test]
async fn a_reset_link_replaces_the_old_one_and_expired_links_do_not_work() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let chair = imported_chair(&app, place.committee).await;
    signed_in_as(&app, "13800000003", &[Role::Admin], &[], None).await;
    let first = link_in(
        &app.post_form(&format!("/street/chairs/{chair}/signin-link"), &[])
            .await
            .text()
            .await
            .unwrap(),
    );
    let second = link_in(
        &app.post_form(&format!("/street/chairs/{chair}/signin-link"), &[])
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_ne!(first, second);
    let phone = app.other_browser();
    assert!(phone.get_text(&first).await.contains("已作废"));
    assert!(phone.get_text(&second).await.contains("是我本人"));

    // Make the live link expire.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE signin_links SET expires_at = '2020-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    let landing = phone.get_text(&second).await;
    assert!(landing.contains("已过期"), "{landing}");
    let r = phone
        .client
        .post(phone.url(&second))
        .form(&[("csrf", phone.csrf().await)])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("已过期"));
    assert!(phone.get_text("/l/not-a-real-token").await.contains("链接无效"));
}

#[tokio::test]
async fn officials_print_links_for_everyone_without_a_password() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    imported_chair(&app, place.committee).await;
    // A chair who already has a password gets no card.
    crate::helpers::make_person(&app, "13900000102", &[Role::Chair], &[], Some(place.committee)).await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let r = app
        .post_form("/street/chairs/signin-links", &[("street", &place.street.to_string())])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert_eq!(page.matches("class=\"print-card\"").count(), 1, "{page}");
    assert!(page.contains("王秀英"));
}

#[tokio::test]
async fn officials_cannot_make_links_for_staff_accounts() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let lawyer = crate::helpers::make_person(
        &app,
        "13900000109",
        &[Role::Lawyer, Role::Chair],
        &[],
        Some(place.committee),
    )
    .await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let r = app
        .post_form(&format!("/street/chairs/{lawyer}/signin-link"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 403);
}
