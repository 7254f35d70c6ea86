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

use clouddocs_domain::{AuthMethod, Factor, Principal};
use clouddocs_store::sql::{mfa, sessions};
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

    /// Whether the caller may change their second factors: only from a browser session
    /// (never with a token or an API key, which an application may hold), and, once a factor
    /// is enrolled, only from a session that proved one
    pub(crate) async fn may_change_factors(
        &self,
        principal: &Principal,
    ) -> Result<(), ServiceError> {
        if !matches!(principal.method, AuthMethod::Session { .. }) {
            return Err(ServiceError::Forbidden(
                "second factors are managed from a signed-in browser session, not with a token or an API key",
            ));
        }
        if !principal.amr.is_mfa() && self.enrolled(&principal.user_id.to_string()).await?.any() {
            return Err(ServiceError::StepUpRequired);
        }
        Ok(())
    }

    /// After a new factor: the caller's session now counts `factor` as proved (it just
    /// showed it), and every other session and API sign-in of the user ends, since it may
    /// predate the factor and never proved it
    pub(crate) async fn factors_changed(
        &self,
        principal: &Principal,
        factor: Factor,
    ) -> Result<(), ServiceError> {
        let user_id = principal.user_id.to_string();
        let current = match &principal.method {
            AuthMethod::Session { session_id } => Some(session_id.to_string()),
            _ => None,
        };
        {
            let mut tx = self.db.begin().await?;
            sessions::delete_all_for_user(&mut tx, &user_id, current.as_deref()).await?;
            if let Some(id) = &current {
                sessions::set_amr(&mut tx, id, &principal.amr.with(factor).to_string()).await?;
            }
            tx.commit().await?;
        }
        self.revoke_user_tokens(&user_id, "a second factor was added")
            .await
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
