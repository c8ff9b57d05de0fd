//! Reading what the SMTP sink received: the PDF attachment and its text.

pub use testkit::smtp::{closed_port, start as start_server};

pub fn start(port: u16) -> testkit::smtp::SmtpServer {
    start_server(port).unwrap()
}

/// The PDF attached to a raw message.
pub fn pdf_attachment(raw: &str) -> Vec<u8> {
    use base64::Engine;
    let start = raw.find("Content-Type: application/pdf").expect("a PDF attachment");
    let part = &raw[start..];
    let body_start = part.find("\r\n\r\n").unwrap() + 4;
    let body: String = part[body_start..]
        .lines()
        .take_while(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("");
    base64::engine::general_purpose::STANDARD.decode(body.trim()).unwrap()
}

/// The text of a PDF written by krilla: inflates the streams, reads the ToUnicode CMap, and maps the
/// glyph ids shown in the content streams back to characters.
pub fn pdf_text(pdf: &[u8]) -> String {
    use std::io::Read;
    let mut streams = Vec::new();
    let mut at = 0;
    while let Some(i) = find(&pdf[at..], b"stream") {
        let mut s = at + i + b"stream".len();
        if pdf.get(s..s + 2) == Some(b"\r\n") {
            s += 2;
        } else if pdf.get(s) == Some(&b'\n') {
            s += 1;
        } else {
            at = s;
            continue;
        }
        let Some(e) = find(&pdf[s..], b"endstream") else { break };
        let raw = &pdf[s..s + e];
        let mut out = Vec::new();
        if flate2::read::ZlibDecoder::new(raw).read_to_end(&mut out).is_ok() {
            streams.push(out);
        } else {
            streams.push(raw.to_vec());
        }
        at = s + e + b"endstream".len();
    }
    let mut map = std::collections::HashMap::new();
    for s in &streams {
        let t = String::from_utf8_lossy(s);
        for block in t.split("beginbfchar").skip(1) {
            let block = block.split("endbfchar").next().unwrap_or("");
            let hexes: Vec<&str> = block
                .split(['<', '>'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            for pair in hexes.chunks(2) {
                if let [g, u] = pair
                    && let Ok(g) = u16::from_str_radix(g, 16)
                {
                    let units: Vec<u16> = (0..u.len() / 4)
                        .filter_map(|k| u16::from_str_radix(&u[k * 4..k * 4 + 4], 16).ok())
                        .collect();
                    map.insert(g, String::from_utf16_lossy(&units));
                }
            }
        }
    }
    let mut text = String::new();
    for s in streams.iter().filter(|s| find(s, b"BT").is_some()) {
        for bytes in shown_strings(s) {
            for pair in bytes.chunks(2) {
                if let [hi, lo] = pair
                    && let Some(c) = map.get(&u16::from_be_bytes([*hi, *lo]))
                {
                    text.push_str(c);
                }
            }
        }
    }
    text
}

/// The strings in a content stream: literal `(…)` with escapes, and hex `<…>`.
fn shown_strings(s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'(' => {
                let mut buf = Vec::new();
                let mut depth = 1;
                i += 1;
                while i < s.len() && depth > 0 {
                    match s[i] {
                        b'\\' if i + 1 < s.len() => {
                            let n = s[i + 1];
                            if n.is_ascii_digit() {
                                let digits: Vec<u8> = s[i + 1..]
                                    .iter()
                                    .take(3)
                                    .take_while(|d| (b'0'..=b'7').contains(d))
                                    .copied()
                                    .collect();
                                buf.push(
                                    u8::from_str_radix(std::str::from_utf8(&digits).unwrap_or("0"), 8).unwrap_or(0),
                                );
                                i += 1 + digits.len();
                                continue;
                            }
                            buf.push(match n {
                                b'n' => b'\n',
                                b'r' => b'\r',
                                b't' => b'\t',
                                other => other,
                            });
                            i += 2;
                            continue;
                        }
                        b'(' => depth += 1,
                        b')' => depth -= 1,
                        _ => {}
                    }
                    if depth > 0 {
                        buf.push(s[i]);
                    }
                    i += 1;
                }
                out.push(buf);
            }
            b'<' if s.get(i + 1) != Some(&b'<') => {
                let end = s[i..].iter().position(|b| *b == b'>').map(|e| i + e).unwrap_or(s.len());
                let hex: String = s[i + 1..end]
                    .iter()
                    .filter(|b| b.is_ascii_hexdigit())
                    .map(|b| *b as char)
                    .collect();
                out.push(
                    (0..hex.len() / 2)
                        .filter_map(|k| u8::from_str_radix(&hex[k * 2..k * 2 + 2], 16).ok())
                        .collect(),
                );
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
