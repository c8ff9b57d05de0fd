//! The audit trail (issue 20): each privileged action through the pages writes one entry with who,
//! what and from where, and no personal data beyond what the action needs; admins read, filter,
//! export and check it; a changed entry breaks the check; sign-in events are kept apart, without
//! numbers or codes.

use quorum::db::audit as audit_db;
use quorum::domain::audit::{Action, Broken, Entry};
use quorum::domain::person::Role;
use quorum::services::audit::{self, Actor};

use crate::helpers::{
    PASSWORD, SessionForm, TestApp, future_day, id_in, location, make_person, signed_in_as, spawn_app,
};
use crate::quiz::{settings, setup};

async fn all_entries(app: &TestApp) -> Vec<Entry> {
    audit_db::after(&app.db, 0, 10_000).await.unwrap()
}

/// Nothing that looks like a mainland mobile number or an email address.
fn no_contact_details(text: &str) -> bool {
    let digits: Vec<char> = text.chars().collect();
    let phone = digits
        .windows(11)
        .any(|w| w[0] == '1' && w.iter().all(|c| c.is_ascii_digit()));
    !phone && !text.contains('@')
}

#[tokio::test]
async fn an_officials_actions_are_each_recorded_once_with_who_and_from_where() {
    let s = setup(settings(4)).await;
    let session = quorum::db::sessions::get(&s.app.db, s.session).await.unwrap().unwrap();
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;
    let before = all_entries(&s.app).await.len();

    // Schedule, edit and cancel a session.
    let day = future_day();
    let form = SessionForm::on(
        "审计演练",
        &day,
        "14:00",
        "15:30",
        session.street_id,
        session.lecturers[0],
    );
    let r = official.schedule_session(&form).await;
    assert_eq!(r.status().as_u16(), 303);
    let new = id_in(&location(&r));
    let (starts, ends, street, lecturer) = (
        format!("{day}T14:00"),
        format!("{day}T16:00"),
        session.street_id.to_string(),
        session.lecturers[0].to_string(),
    );
    let fields = [
        ("title", "审计演练（改期）"),
        ("description", ""),
        ("starts_at", starts.as_str()),
        ("ends_at", ends.as_str()),
        ("street", street.as_str()),
        ("invite", "street"),
        ("lecturers", lecturer.as_str()),
    ];
    assert_eq!(
        official
            .post_form(&format!("/sessions/{new}"), &fields)
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        official
            .post_form(&format!("/sessions/{new}/cancel"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    // The live session: quiz settings, open, close, a report export, the evidence pack, the end.
    let quiz = [
        ("topic:测试主题", "4"),
        ("pass_mark", "60"),
        ("time_limit_minutes", "10"),
        ("attempts_allowed", "1"),
        ("retake_wait_minutes", "0"),
        ("attendance_gate", "60"),
        ("reveal", "after_submit"),
    ];
    let path = |p: &str| format!("/sessions/{}{p}", s.session);
    assert_eq!(official.post_form(&path("/quiz"), &quiz).await.status().as_u16(), 200);
    assert!(
        official
            .post_form(&path("/quiz/open"), &[])
            .await
            .status()
            .is_redirection()
    );
    assert!(
        official
            .post_form(&path("/quiz/close"), &[])
            .await
            .status()
            .is_redirection()
    );
    assert_eq!(official.get_status(&path("/report.csv")).await, 200);
    assert_eq!(official.get_status(&path("/evidence.zip")).await, 200);
    assert!(official.end_session(s.session).await.status().is_redirection());

    let entries = all_entries(&s.app).await;
    let mine = &entries[before..];
    let codes: Vec<&str> = mine.iter().map(|e| e.action.as_str()).collect();
    let expected = [
        Action::SessionSchedule,
        Action::SessionEdit,
        Action::SessionCancel,
        Action::QuizSettings,
        Action::QuizOpen,
        Action::QuizClose,
        Action::ExportDownload,
        Action::EvidenceDownload,
        Action::SessionEnd,
    ]
    .map(Action::code);
    assert_eq!(codes, expected, "one entry per action, in order");
    for e in mine {
        assert_eq!(e.record.actor_id, Some(s.official), "{e:?}");
        assert_eq!(e.record.address, "127.0.0.1", "{e:?}");
        assert!(no_contact_details(&e.record.summary), "{e:?}");
    }
    assert_eq!(mine[0].record.object, format!("session:{new}"));
    assert!(mine[1].record.summary.contains("审计演练（改期）"), "{:?}", mine[1]);
    assert!(mine[3].record.summary.contains("测试主题 4"), "{:?}", mine[3]);
    assert_eq!(mine[6].record.object, format!("export:session-{}", s.session));
    let checked = audit::check(&s.app.db).await.unwrap().unwrap();
    assert_eq!(checked.entries, entries.len() as i64);
}

#[tokio::test]
async fn admins_read_filter_export_and_check_the_trail_and_a_changed_entry_breaks_it() {
    let app = spawn_app().await;
    let admin_id = signed_in_as(&app, "13800000009", &[Role::Admin], &[], None).await;
    for name in ["审计区", "另一个区"] {
        let r = app.post_form("/admin/org", &[("name", name)]).await;
        assert!(r.status().is_redirection(), "{}", r.status());
    }
    let entries = all_entries(&app).await;
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| e.action == "org.create" && e.record.actor_id == Some(admin_id))
    );

    let page = app.page("/admin/audit").await;
    assert_eq!(page.table_rows("#audit tbody tr").len(), 2, "{page}");
    let filtered = app.page("/admin/audit?action=org.delete").await;
    assert_eq!(filtered.table_rows("#audit tbody tr").len(), 0);
    let r = app.get("/admin/audit.csv?action=org.create").await;
    assert_eq!(r.status().as_u16(), 200);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("新建 审计区"), "{csv}");
    assert!(
        all_entries(&app)
            .await
            .iter()
            .any(|e| e.record.object == "export:audit-trail"),
        "downloading the trail is recorded too"
    );
    let bad = app.get("/admin/audit?from=12月3日").await;
    assert_eq!(bad.status().as_u16(), 422);
    assert!(
        app.page("/admin/audit/check")
            .await
            .text_of(".notice.ok")
            .contains("记录链完整")
    );
    // Others may not read it.
    let lawyer = app.other_browser();
    signed_in_as(&lawyer, "13800000007", &[Role::Lawyer], &[], None).await;
    assert_eq!(lawyer.get_status("/admin/audit").await, 403);

    // The database refuses to change an entry; someone who gets past that is found by the check.
    let db = &app.db;
    use sea_orm::ConnectionTrait;
    assert!(
        db.execute_unprepared("UPDATE audit_log SET summary = '改过' WHERE seq = 1")
            .await
            .is_err()
    );
    assert!(
        db.execute_unprepared("DELETE FROM audit_log WHERE seq = 1")
            .await
            .is_err()
    );
    let lift = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        _ => "DROP TRIGGER audit_log_no_update",
    };
    db.execute_unprepared(lift).await.unwrap();
    db.execute_unprepared("UPDATE audit_log SET summary = '改过' WHERE seq = 1")
        .await
        .unwrap();
    assert_eq!(audit::check(db).await.unwrap(), Err(Broken::Altered { seq: 1 }));
    assert!(
        app.page("/admin/audit/check")
            .await
            .text_of(".notice.error")
            .contains("记录链已损坏")
    );
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    let app = spawn_app().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let db = app.db.clone();
        tasks.spawn(async move {
            let actor = Actor {
                person_id: None,
                address: "test".into(),
            };
            audit::record(&db, &actor, Action::OrgUpdate, format!("org:{i}"), "并发").await
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let checked = audit::check(&app.db).await.unwrap().unwrap();
    assert_eq!(checked.entries, 20);
}

#[tokio::test]
async fn sign_ins_failures_codes_and_sign_outs_are_recorded_without_numbers_or_codes() {
    let app = spawn_app().await;
    let chair = make_person(&app, "13800000021", &[Role::Chair], &[], None).await;
    assert_eq!(
        app.sign_in("13800000021", "not-the-password").await.status().as_u16(),
        401
    );
    assert_eq!(
        app.sign_in("13800000099", "no-such-account").await.status().as_u16(),
        401
    );
    assert_eq!(app.sign_in("13800000021", PASSWORD).await.status().as_u16(), 303);
    app.sign_out().await;
    let r = app
        .post_form("/signin/code/send", &[("phone", "13800000021"), ("next", "/")])
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let mut events = audit_db::signin_events(&app.db, None, 100).await.unwrap();
    events.reverse();
    let seen: Vec<(&str, &str, Option<i64>)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.method.as_str(), e.person_id))
        .collect();
    assert_eq!(
        seen,
        [
            ("failure", "password", Some(chair)),
            ("failure", "password", None),
            ("signin", "password", Some(chair)),
            ("signout", "", Some(chair)),
            ("code_sent", "sms", Some(chair)),
        ]
    );
    for e in &events {
        assert_eq!(e.address, "127.0.0.1");
    }
}
