//! Personal sign-in links for imported chairs: made by officials, work once, expire, can be reset.

use quorum::domain::person::Role;

use crate::helpers::{Page, TestApp, make_street, signed_in_as, spawn_app};

/// The sign-in link printed on a card (the URL written out under the QR code), as a path for this
/// browser.
fn link_in(page: &str) -> String {
    let url = Page::parse(page).text_of(".print-card p.url");
    let (_, token) = url
        .rsplit_once("/l/")
        .unwrap_or_else(|| panic!("not a sign-in link: {url}"));
    format!("/l/{token}")
}

/// What the street's chair list says about 王秀英's sign-in (the 登录状态 column).
async fn sign_in_state(app: &TestApp) -> String {
    let page = app.page("/street/chairs").await;
    let row = page
        .table_rows("tbody tr")
        .into_iter()
        .find(|r| r[0].starts_with("王秀英"))
        .unwrap_or_else(|| panic!("王秀英 is not listed: {page}"));
    row[3].clone()
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
    assert!(sign_in_state(&app).await.contains("尚未登录"));

    // The official presses 生成登录链接 on 王秀英's row.
    let make = app.page("/street/chairs").await.form_action("生成登录链接");
    assert_eq!(make, format!("/street/chairs/{chair}/signin-link"));
    let r = app.post_form(&make, &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let card = r.text().await.unwrap();
    let page = Page::parse(card.as_str());
    assert_eq!(page.text_of(".print-card h2"), "王秀英", "{page}");
    assert!(
        page.attr_of(".print-card img.qr", "src")
            .starts_with("data:image/svg+xml;base64,"),
        "a printable card with a QR code"
    );
    let link = link_in(&card);
    assert!(sign_in_state(&app).await.contains("链接有效至"));

    // The chair's phone: opening the link (as a chat app's preview would) does not spend it.
    let phone = app.other_browser();
    let landing = phone.page(&link).await;
    assert!(landing.body_text().contains("王秀英"), "{landing}");
    assert_eq!(landing.form_action("是我本人，登录"), link);
    let landing = phone.page(&link).await;
    let r = phone
        .client
        .post(phone.url(&landing.form_action("是我本人，登录")))
        .form(&[("csrf", landing.csrf())])
        .send()
        .await
        .unwrap();
    crate::helpers::accept_notice_then(&phone, &r, "/account/welcome").await;
    let welcome = phone.page("/account/welcome").await;
    assert_eq!(welcome.form_action("保存密码"), "/account/password");
    assert_eq!(welcome.link("暂不设置，直接开始"), "/");
    // She has no password yet: the menu offers to set one, not to change it.
    assert_eq!(welcome.link("设置密码"), "/account/password");
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
    assert_eq!(phone.page("/").await.link("修改密码"), "/account/password");
    assert!(sign_in_state(&app).await.contains("已设密码"));
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

    // The live link expires.
    crate::history::signin_links_expired(&app).await;
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
    let page = Page::parse(r.text().await.unwrap());
    assert_eq!(page.texts_of(".print-card h2"), ["王秀英"], "{page}");
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

#[tokio::test]
async fn cards_made_for_a_session_lead_their_chairs_into_its_lobby() {
    let app = spawn_app().await;
    let (place, session) = crate::invitations::official_schedules_a_session(&app).await;
    let chair = imported_chair(&app, place.committee).await;
    // A card from the chairs' list she already has.
    let earlier = app.post_form(&format!("/street/chairs/{chair}/signin-link"), &[]).await;
    let earlier = link_in(&earlier.text().await.unwrap());
    // A chair who has a password is not given a card: she signs in as usual.
    crate::helpers::make_person(&app, "13900000102", &[Role::Chair], &[], Some(place.committee)).await;

    let make = app
        .page(&format!("/sessions/{session}"))
        .await
        .form_action("打印本场专属登录卡");
    assert_eq!(make, format!("/sessions/{session}/signin-links"));
    let card = app.post_form(&make, &[]).await.text().await.unwrap();
    let page = Page::parse(card.as_str());
    assert_eq!(
        page.texts_of(".print-card h2"),
        vec!["王秀英".to_string()],
        "only 王秀英 (测试用户 has a password): {page}"
    );
    assert!(
        page.text_of(".print-card").contains("业委会职责与监督"),
        "the card names the training: {page}"
    );

    // On her phone the link says where it leads, and spending it opens the session's lobby.
    let phone = app.other_browser();
    let link = link_in(&card);
    let landing = phone.page(&link).await;
    assert!(landing.body_text().contains("业委会职责与监督"), "{landing}");
    let r = phone
        .client
        .post(phone.url(&link))
        .form(&[("csrf", landing.csrf())])
        .send()
        .await
        .unwrap();
    let lobby = format!("/sessions/{session}/room");
    crate::helpers::accept_notice_then(&phone, &r, &lobby).await;
    assert_eq!(phone.get_status(&lobby).await, 200, "she is signed in and invited");

    // Printing this session's cards did not void the card she had from the chairs' list.
    let other_card = app.other_browser().page(&earlier).await;
    assert!(
        other_card.exists("form button"),
        "the earlier card still works: {other_card}"
    );

    // An official of another street cannot make cards for this session.
    let other = app.other_browser();
    let elsewhere = make_street(&other, "陆家嘴街道").await;
    signed_in_as(&other, "13800000009", &[Role::Official], &[elsewhere.street], None).await;
    assert_eq!(other.post_form(&make, &[]).await.status().as_u16(), 403);
}
