//! The test harness: `spawn_app()`, a browser-like client with cookies, and fixtures.

use std::path::PathBuf;

use quorum::config::Settings;
use quorum::domain::person::{Role, Roles};
use quorum::services::people::AccountInput;
use quorum::services::{org, passwords, people};
use quorum::startup::Application;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub const PASSWORD: &str = "correct-horse-9";

pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
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
            let admin = Database::connect(&base).await.expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
            format!("{prefix}/{name}")
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
    let mut settings = Settings::for_tests(&url, dir.clone());
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        db,
        client: browser(),
        dir,
    }
}

/// The value of the first hidden `csrf` input on a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
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
            client: browser(),
            dir: PathBuf::new(),
        }
    }

    /// A new client (another browser) for the same app.
    pub fn other_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            db: self.db.clone(),
            client: browser(),
            dir: PathBuf::new(),
        }
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

/// Creates an account with a password; returns its phone number.
pub async fn make_person(app: &TestApp, phone: &str, roles: &[Role], streets: &[i64], committee: Option<i64>) -> i64 {
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
