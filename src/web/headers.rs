//! Security headers on every response: a Content-Security-Policy that allows scripts and styles only from
//! this site (views keep no inline `<script>`, `<style>` or `style=`), framing only by the site itself (the room frames the quiz), no sniffing, no referrer
//! (sign-in links and verification codes live in URLs), and `no-store` on everything that does not set its
//! own caching (only the static assets do: they are the same for everyone).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// The policy; `connect-src` gets the page's own ws(s) origin added per request (older Safari does not
/// count WebSockets as 'self'), and with several nodes each node's; `media-src` (added per request)
/// allows MediaStreams (`blob:`/`mediastream:`) and the nodes' sites. QR codes are `data:` images.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// Only plain origins from the node registry go into the policy.
fn plain(origin: &str) -> bool {
    origin
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',' && b != b'\'')
}

/// `ws://host wss://host` for the Host the browser used, if it is a plain host[:port].
fn websocket_sources(req: &ServiceRequest) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        });
    match host {
        Some(h) => format!(" ws://{h} wss://{h}"),
        None => String::new(),
    }
}

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // With several nodes, a page from one node opens the room's socket on another, and live audio
    // redirected to the node hosting the room plays from there.
    let nodes: Vec<String> = req
        .app_data::<actix_web::web::Data<crate::web::state::AppState>>()
        .map(|s| s.rooms.node_origins())
        .unwrap_or_default()
        .into_iter()
        .filter(|o| plain(o))
        .collect();
    let media: String = nodes.iter().map(|o| format!(" {o}")).collect();
    let sockets: String = nodes
        .iter()
        .map(|o| format!(" {}", crate::rooms::cluster::websocket_scheme(o)))
        .collect();
    let csp = format!(
        "{CSP}; media-src 'self' blob: mediastream:{media}; connect-src 'self'{}{sockets}",
        websocket_sources(&req)
    );
    // Handler errors arrive here already rendered as responses (the error pages), so they get the headers.
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    // The policy is for documents the site renders; a PDF opens in the browser's own viewer, which a
    // policy on the PDF response can block (`object-src 'none'`).
    let is_pdf = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/pdf"));
    if !is_pdf && let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The live room shows the quiz pages in a frame of its own (the lecture keeps playing); no other site may.
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        // Personal pages, exports, token-bearing URLs: never kept by a browser or a shared proxy.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
