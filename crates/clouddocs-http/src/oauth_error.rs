//! RFC 6749 error answers for `/oauth/*`: `{error, error_description}`, never problem+json.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clouddocs_service::ServiceError;
use clouddocs_service::oauth::OAuthError;
use serde_json::json;

/// An [`OAuthError`] as an HTTP response
#[derive(Debug)]
pub struct OAuthResponseError(pub OAuthError);

impl From<OAuthError> for OAuthResponseError {
    fn from(err: OAuthError) -> Self {
        Self(err)
    }
}

impl From<ServiceError> for OAuthResponseError {
    fn from(err: ServiceError) -> Self {
        Self(OAuthError::Server(err))
    }
}

impl IntoResponse for OAuthResponseError {
    fn into_response(self) -> Response {
        let err = self.0;
        // RFC 6749 has no error code for rate limiting: 429 with `Retry-After` and
        // `invalid_request`.
        let retry_after = match &err {
            OAuthError::Server(ServiceError::TooManyAttempts { retry_after_secs }) => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        // A dependency that is down is an outage worth retrying, not a bug: RFC 6749's
        // `temporarily_unavailable`, 503 with `Retry-After`, as the problem answers.
        let unavailable = matches!(&err, OAuthError::Server(cause) if cause.is_outage());
        let status = match &err {
            OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthError::MfaRequired(_) => StatusCode::FORBIDDEN,
            OAuthError::Server(_) if retry_after.is_some() => StatusCode::TOO_MANY_REQUESTS,
            OAuthError::Server(_) if unavailable => StatusCode::SERVICE_UNAVAILABLE,
            OAuthError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthError::InvalidRequest(_)
            | OAuthError::InvalidGrant(_)
            | OAuthError::UnauthorizedClient
            | OAuthError::UnsupportedGrantType(_)
            | OAuthError::InvalidScope(_) => StatusCode::BAD_REQUEST,
        };
        let description = match &err {
            OAuthError::Server(cause) if retry_after.is_some() => cause.to_string(),
            OAuthError::Server(_) => "the server could not complete the request".to_owned(),
            other => other.to_string(),
        };
        let mut body = json!({
            "error": if unavailable {
                "temporarily_unavailable"
            } else if retry_after.is_some() {
                "invalid_request"
            } else {
                err.code()
            },
            "error_description": description,
        });
        if let (OAuthError::MfaRequired(challenge), Some(fields)) = (&err, body.as_object_mut()) {
            fields.insert("mfa_token".to_owned(), challenge.mfa_token.clone().into());
            fields.insert("methods".to_owned(), challenge.methods.clone().into());
        }
        let mut response = (status, Json(body)).into_response();
        if let OAuthError::Server(cause) = &err
            && retry_after.is_none()
        {
            response
                .extensions_mut()
                .insert(crate::problem::FailureCause(format!("{cause:?}")));
        }
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if unavailable {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::problem::UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        if matches!(err, OAuthError::InvalidClient) {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="clouddocs""#),
            );
        }
        response
    }
}
