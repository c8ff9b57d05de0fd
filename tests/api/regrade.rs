//! Regrading (issue 18): a lawyer corrects the key of a question chairs have answered; the dry run
//! shows whose score and result would change, and applying it updates attempts, which attempt counts,
//! and certificates — issued to a chair who now passes, revoked (with an email) from one who now
//! fails — and records who did it and why.

use quorum::db::{banks as bank_db, certificates as cert_db, quiz as quiz_db};
use quorum::domain::person::Role;
use quorum::domain::question::Answer;
use quorum::domain::quiz::Given;
use quorum::services::{certificates, quiz};

use crate::certificates::{outbox, set_contact};
use crate::helpers::{PASSWORD, Page, signed_in_as};
use crate::quiz::{Setup, settings, setup};
use crate::smtp;

/// Answers every item of the attempt and submits it: question t-1 with option `t1` (0-based, the key
/// is B = 1), the first `wrong` of the others wrongly and the rest rightly.
async fn answer(s: &Setup, attempt: i64, t1: usize, wrong: usize) {
    let db = &s.app.db;
    let mut wrong_left = wrong;
    for item in quiz_db::items(db, attempt).await.unwrap() {
        let v = bank_db::versions(db, &[item.version_id]).await.unwrap().pop().unwrap();
        let qid = bank_db::question(db, item.question_id).await.unwrap().unwrap().qid;
        let given = if qid == "t-1" {
            Given::Choices([t1].into())
        } else {
            let right = if wrong_left > 0 {
                wrong_left -= 1;
                false
            } else {
                true
            };
            match (&v.content.answer, right) {
                (Answer::Truth(t), _) => Given::Truth(*t == right),
                (Answer::Choices(c), true) => Given::Choices(c.clone()),
                // An option outside the key (every test question has one).
                (Answer::Choices(c), false) => {
                    let other = (0..v.content.options.len()).find(|i| !c.contains(i)).unwrap();
                    Given::Choices([other].into())
                }
            }
        };
        let now = chrono::Utc::now();
        assert!(
            quiz_db::save_answer(db, attempt, item.position, &given, now, now)
                .await
                .unwrap()
        );
    }
    quiz::submit_attempt(db, attempt, quorum::domain::attempt::SubmittedBy::Chair)
        .await
        .unwrap();
}

async fn valid_certificates(s: &Setup, chair: usize) -> usize {
    cert_db::for_person(&s.app.db, s.chairs[chair])
        .await
        .unwrap()
        .iter()
        .filter(|c| c.revoked_at.is_none())
        .count()
}

#[tokio::test]
async fn a_corrected_key_regrades_answered_attempts_and_certificates_follow() {
    // Six questions, 60 % to pass: 4 of 6 pass, 3 fail. The key of t-1 moves from B to C.
    // No attendance gate, so that the fixture's late chair takes it too.
    let s = setup(quorum::domain::quiz::QuizSettings {
        attendance_gate: 0,
        ..settings(6)
    })
    .await;
    for (i, (name, email)) in [
        ("王秀英", "wang@example.com"),
        ("李建华", "li@example.com"),
        ("张桂兰", "zhang@example.com"),
    ]
    .into_iter()
    .enumerate()
    {
        set_contact(&s, i, name, Some(email)).await;
    }
    let quiz_id = s.open_quiz(&s.chairs).await.quiz_id;
    let mut ids = Vec::new();
    for chair in &s.chairs {
        ids.push(quiz_db::attempts_of(&s.app.db, quiz_id, *chair).await.unwrap()[0].id);
    }
    let attempt = |i: usize| ids[i];
    // 王: all right (6 → 5, still passes). 李: B and two others wrong (4 → 3: now fails).
    // 张: C and two others wrong (3 → 4: now passes).
    answer(&s, attempt(0), 1, 0).await;
    answer(&s, attempt(1), 1, 2).await;
    answer(&s, attempt(2), 2, 2).await;
    assert_eq!(
        [
            valid_certificates(&s, 0).await,
            valid_certificates(&s, 1).await,
            valid_certificates(&s, 2).await
        ],
        [1, 1, 0]
    );

    // One lawyer corrects the key, another approves it.
    let q = bank_db::question_by_qid(&s.app.db, "t-1").await.unwrap().unwrap();
    let path = format!("/questions/{}", q.id);
    let author = s.app.other_browser();
    author.sign_in("13800000007", PASSWORD).await;
    let fields = [
        ("qid", "t-1"),
        ("kind", "single"),
        ("stem", "单选1"),
        ("options", "甲\n乙\n丙"),
        ("answer", "C"),
        ("explanation", "因为丙。"),
        ("citations", "test-law 1"),
        ("tags", ""),
        ("difficulty", "1"),
        ("rule", "t-rule-1"),
    ];
    assert_eq!(author.post_form(&path, &fields).await.status().as_u16(), 303);
    let reviewer = s.app.other_browser();
    signed_in_as(&reviewer, "13800000008", &[Role::Lawyer], &[], None).await;
    assert_eq!(
        reviewer
            .post_form(&format!("{path}/approve"), &[])
            .await
            .status()
            .as_u16(),
        200
    );
    let page = reviewer.page(&path).await;
    assert!(page.exists(&format!("#regrade a[href='{path}/regrade']")), "{page}");

    // The dry run: three attempts change, one certificate issued and one revoked; nothing written.
    let preview = reviewer.page(&format!("{path}/regrade")).await;
    let rows = preview.table_rows("tbody tr");
    assert_eq!(rows.len(), 3, "{preview}");
    let by_chair = |masked: &str| rows.iter().find(|r| r[1] == masked).unwrap().clone();
    assert_eq!(by_chair("王**")[3..8], ["6/6", "5/6", "合格", "合格", ""]);
    assert_eq!(by_chair("李**")[3..8], ["4/6", "3/6", "合格", "不合格", "将撤销"]);
    assert_eq!(by_chair("张**")[3..8], ["3/6", "4/6", "不合格", "合格", "将颁发"]);
    assert!(
        !preview.body_text().contains("李建华"),
        "the lawyer sees no chair's full name"
    );
    assert_eq!(
        quiz_db::attempt(&s.app.db, attempt(1)).await.unwrap().unwrap().passed,
        Some(true),
        "a preview changes nothing"
    );

    // Applying asks for a reason, at its field.
    let r = reviewer.post_form(&format!("{path}/regrade"), &[("reason", " ")]).await;
    assert_eq!(r.status().as_u16(), 422);
    let again = Page::parse(r.text().await.unwrap());
    assert!(
        again.text_of(".has-error .error").contains("请写明重新评分的原因"),
        "{again}"
    );

    let r = reviewer
        .post_form(&format!("{path}/regrade"), &[("reason", "第1题的正确答案应为丙")])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let done = Page::parse(r.text().await.unwrap());
    assert!(
        done.text_of(".notice.ok")
            .contains("已重新评分 3 份答卷；颁发证书 1 张，撤销 1 张"),
        "{done}"
    );
    assert!(
        done.body_text().contains("重新评分不会改变任何得分"),
        "nothing left to regrade"
    );
    assert!(
        done.items_under("重新评分记录")[0].contains("第1题的正确答案应为丙"),
        "{done}"
    );

    // Attempts, items and certificates follow.
    let results: Vec<(Option<i32>, Option<bool>)> = {
        let mut v = Vec::new();
        for i in 0..3 {
            let a = quiz_db::attempt(&s.app.db, attempt(i)).await.unwrap().unwrap();
            v.push((a.correct, a.passed));
        }
        v
    };
    assert_eq!(
        results,
        [(Some(5), Some(true)), (Some(3), Some(false)), (Some(4), Some(true))]
    );
    assert_eq!(
        [
            valid_certificates(&s, 0).await,
            valid_certificates(&s, 1).await,
            valid_certificates(&s, 2).await
        ],
        [1, 0, 1]
    );
    let revoked = &cert_db::for_person(&s.app.db, s.chairs[1]).await.unwrap()[0];
    assert_eq!(
        revoked.revoke_reason.as_deref(),
        Some("重新评分：第1题的正确答案应为丙")
    );
    // The reports' tally reads the attempts that count: 王 and 张 pass, 李 does not.
    let tallies = quiz_db::counting_tallies(&s.app.db, &[quiz_id]).await.unwrap();
    let passed = |i: usize| tallies.iter().find(|t| t.0 == s.chairs[i]).map(|t| t.2);
    assert_eq!([passed(0), passed(1), passed(2)], [Some(1), Some(0), Some(1)]);

    // The outbox: three certificates (two on submitting, one from the regrade) and one revocation
    // notice, to 李.
    let server = smtp::start(0);
    let ob = outbox(server.port, "w1");
    assert_eq!(certificates::send_due(&s.app.db, &ob, 50).await.unwrap(), 4);
    let messages = server.inbox.messages();
    let revocations: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("Message-ID: <revoked-"))
        .collect();
    assert_eq!(revocations.len(), 1, "{messages:?}");
    assert!(revocations[0].contains("li@example.com"), "{}", revocations[0]);
    assert!(
        !revocations[0].contains("application/pdf"),
        "no certificate attached to a revocation"
    );
    assert_eq!(messages.iter().filter(|m| m.contains("Message-ID: <cert-")).count(), 3);

    // The lawyers' edit, approval and regrade are in the audit trail, each once, with the reason.
    let trail = quorum::db::audit::after(&s.app.db, 0, 1000).await.unwrap();
    let of = |code: &str| trail.iter().filter(|e| e.action == code).collect::<Vec<_>>();
    assert_eq!(of("question.edit").len(), 1);
    assert_eq!(of("question.approve").len(), 1);
    let regraded = of("question.regrade");
    assert_eq!(regraded.len(), 1);
    assert!(
        regraded[0].record.summary.contains("第1题的正确答案应为丙"),
        "{:?}",
        regraded[0]
    );
    assert_eq!(regraded[0].record.object, format!("question:{}", q.id));

    // Nothing more to regrade.
    let r = reviewer
        .post_form(&format!("{path}/regrade"), &[("reason", "再来一次")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        Page::parse(r.text().await.unwrap())
            .text_of(".notice.error")
            .contains("没有需要重新评分的答卷")
    );
}
