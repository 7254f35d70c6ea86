//! Cross-cutting request handling: limits, security headers, metrics.

pub mod limits;
pub mod metrics;
pub mod security_headers;
