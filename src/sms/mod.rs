//! Sending text messages. With no gateway configured each message is written as a file under
//! `var/sms/` (the number on the first line, the text after it), as email goes to `var/mail`: a newcomer
//! needs nothing, and a test reads the code from the file. In production an HTTP SMS gateway.
//!
//! The gateway contract is deliberately plain, so that a small adapter fits any provider (Aliyun,
//! Tencent Cloud…): `POST {gateway_url}` with `Authorization: Bearer {gateway_token}` and the JSON body
//! `{"id": "quorum-sms-17", "phone": "13900000101", "text": "…"}`. A 2xx answer means accepted; 429
//! and 5xx are retried; any other 4xx is final. `id` is the same on every retry of one message, so a
//! gateway can drop duplicates.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::config::SmsSettings;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later (the gateway was down or busy).
    #[error("temporary: {0}")]
    Temporary(String),
    /// Retrying will not help (refused as malformed, unauthorised).
    #[error("permanent: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum SmsSender {
    Folder(PathBuf),
    Gateway { url: String, token: Option<SecretString> },
}

impl SmsSender {
    pub fn from_settings(s: &SmsSettings, var_dir: &std::path::Path) -> anyhow::Result<SmsSender> {
        Ok(match &s.gateway_url {
            Some(url) => SmsSender::Gateway {
                url: url.clone(),
                token: s.gateway_token.clone(),
            },
            None => {
                let dir = s.folder.clone().unwrap_or_else(|| var_dir.join("sms"));
                std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
                tracing::info!(folder = %dir.display(), "no SMS gateway configured: text messages are written to this folder");
                SmsSender::Folder(dir)
            }
        })
    }

    /// Sends one message; `id` is the outbox row, stable across retries.
    pub async fn send(&self, id: i64, phone: &str, text: &str) -> Result<(), SendError> {
        match self {
            SmsSender::Folder(dir) => write_file(dir, id, phone, text).await,
            SmsSender::Gateway { url, token } => post(url.clone(), token.clone(), id, phone, text).await,
        }
    }
}

/// One file per message, named by the outbox id (a retry rewrites the same file, never a second one),
/// written under a temporary name first so a reader never sees half a message.
async fn write_file(dir: &std::path::Path, id: i64, phone: &str, text: &str) -> Result<(), SendError> {
    let path = dir.join(format!("sms-{id:08}.txt"));
    let tmp = dir.join(format!(".sms-{id:08}.tmp"));
    let body = format!("{phone}\n{text}\n");
    tokio::fs::write(&tmp, body)
        .await
        .map_err(|e| SendError::Temporary(format!("writing {}: {e}", tmp.display())))?;
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| SendError::Temporary(format!("renaming to {}: {e}", path.display())))
}

async fn post(url: String, token: Option<SecretString>, id: i64, phone: &str, text: &str) -> Result<(), SendError> {
    let body = serde_json::json!({ "id": format!("quorum-sms-{id}"), "phone": phone, "text": text });
    // ureq is a blocking client: small, and the sender runs on a worker, not on a request path.
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.post(&url);
        if let Some(t) = &token {
            req = req.header("Authorization", format!("Bearer {}", t.expose_secret()));
        }
        match req.send_json(&body) {
            Ok(r) => classify(r.status().as_u16()),
            Err(e) => Err(SendError::Temporary(format!("gateway unreachable: {e}"))),
        }
    })
    .await
    .map_err(|e| SendError::Temporary(format!("sender task: {e}")))?
}

fn classify(status: u16) -> Result<(), SendError> {
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(SendError::Temporary(format!("gateway answered {status}"))),
        _ => Err(SendError::Permanent(format!("gateway refused the message ({status})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_broken_gateways_are_retried_refusals_are_not() {
        assert!(classify(202).is_ok());
        assert!(matches!(classify(503), Err(SendError::Temporary(_))));
        assert!(matches!(classify(429), Err(SendError::Temporary(_))));
        assert!(matches!(classify(401), Err(SendError::Permanent(_))));
    }

    #[tokio::test]
    async fn the_folder_holds_one_file_per_message_number_first() {
        let dir = std::env::temp_dir().join(format!("quorum-sms-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let s = SmsSender::Folder(dir.clone());
        assert!(s.send(7, "13900000101", "验证码 123456").await.is_ok());
        assert!(s.send(7, "13900000101", "验证码 123456").await.is_ok());
        let files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(dir.join("sms-00000007.txt")).unwrap_or_default();
        assert_eq!(text, "13900000101\n验证码 123456\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
