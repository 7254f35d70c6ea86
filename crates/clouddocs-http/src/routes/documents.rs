//! Documents and sharing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use clouddocs_domain::{DocumentId, OrgId, Scope};
use clouddocs_service::{Document, DocumentPatch, DocumentQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::Page;
use crate::extract::{ApiJson, ApiQuery, Authenticated};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// `/orgs/{org}/documents`, `/documents`, `/documents/{id}`, `/documents/{id}/shares/{user}`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{org}/documents", post(post_document))
        .route("/documents", get(crate::pages::documents::negotiated_list))
        .route(
            "/documents/{id}",
            get(crate::pages::documents::negotiated_document)
                .patch(patch_document)
                .delete(delete_document),
        )
        .route(
            "/documents/{id}/shares/{user}",
            put(put_share).delete(delete_share),
        )
}

/// `POST /orgs/{org}/documents`; org and author come from the path and the caller, never the body
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDocumentRequest {
    /// Title (1 to 200 characters)
    pub title: String,
    /// Body
    pub body: String,
    /// Readable by every org member (default false)
    #[serde(default)]
    pub published: bool,
}

/// `PATCH /documents/{id}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDocumentRequest {
    /// New title
    pub title: Option<String>,
    /// New body
    pub body: Option<String>,
    /// New published flag
    pub published: Option<bool>,
}

/// `PUT /documents/{id}/shares/{user}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// `viewer` or `editor`
    pub role: String,
}

/// `GET /documents` filters
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentListQuery {
    /// Only this org
    pub org: Option<String>,
    /// Title contains (case-insensitive)
    pub q: Option<String>,
    /// Only published (`true`) or unpublished (`false`)
    pub published: Option<bool>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20)
    pub limit: Option<u32>,
}

/// A document
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentResponse {
    /// Document id
    pub id: String,
    /// Owning org
    pub org_id: String,
    /// Author
    pub author_id: String,
    /// Title
    pub title: String,
    /// Body
    pub body: String,
    /// Readable by every org member
    pub published: bool,
    /// Creation time, unix milliseconds
    pub created_at: i64,
    /// Last change, unix milliseconds
    pub updated_at: i64,
}

impl From<Document> for DocumentResponse {
    fn from(d: Document) -> Self {
        Self {
            id: d.id,
            org_id: d.org_id,
            author_id: d.author_id,
            title: d.title,
            body: d.body,
            published: d.published,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// Create a document in an org.
///
/// **Permissions**: org editors and admins, with `documents:write`.
#[utoipa::path(post, path = "/orgs/{org}/documents", tag = "documents", request_body = CreateDocumentRequest,
    params(("org" = String, Path)),
    responses((status = 201, body = DocumentResponse), (status = 401, description = "Not authenticated"), (status = 403, description = "Viewer, or scope missing"), (status = 404, description = "No such org, or not a member"), (status = 422, description = "Invalid title/body or unknown field")))]
pub async fn post_document(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(org): Path<String>,
    ApiJson(body): ApiJson<CreateDocumentRequest>,
) -> ApiResult<(StatusCode, Json<DocumentResponse>)> {
    auth.require(&state.svc, Scope::DocumentsWrite).await?;
    let org: OrgId = super::path_id(&org)?;
    let doc = state
        .svc
        .create_document(
            &auth.principal,
            &org,
            &body.title,
            &body.body,
            body.published,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(doc.into())))
}

/// Documents the caller may read, newest first.
///
/// **Permissions**: any authenticated caller with `documents:read` (without it, 403
/// `insufficient_scope`).
#[utoipa::path(get, path = "/documents", tag = "documents", params(DocumentListQuery),
    responses((status = 200, body = Page<DocumentResponse>), (status = 400, description = "Malformed cursor"), (status = 401, description = "Not authenticated"), (status = 403, description = "Scope `documents:read` missing"), (status = 422, description = "`limit` out of range or control characters in `q`")))]
pub async fn get_documents(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiQuery(q): ApiQuery<DocumentListQuery>,
) -> ApiResult<Json<Page<DocumentResponse>>> {
    auth.require(&state.svc, Scope::DocumentsRead).await?;
    let limit = super::page_size(q.limit, 20)?;
    super::id_cursor(q.cursor.as_deref())?;
    if q.q
        .as_deref()
        .is_some_and(|text| text.chars().any(char::is_control))
    {
        return Err(ApiError::Unprocessable(
            "`q` may not contain control characters".to_owned(),
        ));
    }
    let query = DocumentQuery {
        org: q.org,
        q: q.q,
        published: q.published,
        cursor: q.cursor,
    };
    let (items, next_cursor) = state
        .svc
        .list_documents(&auth.principal, query, limit)
        .await?;
    Ok(Json(Page {
        items: items.into_iter().map(DocumentResponse::from).collect(),
        next_cursor,
    }))
}

/// Read a document.
///
/// **Permissions**: per the document policy (`read`), with `documents:read`.
#[utoipa::path(get, path = "/documents/{id}", tag = "documents", params(("id" = String, Path)),
    responses((status = 200, body = DocumentResponse), (status = 401, description = "Not authenticated"), (status = 404, description = "Missing, or not readable by the caller")))]
pub async fn get_document(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<DocumentResponse>> {
    auth.require(&state.svc, Scope::DocumentsRead).await?;
    let id: DocumentId = super::path_id(&id)?;
    Ok(Json(
        state.svc.get_document(&auth.principal, &id).await?.into(),
    ))
}

/// Edit a document.
///
/// **Permissions**: per the document policy (`update`), with `documents:write`.
#[utoipa::path(patch, path = "/documents/{id}", tag = "documents", request_body = UpdateDocumentRequest, params(("id" = String, Path)),
    responses((status = 200, body = DocumentResponse), (status = 401, description = "Not authenticated"), (status = 403, description = "Readable but not editable"), (status = 404, description = "Missing, or not readable"), (status = 422, description = "Invalid field or unknown field")))]
pub async fn patch_document(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateDocumentRequest>,
) -> ApiResult<Json<DocumentResponse>> {
    auth.require(&state.svc, Scope::DocumentsWrite).await?;
    let id: DocumentId = super::path_id(&id)?;
    let patch = DocumentPatch {
        title: body.title,
        body: body.body,
        published: body.published,
    };
    Ok(Json(
        state
            .svc
            .update_document(&auth.principal, &id, patch)
            .await?
            .into(),
    ))
}

/// Delete a document.
///
/// **Permissions**: per the document policy (`delete`), with `documents:delete`.
#[utoipa::path(delete, path = "/documents/{id}", tag = "documents", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Not authenticated"), (status = 403, description = "Readable but not deletable"), (status = 404, description = "Missing, or not readable")))]
pub async fn delete_document(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::DocumentsDelete).await?;
    let id: DocumentId = super::path_id(&id)?;
    state.svc.delete_document(&auth.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Share a document with a user, inside or outside the org. `{user}` is the user's id or
/// email address (URL-encoded, e.g. `bob%40example.com`).
///
/// **Permissions**: per the document policy (`share`), with `documents:write`.
#[utoipa::path(put, path = "/documents/{id}/shares/{user}", tag = "documents", request_body = ShareRequest,
    params(("id" = String, Path), ("user" = String, Path, description = "User id or email address")),
    responses((status = 204, description = "Shared"), (status = 401, description = "Not authenticated"), (status = 403, description = "Readable but not shareable"), (status = 404, description = "Missing document or user"), (status = 422, description = "Unknown role")))]
pub async fn put_share(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<ShareRequest>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::DocumentsWrite).await?;
    let id: DocumentId = super::path_id(&id)?;
    state
        .svc
        .share_document(&auth.principal, &id, &user, &body.role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraw a share. `{user}` is the user's id or email address.
///
/// **Permissions**: per the document policy (`share`), with `documents:write`.
#[utoipa::path(delete, path = "/documents/{id}/shares/{user}", tag = "documents",
    params(("id" = String, Path), ("user" = String, Path, description = "User id or email address")),
    responses((status = 204, description = "Unshared"), (status = 401, description = "Not authenticated"), (status = 403, description = "Readable but not shareable"), (status = 404, description = "Missing document or share")))]
pub async fn delete_share(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::DocumentsWrite).await?;
    let id: DocumentId = super::path_id(&id)?;
    state
        .svc
        .unshare_document(&auth.principal, &id, &user)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
