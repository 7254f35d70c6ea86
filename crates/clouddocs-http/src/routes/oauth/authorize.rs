//! `GET /oauth/authorize`: the authorization endpoint of the code flow.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use clouddocs_service::oauth::AuthorizeParams;

use crate::pages::{error_page, login_location, see_other, session_cookie};
use crate::state::AppState;

/// Start an authorization code flow (OpenID Connect Core §3.1.2).
///
/// An unknown client or a `redirect_uri` that is not registered for it exactly shows an
/// error page and never redirects. Other errors redirect to the client with `error`
/// (RFC 6749 §4.1.2.1). PKCE S256 is required. Without a session the browser goes to
/// `/login`, then to `/consent` unless the user already consented to these scopes or the
/// client is first-party; then back to `redirect_uri` with `code`, `state` and `iss`.
/// With `prompt=none` no page is shown: `login_required` or `consent_required` instead.
///
/// **Permissions**: anyone; the code is issued for the signed-in user.
#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth",
    params(
        ("response_type" = String, Query, description = "`code`"),
        ("client_id" = String, Query, description = "Registered client id"),
        ("redirect_uri" = String, Query, description = "Exactly one of the client's redirect URIs"),
        ("scope" = String, Query, description = "Space-separated scopes, e.g. `openid profile email`"),
        ("state" = Option<String>, Query, description = "Opaque client state, echoed back"),
        ("nonce" = Option<String>, Query, description = "Copied into the ID token"),
        ("code_challenge" = String, Query, description = "PKCE challenge, BASE64URL(SHA256(verifier))"),
        ("code_challenge_method" = String, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`none`: never show a page"),
    ),
    responses(
        (status = 303, description = "To `/login`, `/consent`, or the client's `redirect_uri` with `code` or `error`"),
        (status = 400, description = "Unknown client or unregistered `redirect_uri`: an HTML error page, no redirect"),
    ))]
pub async fn get_authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    // A repeated parameter is malformed (RFC 6749 §3.1) and fails to parse.
    let Ok(params) = serde_urlencoded::from_str::<AuthorizeParams>(&query) else {
        return error_page(StatusCode::BAD_REQUEST, "malformed authorization request");
    };
    let request = match state.svc.validate_authorization(&params).await {
        Ok(r) => r,
        Err(err) => return crate::pages::consent_refused(err),
    };
    let here = format!("/oauth/authorize?{query}");
    let sign_in = || {
        if request.prompt_none {
            let location = state.svc.authorization_error_location(
                &request,
                "login_required",
                "the user is not signed in",
            );
            see_other(&location)
        } else {
            see_other(&login_location(&here))
        }
    };
    let Some(cookie) = session_cookie(&jar, &state) else {
        return sign_in();
    };
    let grant = match state.svc.session_grant(&cookie).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return sign_in(),
        Err(err) => return crate::pages::consent_refused(err.into()),
    };
    let user_id = grant.session.principal.user_id.to_string();
    match state.svc.needs_consent(&user_id, &request).await {
        Ok(true) if request.prompt_none => {
            return see_other(&state.svc.authorization_error_location(
                &request,
                "consent_required",
                "the user has not consented to this client",
            ));
        }
        Ok(true) => return see_other(&format!("/consent?{query}")),
        Ok(false) => {}
        Err(err) => return crate::pages::consent_refused(err.into()),
    }
    match state
        .svc
        .issue_authorization_code(&grant, &request, false)
        .await
    {
        Ok(location) => see_other(&location),
        Err(err) => crate::pages::consent_refused(err.into()),
    }
}
