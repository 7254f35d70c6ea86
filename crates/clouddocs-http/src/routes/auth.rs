//! Registration, login and logout.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, SameSite};
use clouddocs_domain::{AuthMethod, DisplayName, Email, Password};
use clouddocs_service::mfa::SignIn;
use clouddocs_service::{LoginOutcome, NewAccount, ValidationError};

use crate::dto::{LoginRequest, LoginResponse, MfaRequiredResponse, RegisterRequest, UserResponse};
use crate::extract::{ApiJson, Authenticated, ClientMeta, JsonOrForm};
use crate::problem::{ApiError, ApiResult};
use crate::rate_limit::Gate;
use crate::state::{AppState, HttpSettings};

/// `/auth/*`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(post_register))
        .route("/auth/login", post(post_login))
        .route("/auth/logout", post(post_logout))
}

fn validation(err: impl Into<ValidationError>) -> ApiError {
    let refused: ValidationError = err.into();
    ApiError::from(refused)
}

/// Create an account.
///
/// **Permissions**: anyone.
#[utoipa::path(post, path = "/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses(
        (status = 201, body = UserResponse, description = "Account created"),
        (status = 422, description = "Invalid email, weak or breached password, unknown field"),
        (status = 429, description = "Too many registrations from this address; see `Retry-After`"),
    ))]
pub async fn post_register(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    // Every registration counts, successful or not: it is never given back.
    let _counted = state
        .svc
        .throttle()
        .take_ip(Gate::Register, client.addr)
        .await?;
    let account = NewAccount {
        email: Email::parse(&body.email).map_err(validation)?,
        password: Password::parse(&body.password).map_err(validation)?,
        display_name: DisplayName::parse(&body.display_name).map_err(validation)?,
    };
    let user = state.svc.register(account).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

pub(crate) fn session_cookie(
    settings: &HttpSettings,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((settings.cookie_name(), value))
        .http_only(true)
        .secure(!settings.dev)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

/// Sign in with email and password (JSON or form); sets the session cookie.
///
/// Unknown email and wrong password get the same answer in the same time. Attempts are
/// limited per address and per account, and repeated failures lock the account: while
/// limited or locked every attempt, even with the right password, gets 429 with
/// `Retry-After`.
///
/// **Permissions**: anyone.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse, description = "Signed in; session cookie set. For an account with a second factor: `MfaRequiredResponse` and no cookie; `POST /auth/mfa` completes the sign-in"),
        (status = 401, description = "Invalid email or password"),
        (status = 422, description = "Malformed body"),
        (status = 429, description = "Too many attempts or account locked; see `Retry-After`"),
    ))]
pub async fn post_login(
    State(state): State<AppState>,
    client: ClientMeta,
    JsonOrForm(body): JsonOrForm<LoginRequest>,
) -> ApiResult<Response> {
    let answer = state
        .svc
        .login(&body.email, &body.password, client.addr, client.user_agent)
        .await?;
    match answer {
        SignIn::Complete(outcome) => signed_in(&state, outcome),
        SignIn::SecondFactor(challenge) => {
            Ok(Json(MfaRequiredResponse::from(challenge)).into_response())
        }
    }
}

/// The answer that opens a session: the cookie, and the CSRF token in the body
pub(crate) fn signed_in(state: &AppState, outcome: LoginOutcome) -> ApiResult<Response> {
    let max_age = i64::try_from(state.svc.config().session_absolute.as_secs()).unwrap_or(i64::MAX);
    let cookie = session_cookie(&state.settings, outcome.session_token, max_age);
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&cookie.to_string())
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    headers.insert(header::SET_COOKIE, value);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let body = LoginResponse {
        csrf_token: outcome.csrf_token,
        user: outcome.user.into(),
    };
    Ok((headers, Json(body)).into_response())
}

/// End the current session (cookie) and clear the cookie, or revoke the presented access
/// token: its `jti` is denylisted until it expires and, when it came from a sign-in, that
/// sign-in's refresh family ends, so the device's refresh token stops working too.
///
/// **Permissions**: any authenticated caller.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "Missing CSRF token"),
    ))]
pub async fn post_logout(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Response> {
    if let Some(session_id) = &auth.session_id {
        state.svc.end_session(&auth.principal, session_id).await?;
    }
    if matches!(auth.principal.method, AuthMethod::Bearer { .. }) {
        state.svc.sign_out_bearer(&auth.principal).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let cleared = session_cookie(&state.settings, String::new(), 0);
    let value = HeaderValue::from_str(&cleared.to_string())
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, value)]).into_response())
}
