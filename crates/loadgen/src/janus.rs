//! Janus's HTTP API, as much of it as `room_load --target janus` needs: one Janus session, a
//! VideoRoom handle per participant, the synthetic publisher and viewers of `testkit` on them. This is
//! how the same generator measures Janus beside Quorum (BENCHMARKS.md, scripts/janus-side-by-side).
//!
//! Janus answers a request at once with `ack` (or `success` for synchronous ones) and delivers the
//! plugin's reply later as an event, read by long-polling `GET /janus/{session}`; one poller serves
//! every handle and hands each event to its handle by `sender`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use testkit::room_client::{Publisher, Viewer};
use tokio::sync::mpsc;

use crate::Error;

type Routes = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>>;

/// One Janus session, long-polled for events.
pub struct Janus {
    http: reqwest::Client,
    session_url: String,
    routes: Routes,
    next_transaction: AtomicU64,
    poller: tokio::task::JoinHandle<()>,
}

impl Drop for Janus {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

/// A VideoRoom handle and its events.
pub struct Handle {
    id: u64,
    url: String,
    events: mpsc::UnboundedReceiver<Value>,
}

fn id_of(v: &Value) -> Result<u64, Error> {
    v.pointer("/data/id")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("Janus: no id in {v}").into())
}

impl Janus {
    /// A session on the Janus at `url` (e.g. `http://127.0.0.1:8088/janus`).
    pub async fn connect(url: &str) -> Result<Janus, Error> {
        // Janus holds a long poll up to 30 s; anything else answers at once.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(40))
            .build()?;
        let created: Value = http
            .post(url)
            .json(&json!({"janus": "create", "transaction": "create"}))
            .send()
            .await?
            .json()
            .await?;
        let session_url = format!("{url}/{}", id_of(&created)?);
        let routes: Routes = Arc::default();
        let poller = tokio::spawn(poll(http.clone(), session_url.clone(), routes.clone()));
        Ok(Janus {
            http,
            session_url,
            routes,
            next_transaction: AtomicU64::new(1),
            poller,
        })
    }

    /// A new VideoRoom handle.
    pub async fn attach(&self) -> Result<Handle, Error> {
        let attached = self
            .post(
                &self.session_url,
                json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
            )
            .await?;
        let id = id_of(&attached)?;
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut r) = self.routes.lock() {
            r.insert(id, tx);
        }
        Ok(Handle {
            id,
            url: format!("{}/{id}", self.session_url),
            events: rx,
        })
    }

    /// Stops collecting a handle's events (its participant stays in the room).
    pub fn quiet(&self, h: Handle) {
        if let Ok(mut r) = self.routes.lock() {
            r.remove(&h.id);
        }
    }

    async fn post(&self, url: &str, mut body: Value) -> Result<Value, Error> {
        let t = self.next_transaction.fetch_add(1, Ordering::Relaxed);
        body["transaction"] = json!(t.to_string());
        let reply: Value = self
            .http
            .post(url)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        match reply["janus"].as_str() {
            Some("success") | Some("ack") => Ok(reply),
            _ => Err(format!("Janus refused {body}: {reply}").into()),
        }
    }

    /// A plugin request answered at once (`create`, ...): the plugin's data.
    pub async fn request(&self, h: &Handle, body: Value) -> Result<Value, Error> {
        let reply = self.post(&h.url, json!({"janus": "message", "body": body})).await?;
        let data = reply
            .pointer("/plugindata/data")
            .cloned()
            .ok_or_else(|| format!("Janus: no plugin data in {reply}"))?;
        if data.get("error").is_some() {
            return Err(format!("VideoRoom: {data}").into());
        }
        Ok(data)
    }

    /// A plugin request answered by an event (`join`, `publish`, `start`): the event.
    pub async fn ask(&self, h: &mut Handle, body: Value, jsep: Option<Value>) -> Result<Value, Error> {
        let mut message = json!({"janus": "message", "body": body});
        if let Some(j) = jsep {
            message["jsep"] = j;
        }
        self.post(&h.url, message).await?;
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(20), h.events.recv())
                .await
                .map_err(|_| "Janus: no reply within 20 s")?
                .ok_or("Janus: session closed")?;
            if ev["janus"] != "event" {
                continue; // webrtcup, media, slowlink...
            }
            if let Some(e) = ev.pointer("/plugindata/data/error") {
                return Err(format!("VideoRoom: {e}").into());
            }
            return Ok(ev);
        }
    }
}

/// Long-polls the session's events and hands each to its handle, until Janus says the session is
/// gone.
async fn poll(http: reqwest::Client, session_url: String, routes: Routes) {
    loop {
        let got = http.get(format!("{session_url}?maxev=50")).send().await;
        let Ok(v) = (match got {
            Ok(body) => body.json::<Value>().await,
            Err(e) => Err(e),
        }) else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        if v["janus"] == "error" {
            eprintln!("Janus ended the session: {v}");
            // Waiting handles hear "session closed" rather than time out.
            if let Ok(mut r) = routes.lock() {
                r.clear();
            }
            return;
        }
        let events = match v {
            Value::Array(a) => a,
            other => vec![other],
        };
        for ev in events {
            let Some(sender) = ev["sender"].as_u64() else { continue };
            if let Ok(r) = routes.lock()
                && let Some(tx) = r.get(&sender)
            {
                let _ = tx.send(ev);
            }
        }
    }
}

/// A VideoRoom for the run: one publisher, no bitrate cap (the synthetic publisher ignores REMB
/// anyway), VP8 and Opus as in Quorum's rooms.
pub async fn create_room(janus: &Janus, room: u64) -> Result<(), Error> {
    let h = janus.attach().await?;
    janus
        .request(
            &h,
            json!({"request": "create", "room": room, "publishers": 1, "bitrate": 0,
                   "videocodec": "vp8", "audiocodec": "opus", "notify_joining": false}),
        )
        .await?;
    Ok(())
}

/// The synthetic lecturer publishing `kbps` into `room`; returns it with its feed id.
pub async fn publish(janus: &Janus, room: u64, kbps: u32, bind: IpAddr) -> Result<(Publisher, u64), Error> {
    let mut h = janus.attach().await?;
    let joined = janus
        .ask(
            &mut h,
            json!({"request": "join", "room": room, "ptype": "publisher", "display": "lecturer"}),
            None,
        )
        .await?;
    let feed = joined
        .pointer("/plugindata/data/id")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("Janus: no publisher id in {joined}"))?;
    let (publisher, offer) = Publisher::offer(bind).await.map_err(|e| e.to_string())?;
    let configured = janus
        .ask(
            &mut h,
            json!({"request": "publish", "audio": true, "video": true}),
            Some(json!({"type": "offer", "sdp": offer})),
        )
        .await?;
    let answer = configured
        .pointer("/jsep/sdp")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("Janus: no answer in {configured}"))?;
    publisher.accept(answer.to_owned()).await.map_err(|e| e.to_string())?;
    publisher.start(kbps);
    // Subscribers can join the feed once its connection is up.
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), h.events.recv())
            .await
            .map_err(|_| "Janus: the publisher's connection did not come up within 20 s")?
            .ok_or("Janus: session closed")?;
        if ev["janus"] == "webrtcup" {
            break;
        }
    }
    janus.quiet(h);
    Ok((publisher, feed))
}

/// A viewer subscribed to `feed`.
pub async fn subscribe(janus: &Janus, room: u64, feed: u64, bind: IpAddr) -> Result<Viewer, Error> {
    let mut h = janus.attach().await?;
    let attached = janus
        .ask(
            &mut h,
            json!({"request": "join", "room": room, "ptype": "subscriber", "streams": [{"feed": feed}]}),
            None,
        )
        .await?;
    let offer = attached
        .pointer("/jsep/sdp")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("Janus: no offer in {attached}"))?;
    let (viewer, answer) = Viewer::answer(offer.to_owned(), bind)
        .await
        .map_err(|e| e.to_string())?;
    janus
        .ask(
            &mut h,
            json!({"request": "start"}),
            Some(json!({"type": "answer", "sdp": answer})),
        )
        .await?;
    janus.quiet(h);
    Ok(viewer)
}
