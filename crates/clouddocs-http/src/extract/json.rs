//! JSON (and form) bodies whose rejections are problem+json: unknown fields and bad
//! values are 422, syntax errors 400, a wrong content type 415, an oversized body 413.

use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// A JSON body; the DTO's `deny_unknown_fields` makes mass assignment a 422
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::Unprocessable(e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(e.body_text()),
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::UnsupportedMediaType("expected `Content-Type: application/json`".to_owned())
        }
        JsonRejection::BytesRejection(_) => ApiError::PayloadTooLarge,
        other => ApiError::BadRequest(other.body_text()),
    }
}

fn form_rejection(rejection: FormRejection) -> ApiError {
    match rejection {
        FormRejection::FailedToDeserializeForm(e) => ApiError::Unprocessable(e.body_text()),
        FormRejection::FailedToDeserializeFormBody(e) => ApiError::Unprocessable(e.body_text()),
        FormRejection::InvalidFormContentType(_) => ApiError::UnsupportedMediaType(
            "expected `Content-Type: application/x-www-form-urlencoded`".to_owned(),
        ),
        FormRejection::BytesRejection(_) => ApiError::PayloadTooLarge,
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// Deepest nesting of arrays and objects accepted in a JSON body
pub(crate) const MAX_JSON_DEPTH: usize = 32;

/// Whether the JSON text nests arrays and objects deeper than [`MAX_JSON_DEPTH`]; strings are
/// skipped, and malformed text is left to the parser
pub(crate) fn too_deep(bytes: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `Json` with the nesting bound checked on the bytes before serde sees them
async fn bounded_json<S, T>(req: Request, state: &S) -> Result<T, ApiError>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    let (parts, body) = req.into_parts();
    let (headers, extensions) = (parts.headers.clone(), parts.extensions.clone());
    let bytes = axum::body::Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|rejection| {
            // Only an over-limit body is a 413; a body that could not be read is the
            // client's broken request, not a size problem.
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("the request body could not be read".to_owned())
            }
        })?;
    if too_deep(&bytes) {
        return Err(ApiError::Unprocessable(format!(
            "JSON nesting depth exceeds the bound of {MAX_JSON_DEPTH}"
        )));
    }
    let mut req = Request::new(axum::body::Body::from(bytes));
    *req.headers_mut() = headers;
    *req.extensions_mut() = extensions;
    let Json(value) = Json::<T>::from_request(req, state)
        .await
        .map_err(json_rejection)?;
    Ok(value)
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(bounded_json(req, state).await?))
    }
}

/// A body that may be JSON or `application/x-www-form-urlencoded` (login, OAuth)
#[derive(Debug)]
pub struct JsonOrForm<T>(pub T);

impl<S, T> FromRequest<S> for JsonOrForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form {
            let axum::Form(value) = axum::Form::<T>::from_request(req, state)
                .await
                .map_err(form_rejection)?;
            Ok(Self(value))
        } else {
            // Form bodies are flat (`serde_urlencoded` does not nest); JSON is bounded.
            Ok(Self(bounded_json(req, state).await?))
        }
    }
}

/// Query parameters whose rejection is a problem+json 400 naming the bad parameter
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        Ok(Self(value))
    }
}
