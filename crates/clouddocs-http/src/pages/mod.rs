//! Server-rendered pages of the OpenID Connect provider: `/login` and `/consent`, plus the
//! error page the authorization endpoint shows instead of redirecting to an untrusted
//! address. Templates live in `templates/` (askama, autoescaped, checked at compile time);
//! forms work without JavaScript and carry a CSRF token.

mod account;
mod consent;
pub(crate) mod documents;
mod form;
mod login;
mod tools;

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
    style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The pages' stylesheet and their one general script (copy buttons, the live JWT decode)
const STYLE_CSS: &str = include_str!("../../assets/style.css");
const PAGES_JS: &str = include_str!("../../assets/pages.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The passkey script of the sign-in pages, served from the binary
const PASSKEYS_JS: &str = include_str!("../../assets/passkeys.js");

async fn passkeys_js() -> Response {
    asset("text/javascript; charset=utf-8", PASSKEYS_JS)
}

async fn pages_js() -> Response {
    asset("text/javascript; charset=utf-8", PAGES_JS)
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

/// `/login` and `/consent`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::get_login).post(login::post_login_form))
        .route("/login/mfa", axum::routing::post(login::post_login_mfa))
        .route("/assets/passkeys.js", get(passkeys_js))
        .route("/assets/pages.js", get(pages_js))
        .route("/assets/style.css", get(style_css))
        .merge(account::router())
        .merge(documents::router())
        .merge(tools::router())
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
    pub(crate) heading: &'a str,
    pub(crate) message: &'a str,
}

/// Shows the error page
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        s if s.is_server_error() => "Something went wrong",
        _ => "This request cannot continue",
    };
    page(status, ErrorPage { heading, message })
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

/// Where a sign-in may continue: back into the authorization flow, or to one of the pages,
/// on this origin only (a fixed path prefix, and nothing that a browser could read as
/// another host: no `//`, no backslash, no control character)
pub(crate) fn safe_next(next: &str) -> &str {
    const PREFIXES: [&str; 5] = [
        "/oauth/authorize?",
        "/consent?",
        "/account",
        "/documents",
        "/tools/",
    ];
    let same_origin =
        !next.contains('\\') && !next.starts_with("//") && !next.chars().any(char::is_control);
    if same_origin && PREFIXES.iter().any(|p| next.starts_with(p)) {
        next
    } else {
        AFTER_LOGIN
    }
}

/// Where `/login` sends a browser that named no `next` (or one that is not followed)
pub(crate) const AFTER_LOGIN: &str = "/account";

/// A signed-in browser on a page: the session and the token its forms carry
pub(crate) struct PageUser {
    /// The session
    pub(crate) session: clouddocs_service::SessionInfo,
    /// The form token (derived from the cookie secret, so bound to the session)
    pub(crate) form_token: String,
}

impl PageUser {
    /// The caller
    pub(crate) fn principal(&self) -> &clouddocs_domain::Principal {
        &self.session.principal
    }
}

/// The page's signed-in user, or the answer that sends the browser to sign in first
/// (`/login?next=` this page)
pub(crate) async fn page_user(
    state: &AppState,
    jar: &CookieJar,
    here: &str,
) -> Result<PageUser, Response> {
    let Some(cookie) = session_cookie(jar, state) else {
        return Err(see_other(&login_location(here)));
    };
    match state.svc.authenticate_session(&cookie).await {
        Ok(Some(session)) => Ok(PageUser {
            session,
            form_token: session_form_token(&cookie),
        }),
        Ok(None) => Err(see_other(&login_location(here))),
        Err(err) => Err(failure_page(&err)),
    }
}

/// A form post of a signed-in page: the user, once the form's token matches the session's
/// (403 page otherwise)
pub(crate) async fn form_user(
    state: &AppState,
    jar: &CookieJar,
    presented: &str,
) -> Result<PageUser, Response> {
    let Some(cookie) = session_cookie(jar, state) else {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "your session ended: sign in again",
        ));
    };
    if !token::constant_time_eq(&session_form_token(&cookie), presented) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "missing or invalid CSRF token",
        ));
    }
    match state.svc.authenticate_session(&cookie).await {
        Ok(Some(session)) => Ok(PageUser {
            session,
            form_token: session_form_token(&cookie),
        }),
        Ok(None) => Err(error_page(
            StatusCode::FORBIDDEN,
            "your session ended: sign in again",
        )),
        Err(err) => Err(failure_page(&err)),
    }
}

/// The page for a failure that is not the user's: 503 for an outage, 500 otherwise
pub(crate) fn failure_page(err: &clouddocs_service::ServiceError) -> Response {
    if crate::problem::is_outage(err) {
        tracing::error!(error = %err, "page: a dependency is down");
        let mut page = error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "CloudDocs is temporarily unavailable. Try again in a moment.",
        );
        page.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(crate::problem::UNAVAILABLE_RETRY_AFTER_SECS),
        );
        page
    } else {
        tracing::error!(error = %err, "page failed");
        error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong. Try again later.",
        )
    }
}

/// Unix milliseconds as `2026-12-04 19:30 UTC`
pub(crate) fn when(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

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
