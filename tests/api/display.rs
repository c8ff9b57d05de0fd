//! 长辈版 (large type) and high contrast: a switch on every page, kept on the phone and on the account.

use quorum::domain::person::Role;

use crate::helpers::{PASSWORD, make_person, spawn_app};

fn html_tag(page: &str) -> &str {
    let start = page.find("<html").expect("a page");
    let end = start + page[start..].find('>').expect("the tag ends");
    &page[start..=end]
}

#[tokio::test]
async fn the_large_text_switch_is_on_every_page_and_remembered_on_the_phone() {
    let app = spawn_app().await;
    let page = app.get_text("/signin").await;
    assert!(!html_tag(&page).contains("view-large"), "{}", html_tag(&page));
    assert!(
        page.contains("href=\"/view/large?next=/signin\""),
        "the switch is in the header"
    );
    // Error pages carry the header too.
    assert!(app.get_text("/no/such/page").await.contains("/view/large?next="));

    let r = app.get("/view/large?next=/signin").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/signin");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("q_view=large") && cookie.contains("Max-Age="),
        "{cookie}"
    );
    let page = app.get_text("/signin").await;
    assert!(html_tag(&page).contains("class=\"view-large\""), "{}", html_tag(&page));
    // In 长辈版 the header offers the way back and high contrast.
    assert!(page.contains("/view/standard?next=") && page.contains("/view/contrast?next="));

    app.get("/view/contrast?next=/").await;
    let page = app.get_text("/signin").await;
    assert!(html_tag(&page).contains("class=\"view-large view-contrast\""));

    // Unknown modes and foreign `next`s go nowhere.
    assert_eq!(app.get_status("/view/huge?next=/").await, 404);
    let r = app.get("/view/standard?next=//evil.example").await;
    assert_eq!(r.headers()["location"], "/");
    assert!(!html_tag(&app.get_text("/signin").await).contains("view-"));
}

#[tokio::test]
async fn the_large_text_choice_follows_the_account_to_another_phone() {
    let app = spawn_app().await;
    make_person(&app, "13800001111", &[Role::Chair], &[], None).await;
    let r = app.sign_in("13800001111", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303);
    app.get("/view/large?next=/").await;
    assert!(html_tag(&app.get_text("/").await).contains("view-large"));

    // Another phone, no cookie: signed out it is the standard view, signed in it is hers.
    let other = app.other_browser();
    assert!(!html_tag(&other.get_text("/signin").await).contains("view-large"));
    other.sign_in("13800001111", PASSWORD).await;
    let page = other.get_text("/").await;
    assert!(html_tag(&page).contains("class=\"view-large\""), "{}", html_tag(&page));

    // Turning it off there turns it off for the account.
    other.get("/view/standard?next=/").await;
    let third = app.other_browser();
    third.sign_in("13800001111", PASSWORD).await;
    assert!(!html_tag(&third.get_text("/").await).contains("view-large"));
}
