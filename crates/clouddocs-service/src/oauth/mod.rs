//! The OpenID Connect provider: the authorization endpoint's checks, consent and codes
//! ([`authorize`]), the `authorization_code` grant ([`code_grant`]), ID tokens
//! ([`id_token`]) and the userinfo endpoint ([`userinfo`]).
//!
//! Only the code flow exists, with PKCE S256 mandatory for every client and the
//! `redirect_uri` compared exactly against the registered ones.

mod authorize;
mod code_grant;
mod id_token;
mod userinfo;

pub use authorize::{AuthorizeError, AuthorizeParams, SessionGrant, ValidAuthorization};
pub use code_grant::CodeTokenResponse;
pub use id_token::IdTokenClaims;

/// ID-token algorithms a client may choose (`RS256` is the default)
pub const ID_TOKEN_ALGS: [&str; 2] = ["RS256", "EdDSA"];
