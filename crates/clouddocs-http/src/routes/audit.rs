//! The audit log: reading and verifying.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use clouddocs_service::audit::{ChainReport, EventView};
use clouddocs_store::sql::audit::AuditFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::Page;
use crate::extract::{ApiQuery, Authenticated};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// `/audit`, `/audit/verify`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(get_audit))
        .route("/audit/verify", get(get_audit_verify))
}

/// `GET /audit` filters
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditListQuery {
    /// Only events by this actor (user or client id)
    pub actor: Option<String>,
    /// Only this action, e.g. `auth.login`
    pub action: Option<String>,
    /// Only this target, e.g. `document:<id>`
    pub target: Option<String>,
    /// Only this org's events
    pub org: Option<String>,
    /// From this time (unix milliseconds, inclusive)
    pub from: Option<i64>,
    /// Until this time (unix milliseconds, exclusive)
    pub to: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50)
    pub limit: Option<u32>,
}

/// Audit events, newest first.
///
/// **Permissions**: platform admins see every event; org admins their orgs' events.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditListQuery),
    responses((status = 200, description = "`{items, next_cursor}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "Neither a platform nor an org admin")))]
pub async fn get_audit(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<AuditListQuery>,
) -> ApiResult<Json<Page<EventView>>> {
    let before = q
        .cursor
        .as_deref()
        .map(str::parse::<i64>)
        .transpose()
        .map_err(|_| ApiError::BadRequest("`cursor` must be a `next_cursor` value".to_owned()))?;
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        target: q.target,
        from: q.from,
        to: q.to,
        orgs: q.org.map(|o| vec![o]),
        before,
    };
    let limit = super::page_size(q.limit, 50)?;
    let (items, next_cursor) = state.svc.list_audit(&auth.principal, filter, limit).await?;
    Ok(Json(Page { items, next_cursor }))
}

/// Recompute the hash chain and name the first broken or missing link.
///
/// **Permissions**: platform admins.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, description = "`{ok, count, head_hash?, error?, broken_seq?}`"), (status = 401, description = "Not authenticated"), (status = 403, description = "Not a platform admin")))]
pub async fn get_audit_verify(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<ChainReport>> {
    if !auth.principal.is_platform_admin() {
        return Err(ApiError::Forbidden("platform admin only".to_owned()));
    }
    Ok(Json(state.svc.verify_audit_chain().await?))
}
