//! Organizations and their members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use clouddocs_domain::{OrgId, Scope, UserId};
use clouddocs_service::{Member, Org};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::Page;
use crate::extract::{ApiJson, Authenticated};
use crate::problem::ApiResult;
use crate::state::AppState;

/// `/orgs`, `/orgs/{org}/members`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(get_orgs).post(post_org))
        .route("/orgs/{org}/members", get(get_members))
        .route(
            "/orgs/{org}/members/{user}",
            put(put_member).delete(delete_member),
        )
}

/// `POST /orgs`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// Name
    pub name: String,
}

/// `PUT /orgs/{org}/members/{user}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    /// `admin`, `editor` or `viewer`
    pub role: String,
}

/// An org of the caller
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgResponse {
    /// Org id
    pub id: String,
    /// Name
    pub name: String,
    /// The caller's role
    pub role: String,
    /// Creation time, unix milliseconds
    pub created_at: i64,
}

impl From<Org> for OrgResponse {
    fn from(o: Org) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name,
            role: o.role.as_str().to_owned(),
            created_at: o.created_at,
        }
    }
}

/// A member
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    /// User id
    pub user_id: String,
    /// Email
    pub email: String,
    /// Display name
    pub display_name: String,
    /// Role
    pub role: String,
    /// Since, unix milliseconds
    pub created_at: i64,
}

impl From<Member> for MemberResponse {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            email: m.email,
            display_name: m.display_name,
            role: m.role.as_str().to_owned(),
            created_at: m.created_at,
        }
    }
}

/// Create an org; the caller becomes its admin.
///
/// **Permissions**: any user with `orgs:manage`.
#[utoipa::path(post, path = "/orgs", tag = "orgs", request_body = CreateOrgRequest,
    responses((status = 201, body = OrgResponse), (status = 401, description = "Not authenticated"), (status = 403, description = "Scope missing"), (status = 422, description = "Invalid name")))]
pub async fn post_org(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateOrgRequest>,
) -> ApiResult<(StatusCode, Json<OrgResponse>)> {
    auth.require(&state.svc, Scope::OrgsManage).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .svc
                .create_org(&auth.principal, &body.name)
                .await?
                .into(),
        ),
    ))
}

/// The caller's orgs.
///
/// **Permissions**: any authenticated caller.
#[utoipa::path(get, path = "/orgs", tag = "orgs",
    responses((status = 200, body = Page<OrgResponse>), (status = 401, description = "Not authenticated")))]
pub async fn get_orgs(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Page<OrgResponse>>> {
    Ok(Json(Page::complete(
        state.svc.list_my_orgs(&auth.principal).await?,
    )))
}

/// An org's members.
///
/// **Permissions**: members of the org (others get 404).
#[utoipa::path(get, path = "/orgs/{org}/members", tag = "orgs", params(("org" = String, Path)),
    responses((status = 200, body = Page<MemberResponse>), (status = 401, description = "Not authenticated"), (status = 404, description = "No such org, or not a member")))]
pub async fn get_members(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<Json<Page<MemberResponse>>> {
    let org: OrgId = super::path_id(&org)?;
    Ok(Json(Page::complete(
        state.svc.list_members(&auth.principal, &org).await?,
    )))
}

/// Add a member or change their role.
///
/// **Permissions**: org admins (`manage_users`), with `orgs:manage`.
#[utoipa::path(put, path = "/orgs/{org}/members/{user}", tag = "orgs", request_body = MemberRequest,
    params(("org" = String, Path), ("user" = String, Path)),
    responses((status = 200, body = MemberResponse), (status = 401, description = "Not authenticated"), (status = 403, description = "Not an org admin"), (status = 404, description = "No such org or user"), (status = 409, description = "Would leave the org without an admin"), (status = 422, description = "Unknown role")))]
pub async fn put_member(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((org, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<MemberRequest>,
) -> ApiResult<Json<MemberResponse>> {
    auth.require(&state.svc, Scope::OrgsManage).await?;
    let org: OrgId = super::path_id(&org)?;
    let user: UserId = super::path_id(&user)?;
    Ok(Json(
        state
            .svc
            .put_member(&auth.principal, &org, &user, &body.role)
            .await?
            .into(),
    ))
}

/// Remove a member.
///
/// **Permissions**: org admins (`manage_users`), with `orgs:manage`.
#[utoipa::path(delete, path = "/orgs/{org}/members/{user}", tag = "orgs",
    params(("org" = String, Path), ("user" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 401, description = "Not authenticated"), (status = 403, description = "Not an org admin"), (status = 404, description = "No such org or member"), (status = 409, description = "Would leave the org without an admin")))]
pub async fn delete_member(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((org, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::OrgsManage).await?;
    let org: OrgId = super::path_id(&org)?;
    let user: UserId = super::path_id(&user)?;
    state
        .svc
        .remove_member(&auth.principal, &org, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
