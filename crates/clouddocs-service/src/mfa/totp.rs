//! TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step of skew either way) and recovery codes.
//!
//! The secret is generated here, shown once at enrolment and then only ever stored sealed.
//! A code is accepted once: the matched time step must be later than the last accepted one,
//! and the conditional UPDATE that records it decides between concurrent presentations.

use clouddocs_auth::token;
use clouddocs_domain::Principal;
use clouddocs_store::sql::mfa;
use serde::Serialize;
use totp_rs::{Builder, Secret, Totp};

use crate::audit::{Entry, record};
use crate::{ServiceError, Services, now_ms};

/// Recovery codes issued at a time
pub(crate) const RECOVERY_CODES: usize = 10;
/// Random bytes of one recovery code (80 bits, written as 20 hex digits)
const RECOVERY_CODE_BYTES: usize = 10;
/// The `issuer` of the otpauth URI, shown by authenticator apps
const ISSUER: &str = "CloudDocs";

/// What `POST /me/mfa/totp` hands out, once
#[derive(Debug, Clone, Serialize)]
pub struct TotpEnrolment {
    /// The secret, base32 (for typing it into an app)
    pub secret: String,
    /// `otpauth://totp/…` (for a link or a QR code)
    pub otpauth_uri: String,
    /// The otpauth URI as a QR code, an SVG document
    pub qr_svg: String,
}

fn totp_for(secret: Vec<u8>, account: &str) -> Result<Totp, ServiceError> {
    // The otpauth label cannot hold `:`; the account name is only a label in the app.
    let account: String = account.replace(':', "_");
    Builder::new()
        .with_secret(Secret::from(secret))
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("cannot build a TOTP: {e}")))
}

/// Digits only, spaces allowed (as apps show `123 456`)
fn clean_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A recovery code as typed (any case, with or without dashes and spaces) → its digest
pub(crate) fn recovery_digest(code: &str) -> Option<String> {
    let cleaned: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    (cleaned.len() == RECOVERY_CODE_BYTES * 2 && cleaned.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| token::digest(&cleaned))
}

/// Ten fresh recovery codes, `xxxxx-xxxxx-xxxxx-xxxxx`, and their digests
fn new_recovery_codes() -> Result<(Vec<String>, Vec<String>), ServiceError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut digests = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; RECOVERY_CODE_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("no randomness: {e}")))?;
        let hex = hex::encode(bytes);
        digests.push(token::digest(&hex));
        let groups: Vec<&str> = (0..4).filter_map(|i| hex.get(i * 5..i * 5 + 5)).collect();
        codes.push(groups.join("-"));
    }
    Ok((codes, digests))
}

impl Services {
    /// `POST /me/mfa/totp`: a new pending authenticator (replacing a pending one), after
    /// the current password. `Conflict` when one is confirmed already.
    pub async fn start_totp(
        &self,
        principal: &Principal,
        password: &str,
    ) -> Result<TotpEnrolment, ServiceError> {
        self.may_change_factors(principal).await?;
        let user = self
            .confirm_own_password(principal, password, "mfa.totp.enroll")
            .await?;
        let secret = Secret::generate();
        let totp = totp_for(secret.as_bytes().to_vec(), &user.email)?;
        let sealed = self.keys.seal_mfa_secret(secret.as_bytes(), &user.id)?;
        let otpauth_uri = totp
            .to_url()
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("otpauth URI: {e}")))?;
        let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("QR code: {e}")))?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build();
        let mut tx = self.db.begin().await?;
        if !mfa::start_totp(&mut tx, &user.id, &sealed, now_ms()).await? {
            tx.rollback().await?;
            return Err(ServiceError::Conflict(
                "an authenticator is enrolled already; remove it first",
            ));
        }
        record(
            &mut tx,
            Entry::success("mfa.totp.enroll")
                .by(principal)
                .target(format!("user:{}", user.id)),
        )
        .await?;
        tx.commit().await?;
        Ok(TotpEnrolment {
            secret: secret.to_base32(),
            otpauth_uri,
            qr_svg,
        })
    }

    /// Checks `code` against the user's authenticator and accepts its time step once.
    /// `confirming` also accepts a pending authenticator (and confirms it); otherwise only a
    /// confirmed one counts. False for a wrong, replayed or malformed code, or no authenticator.
    pub(crate) async fn accept_totp(
        &self,
        user_id: &str,
        code: &str,
        confirming: bool,
    ) -> Result<bool, ServiceError> {
        let Some(code) = clean_code(code) else {
            return Ok(false);
        };
        let row = {
            let mut conn = self.db.acquire().await?;
            mfa::totp(&mut conn, user_id).await?
        };
        let Some(row) = row else {
            return Ok(false);
        };
        if row.confirmed_at.is_none() && !confirming {
            return Ok(false);
        }
        let secret = self.keys.open_mfa_secret(&row.sealed_secret, user_id)?;
        let totp = totp_for(secret.to_vec(), "")?;
        let Some(step) = totp.check_current(&code) else {
            return Ok(false);
        };
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let confirm_at = confirming.then(now_ms);
        let mut conn = self.db.acquire().await?;
        Ok(mfa::accept_step(&mut conn, user_id, step, confirm_at).await?)
    }

    /// `POST /me/mfa/totp/confirm`: the first code proves the authenticator; answers the
    /// recovery codes, shown this once
    pub async fn confirm_totp(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Vec<String>, ServiceError> {
        if !matches!(
            principal.method,
            clouddocs_domain::AuthMethod::Session { .. }
        ) {
            return Err(ServiceError::Forbidden(
                "second factors are managed from a signed-in browser session, not with a token or an API key",
            ));
        }
        let user_id = principal.user_id.to_string();
        let pending = {
            let mut conn = self.db.acquire().await?;
            mfa::totp(&mut conn, &user_id).await?
        };
        match pending {
            None => return Err(ServiceError::Conflict("no enrolment is pending")),
            Some(row) if row.confirmed_at.is_some() => {
                return Err(ServiceError::Conflict(
                    "the authenticator is confirmed already",
                ));
            }
            Some(_) => {}
        }
        if !self.accept_totp(&user_id, code, true).await? {
            self.audit(
                Entry::failure("mfa.totp.confirm")
                    .by(principal)
                    .target(format!("user:{user_id}")),
            )
            .await?;
            return Err(ServiceError::WrongCode);
        }
        let (codes, digests) = new_recovery_codes()?;
        let mut tx = self.db.begin().await?;
        mfa::replace_recovery_codes(&mut tx, &user_id, &digests, now_ms()).await?;
        record(
            &mut tx,
            Entry::success("mfa.totp.confirm")
                .by(principal)
                .target(format!("user:{user_id}"))
                .detail(serde_json::json!({"recovery_codes": codes.len()})),
        )
        .await?;
        tx.commit().await?;
        self.factors_changed(principal, clouddocs_domain::Factor::Otp)
            .await?;
        tracing::info!(user_id = %user_id, "TOTP enrolled");
        Ok(codes)
    }

    /// Checks the current password and a valid code (TOTP or a recovery code, which is
    /// spent) before a change to the caller's factors
    async fn confirm_password_and_code(
        &self,
        principal: &Principal,
        password: &str,
        code: &str,
        action: &'static str,
    ) -> Result<String, ServiceError> {
        self.may_change_factors(principal).await?;
        let user = self
            .confirm_own_password(principal, password, action)
            .await?;
        // The code is guessable: the account's attempt bucket and lockout apply, as at sign-in.
        let attempt = self.throttle.take_account(&user.email).await?;
        let accepted = self.accept_totp(&user.id, code, false).await?
            || self.spend_recovery_code(&user.id, code).await?;
        if accepted {
            self.throttle.succeeded(attempt).await;
        } else {
            self.throttle.account_failed(&user.email).await;
            self.audit(
                Entry::failure(action)
                    .by(principal)
                    .target(format!("user:{}", user.id))
                    .detail(serde_json::json!({"reason": "wrong code"})),
            )
            .await?;
            return Err(ServiceError::WrongCode);
        }
        Ok(user.id)
    }

    /// `DELETE /me/mfa/totp`: removes the authenticator and its recovery codes
    pub async fn remove_totp(
        &self,
        principal: &Principal,
        password: &str,
        code: &str,
    ) -> Result<(), ServiceError> {
        let user_id = self
            .confirm_password_and_code(principal, password, code, "mfa.totp.remove")
            .await?;
        let mut tx = self.db.begin().await?;
        mfa::remove_totp(&mut tx, &user_id).await?;
        mfa::delete_recovery_codes(&mut tx, &user_id).await?;
        record(
            &mut tx,
            Entry::success("mfa.totp.remove")
                .by(principal)
                .target(format!("user:{user_id}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /me/mfa/recovery-codes`: ten new codes replace every old one
    pub async fn regenerate_recovery_codes(
        &self,
        principal: &Principal,
        password: &str,
        code: &str,
    ) -> Result<Vec<String>, ServiceError> {
        let user_id = self
            .confirm_password_and_code(principal, password, code, "mfa.recovery.regenerate")
            .await?;
        let (codes, digests) = new_recovery_codes()?;
        let mut tx = self.db.begin().await?;
        mfa::replace_recovery_codes(&mut tx, &user_id, &digests, now_ms()).await?;
        record(
            &mut tx,
            Entry::success("mfa.recovery.regenerate")
                .by(principal)
                .target(format!("user:{user_id}"))
                .detail(serde_json::json!({"recovery_codes": codes.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Spends one of the user's recovery codes (audited as `mfa.recovery.used`); false when
    /// it is not one of theirs or was used before
    pub(crate) async fn spend_recovery_code(
        &self,
        user_id: &str,
        code: &str,
    ) -> Result<bool, ServiceError> {
        let Some(digest) = recovery_digest(code) else {
            return Ok(false);
        };
        let mut tx = self.db.begin().await?;
        if !mfa::use_recovery_code(&mut tx, user_id, &digest, now_ms()).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let left = mfa::recovery_codes_left(&mut tx, user_id).await?;
        record(
            &mut tx,
            Entry::success("mfa.recovery.used")
                .actor(user_id)
                .target(format!("user:{user_id}"))
                .detail(serde_json::json!({"recovery_codes_left": left})),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_read_back_however_they_are_typed() {
        let (codes, digests) = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for (code, digest) in codes.iter().zip(&digests) {
            assert_eq!(code.len(), 23, "{code}");
            assert_eq!(recovery_digest(code).as_deref(), Some(digest.as_str()));
            let shouted = code.to_uppercase().replace('-', " ");
            assert_eq!(recovery_digest(&shouted).as_deref(), Some(digest.as_str()));
        }
        assert_eq!(recovery_digest("not-a-code"), None);
        assert_eq!(recovery_digest(""), None);
    }

    #[test]
    fn a_code_is_six_digits_with_optional_spaces() {
        assert_eq!(clean_code("123 456").as_deref(), Some("123456"));
        assert_eq!(clean_code("12345"), None);
        assert_eq!(clean_code("12345a"), None);
        assert_eq!(
            clean_code("１２３４５６"),
            None,
            "full-width digits are not ASCII"
        );
    }
}
