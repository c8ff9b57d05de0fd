//! Roster import: UTF-8, GBK and XLSX files; preview; all-or-nothing with every bad line named;
//! re-importing the same file changes nothing.

use quorum::domain::person::Role;
use reqwest::multipart::{Form, Part};

use crate::helpers::{Page, TestApp, csrf_of, location, make_street, signed_in_as, spawn_app};

const GOOD: &str = "姓名,手机号,邮箱,居委,小区,职务\n\
王秀英,13900000101,wang@example.com,联洋第一居委,联洋花园,主任\n\
李建华,139 0000 0102,,联洋第一居委,联洋花园,委员\n\
张玉兰,13900000103,,梅园居委,梅园新村,主任\n";

async fn upload(app: &TestApp, street: i64, filename: &str, bytes: Vec<u8>) -> reqwest::Response {
    let token = csrf_of(&app.get_text("/street/roster").await);
    let form = Form::new()
        .text("csrf", token)
        .text("street", street.to_string())
        .part("file", Part::bytes(bytes).file_name(filename.to_string()));
    app.client
        .post(app.url("/street/roster"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Uploads, follows to the preview, and returns (preview status, page, apply URL if offered).
async fn preview(app: &TestApp, street: i64, filename: &str, bytes: Vec<u8>) -> (u16, String, Option<String>) {
    let r = upload(app, street, filename, bytes).await;
    assert_eq!(r.status().as_u16(), 303, "upload redirects to the preview");
    let to = location(&r);
    let r = app.get(&to).await;
    let status = r.status().as_u16();
    let page = r.text().await.unwrap();
    let apply = Page::parse(page.as_str()).form_for("确认导入");
    (status, page, apply)
}

/// The plan's totals as the preview lists them ("新增 3", "更新 1", "无变化 0", …).
fn summary(page: &str) -> Vec<String> {
    Page::parse(page).texts_of("ul.summary li")
}

async fn chairs_page(app: &TestApp, street: i64) -> String {
    app.get_text(&format!("/street/chairs?street={street}")).await
}

async fn import(app: &TestApp, street: i64, filename: &str, bytes: Vec<u8>) -> String {
    let (status, page, apply) = preview(app, street, filename, bytes).await;
    assert_eq!(status, 200, "{page}");
    let apply = apply.expect("the preview offers to import");
    let r = app.post_form(&apply, &[]).await;
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_utf8_csv_previews_then_imports_and_reimporting_changes_nothing() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;

    let (_, page, _) = preview(&app, place.street, "名单.csv", GOOD.as_bytes().to_vec()).await;
    assert!(summary(&page).contains(&"新增 3".to_string()), "{page}");
    assert!(page.contains("梅园居委"), "new 居委 are listed");
    assert!(
        !chairs_page(&app, place.street).await.contains("王秀英"),
        "a preview imports nothing"
    );

    let done = import(&app, place.street, "名单.csv", GOOD.as_bytes().to_vec()).await;
    assert!(done.contains("新增 3"), "{done}");
    let chairs = chairs_page(&app, place.street).await;
    for name in ["王秀英", "李建华", "张玉兰"] {
        assert!(chairs.contains(name), "{name} is listed");
    }
    assert!(chairs.contains("13900000102"), "the spaced phone number was normalised");

    // The same file again: nothing to do, and the database is untouched.
    let before = quorum::db::people::count(&app.db).await.unwrap();
    let (_, page, apply) = preview(&app, place.street, "名单.csv", GOOD.as_bytes().to_vec()).await;
    assert!(page.contains("无需导入") && apply.is_none(), "{page}");
    assert_eq!(quorum::db::people::count(&app.db).await.unwrap(), before);

    // A corrected name is an update, not a new person.
    let changed = GOOD.replace("李建华", "李建新");
    let (_, page, _) = preview(&app, place.street, "名单.csv", changed.clone().into_bytes()).await;
    assert!(
        summary(&page).contains(&"更新 1".to_string()) && page.contains("李建华 → 李建新"),
        "{page}"
    );
    let done = import(&app, place.street, "名单.csv", changed.into_bytes()).await;
    assert!(done.contains("更新 1"));
    assert_eq!(quorum::db::people::count(&app.db).await.unwrap(), before);
}

#[tokio::test]
async fn a_gbk_csv_from_excel_imports_with_bom_variants_too() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let crlf = GOOD.replace('\n', "\r\n");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&crlf);
    assert!(!unmappable);
    let done = import(&app, place.street, "名单.csv", gbk.into_owned()).await;
    assert!(done.contains("新增 3"), "{done}");
    assert!(chairs_page(&app, place.street).await.contains("张玉兰"));

    // The same data as UTF-8 with a BOM is recognised as the same people.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(GOOD.as_bytes());
    let (_, page, apply) = preview(&app, place.street, "名单.csv", bom).await;
    assert!(
        summary(&page).contains(&"无变化 3".to_string()) && apply.is_none(),
        "{page}"
    );
}

#[tokio::test]
async fn an_xlsx_workbook_imports_including_numeric_phone_cells() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "手机号", "邮箱", "居委", "小区", "职务"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        ("赵淑珍", 13900000201.0, "梅园居委", "东方城市花园", "主任"),
        ("黄国平", 13900000202.0, "梅园居委", "东方城市花园", "委员"),
    ];
    for (i, (name, phone, n, e, pos)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *name).unwrap();
        sheet.write_number(r, 1, *phone).unwrap(); // Excel keeps a typed phone number as a number
        sheet.write_string(r, 3, *n).unwrap();
        sheet.write_string(r, 4, *e).unwrap();
        sheet.write_string(r, 5, *pos).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let done = import(&app, place.street, "名单.xlsx", bytes).await;
    assert!(done.contains("新增 2"), "{done}");
    let chairs = chairs_page(&app, place.street).await;
    assert!(chairs.contains("赵淑珍") && chairs.contains("13900000202"), "{chairs}");
}

#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_every_bad_line() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let bad = "姓名,手机号,邮箱,居委,小区,职务\n\
王秀英,13900000101,,联洋第一居委,联洋花园,主任\n\
,13900000102,,联洋第一居委,联洋花园,委员\n\
张玉兰,1390000010,,梅园居委,梅园新村,主任\n\
刘德明,13900000101,,梅园居委,梅园新村,委员\n\
陈桂芳,13900000105,chen＠example.com,梅园居委,,主任\n";
    let (status, page, apply) = preview(&app, place.street, "bad.csv", bad.as_bytes().to_vec()).await;
    assert_eq!(status, 422);
    assert!(apply.is_none(), "no import is offered");
    // Each error row: line, column, problem.
    let errors = Page::parse(page.as_str()).table_rows("tr.row-error");
    for (line, column, problem) in [
        ("第3行", "姓名", ""),
        ("第4行", "手机号", "手机号应为11位，这里是10位"),
        ("第5行", "手机号", "手机号与第2行重复"),
        ("第6行", "邮箱", "全角"),
        ("第6行", "小区", ""),
    ] {
        assert!(
            errors
                .iter()
                .any(|r| r[0] == line && r[1] == column && r[2].contains(problem)),
            "missing {line} {column} {problem:?} in {errors:?}"
        );
    }
    assert_eq!(
        Page::parse(page.as_str()).link("重新上传"),
        "/street/roster",
        "the page offers to upload a corrected file"
    );
    assert_eq!(
        quorum::db::people::count(&app.db).await.unwrap(),
        1,
        "only the official exists"
    );
}

#[tokio::test]
async fn forcing_the_import_of_a_bad_file_is_refused_and_saves_nothing() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let bad = "姓名,手机号,居委,小区,职务\n王秀英,13900000101,一居,花园,主任\n李四,12345,一居,花园,委员\n";
    let r = upload(&app, place.street, "bad.csv", bad.as_bytes().to_vec()).await;
    let to = location(&r);
    let r = app.post_form(&format!("{to}/apply"), &[]).await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("没有导入任何数据"));
    assert_eq!(quorum::db::people::count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn a_roster_for_a_unit_that_is_not_a_street_goes_back_to_the_form() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let r = upload(&app, place.committee, "x.csv", GOOD.as_bytes().to_vec()).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(crate::errors::beside_field(&page, "street", "请选择一个街道"), "{page}");
    assert!(page.contains("上传并预览"), "the form is there to try again");
}

#[tokio::test]
async fn a_file_with_a_wrong_header_is_explained() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let (status, page, _) = preview(
        &app,
        place.street,
        "x.csv",
        "姓名,电话,居委,小区,职务\n".as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("不认识的表头“电话”") && page.contains("缺少必需的列“手机号”"),
        "{page}"
    );
}

#[tokio::test]
async fn the_cli_import_applies_the_same_rules() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    let outcome = quorum::services::roster::import_file(&app.db, place.street, "x.csv", GOOD.as_bytes())
        .await
        .unwrap();
    assert_eq!(outcome.created, 3);
    let again = quorum::services::roster::import_file(&app.db, place.street, "x.csv", GOOD.as_bytes())
        .await
        .unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
    let err =
        quorum::services::roster::import_file(&app.db, place.street, "x.csv", b"\xe5\xa7\x93\xe5\x90\x8d\n").await;
    assert!(err.is_err());
}

#[tokio::test]
async fn a_name_the_certificate_cannot_print_is_refused_at_import() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let file = "姓名,手机号,居委,小区,职务\n王\u{20000},13900000101,一居,花园,主任\n";
    let (status, page, apply) = preview(&app, place.street, "x.csv", file.as_bytes().to_vec()).await;
    assert_eq!(status, 422);
    assert!(apply.is_none());
    assert!(
        page.contains("第2行</td><td data-label=\"列\">姓名") && page.contains("U+20000"),
        "{page}"
    );
}

/// A 5 KB workbook whose used range is the whole sheet: the header, one good row, and one cell at
/// XFD1048576 (the last cell Excel has). Read as a dense range it needs 512 GiB.
pub fn workbook_reaching_xfd1048576() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "手机号", "邮箱", "居委", "小区", "职务"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["赵淑珍", "13900000201", "", "梅园居委", "东方城市花园", "主任"]
        .iter()
        .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 10_000, "the file is small: {} bytes", bytes.len());
    bytes
}

#[tokio::test]
async fn a_workbook_reaching_the_last_excel_cell_is_refused_and_the_server_stays_up() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let (status, page, apply) = preview(&app, place.street, "炸弹.xlsx", workbook_reaching_xfd1048576()).await;
    assert_eq!(status, 422, "{page}");
    assert!(apply.is_none());
    assert!(
        page.contains("文件“炸弹.xlsx”超出了名单的大小上限：最多 50000 行、50 列（A 到 AX 列）")
            && page.contains("XFD1048576"),
        "the limits and the file are named: {page}"
    );
    assert_eq!(app.get_status("/healthz").await, 200, "the server is still up");
    assert_eq!(quorum::db::people::count(&app.db).await.unwrap(), 1, "nothing imported");
}

#[tokio::test]
async fn the_cli_refuses_a_workbook_reaching_the_last_excel_cell_without_aborting() {
    let dir = std::env::temp_dir().join(format!("quorum-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("cli.db").display());
    let db = sea_orm::Database::connect(&url).await.unwrap();
    quorum::db::migrate(&db).await.unwrap();
    let d = quorum::services::org::create_unit(&db, None, "浦东新区", None)
        .await
        .unwrap();
    quorum::services::org::create_unit(&db, Some(d.id), "花木街道", None)
        .await
        .unwrap();
    let file = dir.join("bomb.xlsx");
    std::fs::write(&file, workbook_reaching_xfd1048576()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args(["import-roster", file.to_str().unwrap(), "--street", "花木街道"])
        .env("QUORUM__DATABASE__URL", &url)
        .env("QUORUM__PATHS__VAR_DIR", &dir)
        .env("QUORUM__DEMO__SEED", "false")
        .env("QUORUM_LOG", "error")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a refusal, not an abort: {:?} {err}",
        out.status
    );
    assert!(
        err.contains("bomb.xlsx:0: “bomb.xlsx” is larger than a roster may be: at most 50000 rows and 50 columns"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A valid roster of `n` chairs (phones 13900000001…), all in one estate.
fn big_roster(n: usize) -> Vec<u8> {
    let mut csv = String::from("姓名,手机号,居委,小区,职务\n");
    for i in 1..=n {
        csv.push_str(&format!("王{i},139{i:08},梅园居委,梅园新村,委员\n"));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn a_large_roster_is_planned_once_and_previewed_a_page_at_a_time() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let r = upload(&app, place.street, "大名单.csv", big_roster(2500)).await;
    assert_eq!(r.status().as_u16(), 303);
    let to = location(&r);

    let page = app.get_text(&to).await;
    assert!(page.len() < 100_000, "a page is bounded: {} bytes", page.len());
    assert!(
        summary(&page).contains(&"新增 2500".to_string()),
        "totals cover the whole file"
    );
    let preview = Page::parse(page.as_str());
    assert_eq!(preview.count("td[data-label=姓名]"), 100, "100 rows a page");
    assert_eq!(preview.text_of("nav.pager span"), "第 1 / 25 页", "{preview}");
    assert_eq!(preview.attr_of("nav.pager a[rel=next]", "href"), format!("{to}?page=2"));
    let last = app.page(&format!("{to}?page=25")).await;
    let names = last.texts_of("td[data-label=姓名]");
    assert_eq!(names.len(), 100);
    assert!(
        names.contains(&"王2500".to_string()) && !names.contains(&"王2400".to_string()),
        "the last page holds the last rows: {names:?}"
    );
    assert_eq!(
        app.page(&format!("{to}?page=999")).await.text_of("nav.pager span"),
        "第 25 / 25 页"
    );

    // The preview shows the plan made at upload, not a new one per view: a chair registered since
    // does not change it...
    crate::helpers::make_person(&app, "13900000001", &[Role::Chair], &[], None).await;
    assert!(summary(&app.get_text(&to).await).contains(&"新增 2500".to_string()));
    // ...but confirming plans again, sees the change, imports nothing and shows the new preview.
    let r = app.post_form(&format!("{to}/apply"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    let again = location(&r);
    assert!(again.ends_with("?changed=1"), "{again}");
    let page = app.get_text(&again).await;
    assert!(page.contains("预览之后，街道的数据有了变化，没有导入"), "{page}");
    assert!(summary(&page).contains(&"新增 2499".to_string()) && summary(&page).contains(&"更新 1".to_string()));
    assert_eq!(quorum::db::people::count(&app.db).await.unwrap(), 2);
    let done = app.post_form(&format!("{to}/apply"), &[]).await.text().await.unwrap();
    assert!(done.contains("新增 2499"), "{done}");
}

#[tokio::test]
async fn a_file_with_many_bad_rows_pages_its_errors_first() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let mut csv = String::from("姓名,手机号,居委,小区,职务\n");
    for i in 1..=250 {
        csv.push_str(&format!("王{i},139{i:05},梅园居委,梅园新村,委员\n"));
    }
    csv.push_str("张三,13900000001,梅园居委,梅园新村,委员\n");
    let (status, page, apply) = preview(&app, place.street, "bad.csv", csv.into_bytes()).await;
    assert_eq!(status, 422);
    assert!(apply.is_none());
    assert!(page.contains("发现 250 处错误"), "{page}");
    let errors = Page::parse(page.as_str());
    assert_eq!(errors.count("tr.row-error"), 100);
    assert_eq!(errors.text_of("nav.pager span"), "第 1 / 3 页");
    assert!(!page.contains("张三"), "rows wait until the errors are fixed");
}

#[tokio::test]
async fn health_checks_are_answered_while_a_big_roster_is_planned() {
    // One HTTP worker: anything CPU-bound on it would hold every other request.
    let app = crate::helpers::spawn_app_with(|s| s.server.workers = 1).await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let token = csrf_of(&app.get_text("/street/roster").await);
    let form = Form::new()
        .text("csrf", token)
        .text("street", place.street.to_string())
        .part("file", Part::bytes(big_roster(5_000)).file_name("全区名单.csv"));
    let request = app.client.post(app.url("/street/roster")).multipart(form).send();
    let upload = tokio::spawn(request);
    let probe = reqwest::Client::new();
    let (mut answered, mut slowest) = (0, std::time::Duration::ZERO);
    while !upload.is_finished() {
        let started = std::time::Instant::now();
        let r = probe.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        slowest = slowest.max(started.elapsed());
        if !upload.is_finished() {
            answered += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = upload.await.unwrap().unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(answered >= 3, "health checks answered during the upload: {answered}");
    assert!(
        slowest < std::time::Duration::from_millis(1500),
        "slowest health check {slowest:?}"
    );
}
