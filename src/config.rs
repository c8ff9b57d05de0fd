//! Typed settings. Precedence: defaults in code → an optional TOML file (path in `QUORUM_CONFIG`) →
//! environment variables `QUORUM__SECTION__KEY` (e.g. `QUORUM__DATABASE__URL`). Nothing is global: the
//! loaded `Settings` is passed to `Application::build`.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub environment: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub security: SecuritySettings,
    pub demo: DemoSettings,
    pub paths: PathSettings,
    pub rooms: RoomSettings,
    pub email: EmailSettings,
    pub sms: SmsSettings,
    pub recordings: RecordingSettings,
    pub retention: RetentionSettings,
    pub cluster: ClusterSettings,
}

/// Several app processes on one database (`rooms::cluster`). Unset `node_id`: one process hosts every
/// room and nothing is registered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    /// This node's name among the others (letters, digits, `-`, `_`; e.g. `a`, `node-2`).
    pub node_id: Option<String>,
    /// Where pages reach this node itself: the room's WebSocket and live audio go here. Behind one
    /// site, a path the proxy sends to this node only (`https://quorum.example.gov.cn/n/a`), so the
    /// sign-in cookie and the page's origin stay the site's.
    pub node_url: Option<String>,
    /// How long a heartbeat, and a room's lease, lasts: a node silent this long has its rooms placed
    /// elsewhere. Heartbeats come three times per period.
    pub lease_secs: u64,
}

/// How long personal data is kept beyond what training needs (PIPL art. 19), enforced daily
/// (`services::privacy::apply_retention`). Recordings have their own setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Attendance (live and replay intervals) is deleted this many days after it was recorded (0 keeps
    /// it: certificates and the committee's term need it).
    pub attendance_days: u32,
    /// The answers given in submitted attempts are cleared this many days after submitting (0 keeps
    /// them); scores, results and which questions were right stay, so reports hold.
    pub answers_days: u32,
    /// Chat messages are deleted this many days after they were written (0 keeps them).
    pub chat_days: u32,
    /// Sign-in events are deleted this many days after; at least 183 (six months, Cybersecurity Law
    /// art. 21). The audit trail is never deleted by this job.
    pub signin_events_days: u32,
}

/// Recordings of live lectures (`rooms::recorder`) and their replay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingSettings {
    /// Record every live session (the moderator can still pause and resume).
    pub enabled: bool,
    /// Where the files go; `var_dir/recordings` by default.
    pub dir: Option<PathBuf>,
    /// Finished recordings are deleted this many days after the lecture (0 keeps them).
    pub retention_days: u32,
    /// `local` (the files stay in `dir`) or `s3`: finished recordings are uploaded to an S3-compatible
    /// object store and served from there by every node (several nodes).
    pub store: String,
    /// The store's address, e.g. `http://127.0.0.1:8333` (path-style requests).
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key: Option<String>,
    /// In the environment: `QUORUM__RECORDINGS__S3_SECRET_KEY`.
    pub s3_secret_key: Option<SecretString>,
}

impl Settings {
    /// The folder recordings are written to and served from.
    pub fn recordings_dir(&self) -> PathBuf {
        self.recordings
            .dir
            .clone()
            .unwrap_or_else(|| self.paths.var_dir.join("recordings"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same host or a test server).
    None,
    /// STARTTLS, typically port 587.
    Starttls,
    /// Implicit TLS, typically port 465.
    Tls,
}

/// Email. With no `smtp_host`, messages are written as .eml files to `folder` (default `var/mail`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub from: String,
    /// Domain part of Message-IDs (`<cert-17@domain>`).
    pub message_id_domain: String,
    pub folder: Option<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    /// Optional DKIM signing (all three together; the key is a PKCS#1 RSA PEM file).
    pub dkim_selector: Option<String>,
    pub dkim_domain: Option<String>,
    pub dkim_private_key_file: Option<PathBuf>,
    /// Whether the outbox worker runs in this process.
    pub worker: bool,
}

/// Text messages (sign-in codes). With no `gateway_url`, each message is written as a file to `folder`
/// (default `var/sms`); see `crate::sms` for the gateway contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    pub folder: Option<PathBuf>,
    pub gateway_url: Option<String>,
    pub gateway_token: Option<SecretString>,
    /// Whether the SMS outbox worker runs in this process.
    pub worker: bool,
}

/// Live-room media. Browsers reach the server's UDP ports directly (or through TURN).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomSettings {
    /// The address media sockets bind to, e.g. the host's LAN or public address.
    pub bind_ip: std::net::IpAddr,
    /// UDP port range for media (open it in the firewall); 0 and 0 let the system choose.
    pub udp_port_min: u16,
    pub udp_port_max: u16,
    /// The public address announced to browsers when the server sits behind 1:1 NAT.
    pub public_ip: Option<std::net::IpAddr>,
    /// Static ICE servers handed to browsers as they are, typically STUN (`stun:host:3478`). A TURN relay
    /// belongs in `turn_urls`, where its credentials expire instead of being printed into every page.
    pub ice_servers: Vec<IceServer>,
    /// TURN relays (coturn) for chairs whose network blocks UDP, e.g. `turn:turn.example.cn:3478?transport=udp`,
    /// `turn:turn.example.cn:3478?transport=tcp`, `turns:turn.example.cn:443?transport=tcp`. In the
    /// environment (`QUORUM__ROOMS__TURN_URLS`) one comma-separated string.
    #[serde(default, deserialize_with = "list_or_commas")]
    pub turn_urls: Vec<String>,
    /// The secret shared with coturn (`use-auth-secret`, `static-auth-secret`): each room page gets its own
    /// credentials minted from it (`domain::turn`). Required with `turn_urls`.
    #[serde(default)]
    pub turn_secret: Option<SecretString>,
    /// How long minted TURN credentials stay valid, in seconds. coturn checks the expiry when a relay is
    /// allocated and again on every refresh, so it must outlast the longest session a page stays open
    /// through: 6 hours by default.
    #[serde(default = "default_turn_ttl_secs")]
    pub turn_ttl_secs: u64,
    /// Threads of the media runtime (separate from the HTTP workers).
    pub media_threads: usize,
    /// How many UDP sockets carry all viewers' media, each driven by one task (`rooms::mux`): by default
    /// one per media thread, on the first free ports of the UDP range. 0 gives every viewer a socket and
    /// port of her own, as publishers have (more CPU per viewer; the behaviour before these loops).
    #[serde(default)]
    pub viewer_sockets: Option<usize>,
}

fn default_turn_ttl_secs() -> u64 {
    6 * 3600
}

impl RoomSettings {
    /// The ICE servers for one room page: the static ones, then (when configured) the TURN relays with
    /// credentials for `person_id` that expire `turn_ttl_secs` after `now_unix`.
    pub fn ice_servers_for(&self, person_id: i64, now_unix: i64) -> Vec<IceServer> {
        let mut servers = self.ice_servers.clone();
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let ttl = i64::try_from(self.turn_ttl_secs).unwrap_or(i64::MAX);
            let c = crate::domain::turn::mint(
                secret.expose_secret().as_bytes(),
                person_id,
                now_unix.saturating_add(ttl),
            );
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(c.username),
                credential: Some(c.credential),
            });
        }
        servers
    }
}

/// A list of strings, or one string of comma-separated items: environment overrides arrive as a string
/// (`QUORUM__ROOMS__TURN_URLS=turn:a:3478,turns:a:443`), and a TOML-style `["…", "…"]` in one is read too.
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    match ListOrText::deserialize(d)? {
        ListOrText::List(list) => Ok(list),
        ListOrText::Text(text) if text.trim_start().starts_with('[') => {
            #[derive(Deserialize)]
            struct V {
                v: Vec<String>,
            }
            toml::from_str::<V>(&format!("v = {text}"))
                .map(|t| t.v)
                .map_err(|e| serde::de::Error::custom(format!("not a list of strings: {}", e.message())))
        }
        ListOrText::Text(text) => Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()),
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    // Left out rather than `null`: the browser would turn a null username into the text "null".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// The address people reach the service at, for invitation links and QR codes
    /// (e.g. `https://quorum.example.gov.cn`). Defaults to `http://host:port`.
    pub public_url: Option<String>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    /// Behind a reverse proxy: take the client address from `X-Forwarded-For` (only then, since
    /// anyone can send that header). Used for per-address sign-in throttling.
    pub behind_proxy: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Signs CSRF tokens. Required in production (at least 32 characters); in development a random key is
    /// generated once and kept in `paths.var_dir`.
    pub secret_key: Option<SecretString>,
    /// Mark cookies `Secure` (HTTPS only). On by default in production.
    pub cookie_secure: Option<bool>,
    pub session_days: u32,
    /// How long a personal sign-in link stays valid.
    pub signin_link_days: u32,
    /// How long "keep me signed in on this phone" lasts.
    pub remembered_session_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Seed demo data into an empty database at start-up. Refused in production.
    pub seed: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSettings {
    /// Local state: the development secret, the email folder (the SQLite file by default).
    pub var_dir: PathBuf,
    /// Question-bank files (`*.toml`) and `statutes/`, loaded at start-up.
    pub banks_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    ReadFile { path: String, source: std::io::Error },
    #[error("configuration file {path}: {message}")]
    FileSyntax { path: String, message: String },
    #[error("setting {key}: {message}")]
    Invalid { key: String, message: String },
}

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The defaults, as the TOML table the file and the environment are merged into.
fn defaults() -> toml::Table {
    let var = project_dir().join("var");
    let db = format!("sqlite://{}?mode=rwc", var.join("quorum.db").display());
    let text = format!(
        r#"
environment = "development"
[server]
host = "127.0.0.1"
port = 8080
workers = 0
shutdown_timeout_secs = 10
behind_proxy = false
[database]
url = {db:?}
max_connections = 10
[security]
session_days = 30
signin_link_days = 14
remembered_session_days = 180
[demo]
seed = true
[rooms]
bind_ip = "127.0.0.1"
udp_port_min = 0
udp_port_max = 0
ice_servers = []
media_threads = 2
[email]
from = "业委会学堂 <noreply@quorum.local>"
message_id_domain = "quorum.local"
smtp_port = 587
smtp_security = "starttls"
worker = true
[sms]
worker = true
[recordings]
enabled = true
retention_days = 365
store = "local"
[retention]
attendance_days = 0
answers_days = 0
chat_days = 365
signin_events_days = 365
[cluster]
lease_secs = 6
[paths]
var_dir = {var:?}
banks_dir = {banks:?}
"#,
        var = var.display().to_string(),
        banks = project_dir().join("question-banks").display().to_string(),
    );
    toml::from_str(&text).unwrap_or_default()
}

fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// `QUORUM__SERVER__PORT=9000` → `{server = {port = 9000}}`. Values that read as TOML scalars (numbers,
/// booleans) keep that type; anything else is a string. Secrets are always strings, even one that happens
/// to read as a number (`QUORUM__ROOMS__TURN_SECRET=20261202`).
fn env_overrides(vars: impl Iterator<Item = (String, String)>) -> toml::Table {
    let mut out = toml::Table::new();
    for (name, raw) in vars {
        let Some(path) = name.strip_prefix("QUORUM__") else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(|k| k.to_lowercase()).collect();
        let secret = keys.last().is_some_and(|k| {
            ["secret", "secret_key", "password", "token"]
                .iter()
                .any(|s| k.ends_with(s))
        });
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !secret && !v.is_table() && !v.is_array())
            .unwrap_or(toml::Value::String(raw));
        insert_path(&mut out, &keys, value);
    }
    out
}

fn insert_path(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    match keys {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                insert_path(t, rest, value);
            }
        }
    }
}

fn invalid(key: &str, message: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    })
}

impl Settings {
    /// Loads from the process environment.
    pub fn load() -> Result<Settings, ConfigError> {
        Settings::load_from(std::env::var("QUORUM_CONFIG").ok(), std::env::vars())
    }

    pub fn load_from(
        file: Option<String>,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table = defaults();
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::ReadFile {
                path: path.clone(),
                source,
            })?;
            let file_table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::FileSyntax {
                path,
                message: e.to_string(),
            })?;
            merge(&mut table, file_table);
        }
        merge(&mut table, env_overrides(env));
        // Round-trip through text so that serde errors carry the key path ("server.port").
        let text = toml::to_string(&table).map_err(|e| ConfigError::Invalid {
            key: "?".into(),
            message: e.to_string(),
        })?;
        let settings: Settings = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            key: e.span().map(|s| key_at(&text, s.start)).unwrap_or_default(),
            message: e.message().to_string(),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.check_database()?;
        self.check_security()?;
        self.check_rooms()?;
        self.check_cluster()?;
        if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid(
                "email.from",
                "must be an address such as 业委会学堂 <noreply@example.gov.cn>",
            );
        }
        if self.retention.signin_events_days < 183 {
            return invalid(
                "retention.signin_events_days",
                "must be at least 183: logs are kept six months (Cybersecurity Law art. 21)",
            );
        }
        if let Some(url) = &self.sms.gateway_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return invalid("sms.gateway_url", "must be an http:// or https:// address");
        }
        if self.environment == Environment::Production {
            if self.demo.seed {
                return invalid("demo.seed", "demo data is never seeded in production; set it to false");
            }
            if self.security.secret_key.is_none() {
                return invalid("security.secret_key", "is required in production");
            }
        }
        Ok(())
    }

    fn check_database(&self) -> Result<(), ConfigError> {
        let url = &self.database.url;
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return invalid("database.url", "must start with sqlite: or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        Ok(())
    }

    /// The public URL, lifetimes and the signing key.
    fn check_security(&self) -> Result<(), ConfigError> {
        if let Some(u) = &self.server.public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return invalid("server.public_url", "must start with http:// or https://");
        }
        if self.security.session_days == 0 || self.security.signin_link_days == 0 {
            return invalid(
                "security.session_days",
                "session and link lifetimes must be at least one day",
            );
        }
        if let Some(k) = &self.security.secret_key
            && k.expose_secret().len() < 32
        {
            return invalid("security.secret_key", "must be at least 32 characters");
        }
        Ok(())
    }

    fn check_cluster(&self) -> Result<(), ConfigError> {
        let c = &self.cluster;
        let Some(id) = &c.node_id else {
            return Ok(());
        };
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        {
            return invalid(
                "cluster.node_id",
                "letters, digits, - and _ only, at most 64 characters",
            );
        }
        match &c.node_url {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {}
            _ => {
                return invalid(
                    "cluster.node_url",
                    "is required with cluster.node_id: where pages reach this node (http:// or https://)",
                );
            }
        }
        if c.lease_secs < 3 {
            return invalid("cluster.lease_secs", "must be at least 3");
        }
        Ok(())
    }

    fn check_rooms(&self) -> Result<(), ConfigError> {
        if self.rooms.udp_port_min > self.rooms.udp_port_max
            || (self.rooms.udp_port_min == 0) != (self.rooms.udp_port_max == 0)
        {
            return invalid(
                "rooms.udp_port_min",
                "the port range needs both ends, min ≤ max (or both 0)",
            );
        }
        if self.rooms.media_threads == 0 {
            return invalid("rooms.media_threads", "must be at least 1");
        }
        self.check_ice()
    }

    /// ICE and TURN servers: a mistyped URL or a relay without its secret would otherwise only show as
    /// chairs behind firewalls failing to connect.
    fn check_ice(&self) -> Result<(), ConfigError> {
        let r = &self.rooms;
        for url in r.ice_servers.iter().flat_map(|s| &s.urls) {
            if !["stun:", "turn:", "turns:"].iter().any(|p| url.starts_with(p)) {
                return invalid(
                    "rooms.ice_servers",
                    &format!("{url:?} must start with stun:, turn: or turns:"),
                );
            }
        }
        for url in &r.turn_urls {
            if !(url.starts_with("turn:") || url.starts_with("turns:")) {
                return invalid("rooms.turn_urls", &format!("{url:?} must start with turn: or turns:"));
            }
        }
        let secret = r.turn_secret.as_ref().map(|s| s.expose_secret().trim().len());
        match (r.turn_urls.is_empty(), secret) {
            (false, None | Some(0)) => {
                return invalid(
                    "rooms.turn_secret",
                    "is required with rooms.turn_urls (the same value as coturn's static-auth-secret)",
                );
            }
            (true, Some(_)) => {
                return invalid(
                    "rooms.turn_urls",
                    "rooms.turn_secret is set, but no turn_urls name the TURN servers",
                );
            }
            _ => {}
        }
        if r.turn_ttl_secs < 60 {
            return invalid(
                "rooms.turn_ttl_secs",
                "must be at least 60 seconds (longer than the longest session)",
            );
        }
        Ok(())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database.url.starts_with("sqlite:")
    }

    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}", self.server.host, self.server.port))
            .trim_end_matches('/')
            .to_string()
    }

    pub fn cookie_secure(&self) -> bool {
        self.security
            .cookie_secure
            .unwrap_or(self.environment == Environment::Production)
    }
}

/// The dotted key of the TOML line that contains byte offset `pos` (for error messages).
fn key_at(text: &str, pos: usize) -> String {
    let mut section = String::new();
    let mut key = String::new();
    let mut offset = 0;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.trim_matches(|c| c == '[' || c == ']').to_string();
            // An error on a section header (an unknown section) must not name the previous
            // section's last key.
            key.clear();
        } else if let Some((k, _)) = t.split_once('=') {
            key = k.trim().to_string();
        }
        offset += line.len() + 1;
        if offset > pos {
            break;
        }
    }
    if section.is_empty() {
        key
    } else if key.is_empty() {
        section
    } else {
        format!("{section}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_work_with_nothing_set() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert!(s.is_sqlite());
        assert!(s.demo.seed);
    }

    #[test]
    fn env_overrides_and_errors_name_the_setting() {
        let s = Settings::load_from(None, env(&[("QUORUM__SERVER__PORT", "9000")])).unwrap();
        assert_eq!(s.server.port, 9000);
        let e = Settings::load_from(None, env(&[("QUORUM__SERVER__PORT", "eighty")])).unwrap_err();
        assert!(e.to_string().contains("server.port"), "{e}");
        let e = Settings::load_from(None, env(&[("QUORUM__DATABASE__URL", "mysql://x")])).unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
        let e = Settings::load_from(None, env(&[("QUORUM__SERVER__PROT", "1")])).unwrap_err();
        assert!(e.to_string().contains("prot"), "{e}");
        let e = Settings::load_from(None, env(&[("QUORUM__HTTP__PORT", "1")])).unwrap_err();
        assert!(e.to_string().starts_with("setting http:"), "{e}");
    }

    #[test]
    fn production_refuses_demo_and_missing_secret() {
        let e = Settings::load_from(None, env(&[("QUORUM__ENVIRONMENT", "production")])).unwrap_err();
        assert!(e.to_string().contains("demo.seed"), "{e}");
        let e = Settings::load_from(
            None,
            env(&[("QUORUM__ENVIRONMENT", "production"), ("QUORUM__DEMO__SEED", "false")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("security.secret_key"), "{e}");
    }

    const TURN: &str = "turn:127.0.0.1:3478?transport=udp, turns:turn.example.cn:443?transport=tcp";

    #[test]
    fn turn_urls_from_the_environment_are_one_comma_separated_string() {
        let s = Settings::load_from(
            None,
            env(&[
                ("QUORUM__ROOMS__TURN_URLS", TURN),
                ("QUORUM__ROOMS__TURN_SECRET", "20261202"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.rooms.turn_urls,
            [
                "turn:127.0.0.1:3478?transport=udp",
                "turns:turn.example.cn:443?transport=tcp"
            ]
        );
        // A secret that reads as a number stays the text it was.
        assert_eq!(s.rooms.turn_secret.as_ref().unwrap().expose_secret(), "20261202");
        assert_eq!(s.rooms.turn_ttl_secs, 6 * 3600);
        assert!(!format!("{s:?}").contains("20261202"), "the secret is never printed");
        let s = Settings::load_from(
            None,
            env(&[
                ("QUORUM__ROOMS__TURN_URLS", r#"["turn:a:3478", "turns:a:443"]"#),
                ("QUORUM__ROOMS__TURN_SECRET", "s"),
            ]),
        )
        .unwrap();
        assert_eq!(s.rooms.turn_urls, ["turn:a:3478", "turns:a:443"]);
    }

    #[test]
    fn turn_settings_are_checked_at_start_up() {
        let e = Settings::load_from(None, env(&[("QUORUM__ROOMS__TURN_URLS", TURN)])).unwrap_err();
        assert!(e.to_string().contains("rooms.turn_secret"), "{e}");
        let e = Settings::load_from(None, env(&[("QUORUM__ROOMS__TURN_SECRET", "s")])).unwrap_err();
        assert!(e.to_string().contains("rooms.turn_urls"), "{e}");
        let e = Settings::load_from(
            None,
            env(&[
                ("QUORUM__ROOMS__TURN_URLS", "127.0.0.1:3478"),
                ("QUORUM__ROOMS__TURN_SECRET", "s"),
            ]),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("rooms.turn_urls") && e.to_string().contains("turn:"),
            "{e}"
        );
        let e = Settings::load_from(
            None,
            env(&[
                ("QUORUM__ROOMS__TURN_URLS", TURN),
                ("QUORUM__ROOMS__TURN_SECRET", "s"),
                ("QUORUM__ROOMS__TURN_TTL_SECS", "0"),
            ]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("rooms.turn_ttl_secs"), "{e}");
    }

    #[test]
    fn static_ice_server_urls_are_checked_and_turn_comes_from_a_file_as_a_list() {
        let dir = std::env::temp_dir().join(format!("quorum-cfg-ice-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("q.toml");
        std::fs::write(&f, "[[rooms.ice_servers]]\nurls = [\"stun.example.cn:3478\"]\n").unwrap();
        let e = Settings::load_from(Some(f.display().to_string()), env(&[])).unwrap_err();
        assert!(e.to_string().contains("rooms.ice_servers"), "{e}");
        std::fs::write(
            &f,
            "[rooms]\nturn_urls = [\"turn:t:3478\"]\nturn_secret = \"k\"\nturn_ttl_secs = 600\n\
             [[rooms.ice_servers]]\nurls = [\"stun:s:3478\"]\n",
        )
        .unwrap();
        let s = Settings::load_from(Some(f.display().to_string()), env(&[])).unwrap();
        let servers = s.rooms.ice_servers_for(7, 1_000);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].urls, ["stun:s:3478"]);
        assert_eq!(servers[1].urls, ["turn:t:3478"]);
        assert_eq!(servers[1].username.as_deref(), Some("1600:7"));
        let expected = crate::domain::turn::mint(b"k", 7, 1_600);
        assert_eq!(servers[1].credential.as_deref(), Some(expected.credential.as_str()));
        let json = serde_json::to_string(&servers[0]).unwrap();
        assert_eq!(json, r#"{"urls":["stun:s:3478"]}"#, "no null username for the browser");
    }

    #[test]
    fn file_layer_sits_between() {
        let dir = std::env::temp_dir().join(format!("quorum-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("q.toml");
        std::fs::write(&f, "[server]\nport = 7000\nhost = \"0.0.0.0\"\n").unwrap();
        let s = Settings::load_from(Some(f.display().to_string()), env(&[("QUORUM__SERVER__PORT", "7001")])).unwrap();
        assert_eq!((s.server.host.as_str(), s.server.port), ("0.0.0.0", 7001));
    }
}
