//! The one place unexpected failures are logged: a 500 or 503 carries its cause as a
//! response extension ([`FailureCause`]), logged here inside the request's span (method,
//! path, request id), once, and never sent to the client.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::problem::FailureCause;

/// Logs the cause of a failed response
pub async fn log_failures(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(FailureCause(cause)) = response.extensions_mut().remove::<FailureCause>() {
        let status = response.status().as_u16();
        if status == 503 {
            tracing::error!(status, cause = %cause, "a dependency is unavailable");
        } else {
            tracing::error!(status, cause = %cause, "request failed unexpectedly");
        }
    }
    response
}
