//! Portable SQL queries, one module per aggregate. Times are unix milliseconds.

pub mod api_keys;
pub mod audit;
pub mod clients;
pub mod denylist;
pub mod documents;
pub mod keys;
pub mod mfa;
pub mod oidc;
pub mod orgs;
pub mod policies;
pub mod refresh;
pub mod sessions;
pub mod users;

/// Converts a stored 0/1 flag
pub(crate) fn flag(value: i64) -> bool {
    value != 0
}
