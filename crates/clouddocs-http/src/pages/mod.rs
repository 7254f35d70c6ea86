//! Server-rendered pages of the OpenID Connect provider: `/login` and `/consent`, plus the
//! error page the authorization endpoint shows instead of redirecting to an untrusted
//! address. Templates live in `templates/` (askama, autoescaped, checked at compile time);
//! forms work without JavaScript and carry a CSRF token.

mod consent;
mod login;

pub(crate) use consent::refused as consent_refused;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use clouddocs_auth::token;

use crate::state::AppState;

/// The pages' CSP: scripts only from this server's own files (no inline script), which
/// may call only this origin; inline style; never framed
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
    style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The passkey script of the sign-in pages, served from the binary
const PASSKEYS_JS: &str = include_str!("../../assets/passkeys.js");

async fn passkeys_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        PASSKEYS_JS,
    )
        .into_response()
}

/// `/login` and `/consent`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::get_login).post(login::post_login_form))
        .route("/login/mfa", axum::routing::post(login::post_login_mfa))
        .route("/assets/passkeys.js", get(passkeys_js))
        .route(
            "/consent",
            get(consent::get_consent).post(consent::post_consent),
        )
}

/// A page answer: the status, the page CSP and `no-store`
pub(crate) fn page(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The error page (400): the request cannot continue and the browser stays here
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub(crate) message: &'a str,
}

/// Shows the error page
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    page(status, ErrorPage { message })
}

/// A 303 to `location`
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "invalid redirect address"),
    }
}

/// The session cookie's secret, if the browser sent one
pub(crate) fn session_cookie(jar: &CookieJar, state: &AppState) -> Option<String> {
    jar.get(state.settings.cookie_name())
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// The consent form's CSRF token: derived from the session secret, so it is bound to the
/// session and unknowable without the cookie
pub(crate) fn session_form_token(cookie_secret: &str) -> String {
    token::digest(&format!("consent-form:{cookie_secret}"))
}

/// `/login?next=…` for a page that needs a signed-in user
pub(crate) fn login_location(next: &str) -> String {
    let encoded: String = url_encode(next);
    format!("/login?next={encoded}")
}

pub(crate) fn url_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Where a sign-in may continue: only back into the authorization flow on this origin
/// (the fixed path prefix means nothing later in the query can change the target)
pub(crate) fn safe_next(next: &str) -> &str {
    if next.starts_with("/oauth/authorize?") || next.starts_with("/consent?") {
        next
    } else {
        AFTER_LOGIN
    }
}

/// Where `/login` sends a browser that named no `next` (or one that is not followed): the
/// API browser, which is a page that exists for every signed-in user
pub(crate) const AFTER_LOGIN: &str = "/docs/";

#[cfg(test)]
mod redirect_tests {
    use super::safe_next;

    #[test]
    fn after_login_only_the_authorize_and_consent_pages_are_followed() {
        assert_eq!(
            safe_next("/oauth/authorize?client_id=c&state=s"),
            "/oauth/authorize?client_id=c&state=s"
        );
        assert_eq!(safe_next("/consent?request=r"), "/consent?request=r");
        for hostile in [
            "https://evil.example/",
            "//evil.example/oauth/authorize?",
            "/\\evil.example",
            "javascript:alert(1)",
            "/admin/users",
            "",
        ] {
            assert_eq!(safe_next(hostile), super::AFTER_LOGIN, "{hostile}");
        }
    }
}
