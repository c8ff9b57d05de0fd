//! Question banks: the validator, loading with versions, retirement, statute amendments, the lawyers'
//! pages, export/import round trip, GIFT and Aiken import.

use std::path::PathBuf;
use std::process::Command;

use quorum::db::banks as db;
use quorum::domain::bank::QuestionStatus;
use quorum::domain::person::Role;
use quorum::question_banks::{check, format};
use quorum::services::banks;
use reqwest::multipart::{Form, Part};

use crate::helpers::{Page, TestApp, csrf_of, signed_in_as, spawn_app_with};

/// A bank file the banks page reports as refused: what it says about the file, and the problems listed.
struct Refused {
    says: String,
    problems: Vec<String>,
}

/// The refused files on the banks page, by file name.
fn refused(page: &Page, file: &str) -> Option<Refused> {
    page.select_all(".notice.error").into_iter().find_map(|notice| {
        let p = Page::parse(notice.html());
        (p.text_of("strong") == file).then(|| Refused {
            says: p.text_of("p"),
            problems: p.texts_of("ul.problems li"),
        })
    })
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_banks_pass_the_validator() {
    let report = check::check_dir(&repo().join("question-banks"));
    assert!(report.is_clean(), "{:#?}", report.lines());
    assert!(report.question_count() >= 120, "{}", report.question_count());
    let topics: std::collections::BTreeSet<_> = report
        .files
        .iter()
        .filter_map(|f| f.parsed.meta.as_ref())
        .map(|m| m.topic.clone())
        .collect();
    assert!(topics.len() >= 6, "{topics:?}");
    for f in &report.files {
        assert!(
            f.parsed.meta.as_ref().unwrap().sample,
            "{} is marked as a sample bank",
            f.path.display()
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args(["banks", "check"])
        .arg(repo().join("question-banks"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn broken_banks_fail_naming_file_and_line_for_each_kind_of_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args(["banks", "check"])
        .arg(repo().join("tests/fixtures/banks-broken"))
        .env("QUORUM_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = [
        ("a-fields.toml:18:", "question a-1: unknown field `anwser`"),
        ("a-fields.toml:21:", "question a-2: missing field `explanation`"),
        ("a-fields.toml:34:", "expected `,`"),
        ("b-answers.toml:14:", "answer C is not one of the options"),
        (
            "b-answers.toml:24:",
            "a single-choice question has exactly one answer, not 2",
        ),
        ("b-answers.toml:33:", "option C repeats an earlier option"),
        ("b-answers.toml:42:", "the stem is empty"),
        ("b-answers.toml:49:", "duplicate question id `b-4`"),
        ("c-citations.toml:16:", "unknown statute `no-such-law`"),
        ("c-citations.toml:17:", "test-law has no article 99"),
        ("c-citations.toml:18:", "no such paragraph or item (test-law 1 ¶3)"),
        ("c-citations.toml:19:", "no such paragraph or item (test-law 1 ¶1 (3))"),
        (
            "c-citations.toml:24:",
            "question id `b-1` is already used at b-answers.toml:9",
        ),
    ];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (loc, msg) in expected {
        assert!(
            lines.iter().any(|l| l.contains(loc) && l.contains(msg)),
            "missing {loc} {msg} in\n{text}"
        );
    }
}

/// A folder with the fixture statute and the given bank files.
fn bank_dir(app: &TestApp, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-banks-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("statutes")).unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/banks-broken/statutes/test-law.toml"),
        dir.join("statutes/test-law.toml"),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let _ = app;
    dir
}

const HEADER: &str = "[bank]\nid = \"demo\"\ntitle = \"演示题库\"\ntopic = \"业主大会\"\nauthors = [\"甲\"]\nreviewer = \"刘律师\"\nreview_date = 2026-11-20\n";

fn question(id: &str, stem: &str, statute: &str, article: u32) -> String {
    format!(
        "\n[[question]]\nid = \"{id}\"\nkind = \"single\"\nstem = \"{stem}\"\noptions = [\"甲\", \"乙\", \"丙\"]\nanswer = \"B\"\nexplanation = \"因为乙。\"\ncitations = [{{ statute = \"{statute}\", article = {article} }}]\ntags = [\"表决\"]\ndifficulty = 2\n"
    )
}

async fn version_of(app: &TestApp, qid: &str) -> (i32, QuestionStatus) {
    let q = db::question_by_qid(&app.db, qid).await.unwrap().unwrap();
    (q.current.version_no, q.status)
}

#[tokio::test]
async fn loading_creates_versions_only_when_content_changes_and_retires_removed_questions() {
    let app = spawn_app_with(|_| {}).await;
    let q1 = question("d-1", "第一题", "test-law", 1);
    let q2 = question("d-2", "第二题", "test-law", 2);
    let dir = bank_dir(&app, &[("demo.toml", &format!("{HEADER}{q1}{q2}"))]);
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(
        (out.banks_loaded, out.questions_created, out.versions_created),
        (1, 2, 0)
    );

    // Unchanged files change nothing.
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(
        (out.questions_created, out.versions_created, out.questions_retired),
        (0, 0, 0)
    );

    // One stem edited: one new version; the other question keeps version 1.
    std::fs::write(
        dir.join("demo.toml"),
        format!("{HEADER}{}{q2}", question("d-1", "第一题（修订）", "test-law", 1)),
    )
    .unwrap();
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(out.versions_created, 1);
    assert_eq!(version_of(&app, "d-1").await, (2, QuestionStatus::Active));
    assert_eq!(version_of(&app, "d-2").await, (1, QuestionStatus::Active));
    let d1 = db::question_by_qid(&app.db, "d-1").await.unwrap().unwrap();
    let versions = db::versions_of(&app.db, d1.id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.content.stem.as_str()).collect::<Vec<_>>(),
        ["第一题（修订）", "第一题"],
        "old versions are kept"
    );

    // A question removed from the file is retired, not deleted, and still readable.
    std::fs::write(
        dir.join("demo.toml"),
        format!("{HEADER}{}", question("d-1", "第一题（修订）", "test-law", 1)),
    )
    .unwrap();
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(out.questions_retired, 1);
    let d2 = db::question_by_qid(&app.db, "d-2").await.unwrap().unwrap();
    assert_eq!(d2.status, QuestionStatus::Retired);
    assert_eq!(d2.current.content.stem, "第二题");
    let bank = db::bank_by_slug(&app.db, "demo").await.unwrap().unwrap();
    let pool: Vec<String> = banks::drawable(&app.db, bank.id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.qid)
        .collect();
    assert_eq!(pool, ["d-1"], "retired questions are not drawn");
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let page = app.get_text(&format!("/questions/{}", d2.id)).await;
    assert!(page.contains("第二题") && page.contains("已停用"), "{page}");
}

#[tokio::test]
async fn a_bank_file_with_errors_is_refused_and_the_loaded_version_stays() {
    let app = spawn_app_with(|_| {}).await;
    let good = format!("{HEADER}{}", question("d-1", "第一题", "test-law", 1));
    let dir = bank_dir(&app, &[("demo.toml", &good)]);
    banks::sync_dir(&app.db, &dir).await.unwrap();
    std::fs::write(
        dir.join("demo.toml"),
        good.replace("第一题", "第一题（改）")
            .replace("answer = \"B\"", "answer = \"Z\""),
    )
    .unwrap();
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(out.banks_refused, ["demo.toml"]);
    assert_eq!(
        db::question_by_qid(&app.db, "d-1")
            .await
            .unwrap()
            .unwrap()
            .current
            .content
            .stem,
        "第一题"
    );
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let page = app.page("/banks").await;
    let demo = refused(&page, "demo.toml").unwrap_or_else(|| panic!("demo.toml is not reported: {page}"));
    assert!(demo.says.contains("未加载"), "{}", demo.says);
    assert!(
        demo.problems.iter().any(|l| l.starts_with("demo.toml:14:")),
        "{:?}",
        demo.problems
    );
}

/// The Shanghai regulation as it read after its 2020 amendment: the 2023 file with the four articles
/// that changed in 2022/2023 put back to their 2020 wording (see the corpus README).
fn shanghai_2020() -> String {
    let text =
        std::fs::read_to_string(repo().join("question-banks/statutes/shanghai-residential-property-management.toml"))
            .unwrap();
    let mut doc: toml::Table = toml::from_str(&text).unwrap();
    doc.insert("revision_date".into(), toml::Value::String("2020-12-30".into()));
    let articles = doc.get_mut("article").and_then(|a| a.as_array_mut()).unwrap();
    for a in articles.iter_mut() {
        let t = a.as_table_mut().unwrap();
        let n = t["number"].as_integer().unwrap();
        let old = t["text"].as_str().unwrap().to_string();
        let new = match n {
            20 => old.replace(
                "损坏房屋主体和承重结构、违法搭建、破坏房屋外貌、擅自改变物业使用性质、违法出租房屋以及不执行业主大会、业主委员会决定等情形之一",
                "损坏房屋承重结构、违法搭建、破坏房屋外貌、擅自改变物业使用性质、欠交物业服务费或者专项维修资金、违法出租房屋等情形之一",
            ),
            56 => old.replace("（一）损坏房屋主体和承重结构；", "（一）损坏房屋承重结构；"),
            83 => "违反本规定第五十六条第二款第一项规定，损坏房屋承重结构的，由区房屋行政管理部门责令立即改正，恢复原状，可处一万元以上十万元以下的罚款；情节严重的，可处十万元以上二十万元以下的罚款。".to_string(),
            90 => old.replace("行政行为", "具体行政行为"),
            _ => old.clone(),
        };
        if [20, 56, 83, 90].contains(&n) {
            assert_ne!(new, old, "fixture changes article {n}");
        }
        t.insert("text".into(), toml::Value::String(new));
    }
    toml::to_string(&doc).unwrap()
}

#[tokio::test]
async fn an_amended_statute_flags_exactly_the_questions_citing_changed_articles() {
    let app = spawn_app_with(|_| {}).await;
    let sh = "shanghai-residential-property-management";
    let mut bank = HEADER.to_string();
    for (id, article) in [
        ("s-20", 20),
        ("s-56", 56),
        ("s-83", 83),
        ("s-90", 90),
        ("s-18", 18),
        ("s-25", 25),
        ("s-73", 73),
    ] {
        bank.push_str(&question(id, &format!("关于第{article}条"), sh, article));
    }
    let dir = bank_dir(&app, &[("demo.toml", &bank)]);
    std::fs::write(dir.join(format!("statutes/{sh}.toml")), shanghai_2020()).unwrap();
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!((out.questions_created, out.flagged.len()), (7, 0));

    // The 2023 revision arrives.
    std::fs::copy(
        repo().join(format!("question-banks/statutes/{sh}.toml")),
        dir.join(format!("statutes/{sh}.toml")),
    )
    .unwrap();
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    let mut flagged = out.flagged.clone();
    flagged.sort();
    assert_eq!(flagged, ["s-20", "s-56", "s-83", "s-90"]);
    let bank_id = db::bank_by_slug(&app.db, "demo").await.unwrap().unwrap().id;
    let mut pool: Vec<String> = banks::drawable(&app.db, bank_id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.qid)
        .collect();
    pool.sort();
    assert_eq!(pool, ["s-18", "s-25", "s-73"], "flagged questions are not drawn");
    // Restarting with the same files flags nothing new and keeps the flags.
    let (_, again) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert!(again.flagged.is_empty());
    assert_eq!(version_of(&app, "s-20").await.1, QuestionStatus::NeedsReview);

    // A lawyer sees the list and the old and new texts, then re-confirms one question.
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let queue = app.get_text("/banks/review").await;
    for id in ["s-20", "s-56", "s-83", "s-90"] {
        assert!(queue.contains(id), "{id} listed");
    }
    assert!(!queue.contains("s-18"));
    let s83 = db::question_by_qid(&app.db, "s-83").await.unwrap().unwrap();
    let page = app.get_text(&format!("/questions/{}", s83.id)).await;
    assert!(
        page.contains("可处一万元以上十万元以下的罚款") && page.contains("处五万元以上十万元以下的罚款"),
        "old and current texts: {page}"
    );
    let r = app.post_form(&format!("/questions/{}/confirm", s83.id), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let s83 = db::question_by_qid(&app.db, "s-83").await.unwrap().unwrap();
    assert_eq!(s83.status, QuestionStatus::Active);
    assert_eq!(s83.reviewed_by.as_deref(), Some("测试用户"));
    assert!(s83.reviewed_at.is_some());
    assert_eq!(
        s83.current.revisions,
        ["2023-12-28"],
        "the confirmed version pins the current text"
    );
    let old = db::versions_of(&app.db, s83.id)
        .await
        .unwrap()
        .into_iter()
        .find(|v| v.version_no == 1)
        .unwrap();
    assert_eq!(
        old.revisions,
        ["2020-12-30"],
        "the first version still points at the 2020 text"
    );
    let text_2020 = quorum::db::statutes::article(&app.db, sh, "2020-12-30", 83)
        .await
        .unwrap()
        .unwrap();
    assert!(text_2020.text.contains("情节严重的"), "old article texts stay readable");
}

async fn export_text(app: &TestApp, bank_id: i64) -> String {
    let r = app.get(&format!("/banks/{bank_id}/export")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(".toml"));
    r.text().await.unwrap()
}

#[tokio::test]
async fn exporting_a_bank_and_loading_the_file_gives_the_same_questions() {
    let app = spawn_app_with(|s| s.paths.banks_dir = repo().join("question-banks")).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let bank = db::bank_by_slug(&app.db, "owners-general-meeting")
        .await
        .unwrap()
        .unwrap();
    let exported = export_text(&app, bank.id).await;
    let parsed = format::parse(&exported);
    assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
    let in_db: Vec<_> = db::questions_of_bank(&app.db, bank.id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| (q.qid, q.current.content))
        .collect();
    let in_file: Vec<_> = parsed.questions.into_iter().map(|q| (q.id, q.content)).collect();
    assert_eq!(in_db.len(), in_file.len());
    assert_eq!(in_db, in_file);
    assert_eq!(parsed.meta.unwrap().id, "owners-general-meeting");
    // The original file and the export describe the same bank.
    let original =
        format::parse(&std::fs::read_to_string(repo().join("question-banks/owners-general-meeting.toml")).unwrap());
    assert_eq!(
        original
            .questions
            .into_iter()
            .map(|q| (q.id, q.content))
            .collect::<Vec<_>>(),
        in_file
    );
}

async fn upload_import(app: &TestApp, bank: i64, format: &str, text: &str) -> reqwest::Response {
    let token = csrf_of(&app.get_text("/banks/import").await);
    let form = Form::new()
        .text("csrf", token)
        .text("bank", bank.to_string())
        .text("format", format.to_string())
        .part("file", Part::bytes(text.as_bytes().to_vec()).file_name("questions.txt"));
    app.client
        .post(app.url("/banks/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn gift_and_aiken_files_import_as_questions_awaiting_citations() {
    let app = spawn_app_with(|_| {}).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let r = app
        .post_form(
            "/banks/new",
            &[("slug", "imported"), ("title", "导入的题目"), ("topic", "业主大会")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let bank = db::bank_by_slug(&app.db, "imported").await.unwrap().unwrap();

    let gift = "// 从 Moodle 导出\n::Q1:: 业主大会的决定对谁有约束力？ {~仅赞成者 =全体业主 ~业委会委员}\n\n业委会可以自行决定使用维修资金。{F}\n";
    let r = upload_import(&app, bank.id, "gift", gift).await;
    assert_eq!(r.status().as_u16(), 303);
    let aiken = "物业服务合同应当采用什么形式？\nA. 口头\nB. 书面\nANSWER: B\n";
    assert_eq!(
        upload_import(&app, bank.id, "aiken", aiken).await.status().as_u16(),
        303
    );
    let qs = db::questions_of_bank(&app.db, bank.id).await.unwrap();
    assert_eq!(qs.len(), 3);
    assert!(
        qs.iter().all(|q| q.status == QuestionStatus::NeedsReview),
        "no citations yet: not drawable"
    );
    assert!(banks::drawable(&app.db, bank.id).await.unwrap().is_empty());

    // Bad files: every unreadable line is named and nothing is imported.
    let r = upload_import(
        &app,
        bank.id,
        "gift",
        "好题 {=甲 ~乙}\n\n简答题 {=甲}\n\n缺括号 {=甲 ~乙\n",
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("第 3: 不支持的 GIFT 题型") && page.contains("第 5: 答案部分缺少右括号"),
        "{page}"
    );
    let r = upload_import(&app, bank.id, "aiken", "问题\nA. 甲\nB. 乙\nANSWER: C\n").await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("第 4: 答案“C”不是本题的选项字母"));
    assert_eq!(db::questions_of_bank(&app.db, bank.id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn lawyers_write_and_edit_questions_with_form_errors_where_they_belong() {
    let app = spawn_app_with(|s| s.paths.banks_dir = repo().join("question-banks")).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let bank = db::bank_by_slug(&app.db, "maintenance-fund").await.unwrap().unwrap();
    let path = format!("/banks/{}/questions/new", bank.id);
    let mut fields = vec![
        ("qid", "mf-new-1"),
        ("kind", "single"),
        ("stem", "专项维修资金属于谁？"),
        ("options", "业主共有\n物业服务企业\n业主委员会"),
        ("answer", "A,B"),
        ("explanation", "维修资金属于业主共有。"),
        ("citations", "civil-code 281\ncivil-code 9999"),
        ("tags", "维修资金"),
        ("difficulty", "1"),
    ];
    let r = app.post_form(&path, &fields).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    assert!(
        page.field_error("answer")
            .is_some_and(|e| e.contains("单选题必须恰好有一个正确答案"))
            && page
                .field_error("citations")
                .is_some_and(|e| e.contains("中没有第9999条")),
        "{page}"
    );
    assert_eq!(
        page.field_value("stem"),
        "专项维修资金属于谁？",
        "typed values are kept"
    );

    fields[4] = ("answer", "A");
    fields[6] = ("citations", "civil-code 281 1");
    // A question a chair would have to scroll to read on her phone is sent back, as in bank files.
    let long_stem = "业主大会决定筹集和使用专项维修资金的，应当经专有部分面积占比三分之二以上的业主且人数占比三分之二以上的业主参与表决。".repeat(5);
    let mut long = fields.clone();
    long[2] = ("stem", &long_stem);
    let r = app.post_form(&path, &long).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    assert!(
        page.field_error("stem").is_some_and(|e| e.contains("一屏放不下")),
        "{page}"
    );
    let r = app.post_form(&path, &fields).await;
    assert_eq!(r.status().as_u16(), 303);
    let q = db::question_by_qid(&app.db, "mf-new-1").await.unwrap().unwrap();
    assert_eq!((q.current.version_no, q.status), (1, QuestionStatus::Active));
    let page = app.get_text(&format!("/questions/{}", q.id)).await;
    assert!(
        page.contains("建筑物及其附属设施的维修资金，属于业主共有"),
        "the cited article text is shown: {page}"
    );
    assert!(page.contains("《中华人民共和国民法典》第二百八十一条第一款"), "{page}");

    // Editing makes version 2; the id stays.
    fields[2] = ("stem", "专项维修资金归谁所有？");
    let r = app.post_form(&format!("/questions/{}", q.id), &fields).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(version_of(&app, "mf-new-1").await, (2, QuestionStatus::Active));

    // Filters find it.
    let list = app
        .get_text(&format!("/banks/{}?citation=civil-code+281&text=归谁", bank.id))
        .await;
    assert!(list.contains("mf-new-1"));
    let list = app.get_text(&format!("/banks/{}?status=needs_review", bank.id)).await;
    assert!(!list.contains("mf-new-1"));
    let home = app.get_text("/").await;
    assert!(home.contains("专项维修资金"), "the lawyer's home lists banks");
}

#[tokio::test]
async fn only_lawyers_reach_authoring() {
    let app = spawn_app_with(|s| s.paths.banks_dir = repo().join("question-banks")).await;
    let bank = db::bank_by_slug(&app.db, "common-parts").await.unwrap().unwrap();
    let q = db::questions_of_bank(&app.db, bank.id).await.unwrap().remove(0);
    let pages = [
        "/banks".to_string(),
        format!("/banks/{}", bank.id),
        format!("/questions/{}", q.id),
        format!("/banks/{}/export", bank.id),
        "/banks/import".into(),
    ];
    let street = crate::helpers::make_street(&app, "花木街道").await.street;
    for (phone, role) in [
        ("13800000001", Role::Chair),
        ("13800000003", Role::Official),
        ("13800000004", Role::Admin),
    ] {
        let b = app.other_browser();
        let streets = if role == Role::Official { vec![street] } else { vec![] };
        crate::helpers::make_person(&b, phone, &[role], &streets, None).await;
        b.sign_in(phone, crate::helpers::PASSWORD).await;
        for p in &pages {
            assert_eq!(b.get(p).await.status().as_u16(), 403, "{role:?} {p}");
        }
        let r = b.post_form(&format!("/questions/{}/confirm", q.id), &[]).await;
        assert_eq!(r.status().as_u16(), 403);
    }
}

/// A copy of the shipped banks (with their statutes) to edit.
fn shipped_banks_copy() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-banks-{}", uuid::Uuid::new_v4().simple()));
    for sub in ["", "statutes"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(repo().join("question-banks").join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    dir
}

/// The 1-based line of the first line of `text` equal to `line`.
fn line_of(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).unwrap() + 1
}

/// Appends a copy of `ogm-001` (its stem edited) to committee-election.toml; returns the line of the
/// copy's `[[question]]` header there and of the original's in owners-general-meeting.toml.
fn paste_ogm_001_into_committee_election(dir: &std::path::Path) -> (usize, usize) {
    let ogm = std::fs::read_to_string(dir.join("owners-general-meeting.toml")).unwrap();
    let start = ogm.find("[[question]]\nid = \"ogm-001\"").unwrap();
    let len = ogm[start + 1..].find("[[question]]").unwrap() + 1;
    let block = ogm[start..start + len].replacen("stem = \"", "stem = \"（复制）", 1);
    let ce_path = dir.join("committee-election.toml");
    let mut ce = std::fs::read_to_string(&ce_path).unwrap();
    let copy_line = ce.lines().count() + 2;
    ce.push('\n');
    ce.push_str(&block);
    std::fs::write(&ce_path, &ce).unwrap();
    assert_eq!(ce.lines().nth(copy_line - 1), Some("[[question]]"));
    (copy_line, line_of(&ogm, "id = \"ogm-001\"") - 1)
}

async fn ogm_bank_state(app: &TestApp) -> (i64, Vec<(String, i32, QuestionStatus, String)>) {
    let bank = db::bank_by_slug(&app.db, "owners-general-meeting")
        .await
        .unwrap()
        .unwrap();
    let mut qs: Vec<_> = db::questions_of_bank(&app.db, bank.id)
        .await
        .unwrap()
        .into_iter()
        .map(|q| (q.qid, q.current.version_no, q.status, q.current.content.stem))
        .collect();
    qs.sort_by(|a, b| a.0.cmp(&b.0));
    (bank.id, qs)
}

#[tokio::test]
async fn a_question_id_pasted_into_another_bank_refuses_that_file_and_keeps_the_established_bank() {
    let app = spawn_app_with(|_| {}).await;
    let dir = shipped_banks_copy();
    let (_, first) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert!(first.banks_refused.is_empty(), "{first:?}");
    let before = ogm_bank_state(&app).await;
    let ce_bank = db::bank_by_slug(&app.db, "committee-election").await.unwrap().unwrap();
    let ce_before = db::questions_of_bank(&app.db, ce_bank.id).await.unwrap().len();

    let (copy_line, original_line) = paste_ogm_001_into_committee_election(&dir);
    let (report, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(
        out.banks_refused,
        ["committee-election.toml"],
        "the file with the copy is refused"
    );
    let expected = format!(
        "committee-election.toml:{copy_line}: question id `ogm-001` is already used at owners-general-meeting.toml:{original_line}"
    );
    let lines = report.lines();
    assert!(lines.iter().any(|l| l.contains(&expected)), "{expected} in {lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(
        ogm_bank_state(&app).await,
        before,
        "the established bank is loaded and unchanged"
    );
    let ogm_001 = db::question_by_qid(&app.db, "ogm-001").await.unwrap().unwrap();
    assert_eq!(ogm_001.bank_id, before.0, "the question did not move");
    assert_eq!(
        db::questions_of_bank(&app.db, ce_bank.id).await.unwrap().len(),
        ce_before
    );

    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let page = app.page("/banks").await;
    let ce = refused(&page, "committee-election.toml")
        .unwrap_or_else(|| panic!("committee-election.toml is not reported: {page}"));
    assert!(
        ce.says
            .starts_with("committee-election.toml 有错误，未加载（仍在使用上次成功加载的版本）"),
        "{}",
        ce.says
    );
    let expected = format!(
        "committee-election.toml:{copy_line}: 题目编号“ogm-001”已在 owners-general-meeting.toml 第{original_line}行使用"
    );
    assert!(ce.problems.iter().any(|l| l.contains(&expected)), "{:?}", ce.problems);
    assert!(refused(&page, "owners-general-meeting.toml").is_none(), "{page}");
}

#[tokio::test]
async fn on_a_fresh_database_the_first_file_keeps_a_duplicated_question_id_and_the_page_says_the_other_never_loaded() {
    let app = spawn_app_with(|_| {}).await;
    let dir = shipped_banks_copy();
    let (copy_line, original_line) = paste_ogm_001_into_committee_election(&dir);
    let (report, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(out.banks_refused, ["owners-general-meeting.toml"]);
    let expected = format!(
        "owners-general-meeting.toml:{original_line}: question id `ogm-001` is already used at committee-election.toml:{copy_line}"
    );
    assert!(
        report.lines().iter().any(|l| l.contains(&expected)),
        "{:#?}",
        report.lines()
    );
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let page = app.page("/banks").await;
    let ogm = refused(&page, "owners-general-meeting.toml")
        .unwrap_or_else(|| panic!("owners-general-meeting.toml is not reported: {page}"));
    assert!(
        ogm.says
            .starts_with("owners-general-meeting.toml 有错误，未加载（这个文件还从未成功加载过"),
        "{}",
        ogm.says
    );
}

#[tokio::test]
async fn a_bank_id_reused_by_a_new_file_refuses_the_new_file_and_retires_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let dir = shipped_banks_copy();
    banks::sync_dir(&app.db, &dir).await.unwrap();
    let before = ogm_bank_state(&app).await;
    assert!(before.1.iter().all(|q| q.2 == QuestionStatus::Active));

    // A new file, sorted before the established one, that copied its header.
    let copy = format!(
        "{}{}",
        HEADER.replace("id = \"demo\"", "id = \"owners-general-meeting\""),
        question("copy-001", "复制来的题", "civil-code", 278)
    );
    std::fs::write(dir.join("a-copy.toml"), &copy).unwrap();
    let (report, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!(out.banks_refused, ["a-copy.toml"]);
    assert_eq!(out.questions_retired, 0);
    let ogm = std::fs::read_to_string(dir.join("owners-general-meeting.toml")).unwrap();
    let expected = format!(
        "a-copy.toml:2: bank id `owners-general-meeting` is already used at owners-general-meeting.toml:{}",
        line_of(&ogm, "id = \"owners-general-meeting\"")
    );
    assert!(
        report.lines().iter().any(|l| l.contains(&expected)),
        "{:#?}",
        report.lines()
    );
    assert_eq!(ogm_bank_state(&app).await, before, "the established bank is unchanged");
    assert!(db::question_by_qid(&app.db, "copy-001").await.unwrap().is_none());
    let bank = db::bank_by_slug(&app.db, "owners-general-meeting")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bank.file_name.as_deref(), Some("owners-general-meeting.toml"));

    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let page = app.page("/banks").await;
    let copy = refused(&page, "a-copy.toml").unwrap_or_else(|| panic!("a-copy.toml is not reported: {page}"));
    assert!(
        copy.says
            .starts_with("a-copy.toml 有错误，未加载（这个文件还从未成功加载过"),
        "{}",
        copy.says
    );

    // Deleting the copy again retires nothing of the bank whose id it borrowed.
    std::fs::remove_file(dir.join("a-copy.toml")).unwrap();
    let (_, out) = banks::sync_dir(&app.db, &dir).await.unwrap();
    assert_eq!((out.banks_refused.len(), out.questions_retired), (0, 0));
    assert_eq!(ogm_bank_state(&app).await, before);
    assert!(!app.get_text("/banks").await.contains("a-copy.toml"));
}

#[tokio::test]
async fn gift_and_aiken_imports_name_every_line_they_cannot_take_as_written() {
    let app = spawn_app_with(|_| {}).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    app.post_form(
        "/banks/new",
        &[("slug", "imported"), ("title", "导入的题目"), ("topic", "业主大会")],
    )
    .await;
    let bank = db::bank_by_slug(&app.db, "imported").await.unwrap().unwrap();

    // Errors: two questions run together, a repeated option. Nothing is imported.
    let merged = "::Q1:: 问题一 {=甲 ~乙}\n::Q2:: 问题二 {=丙 ~丁}\n\n问题三 {\n=戊\n~己\n~戊\n}\n";
    let r = upload_import(&app, bank.id, "gift", merged).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("第 2: 这里开始了另一道题，但它和第1行的上一题之间没有空行"),
        "{page}"
    );
    assert!(page.contains("第 7: 选项“戊”与前面的选项重复"), "{page}");

    // Aiken: the question without ANSWER is named at its own last line.
    let r = upload_import(
        &app,
        bank.id,
        "aiken",
        "问题一\nA. 甲\nB. 乙\n\n问题二\nA. 丙\nB. 丁\nANSWER: A\n",
    )
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("第 3: 第1行的题目“问题一”缺少 ANSWER 行"), "{page}");
    assert!(db::questions_of_bank(&app.db, bank.id).await.unwrap().is_empty());

    // Warnings: the questions import, and each line not kept as written is named.
    let lossy = "::Q1::[html]<p>业主大会的决定对谁有约束力？</p> {\n=全体业主#对\n~%50%仅赞成者#接近\n~业委会委员\n}\n";
    let r = upload_import(&app, bank.id, "gift", lossy).await;
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    for expected in [
        "第 1: HTML 格式的文字已去掉标记",
        "第 2: 选项“全体业主”的反馈“对”没有导入",
        "第 3: 选项“仅赞成者”的部分得分（50%）没有导入，按错误选项处理",
        "第 3: 选项“仅赞成者”的反馈“接近”没有导入",
    ] {
        assert!(page.contains(expected), "missing {expected} in {page}");
    }
    let qs = db::questions_of_bank(&app.db, bank.id).await.unwrap();
    assert_eq!(qs.len(), 1);
    assert_eq!(
        qs[0].current.content.stem, "业主大会的决定对谁有约束力？",
        "no markup in the text"
    );
}

#[tokio::test]
async fn lawyers_see_which_articles_the_questions_cover_and_name_the_rule_a_question_tests() {
    // Two questions on article 1 (one naming its rule), none on article 2.
    let dir = {
        let app = spawn_app_with(|_| {}).await;
        let q1 = question("d-1", "第一题", "test-law", 1);
        let q2 = question("d-2", "第二题", "test-law", 1)
            .replace("difficulty = 2\n", "difficulty = 2\nrule = \"test-law-1-own\"\n");
        bank_dir(&app, &[("demo.toml", &format!("{HEADER}{q1}{q2}"))])
    };
    let app = spawn_app_with(|s| s.paths.banks_dir = dir.clone()).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let page = app.page("/banks/coverage").await;
    assert!(
        page.body_text().contains("收录 2 条，其中 1 条有题目引用，1 条没有。"),
        "{page}"
    );
    assert!(
        page.to_string().contains("<h3>没有题目引用的条文</h3><p>第二条</p>"),
        "{page}"
    );
    let csv = app.get_text("/banks/coverage.csv").await;
    assert!(csv.contains("测试法,2024-01-01,第一条,,2,d-1 d-2"), "{csv}");
    assert!(csv.contains("测试法,2024-01-01,第二条,,0,"), "{csv}");
    // The rule is kept through the editor: shown, and saved again as it was.
    let q = db::question_by_qid(&app.db, "d-2").await.unwrap().unwrap();
    let form = app.page(&format!("/questions/{}/edit", q.id)).await;
    assert_eq!(form.attr_of("input[name=rule]", "value"), "test-law-1-own", "{form}");
    let d1 = db::question_by_qid(&app.db, "d-1").await.unwrap().unwrap();
    assert_eq!(d1.current.content.rule_key(), "test-law-1");
    // Chairs and officials do not reach it.
    let chair = app.other_browser();
    signed_in_as(&chair, "13900000101", &[Role::Chair], &[], None).await;
    assert_eq!(chair.get_status("/banks/coverage").await, 403);
    let _ = std::fs::remove_dir_all(dir);
}

async fn upload_statute(app: &TestApp, text: &str) -> reqwest::Response {
    let token = csrf_of(&app.get_text("/banks/statutes").await);
    let form = Form::new()
        .text("csrf", token)
        .part("file", Part::bytes(text.as_bytes().to_vec()).file_name("test-law.toml"));
    app.client
        .post(app.url("/banks/statutes"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_amendment_uploaded_through_the_page_flags_exactly_the_questions_citing_what_changed() {
    let dir = {
        let app = spawn_app_with(|_| {}).await;
        let q1 = question("d-1", "第一题", "test-law", 1);
        let q2 = question("d-2", "第二题", "test-law", 2);
        bank_dir(&app, &[("demo.toml", &format!("{HEADER}{q1}{q2}"))])
    };
    let app = spawn_app_with(|s| s.paths.banks_dir = dir.clone()).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let original = std::fs::read_to_string(dir.join("statutes/test-law.toml")).unwrap();
    // Article 2 is reworded in 2025; article 1 keeps its words.
    let amended = original
        .replace("revision_date = \"2024-01-01\"", "revision_date = \"2025-01-01\"")
        .replace("text = \"只有一款。\"", "text = \"只有一款，已修改。\"");
    assert_ne!(amended, original);
    let r = upload_statute(&app, &amended).await;
    assert_eq!(r.status().as_u16(), 200);
    let page = Page::parse(r.text().await.unwrap());
    assert!(page.text_of(".notice.ok").contains("2025-01-01"), "{page}");
    assert!(
        page.to_string().contains("<li>d-2</li>") && !page.to_string().contains("<li>d-1</li>"),
        "{page}"
    );
    assert_eq!(version_of(&app, "d-2").await.1, QuestionStatus::NeedsReview);
    assert_eq!(version_of(&app, "d-1").await.1, QuestionStatus::Active);
    // The same file again changes nothing; an older revision and a broken file are refused at the field.
    let r = upload_statute(&app, &amended).await;
    assert!(
        Page::parse(r.text().await.unwrap())
            .text_of(".notice.ok")
            .contains("没有改动")
    );
    let r = upload_statute(&app, &original).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    assert!(
        page.field_error("file")
            .unwrap_or_default()
            .contains("早于现行版本（2025-01-01）"),
        "{page}"
    );
    let r = upload_statute(&app, "short_id = \"test-law\"\ntitle = ").await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    assert!(
        page.field_error("file").unwrap_or_default().starts_with("第 2 行"),
        "{page}"
    );
    // Chairs cannot.
    let chair = app.other_browser();
    signed_in_as(&chair, "13900000101", &[Role::Chair], &[], None).await;
    assert_eq!(chair.get_status("/banks/statutes").await, 403);
    let _ = std::fs::remove_dir_all(dir);
}

/// The version of `qid` the quizzes draw now, if any.
async fn drawn_version(app: &TestApp, qid: &str) -> Option<i64> {
    let q = db::question_by_qid(&app.db, qid).await.unwrap().unwrap();
    quorum::services::quiz::pools(&app.db)
        .await
        .unwrap()
        .values()
        .flatten()
        .find(|c| c.question_id == q.id)
        .map(|c| c.version_id)
}

#[tokio::test]
async fn a_second_lawyer_approves_what_another_wrote_and_only_approved_versions_are_drawn() {
    let dir = {
        let app = spawn_app_with(|_| {}).await;
        bank_dir(
            &app,
            &[(
                "demo.toml",
                &format!("{HEADER}{}", question("d-1", "第一题", "test-law", 1)),
            )],
        )
    };
    let app = spawn_app_with(|s| s.paths.banks_dir = dir.clone()).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let reviewer = app.other_browser();
    let reviewer_id = signed_in_as(&reviewer, "13800000008", &[Role::Lawyer], &[], None).await;
    let q = db::question_by_qid(&app.db, "d-1").await.unwrap().unwrap();
    let from_file = q.current.id;
    assert_eq!(
        drawn_version(&app, "d-1").await,
        Some(from_file),
        "the file's reviewer signed it off"
    );

    // An edit makes version 2, which waits; version 1 is still drawn.
    let mut fields = vec![
        ("qid", "d-1"),
        ("kind", "single"),
        ("stem", "改写后的第一题"),
        ("options", "甲\n乙\n丙"),
        ("answer", "B"),
        ("explanation", "因为乙。"),
        ("citations", "test-law 1"),
        ("tags", "表决"),
        ("difficulty", "2"),
    ];
    let path = format!("/questions/{}", q.id);
    assert_eq!(app.post_form(&path, &fields).await.status().as_u16(), 303);
    assert_eq!(drawn_version(&app, "d-1").await, Some(from_file));
    // Its author cannot approve it.
    let r = app.post_form(&format!("{path}/approve"), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        Page::parse(r.text().await.unwrap())
            .text_of(".notice.error")
            .contains("不能批准自己编写的版本")
    );
    assert_eq!(drawn_version(&app, "d-1").await, Some(from_file));
    // The other lawyer finds it in the queue, sees what changed, and sends it back with a reason.
    let queue = reviewer.page("/banks/review").await;
    assert!(
        queue
            .items_under("等待另一位律师批准的版本")
            .iter()
            .any(|i| i.contains("d-1")),
        "{queue}"
    );
    let page = reviewer.page(&path).await;
    assert!(
        page.to_string()
            .contains("<del>第一题</del><br><ins>改写后的第一题</ins>"),
        "{page}"
    );
    let r = reviewer.post_form(&format!("{path}/return"), &[("comment", "")]).await;
    assert_eq!(r.status().as_u16(), 422, "a reason is needed");
    let page = Page::parse(r.text().await.unwrap());
    assert_eq!(
        page.field_error("comment").as_deref(),
        Some("请写明需要修改什么"),
        "{page}"
    );
    let r = reviewer
        .post_form(&format!("{path}/return"), &[("comment", "题干请写明是哪一方")])
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        app.page(&path)
            .await
            .text_of(".notice.warn")
            .contains("题干请写明是哪一方")
    );
    assert_eq!(drawn_version(&app, "d-1").await, Some(from_file));
    // The author edits again; the reviewer approves; that version is drawn from now on.
    fields[2] = ("stem", "业主大会的决定由哪一方作出？");
    assert_eq!(app.post_form(&path, &fields).await.status().as_u16(), 303);
    let r = reviewer.post_form(&format!("{path}/approve"), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    let q = db::question_by_qid(&app.db, "d-1").await.unwrap().unwrap();
    assert_eq!(
        q.current.version_no, 3,
        "the file's, the one sent back, this one: {q:?}"
    );
    assert_eq!(drawn_version(&app, "d-1").await, Some(q.current.id));
    assert_eq!(
        q.current.approval.and_then(|a| a.by_id),
        Some(reviewer_id),
        "who approved is kept"
    );

    // A new question written on the web is not drawn until another lawyer approves it.
    let bank = db::bank_by_slug(&app.db, "demo").await.unwrap().unwrap();
    fields[0] = ("qid", "d-9");
    let r = app
        .post_form(&format!("/banks/{}/questions/new", bank.id), &fields)
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(drawn_version(&app, "d-9").await, None);
    let d9 = db::question_by_qid(&app.db, "d-9").await.unwrap().unwrap();
    assert_eq!(
        reviewer
            .post_form(&format!("/questions/{}/approve", d9.id), &[])
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(drawn_version(&app, "d-9").await, Some(d9.current.id));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn in_production_a_sample_banks_questions_wait_for_a_lawyer_before_they_are_drawn() {
    let app = spawn_app_with(|_| {}).await;
    let sample = "[bank]\nid = \"sample\"\ntitle = \"示例题库\"\ntopic = \"示例主题\"\nauthors = [\"Quorum 示例题库\"]\nreviewer = \"待执业律师审核\"\nreview_date = 2026-11-22\nsample = true\n";
    let dir = bank_dir(
        &app,
        &[
            (
                "demo.toml",
                &format!("{HEADER}{}", question("d-1", "第一题", "test-law", 1)),
            ),
            (
                "sample.toml",
                &format!("{sample}{}", question("s-1", "示例题", "test-law", 1)),
            ),
        ],
    );
    banks::sync_dir_with(&app.db, &dir, banks::SampleBanks::AwaitLawyer)
        .await
        .unwrap();
    assert!(
        drawn_version(&app, "d-1").await.is_some(),
        "a reviewed bank is signed off by its file"
    );
    assert_eq!(
        drawn_version(&app, "s-1").await,
        None,
        "a sample is not drawn before approval"
    );
    // It waits in the review queue; a lawyer approves it and it is drawn.
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let queue = app.page("/banks/review").await;
    assert!(
        queue
            .items_under("等待另一位律师批准的版本")
            .iter()
            .any(|i| i.contains("s-1")),
        "{queue}"
    );
    let q = db::question_by_qid(&app.db, "s-1").await.unwrap().unwrap();
    let r = app.post_form(&format!("/questions/{}/approve", q.id), &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(drawn_version(&app, "s-1").await, Some(q.current.id));
    // Development and the demo draw samples as they are.
    let dev = spawn_app_with(|_| {}).await;
    banks::sync_dir(&dev.db, &dir).await.unwrap();
    assert!(drawn_version(&dev, "s-1").await.is_some());
}

#[tokio::test]
async fn a_draft_waits_for_its_author_to_submit_it_before_anyone_approves_it() {
    let dir = {
        let app = spawn_app_with(|_| {}).await;
        bank_dir(
            &app,
            &[(
                "demo.toml",
                &format!("{HEADER}{}", question("d-1", "第一题", "test-law", 1)),
            )],
        )
    };
    let app = spawn_app_with(|s| s.paths.banks_dir = dir.clone()).await;
    signed_in_as(&app, "13800000007", &[Role::Lawyer], &[], None).await;
    let reviewer = app.other_browser();
    signed_in_as(&reviewer, "13800000008", &[Role::Lawyer], &[], None).await;
    let q = db::question_by_qid(&app.db, "d-1").await.unwrap().unwrap();
    let path = format!("/questions/{}", q.id);
    // The editor offers both; this one is kept as a draft.
    let editor = app.page(&format!("{path}/edit")).await;
    assert!(editor.exists("button[name=save][value=draft]") && editor.exists("button[name=save][value=submit]"));
    let fields = [
        ("qid", "d-1"),
        ("kind", "single"),
        ("stem", "业主大会的决定由哪一方作出？"),
        ("options", "甲\n乙\n丙"),
        ("answer", "B"),
        ("explanation", "因为乙。"),
        ("citations", "test-law 1"),
        ("tags", "表决"),
        ("difficulty", "2"),
        ("save", "draft"),
    ];
    assert_eq!(app.post_form(&path, &fields).await.status().as_u16(), 303);
    // Not in the queue, and no one approves it yet; the file's version is still drawn.
    let queue = reviewer.page("/banks/review").await;
    assert!(!queue.body_text().contains("d-1"), "{queue}");
    let r = reviewer.post_form(&format!("{path}/approve"), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        Page::parse(r.text().await.unwrap())
            .text_of(".notice.error")
            .contains("还是草稿")
    );
    assert_eq!(drawn_version(&app, "d-1").await, Some(q.current.id));
    // Only its author submits it, from the question page or by saving it unchanged.
    assert!(!reviewer.page(&path).await.exists("#draft form"));
    let mut unchanged = fields;
    unchanged[9] = ("save", "submit");
    let r = reviewer.post_form(&path, &unchanged).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("只有作者可以提交自己的草稿"));
    let r = reviewer.post_form(&format!("{path}/submit"), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = app.page(&path).await;
    assert!(page.exists(&format!("#draft form[action='{path}/submit']")), "{page}");
    assert_eq!(
        app.post_form(&format!("{path}/submit"), &[]).await.status().as_u16(),
        200
    );
    let queue = reviewer.page("/banks/review").await;
    assert!(
        queue
            .items_under("等待另一位律师批准的版本")
            .iter()
            .any(|i| i.contains("d-1")),
        "{queue}"
    );
    assert_eq!(
        reviewer
            .post_form(&format!("{path}/approve"), &[])
            .await
            .status()
            .as_u16(),
        200
    );
    let q = db::question_by_qid(&app.db, "d-1").await.unwrap().unwrap();
    assert_eq!(drawn_version(&app, "d-1").await, Some(q.current.id));
    assert_eq!(q.current.version_no, 2);
    let _ = std::fs::remove_dir_all(dir);
}
