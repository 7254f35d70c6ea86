//! The OAuth 2.0 token, revocation and introspection endpoints, JWKS and discovery.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clouddocs_service::oauth::{OAuthError, TokenResponse};
use clouddocs_service::tokens::{Client, Introspection};
use serde::Deserialize;
use serde_json::json;

use crate::extract::{ClientMeta, client_credentials};
use crate::oauth_error::OAuthResponseError;
use crate::rate_limit::Gate;
use crate::state::AppState;

/// `/oauth/*` and `/.well-known/*`
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(post_token))
        .route("/oauth/revoke", post(post_revoke))
        .route("/oauth/introspect", post(post_introspect))
        .route("/.well-known/jwks.json", get(get_jwks))
        .route(
            "/.well-known/openid-configuration",
            get(get_openid_configuration),
        )
}

/// The token endpoint's form (RFC 6749 §4; unknown parameters are ignored as the RFC asks)
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// `password`, `refresh_token`, `client_credentials` or `authorization_code`
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
}

/// `token` (+ `token_type_hint`) of revocation and introspection
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenParam {
    /// The token in question
    pub token: Option<String>,
    /// `access_token` or `refresh_token` (a hint only)
    pub token_type_hint: Option<String>,
    /// Client id (`client_secret_post`)
    pub client_id: Option<String>,
    /// Client secret (`client_secret_post`)
    pub client_secret: Option<String>,
}

fn parse_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::InvalidRequest(
            "expected an `application/x-www-form-urlencoded` body".to_owned(),
        ));
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::InvalidRequest("malformed form body".to_owned()))
}

fn no_store(body: impl serde::Serialize) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

async fn optional_client(
    state: &AppState,
    headers: &HeaderMap,
    id: Option<&str>,
    secret: Option<&str>,
) -> Result<Option<Client>, OAuthError> {
    match client_credentials(headers, id, secret)? {
        Some(creds) => Ok(Some(
            state
                .svc
                .authenticate_client(&creds.client_id, creds.client_secret.as_deref())
                .await?,
        )),
        None => Ok(None),
    }
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest(format!("missing `{name}`")))
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
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens issued"),
        (status = 400, description = "invalid_request, invalid_grant, invalid_scope, unauthorized_client or unsupported_grant_type"),
        (status = 401, description = "invalid_client"),
        (status = 429, description = "Too many attempts or account locked (`invalid_request`); see `Retry-After`"),
    ))]
pub async fn post_token(
    State(state): State<AppState>,
    client_meta: ClientMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponseError> {
    // The per-address bucket counts failed requests (client authentication or grant): the
    // token is taken before anything is checked and given back when tokens are issued.
    let throttle = state.svc.throttle();
    let attempt = throttle.take_ip(Gate::Token, client_meta.addr).await?;
    let answer = token_request(&state, &headers, &body).await?;
    throttle.succeeded(attempt).await;
    Ok(answer)
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
        other => {
            return Err(OAuthError::UnsupportedGrantType(
                other.chars().take(64).collect(),
            ));
        }
    };
    Ok(no_store(answer))
}

/// Revoke a refresh or access token (RFC 7009); unknown tokens are not an error.
///
/// **Permissions**: a token issued to a client, only that client (confidential clients
/// authenticate, public clients send `client_id`); a token issued to no client (the
/// `password` grant without a client), its holder, with no client authentication.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenParam, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (or was not valid)"),
        (status = 400, description = "invalid_request"),
        (status = 401, description = "invalid_client: the token's client did not authenticate"),
    ))]
pub async fn post_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponseError> {
    let form: TokenParam = parse_form(&headers, &body)?;
    let client = optional_client(
        &state,
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )
    .await?;
    let token = required(form.token.as_deref(), "token")?;
    state.svc.revoke_token(token, client.as_ref()).await?;
    Ok(no_store(json!({})))
}

/// Describe a token (RFC 7662).
///
/// **Permissions**: confidential clients.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenParam, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`{active, …}`"), (status = 401, description = "invalid_client")))]
pub async fn post_introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthResponseError> {
    let form: TokenParam = parse_form(&headers, &body)?;
    let client = optional_client(
        &state,
        &headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )
    .await?
    .filter(Client::confidential)
    .ok_or(OAuthError::InvalidClient)?;
    let token = required(form.token.as_deref(), "token")?;
    let answer: Introspection = state.svc.introspect(token).await?;
    tracing::debug!(client_id = %client.id(), active = answer.active, "introspection");
    Ok(no_store(answer))
}

/// The public signing keys, current and not-yet-expired old ones.
///
/// **Permissions**: anyone.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth",
    responses((status = 200, description = "JWK Set")))]
pub async fn get_jwks(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.svc.jwks()),
    )
        .into_response()
}

/// Discovery document.
///
/// **Permissions**: anyone.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth",
    responses((status = 200, description = "OpenID Provider metadata")))]
pub async fn get_openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = state
        .svc
        .token_config()
        .issuer
        .trim_end_matches('/')
        .to_owned();
    let algs: Vec<String> = vec![state.svc.signing_algorithm().to_owned()];
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "scopes_supported": clouddocs_domain::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "password"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": state.svc.id_token_algorithms(),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "name", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "token_endpoint_auth_signing_alg_values_supported": algs,
    });
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc)).into_response()
}
