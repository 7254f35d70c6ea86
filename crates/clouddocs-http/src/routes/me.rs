//! The caller's own profile, password and sessions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use clouddocs_domain::{DisplayName, Password, Scope};

use crate::dto::Page;
use crate::dto::{ChangePasswordRequest, SessionResponse, UpdateMeRequest, UserResponse};
use crate::extract::{ApiJson, Authenticated};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// `/me`, `/me/password`, `/me/sessions`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(get_me).patch(patch_me))
        .route("/me/password", post(post_password))
        .route("/me/sessions", get(get_sessions))
        .route("/me/sessions/{id}", delete(delete_session))
}

/// The caller's profile.
///
/// **Permissions**: any authenticated caller.
#[utoipa::path(get, path = "/me", tag = "me",
    responses((status = 200, body = UserResponse), (status = 401, description = "Not authenticated")))]
pub async fn get_me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<UserResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    Ok(Json(state.svc.me(&auth.principal).await?.into()))
}

/// Change the caller's display name; no other field may be set.
///
/// **Permissions**: any authenticated caller.
#[utoipa::path(patch, path = "/me", tag = "me", request_body = UpdateMeRequest,
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Missing CSRF token"),
        (status = 422, description = "Invalid display name or unknown field"),
    ))]
pub async fn patch_me(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<UpdateMeRequest>,
) -> ApiResult<Json<UserResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let name =
        DisplayName::parse(&body.display_name).map_err(|e| ApiError::invalid("display_name", e))?;
    Ok(Json(
        state
            .svc
            .update_display_name(&auth.principal, name)
            .await?
            .into(),
    ))
}

/// Change the caller's password; ends every other session.
///
/// **Permissions**: any authenticated caller, with the current password.
#[utoipa::path(post, path = "/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed; other sessions ended"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Wrong current password or missing CSRF token"),
        (status = 422, description = "Weak new password"),
    ))]
pub async fn post_password(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Profile).await?;
    let new =
        Password::parse(&body.new_password).map_err(|e| ApiError::invalid("new_password", e))?;
    state
        .svc
        .change_password(
            &auth.principal,
            &body.current_password,
            new,
            auth.session_id.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's signed-in devices.
///
/// **Permissions**: any authenticated caller.
#[utoipa::path(get, path = "/me/sessions", tag = "me",
    responses((status = 200, body = Page<SessionResponse>), (status = 401, description = "Not authenticated")))]
pub async fn get_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Page<SessionResponse>>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let sessions = state
        .svc
        .list_sessions(&auth.principal, auth.session_id.as_deref())
        .await?;
    Ok(Json(Page::complete(sessions)))
}

/// Sign one of the caller's devices out.
///
/// **Permissions**: the session's owner.
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "me",
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Missing CSRF token"),
        (status = 404, description = "No such session of the caller"),
    ))]
pub async fn delete_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Profile).await?;
    state.svc.end_session(&auth.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
