//! The authentication extractor, CloudDocs' `Depends(get_current_user)`.
//!
//! It accepts exactly one credential (session cookie, bearer token or API key), yields the
//! [`Principal`], and enforces CSRF on cookie-authenticated unsafe methods. Absent or
//! invalid credentials are a 401 with `WWW-Authenticate`; handlers never see credentials.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum_extra::extract::CookieJar;
use clouddocs_auth::token;
use clouddocs_domain::Principal;

use crate::problem::ApiError;
use crate::state::AppState;

/// The header carrying the CSRF token on cookie-authenticated unsafe requests
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who is calling, and with which scopes
    pub principal: Principal,
    /// The session's public id when the caller used the session cookie
    pub session_id: Option<String>,
}

fn unauthenticated(detail: &'static str) -> ApiError {
    ApiError::Unauthenticated { detail, invalid_token: false }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<Authenticated>() {
            return Ok(cached.clone());
        }
        let authenticated = authenticate(&parts.headers, &parts.method, state).await?;
        parts.extensions.insert(authenticated.clone());
        Ok(authenticated)
    }
}

async fn authenticate(
    headers: &HeaderMap,
    method: &Method,
    state: &AppState,
) -> Result<Authenticated, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-api-key") {
        return Err(ApiError::Unauthenticated {
            detail: "bearer tokens and API keys are not accepted by this server",
            invalid_token: true,
        });
    }
    let jar = CookieJar::from_headers(headers);
    let Some(cookie) = jar.get(state.settings.cookie_name()) else {
        return Err(unauthenticated("authentication required"));
    };
    let session = state
        .svc
        .authenticate_session(cookie.value())
        .await?
        .ok_or_else(|| unauthenticated("session expired or invalid, sign in again"))?;
    if is_unsafe(method) {
        let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if presented.is_empty()
            || !token::constant_time_eq(&token::digest(presented), &session.csrf_hash)
        {
            return Err(ApiError::Forbidden("missing or invalid CSRF token".to_owned()));
        }
    }
    Ok(Authenticated { principal: session.principal, session_id: Some(session.session_id) })
}
