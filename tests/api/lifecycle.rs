//! Hardening of the quiz and session life cycles: a GET never starts an attempt, a pass stays a pass,
//! the grace holds for every attempt, attendance counts open connections, statuses never go backwards,
//! forgotten sessions end, and numbers and dates are bounded.

use chrono::{DateTime, Duration, Utc};
use quorum::db::{quiz as quiz_db, sessions as sessions_db};
use quorum::domain::person::Role;
use quorum::domain::quiz::QuizSettings;
use quorum::domain::session::{Schedule, SessionStatus};
use quorum::services::access::StreetScope;
use quorum::services::sessions::{Invitees, SessionInput};
use quorum::services::{quiz, reports, sessions};
use serde_json::json;

use crate::helpers::{
    Page, SessionForm, TestApp, future_day, location, make_person, make_street, signed_in_as, spawn_app,
};
use crate::history;
use crate::quiz::{Setup, as_chair, right_choices, settings, setup};

/// Replaces chair `i`'s attendance with one connection from `from`, last heard of at `seen`, and closed
/// then if `left`.
async fn one_connection(s: &Setup, i: usize, from: DateTime<Utc>, seen: DateTime<Utc>, left: bool) {
    let chair = s.chairs[i];
    history::attendance_forgotten(&s.app, chair).await;
    let id = sessions_db::open_interval(&s.app.db, s.session, chair, from)
        .await
        .unwrap();
    if left {
        sessions_db::close_interval(&s.app.db, id, seen).await.unwrap();
    } else {
        sessions_db::touch_interval(&s.app.db, id, seen).await.unwrap();
    }
}

/// The quiz's closing time, which is also the attempt's deadline, passed `seconds` ago.
async fn closing_passed(s: &Setup, quiz_id: i64, attempt: i64, seconds: i64) {
    let past = Utc::now() - Duration::seconds(seconds);
    history::quiz_closes(&s.app, quiz_id, past).await;
    history::attempt_deadline(&s.app, attempt, past).await;
}

async fn answer_all_right(s: &Setup, chair: &TestApp, attempt: i64) {
    let n = quiz_db::items(&s.app.db, attempt).await.unwrap().len() as i32;
    for position in 0..n {
        let (_, right, truth) = right_choices(&s.app, attempt, position).await;
        let body = match truth {
            Some(t) => json!({"position": position, "truth": t}),
            None => json!({"position": position, "choice": right}),
        };
        assert_eq!(chair.answer(attempt, body).await.status().as_u16(), 200);
    }
}

/// An answer that fits question `position` (one option, or a truth value).
async fn some_answer(s: &Setup, attempt: i64, position: i32) -> serde_json::Value {
    match right_choices(&s.app, attempt, position).await {
        (_, _, Some(t)) => json!({"position": position, "truth": t}),
        (_, right, None) => json!({"position": position, "choice": right}),
    }
}

async fn attempts_of(s: &Setup, quiz_id: i64, chair: usize) -> Vec<quiz_db::AttemptRecord> {
    quiz_db::attempts_of(&s.app.db, quiz_id, s.chairs[chair]).await.unwrap()
}

#[tokio::test]
async fn opening_the_quiz_link_never_starts_an_attempt_and_a_pass_stays_a_pass() {
    let s = setup(QuizSettings {
        attempts_allowed: 2,
        ..settings(3)
    })
    .await;
    // Nobody was in the room when it opened: no attempt exists yet.
    let opened = s.open_quiz(&[]).await;
    let chair = as_chair(&s, 0).await;
    let link = format!("/quiz/{}", opened.quiz_id);

    let r = chair.get(&link).await;
    assert_eq!(r.status().as_u16(), 200);
    let page = Page::parse(r.text().await.unwrap());
    assert_eq!(page.form_action("开始答题"), format!("{link}/start"));
    assert!(page.body_text().contains("限时 15 分钟"), "{page}");
    let _ = chair.get(&link).await;
    assert!(
        attempts_of(&s, opened.quiz_id, 0).await.is_empty(),
        "a GET started an attempt"
    );

    let r = chair.start_quiz(opened.quiz_id).await;
    assert_eq!(r.status().as_u16(), 303);
    let attempt = attempts_of(&s, opened.quiz_id, 0).await[0].id;
    assert_eq!(location(&r), format!("/attempts/{attempt}"));
    answer_all_right(&s, &chair, attempt).await;
    assert_eq!(chair.submit(attempt).await.status().as_u16(), 303);

    // Opening the link again (the room's push, a reload, the chat group) shows her result.
    let page = chair.page(&link).await;
    assert!(page.text_of(".notice").contains("您已通过"), "{page}");
    assert_eq!(page.link("查看我的成绩"), format!("/attempts/{attempt}"));
    assert!(!page.contains("开始答题"), "{page}");
    let _ = chair.start_quiz(opened.quiz_id).await;
    let mine = attempts_of(&s, opened.quiz_id, 0).await;
    assert_eq!(mine.len(), 1, "no attempt after a pass");

    let report = reports::session_report(&s.app.db, &StreetScope::All, s.official, s.session)
        .await
        .unwrap();
    let line = report.lines.iter().find(|l| l.person_id == s.chairs[0]).unwrap();
    assert!(line.attempt.is_some_and(|a| a.passed()));
    assert_eq!(report.figures.passed, 1);
}

#[tokio::test]
async fn the_grace_holds_in_a_single_attempt_quiz() {
    let s = setup(settings(3)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let attempt = attempts_of(&s, opened.quiz_id, 0).await[0].id;
    let chair = as_chair(&s, 0).await;

    // The deadline (which is the quiz's closing time) passed 3 s ago; the deadline job runs.
    closing_passed(&s, opened.quiz_id, attempt, 3).await;
    quiz::submit_due(&s.app.db).await.unwrap();
    let r = chair.answer(attempt, some_answer(&s, attempt, 0).await).await;
    assert_eq!(
        r.status().as_u16(),
        200,
        "an answer 3 s late is inside the announced grace"
    );

    // Past the grace, the server submits, and says so on the result page.
    closing_passed(&s, opened.quiz_id, attempt, 11).await;
    quiz::submit_due(&s.app.db).await.unwrap();
    let a = quiz_db::attempt(&s.app.db, attempt).await.unwrap().unwrap();
    assert_eq!(a.status, quiz_db::AttemptStatus::Submitted);
    let q = quiz_db::get(&s.app.db, opened.quiz_id).await.unwrap().unwrap();
    assert_eq!(q.status, quiz_db::QuizStatus::Closed);
    let page = chair.page(&format!("/attempts/{attempt}")).await;
    assert!(page.body_text().contains("系统已按已保存的答案自动交卷"), "{page}");
}

#[tokio::test]
async fn closing_the_quiz_keeps_the_grace_and_the_note() {
    let s = setup(settings(3)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let attempt = attempts_of(&s, opened.quiz_id, 0).await[0].id;
    let chair = as_chair(&s, 0).await;
    let before = Utc::now();
    s.close_quiz().await;
    let a = quiz_db::attempt(&s.app.db, attempt).await.unwrap().unwrap();
    assert_eq!(a.status, quiz_db::AttemptStatus::Open, "not submitted inside the grace");
    assert!(
        a.deadline >= before && a.deadline <= Utc::now(),
        "the attempt ends at the closing"
    );
    // An answer sent just before the closing arrives a moment after it (3 s here, well inside the
    // grace even on a loaded machine).
    history::attempt_deadline(&s.app, attempt, Utc::now() - Duration::seconds(3)).await;
    let r = chair.answer(attempt, some_answer(&s, attempt, 0).await).await;
    assert_eq!(
        r.status().as_u16(),
        200,
        "an answer in flight when the moderator closes is taken"
    );
    history::attempt_deadline(&s.app, attempt, Utc::now() - Duration::seconds(11)).await;
    quiz::submit_due(&s.app.db).await.unwrap();
    let page = chair.page(&format!("/attempts/{attempt}")).await;
    assert!(page.body_text().contains("系统已按已保存的答案自动交卷"), "{page}");
}

#[tokio::test]
async fn an_open_connection_counts_up_to_now_at_the_gate() {
    let s = setup(settings(3)).await;
    // A 50-second lecture; chair 0 has been connected all along, last recorded 25 s ago (the room
    // writes a heartbeat at most every 30 s).
    let now = Utc::now();
    history::lecture_started(&s.app, s.session, now - Duration::seconds(50)).await;
    one_connection(&s, 0, now - Duration::seconds(50), now - Duration::seconds(25), false).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    assert_eq!(
        (opened.attempts_created, opened.below_gate.clone()),
        (1, vec![]),
        "present all along"
    );
}

#[tokio::test]
async fn the_report_reads_attendance_as_the_gate_did() {
    let s = setup(settings(3)).await;
    // The quiz opened 30 minutes ago, after a 30-minute lecture that chairs 0 and 1 attended in full.
    // Chair 0 took the quiz for 5 minutes and left the room with it submitted; chair 1 left the room at
    // the opening without taking it. The quiz is still open for the others.
    let now = Utc::now();
    let opened = s.open_quiz(&s.chairs[..1]).await;
    history::lecture_started(&s.app, s.session, now - Duration::minutes(60)).await;
    history::quiz_opened(&s.app, opened.quiz_id, now - Duration::minutes(30)).await;
    let attempt = quiz_db::attempts_of_quiz(&s.app.db, opened.quiz_id).await.unwrap()[0].id;
    history::attempt_taken(
        &s.app,
        attempt,
        now - Duration::minutes(30),
        now - Duration::minutes(25),
    )
    .await;
    for chair in [0, 1] {
        one_connection(
            &s,
            chair,
            now - Duration::minutes(61),
            now - Duration::minutes(30),
            true,
        )
        .await;
    }
    let report = reports::session_report(&s.app.db, &StreetScope::All, s.official, s.session)
        .await
        .unwrap();
    let line = |i: usize| report.lines.iter().find(|l| l.person_id == s.chairs[i]).unwrap();
    // Done with the quiz, she is done: leaving the room afterwards costs her nothing.
    assert!(line(0).met_gate && line(0).share > 0.99, "share {}", line(0).share);
    assert_eq!(line(0).minutes, 60);
    // The quiz runs inside the room and attendance goes on while it is open: leaving costs the other.
    assert!((line(1).share - 0.5).abs() < 0.01, "share {}", line(1).share);
    assert_eq!(line(1).minutes, 30);
}

/// A scheduled session of a street, with its official signed in on the app's client.
async fn scheduled(app: &TestApp) -> i64 {
    let place = make_street(app, "花木街道").await;
    let official = signed_in_as(app, "13800000003", &[Role::Official], &[place.street], None).await;
    let lawyer = make_person(app, "13800000007", &[Role::Lawyer], &[], None).await;
    let day = future_day();
    let input = SessionInput {
        schedule: Schedule::parse("物业管理条例", "", &format!("{day}T14:00"), &format!("{day}T15:00")).unwrap(),
        street: place.street,
        lecturers: vec![lawyer],
        moderators: vec![],
        invitees: Invitees::WholeStreet,
    };
    sessions::create(
        &app.db,
        &StreetScope::All,
        &quorum::services::audit::Actor {
            person_id: Some(official),
            address: String::new(),
        },
        &input,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn session_status_never_goes_backwards_without_a_room() {
    let app = spawn_app().await;
    let id = scheduled(&app).await;
    let status = || async { sessions_db::get(&app.db, id).await.unwrap().unwrap() };

    let r = app.end_session(id).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("培训尚未开始，不能结束"));
    assert_eq!(status().await.status, SessionStatus::Scheduled);

    assert_eq!(app.start_session(id).await.status().as_u16(), 303);
    let started = status().await.started_at;
    assert_eq!(status().await.status, SessionStatus::Live);
    let r = app.post_form(&format!("/sessions/{id}/cancel"), &[]).await;
    assert_eq!(r.status().as_u16(), 400, "a live session is ended, not cancelled");
    // 结束培训 pressed without JavaScript asks first and ends nothing yet.
    let r = app.post_form(&format!("/sessions/{id}/end"), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let ask = crate::helpers::Page::parse(r.text().await.unwrap());
    assert_eq!(ask.form_action("确定结束培训"), format!("/sessions/{id}/end"));
    assert_eq!(ask.attr_of("input[name=confirm]", "value"), "yes");
    assert_eq!(status().await.status, SessionStatus::Live);
    assert_eq!(app.end_session(id).await.status().as_u16(), 303);
    assert_eq!(status().await.status, SessionStatus::Ended);

    let r = app.start_session(id).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("本场培训已经结束"));
    let s = status().await;
    assert_eq!(
        (s.status, s.started_at),
        (SessionStatus::Ended, started),
        "restart refused"
    );
}

#[tokio::test]
async fn a_forgotten_session_ends_by_itself_at_its_last_sign_of_life() {
    let app = spawn_app().await;
    let id = scheduled(&app).await;
    let now = Utc::now();
    let t = |h: f64| now - Duration::minutes((h * 60.0) as i64);
    history::scheduled(&app, id, t(5.0), t(3.0)).await;
    assert!(
        sessions_db::set_status(&app.db, id, SessionStatus::Live, t(5.0))
            .await
            .unwrap()
    );
    // Someone stayed on half an hour past the scheduled end.
    let person = make_person(&app, "13900000100", &[Role::Chair], &[], None).await;
    let iv = sessions_db::open_interval(&app.db, id, person, t(4.0)).await.unwrap();
    sessions_db::close_interval(&app.db, iv, t(2.5)).await.unwrap();

    assert_eq!(
        sessions::end_forgotten(&app.db, &sessions::NoRoom::default())
            .await
            .unwrap(),
        vec![id]
    );
    let s = sessions_db::get(&app.db, id).await.unwrap().unwrap();
    assert_eq!(s.status, SessionStatus::Ended);
    assert_eq!(s.ended_at.map(|e| e.timestamp()), Some(t(2.5).timestamp()));
    assert!(
        sessions::end_forgotten(&app.db, &sessions::NoRoom::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_session_still_within_its_allowance_keeps_running() {
    let app = spawn_app().await;
    let id = scheduled(&app).await;
    let now = Utc::now();
    history::scheduled(&app, id, now - Duration::hours(2), now - Duration::minutes(30)).await;
    sessions_db::set_status(&app.db, id, SessionStatus::Live, now - Duration::hours(2))
        .await
        .unwrap();
    assert!(
        sessions::end_forgotten(&app.db, &sessions::NoRoom::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn quiz_numbers_and_session_dates_are_bounded() {
    let app = spawn_app().await;
    let id = scheduled(&app).await;
    for wait in ["-1", "99999999999", "4294967295", "1441", "两小时"] {
        let r = app
            .post_form(
                &format!("/sessions/{id}/quiz"),
                &[
                    ("pass_mark", "60"),
                    ("time_limit_minutes", "15"),
                    ("attempts_allowed", "5"),
                    ("retake_wait_minutes", wait),
                    ("attendance_gate", "60"),
                    ("reveal", "after_submit"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), 422, "retake wait {wait}");
        let page = Page::parse(r.text().await.unwrap());
        let error = page.field_error("retake_wait_minutes").unwrap_or_default();
        assert!(error.contains("等待应在0到1440分钟之间"), "retake wait {wait}: {page}");
    }

    let street = sessions_db::get(&app.db, id).await.unwrap().unwrap().street_id;
    let lawyer = make_person(&app, "13800000008", &[Role::Lawyer], &[], None).await;
    let fmt = |t: DateTime<Utc>| (t + Duration::hours(8)).format("%Y-%m-%dT%H:%M").to_string();
    for (starts, field, why) in [
        (Utc::now() - Duration::days(1), "starts_at", "开始时间已经过去了"),
        (Utc::now() + Duration::days(3 * 365), "starts_at", "两年以内"),
        (Utc::now() + Duration::days(1), "ends_at", "最长12小时"),
    ] {
        let ends = if why.contains("12") {
            starts + Duration::hours(13)
        } else {
            starts + Duration::hours(1)
        };
        let r = app
            .schedule_session(&SessionForm {
                title: "日期检查",
                starts_at: fmt(starts),
                ends_at: fmt(ends),
                street,
                lecturers: vec![lawyer],
            })
            .await;
        assert_eq!(r.status().as_u16(), 422, "{why}");
        let page = Page::parse(r.text().await.unwrap());
        let error = page.field_error(field).unwrap_or_default();
        assert!(error.contains(why), "{why} under {field}: {page}");
    }
}

#[tokio::test]
async fn a_chair_who_failed_may_start_again_and_finds_her_last_result() {
    let s = setup(QuizSettings {
        attempts_allowed: 2,
        ..settings(3)
    })
    .await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let first = attempts_of(&s, opened.quiz_id, 0).await[0].id;
    let chair = as_chair(&s, 0).await;
    // Submits with nothing answered: 0 right, not passed.
    chair.submit(first).await;
    let page = chair.page(&format!("/quiz/{}", opened.quiz_id)).await;
    assert!(page.body_text().contains("这是第 2 次答题"), "{page}");
    assert_eq!(page.form_action("开始答题"), format!("/quiz/{}/start", opened.quiz_id));
    assert_eq!(
        page.link("查看上次成绩"),
        format!("/attempts/{first}"),
        "her last result is one tap away"
    );
    assert_eq!(attempts_of(&s, opened.quiz_id, 0).await.len(), 1);
}

#[tokio::test]
async fn reading_an_attempt_changes_nothing_and_an_overdue_one_reads_as_finished() {
    let s = setup(settings(3)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let attempt = attempts_of(&s, opened.quiz_id, 0).await[0].id;
    let chair = as_chair(&s, 0).await;
    let read = || async { quiz_db::attempt(&s.app.db, attempt).await.unwrap().unwrap() };

    let page = chair.get_text(&format!("/attempts/{attempt}")).await;
    assert!(page.contains("第 1 题"), "{page}");
    assert_eq!(read().await.started_at, None, "looking at an attempt does not start it");
    let r = chair.answer(attempt, some_answer(&s, attempt, 0).await).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(read().await.started_at.is_some(), "the first answer does");

    // Past the deadline and its grace the page shows the result at once; the job records it.
    closing_passed(&s, opened.quiz_id, attempt, 11).await;
    let page = chair.get_text(&format!("/attempts/{attempt}")).await;
    assert!(page.contains("时间到，系统已按已保存的答案自动交卷"), "{page}");
    assert_eq!(read().await.status, quiz_db::AttemptStatus::Open, "a GET submitted it");
    assert_eq!(quiz::submit_due(&s.app.db).await.unwrap(), 1);
    let a = read().await;
    assert_eq!(
        (a.status, a.submitted_by.as_deref()),
        (quiz_db::AttemptStatus::Submitted, Some("deadline"))
    );
}
