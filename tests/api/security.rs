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

async fn rename(app: &crate::helpers::TestApp, person: i64, name: &str) {
    let p = quorum::db::people::get(&app.db, person).await.unwrap().unwrap();
    quorum::db::people::update(
        &app.db,
        person,
        quorum::db::people::PersonUpdate {
            name: &quorum::domain::person::DisplayName::parse(name).unwrap(),
            email: p.email.as_ref(),
            committee_id: p.committee_id,
            position: p.position.as_deref(),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn names_that_look_like_formulas_are_escaped_in_every_csv_export() {
    let s = crate::quiz::setup(crate::quiz::settings(4)).await;
    rename(&s.app, s.chairs[0], "=HYPERLINK(\"http://evil.example\",\"点我\")").await;
    rename(&s.app, s.chairs[1], "-1+1").await;
    rename(&s.app, s.chairs[2], "@SUM(A1:A9)").await;
    let opened = quorum::services::quiz::open(&s.app.db, s.session, &s.chairs[..2])
        .await
        .unwrap();
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[0], true).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[1], false).await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;

    let report = official
        .get(&format!("/sessions/{}/report.csv", s.session))
        .await
        .bytes()
        .await
        .unwrap();
    let report = String::from_utf8(report[3..].to_vec()).unwrap();
    assert!(
        report.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\","),
        "{report}"
    );
    assert!(
        report.contains("\n'-1+1,") && report.contains("\n'@SUM(A1:A9),"),
        "{report}"
    );
    // Scores stay numbers (a formula-looking text cell is escaped, a number is not).
    assert!(report.contains(",已交卷,4,"), "{report}");

    let bytes = official
        .get(&format!("/sessions/{}/evidence.zip", s.session))
        .await
        .bytes()
        .await
        .unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    for name in ["attendance.csv", "results.csv", "certificates.csv"] {
        use std::io::Read;
        let mut text = String::new();
        z.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        assert!(text.contains("\"'=HYPERLINK("), "{name}: {text}");
        assert!(
            !text.contains("\n=") && !text.contains(",=") && !text.contains("\n-1+1"),
            "{name}: {text}"
        );
    }
}
