//! The authenticated caller of a request, whatever credential it presented.

use crate::{Amr, ApiKeyId, ClientId, Scopes, SessionId, UserId};

/// How the caller proved its identity
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A browser session cookie; unsafe methods also need the CSRF token
    Session {
        /// The session's public id
        session_id: SessionId,
    },
    /// A bearer access token (JWT)
    Bearer {
        /// The token's `jti`, for revocation on logout
        jti: String,
        /// Seconds since the epoch when the token expires
        expires_at: i64,
        /// The OAuth client the token was issued to, if any
        client_id: Option<ClientId>,
        /// The refresh family (the sign-in) the token descends from (`sid`), if any
        family_id: Option<String>,
    },
    /// An API key in `X-API-Key`
    ApiKey {
        /// The key's public id
        key_id: ApiKeyId,
    },
}

/// Who is calling, how, and which scopes narrow what they may do
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user the credential belongs to
    pub user_id: UserId,
    /// Whether the user is a platform administrator
    pub platform_admin: bool,
    /// How the caller authenticated
    pub method: AuthMethod,
    /// What the credential may do; a session carries every scope
    pub scopes: Scopes,
    /// What the sign-in behind the credential proved (none for an API key)
    pub amr: Amr,
}

impl Principal {
    /// Whether the credential grants `scope`
    pub fn has_scope(&self, scope: crate::Scope) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether the caller is a platform admin acting with the `admin` scope
    pub fn is_platform_admin(&self) -> bool {
        self.platform_admin && self.scopes.contains(crate::Scope::Admin)
    }
}
