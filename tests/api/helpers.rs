//! The test harness: `spawn_app()`, a browser-like client with cookies, what a user does with it
//! (`schedule_session`, `start_session`, `open_quiz`, `start_quiz`, `answer`, `submit`, `join_room`), pages
//! read by structure
//! (`page`), and fixtures.

use std::path::PathBuf;

use quorum::config::Settings;
use quorum::domain::person::{Role, Roles};
use quorum::services::accounts::passwords;
use quorum::services::people::AccountInput;
use quorum::services::{org, people};
use quorum::startup::Application;
use sea_orm::DatabaseConnection;
use testkit::room_client::Signal;

pub use crate::page::Page;

pub const PASSWORD: &str = "correct-horse-9";

pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    /// The URL `db` was opened with (another process can serve the same database).
    pub database_url: String,
    pub client: reqwest::Client,
    dir: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh database URL: a new SQLite file, or a new PostgreSQL database when configured.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("QUORUM_TEST_POSTGRES_URL") {
        Ok(base) if !base.is_empty() => {
            let name = format!("quorum_t_{}", uuid::Uuid::new_v4().simple());
            testkit::database::create_postgres(&base, &name)
                .await
                .expect("create test database")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
    }
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = std::env::temp_dir().join(format!("quorum-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = fresh_database(&dir).await;
    let mut settings = testkit::settings(&url, dir.clone());
    adjust(&mut settings);
    let database_url = settings.database.url.clone();
    let app = Application::build(settings).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        db,
        database_url,
        client: browser(),
        dir,
    }
}

/// The value of the first hidden `csrf` input on a page.
pub fn csrf_of(html: &str) -> String {
    Page::parse(html).csrf()
}

/// Where a redirect points.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("{} is not a redirect", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// The id at the end of a path such as `/sessions/12` or `/attempts/7`.
pub fn id_in(path: &str) -> i64 {
    let last = path.split('?').next().unwrap().rsplit('/').next().unwrap();
    last.parse().unwrap_or_else(|_| panic!("no id at the end of {path}"))
}

/// What an official fills in on 新建培训 (`/sessions/new`).
pub struct SessionForm<'a> {
    pub title: &'a str,
    /// `YYYY-MM-DDTHH:MM`, Shanghai time, as the browser's date-time field sends it.
    pub starts_at: String,
    pub ends_at: String,
    pub street: i64,
    /// Empty: none chosen (the form then says a lecturer is required).
    pub lecturers: Vec<i64>,
}

impl<'a> SessionForm<'a> {
    /// A session on `day` (`YYYY-MM-DD`) from `from` to `to` (`HH:MM`), inviting the whole street.
    pub fn on(title: &'a str, day: &str, from: &str, to: &str, street: i64, lecturer: i64) -> SessionForm<'a> {
        SessionForm {
            title,
            starts_at: format!("{day}T{from}"),
            ends_at: format!("{day}T{to}"),
            street,
            lecturers: vec![lecturer],
        }
    }
}

impl TestApp {
    /// The app's local state folder (`var/`: mail, sms, the SQLite file).
    pub fn var_dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_status(&self, path: &str) -> u16 {
        self.get(path).await.status().as_u16()
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// A page, read by structure.
    pub async fn page(&self, path: &str) -> Page {
        Page::parse(self.get_text(path).await)
    }

    /// A CSRF token valid for this client (opening a page sets the cookie). The home page has one
    /// (the sign-out button) when signed in, the sign-in page when not.
    pub async fn csrf(&self) -> String {
        let home = self.get_text("/").await;
        if home.contains("name=\"csrf\"") {
            csrf_of(&home)
        } else {
            csrf_of(&self.get_text("/signin").await)
        }
    }

    /// Posts a form the way a browser would after loading a page: with the page's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut body: Vec<(&str, &str)> = vec![("csrf", &token)];
        body.extend_from_slice(fields);
        self.client.post(self.url(path)).form(&body).send().await.unwrap()
    }

    pub async fn sign_in(&self, identifier: &str, password: &str) -> reqwest::Response {
        self.post_form("/signin", &[("identifier", identifier), ("password", password)])
            .await
    }

    /// Signs in from a page that asked to come back to `next` (the sign-in form's hidden field).
    pub async fn sign_in_to(&self, identifier: &str, password: &str, next: &str) -> reqwest::Response {
        self.post_form(
            "/signin",
            &[("identifier", identifier), ("password", password), ("next", next)],
        )
        .await
    }

    pub async fn sign_out(&self) {
        let r = self.post_form("/signout", &[]).await;
        assert_eq!(r.status().as_u16(), 303);
    }

    /// A browser for a server running elsewhere (another process).
    pub fn remote(base: &str) -> TestApp {
        TestApp {
            address: base.to_string(),
            db: sea_orm::DatabaseConnection::default(),
            database_url: String::new(),
            client: browser(),
            dir: PathBuf::new(),
        }
    }

    /// A new client (another browser) for the same app.
    pub fn other_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            db: self.db.clone(),
            database_url: self.database_url.clone(),
            client: browser(),
            dir: PathBuf::new(),
        }
    }

    /// An official schedules a session through 新建培训.
    pub async fn schedule_session(&self, f: &SessionForm<'_>) -> reqwest::Response {
        let street = f.street.to_string();
        let lecturers: Vec<String> = f.lecturers.iter().map(i64::to_string).collect();
        let mut fields = vec![
            ("title", f.title),
            ("description", ""),
            ("starts_at", f.starts_at.as_str()),
            ("ends_at", f.ends_at.as_str()),
            ("street", street.as_str()),
            ("invite", "street"),
        ];
        fields.extend(lecturers.iter().map(|l| ("lecturers", l.as_str())));
        self.post_form("/sessions/new", &fields).await
    }

    /// The moderator presses 开始培训.
    pub async fn start_session(&self, session: i64) -> reqwest::Response {
        self.post_form(&format!("/sessions/{session}/start"), &[]).await
    }

    /// The moderator presses 结束培训 and confirms.
    pub async fn end_session(&self, session: i64) -> reqwest::Response {
        self.post_form(&format!("/sessions/{session}/end"), &[("confirm", "yes")])
            .await
    }

    /// The moderator presses 开始随堂测试.
    pub async fn open_quiz(&self, session: i64) -> reqwest::Response {
        self.post_form(&format!("/sessions/{session}/quiz/open"), &[]).await
    }

    /// The moderator closes the quiz.
    pub async fn close_quiz(&self, session: i64) -> reqwest::Response {
        self.post_form(&format!("/sessions/{session}/quiz/close"), &[]).await
    }

    /// A chair presses 开始答题 on the quiz page.
    pub async fn start_quiz(&self, quiz: i64) -> reqwest::Response {
        self.post_form(&format!("/quiz/{quiz}/start"), &[]).await
    }

    /// The quiz page saves one answer in the background (`{"position": 0, "choice": [1]}` or
    /// `{"position": 0, "truth": true}`), as `quiz.js` does.
    pub async fn answer(&self, attempt: i64, body: serde_json::Value) -> reqwest::Response {
        // The token from the home page: opening the attempt page would itself submit an overdue attempt.
        let page = self.get_text("/").await;
        self.client
            .post(self.url(&format!("/api/attempts/{attempt}/answers")))
            .header("X-CSRF-Token", csrf_of(&page))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A chair presses 交卷 and confirms.
    pub async fn submit(&self, attempt: i64) -> reqwest::Response {
        self.post_form(&format!("/attempts/{attempt}/submit"), &[("confirm", "yes")])
            .await
    }

    /// A signed-in session for `person` without the sign-in form: the cookie value the synthetic room
    /// clients present.
    pub async fn session_cookie(&self, person: i64) -> String {
        let p = quorum::db::people::get(&self.db, person).await.unwrap().unwrap();
        quorum::services::accounts::start_session(&self.db, p, 1)
            .await
            .unwrap()
            .token
    }

    /// The live room's WebSocket.
    pub fn ws_url(&self, session: i64) -> String {
        format!("{}/sessions/{session}/ws", self.address.replace("http://", "ws://"))
    }

    /// Enters the live room and returns the welcome itself (the connection stays open while the test
    /// runs, as a page would).
    pub async fn join_room_welcome(&self, session: i64, cookie: &str) -> serde_json::Value {
        let mut s = Signal::connect(&self.ws_url(session), cookie).await.unwrap();
        let welcome = s.expect("welcome", std::time::Duration::from_secs(5)).await.unwrap();
        std::mem::forget(s);
        welcome
    }

    /// Enters the live room with a session cookie and waits for the welcome.
    pub async fn join_room(&self, session: i64, cookie: &str) -> Signal {
        let mut s = Signal::connect(&self.ws_url(session), cookie).await.unwrap();
        s.expect("welcome", std::time::Duration::from_secs(5)).await.unwrap();
        s
    }
}

/// A district with one street, one 居委, one estate and its committee.
pub struct Place {
    pub street: i64,
    pub committee: i64,
}

pub async fn make_street(app: &TestApp, street: &str) -> Place {
    let district = match quorum::db::org::children(&app.db, None)
        .await
        .unwrap()
        .into_iter()
        .next()
    {
        Some(d) => d,
        None => org::create_unit(&app.db, None, "浦东新区", None).await.unwrap(),
    };
    let s = org::create_unit(&app.db, Some(district.id), street, None)
        .await
        .unwrap();
    let committee = org::ensure_committee(&app.db, s.id, "一居委", "幸福小区")
        .await
        .unwrap();
    Place {
        street: s.id,
        committee,
    }
}

/// Creates an account with a password, that has accepted the personal-information notice in force
/// (tests of the notice itself use `make_person_new`); returns its id.
pub async fn make_person(app: &TestApp, phone: &str, roles: &[Role], streets: &[i64], committee: Option<i64>) -> i64 {
    let id = make_person_new(app, phone, roles, streets, committee).await;
    let version = quorum::domain::privacy::NOTICE_VERSION;
    quorum::db::people::accept_notice(&app.db, id, version, "127.0.0.1")
        .await
        .unwrap();
    id
}

/// Creates an account with a password that has never signed in (nor accepted the notice).
pub async fn make_person_new(
    app: &TestApp,
    phone: &str,
    roles: &[Role],
    streets: &[i64],
    committee: Option<i64>,
) -> i64 {
    let codes: Vec<String> = roles.iter().map(|r| r.code().to_string()).collect();
    let input = AccountInput::parse("测试用户", phone, "", &codes, streets, committee, "").unwrap();
    let input = AccountInput {
        roles: Roles::new(roles.iter().copied()),
        ..input
    };
    let hash = passwords::hash(PASSWORD.to_string()).await.unwrap();
    people::create(&app.db, &input, Some(hash)).await.unwrap()
}

/// A person with the role, signed in on this app's client.
pub async fn signed_in_as(app: &TestApp, phone: &str, roles: &[Role], streets: &[i64], committee: Option<i64>) -> i64 {
    let id = make_person(app, phone, roles, streets, committee).await;
    let r = app.sign_in(phone, PASSWORD).await;
    assert_eq!(r.status().as_u16(), 303, "sign-in should redirect");
    id
}

/// A day a month from now (Shanghai), as the session form's date part: sessions cannot be scheduled in
/// the past, so tests never hard-code a date that will one day have passed.
pub fn future_day() -> String {
    (chrono::Utc::now() + chrono::Duration::days(30) + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

/// Starts the real server binary on a database; returns the child and its base URL.
pub fn start_server(
    url: &str,
    dir: &std::path::Path,
    banks: Option<&std::path::Path>,
) -> (std::process::Child, String) {
    start_server_with(url, dir, banks, None)
}

/// Starts a node `id` among several on one database (its URL is its own address).
pub fn start_node(
    url: &str,
    dir: &std::path::Path,
    banks: Option<&std::path::Path>,
    id: &str,
) -> (std::process::Child, String) {
    start_server_with(url, dir, banks, Some(id))
}

fn start_server_with(
    url: &str,
    dir: &std::path::Path,
    banks: Option<&std::path::Path>,
    node: Option<&str>,
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_quorum"));
    if let Some(id) = node {
        cmd.env("QUORUM__CLUSTER__NODE_ID", id)
            .env("QUORUM__CLUSTER__NODE_URL", format!("http://127.0.0.1:{port}"));
    }
    if let Some(banks) = banks {
        cmd.env("QUORUM__PATHS__BANKS_DIR", banks);
    }
    let mut child = cmd
        .arg("serve")
        .env("QUORUM__DATABASE__URL", url)
        .env("QUORUM__PATHS__VAR_DIR", dir)
        .env("QUORUM__DEMO__SEED", "false")
        .env("QUORUM__SERVER__PORT", port.to_string())
        .env(
            "QUORUM__SECURITY__SECRET_KEY",
            "restart-test-secret-key-restart-test-secret",
        )
        .env("QUORUM_LOG", "warn")
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    // Served, not merely listening: the port is bound before a node registers with the cluster, and a
    // test that stops another node right after this one started must find it registered.
    let started = std::time::Instant::now();
    loop {
        let served = healthy(port);
        // Checked after a good answer too: another test's server may have taken the port.
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server at {base} exited before it served: {status}");
        }
        if served {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server at {base} did not answer its health check within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    (child, base)
}

/// Whether the server on `port` answers its health check.
fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let mut head = [0u8; 12];
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .and_then(|_| stream.read_exact(&mut head))
        .is_ok_and(|_| head.ends_with(b" 200"))
}

/// After a first sign-in, the personal-information notice comes before `next`: she reads it, accepts
/// it, and goes on to `next`.
pub async fn accept_notice_then(app: &TestApp, r: &reqwest::Response, next: &str) {
    assert_eq!(r.status().as_u16(), 303);
    let notice = location(r);
    assert_eq!(notice, format!("/privacy?next={next}"), "the notice comes first");
    let page = app.page(&notice).await;
    assert!(page.body_text().contains("收集哪些信息"), "{page}");
    let accepted = app.post_form("/privacy", &[("next", next)]).await;
    assert_eq!(accepted.status().as_u16(), 303);
    assert_eq!(location(&accepted), next);
}
