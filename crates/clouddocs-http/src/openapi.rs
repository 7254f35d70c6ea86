//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::OpenApi;

use crate::dto;
use crate::routes::{
    admin, api_keys, audit, auth, authz, clients, documents, health, me, oauth, oidc, orgs,
};

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
        oauth::get_openid_configuration, oidc::get_authorize, oidc::get_userinfo,
        orgs::post_org, orgs::get_orgs, orgs::get_members, orgs::put_member, orgs::delete_member,
        documents::post_document, documents::get_documents, documents::get_document,
        documents::patch_document, documents::delete_document, documents::put_share, documents::delete_share,
        authz::post_check, authz::get_policies, authz::put_policies,
        audit::get_audit, audit::get_audit_verify,
    ),
    components(schemas(
        dto::RegisterRequest, dto::LoginRequest, dto::LoginResponse, dto::UpdateMeRequest,
        dto::ChangePasswordRequest, dto::UserResponse, dto::SessionResponse,
        orgs::CreateOrgRequest, orgs::MemberRequest, orgs::OrgResponse, orgs::MemberResponse,
        documents::CreateDocumentRequest, documents::UpdateDocumentRequest, documents::ShareRequest, documents::DocumentResponse,
        authz::CheckBody, authz::CheckResponse, authz::PolicyDocument, authz::EntityOrName,
        api_keys::CreateApiKeyRequest, clients::CreateClientRequest, oauth::TokenForm, oauth::TokenParam,
    )),
    tags(
        (name = "accounts", description = "Registration and sign-in"),
        (name = "me", description = "The caller's own account"),
        (name = "admin", description = "Platform administration"),
        (name = "orgs", description = "Organizations and membership"),
        (name = "documents", description = "Documents and sharing"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "authz", description = "Authorization as a service"),
        (name = "oauth", description = "OAuth 2.0 / OpenID Connect provider"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;
