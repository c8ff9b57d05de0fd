//! The one error type at the web edge: every handler returns `Result<_, AppError>`, and this maps each
//! kind to a status and a friendly page. 5xx pages show generic text; the full chain goes to the log.
//!
//! `ResponseError` does not see the request, so the page it renders is a bilingual fallback; the
//! `web::render_errors` middleware, which does, replaces it with the site's page in the person's
//! language, with their navigation and the request id (`AppError::explain` is what both render).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::i18n::Text;
use crate::services::ServiceError;
use crate::web::views::errors::error_page;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Signed out on a page that needs a sign-in: redirect, then come back to `next`.
    #[error("sign-in required")]
    SignInRequired { next: String },
    #[error("bad request: {0}")]
    BadRequest(Text),
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// An upload or form over the size limit (in bytes), named on the page.
    #[error("request body over {limit_bytes} bytes")]
    TooLarge { limit_bytes: usize },
    #[error("internal error: {0}")]
    Internal(String),
    /// Nothing can serve this now, for a while (no node can host the live room): try again soon.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(t) => AppError::BadRequest(t),
            // A form that meant to show these beside its fields catches them first (`web::forms::reply`);
            // reaching here means there was no form to go back to.
            ServiceError::Rejected(e) => AppError::BadRequest(e.joined()),
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::Db(e) => AppError::Internal(format!("database: {e}")),
            ServiceError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::SignInRequired { next } = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, crate::web::urls::signin_with_next(next)))
                .finish();
        }
        match self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            AppError::Unavailable(detail) => tracing::warn!(error = %detail, "request refused for now"),
            _ => {}
        }
        let (title, detail) = self.explain();
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(error_page(self.status_code().as_u16(), title, detail).into_string())
    }
}

impl AppError {
    /// What the error page says: a title and what to do, in both languages. 5xx say nothing of the cause
    /// (that is in the log, under the request id the page shows).
    pub fn explain(&self) -> (Text, Text) {
        let pair =
            |zh: &str, en: &str, detail_zh: &str, detail_en: &str| (Text::new(zh, en), Text::new(detail_zh, detail_en));
        match self {
            AppError::NotFound => pair(
                "页面不存在",
                "Page not found",
                "您要找的页面不存在或已被删除。",
                "The page does not exist or was removed.",
            ),
            AppError::Forbidden => pair(
                "没有权限",
                "Not allowed",
                "您的账号无权查看此页面。如需权限，请联系街道工作人员。",
                "Your account may not see this page. Ask your street office if you need access.",
            ),
            AppError::Csrf => pair(
                "页面已过期",
                "The page expired",
                "为了安全，请返回上一页，刷新后再提交一次。",
                "For your safety, go back, reload the page and submit again.",
            ),
            AppError::BadRequest(t) => (Text::new("无法处理", "Cannot do that"), t.clone()),
            AppError::TooLarge { limit_bytes } => {
                let limit = size_label(*limit_bytes);
                (
                    Text::new("文件太大", "Too large"),
                    Text::new(
                        format!("上传的文件或提交的内容不能超过 {limit}。请缩小文件（例如分成几个文件）后再试。"),
                        format!(
                            "An upload or form may not exceed {limit}. Make the file smaller (e.g. split it) and try again."
                        ),
                    ),
                )
            }
            AppError::Unavailable(_) => pair(
                "直播间暂时无法进入",
                "The room is not available right now",
                "服务器正在切换，请过几秒钟刷新页面再试。",
                "The servers are switching over; reload the page in a few seconds.",
            ),
            AppError::Internal(_) | AppError::SignInRequired { .. } => pair(
                "系统出错了",
                "Something went wrong",
                "服务器暂时出现问题，请稍后再试。我们已记录此问题。",
                "The server had a problem. Please try again later; it has been logged.",
            ),
        }
    }
}

/// "5 MB", "256 KB": a limit as people read it (binary units, as the limits are set).
fn size_label(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MB", bytes / (1024 * 1024))
    } else if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn limits_read_as_people_say_them() {
        assert_eq!(super::size_label(5 * 1024 * 1024), "5 MB");
        assert_eq!(super::size_label(256 * 1024), "256 KB");
    }
}
