//! Hardening against hostile input and leaks: redirects, exports, logs, headers, CSRF binding,
//! certificate lookups, upload limits.

use quorum::domain::person::Role;

use crate::helpers::{PASSWORD, Page, make_person, spawn_app};

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn next_after_sign_in_or_language_switch_stays_on_this_site() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    // Browsers drop tabs and newlines from a Location, so `/\t/evil.example` would leave the site.
    for bad in [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/x",
        "/%5Cevil.example",
        "//evil.example",
    ] {
        let r = app.get(&format!("/lang/en?next={bad}")).await;
        assert_eq!(r.status().as_u16(), 303, "{bad}");
        assert_eq!(location(&r), "/", "{bad}");
        let page = app.page(&format!("/signin?next={bad}")).await;
        assert_eq!(
            page.attr_of("form input[name=next]", "value"),
            "/",
            "{bad}: the form carries home, not {bad}"
        );
    }
    let r = app.sign_in_to("13800000001", PASSWORD, "/	/evil.example").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location(&r), "/");
    // A clean local path is kept.
    let r = app.get("/lang/zh?next=/account/password").await;
    assert_eq!(location(&r), "/account/password");
}

async fn rename(app: &crate::helpers::TestApp, person: i64, name: &str) {
    let p = quorum::db::people::get(&app.db, person).await.unwrap().unwrap();
    quorum::db::people::update(
        &app.db,
        person,
        quorum::db::people::PersonUpdate {
            name: &quorum::domain::person::DisplayName::parse(name).unwrap(),
            email: p.email.as_ref(),
            committee_id: p.committee_id,
            position: p.position.as_deref(),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn names_that_look_like_formulas_are_escaped_in_every_csv_export() {
    let s = crate::quiz::setup(crate::quiz::settings(4)).await;
    rename(&s.app, s.chairs[0], "=HYPERLINK(\"http://evil.example\",\"点我\")").await;
    rename(&s.app, s.chairs[1], "-1+1").await;
    rename(&s.app, s.chairs[2], "@SUM(A1:A9)").await;
    let opened = s.open_quiz(&s.chairs[..2]).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[0], true).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[1], false).await;
    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;

    let report = official
        .get(&format!("/sessions/{}/report.csv", s.session))
        .await
        .bytes()
        .await
        .unwrap();
    let report = String::from_utf8(report[3..].to_vec()).unwrap();
    assert!(
        report.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\","),
        "{report}"
    );
    assert!(
        report.contains("\n'-1+1,") && report.contains("\n'@SUM(A1:A9),"),
        "{report}"
    );
    // Scores stay numbers (a formula-looking text cell is escaped, a number is not).
    assert!(report.contains(",已交卷,随堂,4,"), "{report}");

    let bytes = official
        .get(&format!("/sessions/{}/evidence.zip", s.session))
        .await
        .bytes()
        .await
        .unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    for name in ["attendance.csv", "results.csv", "certificates.csv"] {
        use std::io::Read;
        let mut text = String::new();
        z.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        assert!(text.contains("\"'=HYPERLINK("), "{name}: {text}");
        assert!(
            !text.contains("\n=") && !text.contains(",=") && !text.contains("\n-1+1"),
            "{name}: {text}"
        );
    }
}

/// The server binary, run as in production with `QUORUM_LOG=debug`; its output is collected.
pub(crate) struct LoggedServer {
    child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    pub(crate) base: String,
    url: String,
    dir: std::path::PathBuf,
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl LoggedServer {
    pub(crate) fn start() -> LoggedServer {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let dir = std::env::temp_dir().join(format!("quorum-log-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("banks")).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("log.db").display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
            .arg("serve")
            .env("QUORUM__DATABASE__URL", &url)
            .env("QUORUM__SERVER__PORT", "0")
            .env("QUORUM__SERVER__WORKERS", "1")
            .env("QUORUM__PATHS__VAR_DIR", &dir)
            .env("QUORUM__PATHS__BANKS_DIR", dir.join("banks"))
            .env("QUORUM__DEMO__SEED", "false")
            .env("QUORUM__EMAIL__WORKER", "false")
            .env("QUORUM_LOG", "debug")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            let port_tx = port_tx.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let line = strip_ansi(&line);
                    if line.contains("listening")
                        && let Some(p) = line.split("port=").nth(1)
                    {
                        let _ = port_tx.send(p.trim().to_string());
                    }
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let port = port_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server did not start: {}", log.lock().unwrap()));
        LoggedServer {
            child,
            log,
            base: format!("http://127.0.0.1:{port}"),
            url,
            dir,
        }
    }

    /// Stops the server and returns everything it logged.
    pub(crate) fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let log = self.log.lock().unwrap().clone();
        let _ = std::fs::remove_dir_all(&self.dir);
        log
    }
}

fn cookie_values(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('=').map(|(_, v)| v.to_string()))
        .filter(|v| v.len() >= 16)
        .collect()
}

#[tokio::test]
async fn no_token_code_or_session_id_reaches_the_log() {
    let server = LoggedServer::start();
    let mut app = crate::helpers::TestApp::remote(&server.base);
    app.db = sea_orm::Database::connect(&server.url).await.unwrap();
    let place = crate::helpers::make_street(&app, "花木街道").await;
    let official = make_person(&app, "13800000003", &[Role::Official], &[place.street], None).await;
    let chair = make_person(&app, "13900000001", &[Role::Chair], &[], Some(place.committee)).await;
    let link = quorum::services::accounts::signin_links::issue(
        &app.db,
        &quorum::services::access::StreetScope::All,
        &quorum::services::audit::Actor {
            person_id: Some(official),
            address: String::new(),
        },
        chair,
        14,
    )
    .await
    .unwrap();
    let mut secrets = vec![link.token.clone()];
    let code = "SECRETCODE7Q2W";
    let serial = "2026-99-000123";
    let invite = "invitetokenZZ9x8c7v6b5n";
    secrets.extend([code.to_string(), serial.to_string(), invite.to_string()]);

    // CSRF failures on token-bearing routes: no cookie at all, then a wrong token.
    let stranger = reqwest::Client::new();
    let r = stranger
        .post(app.url(&format!("/l/{}", link.token)))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = app.get(&format!("/l/{}", link.token)).await;
    secrets.extend(cookie_values(&r));
    let r = app
        .client
        .post(app.url(&format!("/l/{}", link.token)))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Spending the link signs in: the session cookie is a secret too.
    let r = app.post_form(&format!("/l/{}", link.token), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    secrets.extend(cookie_values(&r));
    app.get("/").await;
    app.get(&format!("/l/{}", link.token)).await;
    app.get(&format!("/verify/{code}")).await;
    app.get(&format!("/verify?code={code}")).await;
    app.get(&format!("/verify?serial={serial}&code={code}")).await;
    app.get(&format!("/s/{invite}")).await;
    app.get(&format!("/signin?next=/l/{}", link.token)).await;
    app.get(&format!("/admin/people?next={code}")).await;
    let r = app.post_form("/signout", &[]).await;
    assert_eq!(r.status().as_u16(), 303);

    let log = server.stop();
    assert!(log.contains("CSRF check failed"), "the failures were logged: {log}");
    assert!(log.contains("/l/{token}"), "by route pattern: {log}");
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "{s} is in the log:\n{log}");
    }
}

#[tokio::test]
async fn a_serial_alone_does_not_find_a_certificate_and_a_wrong_code_looks_like_no_serial() {
    let s = crate::quiz::setup(crate::quiz::settings(4)).await;
    let opened = s.open_quiz(&s.chairs[..2]).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[0], true).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[1], true).await;
    let certs = quorum::db::certificates::for_person(&s.app.db, s.chairs[0])
        .await
        .unwrap();
    let c = &certs[0];
    let other = &quorum::db::certificates::for_person(&s.app.db, s.chairs[1])
        .await
        .unwrap()[0];
    let visitor = s.app.other_browser();

    // Walking the serials finds nothing without the code.
    let r = visitor.get(&format!("/verify?serial={}", c.serial)).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("请填写验证码") && !page.contains("证书有效"), "{page}");
    let r = visitor.get(&format!("/verify?code={}", c.serial)).await;
    assert_eq!(r.status().as_u16(), 404, "a serial typed as the code is no code");

    // A wrong code for a real serial and any code for a made-up serial answer alike.
    let wrong_code = visitor
        .get(&format!("/verify?serial={}&code={}", c.serial, other.code))
        .await;
    let no_serial = visitor
        .get(&format!("/verify?serial=2026-S0001-99999&code={}", other.code))
        .await;
    assert_eq!(wrong_code.status().as_u16(), 404);
    assert_eq!(no_serial.status().as_u16(), 404);
    let (a, b) = (wrong_code.text().await.unwrap(), no_serial.text().await.unwrap());
    assert!(a.contains("查无此证书") && !a.contains("证书有效"), "{a}");
    let strip = |p: &str| p.replace(&c.serial, "").replace("2026-S0001-99999", "");
    assert_eq!(strip(&a), strip(&b), "no oracle: the same page either way");

    // Serial and code together, or the code alone (the QR link), still work.
    let page = visitor
        .get_text(&format!("/verify?serial={}&code={}", c.serial, c.code))
        .await;
    assert!(page.contains("证书有效"), "{page}");
    let page = visitor.get_text(&format!("/verify?code={}", c.code)).await;
    assert!(page.contains("证书有效"), "{page}");
    let page = visitor.get_text(&format!("/verify/{}", c.code)).await;
    assert!(page.contains("证书有效"), "{page}");
    let form = visitor.page("/verify").await;
    assert!(
        form.exists("form input[name=serial]") && form.exists("form input[name=code]"),
        "{form}"
    );
}

async fn too_large(r: reqwest::Response, limit: &str) {
    assert_eq!(r.status().as_u16(), 413);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("文件太大") && page.contains(&format!("不能超过 {limit}")) && page.contains("返回首页"),
        "the site's Chinese error page naming {limit}: {page}"
    );
}

#[tokio::test]
async fn an_upload_over_the_limit_gets_a_chinese_page_naming_the_limit() {
    use reqwest::multipart::{Form, Part};
    let app = spawn_app().await;
    let place = crate::helpers::make_street(&app, "花木街道").await;
    crate::helpers::signed_in_as(
        &app,
        "13800000003",
        &[Role::Official, Role::Lawyer],
        &[place.street],
        None,
    )
    .await;
    let big = vec![b'a'; quorum::services::roster::MAX_FILE_BYTES * 2];
    let token = crate::helpers::csrf_of(&app.get_text("/street/roster").await);
    let form = Form::new()
        .text("csrf", token.clone())
        .text("street", place.street.to_string())
        .part("file", Part::bytes(big.clone()).file_name("chairs.csv"));
    let r = app
        .client
        .post(app.url("/street/roster"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    too_large(r, "5 MB").await;

    let form = Form::new()
        .text("csrf", token.clone())
        .text("bank", "1")
        .text("format", "gift")
        .part("file", Part::bytes(big).file_name("questions.txt"));
    let r = app
        .client
        .post(app.url("/banks/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    too_large(r, "5 MB").await;

    // A urlencoded form over its limit likewise.
    let long = "x".repeat(300 * 1024);
    let r = app
        .client
        .post(app.url("/account/password"))
        .form(&[("csrf", token.as_str()), ("password", long.as_str())])
        .send()
        .await
        .unwrap();
    too_large(r, "256 KB").await;
}

/// The value of a cookie the response sets.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()?
                .strip_prefix(&format!("{name}="))
                .map(str::to_string)
        })
}

#[tokio::test]
async fn a_csrf_pair_from_one_browser_is_refused_in_another_browsers_session() {
    let app = spawn_app().await;
    make_person(&app, "13800000001", &[Role::Chair], &[], None).await;
    make_person(&app, "13800000002", &[Role::Chair], &[], None).await;

    // The attacker's browser: its nonce cookie and the token it was given, signed out and signed in.
    let attacker = app.other_browser();
    let r = attacker.get("/signin").await;
    let attacker_nonce = set_cookie(&r, "q_csrf").unwrap();
    let signed_out_token = crate::helpers::csrf_of(&r.text().await.unwrap());
    attacker.sign_in("13800000001", PASSWORD).await;
    let signed_in_token = crate::helpers::csrf_of(&attacker.get_text("/").await);

    // The victim signs in in her own browser.
    let victim = app.other_browser();
    victim.get("/signin").await;
    let r = victim.sign_in("13800000002", PASSWORD).await;
    let victim_sid = set_cookie(&r, "q_sid").unwrap();

    // The attacker plants its nonce cookie in the victim's browser and submits its own tokens.
    let planted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for token in [&signed_out_token, &signed_in_token] {
        let r = planted
            .post(app.url("/signout"))
            .header("cookie", format!("q_sid={victim_sid}; q_csrf={attacker_nonce}"))
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "a planted pair is refused");
    }
    assert!(
        victim.page("/").await.exists("form input[name=csrf]"),
        "the victim is still signed in (the sign-out form is there)"
    );
    // Her own page's token works.
    victim.sign_out().await;
}

#[tokio::test]
async fn secure_cookies_carry_the_host_prefix() {
    let app = crate::helpers::spawn_app_with(|s| s.security.cookie_secure = Some(true)).await;
    let r = app.get("/signin").await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.contains("q_csrf"))
        .unwrap();
    assert!(cookie.starts_with("__Host-q_csrf="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
}

fn assert_hardened(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    for part in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'self'",
        "connect-src 'self'",
        "media-src 'self' blob: mediastream:",
    ] {
        assert!(csp.contains(part), "{what}: {part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["x-frame-options"], "SAMEORIGIN", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
}

fn assert_no_store(r: &reqwest::Response, what: &str) {
    assert_eq!(
        r.headers().get("cache-control").map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "{what}"
    );
}

/// Inline scripts, `<style>` blocks, `style=` attributes and event-handler attributes would be blocked
/// by the policy.
fn assert_no_inline_code(page: &str, what: &str) {
    let page = Page::parse(page);
    assert!(!page.exists("style") && !page.exists("[style]"), "{what}: inline style");
    for script in page.select_all("script") {
        assert!(script.attr("src").is_some(), "{what}: inline script {}", script.html());
        assert!(
            script.inner_html().is_empty(),
            "{what}: script with a body {}",
            script.html()
        );
    }
    for e in page.select_all("*") {
        let handler = e.value().attrs().find(|(name, _)| name.starts_with("on"));
        assert!(handler.is_none(), "{what}: inline handler {}", e.html());
    }
}

#[tokio::test]
async fn pages_and_exports_carry_security_headers_and_no_inline_code() {
    let s = crate::quiz::setup(crate::quiz::settings(4)).await;
    let opened = s.open_quiz(&s.chairs[..1]).await;
    crate::certificates::take_public(&s, opened.quiz_id, s.chairs[0], true).await;
    let visitor = s.app.other_browser();
    for path in ["/signin", "/verify", "/l/not-a-token", "/no-such-page"] {
        let r = visitor.get(path).await;
        assert_hardened(&r, path);
        assert_no_store(&r, path);
        assert_no_inline_code(&r.text().await.unwrap(), path);
    }
    // Static assets keep their caching.
    let r = visitor.get("/static/css/app.css").await;
    assert_hardened(&r, "css");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("max-age"));

    let official = s.app.other_browser();
    official.sign_in("13800000003", PASSWORD).await;
    let report = format!("/sessions/{}/report", s.session);
    let room = format!("/sessions/{}/room", s.session);
    let certs = format!("/sessions/{}/certificates", s.session);
    let session = format!("/sessions/{}", s.session);
    for path in [
        "/",
        session.as_str(),
        report.as_str(),
        room.as_str(),
        certs.as_str(),
        "/street/dashboard",
        "/street/chairs",
        "/street/roster",
    ] {
        let r = official.get(path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_hardened(&r, path);
        assert_no_store(&r, path);
        assert_no_inline_code(&r.text().await.unwrap(), path);
    }
    for path in [
        format!("/sessions/{}/report.csv", s.session),
        format!("/sessions/{}/report.xlsx", s.session),
        format!("/sessions/{}/evidence.zip", s.session),
        format!("/sessions/{}/qr.svg", s.session),
    ] {
        let r = official.get(&path).await;
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_hardened(&r, &path);
        assert_no_store(&r, &path);
    }
    // The certificate PDF opens in the browser's viewer: no document policy, but still no-store.
    let cert = &quorum::db::certificates::for_person(&s.app.db, s.chairs[0])
        .await
        .unwrap()[0];
    let r = official.get(&format!("/certificates/{}.pdf", cert.id)).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("content-security-policy").is_none());
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_no_store(&r, "pdf");
    let chair = s.app.other_browser();
    chair.sign_in("13900000100", PASSWORD).await;
    let attempt = chair.get(&format!("/quiz/{}", opened.quiz_id)).await;
    assert_no_store(&attempt, "quiz");
    for path in ["/".to_string(), room.clone()] {
        let r = chair.get(&path).await;
        assert_no_store(&r, &path);
        assert_no_inline_code(&r.text().await.unwrap(), &path);
    }
}

#[tokio::test]
async fn a_room_socket_from_another_site_is_refused() {
    use testkit::room_client::handshake_status;
    let s = crate::quiz::setup(crate::quiz::settings(4)).await;
    let person = quorum::db::people::get(&s.app.db, s.chairs[0]).await.unwrap().unwrap();
    let sid = quorum::services::accounts::start_session(&s.app.db, person, 1)
        .await
        .unwrap()
        .token;
    let url = format!(
        "{}/sessions/{}/ws",
        s.app.address.replace("http://", "ws://"),
        s.session
    );
    let host = s.app.address.trim_start_matches("http://").to_string();
    assert_eq!(
        handshake_status(&url, &sid, Some("https://evil.example"))
            .await
            .unwrap(),
        403,
        "a cross-site handshake must be refused"
    );
    let same_origin = format!("http://{host}");
    assert_eq!(
        handshake_status(&url, &sid, Some(&same_origin)).await.unwrap(),
        101,
        "same origin"
    );
    // No Origin: not a web page (the synthetic clients); the session cookie still decides.
    assert_eq!(handshake_status(&url, &sid, None).await.unwrap(), 101, "no origin");
}
