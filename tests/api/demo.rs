//! The newcomer's first run: demo data and its printed sign-ins work.

use quorum::services::demo::{DEMO_PASSWORD, DEMO_SIGNINS};

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn the_demo_seeds_once_and_every_printed_signin_works() {
    let app = spawn_app_with(|s| s.demo.seed = true).await;
    let people = quorum::db::people::count(&app.db).await.unwrap();
    assert!(people >= 17, "{people}");
    for s in DEMO_SIGNINS {
        let b = app.other_browser();
        assert_eq!(
            b.sign_in(s.phone, DEMO_PASSWORD).await.status().as_u16(),
            303,
            "{}",
            s.name
        );
        let home = b.page("/").await;
        assert_eq!(home.text_of("p.lead"), format!("{}，您好！", s.name), "greeted by name");
    }
    // The chair sees the upcoming session; the official sees it among their street's sessions.
    let chair = app.other_browser();
    chair.sign_in("13900000101", DEMO_PASSWORD).await;
    assert!(chair.get_text("/").await.contains("业主大会召开与业委会换届改选实务"));
    let official = app.other_browser();
    official.sign_in("13900000002", DEMO_PASSWORD).await;
    let home = official.get_text("/").await;
    assert!(home.contains("业主大会召开与业委会换届改选实务") && home.contains("花木街道"));

    // Seeding again changes nothing.
    assert!(!quorum::services::demo::seed_if_empty(&app.db).await.unwrap());
}
