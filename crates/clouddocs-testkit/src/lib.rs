//! Test harness: starts the real CloudDocs server on `127.0.0.1:0` with a fresh database
//! (a temporary SQLite file, or a new PostgreSQL database created from
//! `CLOUDDOCS_TEST_DATABASE_URL`) and drives it over real HTTP.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test harness whose setup fails must abort the test loudly"
)]

mod app;
mod macros;
mod requests;

pub use app::TestApp;
pub use requests::{Auth, Items, Session};

/// The storage backend a test runs against
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file
    Sqlite,
    /// A fresh database on the PostgreSQL server of `CLOUDDOCS_TEST_DATABASE_URL`
    Postgres,
    /// PostgreSQL plus Redis (`CLOUDDOCS_TEST_REDIS_URL`) for the shared ephemeral state,
    /// as a multi-node deployment runs
    PostgresRedis,
}

/// The variable that turns every missing test prerequisite into a failure (`.ci/run` sets it)
pub const REQUIRE_ALL: &str = "CLOUDDOCS_TEST_REQUIRE_ALL";

/// Reports that a test cannot run here, and why. It prints `skipped: REASON` and lets the
/// caller return, unless `CLOUDDOCS_TEST_REQUIRE_ALL=1` is set: then a missing
/// prerequisite is a failure, so that CI cannot pass on tests that never ran.
///
/// # Panics
/// When `CLOUDDOCS_TEST_REQUIRE_ALL` is `1`.
pub fn skip(reason: &str) {
    if std::env::var(REQUIRE_ALL).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_ALL}=1 but this test cannot run: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// A strong password accepted by the strength check
pub const PASSWORD: &str = "correct-violet-staple-91";
