//! Second-factor bodies: TOTP enrolment, recovery codes, passkeys and the second step of a
//! sign-in.

use clouddocs_service::mfa::{CeremonyStart, MfaRequired, MfaStatus, PasskeyView, TotpEnrolment};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /auth/login` for an account with a second factor: no session yet
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequiredResponse {
    /// Always `true`
    pub mfa_required: bool,
    /// Present it to `POST /auth/mfa` with the second factor, within 5 minutes, once
    pub mfa_token: String,
    /// What the second step accepts: `totp`, `recovery_code`, `webauthn`
    pub methods: Vec<String>,
}

impl From<MfaRequired> for MfaRequiredResponse {
    fn from(m: MfaRequired) -> Self {
        Self {
            mfa_required: true,
            mfa_token: m.mfa_token,
            methods: m.methods.into_iter().map(str::to_owned).collect(),
        }
    }
}

/// A passkey assertion or attestation, with the ceremony it answers
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebauthnAnswer {
    /// From the matching `…/start`
    pub ceremony_id: String,
    /// `credential.toJSON()` of the browser's `PublicKeyCredential`
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `POST /auth/mfa`: exactly one of `code`, `recovery_code` or `webauthn`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaVerifyRequest {
    /// From the `mfa_required` answer
    pub mfa_token: String,
    /// A TOTP code
    pub code: Option<String>,
    /// One of the recovery codes (spent)
    pub recovery_code: Option<String>,
    /// A passkey assertion for `POST /auth/mfa/webauthn/start`
    pub webauthn: Option<WebauthnAnswer>,
}

/// `POST /auth/mfa/webauthn/start`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaTokenRequest {
    /// From the `mfa_required` answer
    pub mfa_token: String,
}

/// `POST /me/mfa/totp`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The caller's current password
    pub password: String,
}

/// `POST /me/mfa/totp/confirm`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The authenticator's current code
    pub code: String,
}

/// `DELETE /me/mfa/totp`, `POST /me/mfa/recovery-codes`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordAndCodeRequest {
    /// The caller's current password
    pub password: String,
    /// A current TOTP code, or an unused recovery code (then spent)
    pub code: String,
}

/// A new authenticator's secret, shown once
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolmentResponse {
    /// Base32, for typing into an app
    pub secret: String,
    /// `otpauth://totp/CloudDocs:…`
    pub otpauth_uri: String,
    /// The URI as a QR code (an SVG document)
    pub qr_svg: String,
}

impl From<TotpEnrolment> for TotpEnrolmentResponse {
    fn from(t: TotpEnrolment) -> Self {
        Self {
            secret: t.secret,
            otpauth_uri: t.otpauth_uri,
            qr_svg: t.qr_svg,
        }
    }
}

/// Recovery codes, shown once: each signs in once in place of a code
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    /// Ten codes
    pub recovery_codes: Vec<String>,
}

/// `GET /me/mfa`
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatusResponse {
    /// A confirmed TOTP authenticator is enrolled
    pub totp: bool,
    /// Registered passkeys
    pub passkeys: i64,
    /// Unused recovery codes
    pub recovery_codes_left: i64,
}

impl From<MfaStatus> for MfaStatusResponse {
    fn from(s: MfaStatus) -> Self {
        Self {
            totp: s.totp,
            passkeys: s.passkeys,
            recovery_codes_left: s.recovery_codes_left,
        }
    }
}

/// `POST /me/webauthn/register/start`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyNameRequest {
    /// A name for the passkey, 1 to 64 characters
    pub name: String,
}

/// `POST /me/webauthn/register/start`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegistrationRequest {
    /// A name for the passkey, 1 to 64 characters
    pub name: String,
    /// The caller's current password
    pub password: String,
}

/// The start of a WebAuthn ceremony
#[derive(Debug, Serialize, ToSchema)]
pub struct CeremonyResponse {
    /// Send it back with the answer
    pub ceremony_id: String,
    /// `{publicKey: …}`: pass `publicKey` to `PublicKeyCredential.parseCreationOptionsFromJSON`
    /// (registration) or `parseRequestOptionsFromJSON` (sign-in)
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

impl From<CeremonyStart> for CeremonyResponse {
    fn from(c: CeremonyStart) -> Self {
        Self {
            ceremony_id: c.ceremony_id,
            options: c.options,
        }
    }
}

/// A registered passkey
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyResponse {
    /// Its id
    pub id: String,
    /// Its name
    pub name: String,
    /// Registration time, unix milliseconds
    pub created_at: i64,
    /// Last sign-in with it, unix milliseconds
    pub last_used_at: Option<i64>,
}

impl From<PasskeyView> for PasskeyResponse {
    fn from(p: PasskeyView) -> Self {
        Self {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}
