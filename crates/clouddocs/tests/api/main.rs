//! One integration-test binary: every test starts the real server on port 0 and talks
//! HTTP to it, on SQLite and on PostgreSQL.

mod accounts;
mod admin;
mod hardening;
mod sessions;
mod tokens;
