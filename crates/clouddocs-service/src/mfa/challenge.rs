//! Between the first factor and the second: the `mfa_token`.
//!
//! A password that is right for an account with a second factor yields no session and no
//! token, only an `mfa_token`: random, stored as a digest, bound to the user and to what it
//! may complete (a browser session, or tokens for one client and scope), valid five
//! minutes, single-use, and burnt by three wrong codes. Presenting it sits behind the same
//! per-address limit and per-account lockout as the password, checked before the code.

use clouddocs_auth::token;
use clouddocs_domain::{Amr, Factor, Scopes};
use clouddocs_store::sql::mfa::{self, ChallengeRow};
use clouddocs_store::sql::users::{self, UserRow};

use super::{CeremonyStart, Enrolled, MAX_CHALLENGE_FAILURES};
use crate::audit::Entry;
use crate::oauth::grant_types::SignedIn;
use crate::oauth::{OAuthError, TokenResponse};
use crate::throttle::Gate;
use crate::tokens::Client;
use crate::{LoginOutcome, ServiceError, Services, now_ms};

/// A password sign-in's answer: done, or waiting for the second factor
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: a session
    Complete(LoginOutcome),
    /// The password was right; the second factor is next
    SecondFactor(MfaRequired),
}

/// `{mfa_required: true, mfa_token, methods}`
#[derive(Debug, Clone)]
pub struct MfaRequired {
    /// Presented with the second factor (only its digest is stored)
    pub mfa_token: String,
    /// What the second step accepts: `totp`, `recovery_code`, `webauthn`
    pub methods: Vec<&'static str>,
}

/// A second factor as presented
#[derive(Debug, Clone)]
pub enum Proof {
    /// A TOTP code
    Totp(String),
    /// A recovery code (spent)
    RecoveryCode(String),
    /// A passkey assertion for a ceremony started with the same `mfa_token`
    Passkey {
        /// From `start_mfa_passkey`
        ceremony_id: String,
        /// `credential.toJSON()`
        credential: serde_json::Value,
    },
}

impl Proof {
    fn method(&self) -> &'static str {
        match self {
            Proof::Totp(_) => "totp",
            Proof::RecoveryCode(_) => "recovery_code",
            Proof::Passkey { .. } => "webauthn",
        }
    }
}

/// What a challenge completes
const FOR_SESSION: &str = "session";
const FOR_TOKENS: &str = "tokens";

impl Services {
    /// Stores a challenge for `user` after a right password
    pub(crate) async fn issue_challenge(
        &self,
        user: &UserRow,
        enrolled: Enrolled,
        tokens_for: Option<(Option<&str>, &Scopes)>,
    ) -> Result<MfaRequired, ServiceError> {
        let mfa_token = token::random_token(32)?;
        let now = now_ms();
        let row = ChallengeRow {
            token_hash: token::digest(&mfa_token),
            user_id: user.id.clone(),
            purpose: if tokens_for.is_some() {
                FOR_TOKENS
            } else {
                FOR_SESSION
            }
            .to_owned(),
            client_id: tokens_for.and_then(|(client, _)| client.map(str::to_owned)),
            scope: tokens_for.map(|(_, scopes)| scopes.to_string()),
            first_factor: Amr::PASSWORD.to_string(),
            failures: 0,
            created_at: now,
            expires_at: now.saturating_add(crate::millis(self.config.mfa_challenge_ttl)),
        };
        {
            let mut conn = self.db.acquire().await?;
            mfa::insert_challenge(&mut conn, &row).await?;
        }
        self.audit(
            Entry::success("mfa.challenge")
                .actor(&user.id)
                .target(format!("user:{}", user.id))
                .detail(serde_json::json!({"purpose": row.purpose, "methods": enrolled.methods()})),
        )
        .await?;
        Ok(MfaRequired {
            mfa_token,
            methods: enrolled.methods(),
        })
    }

    /// The live challenge and its user for a presented token, if it may complete `purpose`
    async fn live_challenge(
        &self,
        mfa_token: &str,
        purpose: &str,
    ) -> Result<(ChallengeRow, UserRow), ServiceError> {
        let mut conn = self.db.acquire().await?;
        let challenge = mfa::find_challenge(&mut conn, &token::digest(mfa_token), now_ms())
            .await?
            .filter(|c| c.purpose == purpose)
            .ok_or(ServiceError::InvalidSecondFactor)?;
        let user = users::find(&mut conn, &challenge.user_id)
            .await?
            .filter(|u| !u.disabled())
            .ok_or(ServiceError::InvalidSecondFactor)?;
        Ok((challenge, user))
    }

    /// `POST /auth/mfa/webauthn/start`: request options for one of the user's passkeys, as
    /// the second factor of a browser sign-in's challenge. Each start stores a ceremony, so
    /// it counts against the address's sign-in budget and is not given back.
    pub async fn start_mfa_passkey(
        &self,
        mfa_token: &str,
        addr: Option<std::net::IpAddr>,
    ) -> Result<CeremonyStart, ServiceError> {
        let _counted = self.throttle.take_ip(Gate::Login, addr).await?;
        let (challenge, user) = self.live_challenge(mfa_token, FOR_SESSION).await?;
        self.start_passkey_second_factor(&user.id, &challenge.token_hash)
            .await
    }

    /// Checks a second factor against a challenge and consumes it. The account's lockout
    /// and attempt bucket are consulted before the code; a wrong factor counts towards
    /// both, and the third burns the challenge.
    async fn second_factor(
        &self,
        mfa_token: &str,
        purpose: &str,
        proof: Proof,
    ) -> Result<(ChallengeRow, UserRow, Amr), ServiceError> {
        let method = proof.method();
        let (challenge, user) = match self.live_challenge(mfa_token, purpose).await {
            Ok(found) => found,
            Err(err) => {
                if matches!(err, ServiceError::InvalidSecondFactor) {
                    self.audit(
                        Entry::failure("mfa.verify")
                            .detail(serde_json::json!({"method": method, "reason": "unknown, expired or spent mfa_token"})),
                    )
                    .await?;
                }
                return Err(err);
            }
        };
        let attempt = self.throttle.take_account(&user.email).await?;
        // One of the token's three attempts, reserved before the factor is checked, so
        // parallel guesses at one token are bounded as sequential ones are.
        let reserved = {
            let mut conn = self.db.acquire().await?;
            mfa::reserve_attempt(
                &mut conn,
                &challenge.token_hash,
                MAX_CHALLENGE_FAILURES,
                now_ms(),
            )
            .await?
        };
        if !reserved {
            self.throttle.succeeded(attempt).await;
            self.audit(
                Entry::failure("mfa.verify")
                    .actor(&user.id)
                    .target(format!("user:{}", user.id))
                    .detail(
                        serde_json::json!({"method": method, "reason": "mfa_token attempts spent"}),
                    ),
            )
            .await?;
            return Err(ServiceError::InvalidSecondFactor);
        }
        let factor = match proof {
            Proof::Totp(code) => self
                .accept_totp(&user.id, &code, false)
                .await?
                .then_some(Factor::Otp),
            Proof::RecoveryCode(code) => self
                .spend_recovery_code(&user.id, &code)
                .await?
                .then_some(Factor::Otp),
            Proof::Passkey {
                ceremony_id,
                credential,
            } => match self
                .verify_passkey(
                    &ceremony_id,
                    credential,
                    Some((&user.id, &challenge.token_hash)),
                )
                .await
            {
                Ok((_, amr)) if amr.has(Factor::SoftwareKey) => Some(Factor::SoftwareKey),
                Ok(_) => Some(Factor::HardwareKey),
                Err(ServiceError::InvalidSecondFactor) => None,
                Err(other) => return Err(other),
            },
        };
        let Some(factor) = factor else {
            let failures = {
                let mut conn = self.db.acquire().await?;
                mfa::fail_challenge(&mut conn, &challenge.token_hash, MAX_CHALLENGE_FAILURES)
                    .await?
            };
            if let Some(retry_after_secs) = self.throttle.account_failed(&user.email).await {
                tracing::warn!(
                    retry_after_secs,
                    "account locked after repeated second-factor failures"
                );
                self.audit(
                    Entry::failure("auth.lockout")
                        .target(format!("account:{}", user.email))
                        .detail(serde_json::json!({"retry_after_secs": retry_after_secs})),
                )
                .await?;
            }
            self.audit(
                Entry::failure("mfa.verify")
                    .actor(&user.id)
                    .target(format!("user:{}", user.id))
                    .detail(serde_json::json!({
                        "method": method,
                        "failures": failures,
                        "mfa_token_burnt": failures >= MAX_CHALLENGE_FAILURES,
                    })),
            )
            .await?;
            return Err(ServiceError::InvalidSecondFactor);
        };
        let consumed = {
            let mut conn = self.db.acquire().await?;
            mfa::take_challenge(&mut conn, &challenge.token_hash).await?
        };
        if !consumed {
            return Err(ServiceError::InvalidSecondFactor);
        }
        self.throttle.succeeded(attempt).await;
        self.throttle.account_succeeded(&user.email).await;
        self.audit(
            Entry::success("mfa.verify")
                .actor(&user.id)
                .target(format!("user:{}", user.id))
                .detail(serde_json::json!({"method": method})),
        )
        .await?;
        let amr = Amr::from_stored(&challenge.first_factor).with(factor);
        Ok((challenge, user, amr))
    }

    /// `POST /auth/mfa`: the second factor of a browser sign-in opens the session
    pub async fn complete_sign_in(
        &self,
        mfa_token: &str,
        proof: Proof,
        addr: Option<std::net::IpAddr>,
        user_agent: Option<String>,
    ) -> Result<LoginOutcome, ServiceError> {
        let per_address = self.throttle.take_ip(Gate::Login, addr).await?;
        let (_, user, amr) = self.second_factor(mfa_token, FOR_SESSION, proof).await?;
        self.throttle.succeeded(per_address).await;
        self.open_session(&user, amr, addr, user_agent).await
    }

    /// `grant_type=urn:clouddocs:params:oauth:grant-type:mfa-otp`: the second factor of a
    /// `password` grant issues its tokens, to the same client only
    pub async fn mfa_otp_grant(
        &self,
        mfa_token: &str,
        proof: Proof,
        client: Option<&Client>,
    ) -> Result<TokenResponse, OAuthError> {
        if let Some(c) = client
            && !c.allows_grant("password")
        {
            return Err(OAuthError::UnauthorizedClient);
        }
        let presented_by = client.map(Client::id);
        // The challenge must have been issued to this very client: peek before the code.
        let bound_to = {
            let mut conn = self.db.acquire().await?;
            mfa::find_challenge(&mut conn, &token::digest(mfa_token), now_ms())
                .await?
                .map(|c| c.client_id)
        };
        if bound_to.is_some_and(|bound| bound.as_deref() != presented_by) {
            return Err(OAuthError::InvalidGrant("invalid or expired second factor"));
        }
        let (challenge, user, amr) = match self.second_factor(mfa_token, FOR_TOKENS, proof).await {
            Ok(done) => done,
            Err(ServiceError::InvalidSecondFactor) => {
                return Err(OAuthError::InvalidGrant("invalid or expired second factor"));
            }
            Err(other) => return Err(other.into()),
        };
        let scopes = Scopes::parse(challenge.scope.as_deref().unwrap_or_default())
            .unwrap_or_default()
            .intersection(&crate::tokens::user_scopes(user.platform_admin()));
        Ok(self
            .issue_for_login(&user, &scopes, presented_by, SignedIn::now(amr))
            .await?)
    }
}
