//! The one API error type, rendered as RFC 9457 `application/problem+json`.
//!
//! Clients get a safe title and detail; internal causes are logged once, here, and never
//! rendered. Every 401 carries `WWW-Authenticate`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clouddocs_service::{ServiceError, ValidationError};
use serde::Serialize;

/// The realm in every `WWW-Authenticate` challenge
const CHALLENGE: &str = r#"Bearer realm="clouddocs""#;

/// An error answered by the API
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request (syntax)
    #[error("{0}")]
    BadRequest(String),
    /// No valid credential (401); the detail says what was wrong
    #[error("{detail}")]
    Unauthenticated {
        /// What was wrong with the credential
        detail: &'static str,
        /// Whether a bearer token was presented (adds `error="invalid_token"`)
        invalid_token: bool,
    },
    /// Authenticated but not allowed (403)
    #[error("{0}")]
    Forbidden(String),
    /// The credential's scopes do not cover the request (403)
    #[error("this request needs the `{0}` scope")]
    InsufficientScope(&'static str),
    /// Missing, or invisible to the caller (404)
    #[error("the requested resource does not exist")]
    NotFound,
    /// The path exists, the method does not (405)
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    /// Conflicts with existing state (409)
    #[error("{0}")]
    Conflict(String),
    /// The client stopped sending its body (408); the connection is closed after it
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// Body larger than allowed (413)
    #[error("request body is too large")]
    PayloadTooLarge,
    /// Wrong content type (415)
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but unacceptable input (422)
    #[error("{0}")]
    Unprocessable(String),
    /// One field's value is unacceptable (422, with `field` in the problem)
    #[error("{detail}")]
    Invalid {
        /// The request field
        field: &'static str,
        /// Why its value was refused
        detail: String,
    },
    /// Rate limited (429)
    #[error("too many requests, retry later")]
    TooManyRequests {
        /// Seconds until a retry may succeed
        retry_after: u64,
    },
    /// A dependency is down (503)
    #[error("service temporarily unavailable")]
    Unavailable,
    /// A dependency is down (503), with the cause to log
    #[error("service temporarily unavailable")]
    Outage(#[source] anyhow::Error),
    /// A bug or unexpected failure (500); the cause is logged, never shown
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

/// The cause of a 500 or 503, carried on the response for the one place that logs it
/// (`middleware::failures`), inside the request's span, so it is logged once with the
/// request id and never sent to the client
#[derive(Debug, Clone)]
pub struct FailureCause(pub String);

/// The `Retry-After` of every 503: a dependency that is down is worth retrying shortly
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    /// The request field a 422 concerns, when it is one field
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// The HTTP status; exhaustive on purpose
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) | ApiError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Outage(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "https://clouddocs.dev/problems/bad-request",
            ApiError::Unauthenticated { .. } => "https://clouddocs.dev/problems/unauthenticated",
            ApiError::Forbidden(_) => "https://clouddocs.dev/problems/forbidden",
            ApiError::InsufficientScope(_) => "https://clouddocs.dev/problems/insufficient-scope",
            ApiError::NotFound => "https://clouddocs.dev/problems/not-found",
            ApiError::MethodNotAllowed => "https://clouddocs.dev/problems/method-not-allowed",
            ApiError::Conflict(_) => "https://clouddocs.dev/problems/conflict",
            ApiError::PayloadTooLarge => "https://clouddocs.dev/problems/payload-too-large",
            ApiError::RequestTimeout => "https://clouddocs.dev/problems/request-timeout",
            ApiError::UnsupportedMediaType(_) => {
                "https://clouddocs.dev/problems/unsupported-media-type"
            }
            ApiError::Unprocessable(_) | ApiError::Invalid { .. } => {
                "https://clouddocs.dev/problems/validation"
            }
            ApiError::TooManyRequests { .. } => "https://clouddocs.dev/problems/rate-limited",
            ApiError::Unavailable | ApiError::Outage(_) => {
                "https://clouddocs.dev/problems/unavailable"
            }
            ApiError::Internal(_) => "https://clouddocs.dev/problems/internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let cause = match &self {
            ApiError::Internal(cause) | ApiError::Outage(cause) => {
                Some(FailureCause(format!("{cause:?}")))
            }
            _ => None,
        };
        let problem = Problem {
            kind: self.kind(),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
            field: match &self {
                ApiError::Invalid { field, .. } => Some(field),
                _ => None,
            },
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::Unauthenticated {
                invalid_token: true,
                ..
            } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="clouddocs", error="invalid_token""#),
                );
            }
            ApiError::Unauthenticated { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(CHALLENGE),
                );
            }
            ApiError::InsufficientScope(scope) => {
                if let Ok(value) = HeaderValue::from_str(&format!(
                    r#"Bearer realm="clouddocs", error="insufficient_scope", scope="{scope}""#
                )) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            ApiError::TooManyRequests { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            // The rest of the body was never read: the connection cannot carry another
            // request, so the client is told not to reuse it.
            ApiError::RequestTimeout | ApiError::PayloadTooLarge => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            ApiError::Unavailable | ApiError::Outage(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
                );
            }
            _ => {}
        }
        if let Some(cause) = cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

impl From<ValidationError> for ApiError {
    fn from(v: ValidationError) -> Self {
        ApiError::Invalid {
            field: v.field(),
            detail: v.to_string(),
        }
    }
}

impl ApiError {
    /// A 422 about `field`, for an error of parsing that field's value
    pub fn invalid(field: &'static str, err: impl Into<ValidationError>) -> Self {
        ApiError::Invalid {
            field,
            detail: err.into().to_string(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Validation(v) => v.into(),
            ServiceError::EmailTaken => ApiError::Conflict(err.to_string()),
            ServiceError::InvalidCredentials => ApiError::Unauthenticated {
                detail: "invalid email or password",
                invalid_token: false,
            },
            ServiceError::TooManyAttempts { retry_after_secs } => ApiError::TooManyRequests {
                retry_after: retry_after_secs,
            },
            ServiceError::WrongCurrentPassword | ServiceError::WrongCode => {
                ApiError::Forbidden(err.to_string())
            }
            ServiceError::StepUpRequired => ApiError::Unauthenticated {
                detail: "sign in again with your second factor",
                invalid_token: false,
            },
            ServiceError::InvalidSecondFactor => ApiError::Unauthenticated {
                detail: "invalid or expired second factor",
                invalid_token: false,
            },
            ServiceError::Forbidden(why) => ApiError::Forbidden(why.to_owned()),
            ServiceError::InsufficientScope(scope) => ApiError::InsufficientScope(scope.as_str()),
            ServiceError::Denied(decision) => {
                let mut detail = "the policy does not allow this".to_owned();
                if !decision.reasons.is_empty() {
                    detail = format!("{detail}: {}", decision.reasons.join("; "));
                }
                ApiError::Forbidden(detail)
            }
            ServiceError::Conflict(why) => ApiError::Conflict(why.to_owned()),
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::AccountGone => ApiError::Unauthenticated {
                detail: "the account of this credential no longer exists, sign in again",
                invalid_token: true,
            },
            ServiceError::Unavailable(cause) => ApiError::Outage(anyhow::Error::new(cause)),
            err @ ServiceError::AuditWriter { outage: true, .. } => {
                ApiError::Outage(anyhow::Error::new(err))
            }
            err @ (ServiceError::Store(_) | ServiceError::AuditWriter { .. }) => {
                ApiError::Internal(anyhow::Error::new(err))
            }
            ServiceError::Unexpected(cause) => ApiError::Internal(cause),
        }
    }
}

/// Whether `err` is an outage of a dependency (database or Redis) rather than a bug: it is
/// answered 503 with `Retry-After`, on every surface alike
pub(crate) fn is_outage(err: &ServiceError) -> bool {
    err.is_outage()
}

/// Shorthand for handler results
pub type ApiResult<T> = Result<T, ApiError>;
