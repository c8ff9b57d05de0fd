//! 长辈版 (large type) and high contrast: a switch on every page, kept on the phone and on the account.

use quorum::domain::person::Role;

use crate::helpers::{PASSWORD, TestApp, make_person, spawn_app};

/// The view classes on a page's `<html>` element (none in the standard view).
async fn view_of(app: &TestApp, path: &str) -> Vec<String> {
    app.page(path).await.root_classes()
}

#[tokio::test]
async fn the_large_text_switch_is_on_every_page_and_remembered_on_the_phone() {
    let app = spawn_app().await;
    let page = app.page("/signin").await;
    assert!(page.root_classes().is_empty(), "{:?}", page.root_classes());
    assert!(
        page.select_all("header.site a.view")
            .iter()
            .any(|a| a.attr("href") == Some("/view/large?next=/signin")),
        "the switch is in the header: {page}"
    );
    // Error pages carry the header too.
    let missing = app.page("/no/such/page").await;
    assert!(
        missing
            .select_all("header.site a.view")
            .iter()
            .any(|a| a.attr("href").is_some_and(|h| h.starts_with("/view/large?next="))),
        "{missing}"
    );

    let r = app.get("/view/large?next=/signin").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/signin");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("q_view=large") && cookie.contains("Max-Age="),
        "{cookie}"
    );
    let page = app.page("/signin").await;
    assert_eq!(page.root_classes(), ["view-large"]);
    // In 长辈版 the header offers the way back and high contrast.
    let switches: Vec<String> = page
        .select_all("header.site a.view")
        .iter()
        .filter_map(|a| a.attr("href").map(str::to_string))
        .collect();
    assert!(
        switches.iter().any(|h| h.starts_with("/view/standard?next="))
            && switches.iter().any(|h| h.starts_with("/view/contrast?next=")),
        "{switches:?}"
    );

    app.get("/view/contrast?next=/").await;
    assert_eq!(view_of(&app, "/signin").await, ["view-contrast", "view-large"]);

    // Unknown modes and foreign `next`s go nowhere.
    assert_eq!(app.get_status("/view/huge?next=/").await, 404);
    let r = app.get("/view/standard?next=//evil.example").await;
    assert_eq!(r.headers()["location"], "/");
    assert!(view_of(&app, "/signin").await.is_empty());
}

#[tokio::test]
async fn the_large_text_choice_follows_the_account_to_another_phone() {
    let app = spawn_app().await;
    make_person(&app, "13800001111", &[Role::Chair], &[], None).await;
    let r = app.sign_in("13800001111", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303);
    app.get("/view/large?next=/").await;
    assert_eq!(view_of(&app, "/").await, ["view-large"]);

    // Another phone, no cookie: signed out it is the standard view, signed in it is hers.
    let other = app.other_browser();
    assert!(view_of(&other, "/signin").await.is_empty());
    other.sign_in("13800001111", PASSWORD).await;
    assert_eq!(view_of(&other, "/").await, ["view-large"]);

    // Turning it off there turns it off for the account.
    other.get("/view/standard?next=/").await;
    let third = app.other_browser();
    third.sign_in("13800001111", PASSWORD).await;
    assert!(view_of(&third, "/").await.is_empty());
}
