//! Black-box tests: each spawns the whole application on port 0 with a fresh database and talks to it
//! over HTTP as a browser would. Set `QUORUM_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`) to run the same suite on PostgreSQL, one fresh database
//! per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod history;
mod invitations;
mod page;

mod access;
mod accounts;
mod audit;
mod banks;
mod certificates;
mod chair_home;
mod cli;
mod demo;
mod display;
mod district;
mod errors;
mod lifecycle;
mod nodes;
mod org;
mod privacy;
mod quiz;
mod recordings;
mod regrade;
mod reports;
mod rooms;
mod roster;
mod security;
mod signin_links;
mod simulcast;
mod sms_signin;
mod smtp;
mod storage;
mod turn;
