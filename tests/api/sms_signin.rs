//! Signing in with an SMS code: the way an imported chair, who has no password, gets in.

use std::path::PathBuf;
use std::time::Duration;

use quorum::domain::person::{Role, Roles};
use quorum::services::accounts::sms_signin;
use quorum::services::people::{self, AccountInput};
use quorum::sms::SmsSender;
use sea_orm::ConnectionTrait;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const CHAIR: &str = "13900000101";

/// A chair as a roster import leaves her: no password.
async fn imported_chair(app: &TestApp, phone: &str) -> i64 {
    let input = AccountInput::parse("王秀英", phone, "", &["chair".to_string()], &[], None, "").unwrap();
    let input = AccountInput {
        roles: Roles::new([Role::Chair]),
        ..input
    };
    people::create(&app.db, &input, None).await.unwrap()
}

async fn ask_for_code(app: &TestApp, phone: &str, next: &str) -> reqwest::Response {
    app.post_form("/signin/code/send", &[("phone", phone), ("next", next)])
        .await
}

async fn enter_code(app: &TestApp, phone: &str, code: &str, next: &str) -> reqwest::Response {
    app.post_form("/signin/code", &[("phone", phone), ("code", code), ("next", next)])
        .await
}

/// The texts in the app's `var/sms` folder, waiting up to a few seconds for the worker.
async fn texts(app: &TestApp, at_least: usize) -> Vec<(String, String)> {
    let dir = app.var_dir().join("sms");
    for _ in 0..50 {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        // Named by outbox id: in the order they were sent.
        files.sort();
        let found: Vec<(String, String)> = files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "txt"))
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                let (phone, body) = text.split_once('\n').unwrap();
                (phone.to_string(), body.trim().to_string())
            })
            .collect();
        if found.len() >= at_least {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {at_least} text messages in {}", dir.display());
}

fn code_in(body: &str) -> String {
    let digits: String = body.chars().filter(|c| c.is_ascii_digit()).collect();
    digits[..6].to_string()
}

/// Moves every code's issue time back, as if `secs` had passed.
async fn age_codes(app: &TestApp, secs: i64) {
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id, issued_at FROM sms_codes".to_string(),
        ))
        .await
        .unwrap();
    for r in rows {
        let id: i64 = r.try_get("", "id").unwrap();
        let at: chrono::DateTime<chrono::Utc> = r.try_get("", "issued_at").unwrap();
        let earlier = at - chrono::Duration::seconds(secs);
        app.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                app.db.get_database_backend(),
                "UPDATE sms_codes SET issued_at = $1 WHERE id = $2",
                [earlier.into(), id.into()],
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_chair_without_a_password_signs_in_with_the_code_from_the_text() {
    let app = spawn_app().await;
    imported_chair(&app, CHAIR).await;
    let r = ask_for_code(&app, CHAIR, "/account").await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("139****0101"),
        "the page names the (masked) number the code went to"
    );
    assert!(
        page.contains("one-time-code"),
        "the code field lets the phone fill it in"
    );

    let sent = texts(&app, 1).await;
    assert_eq!(sent[0].0, CHAIR, "the number is the file's first line");
    assert!(sent[0].1.starts_with("【业委会学堂】"), "{}", sent[0].1);
    let code = code_in(&sent[0].1);

    let r = enter_code(&app, CHAIR, &code, "/account").await;
    // She reads and accepts the notice, then goes where she was going.
    crate::helpers::accept_notice_then(&app, &r, "/account").await;
    let home = app.get_text("/").await;
    assert!(home.contains("退出"), "signed in");

    // The code is spent, and the stored text no longer holds it.
    app.sign_out().await;
    let r = enter_code(&app, CHAIR, &code, "/").await;
    assert_eq!(r.status().as_u16(), 422);
    let body: String = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT body FROM sms_outbox".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "body")
        .unwrap();
    assert!(!body.contains(&code), "a sent text keeps no code: {body}");
}

#[tokio::test]
async fn an_unknown_number_gets_the_same_answer_and_no_text() {
    let app = spawn_app().await;
    imported_chair(&app, CHAIR).await;
    let known = ask_for_code(&app, CHAIR, "/").await;
    let unknown = ask_for_code(&app, "13900000999", "/").await;
    assert_eq!(known.status(), unknown.status());
    let (known, unknown) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    let strip = |s: &str| {
        s.replace("139****0101", "N")
            .replace("139****0999", "N")
            .replace(CHAIR, "P")
            .replace("13900000999", "P")
    };
    let (known, unknown) = (strip(&known), strip(&unknown));
    // Only the CSRF tokens differ.
    let cut = |s: &str| {
        s.split("name=\"csrf\"")
            .map(|p| p.split_once('>').map_or(p, |x| x.1).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cut(&known),
        cut(&unknown),
        "the pages must not tell known from unknown numbers"
    );
    assert!(
        unknown.contains("街道办事处"),
        "the page tells her whom to ask if no text comes"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let sent = texts(&app, 1).await;
    assert_eq!(sent.len(), 1, "nothing is sent to an unknown number");
    // And a guessed code for the unknown number is just wrong.
    let r = enter_code(&app, "13900000999", "123456", "/").await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("验证码不对"));
}

#[tokio::test]
async fn wrong_codes_count_down_and_five_use_up_the_code() {
    let app = spawn_app().await;
    imported_chair(&app, CHAIR).await;
    ask_for_code(&app, CHAIR, "/").await;
    let code = code_in(&texts(&app, 1).await[0].1);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        let r = enter_code(&app, CHAIR, wrong, "/").await;
        assert_eq!(r.status().as_u16(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains(&format!("还可以再试 {left} 次")), "{left} tries left");
        assert!(
            page.contains("aria-describedby"),
            "the message sits beside the code field"
        );
    }
    let r = enter_code(&app, CHAIR, wrong, "/").await;
    assert!(r.text().await.unwrap().contains("次数太多"));
    // Even the right code no longer works: she must ask for a new one.
    let r = enter_code(&app, CHAIR, &code, "/").await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("重新获取"));
    // Not digits at all: said so, not counted as a try.
    let r = enter_code(&app, CHAIR, "12a", "/").await;
    assert!(r.text().await.unwrap().contains("6 位数字"));
}

#[tokio::test]
async fn a_code_expires_after_five_minutes() {
    let app = spawn_app().await;
    imported_chair(&app, CHAIR).await;
    ask_for_code(&app, CHAIR, "/").await;
    let code = code_in(&texts(&app, 1).await[0].1);
    age_codes(&app, 301).await;
    let r = enter_code(&app, CHAIR, &code, "/").await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("已过期"));
}

#[tokio::test]
async fn asking_again_waits_a_minute_for_every_number_and_then_replaces_the_code() {
    let app = spawn_app().await;
    imported_chair(&app, CHAIR).await;
    for phone in [CHAIR, "13900000999"] {
        assert_eq!(ask_for_code(&app, phone, "/").await.status().as_u16(), 200);
        let r = ask_for_code(&app, phone, "/").await;
        assert_eq!(r.status().as_u16(), 429, "known and unknown numbers wait alike");
        let page = r.text().await.unwrap();
        assert!(page.contains("秒后再获取"), "the wait is stated");
        assert!(page.contains("name=\"code\""), "she can still type the code she has");
    }
    let first = code_in(&texts(&app, 1).await[0].1);
    age_codes(&app, 61).await;
    assert_eq!(ask_for_code(&app, CHAIR, "/").await.status().as_u16(), 200);
    let sent = texts(&app, 2).await;
    let second = code_in(&sent[1].1);
    if first != second {
        let r = enter_code(&app, CHAIR, &first, "/").await;
        assert_eq!(r.status().as_u16(), 422, "only the newest code counts");
    }
    assert_eq!(enter_code(&app, CHAIR, &second, "/").await.status().as_u16(), 303);
}

#[tokio::test]
async fn a_number_that_is_not_a_mobile_number_is_refused_beside_the_field() {
    let app = spawn_app().await;
    let r = ask_for_code(&app, "12345", "/").await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("11 位手机号"));
    assert!(page.contains("name=\"phone\""));
}

/// A gateway that answers every request with `status`, counting them.
async fn fake_gateway(status: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = vec![0u8; 8192];
            let _ = s.read(&mut buf).await;
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    (url, hits)
}

async fn outbox_row(app: &TestApp) -> (String, i32, Option<String>) {
    let r = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT status, attempts, last_error FROM sms_outbox ORDER BY id DESC".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    (
        r.try_get("", "status").unwrap(),
        r.try_get("", "attempts").unwrap(),
        r.try_get("", "last_error").unwrap(),
    )
}

#[tokio::test]
async fn a_gateway_that_is_down_is_retried_and_the_chair_can_ask_again() {
    let app = spawn_app_with(|s| s.sms.worker = false).await;
    imported_chair(&app, CHAIR).await;
    ask_for_code(&app, CHAIR, "/").await;

    // Nothing listens here: the send fails and stays queued for a retry.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/send", l.local_addr().unwrap())
    };
    let down = SmsSender::Gateway {
        url: closed,
        token: None,
    };
    assert_eq!(sms_signin::send_due(&app.db, &down, 10).await.unwrap(), 0);
    let (status, attempts, error) = outbox_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("unreachable"));

    // The gateway is back; the retry goes through once due.
    let (url, hits) = fake_gateway(200).await;
    let up = SmsSender::Gateway {
        url,
        token: Some("t0ken".to_string().into()),
    };
    assert_eq!(sms_signin::send_due(&app.db, &up, 10).await.unwrap(), 0, "not due yet");
    app.db
        .execute_unprepared("UPDATE sms_outbox SET next_attempt_at = created_at")
        .await
        .unwrap();
    assert_eq!(sms_signin::send_due(&app.db, &up, 10).await.unwrap(), 1);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(outbox_row(&app).await.0, "sent");

    // A gateway that refuses the message: given up at once, recorded; she may ask again a minute later.
    age_codes(&app, 61).await;
    ask_for_code(&app, CHAIR, "/").await;
    let (url, _) = fake_gateway(400).await;
    let refusing = SmsSender::Gateway { url, token: None };
    sms_signin::send_due(&app.db, &refusing, 10).await.unwrap();
    let (status, _, error) = outbox_row(&app).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("400"));
    age_codes(&app, 61).await;
    assert_eq!(ask_for_code(&app, CHAIR, "/").await.status().as_u16(), 200);
}

/// The group link pasted in WeChat: a chair who has never had a password signs in right on its page
/// with the code from the text, and is in that session's room.
#[tokio::test]
async fn the_group_link_signs_a_passwordless_chair_in_and_into_the_room() {
    let app = spawn_app().await;
    use crate::helpers::location;
    let (place, session) = crate::invitations::official_schedules_a_session(&app).await;
    let detail = app.page(&format!("/sessions/{session}")).await;
    let invite = detail.text_of("p.url code");
    let link = format!("/s/{}", invite.rsplit_once("/s/").unwrap().1);

    let chair = app.other_browser();
    let input = AccountInput::parse(
        "王秀英",
        CHAIR,
        "",
        &["chair".to_string()],
        &[],
        Some(place.committee),
        "",
    )
    .unwrap();
    people::create(&chair.db, &input, None).await.unwrap();
    let page = chair.page(&link).await;
    let text = page.body_text();
    assert!(
        text.contains("业委会职责与监督") && text.contains("花木街道") && text.contains("14:00"),
        "{page}"
    );
    assert!(text.contains("测试用户"), "the lecturer: {page}");
    assert!(
        page.exists("form[action='/signin/code/send'] input[name=phone]"),
        "{page}"
    );

    let room = format!("/sessions/{session}/room");
    let r = ask_for_code(&chair, CHAIR, &room).await;
    assert_eq!(r.status().as_u16(), 200);
    let code = code_in(&texts(&app, 1).await[0].1);
    let r = enter_code(&chair, CHAIR, &code, &room).await;
    crate::helpers::accept_notice_then(&chair, &r, &room).await;
    let page = chair.page(&room).await;
    assert_eq!(page.text_of("#lobby h2"), "候场室", "{page}");
    // Signed in, the link goes straight to the room.
    assert_eq!(location(&chair.get(&link).await), room);
    // A wrong token: a page saying so, not a crash.
    assert_eq!(chair.get_status("/s/not-a-token").await, 404);
}
