//! Quorum (业委会学堂): online training and quizzes for the chairs of Shanghai homeowners' committees.
//!
//! Layers (each uses only itself and the ones below it; `scripts/module-deps.py` checks this and that
//! there are no import circles):
//!
//! ```text
//!   startup, cli          wire everything / the command line
//!   web                   actix handlers (thin), maud views, CSRF, permission extractors, AppError
//!   rooms, jobs           live rooms (the only webrtc user) / background loops
//!   services              use cases: permissions, transactions, one read model per page
//!   db, email, sms, pdf, raster, question_banks, roster_files, export    adapters
//!   domain, i18n          pure types and rules; domain imports no actix, sea-orm, lettre or webrtc
//! ```
//!
//! Features, each across the layers (domain · services · web):
//! - accounts and sign-in: `domain::{person, contact, throttle, sms_code, signin_link}` ·
//!   `services::accounts::{passwords, sms_signin, signin_links}` ·
//!   `web::routes::accounts::{password, sms_code, links, settings}`
//! - organisation tree and people: `domain::org` · `services::{org, people, streets}` ·
//!   `web::routes::{admin_org, admin_people, chairs}`
//! - roster import: `roster_files`, `domain::roster` · `services::roster` · `web::routes::roster`
//! - question banks and statutes: `question_banks`, `domain::{bank, question, statute}` · `services::banks` ·
//!   `web::routes::banks`
//! - training sessions and access: `domain::session` · `services::{sessions, access}` · `web::routes::sessions`
//! - live rooms and attendance: `rooms`, `domain::{attendance, chat}` · `services::{attendance, live_room}` ·
//!   `web::routes::room`
//! - the quiz: `domain::{quiz, attempt}` · `services::quiz` · `web::routes::quiz`
//! - certificates: `pdf`, `raster`, `email`, `domain::certificate` · `services::certificates` ·
//!   `web::routes::certificates`
//! - reports: `export`, `domain::report` · `services::reports` · `web::routes::reports`
//! - home pages and display preferences: `domain::view` · `services::home` · `web::routes::home`
//! - demo data: `services::demo`
//!
//! Test and benchmark support (an SMTP sink, synthetic room clients, bulk seeding, the load generators)
//! lives in `crates/testkit` and `crates/loadgen`, which use this library's public API; the service never
//! links them.

#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod export;
pub mod i18n;
pub mod jobs;
pub mod pdf;
pub mod question_banks;
pub mod raster;
pub mod rooms;
pub mod roster_files;
pub mod services;
pub mod sms;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod web;
