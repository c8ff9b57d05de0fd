//! Recordings in an S3-compatible object store, for several nodes: a node that finalises a recording
//! uploads it, and any node serves it. Requests are signed by `rusty-s3` and sent with the blocking
//! `ureq` agent the SMS client uses too, so every call here runs on a blocking thread.
//!
//! Uploads are multipart, each part read straight from the file with an explicit length (memory stays
//! a few MB for an hour-long lecture; S3 itself refuses chunked parts). Replay reads pass the viewer's
//! byte range on to the store, so the browser's range requests work as they do on local disk.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use rusty_s3::actions::{CompleteMultipartUpload, CreateMultipartUpload, S3Action as _};
use rusty_s3::{Bucket, Credentials, UrlStyle};
use secrecy::ExposeSecret;

use crate::config::RecordingSettings;

/// How long a signed request stays valid (it is sent at once).
const SIGNED_FOR: Duration = Duration::from_secs(600);
/// Multipart part size: over S3's 5 MiB minimum, few parts per lecture (about 700 MB an hour).
const PART: u64 = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object store request failed: {0}")]
    Http(String),
    #[error("object store answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
}

fn http(e: impl std::fmt::Display) -> StoreError {
    StoreError::Http(e.to_string())
}

pub struct S3Store {
    bucket: Bucket,
    credentials: Credentials,
    agent: ureq::Agent,
}

/// A byte range of an object as the store answered it.
pub struct Ranged {
    pub status: u16,
    pub content_range: Option<String>,
    pub length: Option<u64>,
    pub body: Box<dyn Read + Send>,
}

impl S3Store {
    /// The store configured in `[recordings]`, if `store = "s3"`.
    pub fn from_settings(s: &RecordingSettings) -> Result<Option<S3Store>, String> {
        match s.store.as_str() {
            "local" => return Ok(None),
            "s3" => {}
            other => return Err(format!("recordings.store must be \"local\" or \"s3\", not {other:?}")),
        }
        let need = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or(format!("recordings.{name} is required with store = \"s3\""))
        };
        let endpoint = need(&s.s3_endpoint, "s3_endpoint")?;
        let bucket = need(&s.s3_bucket, "s3_bucket")?;
        let key = need(&s.s3_access_key, "s3_access_key")?;
        let secret = s
            .s3_secret_key
            .as_ref()
            .ok_or("recordings.s3_secret_key is required with store = \"s3\"")?;
        let url = endpoint.parse().map_err(|e| format!("recordings.s3_endpoint: {e}"))?;
        let region = s.s3_region.clone().unwrap_or_else(|| "us-east-1".into());
        let bucket =
            Bucket::new(url, UrlStyle::Path, bucket, region).map_err(|e| format!("recordings.s3_bucket: {e}"))?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(Some(S3Store {
            bucket,
            credentials: Credentials::new(key, secret.expose_secret().to_string()),
            agent,
        }))
    }

    fn check(resp: &mut ureq::http::Response<ureq::Body>) -> Result<(), StoreError> {
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Err(StoreError::Status {
            status,
            body: body.chars().take(300).collect(),
        })
    }

    /// Creates the bucket if it does not exist (an existing one is fine).
    pub fn ensure_bucket(&self) -> Result<(), StoreError> {
        let url = self.bucket.create_bucket(&self.credentials).sign(SIGNED_FOR);
        let mut resp = self.agent.put(url.as_str()).send_empty().map_err(http)?;
        match resp.status().as_u16() {
            409 => Ok(()),
            _ => Self::check(&mut resp),
        }
    }

    /// Uploads a file as `key` (multipart), with its content type.
    pub fn put_file(&self, key: &str, path: &Path, content_type: &str) -> Result<(), StoreError> {
        let len = std::fs::metadata(path)?.len();
        let mut create = CreateMultipartUpload::new(&self.bucket, Some(&self.credentials), key);
        create.headers_mut().insert("content-type", content_type.to_string());
        let mut resp = self
            .agent
            .post(create.sign(SIGNED_FOR).as_str())
            .header("content-type", content_type)
            .send_empty()
            .map_err(http)?;
        Self::check(&mut resp)?;
        let body = resp.body_mut().read_to_string().map_err(http)?;
        let upload = CreateMultipartUpload::parse_response(&body).map_err(http)?;
        let id = upload.upload_id().to_string();
        match self.put_parts(key, path, len, &id) {
            Ok(etags) => self.complete(key, &id, &etags),
            Err(e) => {
                let url = self
                    .bucket
                    .abort_multipart_upload(Some(&self.credentials), key, &id)
                    .sign(SIGNED_FOR);
                let _ = self.agent.delete(url.as_str()).call();
                Err(e)
            }
        }
    }

    fn put_parts(&self, key: &str, path: &Path, len: u64, id: &str) -> Result<Vec<String>, StoreError> {
        let mut etags = Vec::new();
        let (mut offset, mut number) = (0u64, 1u16);
        while offset < len || number == 1 {
            let this = PART.min(len - offset);
            let mut file = File::open(path)?;
            file.seek(SeekFrom::Start(offset))?;
            let url = self
                .bucket
                .upload_part(Some(&self.credentials), key, number, id)
                .sign(SIGNED_FOR);
            let mut resp = self
                .agent
                .put(url.as_str())
                .header("content-length", this.to_string())
                .send(ureq::SendBody::from_owned_reader(file.take(this)))
                .map_err(http)?;
            Self::check(&mut resp)?;
            let etag = resp
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| StoreError::Http(format!("part {number} has no ETag")))?;
            etags.push(etag.to_string());
            offset += this;
            number += 1;
        }
        Ok(etags)
    }

    fn complete(&self, key: &str, id: &str, etags: &[String]) -> Result<(), StoreError> {
        let c = CompleteMultipartUpload::new(
            &self.bucket,
            Some(&self.credentials),
            key,
            id,
            etags.iter().map(String::as_str),
        );
        let url = c.sign(SIGNED_FOR);
        let mut resp = self.agent.post(url.as_str()).send(c.body()).map_err(http)?;
        Self::check(&mut resp)?;
        // S3 may answer 200 and put the error in the body.
        let body = resp.body_mut().read_to_string().map_err(http)?;
        if body.contains("<Error>") {
            return Err(StoreError::Status {
                status: 200,
                body: body.chars().take(300).collect(),
            });
        }
        Ok(())
    }

    /// Reads `key`, or the byte range a player asked for (`Range` is passed on unchanged).
    pub fn get(&self, key: &str, range: Option<&str>) -> Result<Ranged, StoreError> {
        let url = self.bucket.get_object(Some(&self.credentials), key).sign(SIGNED_FOR);
        let mut req = self.agent.get(url.as_str());
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let resp = req.call().map_err(http)?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_range = header("content-range");
        let length = header("content-length").and_then(|v| v.parse().ok());
        Ok(Ranged {
            status,
            content_range,
            length,
            body: Box::new(resp.into_body().into_reader()),
        })
    }

    pub fn delete(&self, key: &str) -> Result<(), StoreError> {
        let url = self.bucket.delete_object(Some(&self.credentials), key).sign(SIGNED_FOR);
        let mut resp = self.agent.delete(url.as_str()).call().map_err(http)?;
        match resp.status().as_u16() {
            404 => Ok(()),
            _ => Self::check(&mut resp),
        }
    }
}
