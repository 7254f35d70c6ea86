//! Request extractors: the only place credentials and bodies are parsed.

mod client;
mod json;
mod principal;

pub use client::ClientMeta;
pub use json::{ApiJson, JsonOrForm};
pub use principal::{Authenticated, CSRF_HEADER};
