//! The caller's API keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use clouddocs_domain::Scope;
use clouddocs_service::tokens::{ApiKeyView, NewApiKey};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::dto::Page;
use crate::extract::{ApiJson, Authenticated};
use crate::problem::ApiResult;
use crate::state::AppState;

/// `/me/api-keys`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/api-keys", get(get_api_keys).post(post_api_key))
        .route("/me/api-keys/{id}", delete(delete_api_key))
}

/// `POST /me/api-keys`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A label
    pub name: String,
    /// Scopes, each held by the caller
    pub scopes: Vec<String>,
    /// Days until expiry (1 to 3650); never expires when absent
    pub expires_in_days: Option<u32>,
}

/// Create an API key; the key is in the answer once and never again.
///
/// **Permissions**: any authenticated caller; the key's scopes must be held by the caller.
#[utoipa::path(post, path = "/me/api-keys", tag = "me", request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; `key` is shown this once"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Scopes beyond the caller's, or missing CSRF token"),
        (status = 422, description = "Invalid name, scope or expiry"),
    ))]
pub async fn post_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<NewApiKey>)> {
    auth.require(&state.svc, Scope::Profile).await?;
    let scopes = super::parse_scopes(&body.scopes)?;
    let key = state
        .svc
        .create_api_key(&auth.principal, &body.name, &scopes, body.expires_in_days)
        .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// The caller's live API keys (prefix, scopes, last use; never the key).
///
/// **Permissions**: any authenticated caller.
#[utoipa::path(get, path = "/me/api-keys", tag = "me",
    responses((status = 200, description = "The keys"), (status = 401, description = "Not authenticated")))]
pub async fn get_api_keys(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Page<ApiKeyView>>> {
    auth.require(&state.svc, Scope::Profile).await?;
    Ok(Json(Page::complete(
        state.svc.list_api_keys(&auth.principal).await?,
    )))
}

/// Revoke one of the caller's API keys.
///
/// **Permissions**: the key's owner.
#[utoipa::path(delete, path = "/me/api-keys/{id}", tag = "me",
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such key of the caller"),
    ))]
pub async fn delete_api_key(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Profile).await?;
    state.svc.revoke_api_key(&auth.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
