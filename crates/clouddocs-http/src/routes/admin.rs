//! Platform administration: users.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use clouddocs_domain::Scope;

use crate::dto::{Page, UserResponse};
use crate::extract::{ApiQuery, Authenticated};
use crate::problem::ApiResult;
use crate::routes::PageQuery;
use crate::state::AppState;

/// `/admin/users`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(get_users))
        .route("/admin/users/{id}/disable", post(post_disable_user))
}

/// Every user, cursor-paginated.
///
/// **Permissions**: platform admins.
#[utoipa::path(get, path = "/admin/users", tag = "admin", params(PageQuery),
    responses(
        (status = 200, body = Page<UserResponse>),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not a platform admin"),
    ))]
pub async fn get_users(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<UserResponse>>> {
    auth.require(&state.svc, Scope::Admin).await?;
    let (items, next_cursor) = state
        .svc
        .list_users(&auth.principal, page.cursor()?, page.limit()?)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(UserResponse::from).collect(),
        next_cursor,
    }))
}

/// Disable a user: ends every session at once.
///
/// **Permissions**: platform admins.
#[utoipa::path(post, path = "/admin/users/{id}/disable", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Not a platform admin"),
        (status = 404, description = "No such user"),
    ))]
pub async fn post_disable_user(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<UserResponse>> {
    auth.require(&state.svc, Scope::Admin).await?;
    Ok(Json(
        state.svc.disable_user(&auth.principal, &id).await?.into(),
    ))
}
