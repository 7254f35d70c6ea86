//! Authorization as a service and policy administration.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use clouddocs_authz::{AuthzError, EntityRef};
use clouddocs_domain::Scope;
use clouddocs_service::authz::{CheckRequest, PolicyUpdateError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Authenticated};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// `/authz/check`, `/admin/policies`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/authz/check", post(post_check))
        .route("/admin/policies", get(get_policies).put(put_policies))
}

/// An entity reference, or a bare action name
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EntityOrName {
    /// `{"type": "CloudDocs::Document", "id": "…"}`
    Entity {
        /// Entity type, with namespace for custom types
        #[serde(rename = "type")]
        entity_type: String,
        /// Entity id
        id: String,
    },
    /// A CloudDocs action name such as `read`
    Name(String),
}

impl EntityOrName {
    fn into_ref(self, default_type: &str) -> EntityRef {
        match self {
            EntityOrName::Entity { entity_type, id } => EntityRef { entity_type, id },
            EntityOrName::Name(id) => EntityRef {
                entity_type: default_type.to_owned(),
                id,
            },
        }
    }
}

/// `POST /authz/check`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// Whom the question is about; the caller when absent
    pub principal: Option<EntityOrName>,
    /// `read`, `update`, `delete`, `share`, `manage_users`, or a namespaced action entity
    pub action: EntityOrName,
    /// The resource entity
    pub resource: EntityOrName,
    /// Request context (custom checks)
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Value,
    /// Cedar entities JSON (custom checks)
    #[serde(default)]
    #[schema(value_type = Object)]
    pub entities: Value,
}

/// The decision, the policies that determined it, and why
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// `allow` or `deny`
    pub decision: &'static str,
    /// `@id`s of the determining policies
    pub policies: Vec<String>,
    /// Human-readable reasons, including evaluation errors
    pub reasons: Vec<String>,
}

/// `GET/PUT /admin/policies`
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// The Cedar policy set
    pub policies: String,
    /// Extra schema namespaces (other applications' types), appended to the CloudDocs schema
    #[serde(default)]
    pub schema: String,
}

/// The service's question for a `/authz/check` body (the access simulator asks the same)
pub(crate) fn check_request(body: CheckBody) -> CheckRequest {
    CheckRequest {
        principal: body.principal.map(|p| p.into_ref("CloudDocs::User")),
        action: body.action.into_ref("CloudDocs::Action"),
        resource: body.resource.into_ref("CloudDocs::Document"),
        context: body.context,
        entities: body.entities,
    }
}

/// Ask for a decision.
///
/// **Permissions**: any authenticated caller about itself; platform admins about anyone.
/// Custom entity types are evaluated on the entities the caller supplies.
#[utoipa::path(post, path = "/authz/check", tag = "authz", request_body = CheckBody,
    responses((status = 200, body = CheckResponse), (status = 401, description = "Not authenticated"), (status = 403, description = "Asking about another principal"), (status = 422, description = "Malformed question")))]
pub async fn post_check(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CheckBody>,
) -> ApiResult<Json<CheckResponse>> {
    let decision = state
        .svc
        .check(&auth.principal, check_request(body))
        .await?;
    Ok(Json(CheckResponse {
        decision: if decision.allowed { "allow" } else { "deny" },
        policies: decision.policies,
        reasons: decision.reasons,
    }))
}

/// The active policy set.
///
/// **Permissions**: platform admins.
#[utoipa::path(get, path = "/admin/policies", tag = "admin",
    responses((status = 200, body = PolicyDocument), (status = 401, description = "Not authenticated"), (status = 403, description = "Not a platform admin")))]
pub async fn get_policies(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<PolicyDocument>> {
    auth.require(&state.svc, Scope::Admin).await?;
    let (policies, schema) = state.svc.policies(&auth.principal).await?;
    Ok(Json(PolicyDocument { policies, schema }))
}

/// Replace the active policy set after validating it against the schema; the old set stays
/// active on any error.
///
/// **Permissions**: platform admins.
#[utoipa::path(put, path = "/admin/policies", tag = "admin", request_body = PolicyDocument,
    responses((status = 200, body = PolicyDocument), (status = 401, description = "Not authenticated"), (status = 403, description = "Not a platform admin"), (status = 422, description = "Invalid; the detail names line and column")))]
pub async fn put_policies(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PolicyDocument>,
) -> ApiResult<Json<PolicyDocument>> {
    auth.require(&state.svc, Scope::Admin).await?;
    match state
        .svc
        .replace_policies(&auth.principal, &body.policies, &body.schema)
        .await
    {
        Ok(()) => Ok(Json(body)),
        Err(PolicyUpdateError::Invalid(err)) => Err(invalid_policy(&err)),
        Err(PolicyUpdateError::Service(err)) => Err(err.into()),
    }
}

fn invalid_policy(err: &AuthzError) -> ApiError {
    ApiError::Unprocessable(err.to_string())
}
