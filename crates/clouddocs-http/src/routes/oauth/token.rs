//! `POST /oauth/token`: the grants of RFC 6749 §4, limited per address on failures.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use clouddocs_service::ServiceError;
use clouddocs_service::mfa::Proof;
use clouddocs_service::oauth::{OAuthError, TokenResponse};
use serde::Deserialize;

use super::{no_store, optional_client, parse_form, required};
use crate::extract::ClientMeta;
use crate::oauth_error::OAuthResponseError;
use crate::rate_limit::Gate;
use crate::state::AppState;

/// The token endpoint's form (RFC 6749 §4; unknown parameters are ignored as the RFC asks)
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// `password`, `refresh_token`, `client_credentials`, `authorization_code` or
    /// `urn:clouddocs:params:oauth:grant-type:mfa-otp`
    pub grant_type: Option<String>,
    /// The user's email (`password` grant, as `OAuth2PasswordRequestForm` sends it)
    pub username: Option<String>,
    /// The user's password (`password` grant)
    pub password: Option<String>,
    /// Space-separated scopes
    pub scope: Option<String>,
    /// The refresh token (`refresh_token` grant)
    pub refresh_token: Option<String>,
    /// Client id (`client_secret_post`, or public clients)
    pub client_id: Option<String>,
    /// Client secret (`client_secret_post`)
    pub client_secret: Option<String>,
    /// The authorization code (`authorization_code` grant)
    pub code: Option<String>,
    /// The redirect URI of the authorization request (`authorization_code` grant)
    pub redirect_uri: Option<String>,
    /// The PKCE verifier (`authorization_code` grant)
    pub code_verifier: Option<String>,
    /// The `mfa_token` of a `password` grant answered `mfa_required` (`mfa-otp` grant)
    pub mfa_token: Option<String>,
    /// A TOTP code (`mfa-otp` grant)
    pub otp: Option<String>,
    /// A recovery code, instead of `otp` (`mfa-otp` grant)
    pub recovery_code: Option<String>,
}

/// Issue tokens (RFC 6749 §4).
///
/// **Permissions**: anyone holding a grant; confidential clients authenticate with
/// `client_secret_basic` or `client_secret_post`.
///
/// Requests are limited per address, and `password` grants per account with the lockout
/// of `/auth/login`. RFC 6749 has no error code for this, so a refusal is HTTP 429 with
/// `Retry-After` and `{"error": "invalid_request", "error_description": "too many
/// attempts, retry later"}`.
///
/// A `password` grant for an account with a second factor answers 403 `{"error":
/// "mfa_required", "error_description", "mfa_token"}`; the grant
/// `urn:clouddocs:params:oauth:grant-type:mfa-otp` with `mfa_token` and `otp` (or
/// `recovery_code`), from the same client, then issues the tokens.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued"),
        (status = 400, description = "invalid_request, invalid_grant, invalid_scope, unauthorized_client or unsupported_grant_type"),
        (status = 401, description = "invalid_client"),
        (status = 403, description = "mfa_required, with the `mfa_token` the mfa-otp grant completes"),
        (status = 429, description = "Too many attempts or account locked (`invalid_request`); see `Retry-After`"),
    ))]
pub async fn post_token(
    State(state): State<AppState>,
    client_meta: ClientMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponseError> {
    // The per-address bucket counts failed requests (client authentication or grant): the
    // token is taken before anything is checked and given back when tokens are issued, or
    // when another limit refused the request before any credential was checked (a locked
    // account, a client over its own `client_credentials` rate): that is not a guess, and
    // must not spend the address's budget for everyone behind it.
    let throttle = state.svc.throttle();
    let attempt = throttle.take_ip(Gate::Token, client_meta.addr).await?;
    match token_request(&state, &headers, &body).await {
        Ok(answer) => {
            throttle.succeeded(attempt).await;
            Ok(answer)
        }
        Err(refused @ OAuthError::Server(ServiceError::TooManyAttempts { .. })) => {
            throttle.succeeded(attempt).await;
            Err(refused.into())
        }
        Err(failed) => Err(failed.into()),
    }
}

async fn token_request(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, OAuthError> {
    let form: TokenForm = parse_form(headers, body)?;
    let client = optional_client(
        state,
        headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )
    .await?;
    let grant = required(form.grant_type.as_deref(), "grant_type")?;
    let answer: TokenResponse = match grant {
        "password" => {
            let username = required(form.username.as_deref(), "username")?;
            let password = required(form.password.as_deref(), "password")?;
            state
                .svc
                .password_grant(username, password, form.scope.as_deref(), client.as_ref())
                .await?
        }
        "refresh_token" => {
            let refresh = required(form.refresh_token.as_deref(), "refresh_token")?;
            state
                .svc
                .refresh_grant(refresh, form.scope.as_deref(), client.as_ref())
                .await?
        }
        "authorization_code" => {
            // Public clients identify themselves with `client_id` alone; PKCE is their proof.
            let client = client.ok_or(OAuthError::InvalidClient)?;
            let code = required(form.code.as_deref(), "code")?;
            let answer = state
                .svc
                .authorization_code_grant(
                    &client,
                    code,
                    form.redirect_uri.as_deref(),
                    form.code_verifier.as_deref(),
                )
                .await?;
            return Ok(no_store(answer));
        }
        "client_credentials" => {
            let client = client.ok_or(OAuthError::InvalidClient)?;
            state
                .svc
                .client_credentials_grant(&client, form.scope.as_deref())
                .await?
        }
        clouddocs_service::oauth::MFA_OTP_GRANT => {
            let mfa_token = required(form.mfa_token.as_deref(), "mfa_token")?;
            let proof = match (form.otp, form.recovery_code) {
                (Some(otp), None) => Proof::Totp(otp),
                (None, Some(code)) => Proof::RecoveryCode(code),
                _ => {
                    return Err(OAuthError::InvalidRequest(
                        "send exactly one of `otp` or `recovery_code`".to_owned(),
                    ));
                }
            };
            state
                .svc
                .mfa_otp_grant(mfa_token, proof, client.as_ref())
                .await?
        }
        other => {
            return Err(OAuthError::UnsupportedGrantType(
                other.chars().take(64).collect(),
            ));
        }
    };
    Ok(no_store(answer))
}
