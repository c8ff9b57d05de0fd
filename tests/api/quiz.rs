//! The in-class quiz end to end.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use quorum::db::{banks as bank_db, quiz as quiz_db, sessions as sessions_db};
use quorum::domain::bank::QuestionStatus;
use quorum::domain::person::Role;
use quorum::domain::question::{Answer, QuestionKind};
use quorum::domain::quiz::{BlueprintRule, QuizSettings, Reveal};
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::services::access::{Moderates, SessionAccess, StreetScope};
use quorum::services::quiz;
use quorum::services::sessions::{Invitees, NoRoom, SessionInput};
use serde_json::json;

use crate::helpers::{
    PASSWORD, Page, TestApp, id_in, location, make_person, make_street, spawn_app_with, start_server,
};

/// A bank of five questions on one topic (plus the test statute), loaded into the app.
pub(crate) fn bank_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-quizbank-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("statutes")).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        repo.join("tests/fixtures/banks-broken/statutes/test-law.toml"),
        dir.join("statutes/test-law.toml"),
    )
    .unwrap();
    let mut text = String::from(
        "[bank]\nid = \"t\"\ntitle = \"测试题库\"\ntopic = \"测试主题\"\nauthors = [\"甲\"]\nreviewer = \"乙\"\nreview_date = 2026-11-20\n",
    );
    for i in 1..=4 {
        text.push_str(&format!(
            "\n[[question]]\nid = \"t-{i}\"\nkind = \"single\"\nstem = \"单选{i}\"\noptions = [\"甲\", \"乙\", \"丙\"]\nanswer = \"B\"\nexplanation = \"因为乙。\"\ncitations = [{{ statute = \"test-law\", article = 1 }}]\ndifficulty = 1\nrule = \"t-rule-{i}\"\n"
        ));
    }
    text.push_str("\n[[question]]\nid = \"t-m\"\nkind = \"multiple\"\nstem = \"多选\"\noptions = [\"甲\", \"乙\", \"丙\", \"丁\"]\nanswer = [\"A\", \"C\"]\nexplanation = \"甲和丙。\"\ncitations = [{ statute = \"test-law\", article = 2 }]\ndifficulty = 2\n");
    text.push_str("\n[[question]]\nid = \"t-tf\"\nkind = \"true_false\"\nstem = \"判断\"\nanswer = false\nexplanation = \"不对。\"\ncitations = [{ statute = \"test-law\", article = 1, paragraph = 2 }]\ndifficulty = 1\n");
    std::fs::write(dir.join("t.toml"), text).unwrap();
    dir
}

pub(crate) struct Setup {
    pub app: TestApp,
    pub session: i64,
    pub official: i64,
    pub lawyer: i64,
    pub chairs: Vec<i64>,
}

impl Setup {
    /// The official's rights in the session, as the room and the quiz buttons check them.
    pub(crate) async fn moderates(&self) -> Moderates {
        SessionAccess::current(&self.app.db, self.official, self.session)
            .await
            .unwrap()
            .unwrap()
            .moderates()
            .unwrap()
    }

    /// The moderator opens the quiz with these chairs connected to the room.
    pub(crate) async fn open_quiz(&self, present: &[i64]) -> quiz::Opened {
        let room = NoRoom {
            present: present.to_vec(),
        };
        quiz::open(&self.app.db, &self.moderates().await, &room).await.unwrap()
    }

    /// The moderator closes the quiz.
    pub(crate) async fn close_quiz(&self) -> usize {
        quiz::close(&self.app.db, &self.moderates().await, &NoRoom::default())
            .await
            .unwrap()
    }
}

/// A live session that started 60 minutes ago, attended in full by `full` chairs and for the last 10
/// minutes by one late chair.
pub(crate) async fn setup(settings: QuizSettings) -> Setup {
    let dir = bank_dir();
    let app = spawn_app_with(|s| {
        s.paths.banks_dir = dir;
        // Tests drive the outbox themselves.
        s.email.worker = false;
    })
    .await;
    let place = make_street(&app, "花木街道").await;
    let official = make_person(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let lawyer = make_person(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let mut chairs = Vec::new();
    for i in 0..3 {
        chairs.push(
            make_person(
                &app,
                &format!("1390000010{i}"),
                &[Role::Chair],
                &[],
                Some(place.committee),
            )
            .await,
        );
    }
    let now = Utc::now();
    let fmt = |t: chrono::DateTime<Utc>| (t + chrono::Duration::hours(8)).format("%Y-%m-%dT%H:%M").to_string();
    let input = SessionInput {
        schedule: Schedule::parse(
            "换届改选实务",
            "",
            &fmt(now - chrono::Duration::minutes(60)),
            &fmt(now + chrono::Duration::minutes(30)),
        )
        .unwrap(),
        street: place.street,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    let session = quorum::services::sessions::create(
        &app.db,
        &StreetScope::All,
        &quorum::services::audit::Actor {
            person_id: Some(official),
            address: String::new(),
        },
        &input,
    )
    .await
    .unwrap();
    sessions_db::set_status(
        &app.db,
        session,
        SessionStatus::Live,
        now - chrono::Duration::minutes(60),
    )
    .await
    .unwrap();
    for (i, c) in chairs.iter().enumerate() {
        let joined = if i == 2 {
            now - chrono::Duration::minutes(10)
        } else {
            now - chrono::Duration::minutes(61)
        };
        let id = sessions_db::open_interval(&app.db, session, *c, joined).await.unwrap();
        sessions_db::touch_interval(&app.db, id, now).await.unwrap();
    }
    quiz::save_settings(&app.db, session, &settings).await.unwrap();
    Setup {
        app,
        session,
        official,
        lawyer,
        chairs,
    }
}

pub(crate) fn settings(count: u32) -> QuizSettings {
    QuizSettings {
        blueprint: vec![BlueprintRule {
            topic: "测试主题".into(),
            count,
        }],
        ..Default::default()
    }
}

pub(crate) async fn as_chair(s: &Setup, i: usize) -> TestApp {
    let b = s.app.other_browser();
    b.sign_in(&format!("1390000010{i}"), PASSWORD).await;
    b
}

#[tokio::test]
async fn settings_that_cannot_be_met_name_the_short_topic() {
    let s = setup(settings(2)).await;
    let Err(quorum::services::ServiceError::Rejected(r)) =
        quiz::save_settings(&s.app.db, s.session, &settings(9)).await
    else {
        panic!("settings asking for more questions than there are must be rejected");
    };
    assert!(
        r.iter().any(|(_, t)| t.zh.contains("主题“测试主题”只有 6 道可用题目")),
        "{r:?}"
    );
    // Through the page too: the error is shown with the blueprint.
    crate::helpers::signed_in_as(&s.app, "13800000009", &[Role::Admin], &[], None).await;
    let r = s
        .app
        .post_form(
            &format!("/sessions/{}/quiz", s.session),
            &[
                ("topic:测试主题", "7"),
                ("pass_mark", "60"),
                ("time_limit_minutes", "10"),
                ("attempts_allowed", "1"),
                ("retake_wait_minutes", "0"),
                ("attendance_gate", "60"),
                ("reveal", "after_submit"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    let error = page
        .field_error("topic:测试主题")
        .unwrap_or_else(|| panic!("no error shown: {page}"));
    assert!(error.contains("只有 6 道可用题目"), "{error}");
}

#[tokio::test]
async fn opening_draws_by_the_blueprint_pins_versions_skips_review_and_applies_the_gate() {
    let s = setup(settings(5)).await;
    let flagged = bank_db::question_by_qid(&s.app.db, "t-4").await.unwrap().unwrap();
    bank_db::set_status(
        &s.app.db,
        flagged.id,
        bank_db::StatusChange {
            status: QuestionStatus::NeedsReview,
            reason: Some("测试"),
            reviewed_by: None,
        },
    )
    .await
    .unwrap();
    let opened = s.open_quiz(&s.chairs).await;
    assert_eq!(opened.attempts_created, 2, "two chairs attended enough");
    assert_eq!(
        opened.below_gate,
        vec![s.chairs[2]],
        "the late chair is below the 60% gate"
    );
    let attempts = quiz_db::attempts_of_quiz(&s.app.db, opened.quiz_id).await.unwrap();
    for a in &attempts {
        let items = quiz_db::items(&s.app.db, a.id).await.unwrap();
        assert_eq!(items.len(), 5);
        assert!(
            items.iter().all(|i| i.question_id != flagged.id),
            "待复核 questions are never drawn"
        );
        let distinct: BTreeSet<i64> = items.iter().map(|i| i.question_id).collect();
        assert_eq!(distinct.len(), 5);
        for i in &items {
            let q = bank_db::question(&s.app.db, i.question_id).await.unwrap().unwrap();
            assert_eq!(i.version_id, q.current.id, "pinned to the version drawn");
        }
    }
    // The draw replays from the stored seed.
    let a = &attempts[0];
    let pools = quiz::pools(&s.app.db).await.unwrap();
    let replay = quorum::domain::quiz::draw(
        &settings(5).blueprint,
        &|t| pools.get(t).cloned().unwrap_or_default(),
        a.seed,
    )
    .unwrap();
    let stored: Vec<(i64, Vec<usize>)> = quiz_db::items(&s.app.db, a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.question_id, i.order))
        .collect();
    assert_eq!(
        replay.into_iter().map(|d| (d.question_id, d.order)).collect::<Vec<_>>(),
        stored
    );

    // The late chair sees why they cannot start.
    let late = as_chair(&s, 2).await;
    let r = late.get(&format!("/quiz/{}", opened.quiz_id)).await;
    assert_eq!(r.status().as_u16(), 403);
    let why = Page::parse(r.text().await.unwrap()).text_of(".notice.error");
    assert!(why.contains("需要听课时间达到 60%") && why.contains("10 分钟"), "{why}");
}

/// The item at `position` of an attempt, with the shown index of the right option(s).
pub(crate) async fn right_choices(
    app: &TestApp,
    attempt: i64,
    position: i32,
) -> (QuestionKind, Vec<usize>, Option<bool>) {
    let item = quiz_db::items(&app.db, attempt)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.position == position)
        .unwrap();
    let v = bank_db::versions(&app.db, &[item.version_id])
        .await
        .unwrap()
        .pop()
        .unwrap();
    match v.content.answer {
        Answer::Truth(t) => (v.content.kind, vec![], Some(t)),
        Answer::Choices(c) => (
            v.content.kind,
            c.iter()
                .map(|orig| item.order.iter().position(|o| o == orig).unwrap())
                .collect(),
            None,
        ),
    }
}

#[tokio::test]
async fn answers_save_with_refusals_and_grading_is_all_or_nothing() {
    let s = setup(QuizSettings {
        pass_mark: 60,
        ..settings(6)
    })
    .await;
    let opened = s.open_quiz(&s.chairs).await;
    let chair = as_chair(&s, 0).await;
    // Her attempt was created when the quiz opened: the link leads straight to it.
    let attempt = id_in(&location(&chair.get(&format!("/quiz/{}", opened.quiz_id)).await));

    // Answer everything right except the multiple-choice question, answered half right.
    for pos in 0..6 {
        let (kind, right, truth) = right_choices(&s.app, attempt, pos).await;
        let body = match (kind, truth) {
            (_, Some(t)) => json!({"position": pos, "truth": t}),
            (QuestionKind::Multiple, _) => json!({"position": pos, "choice": [right[0]]}),
            _ => json!({"position": pos, "choice": right}),
        };
        let r = chair.answer(attempt, body).await;
        assert_eq!(r.status().as_u16(), 200, "position {pos}");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["saved"], true);
    }
    // Refusals, each with a clear message.
    let r = chair.answer(attempt, json!({"position": 17, "choice": [0]})).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains("这道题不在您的答卷中"));
    let mut sp = 0;
    for pos in 0..6 {
        if right_choices(&s.app, attempt, pos).await.0 == QuestionKind::Single {
            sp = pos;
            break;
        }
    }
    let r = chair.answer(attempt, json!({"position": sp, "choice": [9]})).await;
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.text().await.unwrap().contains("所选的选项不属于这道题"));
    let r = chair.answer(attempt, json!({"position": sp, "choice": [0, 1]})).await;
    assert!(r.text().await.unwrap().contains("单选题只能选一个"));

    // Another chair can neither read nor change this attempt.
    let other = as_chair(&s, 1).await;
    assert_eq!(other.get(&format!("/attempts/{attempt}")).await.status().as_u16(), 403);
    let r = other.answer(attempt, json!({"position": 0, "choice": [0]})).await;
    assert_eq!(r.status().as_u16(), 403);

    // Submit twice: harmless. 5 of 6 right → 83% ≥ 60%: passed; the half-right multiple choice is wrong.
    for _ in 0..2 {
        assert_eq!(chair.submit(attempt).await.status().as_u16(), 303);
    }
    let a = quiz_db::attempt(&s.app.db, attempt).await.unwrap().unwrap();
    assert_eq!((a.correct, a.total, a.passed), (Some(5), 6, Some(true)));
    let result = chair.page(&format!("/attempts/{attempt}")).await;
    assert_eq!(
        (result.text_of(".score"), result.text_of(".verdict")),
        ("5 / 6".into(), "合格！".into())
    );
    assert_eq!(result.count("section.review"), 6, "every question reviewed");
    assert_eq!(
        result.count("section.review.wrong"),
        1,
        "only the half-right one is marked wrong"
    );
    let review = result.texts_of("section.review").join("\n");
    assert!(
        review.contains("因为乙。")
            && result
                .texts_of("blockquote.article")
                .iter()
                .any(|t| t.contains("第一款。")),
        "result with explanation and cited text: {result}"
    );
    let r = chair.answer(attempt, json!({"position": 0, "choice": [0]})).await;
    assert!(r.text().await.unwrap().contains("答卷已经提交"));
}

#[tokio::test]
async fn the_server_submits_at_the_deadline_with_what_was_saved() {
    let s = setup(QuizSettings {
        reveal: Reveal::AfterSubmit,
        ..settings(3)
    })
    .await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let attempt = quiz_db::attempts_of_quiz(&s.app.db, opened.quiz_id).await.unwrap()[0].id;
    let chair = as_chair(&s, 0).await;
    let (_, right, truth) = right_choices(&s.app, attempt, 0).await;
    let body = match truth {
        Some(t) => json!({"position": 0, "truth": t}),
        None => json!({"position": 0, "choice": right}),
    };
    assert_eq!(chair.answer(attempt, body).await.status().as_u16(), 200);

    // Time passes beyond the deadline and grace; the chair never comes back.
    crate::history::attempt_deadline_long_past(&s.app, attempt).await;
    let r = chair.answer(attempt, json!({"position": 1, "choice": [0]})).await;
    assert_eq!(r.status().as_u16(), 409);
    // The app's own deadline job (every 5 s) may have recorded the submission already.
    let why = r.text().await.unwrap();
    assert!(why.contains("答题时间已到") || why.contains("答卷已经提交"), "{why}");
    let submitted_now = quiz::submit_due(&s.app.db).await.unwrap();
    assert!(submitted_now <= 1);
    let a = quiz_db::attempt(&s.app.db, attempt).await.unwrap().unwrap();
    assert_eq!((a.submitted_by.as_deref(), a.correct), (Some("deadline"), Some(1)));
    let result = chair.page(&format!("/attempts/{attempt}")).await;
    assert!(
        result.body_text().contains("时间到，系统已按已保存的答案自动交卷"),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_from_the_room_sends_every_connected_chair_to_the_quiz() {
    let s = setup(settings(3)).await;
    let mut chair = s
        .app
        .join_room(s.session, &s.app.session_cookie(s.chairs[0]).await)
        .await;
    let mut moderator = s
        .app
        .join_room(s.session, &s.app.session_cookie(s.official).await)
        .await;

    // The moderator presses 开始随堂测试 (the quiz page's form).
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;
    let open = official
        .page(&format!("/sessions/{}/quiz", s.session))
        .await
        .form_action("开始随堂测试");
    assert_eq!(open, format!("/sessions/{}/quiz/open", s.session));
    let r = official.post_form(&open, &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    let m = chair.expect("quiz", Duration::from_secs(5)).await.unwrap();
    let url = m["url"].as_str().unwrap().to_string();
    let counter = moderator.expect("quiz_counter", Duration::from_secs(5)).await.unwrap();
    assert_eq!(counter["present"], 1);
    let quiz_id = id_in(&url);
    assert_eq!(
        quiz_db::attempts_of_quiz(&s.app.db, quiz_id).await.unwrap().len(),
        1,
        "the connected chair's attempt was created up front"
    );
    let b = as_chair(&s, 0).await;
    assert!(location(&b.get(&url).await).starts_with("/attempts/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_moderator_opens_the_quiz_from_the_room_and_stays_there() {
    let s = setup(settings(3)).await;
    let mut moderator = s
        .app
        .join_room(s.session, &s.app.session_cookie(s.official).await)
        .await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;
    let room = format!("/sessions/{}/room", s.session);
    let page = official.page(&room).await;
    let open = page.form_action("开始随堂测试");
    let close = page.form_action("结束随堂测试");

    // The room's own form comes back to the room, and the counter arrives over the socket.
    let r = official.post_form(&open, &[("back", "room")]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), room);
    moderator.expect("quiz_counter", Duration::from_secs(5)).await.unwrap();

    // A chair arriving late gets the quiz in the room's welcome; the moderator's welcome has none.
    let cookie = s.app.session_cookie(s.chairs[0]).await;
    let mut late = testkit::room_client::Signal::connect(&s.app.ws_url(s.session), &cookie)
        .await
        .unwrap();
    let welcome = late.expect("welcome", Duration::from_secs(5)).await.unwrap();
    let url = welcome["quiz"]
        .as_str()
        .expect("the welcome carries the open quiz")
        .to_string();
    assert!(url.starts_with("/quiz/"), "{url}");
    let cookie = s.app.session_cookie(s.official).await;
    let mut again = testkit::room_client::Signal::connect(&s.app.ws_url(s.session), &cookie)
        .await
        .unwrap();
    let welcome = again.expect("welcome", Duration::from_secs(5)).await.unwrap();
    assert!(welcome.get("quiz").is_none(), "{welcome}");

    // Closing from the room also stays in the room; chairs arriving afterwards get no quiz.
    let r = official.post_form(&close, &[("back", "room")]).await;
    assert_eq!(location(&r), room);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cookie = s.app.session_cookie(s.chairs[1]).await;
    let mut later = testkit::room_client::Signal::connect(&s.app.ws_url(s.session), &cookie)
        .await
        .unwrap();
    let welcome = later.expect("welcome", Duration::from_secs(5)).await.unwrap();
    assert!(welcome.get("quiz").is_none(), "{welcome}");
}

#[tokio::test]
async fn a_chair_who_missed_the_opening_finds_the_quiz_in_the_room() {
    let s = setup(settings(3)).await;
    let chair = as_chair(&s, 0).await;
    let room = format!("/sessions/{}/room", s.session);
    let page = chair.page(&room).await;
    assert!(!page.exists("#quiz-link"), "no link before the quiz opens: {page}");
    let opened = s.open_quiz(&[]).await;
    let page = chair.page(&room).await;
    assert_eq!(
        page.link("随堂测试进行中，点此进入"),
        format!("/quiz/{}", opened.quiz_id)
    );
    s.close_quiz().await;
    let page = chair.page(&room).await;
    assert!(!page.exists("#quiz-link"), "no link once it is closed: {page}");
}

#[tokio::test]
async fn one_question_per_screen_works_without_javascript() {
    let s = setup(settings(3)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let chair = as_chair(&s, 0).await;
    let attempt = quiz_db::attempts_of_quiz(&s.app.db, opened.quiz_id).await.unwrap()[0].id;
    let page = chair.page(&format!("/attempts/{attempt}")).await;
    assert_eq!(page.texts_of(".qnum"), ["第 1 题"], "one question per screen");
    // The question's own form, as the browser submits it without quiz.js.
    let action = page.form_action("保存，下一题");
    let (kind, right, truth) = right_choices(&s.app, attempt, 0).await;
    let (position, next) = (
        page.attr_of("input[name=position]", "value"),
        page.attr_of("input[name=next]", "value"),
    );
    assert_eq!((position.as_str(), next.as_str()), ("0", "1"));
    let mut form = vec![
        ("csrf".to_string(), page.csrf()),
        ("position".into(), position),
        ("next".into(), next),
    ];
    match (kind, truth) {
        (_, Some(t)) => form.push(("truth".into(), t.to_string())),
        _ => form.extend(right.iter().map(|c| ("choice".to_string(), c.to_string()))),
    }
    let r = chair.client.post(chair.url(&action)).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let next = location(&r);
    assert!(next.contains("q=1") && next.contains("saved=0"), "{next}");
    let page = chair.page(&next).await;
    assert_eq!(page.text_of(".notice.ok"), "第 1 题已保存。");
    assert_eq!(page.texts_of(".qnum"), ["第 2 题"]);
    let all = chair.page(&format!("/attempts/{attempt}?layout=all")).await;
    assert_eq!(
        all.texts_of(".qnum"),
        ["第 1 题", "第 2 题", "第 3 题"],
        "all questions on one page"
    );
}

#[tokio::test]
async fn acknowledged_answers_survive_killing_the_server() {
    // Prepare the data through a normal test app, then serve the same database from a real process.
    let s = setup(settings(4)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let attempt = quiz_db::attempts_of_quiz(&s.app.db, opened.quiz_id).await.unwrap()[0].id;
    let url = s.app.database_url.clone();
    let dir = std::env::temp_dir().join(format!("quorum-restart-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let banks = bank_dir();
    let (mut server, base) = start_server(&url, &dir, Some(&banks));
    let browser = TestApp::remote(&base);
    assert_eq!(browser.sign_in("13900000100", PASSWORD).await.status().as_u16(), 303);
    let mut acknowledged = Vec::new();
    for pos in 0..2 {
        let (_, right, truth) = right_choices(&s.app, attempt, pos).await;
        let body = match truth {
            Some(t) => json!({"position": pos, "truth": t}),
            None => json!({"position": pos, "choice": right}),
        };
        let r = browser.answer(attempt, body).await;
        assert_eq!(r.status().as_u16(), 200);
        acknowledged.push(pos);
    }
    // Kill the process outright (SIGKILL: no shutdown, no flushing), then start it again.
    server.kill().unwrap();
    server.wait().unwrap();
    let (mut server, base) = start_server(&url, &dir, Some(&banks));
    let browser = TestApp::remote(&base);
    assert_eq!(browser.sign_in("13900000100", PASSWORD).await.status().as_u16(), 303);
    let page = browser.page(&format!("/attempts/{attempt}?layout=all")).await;
    assert_eq!(page.text_of("#answered"), "2", "{page}");
    let items = quiz_db::items(&s.app.db, attempt).await.unwrap();
    for pos in acknowledged {
        assert!(items[pos as usize].answer.is_some(), "answer {pos} survived");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_javascript_submitting_asks_first_and_names_the_unanswered_questions() {
    let s = setup(settings(3)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let chair = as_chair(&s, 0).await;
    let attempt = quiz_db::attempts_of_quiz(&s.app.db, opened.quiz_id).await.unwrap()[0].id;
    let (_, right, truth) = right_choices(&s.app, attempt, 1).await;
    let body = match truth {
        Some(t) => serde_json::json!({"position": 1, "truth": t}),
        None => serde_json::json!({"position": 1, "choice": right}),
    };
    assert_eq!(chair.answer(attempt, body).await.status().as_u16(), 200);

    // The attempt page's 交卷 form as a browser without quiz.js sends it: not yet confirmed.
    let page = chair.page(&format!("/attempts/{attempt}")).await;
    let action = page.form_action("交卷");
    let r = chair
        .client
        .post(chair.url(&action))
        .form(&[("csrf", page.csrf()), ("confirm", String::new())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "a page that asks, not a submission");
    let ask = Page::parse(r.text().await.unwrap());
    assert!(ask.body_text().contains("还有 2 题没有作答"), "{ask}");
    assert_eq!(ask.texts_of("ul.plain a"), ["第 1 题", "第 3 题"]);
    assert_eq!(ask.link("第 3 题"), format!("/attempts/{attempt}?q=2"));
    let still = chair.page(&format!("/attempts/{attempt}")).await;
    assert!(still.exists("form.submit"), "the attempt is still open: {still}");

    // 确定交卷 on that page submits.
    let r = chair
        .client
        .post(chair.url(&ask.form_action("确定交卷")))
        .form(&[
            ("csrf", ask.csrf()),
            ("confirm", ask.attr_of("input[name=confirm]", "value")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let done = chair.page(&location(&r)).await;
    assert!(!done.exists("form.submit"), "submitted: {done}");
}
