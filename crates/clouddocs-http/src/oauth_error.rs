//! RFC 6749 error answers for `/oauth/*`: `{error, error_description}`, never problem+json.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clouddocs_service::tokens::OAuthError;
use serde_json::json;

/// An [`OAuthError`] as an HTTP response
#[derive(Debug)]
pub struct OAuthResponseError(pub OAuthError);

impl From<OAuthError> for OAuthResponseError {
    fn from(err: OAuthError) -> Self {
        Self(err)
    }
}

impl From<clouddocs_service::ServiceError> for OAuthResponseError {
    fn from(err: clouddocs_service::ServiceError) -> Self {
        Self(OAuthError::Server(err))
    }
}

impl IntoResponse for OAuthResponseError {
    fn into_response(self) -> Response {
        let err = self.0;
        let status = match &err {
            OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::InvalidRequest(_)
            | OAuthError::InvalidGrant(_)
            | OAuthError::UnauthorizedClient
            | OAuthError::UnsupportedGrantType(_)
            | OAuthError::InvalidScope(_) => StatusCode::BAD_REQUEST,
        };
        let description = match &err {
            OAuthError::Server(cause) => {
                tracing::error!(error = ?cause, "token endpoint failed");
                "the server could not complete the request".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (
            status,
            Json(json!({"error": err.code(), "error_description": description})),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if matches!(err, OAuthError::InvalidClient) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="clouddocs""#),
            );
        }
        response
    }
}
