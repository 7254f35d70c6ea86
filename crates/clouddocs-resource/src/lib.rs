//! Protect a Rust API with CloudDocs.
//!
//! - [`Verifier`] checks CloudDocs access tokens against the server's JWKS: the signature
//!   under the key its `kid` names, with that key's algorithm pinned (never the token's
//!   choice), `iss`, `aud`, `exp`, `nbf`, `iat` and `sub`. An unknown `kid` refetches the
//!   JWKS (at most once per [`Verifier::refetch_interval`]), so key rotation needs no
//!   restart.
//! - [`RequireBearer`] is a tower layer that refuses requests without a valid token (401
//!   with `WWW-Authenticate: Bearer`) and hands the [`Claims`] to handlers, which take them
//!   as an axum extractor.
//! - [`Claims::require_scope`] answers 403 `insufficient_scope` ([`AuthError`] is a
//!   response).
//! - [`AuthzClient`] asks `POST /authz/check` for object-level decisions.
//!
//! It depends on no CloudDocs crate: [`Claims`] mirrors the server's access-token claims.
//! Revocation is the server's to know: a resource server that must refuse a revoked token
//! before it expires (15 minutes at most) asks [`Verifier::introspect`].
#![warn(missing_docs)]

mod authz;
mod claims;
mod layer;
mod verifier;

pub use authz::{AuthzClient, Decision};
pub use claims::Claims;
pub use layer::{RequireBearer, RequireBearerService};
pub use verifier::{AuthError, Verifier};
