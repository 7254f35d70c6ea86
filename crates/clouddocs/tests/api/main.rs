//! One integration-test binary: every test starts the real server on port 0 and talks
//! HTTP to it, on SQLite and on PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "integration tests fail by panicking"
)]

mod accounts;
mod admin;
mod audit;
mod authz_service;
mod binary;
mod bola;
mod bounds;
mod caches;
mod concurrency;
mod contract;
mod crash;
mod denials;
mod documents;
mod fastapi;
mod hardening;
mod import;
mod interop;
mod jwt_attacks;
mod listing;
mod mfa;
mod oidc;
mod pages;
mod policy_table;
mod prerequisites;
mod problems;
mod races;
mod rate_limit;
mod sessions;
mod slow_clients;
mod tokens;
mod transport;
