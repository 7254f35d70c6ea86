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

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state)
            .await
            .map_err(json_rejection)?;
        Ok(Self(value))
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
            let Json(value) = Json::<T>::from_request(req, state)
                .await
                .map_err(json_rejection)?;
            Ok(Self(value))
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
