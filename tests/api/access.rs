//! Role gating: each role sees its pages; others get 403 (signed in) or go to sign-in (signed out).

use quorum::domain::person::Role;

use crate::helpers::{TestApp, location, make_street, signed_in_as, spawn_app};

/// The section headings of the person's home page.
async fn home_sections(app: &TestApp) -> Vec<String> {
    app.page("/").await.texts_of("main h2")
}

const ADMIN_PAGES: [&str; 3] = ["/admin/org", "/admin/people", "/admin/people/new"];
const OFFICIAL_PAGES: [&str; 2] = ["/street/chairs", "/street/roster"];

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = spawn_app().await;
    for page in ADMIN_PAGES.iter().chain(&OFFICIAL_PAGES).chain(&["/account/password"]) {
        let r = app.get(page).await;
        assert_eq!(r.status().as_u16(), 303, "{page}");
        let to = location(&r);
        assert!(to.starts_with("/signin?next="), "{page} → {to}");
    }
    // After signing in, the person lands where they were going.
    crate::helpers::make_person(&app, "13800000009", &[Role::Admin], &[], None).await;
    let r = app
        .sign_in_to("13800000009", crate::helpers::PASSWORD, "/admin/org")
        .await;
    assert_eq!(r.headers()["location"], "/admin/org");
}

async fn statuses(app: &crate::helpers::TestApp, pages: &[&str]) -> Vec<u16> {
    let mut out = Vec::new();
    for p in pages {
        out.push(app.get(p).await.status().as_u16());
    }
    out
}

#[tokio::test]
async fn a_chair_sees_neither_admin_nor_official_pages() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000001", &[Role::Chair], &[], Some(place.committee)).await;
    assert_eq!(statuses(&app, &ADMIN_PAGES).await, [403, 403, 403]);
    assert_eq!(statuses(&app, &OFFICIAL_PAGES).await, [403, 403]);
    let r = app.get("/admin/org").await;
    assert!(r.text().await.unwrap().contains("没有权限"));
    let sections = home_sections(&app).await;
    assert!(
        sections.contains(&"即将开始的培训".to_string()) && !sections.contains(&"管理".to_string()),
        "{sections:?}"
    );
    let home = app.page("/").await;
    assert!(
        !home.contains("组织架构") && !home.contains("/admin/org"),
        "no way into the admin pages: {home}"
    );
}

#[tokio::test]
async fn a_lawyer_sees_neither_admin_nor_official_pages() {
    let app = spawn_app().await;
    signed_in_as(&app, "13800000002", &[Role::Lawyer], &[], None).await;
    assert_eq!(statuses(&app, &ADMIN_PAGES).await, [403, 403, 403]);
    assert_eq!(statuses(&app, &OFFICIAL_PAGES).await, [403, 403]);
}

#[tokio::test]
async fn an_official_sees_street_pages_but_not_admin_pages() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    assert_eq!(statuses(&app, &ADMIN_PAGES).await, [403, 403, 403]);
    assert_eq!(statuses(&app, &OFFICIAL_PAGES).await, [200, 200]);
    assert!(home_sections(&app).await.contains(&"我的街道".to_string()));
}

#[tokio::test]
async fn an_admin_sees_everything() {
    let app = spawn_app().await;
    make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000004", &[Role::Admin], &[], None).await;
    assert_eq!(statuses(&app, &ADMIN_PAGES).await, [200, 200, 200]);
    assert_eq!(statuses(&app, &OFFICIAL_PAGES).await, [200, 200]);
}

#[tokio::test]
async fn a_person_with_two_roles_gets_both() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(
        &app,
        "13800000005",
        &[Role::Lawyer, Role::Official],
        &[place.street],
        None,
    )
    .await;
    assert_eq!(statuses(&app, &OFFICIAL_PAGES).await, [200, 200]);
    let sections = home_sections(&app).await;
    assert!(
        sections.contains(&"我的题库".to_string()) && sections.contains(&"我的街道".to_string()),
        "{sections:?}"
    );
}

#[tokio::test]
async fn an_official_of_one_street_cannot_see_another_streets_chairs() {
    let app = spawn_app().await;
    let a = make_street(&app, "花木街道").await;
    let b = make_street(&app, "洋泾街道").await;
    let chair_b = crate::helpers::make_person(&app, "13800000011", &[Role::Chair], &[], Some(b.committee)).await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[a.street], None).await;
    assert_eq!(
        app.get_status(&format!("/street/chairs?street={}", b.street)).await,
        403
    );
    let r = app
        .post_form(&format!("/street/chairs/{chair_b}/signin-link"), &[])
        .await;
    assert_eq!(r.status().as_u16(), 403);
    let r = app
        .post_form("/street/chairs/signin-links", &[("street", &b.street.to_string())])
        .await;
    assert_eq!(r.status().as_u16(), 403);
}
