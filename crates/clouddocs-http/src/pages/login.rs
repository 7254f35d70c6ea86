//! `GET /login` and `POST /login`: the sign-in form of the authorization flow. Before there
//! is a session, CSRF is a double-submit token: a random cookie that the form must repeat.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use clouddocs_auth::token;
use clouddocs_service::mfa::{Proof, SignIn};
use clouddocs_service::{LoginOutcome, ServiceError};
use serde::Deserialize;

use super::{page, safe_next, see_other};
use crate::extract::ClientMeta;
use crate::routes::auth::session_cookie;
use crate::state::{AppState, HttpSettings};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    passkeys: bool,
    csrf_token: &'a str,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "login_mfa.html")]
struct SecondFactorPage<'a> {
    csrf_token: &'a str,
    mfa_token: &'a str,
    next: &'a str,
    next_encoded: &'a str,
    totp: bool,
    passkey: bool,
    error: Option<&'a str>,
}

/// The second-factor form
#[derive(Debug, Deserialize)]
pub(crate) struct SecondFactorForm {
    mfa_token: String,
    code: String,
    #[serde(default)]
    csrf_token: String,
    next: Option<String>,
}

/// `?next=`
#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// The sign-in form
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
    next: Option<String>,
}

/// Which signed-out form a double-submit cookie belongs to: each has its own, so opening
/// one (the JWT inspector in another tab) never invalidates the other (a sign-in in progress)
#[derive(Debug, Clone, Copy)]
pub(super) enum FormCookie {
    /// `/login` and its second-factor step
    SignIn,
    /// `/tools/jwt`
    Tools,
}

fn csrf_cookie_name(settings: &HttpSettings, which: FormCookie) -> &'static str {
    match (which, settings.dev) {
        (FormCookie::SignIn, true) => "clouddocs-login",
        (FormCookie::SignIn, false) => "__Host-clouddocs-login",
        (FormCookie::Tools, true) => "clouddocs-tools",
        (FormCookie::Tools, false) => "__Host-clouddocs-tools",
    }
}

/// Renders a signed-out form with a fresh double-submit token (cookie and field)
pub(super) fn with_csrf(
    state: &AppState,
    status: StatusCode,
    which: FormCookie,
    form: impl FnOnce(&str) -> Response,
) -> Response {
    let Ok(csrf) = token::random_token(32) else {
        return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "try again later");
    };
    let cookie = Cookie::build((csrf_cookie_name(&state.settings, which), csrf.clone()))
        .http_only(true)
        .secure(!state.settings.dev)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::minutes(30))
        .build();
    let mut response = form(&csrf);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Renders the password form
fn render(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    with_csrf(state, status, FormCookie::SignIn, |csrf| {
        page(
            status,
            LoginPage {
                passkeys: state.svc.passkeys().enabled(),
                csrf_token: csrf,
                next: safe_next(next),
                email,
                error,
            },
        )
    })
}

/// What the second-factor form shows
struct SecondStep<'a> {
    mfa_token: &'a str,
    next: &'a str,
    totp: bool,
    passkey: bool,
}

/// Renders the second-factor form
fn render_second_factor(
    state: &AppState,
    status: StatusCode,
    step: &SecondStep<'_>,
    error: Option<&str>,
) -> Response {
    let next = safe_next(step.next);
    let next_encoded = super::url_encode(next);
    with_csrf(state, status, FormCookie::SignIn, |csrf| {
        page(
            status,
            SecondFactorPage {
                csrf_token: csrf,
                mfa_token: step.mfa_token,
                next,
                next_encoded: &next_encoded,
                totp: step.totp,
                passkey: step.passkey,
                error,
            },
        )
    })
}

/// Whether the double-submit token of a form matches its cookie
pub(super) fn csrf_ok(
    state: &AppState,
    jar: &CookieJar,
    which: FormCookie,
    presented: &str,
) -> bool {
    let expected = jar
        .get(csrf_cookie_name(&state.settings, which))
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    !expected.is_empty()
        && token::constant_time_eq(&token::digest(&expected), &token::digest(presented))
}

/// The answer to a refused sign-in step that is not the user's mistake: a limit, an
/// outage, a failure
fn refused_step(err: &ServiceError, rerender: impl Fn(StatusCode, &str) -> Response) -> Response {
    match err {
        ServiceError::TooManyAttempts { retry_after_secs } => {
            let mut page = rerender(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Try again later.",
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            page
        }
        err if crate::problem::is_outage(err) => {
            tracing::error!(error = %err, "sign-in page: a dependency is down");
            let mut page = rerender(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is temporarily unavailable. Try again in a moment.",
            );
            page.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::problem::UNAVAILABLE_RETRY_AFTER_SECS),
            );
            page
        }
        err => {
            tracing::error!(error = %err, "sign-in page failed");
            rerender(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Try again later.",
            )
        }
    }
}

/// The session cookie set, the double-submit cookie cleared, and on to `next`
fn signed_in(state: &AppState, outcome: LoginOutcome, next: &str) -> Response {
    let max_age = i64::try_from(state.svc.config().session_absolute.as_secs()).unwrap_or(i64::MAX);
    let cookie = session_cookie(&state.settings, outcome.session_token, max_age);
    let cleared = Cookie::build((csrf_cookie_name(&state.settings, FormCookie::SignIn), ""))
        .http_only(true)
        .secure(!state.settings.dev)
        .path("/")
        .max_age(time::Duration::ZERO)
        .build();
    let mut response = see_other(safe_next(next));
    for c in [cookie.to_string(), cleared.to_string()] {
        if let Ok(value) = HeaderValue::from_str(&c) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The sign-in page
pub(crate) async fn get_login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    render(
        &state,
        StatusCode::OK,
        query.next.as_deref().unwrap_or(super::AFTER_LOGIN),
        "",
        None,
    )
}

/// Signs in and continues the authorization flow; an account with a second factor gets
/// the second-factor form first
pub(crate) async fn post_login_form(
    State(state): State<AppState>,
    client: ClientMeta,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = form.next.as_deref().unwrap_or(super::AFTER_LOGIN);
    if !csrf_ok(&state, &jar, FormCookie::SignIn, &form.csrf_token) {
        return render(
            &state,
            StatusCode::FORBIDDEN,
            next,
            &form.email,
            Some("The form expired. Please sign in again."),
        );
    }
    let result = state
        .svc
        .login(&form.email, &form.password, client.addr, client.user_agent)
        .await;
    match result {
        Ok(SignIn::Complete(outcome)) => signed_in(&state, outcome, next),
        Ok(SignIn::SecondFactor(challenge)) => {
            let step = SecondStep {
                mfa_token: &challenge.mfa_token,
                next,
                totp: challenge.methods.contains(&"totp"),
                passkey: challenge.methods.contains(&"webauthn"),
            };
            render_second_factor(&state, StatusCode::OK, &step, None)
        }
        Err(ServiceError::InvalidCredentials) => render(
            &state,
            StatusCode::UNAUTHORIZED,
            next,
            &form.email,
            Some("Invalid email or password."),
        ),
        Err(err) => refused_step(&err, |status, message| {
            render(&state, status, next, &form.email, Some(message))
        }),
    }
}

/// The second factor of the sign-in form (a TOTP code or a recovery code), then on with
/// the authorization flow
pub(crate) async fn post_login_mfa(
    State(state): State<AppState>,
    client: ClientMeta,
    jar: CookieJar,
    Form(form): Form<SecondFactorForm>,
) -> Response {
    let next = form.next.as_deref().unwrap_or(super::AFTER_LOGIN);
    if !csrf_ok(&state, &jar, FormCookie::SignIn, &form.csrf_token) {
        return render(
            &state,
            StatusCode::FORBIDDEN,
            next,
            "",
            Some("The form expired. Please sign in again."),
        );
    }
    let code = form.code.trim();
    let proof = if code.chars().filter(char::is_ascii_digit).count() == 6 && code.len() <= 8 {
        Proof::Totp(code.to_owned())
    } else {
        Proof::RecoveryCode(code.to_owned())
    };
    let result = state
        .svc
        .complete_sign_in(&form.mfa_token, proof, client.addr, client.user_agent)
        .await;
    let step = SecondStep {
        mfa_token: &form.mfa_token,
        next,
        totp: true,
        passkey: false,
    };
    match result {
        Ok(outcome) => signed_in(&state, outcome, next),
        Err(ServiceError::InvalidSecondFactor) => render_second_factor(
            &state,
            StatusCode::UNAUTHORIZED,
            &step,
            Some(
                "That code is not valid. Try the current code; after three wrong codes, start over.",
            ),
        ),
        Err(err) => refused_step(&err, |status, message| {
            render_second_factor(&state, status, &step, Some(message))
        }),
    }
}
