//! What an official sends to the chairs' WeChat group: PNG pictures (WeChat sends no SVG) and a text.

use quorum::domain::person::Role;

use crate::helpers::{
    Place, SessionForm, TestApp, future_day, id_in, location, make_person, make_street, signed_in_as, spawn_app,
};

/// The street office's official, signed in on `app`, schedules 业委会职责与监督 (14:00–15:30, a month
/// ahead) with a lawyer; returns the street and the session id.
pub(crate) async fn official_schedules_a_session(app: &TestApp) -> (Place, i64) {
    let place = make_street(app, "花木街道").await;
    signed_in_as(app, "13800000001", &[Role::Official], &[place.street], None).await;
    let lawyer = make_person(app, "13700000001", &[Role::Lawyer], &[], None).await;
    let r = app
        .schedule_session(&SessionForm::on(
            "业委会职责与监督",
            &future_day(),
            "14:00",
            "15:30",
            place.street,
            lawyer,
        ))
        .await;
    (place, id_in(&location(&r)))
}

fn is_png(b: &[u8]) -> bool {
    b.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a])
}

#[tokio::test]
async fn the_qr_code_and_the_poster_come_as_png_for_officials_only() {
    let app = spawn_app().await;
    let (place, session) = official_schedules_a_session(&app).await;

    for path in [
        format!("/sessions/{session}/qr.png"),
        format!("/sessions/{session}/poster.png"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "image/png", "{path}");
        assert!(is_png(&r.bytes().await.unwrap()), "{path}");
    }
    let page = app.page(&format!("/sessions/{session}")).await;
    assert!(
        page.exists(&format!("a[href='/sessions/{session}/poster.png']")),
        "{page}"
    );
    let text = page.text_of("textarea#invitation-text");
    assert!(
        text.contains("业委会职责与监督") && text.contains("14:00–15:30") && text.contains("/s/"),
        "{text}"
    );
    assert!(page.exists("button[data-copy-from=invitation-text]"), "{page}");
    assert_eq!(app.get_status("/static/js/copy-invitation.js").await, 200);

    // Another street's official and a chair get no picture; nor does someone signed out.
    let other = app.other_browser();
    let elsewhere = make_street(&app, "陆家嘴街道").await;
    signed_in_as(&other, "13800000002", &[Role::Official], &[elsewhere.street], None).await;
    let chair = app.other_browser();
    signed_in_as(&chair, "13900000101", &[Role::Chair], &[], Some(place.committee)).await;
    let nobody = app.other_browser();
    for path in [
        format!("/sessions/{session}/qr.png"),
        format!("/sessions/{session}/poster.png"),
    ] {
        assert!([403, 404].contains(&other.get_status(&path).await), "{path}");
        assert!([403, 404].contains(&chair.get_status(&path).await), "{path}");
        let r = nobody.get(&path).await;
        assert_eq!(r.status().as_u16(), 303, "{path}");
        assert!(location(&r).starts_with("/signin?next="), "{path}");
    }
}
