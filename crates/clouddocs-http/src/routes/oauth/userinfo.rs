//! `GET /oauth/userinfo` (OpenID Connect Core §5.3).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::extract::Authenticated;
use crate::problem::ApiResult;
use crate::state::AppState;

/// Claims about the token's user (OpenID Connect Core §5.3): `sub`; `name` with
/// `profile`; `email` and `email_verified` with `email`.
///
/// **Permissions**: a bearer access token with the `openid` scope.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth",
    responses(
        (status = 200, description = "`{sub, name?, email?, email_verified?}`"),
        (status = 401, description = "No or invalid access token"),
        (status = 403, description = "Not an access token, or no `openid` scope"),
    ))]
pub async fn get_userinfo(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Response> {
    let claims = state.svc.userinfo(&auth.principal).await?;
    Ok(Json(claims).into_response())
}
