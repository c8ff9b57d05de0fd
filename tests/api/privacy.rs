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

#[tokio::test]
async fn an_erased_chair_is_gone_but_her_certificate_verifies_masked_and_totals_stay() {
    let s = setup(settings(4)).await;
    crate::certificates::set_contact(&s, 0, "王秀英", Some("wang@example.com")).await;
    let quiz = s.open_quiz(&s.chairs[..2]).await.quiz_id;
    crate::certificates::take_public(&s, quiz, s.chairs[0], true).await;
    crate::certificates::take_public(&s, quiz, s.chairs[1], false).await;
    quorum::db::sessions::insert_chat(&s.app.db, s.session, s.chairs[0], "我家住三号楼")
        .await
        .unwrap();
    let cert = quorum::db::certificates::for_person(&s.app.db, s.chairs[0])
        .await
        .unwrap()[0]
        .clone();
    let chair = as_chair(&s, 0).await;
    assert_eq!(chair.get_status("/").await, 200);

    let admin = s.app.other_browser();
    crate::helpers::signed_in_as(&admin, "13800000009", &[Role::Admin], &[], None).await;
    let report = format!("/sessions/{}/report", s.session);
    let before = admin.page(&report).await.table_rows("tbody tr");
    let path = format!("/admin/people/{}", s.chairs[0]);
    // A reason is needed, at its field.
    let r = admin.post_form(&format!("{path}/erase"), &[("reason", "")]).await;
    assert_eq!(r.status().as_u16(), 422);
    let r = admin
        .post_form(&format!("{path}/erase"), &[("reason", "本人申请")])
        .await;
    assert_eq!(location(&r), "/admin/people?erased=1");

    // Her number, name and email are nowhere in her account; she is signed out and cannot sign in.
    let p = quorum::db::people::get(&s.app.db, s.chairs[0]).await.unwrap().unwrap();
    assert!(p.phone.is_erased() && p.email.is_none() && !p.has_password);
    assert_eq!(p.name.as_str(), "已删除用户");
    assert_ne!(chair.get_status("/me/data").await, 200);
    assert_eq!(
        s.app
            .other_browser()
            .sign_in("13900000100", PASSWORD)
            .await
            .status()
            .as_u16(),
        401
    );
    let chat = quorum::db::sessions::chat_of_person(&s.app.db, s.chairs[0])
        .await
        .unwrap();
    assert!(chat.iter().all(|(_, m)| m.body == "（已删除）"));
    // Her certificate still verifies, with the name masked.
    let page = s.app.other_browser().page(&format!("/verify/{}", cert.code)).await;
    let text = page.body_text();
    assert!(text.contains("王**") && !text.contains("王秀英"), "{page}");
    // The session report's rows read the same numbers (her name aside).
    let after = admin.page(&report).await.table_rows("tbody tr");
    assert!(before.len() >= 2, "the report lists the chairs: {before:?}");
    assert_eq!(before.len(), after.len());
    // Her name aside, only her certificate email's cell differs: still queued, it was stopped with her
    // address gone.
    let numbers = |rows: &Vec<Vec<String>>| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                if r.len() > 3 {
                    r[1..r.len() - 1].to_vec()
                } else {
                    r.clone()
                }
            })
            .collect()
    };
    assert_eq!(numbers(&before), numbers(&after));
    assert!(after.iter().any(|r| r.last().is_some_and(|c| c == "失败")), "{after:?}");
    // The erasure is in the audit trail, with the reason and no personal data.
    let trail = quorum::db::audit::after(&s.app.db, 0, 1000).await.unwrap();
    let erased: Vec<_> = trail.iter().filter(|e| e.action == "person.erase").collect();
    assert_eq!(erased.len(), 1);
    assert!(erased[0].record.summary.contains("本人申请"));
    assert!(!erased[0].record.summary.contains("王秀英") && !erased[0].record.summary.contains("13900000100"));
}

#[tokio::test]
async fn retention_deletes_what_is_due_and_nothing_else() {
    use sea_orm::ConnectionTrait;
    let s = setup(settings(4)).await;
    let db = &s.app.db;
    for body in ["旧消息", "新消息"] {
        quorum::db::sessions::insert_chat(db, s.session, s.chairs[0], body)
            .await
            .unwrap();
    }
    for _ in 0..2 {
        quorum::db::audit::signin_event(db, "signin", "password", Some(s.chairs[0]), "127.0.0.1")
            .await
            .unwrap();
    }
    // One of each is old: the message a year and a day, the event 200 days.
    let ago = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    let (old_chat, old_event) = (ago(366), ago(200));
    let quote = |t: &str| format!("'{t}'");
    let backdate = [
        format!(
            "UPDATE chat_messages SET created_at = {} WHERE body = '旧消息'",
            quote(&old_chat)
        ),
        format!(
            "UPDATE signin_events SET at = {} WHERE id = (SELECT MIN(id) FROM signin_events)",
            quote(&old_event)
        ),
    ];
    for sql in backdate {
        db.execute_unprepared(&sql).await.unwrap();
    }
    // A chair's attempt submitted (and her attendance seen) 400 days ago; the other's today.
    let quiz = s.open_quiz(&s.chairs[..2]).await.quiz_id;
    let old_attempt = crate::certificates::take_public(&s, quiz, s.chairs[0], true).await;
    crate::certificates::take_public(&s, quiz, s.chairs[1], true).await;
    let long_ago = quote(&ago(400));
    for sql in [
        format!("UPDATE attempts SET submitted_at = {long_ago} WHERE id = {old_attempt}"),
        format!(
            "UPDATE attendance_intervals SET last_seen_at = {long_ago}, left_at = {long_ago} WHERE person_id = {}",
            s.chairs[0]
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    let before = quorum::db::quiz::attempt(db, old_attempt).await.unwrap().unwrap();
    let r = quorum::config::RetentionSettings {
        attendance_days: 365,
        answers_days: 365,
        chat_days: 365,
        signin_events_days: 183,
    };
    let done = quorum::services::privacy::apply_retention(db, &r, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!((done.chat_messages, done.signin_events), (1, 1));
    assert_eq!(done.attendance, 1, "her old interval, not the other chair's");
    assert_eq!(done.answers, 4, "the four answers of the old attempt");
    let items = quorum::db::quiz::items(db, old_attempt).await.unwrap();
    assert!(
        items.iter().all(|i| i.answer.is_none() && i.correct == Some(true)),
        "{items:?}"
    );
    let after = quorum::db::quiz::attempt(db, old_attempt).await.unwrap().unwrap();
    assert_eq!(
        (after.correct, after.passed),
        (before.correct, before.passed),
        "the score stays"
    );
    let other = quorum::db::quiz::attempts_of(db, quiz, s.chairs[1]).await.unwrap()[0].id;
    assert!(
        quorum::db::quiz::items(db, other)
            .await
            .unwrap()
            .iter()
            .all(|i| i.answer.is_some())
    );
    let chat = quorum::db::sessions::chat_of_person(db, s.chairs[0]).await.unwrap();
    assert_eq!(
        chat.iter().map(|(_, m)| m.body.as_str()).collect::<Vec<_>>(),
        ["新消息"]
    );
    assert_eq!(quorum::db::audit::signin_events(db, None, 10).await.unwrap().len(), 1);
    // Six months is the floor, whatever is configured.
    let short = quorum::config::RetentionSettings {
        attendance_days: 0,
        answers_days: 0,
        chat_days: 0,
        signin_events_days: 1,
    };
    let done = quorum::services::privacy::apply_retention(db, &short, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (done.chat_messages, done.signin_events),
        (0, 0),
        "chat kept (0), events under six months kept"
    );
}
