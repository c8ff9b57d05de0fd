//! Sending email. One `Mailer` for the whole process, chosen by settings: SMTP (production), a folder
//! of .eml files (the default with nothing configured), or memory (tests). Messages are built here;
//! what they say comes from the caller.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{EmailSettings, SmtpSecurity};

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// (file name, PDF bytes)
    pub attachment: Option<(String, Vec<u8>)>,
    /// Stable per certificate (`<cert-…@domain>`): a resend is recognisably the same message.
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (4xx, connection refused, timeouts).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Will not work by retrying (5xx, a malformed address).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// A message captured by the in-memory mailer.
#[derive(Debug, Clone)]
pub struct Captured {
    pub to: String,
    pub message_id: String,
    pub raw: Vec<u8>,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
    Memory(Arc<Mutex<Vec<Captured>>>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    dkim: Option<Arc<lettre::message::dkim::DkimConfig>>,
}

fn folder_transport(dir: PathBuf) -> anyhow::Result<Transport> {
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    tracing::info!(folder = %dir.display(), "no SMTP server configured: email is written as .eml files to this folder");
    Ok(Transport::Folder(dir))
}

fn smtp_transport(s: &EmailSettings, host: &str) -> anyhow::Result<Transport> {
    let tls = || TlsParameters::new(host.to_string()).map_err(|e| anyhow::anyhow!("email.smtp_host: {e}"));
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
    let mut b = match s.smtp_security {
        SmtpSecurity::None => builder,
        SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
    }
    .port(s.smtp_port)
    .timeout(Some(std::time::Duration::from_secs(30)));
    if let (Some(u), Some(p)) = (&s.smtp_username, &s.smtp_password) {
        b = b.credentials(Credentials::new(u.clone(), p.expose_secret().to_string()));
    }
    Ok(Transport::Smtp(b.build()))
}

/// DKIM signing, when all three of its settings are given.
fn dkim(s: &EmailSettings) -> anyhow::Result<Option<Arc<lettre::message::dkim::DkimConfig>>> {
    use lettre::message::dkim::{DkimConfig, DkimSigningAlgorithm, DkimSigningKey};
    let (selector, domain, file) = match (&s.dkim_selector, &s.dkim_domain, &s.dkim_private_key_file) {
        (Some(selector), Some(domain), Some(file)) => (selector, domain, file),
        (None, None, None) => return Ok(None),
        _ => anyhow::bail!("email.dkim_selector, email.dkim_domain and email.dkim_private_key_file go together"),
    };
    let pem = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("email.dkim_private_key_file: {e}"))?;
    let key = DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa)
        .map_err(|e| anyhow::anyhow!("email.dkim_private_key_file (PKCS#1 RSA PEM expected): {e}"))?;
    Ok(Some(Arc::new(DkimConfig::default_config(
        selector.clone(),
        domain.clone(),
        key,
    ))))
}

impl Mailer {
    pub fn from_settings(s: &EmailSettings, var_dir: &std::path::Path) -> anyhow::Result<Mailer> {
        let from: Mailbox = s.from.parse().map_err(|e| anyhow::anyhow!("email.from: {e}"))?;
        let transport = match &s.smtp_host {
            None => folder_transport(s.folder.clone().unwrap_or_else(|| var_dir.join("mail")))?,
            Some(host) => smtp_transport(s, host)?,
        };
        let dkim = dkim(s)?;
        Ok(Mailer { transport, from, dkim })
    }

    /// A mailer that keeps messages in memory (tests).
    pub fn memory(from: &str) -> anyhow::Result<(Mailer, Arc<Mutex<Vec<Captured>>>)> {
        let store = Arc::new(Mutex::new(Vec::new()));
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("from: {e}"))?;
        Ok((
            Mailer {
                transport: Transport::Memory(store.clone()),
                from,
                dkim: None,
            },
            store,
        ))
    }

    fn build(&self, e: &OutgoingEmail) -> Result<Message, SendError> {
        let to: lettre::Address =
            e.to.parse()
                .map_err(|err| SendError::Permanent(format!("recipient address: {err}")))?;
        let body = MultiPart::alternative_plain_html(e.text.clone(), e.html.clone());
        let body = match &e.attachment {
            Some((name, bytes)) => MultiPart::mixed()
                .multipart(body)
                .singlepart(Attachment::new(name.clone()).body(
                    bytes.clone(),
                    ContentType::parse("application/pdf").map_err(|err| SendError::Permanent(err.to_string()))?,
                )),
            None => MultiPart::mixed().multipart(body),
        };
        let mut msg = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(e.to_name.clone()), to))
            .subject(e.subject.clone())
            .message_id(Some(e.message_id.clone()))
            .multipart(body)
            .map_err(|err| SendError::Permanent(err.to_string()))?;
        if let Some(cfg) = &self.dkim {
            msg.sign(cfg);
        }
        Ok(msg)
    }

    pub async fn send(&self, e: &OutgoingEmail) -> Result<(), SendError> {
        let msg = self.build(e)?;
        match &self.transport {
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|err| {
                // Connection refused or a timeout is neither 4xx nor 5xx: retry those too.
                if err.is_permanent() {
                    SendError::Permanent(err.to_string())
                } else {
                    SendError::Transient(err.to_string())
                }
            }),
            Transport::Folder(dir) => AsyncFileTransport::<Tokio1Executor>::new(dir.clone())
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|err| SendError::Transient(err.to_string())),
            Transport::Memory(store) => {
                let raw = msg.formatted();
                if let Ok(mut s) = store.lock() {
                    s.push(Captured {
                        to: e.to.clone(),
                        message_id: e.message_id.clone(),
                        raw,
                    });
                }
                Ok(())
            }
        }
    }
}
