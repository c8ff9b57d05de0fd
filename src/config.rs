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
    /// STUN/TURN servers handed to browsers (e.g. a coturn instance for chairs on restrictive networks).
    pub ice_servers: Vec<IceServer>,
    /// Threads of the media runtime (separate from the HTTP workers).
    pub media_threads: usize,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
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
/// booleans) keep that type; anything else is a string.
fn env_overrides(vars: impl Iterator<Item = (String, String)>) -> toml::Table {
    let mut out = toml::Table::new();
    for (name, raw) in vars {
        let Some(path) = name.strip_prefix("QUORUM__") else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(|k| k.to_lowercase()).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !v.is_table() && !v.is_array())
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
        if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid(
                "email.from",
                "must be an address such as 业委会学堂 <noreply@example.gov.cn>",
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
