//! A small real SMTP server on 127.0.0.1 (mailin's protocol state machine, a thread per connection),
//! for the tests and the delivery benchmark (`loadgen`'s `cert_bench`). It keeps what it receives and
//! can refuse mail (4xx) to play a struggling server, or keep a message and never answer it, as a client
//! that dies during DATA sees it. Not for production use.

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Inbox(Arc<Mutex<Vec<Vec<u8>>>>);

impl Inbox {
    pub fn len(&self) -> usize {
        self.0.lock().map(|v| v.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn messages(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|v| v.iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect())
            .unwrap_or_default()
    }

    /// The Message-ID of each message received, in order (`<…@…>`; empty for a message without one).
    pub fn message_ids(&self) -> Vec<String> {
        self.messages()
            .iter()
            .map(|m| {
                m.lines()
                    .take_while(|l| !l.is_empty())
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("message-id")
                            .then(|| value.trim().to_string())
                    })
                    .unwrap_or_default()
            })
            .collect()
    }
}

struct Handler {
    inbox: Inbox,
    buf: Vec<u8>,
    fail: Arc<AtomicU16>,
    stall: Arc<AtomicBool>,
}

impl mailin::Handler for Handler {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> mailin::Response {
        match self.fail.load(Ordering::Relaxed) {
            0 => mailin::response::OK,
            code => mailin::Response::custom(code, "try again later".into()),
        }
    }

    fn data(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(line);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        if let Ok(mut v) = self.inbox.0.lock() {
            v.push(std::mem::take(&mut self.buf));
        }
        // The message is kept, but the answer to the final "." waits: the sender cannot know it arrived.
        while self.stall.load(Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        mailin::response::OK
    }
}

pub struct SmtpServer {
    pub port: u16,
    pub inbox: Inbox,
    /// 0 accepts mail; a code such as 451 refuses it.
    pub fail: Arc<AtomicU16>,
    /// While set, a message is kept but its end of DATA is not answered.
    pub stall: Arc<AtomicBool>,
}

/// Serves on `port` (0 picks one).
pub fn start(port: u16) -> std::io::Result<SmtpServer> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    let port = listener.local_addr()?.port();
    let inbox = Inbox::default();
    let fail = Arc::new(AtomicU16::new(0));
    let stall = Arc::new(AtomicBool::new(false));
    let (ib, fl, st) = (inbox.clone(), fail.clone(), stall.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (ib, fl, st) = (ib.clone(), fl.clone(), st.clone());
            std::thread::spawn(move || -> std::io::Result<()> {
                // SMTP is a chatty request/response protocol: without this, Nagle's algorithm and delayed
                // ACKs add tens of milliseconds to every exchange.
                conn.set_nodelay(true)?;
                let mut w = conn.try_clone()?;
                let mut r = std::io::BufReader::new(conn);
                let mut s = mailin::SessionBuilder::new("quorum-test").build(
                    [127, 0, 0, 1].into(),
                    Handler {
                        inbox: ib,
                        buf: Vec::new(),
                        fail: fl,
                        stall: st,
                    },
                );
                s.greeting().write_to(&mut w)?;
                let mut line = Vec::new();
                while r.read_until(b'\n', &mut line)? > 0 {
                    let res = s.process(&line);
                    line.clear();
                    match res.action {
                        mailin::Action::NoReply => {}
                        mailin::Action::Close => {
                            res.write_to(&mut w)?;
                            break;
                        }
                        _ => res.write_to(&mut w)?,
                    }
                }
                Ok(())
            });
        }
    });
    Ok(SmtpServer {
        port,
        inbox,
        fail,
        stall,
    })
}

/// A port with nothing listening (connection refused).
pub fn closed_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
