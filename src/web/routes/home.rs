use actix_web::{HttpResponse, get, web};

use super::html;
use crate::services::home;
use crate::web::context::Ctx;
use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::views;

#[get("/")]
async fn index(state: web::Data<AppState>, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let Some(user) = &ctx.user else {
        return Ok(html(views::home::signed_out(&ctx)));
    };
    let data = home::home(&state.db, user).await?;
    Ok(html(views::home::home(&ctx, &data)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index);
}
