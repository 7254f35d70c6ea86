//! The RFC 6749 error of the token, revocation and introspection endpoints.

use clouddocs_store::StoreError;

use crate::ServiceError;

/// An RFC 6749 error: `error` code and a safe description
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_request`
    #[error("{0}")]
    InvalidRequest(String),
    /// `invalid_client` (401)
    #[error("client authentication failed")]
    InvalidClient,
    /// `invalid_grant`
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// `unauthorized_client`
    #[error("the client may not use this grant type")]
    UnauthorizedClient,
    /// `unsupported_grant_type`
    #[error("grant type `{0}` is not supported")]
    UnsupportedGrantType(String),
    /// `invalid_scope`
    #[error("{0}")]
    InvalidScope(String),
    /// The password was right, the account has a second factor: 403 `mfa_required` with
    /// the `mfa_token` that the `mfa-otp` grant completes
    #[error("the account has a second factor: complete the sign-in with the mfa-otp grant")]
    MfaRequired(crate::mfa::MfaRequired),
    /// A server-side failure (`server_error`)
    #[error(transparent)]
    Server(#[from] ServiceError),
}

impl OAuthError {
    /// The RFC 6749 error code
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::MfaRequired(_) => "mfa_required",
            OAuthError::Server(_) => "server_error",
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(err: StoreError) -> Self {
        OAuthError::Server(err.into())
    }
}
