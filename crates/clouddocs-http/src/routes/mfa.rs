//! Second factors: the caller's TOTP authenticator, recovery codes and passkeys (`/me/mfa`,
//! `/me/webauthn`), and the sign-in steps that use them (`/auth/mfa`, `/auth/webauthn`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use clouddocs_domain::Scope;
use clouddocs_service::mfa::Proof;

use crate::dto::{
    CeremonyResponse, CodeRequest, MfaStatusResponse, MfaTokenRequest, MfaVerifyRequest,
    PasskeyNameRequest, PasskeyRegistrationRequest, PasskeyResponse, PasswordAndCodeRequest,
    PasswordRequest, RecoveryCodesResponse, TotpEnrolmentResponse, WebauthnAnswer,
};
use crate::extract::{ApiJson, Authenticated, ClientMeta};
use crate::problem::{ApiError, ApiResult};
use crate::routes::auth::signed_in;
use crate::state::AppState;

/// `/me/mfa…`, `/me/webauthn/…`, `/auth/mfa…`, `/auth/webauthn/…`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/mfa", get(get_mfa))
        .route("/me/mfa/totp", post(post_totp).delete(delete_totp))
        .route("/me/mfa/totp/confirm", post(post_totp_confirm))
        .route("/me/mfa/recovery-codes", post(post_recovery_codes))
        .route("/me/webauthn/register/start", post(post_register_start))
        .route("/me/webauthn/register/finish", post(post_register_finish))
        .route("/me/webauthn/credentials", get(get_passkeys))
        .route(
            "/me/webauthn/credentials/{id}",
            delete(delete_passkey).patch(patch_passkey),
        )
        .route("/auth/mfa", post(post_mfa))
        .route("/auth/mfa/webauthn/start", post(post_mfa_passkey_start))
        .route("/auth/webauthn/start", post(post_passkey_start))
        .route("/auth/webauthn/finish", post(post_passkey_finish))
}

/// The caller's second factors (never a secret).
///
/// **Permissions**: any authenticated caller (`profile` scope).
#[utoipa::path(get, path = "/me/mfa", tag = "mfa",
    responses((status = 200, body = MfaStatusResponse), (status = 401, description = "Not authenticated")))]
pub async fn get_mfa(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<MfaStatusResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    Ok(Json(state.svc.mfa_status(&auth.principal).await?.into()))
}

/// Start enrolling a TOTP authenticator: the secret, its otpauth URI and a QR code, shown
/// this once. The enrolment is pending until `POST /me/mfa/totp/confirm`.
///
/// **Permissions**: the caller, with the current password.
#[utoipa::path(post, path = "/me/mfa/totp", tag = "mfa", request_body = PasswordRequest,
    responses(
        (status = 200, body = TotpEnrolmentResponse),
        (status = 401, description = "Not authenticated, or a session that proved no second factor while one is enrolled: sign in again with it"),
        (status = 403, description = "Wrong password, missing CSRF token, or a token or API key instead of a session"),
        (status = 409, description = "An authenticator is enrolled already"),
    ))]
pub async fn post_totp(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PasswordRequest>,
) -> ApiResult<Json<TotpEnrolmentResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let enrolment = state
        .svc
        .start_totp(&auth.principal, &body.password)
        .await?;
    Ok(Json(enrolment.into()))
}

/// Confirm the pending authenticator with its current code; answers ten recovery codes,
/// shown this once. From now on every password sign-in asks for a second factor.
///
/// **Permissions**: the caller.
#[utoipa::path(post, path = "/me/mfa/totp/confirm", tag = "mfa", request_body = CodeRequest,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Wrong code or missing CSRF token"),
        (status = 409, description = "No enrolment is pending"),
    ))]
pub async fn post_totp_confirm(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CodeRequest>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let recovery_codes = state.svc.confirm_totp(&auth.principal, &body.code).await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Remove the TOTP authenticator and its recovery codes.
///
/// **Permissions**: the caller, with the current password and a valid code.
#[utoipa::path(delete, path = "/me/mfa/totp", tag = "mfa", request_body = PasswordAndCodeRequest,
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Wrong password or code, missing CSRF token, or a token or API key instead of a session"),
    ))]
pub async fn delete_totp(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PasswordAndCodeRequest>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Profile).await?;
    state
        .svc
        .remove_totp(&auth.principal, &body.password, &body.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace every recovery code with ten new ones, shown this once.
///
/// **Permissions**: the caller, with the current password and a valid code.
#[utoipa::path(post, path = "/me/mfa/recovery-codes", tag = "mfa", request_body = PasswordAndCodeRequest,
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Wrong password or code, missing CSRF token, or a token or API key instead of a session"),
    ))]
pub async fn post_recovery_codes(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PasswordAndCodeRequest>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let recovery_codes = state
        .svc
        .regenerate_recovery_codes(&auth.principal, &body.password, &body.code)
        .await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Start registering a passkey: creation options (a discoverable credential with user
/// verification) for `navigator.credentials.create`. Registering or finishing signs out
/// every other session and API sign-in of the user.
///
/// **Permissions**: the caller in a browser session (not a token or API key), with the
/// current password; once a factor is enrolled, a session that proved one.
#[utoipa::path(post, path = "/me/webauthn/register/start", tag = "mfa", request_body = PasskeyRegistrationRequest,
    responses(
        (status = 200, body = CeremonyResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Missing CSRF token, or passkeys are off (the public URL has no domain name)"),
        (status = 422, description = "Invalid name"),
    ))]
pub async fn post_register_start(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PasskeyRegistrationRequest>,
) -> ApiResult<Json<CeremonyResponse>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let start = state
        .svc
        .start_passkey_registration(&auth.principal, &body.name, &body.password)
        .await?;
    Ok(Json(start.into()))
}

/// Finish registering a passkey with the authenticator's answer.
///
/// **Permissions**: the caller who started the ceremony.
#[utoipa::path(post, path = "/me/webauthn/register/finish", tag = "mfa", request_body = WebauthnAnswer,
    responses(
        (status = 201, body = PasskeyResponse),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Missing CSRF token, or passkeys are off"),
        (status = 409, description = "This passkey is registered already"),
        (status = 422, description = "Unknown, expired or used ceremony, or an answer that does not verify"),
    ))]
pub async fn post_register_finish(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<WebauthnAnswer>,
) -> ApiResult<(StatusCode, Json<PasskeyResponse>)> {
    auth.require(&state.svc, Scope::Profile).await?;
    let passkey = state
        .svc
        .finish_passkey_registration(&auth.principal, &body.ceremony_id, body.credential)
        .await?;
    Ok((StatusCode::CREATED, Json(passkey.into())))
}

/// The caller's passkeys, with name and last use.
///
/// **Permissions**: the caller.
#[utoipa::path(get, path = "/me/webauthn/credentials", tag = "mfa",
    responses((status = 200, body = Vec<PasskeyResponse>), (status = 401, description = "Not authenticated")))]
pub async fn get_passkeys(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<crate::dto::Page<PasskeyResponse>>> {
    auth.require(&state.svc, Scope::Profile).await?;
    let keys = state.svc.list_passkeys(&auth.principal).await?;
    Ok(Json(crate::dto::Page::complete(keys)))
}

/// Rename one of the caller's passkeys.
///
/// **Permissions**: the passkey's owner.
#[utoipa::path(patch, path = "/me/webauthn/credentials/{id}", tag = "mfa", request_body = PasskeyNameRequest,
    params(("id" = String, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Renamed"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Missing CSRF token, or a token or API key instead of a session"),
        (status = 404, description = "No such passkey of the caller"),
        (status = 422, description = "Invalid name"),
    ))]
pub async fn patch_passkey(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PasskeyNameRequest>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Profile).await?;
    state
        .svc
        .rename_passkey(&auth.principal, &id, &body.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove one of the caller's passkeys.
///
/// **Permissions**: the passkey's owner.
#[utoipa::path(delete, path = "/me/webauthn/credentials/{id}", tag = "mfa",
    params(("id" = String, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not authenticated"),
        (status = 403, description = "Missing CSRF token, or a token or API key instead of a session"),
        (status = 404, description = "No such passkey of the caller"),
    ))]
pub async fn delete_passkey(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(&state.svc, Scope::Profile).await?;
    state.svc.remove_passkey(&auth.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn proof(body: MfaVerifyRequest) -> Result<(String, Proof), ApiError> {
    let proof = match (body.code, body.recovery_code, body.webauthn) {
        (Some(code), None, None) => Proof::Totp(code),
        (None, Some(code), None) => Proof::RecoveryCode(code),
        (None, None, Some(answer)) => Proof::Passkey {
            ceremony_id: answer.ceremony_id,
            credential: answer.credential,
        },
        _ => {
            return Err(ApiError::Invalid {
                field: "code",
                detail: "send exactly one of `code`, `recovery_code` or `webauthn`".to_owned(),
            });
        }
    };
    Ok((body.mfa_token, proof))
}

/// Complete a sign-in with its second factor: a TOTP code, a recovery code (spent) or a
/// passkey assertion. Sets the session cookie, as `/auth/login` does. The `mfa_token`
/// lives five minutes, is single-use, and three wrong factors burn it; attempts count
/// towards the same per-address limit and per-account lockout as the password, checked
/// before the code.
///
/// **Permissions**: anyone holding an `mfa_token`.
#[utoipa::path(post, path = "/auth/mfa", tag = "accounts", request_body = MfaVerifyRequest,
    responses(
        (status = 200, body = crate::dto::LoginResponse, description = "Signed in; session cookie set"),
        (status = 401, description = "Wrong, replayed or expired factor, or an unknown, expired or spent `mfa_token`"),
        (status = 422, description = "Not exactly one factor"),
        (status = 429, description = "Too many attempts or account locked; see `Retry-After`"),
    ))]
pub async fn post_mfa(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(body): ApiJson<MfaVerifyRequest>,
) -> ApiResult<Response> {
    let (mfa_token, proof) = proof(body)?;
    let outcome = state
        .svc
        .complete_sign_in(&mfa_token, proof, client.addr, client.user_agent)
        .await?;
    signed_in(&state, outcome)
}

/// Request options for one of the user's passkeys, as the second factor of a sign-in;
/// answer with `POST /auth/mfa {mfa_token, webauthn}`.
///
/// **Permissions**: anyone holding an `mfa_token`.
#[utoipa::path(post, path = "/auth/mfa/webauthn/start", tag = "accounts", request_body = MfaTokenRequest,
    responses(
        (status = 200, body = CeremonyResponse),
        (status = 401, description = "Unknown, expired or spent `mfa_token`, or no passkey"),
        (status = 429, description = "Too many sign-in attempts from this address; see `Retry-After`"),
    ))]
pub async fn post_mfa_passkey_start(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(body): ApiJson<MfaTokenRequest>,
) -> ApiResult<Json<CeremonyResponse>> {
    let start = state
        .svc
        .start_mfa_passkey(&body.mfa_token, client.addr)
        .await?;
    Ok(Json(start.into()))
}

/// Start a passwordless sign-in with a passkey: request options for any discoverable
/// credential.
///
/// **Permissions**: anyone.
#[utoipa::path(post, path = "/auth/webauthn/start", tag = "accounts",
    responses(
        (status = 200, body = CeremonyResponse),
        (status = 403, description = "Passkeys are off (the public URL has no domain name)"),
        (status = 429, description = "Too many sign-in attempts from this address; see `Retry-After`"),
    ))]
pub async fn post_passkey_start(
    State(state): State<AppState>,
    client: ClientMeta,
) -> ApiResult<Json<CeremonyResponse>> {
    Ok(Json(
        state.svc.start_passkey_sign_in(client.addr).await?.into(),
    ))
}

/// Finish a passwordless sign-in: the passkey's assertion opens a session (cookie and
/// CSRF token, as `/auth/login`). Limited per address like `/auth/login`.
///
/// **Permissions**: anyone holding a registered passkey.
#[utoipa::path(post, path = "/auth/webauthn/finish", tag = "accounts", request_body = WebauthnAnswer,
    responses(
        (status = 200, body = crate::dto::LoginResponse, description = "Signed in; session cookie set"),
        (status = 401, description = "The assertion does not verify, or the ceremony is unknown, expired or used"),
        (status = 429, description = "Too many attempts; see `Retry-After`"),
    ))]
pub async fn post_passkey_finish(
    State(state): State<AppState>,
    client: ClientMeta,
    ApiJson(body): ApiJson<WebauthnAnswer>,
) -> ApiResult<Response> {
    let outcome = state
        .svc
        .passkey_sign_in(
            &body.ceremony_id,
            body.credential,
            client.addr,
            client.user_agent,
        )
        .await?;
    signed_in(&state, outcome)
}
