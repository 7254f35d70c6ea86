//! The pages' form bodies: every field as sent, repeated fields included (checkboxes).

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

use super::error_page;
use crate::state::AppState;

/// An `application/x-www-form-urlencoded` body as its pairs
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or `""`
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The form's CSRF token
    pub(crate) fn csrf(&self) -> &str {
        self.get("csrf_token")
    }
}

impl FromRequest<AppState> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let axum::extract::RawForm(bytes) = axum::extract::RawForm::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(Fields)
            .map_err(|_| error_page(axum::http::StatusCode::BAD_REQUEST, "malformed form"))
    }
}
