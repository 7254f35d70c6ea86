//! `GET /consent` and `POST /consent`: the user allows or denies a client's request. The
//! request is validated again on every step, so nothing the browser carries is trusted.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use clouddocs_auth::token;
use clouddocs_domain::Scope;
use clouddocs_service::oauth::{AuthorizeError, AuthorizeParams};
use serde::Deserialize;

use super::{error_page, login_location, page, see_other, session_cookie, session_form_token};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    client_name: &'a str,
    redirect_uri: &'a str,
    scopes: Vec<(&'static str, &'static str)>,
    fields: Vec<(&'static str, String)>,
    csrf_token: &'a str,
}

/// The consent form: the authorization request, the CSRF token and the decision
#[derive(Debug, Deserialize)]
pub(crate) struct ConsentForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    decision: String,
}

fn describe(scope: Scope) -> &'static str {
    match scope {
        Scope::OpenId => "confirm who you are",
        Scope::Profile => "see your name",
        Scope::Email => "see your email address",
        Scope::DocumentsRead => "read your documents",
        Scope::DocumentsWrite => "create and edit documents",
        Scope::DocumentsDelete => "delete documents",
        Scope::OrgsManage => "manage your organizations",
        Scope::Admin => "administer CloudDocs",
    }
}

fn hidden_fields(p: &AuthorizeParams) -> Vec<(&'static str, String)> {
    [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("state", &p.state),
        ("nonce", &p.nonce),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("prompt", &p.prompt),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
    .collect()
}

/// Maps a refused request to the error page or the client redirect
pub(crate) fn refused(err: AuthorizeError) -> Response {
    match err {
        AuthorizeError::Page(message) => error_page(StatusCode::BAD_REQUEST, message),
        AuthorizeError::Redirect { location, .. } => see_other(&location),
        AuthorizeError::Server(err) => {
            tracing::error!(error = %err, "authorization request failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "something went wrong, try again later",
            )
        }
    }
}

/// The consent page
pub(crate) async fn get_consent(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let Ok(params) = serde_urlencoded::from_str::<AuthorizeParams>(&query) else {
        return error_page(StatusCode::BAD_REQUEST, "malformed authorization request");
    };
    let request = match state.svc.validate_authorization(&params).await {
        Ok(r) => r,
        Err(err) => return refused(err),
    };
    let Some(cookie) = session_cookie(&jar, &state) else {
        return see_other(&login_location(&format!("/consent?{query}")));
    };
    match state.svc.session_grant(&cookie).await {
        Ok(Some(_)) => {}
        Ok(None) => return see_other(&login_location(&format!("/consent?{query}"))),
        Err(err) => return refused(err.into()),
    }
    let csrf = session_form_token(&cookie);
    page(
        StatusCode::OK,
        ConsentPage {
            client_name: request.client.name(),
            redirect_uri: &request.redirect_uri,
            scopes: request
                .scopes
                .iter()
                .map(|s| (s.as_str(), describe(s)))
                .collect(),
            fields: hidden_fields(&params),
            csrf_token: &csrf,
        },
    )
}

/// The user's decision: a code on `allow`, `access_denied` on `deny`
pub(crate) async fn post_consent(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ConsentForm>,
) -> Response {
    let Some(cookie) = session_cookie(&jar, &state) else {
        return error_page(StatusCode::FORBIDDEN, "your session ended, start again");
    };
    if !token::constant_time_eq(&session_form_token(&cookie), &form.csrf_token) {
        return error_page(StatusCode::FORBIDDEN, "missing or invalid CSRF token");
    }
    let grant = match state.svc.session_grant(&cookie).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return error_page(StatusCode::FORBIDDEN, "your session ended, start again"),
        Err(err) => return refused(err.into()),
    };
    let request = match state.svc.validate_authorization(&form.params).await {
        Ok(r) => r,
        Err(err) => return refused(err),
    };
    match form.decision.as_str() {
        "allow" => match state
            .svc
            .issue_authorization_code(&grant, &request, true)
            .await
        {
            Ok(location) => see_other(&location),
            Err(err) => refused(err.into()),
        },
        _ => see_other(&state.svc.deny_authorization(&request)),
    }
}
