//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, AuthorizationCode, Flow, Http, HttpAuthScheme, OAuth2, Password, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::routes::{
    admin, api_keys, audit, auth, authz, clients, documents, health, me, mfa, oauth, orgs,
};

/// The API description served at `/openapi.json` and browsable at `/docs`
#[derive(OpenApi)]
#[openapi(
    modifiers(&SecuritySchemes),
    info(title = "CloudDocs", description = "Document sharing with a complete authentication, authorization and audit stack"),
    paths(
        health::get_healthz, health::get_readyz, health::get_metrics,
        auth::post_register, auth::post_login, auth::post_logout,
        me::get_me, me::patch_me, me::post_password, me::get_sessions, me::delete_session,
        mfa::get_mfa, mfa::post_totp, mfa::delete_totp, mfa::post_totp_confirm, mfa::post_recovery_codes,
        mfa::post_register_start, mfa::post_register_finish, mfa::get_passkeys, mfa::patch_passkey, mfa::delete_passkey,
        mfa::post_mfa, mfa::post_mfa_passkey_start, mfa::post_passkey_start, mfa::post_passkey_finish,
        admin::get_users, admin::post_disable_user,
        api_keys::post_api_key, api_keys::get_api_keys, api_keys::delete_api_key,
        clients::post_client, clients::get_clients, clients::delete_client,
        oauth::token::post_token, oauth::revocation::post_revoke, oauth::revocation::post_introspect, oauth::keys::get_jwks,
        oauth::keys::get_openid_configuration, oauth::authorize::get_authorize, oauth::userinfo::get_userinfo,
        orgs::post_org, orgs::get_orgs, orgs::get_members, orgs::put_member, orgs::delete_member,
        documents::post_document, documents::get_documents, documents::get_document,
        documents::patch_document, documents::delete_document, documents::put_share, documents::delete_share,
        authz::post_check, authz::get_policies, authz::put_policies,
        audit::get_audit, audit::get_audit_verify,
    ),
    components(schemas(
        dto::RegisterRequest, dto::LoginRequest, dto::LoginResponse, dto::UpdateMeRequest,
        dto::ChangePasswordRequest, dto::UserResponse, dto::SessionResponse,
        dto::MfaRequiredResponse, dto::MfaVerifyRequest, dto::MfaTokenRequest, dto::WebauthnAnswer,
        dto::PasswordRequest, dto::CodeRequest, dto::PasswordAndCodeRequest, dto::TotpEnrolmentResponse,
        dto::RecoveryCodesResponse, dto::MfaStatusResponse, dto::PasskeyNameRequest, dto::PasskeyRegistrationRequest, dto::CeremonyResponse,
        dto::PasskeyResponse,
        orgs::CreateOrgRequest, orgs::MemberRequest, orgs::OrgResponse, orgs::MemberResponse,
        documents::CreateDocumentRequest, documents::UpdateDocumentRequest, documents::ShareRequest, documents::DocumentResponse,
        authz::CheckBody, authz::CheckResponse, authz::PolicyDocument, authz::EntityOrName,
        api_keys::CreateApiKeyRequest, clients::CreateClientRequest, oauth::token::TokenForm, oauth::revocation::TokenParam,
        audit::AuditEventResponse, audit::ChainReportResponse,
    )),
    tags(
        (name = "accounts", description = "Registration and sign-in"),
        (name = "me", description = "The caller's own account"),
        (name = "mfa", description = "The caller's second factors: TOTP, recovery codes, passkeys"),
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

/// Operations that take no credential: signing up and in, the OAuth endpoints (which
/// authenticate clients in their own way), discovery and operations
const PUBLIC: &[&str] = &[
    "/auth/register",
    "/auth/login",
    "/auth/mfa",
    "/auth/mfa/webauthn/start",
    "/auth/webauthn/start",
    "/auth/webauthn/finish",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
    "/oauth/authorize",
    "/.well-known/jwks.json",
    "/.well-known/openid-configuration",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// The CloudDocs scopes, as the OAuth2 flows offer them
const SCOPES: &[(&str, &str)] = &[
    ("openid", "OpenID Connect sign-in"),
    ("profile", "your profile, sessions and API keys"),
    ("email", "your email address"),
    ("documents:read", "read documents"),
    ("documents:write", "create, edit and share documents"),
    ("documents:delete", "delete documents"),
    ("orgs:manage", "manage organizations"),
    ("admin", "platform administration"),
];

/// Declares the four ways to call the API (bearer JWT, API key, and the OAuth2 password
/// and authorization-code flows, which yield that bearer token), so that `/docs` can make
/// authenticated calls, and requires one of them on every operation outside [`PUBLIC`]
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scopes = || SCOPES.iter().copied().collect::<Scopes>();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "oauth2_password",
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
                "/oauth/token",
                scopes(),
            ))])),
        );
        components.add_security_scheme(
            "oauth2_code",
            SecurityScheme::OAuth2(OAuth2::new([Flow::AuthorizationCode(
                AuthorizationCode::new("/oauth/authorize", "/oauth/token", scopes()),
            )])),
        );
        let none: [&str; 0] = [];
        let requirement = || {
            vec![
                SecurityRequirement::new("bearer", none),
                SecurityRequirement::new("api_key", none),
                SecurityRequirement::new("oauth2_password", none),
                SecurityRequirement::new("oauth2_code", none),
            ]
        };
        for (path, item) in &mut openapi.paths.paths {
            if PUBLIC.contains(&path.as_str()) {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                operation.security = Some(requirement());
            }
        }
    }
}
