//! `/documents` for browsers: the list (filters, cursor pages), a document with the actions
//! the policy allows, and the forms that create, edit, share and delete. `GET /documents`
//! and `GET /documents/{id}` serve these when the request prefers `text/html`, the JSON
//! API otherwise (`Vary: Accept`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::handler::Handler as _;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use axum_extra::extract::CookieJar;
use clouddocs_authz::OrgRole;
use clouddocs_domain::{DocumentId, OrgId};
use clouddocs_service::{
    Document, DocumentActions, DocumentPatch, DocumentQuery, ServiceError, Sharee,
};

use super::form::Fields;
use super::{PageUser, error_page, failure_page, form_user, page, page_user, see_other, when};
use crate::state::AppState;

/// The page forms (`GET /documents` and `GET /documents/{id}` are the API's routes, which
/// hand browsers to [`negotiated_list`] and [`negotiated_document`])
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/documents/new", post(post_create))
        .route("/documents/{id}/edit", post(post_edit))
        .route("/documents/{id}/share", post(post_share))
        .route("/documents/{id}/unshare", post(post_unshare))
        .route("/documents/{id}/delete", post(post_delete))
}

/// Whether the request prefers HTML to JSON (a browser's navigation); `*/*` alone is JSON,
/// and so is any request carrying an API credential (a bearer token or an API key), whatever
/// its `Accept` says (some HTTP clients prefer `text/html` by default)
pub(crate) fn prefers_html(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-api-key") {
        return false;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let weight = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';').map(str::trim);
                let media = pieces.next()?;
                let q = pieces
                    .find_map(|p| p.strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (media.eq_ignore_ascii_case(wanted)).then_some(q)
            })
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    match (weight("text/html"), weight("application/json")) {
        (Some(html), Some(json)) => html > json,
        (Some(html), None) => html > 0.0,
        _ => false,
    }
}

fn with_vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// `GET /documents`: the page for a browser, the JSON list otherwise
pub(crate) async fn negotiated_list(State(state): State<AppState>, request: Request) -> Response {
    if prefers_html(request.headers()) {
        let jar = CookieJar::from_headers(request.headers());
        let query = request.uri().query().unwrap_or_default().to_owned();
        return with_vary(list_page(&state, &jar, &query, None).await);
    }
    with_vary(
        crate::routes::documents::get_documents
            .call(request, state)
            .await,
    )
}

/// `GET /documents/{id}`: the page for a browser, the JSON document otherwise
pub(crate) async fn negotiated_document(
    State(state): State<AppState>,
    request: Request,
) -> Response {
    if prefers_html(request.headers()) {
        let jar = CookieJar::from_headers(request.headers());
        let id = request
            .uri()
            .path()
            .trim_start_matches("/documents/")
            .to_owned();
        return with_vary(document_page(&state, &jar, &id, StatusCode::OK, None).await);
    }
    with_vary(
        crate::routes::documents::get_document
            .call(request, state)
            .await,
    )
}

struct ListItem {
    id: String,
    title: String,
    org: String,
    published: bool,
    updated: String,
}

struct OrgChoice {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "documents.html")]
struct ListPage {
    form_token: String,
    items: Vec<ListItem>,
    q: String,
    published: String,
    orgs: Vec<OrgChoice>,
    creatable: Vec<OrgChoice>,
    next: Option<String>,
    create_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "document.html")]
struct DocumentPage {
    form_token: String,
    doc: Document,
    org: String,
    updated: String,
    actions: DocumentActions,
    sharees: Vec<Sharee>,
    error: Option<(&'static str, String)>,
}

fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn list_page(
    state: &AppState,
    jar: &CookieJar,
    query: &str,
    create_error: Option<String>,
) -> Response {
    let here = if query.is_empty() {
        "/documents".to_owned()
    } else {
        format!("/documents?{query}")
    };
    let user = match page_user(state, jar, &here).await {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let non_empty =
        |name: &str| Some(query_value(&pairs, name).to_owned()).filter(|v| !v.is_empty());
    let published = match query_value(&pairs, "published") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let filters = DocumentQuery {
        org: non_empty("org"),
        q: non_empty("q").filter(|q| !q.chars().any(char::is_control)),
        published,
        cursor: non_empty("cursor").filter(|c| c.parse::<uuid::Uuid>().is_ok()),
    };
    let selected_org = filters.org.clone().unwrap_or_default();
    let q = filters.q.clone().unwrap_or_default();
    let loaded = async {
        let orgs = state.svc.list_my_orgs(user.principal()).await?;
        let (docs, next) = state
            .svc
            .list_documents(user.principal(), filters, 20)
            .await?;
        Ok::<_, ServiceError>((orgs, docs, next))
    }
    .await;
    let (orgs, docs, next) = match loaded {
        Ok(loaded) => loaded,
        Err(ServiceError::NotFound) => (Vec::new(), Vec::new(), None),
        Err(err) => return failure_page(&err),
    };
    let org_name = |id: &str| {
        orgs.iter()
            .find(|o| o.id.to_string() == id)
            .map_or_else(|| id.to_owned(), |o| o.name.clone())
    };
    let items = docs
        .into_iter()
        .map(|d| ListItem {
            org: org_name(&d.org_id),
            updated: when(d.updated_at),
            id: d.id,
            title: d.title,
            published: d.published,
        })
        .collect();
    let next = next.map(|cursor| {
        let mut kept: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        kept.push(("cursor".to_owned(), cursor));
        format!(
            "/documents?{}",
            serde_urlencoded::to_string(&kept).unwrap_or_default()
        )
    });
    let choice = |o: &clouddocs_service::Org| OrgChoice {
        id: o.id.to_string(),
        name: o.name.clone(),
        selected: o.id.to_string() == selected_org,
    };
    let status = if create_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        status,
        ListPage {
            form_token: user.form_token.clone(),
            items,
            q,
            published: match published {
                Some(true) => "true".to_owned(),
                Some(false) => "false".to_owned(),
                None => String::new(),
            },
            creatable: orgs
                .iter()
                .filter(|o| matches!(o.role, OrgRole::Admin | OrgRole::Editor))
                .map(choice)
                .collect(),
            orgs: orgs.iter().map(choice).collect(),
            next,
            create_error,
        },
    )
}

async fn document_page(
    state: &AppState,
    jar: &CookieJar,
    id: &str,
    status: StatusCode,
    error: Option<(&'static str, String)>,
) -> Response {
    let user = match page_user(state, jar, &format!("/documents/{id}")).await {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    render_document(state, &user, id, status, error).await
}

async fn render_document(
    state: &AppState,
    user: &PageUser,
    id: &str,
    status: StatusCode,
    error: Option<(&'static str, String)>,
) -> Response {
    let Ok(doc_id) = id.parse::<DocumentId>() else {
        return not_found();
    };
    let (doc, actions, sharees) = match state.svc.document_page(user.principal(), &doc_id).await {
        Ok(found) => found,
        Err(ServiceError::NotFound) => return not_found(),
        Err(err) => return failure_page(&err),
    };
    let orgs = state
        .svc
        .list_my_orgs(user.principal())
        .await
        .unwrap_or_default();
    let org = orgs
        .iter()
        .find(|o| o.id.to_string() == doc.org_id)
        .map_or_else(|| doc.org_id.clone(), |o| o.name.clone());
    page(
        status,
        DocumentPage {
            form_token: user.form_token.clone(),
            org,
            updated: when(doc.updated_at),
            doc,
            actions,
            sharees,
            error,
        },
    )
}

/// A hidden document and a missing one: the same page
fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "There is no such document, or you may not see it.",
    )
}

/// The answer to a refused page action on document `id`: the page with the error next to
/// `field`, the 403 or 404 page, or the failure page
async fn refused(
    state: &AppState,
    user: &PageUser,
    id: &str,
    field: &'static str,
    err: ServiceError,
) -> Response {
    match err {
        ServiceError::NotFound => not_found(),
        ServiceError::Denied(_)
        | ServiceError::Forbidden(_)
        | ServiceError::InsufficientScope(_) => error_page(StatusCode::FORBIDDEN, &err.to_string()),
        ServiceError::Validation(v) => {
            render_document(
                state,
                user,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((field, v.to_string())),
            )
            .await
        }
        err @ ServiceError::Conflict(_) => {
            render_document(
                state,
                user,
                id,
                StatusCode::CONFLICT,
                Some((field, err.to_string())),
            )
            .await
        }
        err => failure_page(&err),
    }
}

macro_rules! form_user_or_return {
    ($state:expr, $jar:expr, $fields:expr) => {
        match form_user(&$state, &$jar, $fields.csrf()).await {
            Ok(user) => user,
            Err(refused) => return refused,
        }
    };
}

async fn post_create(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let Ok(org) = fields.get("org").parse::<OrgId>() else {
        return list_page(
            &state,
            &jar,
            "",
            Some("Choose one of your organizations.".to_owned()),
        )
        .await;
    };
    match state
        .svc
        .create_document(
            user.principal(),
            &org,
            fields.get("title"),
            fields.get("body"),
            fields.get("published") == "true",
        )
        .await
    {
        Ok(doc) => see_other(&format!("/documents/{}", doc.id)),
        Err(ServiceError::Validation(v)) => list_page(&state, &jar, "", Some(v.to_string())).await,
        Err(ServiceError::NotFound) => not_found(),
        Err(
            err @ (ServiceError::Forbidden(_)
            | ServiceError::Denied(_)
            | ServiceError::InsufficientScope(_)),
        ) => error_page(StatusCode::FORBIDDEN, &err.to_string()),
        Err(err) => failure_page(&err),
    }
}

fn document_id(id: &str) -> Option<DocumentId> {
    id.parse().ok()
}

async fn post_edit(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let Some(doc_id) = document_id(&id) else {
        return not_found();
    };
    let patch = DocumentPatch {
        title: Some(fields.get("title").to_owned()),
        body: Some(fields.get("body").to_owned()),
        published: Some(fields.get("published") == "true"),
    };
    match state
        .svc
        .update_document(user.principal(), &doc_id, patch)
        .await
    {
        Ok(_) => see_other(&format!("/documents/{id}")),
        Err(err) => refused(&state, &user, &id, "edit", err).await,
    }
}

async fn post_share(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let Some(doc_id) = document_id(&id) else {
        return not_found();
    };
    match state
        .svc
        .share_document(
            user.principal(),
            &doc_id,
            fields.get("email").trim(),
            fields.get("role"),
        )
        .await
    {
        Ok(()) => see_other(&format!("/documents/{id}")),
        Err(ServiceError::NotFound) => {
            // The document is readable (it rendered); the person is not someone it can be
            // shared with: say so next to the field, as the API's 404 means.
            render_document(
                &state,
                &user,
                &id,
                StatusCode::NOT_FOUND,
                Some((
                    "share",
                    "No member of this organization has that email.".to_owned(),
                )),
            )
            .await
        }
        Err(err) => refused(&state, &user, &id, "share", err).await,
    }
}

async fn post_unshare(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let Some(doc_id) = document_id(&id) else {
        return not_found();
    };
    match state
        .svc
        .unshare_document(user.principal(), &doc_id, fields.get("user"))
        .await
    {
        Ok(()) => see_other(&format!("/documents/{id}")),
        Err(err) => refused(&state, &user, &id, "share", err).await,
    }
}

async fn post_delete(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let Some(doc_id) = document_id(&id) else {
        return not_found();
    };
    match state.svc.delete_document(user.principal(), &doc_id).await {
        Ok(()) => see_other("/documents"),
        Err(err) => refused(&state, &user, &id, "delete", err).await,
    }
}
