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
use clouddocs_service::ServiceError;
use serde::Deserialize;

use super::{page, safe_next, see_other};
use crate::extract::ClientMeta;
use crate::routes::auth::session_cookie;
use crate::state::{AppState, HttpSettings};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf_token: &'a str,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
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
    csrf_token: String,
    next: Option<String>,
}

fn csrf_cookie_name(settings: &HttpSettings) -> &'static str {
    if settings.dev {
        "clouddocs-login"
    } else {
        "__Host-clouddocs-login"
    }
}

/// Renders the form with a fresh double-submit token
fn render(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let Ok(csrf) = token::random_token(32) else {
        return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "try again later");
    };
    let cookie = Cookie::build((csrf_cookie_name(&state.settings), csrf.clone()))
        .http_only(true)
        .secure(!state.settings.dev)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::minutes(30))
        .build();
    let mut response = page(
        status,
        LoginPage {
            csrf_token: &csrf,
            next: safe_next(next),
            email,
            error,
        },
    );
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
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

/// Signs in and continues the authorization flow
pub(crate) async fn post_login_form(
    State(state): State<AppState>,
    client: ClientMeta,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = form.next.as_deref().unwrap_or(super::AFTER_LOGIN);
    let expected = jar
        .get(csrf_cookie_name(&state.settings))
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty()
        || !token::constant_time_eq(&token::digest(&expected), &token::digest(&form.csrf_token))
    {
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
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(ServiceError::TooManyAttempts { retry_after_secs }) => {
            let mut page = render(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                next,
                &form.email,
                Some("Too many attempts. Try again later."),
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return page;
        }
        Err(ServiceError::InvalidCredentials) => {
            return render(
                &state,
                StatusCode::UNAUTHORIZED,
                next,
                &form.email,
                Some("Invalid email or password."),
            );
        }
        Err(err) if crate::problem::is_outage(&err) => {
            tracing::error!(error = %err, "sign-in page: a dependency is down");
            let mut page = render(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                next,
                &form.email,
                Some("Sign-in is temporarily unavailable. Try again in a moment."),
            );
            page.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::problem::UNAVAILABLE_RETRY_AFTER_SECS),
            );
            return page;
        }
        Err(err) => {
            tracing::error!(error = %err, "sign-in page failed");
            return render(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                next,
                &form.email,
                Some("Something went wrong. Try again later."),
            );
        }
    };
    let max_age = i64::try_from(state.svc.config().session_absolute.as_secs()).unwrap_or(i64::MAX);
    let cookie = session_cookie(&state.settings, outcome.session_token, max_age);
    let cleared = Cookie::build((csrf_cookie_name(&state.settings), ""))
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
