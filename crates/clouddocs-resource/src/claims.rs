//! The claims of a CloudDocs access token.

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde::{Deserialize, Serialize};

use crate::AuthError;

/// A verified CloudDocs access token's claims
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer: the CloudDocs server's public URL
    pub iss: String,
    /// The user's id (or the client's, for `client_credentials`)
    pub sub: String,
    /// Audience
    pub aud: String,
    /// Expiry, unix seconds
    pub exp: i64,
    /// Issue time, unix seconds
    pub iat: i64,
    /// Token id
    pub jti: String,
    /// Granted scopes, space-separated
    #[serde(default)]
    pub scope: String,
    /// The OAuth client the token was issued to
    #[serde(default)]
    pub client_id: Option<String>,
    /// Platform roles (`platform_admin`)
    #[serde(default)]
    pub roles: Vec<String>,
    /// Whether the subject is a client acting for itself
    #[serde(default)]
    pub client: bool,
    /// How the user signed in (RFC 8176: `pwd`, `otp`, `hwk`, `swk`, `mfa`)
    #[serde(default)]
    pub amr: Vec<String>,
    /// When the user signed in, unix seconds
    #[serde(default)]
    pub auth_time: Option<i64>,
}

impl Claims {
    /// Whether the token grants `scope`
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split_ascii_whitespace().any(|s| s == scope)
    }

    /// `Ok` if the token grants `scope`, else 403 `insufficient_scope`
    pub fn require_scope(&self, scope: &str) -> Result<(), AuthError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope(scope.to_owned()))
        }
    }

    /// Whether the user's sign-in was multi-factor
    pub fn mfa(&self) -> bool {
        self.amr.iter().any(|m| m == "mfa")
    }
}

/// The claims [`crate::RequireBearer`] verified for this request
impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or(AuthError::Missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_whole_words() {
        let claims = Claims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "a".into(),
            exp: 0,
            iat: 0,
            jti: "j".into(),
            scope: "documents:read profile".into(),
            client_id: None,
            roles: Vec::new(),
            client: false,
            amr: vec!["pwd".into()],
            auth_time: None,
        };
        assert!(claims.has_scope("profile"));
        assert!(!claims.has_scope("documents"));
        assert!(claims.require_scope("documents:write").is_err());
        assert!(!claims.mfa());
    }
}
