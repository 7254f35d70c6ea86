//! Request limits: total header size (431), the body read before routing (413 from the
//! announced length at once, 408 when it stalls), and the handler deadline (503).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use crate::problem::ApiError;
use crate::state::AppState;

/// Reads the whole request body before the router sees the request, so that no handler
/// ever waits on a client:
///
/// - a `Content-Length` over the body limit is answered 413 at once, without reading;
/// - a body that grows over the limit is 413 as soon as it does;
/// - a body with no data for `body_idle_timeout`, or not complete within
///   `request_timeout`, is 408 (and the connection is closed);
/// - a body that cannot be read (the client reset it) is 400.
///
/// Every body CloudDocs accepts is a JSON or form document under the limit, which the
/// extractors buffer anyway; reading it here first costs nothing more.
pub async fn read_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.settings.body_limit;
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return ApiError::PayloadTooLarge.into_response();
    }
    let (parts, body) = request.into_parts();
    if http_body::Body::is_end_stream(&body) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let read = tokio::time::timeout(
        state.settings.request_timeout,
        collect(body, limit, state.settings.body_idle_timeout),
    );
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(refusal)) => return refusal.into_response(),
        Err(_) => return ApiError::RequestTimeout.into_response(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The body's data frames, at most `limit` bytes, each arriving within `idle`
async fn collect(
    mut body: Body,
    limit: usize,
    idle: std::time::Duration,
) -> Result<Bytes, ApiError> {
    let mut buffer = Vec::new();
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(ApiError::RequestTimeout),
            Ok(None) => return Ok(Bytes::from(buffer)),
            Ok(Some(Err(_))) => {
                return Err(ApiError::BadRequest(
                    "the request body could not be read".to_owned(),
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buffer.len().saturating_add(data.len()) > limit {
                return Err(ApiError::PayloadTooLarge);
            }
            buffer.extend_from_slice(&data);
        }
    }
}

/// Answers 503 problem+json with `Retry-After` when a handler takes longer than
/// `request_timeout` (the body has already been read by [`read_body`], so the wait is the
/// server's, not the client's)
pub async fn deadline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.settings.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request exceeded its deadline");
            ApiError::Unavailable.into_response()
        }
    }
}

/// Answers 431 when the request headers together exceed the configured size
pub async fn limit_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let total: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if total > state.settings.header_limit {
        return (
            axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
            r#"{"type":"https://clouddocs.dev/problems/headers-too-large","title":"Request Header Fields Too Large","status":431,"detail":"request headers are too large"}"#,
        )
            .into_response();
    }
    next.run(request).await
}
