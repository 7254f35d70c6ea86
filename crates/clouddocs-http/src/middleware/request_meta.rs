//! Makes the client address and request id available to the audit log for the duration of
//! the request (a task-local read by `clouddocs_service::audit`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use clouddocs_service::audit::{REQUEST_META, RequestMeta};

/// Wraps the rest of the request in the audit task-local
pub async fn scope(request: Request, next: Next) -> Response {
    let meta = RequestMeta {
        ip: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string()),
        request_id: request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(64).collect()),
    };
    REQUEST_META.scope(meta, next.run(request)).await
}
