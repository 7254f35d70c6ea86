//! `POST /oauth/revoke` (RFC 7009) and `POST /oauth/introspect` (RFC 7662).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use clouddocs_service::oauth::OAuthError;
use clouddocs_service::tokens::{Client, Introspection};
use serde::Deserialize;
use serde_json::json;

use super::{no_store, optional_client, parse_form, required};
use crate::oauth_error::OAuthResponseError;
use crate::state::AppState;

/// `token` (+ `token_type_hint`) of revocation and introspection
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenParam {
    /// The token in question
    pub token: Option<String>,
    /// `access_token` or `refresh_token` (a hint only)
    pub token_type_hint: Option<String>,
    /// Client id (`client_secret_post`)
    pub client_id: Option<String>,
    /// Client secret (`client_secret_post`)
    pub client_secret: Option<String>,
}

/// The form of a revocation or introspection request, the client it names (if any) and
/// the token it asks about
async fn token_question(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Option<Client>, String), OAuthError> {
    let form: TokenParam = parse_form(headers, body)?;
    let client = optional_client(
        state,
        headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )
    .await?;
    let token = required(form.token.as_deref(), "token")?.to_owned();
    Ok((client, token))
}

/// Revoke a refresh or access token (RFC 7009); unknown tokens are not an error.
///
/// **Permissions**: a token issued to a client, only that client (confidential clients
/// authenticate, public clients send `client_id`); a token issued to no client (the
/// `password` grant without a client), its holder, with no client authentication.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenParam, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (or was not valid)"),
        (status = 400, description = "invalid_request"),
        (status = 401, description = "invalid_client: the token's client did not authenticate"),
    ))]
pub async fn post_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponseError> {
    let (client, token) = token_question(&state, &headers, &body).await?;
    state.svc.revoke_token(&token, client.as_ref()).await?;
    Ok(no_store(json!({})))
}

/// Describe a token (RFC 7662).
///
/// **Permissions**: confidential clients.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenParam, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`{active, …}`"), (status = 401, description = "invalid_client")))]
pub async fn post_introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponseError> {
    let (client, token) = token_question(&state, &headers, &body).await?;
    let client = client
        .filter(Client::confidential)
        .ok_or(OAuthError::InvalidClient)?;
    let answer: Introspection = state.svc.introspect(&token).await?;
    tracing::debug!(client_id = %client.id(), active = answer.active, "introspection");
    Ok(no_store(answer))
}
