//! The OAuth 2.0 / OpenID Connect provider: the authorization endpoint's checks, consent
//! and codes ([`authorize`]), the token endpoint's grants, one file each
//! ([`grant_types`]), their error ([`error`]), ID tokens ([`id_token`]) and the userinfo
//! endpoint ([`userinfo`]).
//!
//! Only the code flow exists, with PKCE S256 mandatory for every client and the
//! `redirect_uri` compared exactly against the registered ones.

mod authorize;
mod error;
pub(crate) mod grant_types;
mod id_token;
mod userinfo;

pub use authorize::{AuthorizeError, AuthorizeParams, SessionGrant, ValidAuthorization};
pub use error::OAuthError;
pub use grant_types::{CodeTokenResponse, TokenResponse};
pub use id_token::IdTokenClaims;

/// The grant that completes a `password` grant answered `mfa_required`: `mfa_token` and
/// `otp` (or `recovery_code`)
pub const MFA_OTP_GRANT: &str = "urn:clouddocs:params:oauth:grant-type:mfa-otp";

/// ID-token algorithms a client may choose (`RS256` is the default)
pub const ID_TOKEN_ALGS: [&str; 2] = ["RS256", "EdDSA"];
