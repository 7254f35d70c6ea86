//! The OAuth 2.0 / OpenID Connect endpoints, one module per service module they call:
//! [`token`] (the grants, `clouddocs_service::oauth::grant_types`), [`revocation`]
//! (`tokens::revocation`), [`keys`] (JWKS and discovery, `tokens::keys`), [`authorize`]
//! and [`userinfo`] (`oauth::authorize`, `oauth::userinfo`).

pub mod authorize;
pub mod keys;
pub mod revocation;
pub mod token;
pub mod userinfo;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clouddocs_service::oauth::OAuthError;
use clouddocs_service::tokens::Client;

use crate::extract::client_credentials;
use crate::state::AppState;

/// `/oauth/*` and `/.well-known/*`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token::post_token))
        .route("/oauth/revoke", post(revocation::post_revoke))
        .route("/oauth/introspect", post(revocation::post_introspect))
        .route("/oauth/authorize", get(authorize::get_authorize))
        .route("/oauth/userinfo", get(userinfo::get_userinfo))
        .route("/.well-known/jwks.json", get(keys::get_jwks))
        .route(
            "/.well-known/openid-configuration",
            get(keys::get_openid_configuration),
        )
}

pub(super) fn parse_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::InvalidRequest(
            "expected an `application/x-www-form-urlencoded` body".to_owned(),
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::InvalidRequest("malformed form body".to_owned()))
}

pub(super) fn no_store(body: impl serde::Serialize) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

pub(super) async fn optional_client(
    state: &AppState,
    headers: &HeaderMap,
    id: Option<&str>,
    secret: Option<&str>,
) -> Result<Option<Client>, OAuthError> {
    match client_credentials(headers, id, secret)? {
        Some(creds) => Ok(Some(
            state
                .svc
                .authenticate_client(&creds.client_id, creds.client_secret.as_deref())
                .await?,
        )),
        None => Ok(None),
    }
}

pub(super) fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest(format!("missing `{name}`")))
}
