//! The token layer: signing keys, access tokens, refresh-token families, revocation,
//! introspection, API keys and OAuth clients.

mod api_keys;
mod bearer;
mod clients;
mod keys;
mod revocation;
mod verified;

pub use api_keys::{ApiKeyView, KEY_PREFIX, NewApiKey};
pub use bearer::{BearerError, TokenInspection};
pub use clients::{Client, ClientView, GRANT_TYPES, NewClient, RegisteredClient};
pub use keys::KeyManager;
pub use revocation::Introspection;
pub(crate) use verified::VerifiedTokens;

use std::time::Duration;

use clouddocs_auth::jwt::SigningAlgorithm;
use clouddocs_domain::{Scope, Scopes};
use serde::{Deserialize, Serialize};

/// Tunables of the token layer
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// `iss` of every token: the server's public base URL
    pub issuer: String,
    /// `aud` of access tokens: this API
    pub audience: String,
    /// Access-token lifetime (15 minutes)
    pub access_ttl: Duration,
    /// Absolute lifetime of a refresh-token family (30 days)
    pub refresh_family_ttl: Duration,
    /// Algorithm of newly generated signing keys
    pub algorithm: SigningAlgorithm,
    /// Lifetime of an OAuth authorization code (60 seconds)
    pub auth_code_ttl: Duration,
}

impl TokenConfig {
    /// Defaults for an issuer URL
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: "clouddocs".to_owned(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_family_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            algorithm: SigningAlgorithm::EdDsa,
            auth_code_ttl: Duration::from_secs(60),
        }
    }
}

/// Claims of a CloudDocs access token
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer
    pub iss: String,
    /// The user's id, or the client id for `client_credentials`
    pub sub: String,
    /// Audience
    pub aud: String,
    /// Expiry (unix seconds)
    pub exp: i64,
    /// Issued at (unix seconds)
    pub iat: i64,
    /// Not before (unix seconds)
    pub nbf: i64,
    /// Unique token id, for revocation
    pub jti: String,
    /// Granted scopes, space-separated
    pub scope: String,
    /// The refresh-token family (login) the token descends from
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The OAuth client the token was issued to
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Platform roles of the subject
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Whether the subject is an OAuth client rather than a user
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client: bool,
    /// What the user's sign-in proved (RFC 8176)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// When the user signed in (unix seconds)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

/// The scopes a user may hold: everything, but `admin` only for platform admins
pub fn user_scopes(platform_admin: bool) -> Scopes {
    Scope::ALL
        .into_iter()
        .filter(|s| *s != Scope::Admin || platform_admin)
        .collect()
}

/// Denylist keys
pub(crate) fn jti_key(jti: &str) -> String {
    format!("jti:{jti}")
}

pub(crate) fn family_key(family_id: &str) -> String {
    format!("fam:{family_id}")
}
