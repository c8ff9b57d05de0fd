//! Every internal link, in one place: handlers and views never spell paths by hand.

pub const HOME: &str = "/";
pub const HEALTH: &str = "/healthz";
pub const SIGNIN: &str = "/signin";
pub const SIGNIN_CODE: &str = "/signin/code";
pub const SIGNIN_CODE_SEND: &str = "/signin/code/send";
pub const SIGNOUT: &str = "/signout";
pub const PASSWORD: &str = "/account/password";
pub const WELCOME: &str = "/account/welcome";
pub const CHAIRS: &str = "/street/chairs";
pub const ROSTER: &str = "/street/roster";
pub const PRIVACY: &str = "/privacy";
pub const MY_DATA: &str = "/me/data";
pub const MY_DATA_JSON: &str = "/me/data.json";
pub const ADMIN_AUDIT: &str = "/admin/audit";
pub const ADMIN_AUDIT_CHECK: &str = "/admin/audit/check";
pub const ADMIN_ORG: &str = "/admin/org";
pub const ADMIN_PEOPLE: &str = "/admin/people";
pub const ADMIN_PEOPLE_NEW: &str = "/admin/people/new";
pub const STYLESHEET: &str = "/static/css/app.css";
pub const ROOM_SCRIPT: &str = "/static/js/room.js";

pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The personal-information notice to read and accept first, then `next`.
pub fn notice_then(next: &str) -> String {
    format!("{PRIVACY}?next={}", percent_encode(next))
}

/// The one check for every redirect to a user-supplied "next": only a clean local path, anything else goes
/// home (no open redirects to other sites).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_clean_local_path(n) => n.to_string(),
        _ => HOME.to_string(),
    }
}

/// One leading `/` not followed by `/` or `\` (both make a browser read a host), and nothing but visible
/// ASCII without backslashes: browsers drop tabs and newlines from a `Location` (so `/\t/evil.example`
/// becomes `//evil.example`), control characters cannot go into a header at all, and our own links are
/// percent-encoded ASCII. A path starting with `/` has no scheme.
fn is_clean_local_path(n: &str) -> bool {
    let b = n.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && b.iter().all(|c| c.is_ascii_graphic() && *c != b'\\')
}

pub fn signin_with_next(next: &str) -> String {
    if next == HOME {
        SIGNIN.to_string()
    } else {
        format!("{SIGNIN}?next={}", percent_encode(next))
    }
}

pub fn signin_code_with_next(next: &str) -> String {
    with_next(SIGNIN_CODE, next)
}

pub fn signin_password_with_next(next: &str) -> String {
    with_next(SIGNIN, next)
}

fn with_next(path: &str, next: &str) -> String {
    if next == HOME {
        path.to_string()
    } else {
        format!("{path}?next={}", percent_encode(next))
    }
}

pub fn lang_switch(code: &str, back: &str) -> String {
    format!("/lang/{code}?next={}", percent_encode(back))
}

pub fn view_switch(code: &str, back: &str) -> String {
    format!("/view/{code}?next={}", percent_encode(back))
}

pub fn signin_link(token: &str) -> String {
    format!("/l/{token}")
}

/// Officials make personal sign-in cards that lead into this session.
pub fn session_signin_links(session: i64) -> String {
    format!("{SESSIONS}/{session}/signin-links")
}

pub fn chair_signin_link(person: i64) -> String {
    format!("{CHAIRS}/{person}/signin-link")
}

pub fn chair_history(person: i64) -> String {
    format!("{CHAIRS}/{person}")
}

pub fn chairs_of_street(street: i64) -> String {
    format!("{CHAIRS}?street={street}")
}

pub fn roster_preview(upload: i64) -> String {
    format!("{ROSTER}/{upload}")
}

pub fn roster_apply(upload: i64) -> String {
    format!("{ROSTER}/{upload}/apply")
}

pub fn org_unit(id: i64) -> String {
    format!("{ADMIN_ORG}/{id}")
}

pub fn org_unit_delete(id: i64) -> String {
    format!("{ADMIN_ORG}/{id}/delete")
}

pub fn person(id: i64) -> String {
    format!("{ADMIN_PEOPLE}/{id}")
}

pub const BANKS: &str = "/banks";
pub const BANK_NEW: &str = "/banks/new";
pub const BANK_IMPORT: &str = "/banks/import";
pub const REVIEW_QUEUE: &str = "/banks/review";

pub fn bank(id: i64) -> String {
    format!("{BANKS}/{id}")
}

pub fn bank_export(id: i64) -> String {
    format!("{BANKS}/{id}/export")
}

pub fn bank_new_question(id: i64) -> String {
    format!("{BANKS}/{id}/questions/new")
}

pub fn question(id: i64) -> String {
    format!("/questions/{id}")
}

pub fn question_regrade(id: i64) -> String {
    format!("/questions/{id}/regrade")
}

pub fn question_edit(id: i64) -> String {
    format!("/questions/{id}/edit")
}

pub fn question_confirm(id: i64) -> String {
    format!("/questions/{id}/confirm")
}

pub const SESSIONS: &str = "/sessions";
pub const SESSION_NEW: &str = "/sessions/new";

pub fn session(id: i64) -> String {
    format!("{SESSIONS}/{id}")
}

pub fn session_cancel(id: i64) -> String {
    format!("{SESSIONS}/{id}/cancel")
}

pub fn session_qr(id: i64) -> String {
    format!("{SESSIONS}/{id}/qr.svg")
}

pub fn session_qr_png(id: i64) -> String {
    format!("{SESSIONS}/{id}/qr.png")
}

pub fn session_poster(id: i64) -> String {
    format!("{SESSIONS}/{id}/poster.png")
}

pub fn room(id: i64) -> String {
    format!("{SESSIONS}/{id}/room")
}

pub fn room_socket(id: i64) -> String {
    format!("{SESSIONS}/{id}/ws")
}

/// Where the room's page asks which node's socket to open (several nodes).
pub fn room_locate(id: i64) -> String {
    format!("{SESSIONS}/{id}/room/socket")
}

pub fn invitation(token: &str) -> String {
    format!("/s/{token}")
}

pub const QUIZ_SCRIPT: &str = "/static/js/quiz.js";
pub const READ_ALOUD_SCRIPT: &str = "/static/js/read-aloud.js";
pub const COPY_INVITATION_SCRIPT: &str = "/static/js/copy-invitation.js";

pub fn quiz_settings(session: i64) -> String {
    format!("{SESSIONS}/{session}/quiz")
}

pub fn quiz_open(session: i64) -> String {
    format!("{SESSIONS}/{session}/quiz/open")
}

pub fn quiz_close(session: i64) -> String {
    format!("{SESSIONS}/{session}/quiz/close")
}

pub fn quiz(id: i64) -> String {
    format!("/quiz/{id}")
}

pub fn quiz_start(id: i64) -> String {
    format!("/quiz/{id}/start")
}

pub fn attempt(id: i64) -> String {
    format!("/attempts/{id}")
}

pub fn attempt_question(id: i64, position: i32) -> String {
    format!("/attempts/{id}?q={position}")
}

pub fn attempt_answer(id: i64) -> String {
    format!("/attempts/{id}/answer")
}

pub fn attempt_submit(id: i64) -> String {
    format!("/attempts/{id}/submit")
}

pub fn attempt_api(id: i64) -> String {
    format!("/api/attempts/{id}/answers")
}

pub const VERIFY: &str = "/verify";

pub fn verify_code(code: &str) -> String {
    format!("{VERIFY}/{code}")
}

/// The certificate as a page (its picture, facts and links): what WeChat can show.
pub fn certificate(id: i64) -> String {
    format!("/certificates/{id}")
}

pub fn certificate_png(id: i64) -> String {
    format!("/certificates/{id}.png")
}

pub fn certificate_pdf(id: i64) -> String {
    format!("/certificates/{id}.pdf")
}

pub fn certificate_revoke(id: i64) -> String {
    format!("/certificates/{id}/revoke")
}

pub fn certificate_resend(id: i64) -> String {
    format!("/certificates/{id}/resend")
}

pub fn session_certificates(id: i64) -> String {
    format!("{SESSIONS}/{id}/certificates")
}

pub const DASHBOARD: &str = "/street/dashboard";
pub const MISTAKES: &str = "/street/mistakes";
pub const ITEM_ANALYSIS: &str = "/banks/analysis";
pub const COVERAGE: &str = "/banks/coverage";
pub const STATUTES: &str = "/banks/statutes";

pub fn session_report(id: i64) -> String {
    format!("{SESSIONS}/{id}/report")
}

pub const REPLAY_SCRIPT: &str = "/static/js/replay.js";

pub fn replay(session: i64) -> String {
    format!("{SESSIONS}/{session}/replay")
}

pub fn replay_file(token: &str, file: &str) -> String {
    format!("/replay/{token}/{file}")
}

pub fn replay_progress(token: &str) -> String {
    format!("/replay/{token}/progress")
}

pub fn listen(session: i64) -> String {
    format!("{SESSIONS}/{session}/listen")
}

pub fn live_audio(session: i64) -> String {
    format!("{SESSIONS}/{session}/live.ogg")
}

pub fn session_makeup(session: i64) -> String {
    format!("{SESSIONS}/{session}/makeup")
}

pub fn recording_delete(session: i64) -> String {
    format!("{SESSIONS}/{session}/recording/delete")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/admin/org")), "/admin/org");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/sessions/3?tab=a%20b")), "/sessions/3?tab=a%20b");
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: a=b",
            "/\\evil.example",
            "/x\\y",
            "/ /evil.example",
            "/\u{7f}",
            "/页面",
            "",
            "javascript:alert(1)",
            " /admin",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }
}
