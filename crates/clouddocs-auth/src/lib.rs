//! Authentication mechanics of CloudDocs, free of HTTP and SQL: password hashing,
//! opaque tokens and their digests, JWT signing and verification, rate limiting.

pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod token;
