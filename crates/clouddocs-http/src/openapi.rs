//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::dto;
use crate::routes::{admin, api_keys, auth, clients, health, me, oauth};

/// The API description served at `/openapi.json` and browsable at `/docs`
#[derive(OpenApi)]
#[openapi(
    info(title = "CloudDocs", description = "Document sharing with a complete authentication, authorization and audit stack"),
    paths(
        health::get_healthz, health::get_readyz, health::get_metrics,
        auth::post_register, auth::post_login, auth::post_logout,
        me::get_me, me::patch_me, me::post_password, me::get_sessions, me::delete_session,
        admin::get_users, admin::post_disable_user,
        api_keys::post_api_key, api_keys::get_api_keys, api_keys::delete_api_key,
        clients::post_client, clients::get_clients, clients::delete_client,
        oauth::post_token, oauth::post_revoke, oauth::post_introspect, oauth::get_jwks,
        oauth::get_openid_configuration,
    ),
    components(schemas(
        dto::RegisterRequest, dto::LoginRequest, dto::LoginResponse, dto::UpdateMeRequest,
        dto::ChangePasswordRequest, dto::UserResponse, dto::SessionResponse,
        api_keys::CreateApiKeyRequest, clients::CreateClientRequest, oauth::TokenForm, oauth::TokenParam,
    )),
    tags(
        (name = "accounts", description = "Registration and sign-in"),
        (name = "me", description = "The caller's own account"),
        (name = "admin", description = "Platform administration"),
        (name = "oauth", description = "OAuth 2.0 / OpenID Connect provider"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;
