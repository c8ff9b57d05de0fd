//! Reports: figures on a hand-checked fixture, roll-up sums, scoping, and exports that match the page.

use quorum::domain::person::Role;

use crate::helpers::{Page, SessionForm, id_in, location, make_person, make_street};
use crate::quiz::{settings, setup};

#[tokio::test]
async fn a_date_the_dashboard_cannot_read_is_shown_beside_its_field() {
    let s = fixture().await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let r = official.get("/street/dashboard?from=2026%2F01%2F01&to=").await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        crate::errors::beside_field(&page, "from", "日期“2026/01/01”格式应为 2026-01-31"),
        "{page}"
    );
    assert!(page.contains("value=\"2026/01/01\""), "what was typed is kept: {page}");
}

/// Chairs 0 and 1 attended the whole 60-minute lecture (so far); chair 2 only its last 10 minutes.
/// Chair 0 answers all 4 right (100 %), chair 1 all wrong (0 %).
pub(crate) async fn fixture() -> crate::quiz::Setup {
    let s = setup(settings(4)).await;
    let opened = s.open_quiz(&s.chairs[..2]).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[0], true).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[1], false).await;
    s
}

/// A dashboard row: chairs, submitted, passed, pass rate, make-up submitted, make-up passed, certified,
/// coverage.
fn figures(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn the_session_report_computes_each_figure() {
    let s = fixture().await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let page = official.page(&format!("/sessions/{}/report", s.session)).await;
    // Counts and percentages in columns of their own.
    assert_eq!(page.row("邀请")[1..], ["3", "100.0%"]);
    assert_eq!(page.row("出席")[1..], ["3", "100.0%"]);
    // (60 + 60 + 10) / 3 minutes; the lecture is still live, so allow a minute of drift.
    let avg: f64 = page.definition("平均在场分钟").parse().unwrap();
    assert!((43.0..=44.0).contains(&avg), "{avg}");
    assert_eq!(page.row("达到出勤要求（60%）")[1..], ["2", "66.7%"]);
    assert_eq!(page.row("已交卷")[1..], ["2", "66.7%"]);
    assert_eq!(page.row("合格")[1..], ["1", "33.3%"]);
    assert_eq!(page.definition("合格率"), "50.0%");
    assert_eq!(page.definition("平均分"), "50.0%");
    assert_eq!(page.definition("中位数"), "50.0%");
    assert!(
        page.exists("svg") && page.body_text().contains("成绩分布"),
        "charts are drawn on the server: {page}"
    );

    // Exports carry the same table.
    let csv = official
        .get(&format!("/sessions/{}/report.csv", s.session))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM for Excel");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "姓名,居委,小区,直播分钟,回看增加分钟,在场分钟,在场比例,达到出勤要求,答卷,测试方式,得分,合格,证书邮件"
    );
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().any(|l| l.ends_with(",已交卷,随堂,4,是,无邮箱")), "{text}");
    assert!(lines.iter().any(|l| l.contains(",已交卷,随堂,0,否,")), "{text}");
    let xlsx = official
        .get(&format!("/sessions/{}/report.xlsx", s.session))
        .await
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0][0], "姓名");
    assert_eq!(rows.len(), 4);
    for (csv_line, row) in lines.iter().zip(&rows) {
        assert_eq!(
            csv_line.split(',').next().unwrap(),
            row[0],
            "same rows in the same order"
        );
    }
}

#[tokio::test]
async fn an_empty_session_shows_no_data_instead_of_dividing_by_zero() {
    let app = crate::helpers::spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let lawyer = make_person(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    crate::helpers::signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let day = crate::helpers::future_day();
    let r = app
        .schedule_session(&SessionForm::on("空场次", &day, "14:00", "15:00", place.street, lawyer))
        .await;
    let id = id_in(&location(&r));
    let page = app.page(&format!("/sessions/{id}/report")).await;
    assert_eq!(page.definition("合格率"), "无数据");
    assert_eq!(page.definition("平均分"), "无数据");
    assert_eq!(page.definition("中位数"), "无数据");
    assert_eq!(page.row("出席")[1..], ["0", "无数据"]);
}

#[tokio::test]
async fn the_dashboard_rolls_up_and_is_scoped_to_the_officials_streets() {
    let s = fixture().await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let page = official.page("/street/dashboard").await;
    // Street → 一居委: 3 chairs, 2 submitted, 1 passed (50 %), none in a make-up window, 1 certified
    // (33.3 %); the total equals the sum.
    let expected = figures(&["3", "2", "1", "50.0%", "0", "0", "1", "33.3%"]);
    let neighbourhood = page.row("一居委");
    assert_eq!(neighbourhood[1..], expected[..], "{page}");
    assert!(
        page.link("一居委").starts_with("/street/dashboard?unit="),
        "the row links to its breakdown"
    );
    let total = page.table_rows("tr.total");
    assert_eq!(total.len(), 1, "one total row: {page}");
    assert!(total[0][0].ends_with("（合计）"), "{:?}", total[0]);
    assert_eq!(total[0][1..], expected[..], "{page}");
    let csv =
        String::from_utf8(official.get("/street/dashboard.csv").await.bytes().await.unwrap()[3..].to_vec()).unwrap();
    assert!(csv.contains("一居委,3,2,1,50.0%,0,0,1,33.3%"), "{csv}");
    // A range without the session: no attempts counted, yet her certificate (issued in this term) still
    // makes her committee certified — certified is by term, not by the dates chosen.
    let page = official.page("/street/dashboard?from=2020-01-01&to=2020-12-31").await;
    let row = page.row("一居委");
    assert_eq!((row[1].as_str(), row[2].as_str()), ("3", "0"), "{page}");
    assert_eq!((row[7].as_str(), row[8].as_str()), ("1", "33.3%"), "{page}");
    assert!(
        page.body_text().contains("与上面选择的日期无关"),
        "the rule is said on the page"
    );
    // An official of another street gets 403.
    let other = make_street(&s.app, "洋泾街道").await;
    let stranger = s.app.other_browser();
    crate::helpers::signed_in_as(&stranger, "13800000099", &[Role::Official], &[other.street], None).await;
    let street_id = quorum::db::org::all_of_kind(&s.app.db, quorum::domain::org::OrgKind::Street)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == "花木街道")
        .unwrap()
        .id;
    assert_eq!(
        stranger
            .get_status(&format!("/street/dashboard?unit={street_id}"))
            .await,
        403
    );
    assert_eq!(
        stranger.get_status(&format!("/sessions/{}/report", s.session)).await,
        403
    );
    assert_eq!(
        stranger
            .get_status(&format!("/sessions/{}/report.csv", s.session))
            .await,
        403
    );
}

#[tokio::test]
async fn item_analysis_shows_facility_discrimination_and_choices_to_lawyers_only() {
    let s = fixture().await;
    let lawyer = s.app.other_browser();
    lawyer.sign_in("13800000007", crate::helpers::PASSWORD).await;
    let page = lawyer.page("/banks/analysis").await;
    assert!(
        page.text_of("h1").contains("题目分析") && page.body_text().contains("t-"),
        "{page}"
    );
    let csv = lawyer.get("/banks/analysis.csv").await.bytes().await.unwrap();
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert!(!lines.is_empty());
    // With one perfect and one all-wrong attempt, the upper group is the perfect one and the lower the
    // other: an item both drew has facility 50 % and discrimination 1.00; an item only one drew has no
    // discrimination (无数据) and facility 100 % or 0 %.
    for l in &lines {
        let (drawn, facility, disc) = (l[3], l[4], l[5]);
        match drawn {
            "2" => assert_eq!((facility, disc), ("50%", "1.00"), "{l:?}"),
            "1" => assert!(disc == "无数据" && (facility == "100%" || facility == "0%"), "{l:?}"),
            other => panic!("drawn {other}: {l:?}"),
        }
        let chosen: u64 = l[6]
            .split(' ')
            .filter_map(|c| c.rsplit(':').next())
            .filter_map(|n| n.parse::<u64>().ok())
            .sum();
        assert!(chosen >= drawn.parse().unwrap(), "every answer is counted: {l:?}");
        assert_eq!(l[7], "", "too few answers to flag");
    }
    let total: u64 = lines.iter().map(|l| l[3].parse::<u64>().unwrap()).sum();
    assert_eq!(total, 8, "two attempts of four questions");
    // Filters narrow it; others may not see it.
    let filtered = String::from_utf8(
        lawyer
            .get("/banks/analysis.csv?citation=test-law+2")
            .await
            .bytes()
            .await
            .unwrap()[3..]
            .to_vec(),
    )
    .unwrap();
    assert!(filtered.lines().skip(1).all(|l| l.contains("test-law 2")), "{filtered}");
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    assert_eq!(official.get("/banks/analysis").await.status().as_u16(), 403);
}

#[tokio::test]
async fn the_evidence_pack_holds_attendance_results_certificates_and_statutes() {
    let s = fixture().await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let r = official.get(&format!("/sessions/{}/evidence.zip", s.session)).await;
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        use std::io::Read;
        let mut f = z.by_name(name).unwrap();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        String::from_utf8(v[3..].to_vec()).unwrap()
    };
    assert_eq!(
        read("attendance.csv").lines().count(),
        4,
        "three intervals and a header"
    );
    let results = read("results.csv");
    assert!(
        results.contains(",已交卷,随堂,4,是,") && results.contains(",已交卷,随堂,0,否,"),
        "{results}"
    );
    let certs = read("certificates.csv");
    assert_eq!(certs.lines().count(), 2, "one certificate: {certs}");
    assert!(certs.contains("有效"));
    let statutes = read("statutes.csv");
    assert!(
        statutes.contains("test-law,2024-01-01") && statutes.contains("第一款"),
        "{statutes}"
    );
    let stranger = s.app.other_browser();
    let other = make_street(&s.app, "洋泾街道").await;
    crate::helpers::signed_in_as(&stranger, "13800000099", &[Role::Official], &[other.street], None).await;
    assert_eq!(
        stranger
            .get_status(&format!("/sessions/{}/evidence.zip", s.session))
            .await,
        403
    );
}

#[tokio::test]
async fn a_new_committee_term_makes_an_older_certificate_not_count() {
    let s = fixture().await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let committee = quorum::db::people::get(&s.app.db, s.chairs[0])
        .await
        .unwrap()
        .unwrap()
        .committee_id
        .unwrap();
    let street = quorum::db::org::get(&s.app.db, committee)
        .await
        .unwrap()
        .unwrap()
        .street_id
        .unwrap();
    let uncertified = |page: &Page| {
        page.items_under("主任尚无有效证书的业委会")
            .iter()
            .any(|c| c.starts_with("幸福小区业主委员会"))
    };
    // Drill down to the estate: its committee's chair (chairs[0], certified) is not listed.
    let unit = quorum::db::org::get(&s.app.db, committee).await.unwrap().unwrap();
    let estate = unit.parent_id.unwrap();
    let page = official.page(&format!("/street/dashboard?unit={estate}")).await;
    assert!(!uncertified(&page), "{page}");
    // An admin records the committee's new term, which starts after the certificate was issued: it no
    // longer counts.
    let admin = s.app.other_browser();
    crate::helpers::signed_in_as(&admin, "13800000009", &[Role::Admin], &[], None).await;
    let term_start = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let r = admin
        .post_form(
            &format!("/admin/org/{committee}"),
            &[
                ("name", unit.name.as_str()),
                ("term_start", term_start.as_str()),
                ("term_end", "2031-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(Page::parse(r.text().await.unwrap()).text_of(".notice.ok"), "已保存。");
    let page = official.page(&format!("/street/dashboard?unit={estate}")).await;
    assert!(uncertified(&page), "{page}");
    let page = official.page(&format!("/street/dashboard?unit={street}")).await;
    let total = page.table_rows("tr.total");
    assert_eq!(
        total[0][1..],
        figures(&["3", "2", "1", "50.0%", "0", "0", "0", "0.0%"])[..],
        "coverage drops to 0: {page}"
    );
}

#[tokio::test]
async fn an_official_reads_a_chairs_training_record_and_other_streets_cannot() {
    let s = fixture().await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", crate::helpers::PASSWORD).await;
    let list = official.page("/street/chairs").await;
    let href = format!("/street/chairs/{}", s.chairs[0]);
    assert!(
        list.to_string().contains(&href),
        "the chairs' list links to each record"
    );
    let page = official.page(&href).await;
    let rows = page.table_rows("tbody tr");
    assert_eq!(rows.len(), 1, "{page}");
    let row = &rows[0];
    assert!(row[0].starts_with("换届改选实务"), "{row:?}");
    // Live 60 minutes, nothing added by replay, 60 together, the whole lecture; passed 4 of 4.
    assert_eq!(row[1..5], ["60", "0", "60", "100%"], "{row:?}");
    assert!(row[5].starts_with("4 / 4") && row[5].contains("通过"), "{row:?}");
    assert!(row[6].contains("-S"), "the certificate's serial: {row:?}");
    // An official of another street, and a chair, cannot read it.
    let other = make_street(&s.app, "洋泾街道").await;
    let stranger = s.app.other_browser();
    crate::helpers::signed_in_as(&stranger, "13800000098", &[Role::Official], &[other.street], None).await;
    assert_eq!(stranger.get_status(&href).await, 403);
    let chair = s.app.other_browser();
    chair.sign_in("13900000101", crate::helpers::PASSWORD).await;
    assert_eq!(chair.get_status(&href).await, 403);
}
