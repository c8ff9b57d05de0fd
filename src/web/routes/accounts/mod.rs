//! Accounts: the ways in (a password, a code by SMS, a personal link) and a person's own settings.

pub mod links;
pub mod password;
pub mod settings;
pub mod sms_code;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    password::configure(cfg);
    sms_code::configure(cfg);
    settings::configure(cfg);
    links::configure(cfg);
}
