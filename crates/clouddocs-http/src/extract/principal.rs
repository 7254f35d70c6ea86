//! The authentication extractor, CloudDocs' `Depends(get_current_user)`.
//!
//! It takes one credential: a bearer token or an API key from the headers, or else the
//! session cookie. More than one header credential (two `Authorization` headers, two
//! `X-API-Key` headers, or one of each) is a 400, never first-wins. It yields the
//! [`Principal`] and enforces CSRF on cookie-authenticated unsafe methods. Absent or
//! invalid credentials are a 401 with `WWW-Authenticate`; handlers never see credentials.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum_extra::extract::CookieJar;
use clouddocs_auth::token;
use clouddocs_domain::{Principal, Scope};
use clouddocs_service::Services;
use clouddocs_service::tokens::BearerError;

use crate::problem::ApiError;
use crate::state::AppState;

/// The header carrying the CSRF token on cookie-authenticated unsafe requests
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The header carrying an API key
const API_KEY_HEADER: &str = "x-api-key";

/// An authenticated caller
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who is calling, and with which scopes
    pub principal: Principal,
    /// The session's public id when the caller used the session cookie
    pub session_id: Option<String>,
}

fn unauthenticated(detail: &'static str) -> ApiError {
    ApiError::Unauthenticated {
        detail,
        invalid_token: false,
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
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
    let presented = headers.get_all(header::AUTHORIZATION).iter().count()
        + headers.get_all(API_KEY_HEADER).iter().count();
    if presented > 1 {
        return Err(ApiError::BadRequest(
            "send exactly one credential: one `Authorization` or one `X-API-Key` header".to_owned(),
        ));
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let jwt = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated {
                detail: "expected `Authorization: Bearer <token>`",
                invalid_token: true,
            })?;
        let principal = state.svc.authenticate_bearer(jwt).await.map_err(|err| {
            tracing::info!(reason = %err, "bearer token refused");
            match err {
                BearerError::NotAUser => {
                    ApiError::Forbidden("client tokens cannot act as a user".to_owned())
                }
                BearerError::Unavailable(_) => ApiError::Unavailable,
                BearerError::Revoked => ApiError::Unauthenticated {
                    detail: "token has been revoked",
                    invalid_token: true,
                },
                BearerError::Invalid(_) => ApiError::Unauthenticated {
                    detail: "invalid or expired token",
                    invalid_token: true,
                },
            }
        })?;
        return Ok(Authenticated {
            principal,
            session_id: None,
        });
    }
    if let Some(value) = headers.get(API_KEY_HEADER) {
        let key = value.to_str().unwrap_or_default().trim();
        let principal =
            state
                .svc
                .authenticate_api_key(key)
                .await?
                .ok_or(ApiError::Unauthenticated {
                    detail: "invalid, revoked or expired API key",
                    invalid_token: false,
                })?;
        return Ok(Authenticated {
            principal,
            session_id: None,
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
        let presented = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        // The login's CSRF token, or the pages' form token (derived from the cookie secret,
        // so bound to the session just the same): the pages' scripts call the API with it.
        let page_token = crate::pages::session_form_token(cookie.value());
        if presented.is_empty()
            || !(token::constant_time_eq(&token::digest(presented), &session.csrf_hash)
                || token::constant_time_eq(presented, &page_token))
        {
            return Err(ApiError::Forbidden(
                "missing or invalid CSRF token".to_owned(),
            ));
        }
    }
    Ok(Authenticated {
        principal: session.principal,
        session_id: Some(session.session_id),
    })
}

impl Authenticated {
    /// Fails with 403 `insufficient_scope` unless the credential grants `scope`; the
    /// denial is audited like every other (`Services::require_scope`)
    pub async fn require(&self, svc: &Services, scope: Scope) -> Result<(), ApiError> {
        Ok(svc.require_scope(&self.principal, scope).await?)
    }
}
