//! Cross-cutting request handling: limits, security headers, metrics.

pub mod cors;
pub mod failures;
pub mod limits;
pub mod metrics;
pub mod request_meta;
pub mod security_headers;
