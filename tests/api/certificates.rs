//! Certificates: issued on passing, the PDF, email through the outbox over real SMTP, verification.

use std::sync::atomic::Ordering;

use quorum::db::certificates as cert_db;
use quorum::db::quiz as quiz_db;
use quorum::domain::contact::EmailAddress;
use quorum::domain::person::DisplayName;
use quorum::domain::question::QuestionKind;
use quorum::domain::quiz::Given;
use quorum::services::certificates::{self, Outbox};
use quorum::services::quiz;

use crate::quiz::{Setup, as_chair, right_choices, settings, setup};
use crate::smtp;

pub(crate) fn outbox(port: u16, worker: &str) -> Outbox {
    let dir = std::env::temp_dir().join(format!("quorum-mail-{}", uuid::Uuid::new_v4().simple()));
    let mut s = testkit::settings("sqlite::memory:", dir.clone());
    s.email.smtp_host = Some("127.0.0.1".into());
    s.email.smtp_port = port;
    s.email.smtp_security = quorum::config::SmtpSecurity::None;
    Outbox {
        mailer: quorum::email::Mailer::from_settings(&s.email, &dir).unwrap(),
        public_url: "http://quorum.test".into(),
        message_id_domain: "quorum.test".into(),
        worker: worker.into(),
    }
}

pub(crate) async fn set_contact(s: &Setup, i: usize, name: &str, email: Option<&str>) {
    let p = quorum::db::people::get(&s.app.db, s.chairs[i]).await.unwrap().unwrap();
    let email = email.map(|e| EmailAddress::parse(e).unwrap());
    let update = quorum::db::people::PersonUpdate {
        name: &DisplayName::parse(name).unwrap(),
        email: email.as_ref(),
        committee_id: p.committee_id,
        position: None,
    };
    quorum::db::people::update(&s.app.db, p.id, update).await.unwrap();
}

pub(crate) async fn take_public(s: &Setup, quiz_id: i64, chair: i64, right: bool) -> i64 {
    take(s, quiz_id, chair, right).await
}

/// Answers the chair's attempt (all right, or all wrong) and submits it; returns the attempt id.
async fn take(s: &Setup, quiz_id: i64, chair: i64, right: bool) -> i64 {
    let a = quiz_db::attempts_of(&s.app.db, quiz_id, chair).await.unwrap()[0].id;
    answer_and_submit(s, a, right).await
}

/// Answers every question of an attempt, all right or all wrong, and hands it in.
pub(crate) async fn answer_and_submit(s: &Setup, a: i64, right: bool) -> i64 {
    let n = quiz_db::items(&s.app.db, a).await.unwrap().len() as i32;
    for pos in 0..n {
        let (kind, choices, truth) = right_choices(&s.app, a, pos).await;
        let item = &quiz_db::items(&s.app.db, a).await.unwrap()[pos as usize];
        let to_orig = |shown: &Vec<usize>| shown.iter().map(|x| item.order[*x]).collect();
        let given = match (kind, truth) {
            (_, Some(t)) => Given::Truth(if right { t } else { !t }),
            _ if right => Given::Choices(to_orig(&choices)),
            (QuestionKind::Multiple, _) => Given::Choices([item.order[choices[0]]].into()),
            _ => Given::Choices([item.order[(choices[0] + 1) % item.order.len()]].into()),
        };
        let now = chrono::Utc::now();
        assert!(quiz_db::save_answer(&s.app.db, a, pos, &given, now, now).await.unwrap());
    }
    quiz::submit_attempt(&s.app.db, a, quorum::domain::attempt::SubmittedBy::Chair)
        .await
        .unwrap();
    a
}

async fn passed_and_failed() -> (Setup, i64) {
    let s = setup(settings(4)).await;
    set_contact(&s, 0, "王秀英", Some("wang@example.com")).await;
    set_contact(&s, 1, "李建华", Some("li@example.com")).await;
    let opened = s.open_quiz(&s.chairs[..2]).await;
    take(&s, opened.quiz_id, s.chairs[0], true).await;
    take(&s, opened.quiz_id, s.chairs[1], false).await;
    (s, opened.quiz_id)
}

#[tokio::test]
async fn a_pass_sends_one_message_with_the_pdf_and_a_fail_sends_nothing() {
    let (s, _) = passed_and_failed().await;
    let server = smtp::start(0);
    let ob = outbox(server.port, "w1");
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 1);
    assert_eq!(
        certificates::send_due(&s.app.db, &ob, 50).await.unwrap(),
        0,
        "nothing left to send"
    );
    let messages = server.inbox.messages();
    assert_eq!(messages.len(), 1, "only the chair who passed gets mail");
    let m = &messages[0];
    assert!(m.contains("To: =?utf-8?b?") || m.contains("wang@example.com"), "{m}");
    assert!(m.contains("Message-ID: <cert-"), "a stable Message-ID");
    let pdf = smtp::pdf_attachment(m);
    assert!(pdf.starts_with(b"%PDF"));
    assert!(pdf.len() < 200_000, "subset font keeps it small: {}", pdf.len());
    let text = smtp::pdf_text(&pdf);
    assert!(
        text.contains("王秀英") && text.contains("结") && text.contains("换届改选实务"),
        "extracted text: {text}"
    );
    // The failed chair has no certificate at all.
    assert!(cert_db::for_person(&s.app.db, s.chairs[1]).await.unwrap().is_empty());
    let mine = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap();
    assert_eq!(mine.len(), 1);
    // The chair downloads it from the site, and sees it on the home page.
    let chair = as_chair(&s, 0).await;
    let home = chair.page("/").await;
    assert!(home.body_text().contains(&mine[0].serial));
    assert!(
        home.exists(&format!("a[href='/certificates/{}.png']", mine[0].id)),
        "{home}"
    );
    assert!(home.exists(&format!("a[href='/verify/{}']", mine[0].code)), "{home}");
    let r = chair.get(&format!("/certificates/{}.pdf", mine[0].id)).await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(smtp::pdf_text(&r.bytes().await.unwrap()).contains("王秀英"));
    // Another chair may not download it.
    let other = as_chair(&s, 1).await;
    assert_eq!(
        other.get_status(&format!("/certificates/{}.pdf", mine[0].id)).await,
        403
    );
    // The same certificate as a picture, which WeChat on Android shows; the same permission.
    let r = chair.get(&format!("/certificates/{}.png", mine[0].id)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(
        r.bytes()
            .await
            .unwrap()
            .starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a])
    );
    assert_eq!(
        other.get_status(&format!("/certificates/{}.png", mine[0].id)).await,
        403
    );
}

#[tokio::test]
async fn with_the_server_down_the_job_retries_and_is_delivered_exactly_once() {
    let (s, _) = passed_and_failed().await;
    let port = smtp::closed_port().unwrap();
    let ob = outbox(port, "w1");
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 0);
    let job = cert_db::jobs_for_certificates(
        &s.app.db,
        &[cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap()[0].id],
    )
    .await
    .unwrap()
    .remove(0);
    assert_eq!((job.status, job.attempts), (cert_db::JobStatus::Pending, 1));
    assert!(
        job.last_error.as_deref().unwrap_or("").contains("onnection"),
        "{:?}",
        job.last_error
    );
    // Not retried before its time.
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 0);
    assert_eq!(cert_db::attempts_of(&s.app.db, job.id).await.unwrap().len(), 1);
    // The server comes back, refusing with 451 at first, then accepting.
    let server = smtp::start(port);
    server.fail.store(451, Ordering::Relaxed);
    crate::history::email_retries_due(&s.app).await;
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 0);
    server.fail.store(0, Ordering::Relaxed);
    crate::history::email_retries_due(&s.app).await;
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 1);
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 0);
    assert_eq!(server.inbox.messages().len(), 1, "delivered exactly once");
    let tries = cert_db::attempts_of(&s.app.db, job.id).await.unwrap();
    assert_eq!(tries.len(), 3, "every attempt is recorded");
    assert!(tries[1].1.as_deref().unwrap_or("").contains("451"));
    assert!(tries[2].1.is_none());
}

#[tokio::test]
async fn a_job_is_given_up_after_a_day() {
    let (s, _) = passed_and_failed().await;
    let ob = outbox(smtp::closed_port().unwrap(), "w1");
    crate::history::email_jobs_queued_long_ago(&s.app).await;
    certificates::send_due(&s.app.db, &ob, 50).await.unwrap();
    let c = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let job = cert_db::jobs_for_certificates(&s.app.db, &[c.id])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.status, cert_db::JobStatus::Failed);
    // An official sees it failed and resends it.
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let page = official.page(&format!("/sessions/{}/certificates", s.session)).await;
    let row = page
        .table_rows("tr")
        .into_iter()
        .find(|r| r.contains(&c.serial))
        .unwrap_or_else(|| panic!("no row for {}: {page}", c.serial));
    assert!(row.iter().any(|cell| cell.starts_with("失败")), "{row:?}");
    let resend = page.form_action("重新发送");
    assert_eq!(resend, format!("/certificates/{}/resend", c.id));
    assert_eq!(official.post_form(&resend, &[]).await.status().as_u16(), 303);
    assert_eq!(
        cert_db::job(&s.app.db, job.id).await.unwrap().unwrap().status,
        cert_db::JobStatus::Pending
    );
}

async fn many_passes(n: usize) -> Setup {
    let s = setup(settings(3)).await;
    // The two chairs who attended pass (the third came too late for the gate).
    for i in 0..2 {
        set_contact(&s, i, &format!("主任{i}"), Some(&format!("chair{i}@example.com"))).await;
    }
    let opened = s.open_quiz(&s.chairs[..2]).await;
    for c in &s.chairs[..2] {
        take(&s, opened.quiz_id, *c, true).await;
    }
    // A longer queue: extra job rows for the same certificates, each its own message.
    for k in 0..n.saturating_sub(2) {
        let c = cert_db::for_person(&s.app.db, s.chairs[k % 2]).await.unwrap().remove(0);
        cert_db::enqueue(
            &s.app.db,
            cert_db::MailKind::Certificate,
            c.id,
            &format!("extra{k}@example.com"),
            &format!("extra-{k}"),
        )
        .await
        .unwrap();
    }
    s
}

#[tokio::test]
async fn a_restart_mid_queue_loses_nothing_and_duplicates_nothing() {
    let s = many_passes(6).await;
    let server = smtp::start(0);
    // Worker A claims two jobs and dies before sending them.
    let due = cert_db::due(&s.app.db, chrono::Utc::now(), 2).await.unwrap();
    for id in &due {
        assert!(
            cert_db::claim(
                &s.app.db,
                *id,
                "dead-worker",
                chrono::Utc::now(),
                chrono::Utc::now() + chrono::Duration::minutes(5)
            )
            .await
            .unwrap()
        );
    }
    // The restarted process sends the rest, leaving the leased two alone…
    let b = outbox(server.port, "new-worker");
    assert_eq!(certificates::send_due(&s.app.db, &b, 50).await.unwrap(), 4);
    // …until their lease expires.
    crate::history::email_leases_expired(&s.app).await;
    assert_eq!(certificates::send_due(&s.app.db, &b, 50).await.unwrap(), 2);
    let ids = server.inbox.message_ids();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (6, 6), "all six, none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_send_the_same_job() {
    let s = many_passes(30).await;
    let server = smtp::start(0);
    let (a, b) = (outbox(server.port, "worker-a"), outbox(server.port, "worker-b"));
    let (ra, rb) = tokio::join!(
        certificates::send_due(&s.app.db, &a, 100),
        certificates::send_due(&s.app.db, &b, 100)
    );
    assert_eq!(ra.unwrap() + rb.unwrap(), 30);
    let ids = server.inbox.message_ids();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (30, 30));
}

#[tokio::test]
async fn verification_shows_valid_revoked_and_unknown() {
    let (s, _) = passed_and_failed().await;
    let c = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let visitor = s.app.other_browser();
    let page = visitor.get_text(&format!("/verify/{}", c.code)).await;
    assert!(
        page.contains("证书有效") && page.contains("王*") && !page.contains("王秀英") && page.contains("换届改选实务"),
        "{page}"
    );
    let page = visitor
        .get_text(&format!(
            "/verify?serial={}&code={}",
            c.serial.to_lowercase(),
            c.code.to_lowercase()
        ))
        .await;
    assert!(
        page.contains("证书有效"),
        "found by serial and code typed in lower case"
    );
    let r = visitor.get("/verify/NOTACODE2345").await;
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.text().await.unwrap().contains("查无此证书"));

    // Only an admin can revoke, with a reason.
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    assert_eq!(
        official
            .post_form(&format!("/certificates/{}/revoke", c.id), &[("reason", "x")])
            .await
            .status()
            .as_u16(),
        403
    );
    let admin = s.app.other_browser();
    crate::helpers::signed_in_as(&admin, "13800000009", &[quorum::domain::person::Role::Admin], &[], None).await;
    assert_eq!(
        admin
            .post_form(&format!("/certificates/{}/revoke", c.id), &[("reason", "成绩录入错误")])
            .await
            .status()
            .as_u16(),
        303
    );
    let page = visitor.get_text(&format!("/verify/{}", c.code)).await;
    assert!(page.contains("此证书已撤销") && page.contains("成绩录入错误"), "{page}");
}

#[tokio::test]
async fn revoking_without_a_reason_shows_the_form_again_asking_for_one() {
    let (s, _) = passed_and_failed().await;
    let c = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let admin = s.app.other_browser();
    crate::helpers::signed_in_as(&admin, "13800000009", &[quorum::domain::person::Role::Admin], &[], None).await;
    let r = admin
        .post_form(&format!("/certificates/{}/revoke", c.id), &[("reason", "  ")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(crate::errors::beside_field(&page, "reason", "请填写撤销原因"), "{page}");
    assert!(page.contains("撤销此证书") && page.contains("证书有效"), "{page}");
    let page = s.app.other_browser().get_text(&format!("/verify/{}", c.code)).await;
    assert!(page.contains("证书有效"), "still valid");
}

#[tokio::test]
async fn a_name_the_font_cannot_show_is_refused_naming_the_character() {
    let s = setup(settings(3)).await;
    set_contact(&s, 0, "王\u{20000}", Some("rare@example.com")).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    take(&s, opened.quiz_id, s.chairs[0], true).await;
    let c = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let chair = as_chair(&s, 0).await;
    let r = chair.get(&format!("/certificates/{}.pdf", c.id)).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("姓名中的“\u{20000}”（U+20000）无法在证书字体中显示"),
        "{page}"
    );
    let server = smtp::start(0);
    assert_eq!(
        certificates::send_due(&s.app.db, &outbox(server.port, "w"), 10)
            .await
            .unwrap(),
        0
    );
    assert!(server.inbox.messages().is_empty(), "never sent with a blank box");
    let job = cert_db::jobs_for_certificates(&s.app.db, &[c.id])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.status, cert_db::JobStatus::Failed);
    assert!(job.last_error.unwrap().contains("U+20000"));
}

#[tokio::test]
async fn a_worker_killed_during_smtp_data_leaves_its_attempt_recorded_and_the_resend_keeps_the_message_id() {
    let (s, _) = passed_and_failed().await;
    let server = smtp::start(0);
    // The server keeps the message but never answers the end of DATA; the worker is then killed.
    server.stall.store(true, Ordering::Relaxed);
    let (db, ob) = (s.app.db.clone(), outbox(server.port, "w1"));
    let worker = tokio::spawn(async move { certificates::send_due(&db, &ob, 50).await });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while server.inbox.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the message reached the server");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    server.stall.store(false, Ordering::Relaxed);

    let c = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let job = cert_db::jobs_for_certificates(&s.app.db, &[c.id])
        .await
        .unwrap()
        .remove(0);
    let history = cert_db::attempt_history(&s.app.db, job.id).await.unwrap();
    assert_eq!(history.len(), 1, "the attempt was recorded before sending: {history:?}");
    assert_eq!(history[0].state, cert_db::AttemptState::Sending);
    assert_eq!(history[0].worker, "w1");

    // Another worker waits for the lease, then sends again.
    let ob2 = outbox(server.port, "w2");
    assert_eq!(
        certificates::send_due(&s.app.db, &ob2, 50).await.unwrap(),
        0,
        "the lease holds"
    );
    crate::history::email_leases_expired(&s.app).await;
    assert_eq!(certificates::send_due(&s.app.db, &ob2, 50).await.unwrap(), 1);
    let history = cert_db::attempt_history(&s.app.db, job.id).await.unwrap();
    let states: Vec<_> = history.iter().map(|a| (a.worker.as_str(), a.state)).collect();
    assert_eq!(
        states,
        [
            ("w1", cert_db::AttemptState::Interrupted),
            ("w2", cert_db::AttemptState::Sent)
        ]
    );
    assert!(history[0].error.as_deref().unwrap_or("").contains("may have arrived"));
    // At least once: the server holds two copies, which carry one Message-ID.
    let ids = server.inbox.message_ids();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], ids[1]);
    assert!(ids[0].ends_with("@quorum.test>"), "{}", ids[0]);
    assert_eq!(
        cert_db::job(&s.app.db, job.id).await.unwrap().unwrap().status,
        cert_db::JobStatus::Sent
    );
}
