//! District officials and what each area gets wrong: an official scoped to a whole district sees every
//! report of its streets (and streets added later) and nothing of another district; a street official
//! does not see the district roll-up; the per-area analysis counts the area's own chairs only.

use quorum::domain::person::Role;
use quorum::services::org;

use crate::helpers::{PASSWORD, TestApp, make_person, make_street, signed_in_as};
use crate::quiz::Setup;

/// The fixture's street (花木街道), its district and another district with a street of its own.
struct Districts {
    district: i64,
    street: i64,
    /// A second street of the same district, with nobody in it.
    empty_street: i64,
    other_district: i64,
    other_street: i64,
}

async fn districts(s: &Setup) -> Districts {
    let chair = quorum::db::people::get(&s.app.db, s.chairs[0]).await.unwrap().unwrap();
    let committee = quorum::db::org::get(&s.app.db, chair.committee_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    let street = committee.street_id.unwrap();
    let district = quorum::db::org::get(&s.app.db, street)
        .await
        .unwrap()
        .unwrap()
        .parent_id
        .unwrap();
    let empty_street = make_street(&s.app, "洋泾街道").await.street;
    let other = org::create_unit(&s.app.db, None, "徐汇区", None).await.unwrap();
    let other_street = org::create_unit(&s.app.db, Some(other.id), "天平街道", None)
        .await
        .unwrap();
    org::ensure_committee(&s.app.db, other_street.id, "天平一居委", "天平小区")
        .await
        .unwrap();
    Districts {
        district,
        street,
        empty_street,
        other_district: other.id,
        other_street: other_street.id,
    }
}

/// An official of a whole district, signed in (created as an official of `street`, then rescoped as
/// the admin form stores it).
async fn district_official(s: &Setup, phone: &str, street: i64, district: i64) -> TestApp {
    let id = make_person(&s.app, phone, &[Role::Official], &[street], None).await;
    quorum::db::people::set_official_streets(&s.app.db, id, &[])
        .await
        .unwrap();
    quorum::db::people::set_official_districts(&s.app.db, id, &[district])
        .await
        .unwrap();
    let b = s.app.other_browser();
    assert_eq!(b.sign_in(phone, PASSWORD).await.status().as_u16(), 303);
    b
}

/// Every report page and export about the fixture's session and street.
fn street_reports(s: &Setup, d: &Districts) -> Vec<String> {
    let (session, street) = (s.session, d.street);
    vec![
        format!("/sessions/{session}/report"),
        format!("/sessions/{session}/report.csv"),
        format!("/sessions/{session}/report.xlsx"),
        format!("/sessions/{session}/evidence.zip"),
        format!("/street/dashboard?unit={street}"),
        format!("/street/dashboard.csv?unit={street}"),
        format!("/street/dashboard.xlsx?unit={street}"),
        format!("/street/mistakes?unit={street}"),
        format!("/street/mistakes.csv?unit={street}"),
        format!("/street/mistakes.xlsx?unit={street}"),
        format!("/street/chairs?street={street}"),
        format!("/street/chairs/{}", s.chairs[0]),
    ]
}

/// The district-wide pages of a district.
fn district_reports(district: i64) -> Vec<String> {
    vec![
        format!("/street/dashboard?unit={district}"),
        format!("/street/dashboard.csv?unit={district}"),
        format!("/street/dashboard.xlsx?unit={district}"),
        format!("/street/mistakes?unit={district}"),
        format!("/street/mistakes.csv?unit={district}"),
        format!("/street/mistakes.xlsx?unit={district}"),
    ]
}

async fn statuses(b: &TestApp, paths: &[String]) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for p in paths {
        out.push((p.clone(), b.get_status(p).await));
    }
    out
}

fn all(paths: &[String], status: u16) -> Vec<(String, u16)> {
    paths.iter().map(|p| (p.clone(), status)).collect()
}

#[tokio::test]
async fn a_district_official_sees_her_district_rolled_up_and_every_report_of_its_streets() {
    let s = crate::reports::fixture().await;
    let d = districts(&s).await;
    let official = district_official(&s, "13800000020", d.street, d.district).await;

    // The dashboard starts at her district: one row per street, the total their sum.
    let page = official.page("/street/dashboard").await;
    assert!(page.text_of("h1").contains("浦东新区"), "{page}");
    let street = ["3", "2", "1", "50.0%", "0", "0", "1", "33.3%"];
    assert_eq!(page.row("花木街道")[1..], street, "{page}");
    assert_eq!(
        page.row("洋泾街道")[1..],
        ["0", "0", "0", "无数据", "0", "0", "0", "无数据"],
        "{page}"
    );
    assert_eq!(page.table_rows("tr.total")[0][1..], street, "{page}");
    // Drilling down to the street, the way back up leads to the district.
    let href = page.link("花木街道");
    let page = official.page(&href).await;
    assert!(page.text_of("h1").contains("花木街道"), "{page}");
    assert!(
        page.link("浦东新区").contains(&format!("unit={}", d.district)),
        "{page}"
    );
    let csv = official
        .get_text(&format!("/street/dashboard.csv?unit={}", d.district))
        .await;
    assert!(csv.contains("花木街道,3,2,1,50.0%,0,0,1,33.3%"), "{csv}");

    // Every report of every street in it, and of none elsewhere.
    assert_eq!(
        statuses(&official, &street_reports(&s, &d)).await,
        all(&street_reports(&s, &d), 200)
    );
    assert_eq!(
        statuses(&official, &district_reports(d.district)).await,
        all(&district_reports(d.district), 200)
    );
    let elsewhere = [
        district_reports(d.other_district),
        vec![
            format!("/street/dashboard?unit={}", d.other_street),
            format!("/street/mistakes?unit={}", d.other_street),
            format!("/street/chairs?street={}", d.other_street),
        ],
    ]
    .concat();
    assert_eq!(statuses(&official, &elsewhere).await, all(&elsewhere, 403));
    assert_eq!(
        official
            .get_status(&format!("/street/chairs?street={}", d.empty_street))
            .await,
        200
    );
    // A street the district gains later is hers at once.
    let later = org::create_unit(&s.app.db, Some(d.district), "新增街道", None)
        .await
        .unwrap()
        .id;
    assert_eq!(
        official.get_status(&format!("/street/chairs?street={later}")).await,
        200
    );
}

#[tokio::test]
async fn street_officials_and_other_districts_see_no_district_roll_up() {
    let s = crate::reports::fixture().await;
    let d = districts(&s).await;
    // The street's own official: her street's reports, not the district's.
    let street_official = s.app.other_browser();
    street_official.sign_in("13800000003", PASSWORD).await;
    let page = street_official.page("/street/dashboard").await;
    assert!(page.text_of("h1").contains("花木街道"), "{page}");
    assert!(
        !page.to_string().contains("浦东新区"),
        "no way up to the district: {page}"
    );
    assert_eq!(
        statuses(&street_official, &street_reports(&s, &d)).await,
        all(&street_reports(&s, &d), 200)
    );
    assert_eq!(
        statuses(&street_official, &district_reports(d.district)).await,
        all(&district_reports(d.district), 403)
    );
    // An official of another district: nothing of this one.
    let stranger = district_official(&s, "13800000021", d.other_street, d.other_district).await;
    let ours = [street_reports(&s, &d), district_reports(d.district)].concat();
    assert_eq!(statuses(&stranger, &ours).await, all(&ours, 403));
    // A chair: none of it.
    let chair = crate::quiz::as_chair(&s, 0).await;
    let ours: Vec<String> = ours.into_iter().filter(|p| !p.starts_with("/sessions/")).collect();
    let refused: Vec<u16> = statuses(&chair, &ours).await.into_iter().map(|(_, c)| c).collect();
    assert!(refused.iter().all(|c| *c == 403), "{refused:?}");
}

#[tokio::test]
async fn an_admin_scopes_an_official_to_a_whole_district() {
    let s = crate::reports::fixture().await;
    let d = districts(&s).await;
    let admin = s.app.other_browser();
    signed_in_as(&admin, "13800000009", &[Role::Admin], &[], None).await;
    let form = admin.page("/admin/people/new").await;
    assert!(form.body_text().contains("浦东新区（整个区）"), "{form}");
    let district = d.district.to_string();
    let r = admin
        .post_form(
            "/admin/people/new",
            &[
                ("name", "赵志强"),
                ("phone", "13900000044"),
                ("roles", "official"),
                ("districts", &district),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let id = crate::helpers::id_in(&crate::helpers::location(&r));
    assert_eq!(
        quorum::db::people::official_district_ids(&s.app.db, id).await.unwrap(),
        vec![d.district]
    );
    let form = admin.page(&format!("/admin/people/{id}")).await.to_string();
    assert!(
        form.contains(&format!("name=\"districts\" value=\"{}\" checked", d.district)),
        "{form}"
    );
    // A street id is not a district.
    let street = d.street.to_string();
    let r = admin
        .post_form(
            "/admin/people/new",
            &[
                ("name", "钱多多"),
                ("phone", "13900000045"),
                ("roles", "official"),
                ("districts", &street),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
}

#[tokio::test]
async fn what_an_area_gets_wrong_counts_its_own_chairs_only() {
    // Chair 0 answered her four questions right, chair 1 all four wrong. Chair 1 moves to another
    // 居委 of the street: the street counts eight answers, each 居委 its own four.
    let s = crate::reports::fixture().await;
    let d = districts(&s).await;
    let elsewhere = org::ensure_committee(&s.app.db, d.street, "二居委", "阳光小区")
        .await
        .unwrap();
    let p = quorum::db::people::get(&s.app.db, s.chairs[1]).await.unwrap().unwrap();
    quorum::db::people::update(
        &s.app.db,
        p.id,
        quorum::db::people::PersonUpdate {
            name: &p.name,
            email: p.email.as_ref(),
            committee_id: Some(elsewhere),
            position: p.position.as_deref(),
        },
    )
    .await
    .unwrap();
    let first = neighbourhood_of(&s.app, p.committee_id.unwrap()).await;
    let second = neighbourhood_of(&s.app, elsewhere).await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;

    let page = official.page(&format!("/street/mistakes?unit={}", d.street)).await;
    assert!(page.body_text().contains("共计作答 8 次"), "{page}");
    assert!(
        page.texts_of("section.rule h3").iter().all(|h| h.contains("《")),
        "{page}"
    );
    assert!(
        page.to_string().contains("<details>") && page.to_string().contains("blockquote"),
        "the article's text a tap away: {page}"
    );
    // Per 居委, from the export: (question answers, wrong, share wrong) summed and compared.
    let rows = |csv: String| -> Vec<(u64, u64, String)> {
        csv.lines()
            .skip(1)
            .map(|l| {
                let cells: Vec<&str> = l.rsplitn(4, ',').collect();
                (
                    cells[2].parse().unwrap(),
                    cells[1].parse().unwrap(),
                    cells[0].to_string(),
                )
            })
            .collect()
    };
    let right = rows(official.get_text(&format!("/street/mistakes.csv?unit={first}")).await);
    assert_eq!(right.iter().map(|r| r.0).sum::<u64>(), 4, "{right:?}");
    assert!(right.iter().all(|r| r.1 == 0 && r.2 == "0.0%"), "{right:?}");
    let wrong = rows(official.get_text(&format!("/street/mistakes.csv?unit={second}")).await);
    assert_eq!(wrong.iter().map(|r| r.0).sum::<u64>(), 4, "{wrong:?}");
    assert!(wrong.iter().all(|r| r.1 == r.0 && r.2 == "100.0%"), "{wrong:?}");
    let street = rows(
        official
            .get_text(&format!("/street/mistakes.csv?unit={}", d.street))
            .await,
    );
    assert_eq!(
        street
            .iter()
            .map(|r| (r.0, r.1))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
        (8, 4)
    );
    // Outside the dates, nothing.
    let page = official
        .page(&format!(
            "/street/mistakes?unit={}&from=2020-01-01&to=2020-12-31",
            d.street
        ))
        .await;
    assert!(page.body_text().contains("共计作答 0 次"), "{page}");
}

/// The 居委 a committee lies in.
async fn neighbourhood_of(app: &TestApp, committee: i64) -> i64 {
    let estate = quorum::db::org::get(&app.db, committee)
        .await
        .unwrap()
        .unwrap()
        .parent_id
        .unwrap();
    quorum::db::org::get(&app.db, estate)
        .await
        .unwrap()
        .unwrap()
        .parent_id
        .unwrap()
}

#[tokio::test]
async fn the_dashboard_counts_the_attempt_that_counts_when_chairs_retake() {
    // Chair 0 fails twice; chair 1 fails, retakes and passes (chair 2 came too late to take it). One
    // counting attempt per chair and quiz: two submitted, one passed.
    let s = crate::quiz::setup(quorum::domain::quiz::QuizSettings {
        attempts_allowed: 3,
        ..crate::quiz::settings(4)
    })
    .await;
    let opened = s.open_quiz(&s.chairs).await;
    for (i, second) in [(0, false), (1, true)] {
        crate::certificates::take_public(&s, opened.quiz_id, s.chairs[i], false).await;
        let chair = crate::quiz::as_chair(&s, i).await;
        assert_eq!(chair.start_quiz(opened.quiz_id).await.status().as_u16(), 303);
        let mine = quorum::db::quiz::attempts_of(&s.app.db, opened.quiz_id, s.chairs[i])
            .await
            .unwrap();
        assert_eq!(mine.len(), 2);
        crate::certificates::answer_and_submit(&s, mine[1].id, second).await;
    }
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;
    let page = official.page("/street/dashboard").await;
    assert_eq!(page.table_rows("tr.total")[0][1..5], ["3", "2", "1", "50.0%"], "{page}");
}

#[actix_web::test]
async fn the_counting_mark_written_in_sql_agrees_with_the_rule() {
    // The migration marks attempts submitted before the mark existed with SQL; submitting marks them
    // with `counting_attempt`. Both must pick the same attempt, edge cases included. Per chair:
    // (number, correct of 4, passed, submitted).
    use sea_orm::{ConnectionTrait, Statement};
    let s = crate::quiz::setup(crate::quiz::settings(4)).await;
    let quiz = s.open_quiz(&[]).await.quiz_id;
    let cases: [&[(i32, i32, bool, bool)]; 3] = [
        // The first pass counts, though a later one scored more.
        &[(1, 1, false, true), (2, 3, true, true), (3, 4, true, true)],
        // No pass: the best score, the later of equals; an open attempt never counts.
        &[
            (1, 2, false, true),
            (2, 1, false, true),
            (3, 2, false, true),
            (4, 0, false, false),
        ],
        // One failed attempt.
        &[(1, 0, false, true)],
    ];
    let deadline = chrono::Utc::now() + chrono::Duration::minutes(30);
    for (chair, attempts) in s.chairs.iter().zip(cases) {
        for &(number, correct, passed, submitted) in attempts {
            let new = quorum::db::quiz::NewAttempt {
                person_id: *chair,
                number,
                seed: 1,
                deadline,
                items: vec![],
                makeup: false,
            };
            let id = quorum::db::quiz::insert_attempts(&s.app.db, quiz, vec![new])
                .await
                .unwrap()[0];
            if submitted {
                let at = chrono::Utc::now();
                quorum::db::quiz::finish(&s.app.db, id, "chair", correct, passed, &[], at)
                    .await
                    .unwrap();
            }
        }
    }
    let db = &s.app.db;
    // Attempts without drawn items have a total of 0; these had four questions.
    db.execute_unprepared(&format!("UPDATE attempts SET total = 4 WHERE quiz_id = {quiz}"))
        .await
        .unwrap();
    db.execute_unprepared(migrations::MARK_COUNTING).await.unwrap();
    let marked: Vec<i64> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM attempts WHERE counts ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0).unwrap())
        .collect();
    let mut expected = Vec::new();
    for chair in &s.chairs {
        let mine = quorum::db::quiz::attempts_of(db, quiz, *chair).await.unwrap();
        let counting = quorum::services::quiz::counting_attempt(&mine).unwrap();
        expected.push(counting.id);
    }
    expected.sort();
    assert_eq!(marked, expected);
    // By number: the second of the first chair, the third of the second, the only one of the third.
    let numbers: Vec<i32> = {
        let mut n = Vec::new();
        for (chair, id) in s.chairs.iter().zip(&expected) {
            let mine = quorum::db::quiz::attempts_of(db, quiz, *chair).await.unwrap();
            n.push(mine.iter().find(|a| a.id == *id).unwrap().number);
        }
        n
    };
    assert_eq!(numbers, [2, 3, 1]);
}
