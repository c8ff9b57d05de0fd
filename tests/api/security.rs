//! Hardening against hostile input and leaks: redirects, exports, logs, headers, CSRF binding,
//! certificate lookups, upload limits.

use quorum::domain::person::Role;

use crate::helpers::{PASSWORD, make_person, spawn_app};

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn next_after_sign_in_or_language_switch_stays_on_this_site() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    // Browsers drop tabs and newlines from a Location, so `/\t/evil.example` would leave the site.
    for bad in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/x",
        "/%5Cevil.example",
        "//evil.example",
    ] {
        let r = app.get(&format!("/lang/en?next={bad}")).await;
        assert_eq!(r.status().as_u16(), 303, "{bad}");
        assert_eq!(location(&r), "/", "{bad}");
        let page = app.get_text(&format!("/signin?next={bad}")).await;
        assert!(
            page.contains("name=\"next\" value=\"/\""),
            "{bad}: the form carries home, not {bad}"
        );
    }
    let token = app.csrf().await;
    let r = app
        .client
        .post(app.url("/signin"))
        .form(&[
            ("csrf", token.as_str()),
            ("identifier", "13800000001"),
            ("password", PASSWORD),
            ("next", "/\t/evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/");
    // A clean local path is kept.
    let r = app.get("/lang/zh?next=/account/password").await;
    assert_eq!(location(&r), "/account/password");
}
