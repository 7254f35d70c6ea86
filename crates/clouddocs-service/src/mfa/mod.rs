//! Second factors: TOTP with recovery codes ([`totp`]), passkeys ([`passkeys`]), and the
//! step between a first factor and the second ([`challenge`]). Once a user has enrolled a
//! factor, every password sign-in (`/auth/login`, the `/login` page, the `password` grant)
//! stops after the password and asks for it.

pub(crate) mod challenge;
pub(crate) mod passkeys;
pub(crate) mod totp;

pub use challenge::{MfaRequired, Proof, SignIn};
pub use passkeys::{CeremonyStart, PasskeyView, Passkeys};
pub use totp::TotpEnrolment;

use clouddocs_domain::Principal;
use clouddocs_store::sql::mfa;
use serde::Serialize;

use crate::{ServiceError, Services};

/// How long a WebAuthn ceremony lives (an `mfa_token`: `ServiceConfig::mfa_challenge_ttl`)
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// Wrong second factors that burn an `mfa_token`
pub const MAX_CHALLENGE_FAILURES: i64 = 3;

/// `GET /me/mfa`
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MfaStatus {
    /// Whether a confirmed TOTP authenticator is enrolled
    pub totp: bool,
    /// How many passkeys are registered
    pub passkeys: i64,
    /// Unused recovery codes
    pub recovery_codes_left: i64,
}

/// The second factors a user has enrolled
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Enrolled {
    /// A confirmed TOTP authenticator
    pub totp: bool,
    /// Registered passkeys
    pub passkeys: i64,
}

impl Enrolled {
    /// Whether a password alone no longer signs the user in
    pub(crate) fn any(self) -> bool {
        self.totp || self.passkeys > 0
    }

    /// The methods the second step accepts, as the `methods` of `mfa_required`
    pub(crate) fn methods(self) -> Vec<&'static str> {
        let mut methods = Vec::new();
        if self.totp {
            methods.extend(["totp", "recovery_code"]);
        }
        if self.passkeys > 0 {
            methods.push("webauthn");
        }
        methods
    }
}

impl Services {
    /// The second factors of `user_id`
    pub(crate) async fn enrolled(&self, user_id: &str) -> Result<Enrolled, ServiceError> {
        let mut conn = self.db.acquire().await?;
        let totp = mfa::totp(&mut conn, user_id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some());
        let passkeys = mfa::passkey_count(&mut conn, user_id).await?;
        Ok(Enrolled { totp, passkeys })
    }

    /// `GET /me/mfa`: the caller's factors, never a secret
    pub async fn mfa_status(&self, principal: &Principal) -> Result<MfaStatus, ServiceError> {
        let user_id = principal.user_id.to_string();
        let enrolled = self.enrolled(&user_id).await?;
        let mut conn = self.db.acquire().await?;
        Ok(MfaStatus {
            totp: enrolled.totp,
            passkeys: enrolled.passkeys,
            recovery_codes_left: mfa::recovery_codes_left(&mut conn, &user_id).await?,
        })
    }
}
