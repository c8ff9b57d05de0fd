//! Personal information (issue 20): the notice is shown at sign-in once per version and its acceptance
//! recorded; her own data page and download hold exactly her data and nobody else's.

use quorum::domain::person::Role;

use crate::helpers::{PASSWORD, location, make_person_new, spawn_app};
use crate::quiz::{as_chair, settings, setup};

#[tokio::test]
async fn the_notice_is_shown_once_per_version_and_its_acceptance_recorded() {
    let app = spawn_app().await;
    let id = make_person_new(&app, "13800000031", &[Role::Lawyer], &[], None).await;
    let r = app.sign_in("13800000031", PASSWORD).await;
    assert_eq!(location(&r), "/privacy?next=/");
    // Anyone may read it; she, signed in and not yet agreed, also accepts it there.
    let page = app.page("/privacy?next=/").await;
    assert!(
        page.exists("form[action='/privacy'] input[name=next][value='/']"),
        "{page}"
    );
    for heading in ["收集哪些信息", "为什么", "保存多久", "谁能看到", "您的权利"] {
        assert!(page.body_text().contains(heading), "{heading}: {page}");
    }
    let r = app.post_form("/privacy", &[("next", "/")]).await;
    assert_eq!(location(&r), "/");
    let recorded = quorum::db::people::notice_acceptances(&app.db, id).await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].0, quorum::domain::privacy::NOTICE_VERSION);
    assert!(
        !app.page("/privacy").await.exists("form[action='/privacy']"),
        "nothing left to accept"
    );
    // The next sign-in goes straight on.
    app.sign_out().await;
    assert_eq!(location(&app.sign_in("13800000031", PASSWORD).await), "/");
    // A new version of the notice asks again (simulated: her acceptance is of an older one).
    app.sign_out().await;
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!("UPDATE people SET notice_version = 0 WHERE id = {id}"))
        .await
        .unwrap();
    assert_eq!(location(&app.sign_in("13800000031", PASSWORD).await), "/privacy?next=/");
    // A visitor reads the notice without a form.
    let visitor = app.other_browser();
    let page = visitor.page("/privacy").await;
    assert!(page.body_text().contains("收集哪些信息") && !page.exists("form[action='/privacy']"));
}

#[tokio::test]
async fn her_data_download_holds_exactly_her_data() {
    let s = setup(settings(4)).await;
    for (i, (name, email)) in [("王秀英", "wang@example.com"), ("李建华", "li@example.com")]
        .into_iter()
        .enumerate()
    {
        crate::certificates::set_contact(&s, i, name, Some(email)).await;
    }
    let quiz = s.open_quiz(&s.chairs[..2]).await.quiz_id;
    crate::certificates::take_public(&s, quiz, s.chairs[0], true).await;
    crate::certificates::take_public(&s, quiz, s.chairs[1], false).await;
    quorum::db::sessions::insert_chat(&s.app.db, s.session, s.chairs[0], "请问维修资金怎么用？")
        .await
        .unwrap();
    quorum::db::sessions::insert_chat(&s.app.db, s.session, s.chairs[1], "李的问题")
        .await
        .unwrap();

    let chair = as_chair(&s, 0).await;
    let page = chair.page("/me/data").await;
    assert!(
        page.body_text().contains("王秀英") && page.body_text().contains("13900000100"),
        "{page}"
    );
    let r = chair.get("/me/data.json").await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("my-data.json")
    );
    let text = r.text().await.unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["profile"]["mobile"], "13900000100");
    assert_eq!(d["profile"]["email"], "wang@example.com");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
    let answers = d["attempts"][0]["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 4);
    assert!(
        answers.iter().all(|a| a["answer"].is_string() && a["correct"] == true),
        "{answers:?}"
    );
    assert_eq!(d["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(d["chat"].as_array().unwrap().len(), 1);
    assert_eq!(d["chat"][0]["text"], "请问维修资金怎么用？");
    assert!(d["signins"].as_array().unwrap().iter().any(|e| e["event"] == "signin"));
    // Nothing of the other chair.
    for other in ["李建华", "li@example.com", "13900000101", "李的问题"] {
        assert!(!text.contains(other), "{other} in {text}");
    }
    // Signed out, there is nothing to download.
    let visitor = s.app.other_browser();
    assert_ne!(visitor.get_status("/me/data.json").await, 200);
}
