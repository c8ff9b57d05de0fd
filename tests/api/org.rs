//! Admin management of the organisation tree and accounts.

use quorum::domain::person::Role;

use crate::errors::beside_field;
use crate::helpers::{Page, signed_in_as, spawn_app};

#[tokio::test]
async fn an_admin_builds_the_tree_from_district_to_committee() {
    let app = spawn_app().await;
    signed_in_as(&app, "13800000004", &[Role::Admin], &[], None).await;
    let r = app.post_form("/admin/org", &[("name", "浦东新区")]).await;
    assert_eq!(r.status().as_u16(), 303);
    let district = app.page("/admin/org").await.link("浦东新区");
    let id = |u: &str| crate::helpers::id_in(u).to_string();

    app.post_form("/admin/org", &[("parent", &id(&district)), ("name", "花木街道")])
        .await;
    let street = app.page(&district).await.link("花木街道");
    app.post_form("/admin/org", &[("parent", &id(&street)), ("name", "联洋第一居委")])
        .await;
    let n = app.page(&street).await.link("联洋第一居委");
    app.post_form("/admin/org", &[("parent", &id(&n)), ("name", "联洋花园")])
        .await;
    let estate = app.page(&n).await.link("联洋花园");
    let r = app
        .post_form(
            "/admin/org",
            &[
                ("parent", &id(&estate)),
                ("name", "联洋花园业主委员会"),
                ("term_start", "2024-06-01"),
                ("term_end", "2029-05-31"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let page = app.page(&estate).await;
    assert!(
        page.texts_of("ul.links li")
            .contains(&"联洋花园业主委员会 任期 2024-06-01 – 2029-05-31".to_string()),
        "the committee is listed with its term: {page}"
    );
    let committee = page.link("联洋花园业主委员会");
    assert!(
        app.page(&committee).await.texts_of("h2").contains(&"成员".to_string()),
        "a committee page lists members"
    );

    // Wrong input is explained and nothing changes.
    let r = app
        .post_form("/admin/org", &[("parent", &id(&n)), ("name", "联洋花园")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let why = |page: String| Page::parse(page).text_of(".notice.error");
    // The unit page has two forms (rename this unit, add a sub-unit), each with a name field.
    let beside = |page: String, _field: &str| Page::parse(page).texts_of("form .error").join(" ");
    assert!(beside(r.text().await.unwrap(), "name").contains("已有名为“联洋花园”"));
    let r = app
        .post_form(
            "/admin/org",
            &[
                ("parent", &id(&estate)),
                ("name", "X"),
                ("term_start", "2029-01-01"),
                ("term_end", "2024-01-01"),
            ],
        )
        .await;
    assert!(beside(r.text().await.unwrap(), "term_end").contains("任期结束日期必须晚于开始日期"));
    let r = app.post_form(&format!("{street}/delete"), &[]).await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(
        why(r.text().await.unwrap()).contains("下级单位"),
        "a unit in use is not deleted"
    );

    // Rename and delete an empty unit.
    let r = app
        .post_form(
            &committee,
            &[
                ("name", "联洋花园业委会"),
                ("term_start", "2024-06-01"),
                ("term_end", "2029-05-31"),
            ],
        )
        .await;
    assert_eq!(Page::parse(r.text().await.unwrap()).text_of(".notice.ok"), "已保存。");
    let r = app.post_form(&format!("{committee}/delete"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert!(!app.get_text(&estate).await.contains("联洋花园业委会"));
}

#[tokio::test]
async fn an_admin_creates_an_official_scoped_to_a_street() {
    let app = spawn_app().await;
    let place = crate::helpers::make_street(&app, "花木街道").await;
    let other = crate::helpers::make_street(&app, "洋泾街道").await;
    signed_in_as(&app, "13800000004", &[Role::Admin], &[], None).await;

    let r = app
        .post_form(
            "/admin/people/new",
            &[("name", "陈晓红"), ("phone", "1390000"), ("roles", "official")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = Page::parse(r.text().await.unwrap());
    let (phone, streets) = (page.field_error("phone"), page.field_error("streets"));
    assert!(
        phone.is_some_and(|e| e.contains("手机号应为11位"))
            && streets.is_some_and(|e| e.contains("街道干部需要至少一个所辖区或街道")),
        "{page}"
    );
    assert_eq!(
        page.attr_of("input[name=name]", "value"),
        "陈晓红",
        "typed values are kept"
    );

    let street = place.street.to_string();
    let r = app
        .post_form(
            "/admin/people/new",
            &[
                ("name", "陈晓红"),
                ("phone", "13900000002"),
                ("roles", "official"),
                ("roles", "lawyer"),
                ("streets", &street),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let dup = app
        .post_form(
            "/admin/people/new",
            &[("name", "别人"), ("phone", "13900000002"), ("roles", "chair")],
        )
        .await;
    let dup = Page::parse(dup.text().await.unwrap());
    assert!(
        dup.field_error("phone")
            .is_some_and(|e| e.contains("该手机号已被另一个账号使用")),
        "{dup}"
    );

    let id: i64 = quorum::db::people::credentials_by_phone(
        &app.db,
        &quorum::domain::contact::PhoneNumber::parse("13900000002").unwrap(),
    )
    .await
    .unwrap()
    .unwrap()
    .person
    .id;
    assert_eq!(
        quorum::db::people::official_street_ids(&app.db, id).await.unwrap(),
        vec![place.street]
    );
    let roles = quorum::db::people::roles_of(&app.db, id).await.unwrap();
    assert!(roles.has(Role::Official) && roles.has(Role::Lawyer));
    let _ = other;
}

#[tokio::test]
async fn unit_form_problems_are_shown_beside_their_fields() {
    let app = spawn_app().await;
    let place = crate::helpers::make_street(&app, "花木街道").await;
    signed_in_as(&app, "13800000004", &[Role::Admin], &[], None).await;

    let r = app.post_form("/admin/org", &[("name", "  ")]).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(beside_field(&page, "name", "名称不能为空"), "{page}");
    assert!(page.contains("action=\"/admin/org\""), "the form is there to try again");

    let committee = format!("/admin/org/{}", place.committee);
    let r = app
        .post_form(
            &committee,
            &[
                ("name", "幸福小区业委会"),
                ("term_start", "2029-01-01"),
                ("term_end", "2024-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        beside_field(&page, "term_end", "任期结束日期必须晚于开始日期"),
        "{page}"
    );
    assert!(page.contains("value=\"2029-01-01\""), "what was typed is kept: {page}");
    assert!(
        !app.get_text(&committee).await.contains("幸福小区业委会"),
        "nothing saved"
    );
}
