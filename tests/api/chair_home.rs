//! After the quiz: a chair finds her trainings, results and certificates again from her home page; the
//! certificate is a page (with its picture) that WeChat can show; the result page says where the
//! certificate is, or why there is none.

use quorum::db::certificates as cert_db;
use quorum::db::quiz as quiz_db;
use quorum::domain::contact::EmailAddress;
use quorum::domain::person::DisplayName;

use crate::certificates::take_public as take;
use crate::helpers::Page;
use crate::quiz::{Setup, as_chair, settings, setup};

/// The chair's record of the session on her home page (its card in 我的培训记录).
fn record<'a>(home: &'a Page, title: &str) -> scraper::ElementRef<'a> {
    home.select_all("ul.trainings li.card")
        .into_iter()
        .find(|c| crate::page::text(c).contains(title))
        .unwrap_or_else(|| panic!("no training “{title}” on the home page:\n{home}"))
}

fn text_in(card: &scraper::ElementRef<'_>, css: &str) -> String {
    let sel = scraper::Selector::parse(css).unwrap();
    card.select(&sel)
        .next()
        .map(|e| crate::page::text(&e))
        .unwrap_or_else(|| panic!("no {css} in the card: {}", card.html()))
}

fn has(card: &scraper::ElementRef<'_>, css: &str) -> bool {
    card.select(&scraper::Selector::parse(css).unwrap()).next().is_some()
}

async fn give_email(s: &Setup, i: usize, email: &str) {
    let p = quorum::db::people::get(&s.app.db, s.chairs[i]).await.unwrap().unwrap();
    let email = EmailAddress::parse(email).unwrap();
    let update = quorum::db::people::PersonUpdate {
        name: &DisplayName::parse("王秀英").unwrap(),
        email: Some(&email),
        committee_id: p.committee_id,
        position: None,
    };
    quorum::db::people::update(&s.app.db, p.id, update).await.unwrap();
}

#[tokio::test]
async fn a_chair_who_passed_finds_her_attendance_result_and_certificate_from_home() {
    let s = setup(settings(4)).await;
    give_email(&s, 0, "wang@example.com").await;
    let opened = s.open_quiz(&s.chairs[..2]).await;
    let attempt = take(&s, opened.quiz_id, s.chairs[0], true).await;
    let cert = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);

    let chair = as_chair(&s, 0).await;
    let home = chair.page("/").await;
    let card = record(&home, "换届改选实务");
    // In the room for the whole lecture before the quiz opened (the quiz gate's window).
    let attendance = text_in(&card, "dd.attendance");
    assert!(attendance.contains("60 分钟（100%）"), "{attendance}");
    assert_eq!(text_in(&card, "dd.quiz .verdict"), "通过");
    assert!(text_in(&card, "dd.quiz").contains("4 / 4"), "{}", card.html());
    assert!(
        has(&card, &format!("dd.quiz a[href='/attempts/{attempt}']")),
        "{}",
        card.html()
    );
    assert!(
        has(&card, &format!("dd.certificate a[href='/certificates/{}']", cert.id)),
        "{}",
        card.html()
    );
    assert!(
        has(&card, &format!("a[href='/verify/{}']", cert.code)),
        "{}",
        card.html()
    );
    // 我的证书 leads to the same page.
    assert!(home.exists(&format!("a[href='/certificates/{}']", cert.id)));

    // The certificate page: what it certifies, the picture inline, the downloads, the public check.
    let page = chair.page(&format!("/certificates/{}", cert.id)).await;
    assert_eq!(page.definition("证书编号"), cert.serial);
    assert_eq!(page.definition("验证码"), cert.code);
    assert_eq!(page.definition("培训"), "换届改选实务");
    assert_eq!(page.definition("发证单位"), "花木街道");
    assert!(page.contains("证书有效"), "{page}");
    let img = format!("img[src='/certificates/{}.png']", cert.id);
    assert!(page.exists(&img), "{page}");
    assert!(page.attr_of(&img, "alt").contains("换届改选实务"), "{page}");
    assert!(page.exists(&format!("a[href='/certificates/{}.png']", cert.id)));
    assert!(page.exists(&format!("a[href='/certificates/{}.pdf']", cert.id)));
    assert!(page.exists(&format!("a[href='/verify/{}']", cert.code)));
    // The picture the page shows is there for her.
    assert_eq!(chair.get_status(&format!("/certificates/{}.png", cert.id)).await, 200);

    // Whoever follows the public link sees the answer before the lookup form, without scrolling.
    let verified = chair.other_browser().get_text(&format!("/verify/{}", cert.code)).await;
    let (answer, form) = (verified.find("证书有效"), verified.find("<form"));
    assert!(answer.is_some() && answer < form, "the answer comes first: {verified}");

    // Another chair may not see it.
    let other = as_chair(&s, 1).await;
    assert_eq!(other.get_status(&format!("/certificates/{}", cert.id)).await, 403);

    // The result page says it was issued, where it is, and that the email is on its way.
    let result = chair.page(&format!("/attempts/{attempt}")).await;
    let note = result.text_of(".certificate-note");
    assert!(note.contains("证书已发放"), "{note}");
    assert!(note.contains("正在发送到您登记的邮箱"), "{note}");
    assert!(
        result.exists(&format!(".certificate-note a[href='/certificates/{}']", cert.id)),
        "{result}"
    );
}

#[tokio::test]
async fn a_chair_who_failed_sees_not_passed_and_no_certificate() {
    let s = setup(settings(4)).await;
    let opened = s.open_quiz(&s.chairs[..2]).await;
    take(&s, opened.quiz_id, s.chairs[0], true).await;
    let attempt = take(&s, opened.quiz_id, s.chairs[1], false).await;

    let chair = as_chair(&s, 1).await;
    let home = chair.page("/").await;
    let card = record(&home, "换届改选实务");
    assert_eq!(text_in(&card, "dd.quiz .verdict"), "未通过");
    assert!(
        has(&card, &format!("dd.quiz a[href='/attempts/{attempt}']")),
        "{}",
        card.html()
    );
    assert_eq!(text_in(&card, "dd.certificate"), "无");
    assert!(!home.exists("a[href^='/certificates/']"), "{home}");

    // The result page: no certificate, and with her one attempt used, what happens next.
    let result = chair.page(&format!("/attempts/{attempt}")).await;
    let note = result.text_of(".certificate-note");
    assert!(note.contains("本次未合格，没有证书"), "{note}");
    assert!(note.contains("街道以后组织培训时会通知您"), "{note}");
    assert!(!result.exists("a[href^='/certificates/']"), "{result}");
}

#[tokio::test]
async fn a_chair_with_an_attempt_left_is_offered_to_try_again() {
    let s = setup(quorum::domain::quiz::QuizSettings {
        attempts_allowed: 2,
        ..settings(4)
    })
    .await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let attempt = take(&s, opened.quiz_id, s.chairs[0], false).await;
    let chair = as_chair(&s, 0).await;
    let result = chair.page(&format!("/attempts/{attempt}")).await;
    let note = result.text_of(".certificate-note");
    assert!(note.contains("您还可以再答 1 次"), "{note}");
    assert_eq!(result.link("重新答题"), format!("/quiz/{}", opened.quiz_id));
}

#[tokio::test]
async fn a_pass_not_yet_recorded_says_the_certificate_is_coming() {
    let s = setup(settings(4)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    let a = quiz_db::attempts_of(&s.app.db, opened.quiz_id, s.chairs[0])
        .await
        .unwrap()[0]
        .id;
    // She answered everything right, and time ran out before the deadline job recorded the result.
    let n = quiz_db::items(&s.app.db, a).await.unwrap().len() as i32;
    for pos in 0..n {
        let (_, choices, truth) = crate::quiz::right_choices(&s.app, a, pos).await;
        let item = &quiz_db::items(&s.app.db, a).await.unwrap()[pos as usize];
        let given = match truth {
            Some(t) => quorum::domain::quiz::Given::Truth(t),
            None => quorum::domain::quiz::Given::Choices(choices.iter().map(|x| item.order[*x]).collect()),
        };
        let now = chrono::Utc::now();
        assert!(quiz_db::save_answer(&s.app.db, a, pos, &given, now, now).await.unwrap());
    }
    crate::history::attempt_deadline_long_past(&s.app, a).await;
    let chair = as_chair(&s, 0).await;
    let result = chair.page(&format!("/attempts/{a}")).await;
    let note = result.text_of(".certificate-note");
    assert!(note.contains("证书即将发放"), "{note}");
    // Once the deadline job records it, the certificate is there.
    quorum::services::quiz::submit_due(&s.app.db).await.unwrap();
    let cert = cert_db::for_person(&s.app.db, s.chairs[0]).await.unwrap().remove(0);
    let result = chair.page(&format!("/attempts/{a}")).await;
    assert!(result.text_of(".certificate-note").contains("证书已发放"));
    // No email address: it says so, and how to keep the certificate.
    assert!(result.text_of(".certificate-note").contains("没有登记邮箱"));
    assert!(result.exists(&format!("a[href='/certificates/{}']", cert.id)));
}

#[tokio::test]
async fn home_reads_attendance_by_the_quiz_gates_rule() {
    let s = setup(settings(4)).await;
    // The third chair came for the last 10 of the lecture's 60 minutes: below the 60% gate.
    let opened = s.open_quiz(&s.chairs).await;
    let chair = as_chair(&s, 2).await;
    let gate = chair.page(&format!("/quiz/{}", opened.quiz_id)).await;
    assert!(gate.body_text().contains("10 分钟（17%）"), "{gate}");
    let home = chair.page("/").await;
    let card = record(&home, "换届改选实务");
    assert_eq!(text_in(&card, "dd.attendance"), "10 分钟（17%）");
    assert_eq!(text_in(&card, "dd.quiz"), "未参加");
}
