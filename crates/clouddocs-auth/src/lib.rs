//! Authentication mechanics of CloudDocs, free of HTTP and SQL: password hashing,
//! opaque tokens and their digests, JWT signing and verification, rate limiting.

pub mod password;
pub mod token;
