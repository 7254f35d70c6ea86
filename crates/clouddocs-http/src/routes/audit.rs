//! The audit log: reading and verifying.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use clouddocs_service::audit::{AuditEvent, AuditQuery, ChainReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// One event of the hash-chained audit log
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventResponse {
    /// Position in the chain, from 1, gapless
    pub seq: i64,
    /// Unix milliseconds
    pub at: i64,
    /// Who acted: a user id, a client id, or `cli`
    pub actor: Option<String>,
    /// What happened, e.g. `auth.login`, `permission.denied`
    pub action: String,
    /// What it concerned, e.g. `document:<id>`
    pub target: Option<String>,
    /// `success`, `failure` or `denied`
    pub outcome: String,
    /// Client address
    pub ip: Option<String>,
    /// Request id (`x-request-id`)
    pub request_id: Option<String>,
    /// Structured extras, never secrets (a denial: `{action, policies, reasons}`)
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The previous event's hash
    pub prev_hash: String,
    /// This event's hash: SHA-256 over `prev_hash` and the canonical encoding of the rest
    pub hash: String,
}

impl From<AuditEvent> for AuditEventResponse {
    fn from(e: AuditEvent) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            ip: e.ip,
            request_id: e.request_id,
            detail: e.detail,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// The result of recomputing the chain
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainReportResponse {
    /// Whether every link holds
    pub ok: bool,
    /// Events checked
    pub count: u64,
    /// The head's hash (when ok)
    pub head_hash: Option<String>,
    /// What is wrong with the first broken link (when not ok)
    pub error: Option<String>,
    /// The sequence number of the first broken or missing link (when not ok)
    pub broken_seq: Option<i64>,
}

impl From<ChainReport> for ChainReportResponse {
    fn from(r: ChainReport) -> Self {
        Self {
            ok: r.ok,
            count: r.count,
            head_hash: r.head_hash,
            error: r.error,
            broken_seq: r.broken_seq,
        }
    }
}

/// Audit events, newest first.
///
/// **Permissions**: platform admins see every event; org admins their orgs' events.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditListQuery),
    responses((status = 200, body = Page<AuditEventResponse>), (status = 400, description = "Malformed cursor"), (status = 401, description = "Not authenticated"), (status = 403, description = "Neither a platform nor an org admin")))]
pub async fn get_audit(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<AuditListQuery>,
) -> ApiResult<Json<Page<AuditEventResponse>>> {
    let before = q
        .cursor
        .as_deref()
        .map(str::parse::<i64>)
        .transpose()
        .map_err(|_| ApiError::BadRequest("`cursor` must be a `next_cursor` value".to_owned()))?;
    let query = AuditQuery {
        actor: q.actor,
        action: q.action,
        target: q.target,
        org: q.org,
        from: q.from,
        to: q.to,
        before,
    };
    let limit = super::page_size(q.limit, 50)?;
    let (items, next_cursor) = state.svc.list_audit(&auth.principal, query, limit).await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Recompute the hash chain and name the first broken or missing link.
///
/// **Permissions**: platform admins.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, body = ChainReportResponse), (status = 401, description = "Not authenticated"), (status = 403, description = "Not a platform admin")))]
pub async fn get_audit_verify(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<ChainReportResponse>> {
    state
        .svc
        .platform_admin(&auth.principal, "audit.verify")
        .await?;
    Ok(Json(state.svc.verify_audit_chain().await?.into()))
}
