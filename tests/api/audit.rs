//! The audit trail (issue 20): each privileged action through the pages writes one entry with who,
//! what and from where, and no personal data beyond what the action needs; admins read, filter,
//! export and check it; a changed entry breaks the check; sign-in events are kept apart, without
//! numbers or codes.

use quorum::db::audit as audit_db;
use quorum::db::banks as bank_db;
use quorum::db::certificates as cert_db;
use quorum::domain::audit::{Action, Broken, Entry};
use quorum::domain::person::Role;
use quorum::services::audit::{self, Actor};
use reqwest::multipart::{Form, Part};

use crate::certificates::{set_contact, take_public};
use crate::helpers::{
    PASSWORD, SessionForm, TestApp, csrf_of, future_day, id_in, location, make_person, make_street, signed_in_as,
    spawn_app,
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

/// How many entries carry this action code.
fn count(entries: &[Entry], code: &str) -> usize {
    entries.iter().filter(|e| e.action == code).count()
}

/// The entries are exactly these actions, each by that person as many times as said, from the test's
/// address, with no phone number or email in their summaries.
fn assert_recorded(entries: &[Entry], expected: &[(Action, i64, usize)]) {
    for &(action, actor, times) in expected {
        let code = action.code();
        assert_eq!(count(entries, code), times, "{code}: {entries:#?}");
        for e in entries.iter().filter(|e| e.action == code) {
            assert_eq!(e.record.actor_id, Some(actor), "{e:?}");
            assert_eq!(e.record.address, "127.0.0.1", "{e:?}");
            assert!(no_contact_details(&e.record.summary), "{e:?}");
        }
    }
    let total: usize = expected.iter().map(|&(_, _, times)| times).sum();
    assert_eq!(entries.len(), total, "nothing else was recorded: {entries:#?}");
}

/// Posts a file the way the upload pages do (`page` shows the form and receives it), with the page's
/// CSRF token and any other fields.
async fn post_file(
    app: &TestApp,
    page: &str,
    fields: &[(&str, String)],
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let mut form = Form::new().text("csrf", csrf_of(&app.get_text(page).await));
    for (field, value) in fields {
        form = form.text(field.to_string(), value.clone());
    }
    form = form.part("file", Part::bytes(bytes).file_name(name.to_string()));
    app.client.post(app.url(page)).multipart(form).send().await.unwrap()
}

/// A day `days` from now in Shanghai, as a date field sends it.
fn shanghai_day(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn an_admins_account_and_organisation_changes_are_each_recorded_once_without_contact_details() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let admin = signed_in_as(&app, "13800000009", &[Role::Admin], &[], None).await;
    let spare = quorum::services::org::create_unit(&app.db, Some(place.street), "临时居委", None)
        .await
        .unwrap()
        .id;
    let before = all_entries(&app).await.len();

    // A form with problems saves nothing and records nothing.
    let r = app
        .post_form(
            "/admin/people/new",
            &[("name", "陈晓红"), ("phone", "1390000"), ("roles", "official")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let street = place.street.to_string();
    let fields = [
        ("name", "陈晓红"),
        ("phone", "13900000002"),
        ("email", "chen@example.com"),
        ("roles", "official"),
        ("streets", street.as_str()),
    ];
    let r = app.post_form("/admin/people/new", &fields).await;
    assert_eq!(r.status().as_u16(), 303);
    let person = id_in(&location(&r));
    let mut changed = fields.to_vec();
    changed.push(("roles", "lawyer"));
    let r = app.post_form(&format!("/admin/people/{person}"), &changed).await;
    assert_eq!(r.status().as_u16(), 200);

    // Rename the street; a unit still in use is not deleted (nothing recorded); an empty one is.
    let r = app
        .post_form(&format!("/admin/org/{}", place.street), &[("name", "花木新街道")])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = app.post_form(&format!("/admin/org/{}/delete", place.street), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    let r = app.post_form(&format!("/admin/org/{spare}/delete"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);

    let entries = all_entries(&app).await;
    let mine = &entries[before..];
    assert_recorded(
        mine,
        &[
            (Action::AccountCreate, admin, 1),
            (Action::AccountUpdate, admin, 1),
            (Action::OrgUpdate, admin, 1),
            (Action::OrgDelete, admin, 1),
        ],
    );
    let codes: Vec<&str> = mine.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        codes,
        [
            Action::AccountCreate,
            Action::AccountUpdate,
            Action::OrgUpdate,
            Action::OrgDelete
        ]
        .map(Action::code)
    );
    assert_eq!(mine[0].record.object, format!("person:{person}"));
    assert_eq!(mine[1].record.object, format!("person:{person}"));
    assert!(mine[1].record.summary.contains("lawyer"), "{:?}", mine[1]);
    assert!(!mine[1].record.summary.contains("陈晓红"), "{:?}", mine[1]);
    assert_eq!(mine[2].record.object, format!("org:{}", place.street));
    assert!(mine[2].record.summary.contains("花木新街道"), "{:?}", mine[2]);
    assert_eq!(mine[3].record.object, format!("org:{spare}"));
    assert!(mine[3].record.summary.contains("临时居委"), "{:?}", mine[3]);
    let checked = audit::check(&app.db).await.unwrap().unwrap();
    assert_eq!(checked.entries, entries.len() as i64);
}

/// Two chairs a roster file adds to the street (neither has a password yet).
const ROSTER: &str = "姓名,手机号,邮箱,居委,小区,职务\n\
赵桂芳,13900000201,zhao@example.com,联洋第一居委,联洋花园,主任\n\
孙志强,13900000202,,联洋第一居委,联洋花园,委员\n";

#[tokio::test]
async fn an_officials_certificates_roster_cards_start_and_makeup_window_and_an_admins_revocation_are_recorded_once() {
    let s = setup(settings(4)).await;
    set_contact(&s, 0, "王秀英", Some("wang@example.com")).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    take_public(&s, opened.quiz_id, s.chairs[0], true).await;
    s.close_quiz().await;
    let certificate = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let session = quorum::db::sessions::get(&s.app.db, s.session).await.unwrap().unwrap();
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;
    let admin = s.app.other_browser();
    let admin_id = signed_in_as(&admin, "13800000009", &[Role::Admin], &[], None).await;
    let before = all_entries(&s.app).await.len();

    // The official sends the certificate again; the admin revokes it (a reason is needed first).
    let r = official
        .post_form(&format!("/certificates/{}/resend", certificate.id), &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let revoke = format!("/certificates/{}/revoke", certificate.id);
    assert_eq!(
        admin.post_form(&revoke, &[("reason", "  ")]).await.status().as_u16(),
        422
    );
    assert_eq!(
        admin
            .post_form(&revoke, &[("reason", "成绩录入错误")])
            .await
            .status()
            .as_u16(),
        303
    );

    // A roster: uploaded, previewed (nothing recorded), imported.
    let street = session.street_id.to_string();
    let r = post_file(
        &official,
        "/street/roster",
        &[("street", street.clone())],
        "名单.csv",
        ROSTER.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let preview = official.page(&location(&r)).await;
    let apply = preview.form_action("确认导入");
    assert_eq!(official.post_form(&apply, &[]).await.status().as_u16(), 200);

    // Sign-in cards: one chair's, the street's (the two imported chairs), a new session's.
    let r = official
        .post_form(&format!("/street/chairs/{}/signin-link", s.chairs[1]), &[])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = official
        .post_form("/street/chairs/signin-links", &[("street", street.as_str())])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let day = future_day();
    let form = SessionForm::on(
        "审计卡片",
        &day,
        "14:00",
        "15:30",
        session.street_id,
        session.lecturers[0],
    );
    let r = official.schedule_session(&form).await;
    assert_eq!(r.status().as_u16(), 303);
    let new = id_in(&location(&r));
    let r = official.post_form(&format!("/sessions/{new}/signin-links"), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(official.start_session(new).await.status().as_u16(), 303);

    // The live session ends; a make-up window too far out is refused (nothing recorded), then opened.
    assert!(official.end_session(s.session).await.status().is_redirection());
    let makeup = format!("/sessions/{}/makeup", s.session);
    let far = shanghai_day(91);
    assert_eq!(
        official
            .post_form(&makeup, &[("makeup_until", far.as_str())])
            .await
            .status()
            .as_u16(),
        422
    );
    let tomorrow = shanghai_day(1);
    assert_eq!(
        official
            .post_form(&makeup, &[("makeup_until", tomorrow.as_str())])
            .await
            .status()
            .as_u16(),
        303
    );

    let entries = all_entries(&s.app).await;
    let mine = &entries[before..];
    let o = s.official;
    assert_recorded(
        mine,
        &[
            (Action::CertificateResend, o, 1),
            (Action::CertificateRevoke, admin_id, 1),
            (Action::RosterImport, o, 1),
            (Action::SigninLinks, o, 3),
            (Action::SessionSchedule, o, 1),
            (Action::SessionStart, o, 1),
            (Action::SessionEnd, o, 1),
            (Action::MakeupWindow, o, 1),
        ],
    );
    let one = |code: Action| {
        mine.iter()
            .find(|e| e.action == code.code())
            .unwrap_or_else(|| panic!("no {code:?}"))
    };
    let cert = format!("certificate:{}", certificate.id);
    assert_eq!(one(Action::CertificateResend).record.object, cert);
    assert_eq!(one(Action::CertificateRevoke).record.object, cert);
    assert!(one(Action::CertificateRevoke).record.summary.contains("成绩录入错误"));
    assert!(
        one(Action::RosterImport).record.summary.contains("新增 2"),
        "{:?}",
        one(Action::RosterImport)
    );
    let cards: Vec<(&str, &str)> = mine
        .iter()
        .filter(|e| e.action == Action::SigninLinks.code())
        .map(|e| (e.record.object.as_str(), e.record.summary.as_str()))
        .collect();
    let (chair_card, street_cards, session_cards) = (
        format!("person:{}", s.chairs[1]),
        format!("street:{street}"),
        format!("session:{new}"),
    );
    assert_eq!(cards[0], (chair_card.as_str(), "生成 1 张登录卡"));
    assert_eq!(cards[1], (street_cards.as_str(), "生成 2 张登录卡"));
    assert_eq!(cards[2].0, session_cards);
    assert_eq!(one(Action::SessionStart).record.object, format!("session:{new}"));
    assert_eq!(
        one(Action::MakeupWindow).record.summary,
        format!("开放回看补测至 {tomorrow}")
    );
    let checked = audit::check(&s.app.db).await.unwrap().unwrap();
    assert_eq!(checked.entries, entries.len() as i64);
}

#[tokio::test]
async fn lawyers_bank_question_and_statute_actions_are_each_recorded_once() {
    let s = setup(settings(4)).await;
    let session = quorum::db::sessions::get(&s.app.db, s.session).await.unwrap().unwrap();
    let author = session.lecturers[0];
    let lawyer = s.app.other_browser();
    lawyer.sign_in("13800000007", PASSWORD).await;
    let reviewer = s.app.other_browser();
    let reviewer_id = signed_in_as(&reviewer, "13800000008", &[Role::Lawyer], &[], None).await;
    let before = all_entries(&s.app).await.len();

    // A new bank, and an Aiken file imported into it.
    let r = lawyer
        .post_form(
            "/banks/new",
            &[("slug", "audit-bank"), ("title", "审计题库"), ("topic", "审计主题")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let bank = id_in(&location(&r));
    let aiken = "物业服务合同应当采用什么形式？\nA. 口头\nB. 书面\nANSWER: B\n";
    let r = post_file(
        &lawyer,
        "/banks/import",
        &[("bank", bank.to_string()), ("format", "aiken".to_string())],
        "questions.txt",
        aiken.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(r.status().as_u16(), 303);

    // A draft of t-1, submitted by its author, sent back by the other lawyer.
    let t1 = bank_db::question_by_qid(&s.app.db, "t-1").await.unwrap().unwrap().id;
    let path = format!("/questions/{t1}");
    let fields = [
        ("qid", "t-1"),
        ("kind", "single"),
        ("stem", "单选1（改写）"),
        ("options", "甲\n乙\n丙"),
        ("answer", "B"),
        ("explanation", "因为乙。"),
        ("citations", "test-law 1"),
        ("difficulty", "1"),
        ("rule", "t-rule-1"),
        ("save", "draft"),
    ];
    assert_eq!(lawyer.post_form(&path, &fields).await.status().as_u16(), 303);
    assert_eq!(
        lawyer.post_form(&format!("{path}/submit"), &[]).await.status().as_u16(),
        200
    );
    assert_eq!(
        reviewer
            .post_form(&format!("{path}/return"), &[("comment", "题干请写明是哪一方")])
            .await
            .status()
            .as_u16(),
        200
    );

    // Article 2 of the statute is reworded: t-m, which cites it, waits for review and is re-confirmed.
    let fixture =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/banks-broken/statutes/test-law.toml");
    let amended = std::fs::read_to_string(fixture)
        .unwrap()
        .replace("revision_date = \"2024-01-01\"", "revision_date = \"2025-01-01\"")
        .replace("text = \"只有一款。\"", "text = \"只有一款，已修改。\"");
    let r = post_file(&lawyer, "/banks/statutes", &[], "test-law.toml", amended.into_bytes()).await;
    assert_eq!(r.status().as_u16(), 200);
    let tm = bank_db::question_by_qid(&s.app.db, "t-m").await.unwrap().unwrap().id;
    assert_eq!(
        reviewer
            .post_form(&format!("/questions/{tm}/confirm"), &[])
            .await
            .status()
            .as_u16(),
        200
    );

    let entries = all_entries(&s.app).await;
    let mine = &entries[before..];
    assert_recorded(
        mine,
        &[
            (Action::BankCreate, author, 1),
            (Action::BankImport, author, 1),
            (Action::QuestionEdit, author, 1),
            (Action::QuestionSubmit, author, 1),
            (Action::QuestionSendBack, reviewer_id, 1),
            (Action::StatuteUpload, author, 1),
            (Action::QuestionConfirm, reviewer_id, 1),
        ],
    );
    let codes: Vec<&str> = mine.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        codes,
        [
            Action::BankCreate,
            Action::BankImport,
            Action::QuestionEdit,
            Action::QuestionSubmit,
            Action::QuestionSendBack,
            Action::StatuteUpload,
            Action::QuestionConfirm,
        ]
        .map(Action::code)
    );
    assert!(mine[0].record.summary.contains("audit-bank"), "{:?}", mine[0]);
    assert_eq!(mine[1].record.object, format!("bank:{bank}"));
    let question = format!("question:{t1}");
    for e in &mine[2..5] {
        assert_eq!(e.record.object, question, "{e:?}");
    }
    assert!(mine[4].record.summary.contains("题干请写明是哪一方"), "{:?}", mine[4]);
    assert!(mine[5].record.summary.contains("2025-01-01"), "{:?}", mine[5]);
    assert_eq!(mine[6].record.object, format!("question:{tm}"));
    let checked = audit::check(&s.app.db).await.unwrap().unwrap();
    assert_eq!(checked.entries, entries.len() as i64);
}
