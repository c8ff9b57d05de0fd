//! Static assets, embedded in the binary so it runs from any directory.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

const APP_CSS: &str = include_str!("../../../static/css/app.css");
const ROOM_JS: &str = include_str!("../../../static/js/room.js");
const QUIZ_JS: &str = include_str!("../../../static/js/quiz.js");
const READ_ALOUD_JS: &str = include_str!("../../../static/js/read-aloud.js");
const COPY_INVITATION_JS: &str = include_str!("../../../static/js/copy-invitation.js");
const REPLAY_JS: &str = include_str!("../../../static/js/replay.js");

#[get("/static/css/app.css")]
async fn app_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(APP_CSS)
}

#[get("/static/js/room.js")]
async fn room_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(ROOM_JS)
}

#[get("/static/js/quiz.js")]
async fn quiz_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(QUIZ_JS)
}

#[get("/static/js/read-aloud.js")]
async fn read_aloud_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(READ_ALOUD_JS)
}

#[get("/static/js/copy-invitation.js")]
async fn copy_invitation_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(COPY_INVITATION_JS)
}

#[get("/static/js/replay.js")]
async fn replay_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(REPLAY_JS)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(app_css)
        .service(room_js)
        .service(quiz_js)
        .service(read_aloud_js)
        .service(copy_invitation_js)
        .service(replay_js);
}
