//! `/tools/jwt` (the JWT inspector) and `/tools/access` (the access simulator). Both run
//! the server's own code: the token verifier and denylist, and the decision path of
//! `POST /authz/check`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum_extra::extract::CookieJar;
use clouddocs_service::ServiceError;
use serde_json::Value;

use super::form::Fields;
use super::login::{FormCookie, csrf_ok, with_csrf};
use super::{PageUser, failure_page, form_user, page, page_user};
use crate::state::AppState;

/// `/tools/jwt`, `/tools/access`
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/tools/jwt", get(get_jwt).post(post_jwt))
        .route("/tools/access", get(get_access).post(post_access))
}

/// One claim as the inspector shows it: times also as a date and a relative time
struct ClaimRow {
    name: String,
    value: String,
    when: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "jwt.html")]
struct JwtPage<'a> {
    csrf_token: &'a str,
    inspected: bool,
    accepted: bool,
    header: String,
    claims: Vec<ClaimRow>,
    reasons: Vec<String>,
    error: Option<&'a str>,
}

fn relative(seconds: i64) -> String {
    let magnitude = seconds.unsigned_abs();
    let amount = match magnitude {
        0..=119 => format!("{magnitude} s"),
        120..=7_199 => format!("{} min", magnitude / 60),
        7_200..=172_799 => format!("{} h", magnitude / 3600),
        _ => format!("{} days", magnitude / 86_400),
    };
    if seconds >= 0 {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

fn claim_rows(claims: Option<&Value>) -> Vec<ClaimRow> {
    let now = clouddocs_service::now_ms() / 1000;
    let Some(object) = claims.and_then(Value::as_object) else {
        return Vec::new();
    };
    object
        .iter()
        .map(|(name, value)| {
            let when = ["exp", "iat", "nbf", "auth_time"]
                .contains(&name.as_str())
                .then(|| value.as_i64())
                .flatten()
                .map(|t| {
                    format!(
                        "{} ({})",
                        super::when(t.saturating_mul(1000)),
                        relative(t.saturating_sub(now))
                    )
                });
            ClaimRow {
                name: name.clone(),
                value: match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                when,
            }
        })
        .collect()
}

fn jwt_page(state: &AppState, status: StatusCode, body: JwtPage<'_>) -> Response {
    let _ = state;
    page(status, body)
}

async fn get_jwt(State(state): State<AppState>) -> Response {
    with_csrf(&state, StatusCode::OK, FormCookie::Tools, |csrf| {
        jwt_page(
            &state,
            StatusCode::OK,
            JwtPage {
                csrf_token: csrf,
                inspected: false,
                accepted: false,
                header: String::new(),
                claims: Vec::new(),
                reasons: Vec::new(),
                error: None,
            },
        )
    })
}

/// The verdict on a pasted token. POST only, so the token never lands in a URL; it is not
/// logged, stored, audited or echoed back.
async fn post_jwt(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let empty = |status: StatusCode, error: &'static str| {
        with_csrf(&state, status, FormCookie::Tools, |csrf| {
            jwt_page(
                &state,
                status,
                JwtPage {
                    csrf_token: csrf,
                    inspected: false,
                    accepted: false,
                    header: String::new(),
                    claims: Vec::new(),
                    reasons: Vec::new(),
                    error: Some(error),
                },
            )
        })
    };
    if !csrf_ok(&state, &jar, FormCookie::Tools, fields.csrf()) {
        return empty(
            StatusCode::FORBIDDEN,
            "The form expired. Paste the token again.",
        );
    }
    let token = fields.get("token");
    if token.trim().is_empty() {
        return empty(StatusCode::UNPROCESSABLE_ENTITY, "Paste a token first.");
    }
    let inspection = match state.svc.inspect_token(token).await {
        Ok(inspection) => inspection,
        Err(err) => return failure_page(&err),
    };
    let header = inspection
        .header
        .as_ref()
        .and_then(|h| serde_json::to_string_pretty(h).ok())
        .unwrap_or_else(|| "(not decodable)".to_owned());
    with_csrf(&state, StatusCode::OK, FormCookie::Tools, |csrf| {
        jwt_page(
            &state,
            StatusCode::OK,
            JwtPage {
                csrf_token: csrf,
                inspected: true,
                accepted: inspection.accepted,
                header,
                claims: claim_rows(inspection.claims.as_ref()),
                reasons: inspection.reasons.clone(),
                error: None,
            },
        )
    })
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct PolicyShown {
    id: String,
    source: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "access.html")]
struct AccessPage {
    form_token: String,
    custom_tab: bool,
    platform_admin: bool,
    principal: String,
    actions: Vec<Choice>,
    resources: Vec<Choice>,
    context: String,
    custom: String,
    decided: bool,
    allowed: bool,
    policies: Vec<PolicyShown>,
    reasons: Vec<String>,
    scopes: String,
    needs: String,
    error: Option<(&'static str, String)>,
}

const ACTIONS: [&str; 5] = ["read", "update", "delete", "share", "manage_users"];

const CUSTOM_EXAMPLE: &str = r#"{
  "principal": {"type": "LearningPlatform::User", "id": "ines"},
  "action": {"type": "LearningPlatform::Action", "id": "upload_dataset"},
  "resource": {"type": "LearningPlatform::Dataset", "id": "calculus-2026"},
  "context": {},
  "entities": [
    {"uid": {"type": "LearningPlatform::User", "id": "ines"}, "attrs": {"premium": false},
     "parents": [{"type": "LearningPlatform::Group", "id": "instructors"}]},
    {"uid": {"type": "LearningPlatform::Group", "id": "instructors"}, "attrs": {}, "parents": []}
  ]
}"#;

/// What the form chose, kept to render it again
#[derive(Default)]
struct Chosen {
    custom_tab: bool,
    principal: String,
    action: String,
    resource: String,
    context: String,
    custom: String,
}

/// The decision shown, or an error next to the field that caused it
#[derive(Default)]
struct Outcome {
    decision: Option<clouddocs_authz::Decision>,
    needs: String,
    error: Option<(&'static str, String)>,
}

async fn render_access(
    state: &AppState,
    user: &PageUser,
    chosen: Chosen,
    outcome: Outcome,
) -> Response {
    let principal = user.principal();
    let loaded = async {
        let orgs = state.svc.list_my_orgs(principal).await?;
        let (docs, _) = state
            .svc
            .list_documents(principal, clouddocs_service::DocumentQuery::default(), 50)
            .await?;
        Ok::<_, ServiceError>((orgs, docs))
    }
    .await;
    let (orgs, docs) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => return failure_page(&err),
    };
    let mut resources: Vec<Choice> = docs
        .into_iter()
        .map(|d| {
            let value = format!("Document:{}", d.id);
            Choice {
                selected: value == chosen.resource,
                label: format!("Document “{}”", d.title),
                value,
            }
        })
        .collect();
    resources.extend(orgs.into_iter().map(|o| {
        let value = format!("Org:{}", o.id);
        Choice {
            selected: value == chosen.resource,
            label: format!("Organization “{}”", o.name),
            value,
        }
    }));
    let sources = state.svc.policy().policy_sources();
    let status = if outcome.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    // The policy text is a platform admin's to read (as `GET /admin/policies` is); others
    // see the ids of the policies that decided.
    let show_source = principal.is_platform_admin();
    let (decided, allowed, policies, reasons) = match outcome.decision {
        Some(d) => (
            true,
            d.allowed,
            d.policies
                .into_iter()
                .map(|id| PolicyShown {
                    source: sources
                        .iter()
                        .find(|(label, _)| show_source && *label == id)
                        .map(|(_, text)| text.clone())
                        .unwrap_or_default(),
                    id,
                })
                .collect(),
            d.reasons,
        ),
        None => (false, false, Vec::new(), Vec::new()),
    };
    page(
        status,
        AccessPage {
            form_token: user.form_token.clone(),
            custom_tab: chosen.custom_tab,
            platform_admin: principal.platform_admin,
            principal: chosen.principal,
            actions: ACTIONS
                .iter()
                .map(|a| Choice {
                    value: (*a).to_owned(),
                    label: (*a).to_owned(),
                    selected: chosen.action == *a,
                })
                .collect(),
            resources,
            context: chosen.context,
            custom: if chosen.custom.is_empty() {
                CUSTOM_EXAMPLE.to_owned()
            } else {
                chosen.custom
            },
            decided,
            allowed,
            policies,
            reasons,
            scopes: principal.scopes.to_string(),
            needs: outcome.needs,
            error: outcome.error,
        },
    )
}

async fn get_access(
    State(state): State<AppState>,
    jar: CookieJar,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let user = match page_user(&state, &jar, "/tools/access").await {
        Ok(user) => user,
        Err(redirect) => return redirect,
    };
    let chosen = Chosen {
        custom_tab: query.as_deref() == Some("tab=custom"),
        ..Chosen::default()
    };
    render_access(&state, &user, chosen, Outcome::default()).await
}

fn invalid(field: &'static str, message: impl Into<String>) -> Outcome {
    Outcome {
        error: Some((field, message.into())),
        ..Outcome::default()
    }
}

/// Decides the form's question through the path of `POST /authz/check`
async fn post_access(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let user = match form_user(&state, &jar, fields.csrf()).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let chosen = Chosen {
        custom_tab: fields.get("tab") == "custom",
        principal: fields.get("principal").trim().to_owned(),
        action: fields.get("action").to_owned(),
        resource: fields.get("resource").to_owned(),
        context: fields.get("context").to_owned(),
        custom: fields.get("custom").to_owned(),
    };
    let body = if chosen.custom_tab {
        serde_json::from_str::<crate::routes::authz::CheckBody>(&chosen.custom)
            .map_err(|e| invalid("custom", format!("not a check request: {e}")))
    } else {
        build_body(&chosen)
    };
    let body = match body {
        Ok(body) => body,
        Err(outcome) => return render_access(&state, &user, chosen, outcome).await,
    };
    let needs = match (chosen.custom_tab, chosen.action.as_str()) {
        (true, _) => String::new(),
        (false, "manage_users") => "orgs:manage".to_owned(),
        (false, "read") => "documents:read".to_owned(),
        (false, "update" | "share") => "documents:write".to_owned(),
        (false, "delete") => "documents:delete".to_owned(),
        _ => String::new(),
    };
    let outcome = match state
        .svc
        .check(user.principal(), crate::routes::authz::check_request(body))
        .await
    {
        Ok(decision) => Outcome {
            decision: Some(decision),
            needs,
            error: None,
        },
        Err(ServiceError::Validation(v)) => invalid(
            if chosen.custom_tab { "custom" } else { "form" },
            v.to_string(),
        ),
        Err(ServiceError::NotFound) => invalid("principal", "no such user"),
        Err(err @ ServiceError::Forbidden(_)) => invalid("principal", err.to_string()),
        Err(err) => return failure_page(&err),
    };
    render_access(&state, &user, chosen, outcome).await
}

/// The `/authz/check` body of the simple tab
fn build_body(chosen: &Chosen) -> Result<crate::routes::authz::CheckBody, Outcome> {
    let resource = match chosen.resource.split_once(':') {
        Some(("Document", id)) => ("CloudDocs::Document", id),
        Some(("Org", id)) => ("CloudDocs::Org", id),
        _ => return Err(invalid("resource", "choose a document or an organization")),
    };
    let (resource_type, resource_id) = resource;
    if !ACTIONS.contains(&chosen.action.as_str()) {
        return Err(invalid("action", "choose an action"));
    }
    let context: Value = match chosen.context.trim() {
        "" => Value::Null,
        raw => {
            serde_json::from_str(raw).map_err(|e| invalid("context", format!("not JSON: {e}")))?
        }
    };
    let mut body = serde_json::Map::new();
    body.insert("action".to_owned(), Value::from(chosen.action.clone()));
    body.insert(
        "resource".to_owned(),
        serde_json::json!({"type": resource_type, "id": resource_id}),
    );
    if !chosen.principal.is_empty() {
        body.insert(
            "principal".to_owned(),
            serde_json::json!({"type": "CloudDocs::User", "id": chosen.principal}),
        );
    }
    if !context.is_null() {
        body.insert("context".to_owned(), context);
    }
    let body = Value::Object(body);
    serde_json::from_value(body).map_err(|e| invalid("form", e.to_string()))
}
