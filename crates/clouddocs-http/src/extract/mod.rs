//! Request extractors: the only place credentials and bodies are parsed.

mod client;
mod client_auth;
pub(crate) mod json;
mod principal;

pub use client::ClientMeta;
pub use client_auth::{ClientCredentials, client_credentials};
pub use json::{ApiJson, ApiQuery, JsonOrForm};
pub use principal::{Authenticated, CSRF_HEADER};
