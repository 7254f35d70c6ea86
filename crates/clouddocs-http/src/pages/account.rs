//! `/account`: profile, password, signed-in devices, API keys, TOTP and passkeys. Every
//! form posts with the session's form token and calls the same use case as the JSON API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use clouddocs_domain::{DisplayName, Password, Scopes};
use clouddocs_service::mfa::{MfaStatus, TotpEnrolment};
use clouddocs_service::{ServiceError, SessionKind};

use super::form::Fields;
use super::{PageUser, failure_page, form_user, page, page_user, see_other, when};
use crate::state::AppState;

/// `/account` and its forms
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(get_account))
        .route("/account/profile", post(post_profile))
        .route("/account/password", post(post_password))
        .route("/account/sessions/{id}/sign-out", post(post_sign_out))
        .route("/account/api-keys", post(post_api_key))
        .route("/account/api-keys/{id}/revoke", post(post_revoke_key))
        .route("/account/mfa/totp", post(post_totp))
        .route("/account/mfa/totp/confirm", post(post_totp_confirm))
        .route("/account/mfa/totp/remove", post(post_totp_remove))
        .route("/account/mfa/recovery-codes", post(post_recovery_codes))
        .route("/account/passkeys/{id}/rename", post(post_rename_passkey))
        .route("/account/passkeys/{id}/remove", post(post_remove_passkey))
}

struct DeviceRow {
    id: String,
    label: String,
    signed_in: String,
    last_seen: String,
    current: bool,
}

struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    last_used: String,
    expires: String,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
}

/// Errors shown next to the form that caused them
#[derive(Default)]
struct Errors {
    profile: Option<String>,
    password: Option<String>,
    api_key: Option<String>,
    totp: Option<String>,
    passkeys: Option<String>,
}

/// What one answer adds to the page: a notice, or a secret shown this once
#[derive(Default)]
struct Extras {
    notice: Option<String>,
    new_key: Option<String>,
    enrolment: Option<TotpEnrolment>,
    recovery_codes: Option<Vec<String>>,
    errors: Errors,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    form_token: String,
    email: String,
    display_name: String,
    devices: Vec<DeviceRow>,
    keys: Vec<KeyRow>,
    scopes: Vec<&'static str>,
    mfa: MfaStatus,
    passkeys_enabled: bool,
    passkeys: Vec<PasskeyRow>,
    notice: Option<String>,
    new_key: Option<String>,
    enrolment: Option<TotpEnrolment>,
    recovery_codes: Option<Vec<String>>,
    recovery_download: String,
    errors: Errors,
}

fn never(ms: Option<i64>) -> String {
    ms.map_or_else(|| "never".to_owned(), when)
}

/// The page for `user`, with what this answer adds
async fn render(state: &AppState, user: &PageUser, status: StatusCode, extras: Extras) -> Response {
    let principal = user.principal();
    let loaded = async {
        let me = state.svc.me(principal).await?;
        let sessions = state
            .svc
            .list_sessions(principal, Some(&user.session.session_id))
            .await?;
        let keys = state.svc.list_api_keys(principal).await?;
        let mfa = state.svc.mfa_status(principal).await?;
        let passkeys = state.svc.list_passkeys(principal).await?;
        Ok::<_, ServiceError>((me, sessions, keys, mfa, passkeys))
    }
    .await;
    let (me, sessions, keys, mfa, passkeys) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => return failure_page(&err),
    };
    let recovery_download = extras
        .recovery_codes
        .as_ref()
        .map_or_else(String::new, |codes| {
            let text = format!(
                "CloudDocs recovery codes for {}\nEach code signs in once.\n\n{}\n",
                me.email,
                codes.join("\n")
            );
            format!("data:text/plain;charset=utf-8,{}", super::url_encode(&text))
        });
    page(
        status,
        AccountPage {
            form_token: user.form_token.clone(),
            email: me.email,
            display_name: me.display_name,
            devices: sessions
                .into_iter()
                .map(|s| DeviceRow {
                    label: match s.kind {
                        SessionKind::Browser => {
                            s.user_agent.unwrap_or_else(|| "a browser".to_owned())
                        }
                        SessionKind::Api => format!(
                            "API sign-in{}",
                            s.client_id.map(|c| format!(" by {c}")).unwrap_or_default()
                        ),
                    },
                    id: s.id,
                    signed_in: when(s.created_at),
                    last_seen: when(s.last_seen_at),
                    current: s.current,
                })
                .collect(),
            keys: keys
                .into_iter()
                .map(|k| KeyRow {
                    id: k.id,
                    name: k.name,
                    prefix: k.prefix,
                    scopes: k.scopes.join(" "),
                    last_used: never(k.last_used_at),
                    expires: k.expires_at.map_or_else(|| "never".to_owned(), when),
                })
                .collect(),
            scopes: clouddocs_service::tokens::user_scopes(principal.platform_admin)
                .iter()
                .map(|s| s.as_str())
                .filter(|s| *s != "openid")
                .collect(),
            mfa,
            passkeys_enabled: state.svc.passkeys().enabled(),
            passkeys: passkeys
                .into_iter()
                .map(|p| PasskeyRow {
                    id: p.id,
                    name: p.name,
                    created: when(p.created_at),
                    last_used: never(p.last_used_at),
                })
                .collect(),
            notice: extras.notice,
            new_key: extras.new_key,
            enrolment: extras.enrolment,
            recovery_codes: extras.recovery_codes,
            recovery_download,
            errors: extras.errors,
        },
    )
}

/// The message of a refused change, for the field's inline error; `None` for failures
/// that are not the user's (answered with the failure page)
fn refusal(err: &ServiceError) -> Option<String> {
    match err {
        ServiceError::Validation(v) => Some(v.to_string()),
        ServiceError::WrongCurrentPassword
        | ServiceError::WrongCode
        | ServiceError::StepUpRequired
        | ServiceError::Conflict(_)
        | ServiceError::Forbidden(_)
        | ServiceError::InsufficientScope(_)
        | ServiceError::NotFound
        | ServiceError::TooManyAttempts { .. } => Some(err.to_string()),
        _ => None,
    }
}

/// Renders the outcome of one form: the notice on success, the error next to its form
async fn outcome(
    state: &AppState,
    user: &PageUser,
    result: Result<Extras, ServiceError>,
    place: impl FnOnce(&mut Errors) -> &mut Option<String>,
) -> Response {
    match result {
        Ok(extras) => render(state, user, StatusCode::OK, extras).await,
        Err(err) => match refusal(&err) {
            Some(message) => {
                let mut extras = Extras::default();
                *place(&mut extras.errors) = Some(message);
                render(state, user, StatusCode::UNPROCESSABLE_ENTITY, extras).await
            }
            None => failure_page(&err),
        },
    }
}

fn notice(text: &str) -> Extras {
    Extras {
        notice: Some(text.to_owned()),
        ..Extras::default()
    }
}

async fn get_account(State(state): State<AppState>, jar: CookieJar) -> Response {
    match page_user(&state, &jar, "/account").await {
        Ok(user) => render(&state, &user, StatusCode::OK, Extras::default()).await,
        Err(redirect) => redirect,
    }
}

/// Resolves the form's user or answers with the refusal
macro_rules! form_user_or_return {
    ($state:expr, $jar:expr, $fields:expr) => {
        match form_user(&$state, &$jar, $fields.csrf()).await {
            Ok(user) => user,
            Err(refused) => return refused,
        }
    };
}

async fn post_profile(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = async {
        let name = DisplayName::parse(fields.get("display_name"))
            .map_err(clouddocs_service::ValidationError::from)?;
        state
            .svc
            .update_display_name(user.principal(), name)
            .await?;
        Ok(notice("Your name was saved."))
    }
    .await;
    outcome(&state, &user, result, |e| &mut e.profile).await
}

async fn post_password(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = async {
        let new = Password::parse(fields.get("new_password"))
            .map_err(clouddocs_service::ValidationError::from)?;
        state
            .svc
            .change_password(
                user.principal(),
                fields.get("current_password"),
                new,
                Some(&user.session.session_id),
            )
            .await?;
        Ok(notice(
            "Your password was changed; your other sessions were signed out.",
        ))
    }
    .await;
    outcome(&state, &user, result, |e| &mut e.password).await
}

async fn post_sign_out(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    if let Err(err) = state.svc.end_session(user.principal(), &id).await {
        return outcome(&state, &user, Err(err), |e| &mut e.profile).await;
    }
    if id == user.session.session_id {
        return see_other("/login");
    }
    render(
        &state,
        &user,
        StatusCode::OK,
        notice("The device was signed out."),
    )
    .await
}

async fn post_api_key(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = async {
        let scopes = Scopes::parse(&fields.all("scopes").join(" ")).map_err(|e| {
            clouddocs_service::ValidationError::Field {
                field: "scopes",
                reason: e.to_string(),
            }
        })?;
        let days =
            match fields.get("expires_in_days").trim() {
                "" => None,
                raw => Some(raw.parse::<u32>().map_err(|_| {
                    clouddocs_service::ValidationError::Field {
                        field: "expires_in_days",
                        reason: "a whole number of days".to_owned(),
                    }
                })?),
            };
        let created = state
            .svc
            .create_api_key(user.principal(), fields.get("name"), &scopes, days)
            .await?;
        Ok(Extras {
            notice: Some(format!(
                "Key “{}” created. Copy it now: it is shown once.",
                created.view.name
            )),
            new_key: Some(created.key),
            ..Extras::default()
        })
    }
    .await;
    outcome(&state, &user, result, |e| &mut e.api_key).await
}

async fn post_revoke_key(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .revoke_api_key(user.principal(), &id)
        .await
        .map(|()| notice("The key was revoked."));
    outcome(&state, &user, result, |e| &mut e.api_key).await
}

async fn post_totp(State(state): State<AppState>, jar: CookieJar, fields: Fields) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .start_totp(user.principal(), fields.get("password"))
        .await
        .map(|enrolment| Extras {
            enrolment: Some(enrolment),
            ..Extras::default()
        });
    outcome(&state, &user, result, |e| &mut e.totp).await
}

async fn post_totp_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .confirm_totp(user.principal(), fields.get("code"))
        .await
        .map(|codes| Extras {
            notice: Some("Two-step sign-in is on.".to_owned()),
            recovery_codes: Some(codes),
            ..Extras::default()
        });
    outcome(&state, &user, result, |e| &mut e.totp).await
}

async fn post_totp_remove(
    State(state): State<AppState>,
    jar: CookieJar,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .remove_totp(user.principal(), fields.get("password"), fields.get("code"))
        .await
        .map(|()| notice("The authenticator app was removed."));
    outcome(&state, &user, result, |e| &mut e.totp).await
}

async fn post_recovery_codes(
    State(state): State<AppState>,
    jar: CookieJar,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .regenerate_recovery_codes(user.principal(), fields.get("password"), fields.get("code"))
        .await
        .map(|codes| Extras {
            notice: Some("New recovery codes replace the old ones.".to_owned()),
            recovery_codes: Some(codes),
            ..Extras::default()
        });
    outcome(&state, &user, result, |e| &mut e.totp).await
}

async fn post_rename_passkey(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .rename_passkey(user.principal(), &id, fields.get("name"))
        .await
        .map(|()| notice("The passkey was renamed."));
    outcome(&state, &user, result, |e| &mut e.passkeys).await
}

async fn post_remove_passkey(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let user = form_user_or_return!(state, jar, fields);
    let result = state
        .svc
        .remove_passkey(user.principal(), &id)
        .await
        .map(|()| notice("The passkey was removed."));
    outcome(&state, &user, result, |e| &mut e.passkeys).await
}
