//! A small axum API secured by CloudDocs, the way the FastAPI tutorials' `get_current_user`
//! and `require_roles` do it, with nothing home-made:
//! - `GET /notes`: any valid CloudDocs token with `documents:read`;
//! - `GET /documents/{id}/summary`: also asks CloudDocs' policy engine whether the caller
//!   may read that document, and answers 403 with its reasons when not.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clouddocs_resource::{AuthError, AuthzClient, Claims, RequireBearer, Verifier};
use serde_json::json;

/// What the handlers share
#[derive(Clone)]
pub struct AppState {
    authz: AuthzClient,
}

/// The API, every route behind [`RequireBearer`]
pub fn app(verifier: Verifier, clouddocs: &str) -> Router {
    Router::new()
        .route("/notes", get(notes))
        .route("/documents/{id}/summary", get(summary))
        .layer(RequireBearer::new(verifier))
        .with_state(AppState {
            authz: AuthzClient::new(clouddocs),
        })
}

async fn notes(claims: Claims) -> Result<Json<serde_json::Value>, AuthError> {
    claims.require_scope("documents:read")?;
    Ok(Json(
        json!({"owner": claims.sub, "notes": ["first", "second"]}),
    ))
}

async fn summary(
    State(state): State<AppState>,
    claims: Claims,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AuthError> {
    claims.require_scope("documents:read")?;
    // The caller's own token asks: CloudDocs answers about the caller.
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let decision = state
        .authz
        .check(
            token,
            &json!({"action": "read", "resource": {"type": "CloudDocs::Document", "id": id}}),
        )
        .await?;
    if !decision.allowed() {
        return Ok((
            StatusCode::FORBIDDEN,
            Json(json!({"error": "forbidden", "reasons": decision.reasons})),
        )
            .into_response());
    }
    Ok(Json(json!({"document": id, "allowed_by": decision.policies})).into_response())
}
