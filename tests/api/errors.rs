//! Error pages as people meet them: the site's page in their language, never a dead end, with a request
//! id that leads to the request's log lines.

use quorum::domain::person::Role;

use crate::helpers::{Page, make_street, signed_in_as, spawn_app};
use crate::security::LoggedServer;

#[tokio::test]
async fn an_error_page_has_the_site_layout_the_persons_language_and_the_request_id() {
    let app = spawn_app().await;
    let place = make_street(&app, "花木街道").await;
    signed_in_as(&app, "13900000101", &[Role::Chair], &[], Some(place.committee)).await;

    // Chinese by default, with her navigation (a way on, not a dead end).
    let r = app.get("/sessions/999999/room").await;
    assert_eq!(r.status().as_u16(), 404);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 12);
    let page = Page::parse(r.text().await.unwrap());
    assert_eq!(page.text_of("h1"), "页面不存在", "{page}");
    assert!(page.form_for("退出登录").is_some(), "her navigation: {page}");
    assert_eq!(page.text_of(".request-id"), id, "{page}");
    assert_eq!(page.text_of(".error-page p.meta"), format!("问题编号：{id}"));
    assert!(!page.contains("Page not found"), "one language, the one she chose");

    // In English after switching, for a refusal (403) as well.
    app.get("/lang/en?next=/").await;
    let r = app.get("/sessions/new").await;
    assert_eq!(r.status().as_u16(), 403);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Not allowed") && page.contains("Sign out") && !page.contains("没有权限"),
        "{page}"
    );

    // Every response carries its own id.
    let other = app.get("/").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(other, id);
}

#[test]
fn the_request_id_on_the_page_is_on_the_requests_log_lines() {
    let server = LoggedServer::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = rt.block_on(async {
        let r = reqwest::get(format!("{}/no/such/page", server.base)).await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        let page = r.text().await.unwrap();
        assert!(page.contains(&id) && page.contains("登录"), "{page}");
        id
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = server.stop();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("id={id}")) && l.contains("status=404"))
        .unwrap_or_else(|| panic!("no log line with the request id {id}:\n{log}"));
    assert!(!line.contains("/no/such/page"), "route patterns only: {line}");
}

/// Whether `message` is shown beside the form field named `name` (its first occurrence): inside that
/// field's box, which is marked as having an error.
pub fn beside_field(page: &str, name: &str, message: &str) -> bool {
    let Some(at) = page.find(&format!("name=\"{name}\"")) else {
        return false;
    };
    let start = page[..at].rfind("<div class=\"field").unwrap_or(0);
    let end = page[at..].find("</div>").map_or(page.len(), |e| at + e);
    let field = &page[start..end];
    field.starts_with("<div class=\"field has-error\"") && field.contains(message)
}

#[tokio::test]
async fn an_id_that_is_not_a_number_gives_the_not_found_page() {
    let app = spawn_app().await;
    signed_in_as(&app, "13800000004", &[Role::Admin], &[], None).await;
    for path in [
        "/admin/org/abc",
        "/admin/people/12x",
        "/certificates/abc.pdf",
        "/street/roster/abc",
        "/sessions/abc/report",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status().as_u16(), 404, "{path}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("页面不存在") && page.contains("退出登录"),
            "{path}: the site's own page, with a way on: {page}"
        );
    }
}
