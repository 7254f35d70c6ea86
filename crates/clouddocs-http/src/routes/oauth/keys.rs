//! The JWKS and the discovery document.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// The public signing keys, current and not-yet-expired old ones.
///
/// **Permissions**: anyone.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth",
    responses((status = 200, description = "JWK Set")))]
pub async fn get_jwks(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.svc.jwks()),
    )
        .into_response()
}

/// Discovery document.
///
/// **Permissions**: anyone.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth",
    responses((status = 200, description = "OpenID Provider metadata")))]
pub async fn get_openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = state
        .svc
        .token_config()
        .issuer
        .trim_end_matches('/')
        .to_owned();
    let algs: Vec<String> = vec![state.svc.signing_algorithm().to_owned()];
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "scopes_supported": clouddocs_domain::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password", clouddocs_service::oauth::MFA_OTP_GRANT],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": state.svc.id_token_algorithms(),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "amr", "nonce", "at_hash", "azp", "name", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": algs,
    });
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc)).into_response()
}
