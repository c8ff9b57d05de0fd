//! Quorum (业委会学堂): online training and quizzes for the chairs of Shanghai homeowners' committees.
//!
//! Architecture (dependencies point inward):
//!
//! ```text
//!   web (actix handlers, maud views, CSRF, permission extractors)
//!    └─> services (use cases, transactions)
//!         ├─> domain (pure types and rules: PhoneNumber, Role, OrgKind, roster planning, throttling)
//!         └─> db (sea-orm entities and query functions returning domain types)
//!   roster_files: reads CSV (UTF-8/GBK) and XLSX into raw rows for the domain to validate
//!   config: Settings from defaults → TOML file → QUORUM__* environment
//!   startup: Application::build wires everything and binds the port
//! ```
//!
//! `domain` imports no actix, sea-orm, lettre or webrtc. Test and benchmark support (an SMTP sink,
//! synthetic room clients, bulk seeding, the load generators) lives in `crates/testkit` and
//! `crates/loadgen`, which use this library's public API; the service never links them.

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
pub mod telemetry;
pub mod web;
