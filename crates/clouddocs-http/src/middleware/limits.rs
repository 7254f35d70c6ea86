//! Request header size limit (body size is limited by `DefaultBodyLimit`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

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
