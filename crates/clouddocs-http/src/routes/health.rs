//! Liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

/// `/healthz`, `/readyz`, `/metrics`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(get_healthz))
        .route("/readyz", get(get_readyz))
        .route("/metrics", get(get_metrics))
}

/// Liveness: the process answers
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive")))]
pub async fn get_healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database and, when configured, Redis answer.
///
/// `{"status": "ready" | "unavailable", "database": "ok" | "down",
/// "redis": "ok" | "down" | "not configured"}`
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "A dependency is down")))]
pub async fn get_readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state
        .svc
        .ping_database()
        .await
        .inspect_err(|err| tracing::warn!(error = %err, "readiness: database down"))
        .is_ok();
    let redis = if state.svc.redis_configured() {
        let up = state
            .svc
            .ping_ephemeral()
            .await
            .inspect_err(|err| tracing::warn!(error = %err, "readiness: redis down"))
            .is_ok();
        Some(up)
    } else {
        None
    };
    let ready = database && redis.unwrap_or(true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "unavailable" },
            "database": word(database),
            "redis": redis.map_or("not configured", word),
        })),
    )
}

/// Prometheus text exposition
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    // The database pool as it is now: open connections and how many of them are idle.
    let pool = state.svc.db().pool();
    metrics::gauge!("clouddocs_db_pool_connections").set(f64::from(pool.size()));
    metrics::gauge!("clouddocs_db_pool_idle").set(f64::from(
        u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
    ));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
