//! OAuth client registration, for platform admins.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use clouddocs_domain::Scope;
use clouddocs_service::tokens::{ClientView, NewClient, RegisteredClient};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::dto::Page;
use crate::extract::{ApiJson, Authenticated};
use crate::problem::ApiResult;
use crate::state::AppState;

/// `/admin/clients`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/clients", get(get_clients).post(post_client))
        .route("/admin/clients/{id}", delete(delete_client))
}

/// `POST /admin/clients`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    /// Display name
    pub name: String,
    /// Exact redirect URIs
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grant types
    pub grant_types: Vec<String>,
    /// Scopes the client may request
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whether the client keeps a secret
    pub confidential: bool,
    /// A client of this deployment: its users skip the consent page
    #[serde(default)]
    pub first_party: bool,
    /// ID-token signature algorithm: `RS256` (default) or `EdDSA`
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
}

/// Register an OAuth client; a confidential client's secret is shown once.
///
/// **Permissions**: platform admins.
#[utoipa::path(post, path = "/admin/clients", tag = "admin", request_body = CreateClientRequest,
    responses(
        (status = 201, description = "`{client_id, client_secret?}`"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not a platform admin"),
        (status = 422, description = "Invalid registration"),
    ))]
pub async fn post_client(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateClientRequest>,
) -> ApiResult<(StatusCode, Json<RegisteredClient>)> {
    auth.require(&state.svc, Scope::Admin).await?;
    let scopes = super::parse_scopes(&body.scopes)?;
    let new = NewClient {
        name: body.name,
        redirect_uris: body.redirect_uris,
        grant_types: body.grant_types,
        scopes,
        confidential: body.confidential,
        first_party: body.first_party,
        id_token_alg: body.id_token_signed_response_alg,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.svc.register_client(&auth.principal, new).await?),
    ))
}

/// Every registered client.
///
/// **Permissions**: platform admins.
#[utoipa::path(get, path = "/admin/clients", tag = "admin",
    responses((status = 200, description = "Clients"), (status = 401, description = "Not authenticated"), (status = 403, description = "Not a platform admin")))]
pub async fn get_clients(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Page<ClientView>>> {
    auth.require(&state.svc, Scope::Admin).await?;
    Ok(Json(Page::complete(
        state.svc.list_clients(&auth.principal).await?,
    )))
}

/// Delete a client.
///
/// **Permissions**: platform admins.
#[utoipa::path(delete, path = "/admin/clients/{id}", tag = "admin",
    params(("id" = String, Path, description = "Client id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Not authenticated"), (status = 403, description = "Not a platform admin"), (status = 404, description = "No such client")))]
pub async fn delete_client(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Admin).await?;
    state.svc.delete_client(&auth.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
