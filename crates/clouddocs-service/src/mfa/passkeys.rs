//! Passkeys (WebAuthn Level 2) with webauthn-rs: registration, the credential list,
//! passwordless sign-in with a discoverable credential, and a passkey as the second factor
//! after a password.
//!
//! The relying party is the host of `--public-url` (the origin must be that URL); a server
//! whose public URL has no domain name (an IP address) has no passkeys. Ceremony state lives
//! server-side (the database, or Redis when configured), single-use, for five minutes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clouddocs_auth::token;
use clouddocs_domain::{Amr, Factor, Principal};
use clouddocs_store::ephemeral::Ceremonies;
use clouddocs_store::sql::{mfa, users};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
    WebauthnError,
};

use super::CHALLENGE_TTL_MS;
use crate::audit::{Entry, record};
use crate::{ServiceError, Services, ValidationError, now_ms};

/// The relying party and where its ceremonies wait
#[derive(Clone)]
pub struct Passkeys {
    webauthn: Option<std::sync::Arc<Webauthn>>,
    ceremonies: std::sync::Arc<dyn Ceremonies>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("enabled", &self.webauthn.is_some())
            .finish_non_exhaustive()
    }
}

impl Passkeys {
    /// The relying party of `public_url`; without a domain name, passkeys are off
    pub fn new(public_url: &str, ceremonies: std::sync::Arc<dyn Ceremonies>) -> Self {
        let webauthn = Url::parse(public_url).ok().and_then(|origin| {
            let rp_id = origin.domain()?.to_owned();
            match WebauthnBuilder::new(&rp_id, &origin).and_then(|b| b.rp_name("CloudDocs").build()) {
                Ok(webauthn) => Some(std::sync::Arc::new(webauthn)),
                Err(err) => {
                    tracing::warn!(error = %err, public_url, "passkeys are off for this public URL");
                    None
                }
            }
        });
        if webauthn.is_none() {
            tracing::info!(
                public_url,
                "passkeys need a public URL with a domain name; they are off"
            );
        }
        Self {
            webauthn,
            ceremonies,
        }
    }

    /// Whether this server has passkeys (its public URL has a domain name)
    pub fn enabled(&self) -> bool {
        self.webauthn.is_some()
    }

    fn relying_party(&self) -> Result<&Webauthn, ServiceError> {
        self.webauthn.as_deref().ok_or(ServiceError::Forbidden(
            "passkeys are not available on this server: its public URL has no domain name",
        ))
    }
}

/// The start of a ceremony: options for `navigator.credentials.create/get` (pass them to
/// `PublicKeyCredential.parse…OptionsFromJSON`) and the id that finishes it
#[derive(Debug, Clone, Serialize)]
pub struct CeremonyStart {
    /// Names this ceremony at the finish
    pub ceremony_id: String,
    /// `{publicKey: …}` as the WebAuthn JSON forms
    pub options: serde_json::Value,
}

/// A passkey as the owner's list shows it
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyView {
    /// Our id for it (`DELETE /me/webauthn/credentials/{id}`)
    pub id: String,
    /// The owner's name for it
    pub name: String,
    /// Registration time, unix milliseconds
    pub created_at: i64,
    /// Last sign-in with it, unix milliseconds
    pub last_used_at: Option<i64>,
}

/// Registration state kept between start and finish
#[derive(Serialize, Deserialize)]
struct Registration {
    user_id: String,
    name: String,
    state: PasskeyRegistration,
}

/// Sign-in state kept between start and finish
#[derive(Serialize, Deserialize)]
enum SignInState {
    /// Passwordless: any discoverable credential of any user
    Discoverable(DiscoverableAuthentication),
    /// Second factor: one of the user's credentials, for this `mfa_token` digest
    SecondFactor {
        user_id: String,
        token_hash: String,
        state: PasskeyAuthentication,
    },
}

fn invalid(field: &'static str, reason: &str) -> ServiceError {
    ServiceError::Validation(ValidationError::Field {
        field,
        reason: reason.to_owned(),
    })
}

fn internal(what: &str, err: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unexpected(anyhow::anyhow!("{what}: {err}"))
}

/// The factor a verified passkey proves: synced (backup-eligible) keys are software keys
fn key_factor(backup_eligible: bool) -> Factor {
    if backup_eligible {
        Factor::SoftwareKey
    } else {
        Factor::HardwareKey
    }
}

fn ceremony_key(kind: &str, id: &str) -> String {
    format!("{kind}:{}", token::digest(id))
}

const MAX_NAME_CHARS: usize = 64;

fn valid_name(name: &str) -> Result<&str, ServiceError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(invalid("name", "1 to 64 printable characters"));
    }
    Ok(name)
}

impl Services {
    async fn put_ceremony(
        &self,
        kind: &str,
        state: &impl Serialize,
    ) -> Result<String, ServiceError> {
        let id = token::random_token(24)?;
        let json = serde_json::to_string(state).map_err(|e| internal("ceremony state", e))?;
        self.passkeys
            .ceremonies
            .put(&ceremony_key(kind, &id), &json, now_ms() + CHALLENGE_TTL_MS)
            .await?;
        Ok(id)
    }

    async fn take_ceremony<T: for<'de> Deserialize<'de>>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, ServiceError> {
        let Some(json) = self
            .passkeys
            .ceremonies
            .take(&ceremony_key(kind, id), now_ms())
            .await?
        else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&json).ok())
    }

    /// `POST /me/webauthn/register/start`: creation options for a new passkey named `name`.
    /// A resident (discoverable) key is required, so the passkey can sign in without a
    /// password; the user's registered keys are excluded.
    pub async fn start_passkey_registration(
        &self,
        principal: &Principal,
        name: &str,
        password: &str,
    ) -> Result<CeremonyStart, ServiceError> {
        let webauthn = self.passkeys.relying_party()?;
        let name = valid_name(name)?;
        self.may_change_factors(principal).await?;
        self.confirm_own_password(principal, password, "webauthn.register")
            .await?;
        let user_id = principal.user_id.to_string();
        let (user, existing) = {
            let mut conn = self.db.acquire().await?;
            let user = users::find(&mut conn, &user_id)
                .await?
                .ok_or(ServiceError::AccountGone)?;
            (user, mfa::passkeys(&mut conn, &user_id).await?)
        };
        let exclude: Vec<_> = existing
            .iter()
            .filter_map(|row| URL_SAFE_NO_PAD.decode(&row.credential_id).ok())
            .collect();
        let unique: Uuid = user_id
            .parse()
            .map_err(|e| internal("stored user id is not a uuid", e))?;
        let (options, state) = webauthn
            .start_passkey_registration(unique, &user.email, &user.display_name, Some(exclude))
            .map_err(|e| internal("passkey registration", e))?;
        let mut options = serde_json::to_value(options).map_err(|e| internal("options", e))?;
        if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
            selection["residentKey"] = "required".into();
            selection["requireResidentKey"] = true.into();
        }
        let ceremony_id = self
            .put_ceremony(
                "register",
                &Registration {
                    user_id,
                    name: name.to_owned(),
                    state,
                },
            )
            .await?;
        Ok(CeremonyStart {
            ceremony_id,
            options,
        })
    }

    /// `POST /me/webauthn/register/finish`: verifies the authenticator's answer and stores
    /// the passkey
    pub async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        ceremony_id: &str,
        credential: serde_json::Value,
    ) -> Result<PasskeyView, ServiceError> {
        let webauthn = self.passkeys.relying_party()?;
        self.may_change_factors(principal).await?;
        let user_id = principal.user_id.to_string();
        let registration: Registration = self
            .take_ceremony("register", ceremony_id)
            .await?
            .filter(|r: &Registration| r.user_id == user_id)
            .ok_or_else(|| invalid("ceremony_id", "unknown, expired or used"))?;
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential)
            .map_err(|_| invalid("credential", "not a WebAuthn registration response"))?;
        let passkey = match webauthn.finish_passkey_registration(&credential, &registration.state) {
            Ok(passkey) => passkey,
            Err(err) => {
                self.audit(
                    Entry::failure("webauthn.register")
                        .by(principal)
                        .target(format!("user:{user_id}"))
                        .detail(serde_json::json!({"reason": err.to_string()})),
                )
                .await?;
                return Err(invalid(
                    "credential",
                    "the authenticator's answer did not verify",
                ));
            }
        };
        let now = now_ms();
        let row = mfa::PasskeyRow {
            id: Uuid::now_v7().to_string(),
            user_id: user_id.clone(),
            credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
            name: registration.name,
            passkey: serde_json::to_string(&passkey).map_err(|e| internal("passkey", e))?,
            created_at: now,
            last_used_at: None,
        };
        let mut tx = self.db.begin().await?;
        match mfa::insert_passkey(&mut tx, &row).await {
            Ok(()) => {}
            Err(clouddocs_store::StoreError::Conflict { .. }) => {
                return Err(ServiceError::Conflict("this passkey is registered already"));
            }
            Err(other) => return Err(other.into()),
        }
        record(
            &mut tx,
            Entry::success("webauthn.register")
                .by(principal)
                .target(format!("passkey:{}", row.id))
                .detail(serde_json::json!({"name": row.name})),
        )
        .await?;
        tx.commit().await?;
        // The registering session proved the key; every other one is signed out, since it
        // may predate the factor.
        self.factors_changed(principal, Factor::HardwareKey).await?;
        Ok(PasskeyView {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: None,
        })
    }

    /// `GET /me/webauthn/credentials`
    pub async fn list_passkeys(
        &self,
        principal: &Principal,
    ) -> Result<Vec<PasskeyView>, ServiceError> {
        let mut conn = self.db.acquire().await?;
        let rows = mfa::passkeys(&mut conn, &principal.user_id.to_string()).await?;
        Ok(rows
            .into_iter()
            .map(|row| PasskeyView {
                id: row.id,
                name: row.name,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
            })
            .collect())
    }

    /// `PATCH /me/webauthn/credentials/{id}`: a new name; `NotFound` for another user's
    pub async fn rename_passkey(
        &self,
        principal: &Principal,
        id: &str,
        name: &str,
    ) -> Result<(), ServiceError> {
        let name = valid_name(name)?;
        self.may_change_factors(principal).await?;
        let user_id = principal.user_id.to_string();
        let mut tx = self.db.begin().await?;
        if !mfa::rename_passkey(&mut tx, &user_id, id, name).await? {
            return Err(ServiceError::NotFound);
        }
        record(
            &mut tx,
            Entry::success("webauthn.rename")
                .by(principal)
                .target(format!("passkey:{id}"))
                .detail(serde_json::json!({"name": name})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `DELETE /me/webauthn/credentials/{id}`; `NotFound` for another user's or no passkey
    pub async fn remove_passkey(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(), ServiceError> {
        self.may_change_factors(principal).await?;
        let user_id = principal.user_id.to_string();
        let mut tx = self.db.begin().await?;
        if !mfa::delete_passkey(&mut tx, &user_id, id).await? {
            return Err(ServiceError::NotFound);
        }
        record(
            &mut tx,
            Entry::success("webauthn.remove")
                .by(principal)
                .target(format!("passkey:{id}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /auth/webauthn/start`: request options for any discoverable passkey. Anyone
    /// may ask, so each start counts against the address's sign-in budget (it stores a
    /// ceremony), and is never given back.
    pub async fn start_passkey_sign_in(
        &self,
        addr: Option<std::net::IpAddr>,
    ) -> Result<CeremonyStart, ServiceError> {
        let webauthn = self.passkeys.relying_party()?;
        let _counted = self
            .throttle
            .take_ip(crate::throttle::Gate::Login, addr)
            .await?;
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| internal("passkey sign-in", e))?;
        let mut options = serde_json::to_value(options).map_err(|e| internal("options", e))?;
        // A button asks for the passkey (a modal request), not the autofill of conditional UI.
        if let Some(object) = options.as_object_mut() {
            object.remove("mediation");
        }
        let ceremony_id = self
            .put_ceremony("sign-in", &SignInState::Discoverable(state))
            .await?;
        Ok(CeremonyStart {
            ceremony_id,
            options,
        })
    }

    /// Request options for one of the user's passkeys, as the second factor of the
    /// challenge whose token digest is `token_hash`
    pub(crate) async fn start_passkey_second_factor(
        &self,
        user_id: &str,
        token_hash: &str,
    ) -> Result<CeremonyStart, ServiceError> {
        let webauthn = self.passkeys.relying_party()?;
        let rows = {
            let mut conn = self.db.acquire().await?;
            mfa::passkeys(&mut conn, user_id).await?
        };
        let keys: Vec<Passkey> = rows
            .iter()
            .filter_map(|row| serde_json::from_str(&row.passkey).ok())
            .collect();
        if keys.is_empty() {
            return Err(ServiceError::InvalidSecondFactor);
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| internal("passkey second factor", e))?;
        let options = serde_json::to_value(options).map_err(|e| internal("options", e))?;
        let ceremony_id = self
            .put_ceremony(
                "sign-in",
                &SignInState::SecondFactor {
                    user_id: user_id.to_owned(),
                    token_hash: token_hash.to_owned(),
                    state,
                },
            )
            .await?;
        Ok(CeremonyStart {
            ceremony_id,
            options,
        })
    }

    /// Verifies a sign-in assertion. For a second factor, `expected` is the user and the
    /// challenge's token digest it must belong to. Returns the user and the factor proved;
    /// `InvalidSecondFactor` for anything that does not verify, a counter that went
    /// backwards included (refused and audited as `webauthn.counter_regression`).
    pub(crate) async fn verify_passkey(
        &self,
        ceremony_id: &str,
        credential: serde_json::Value,
        expected: Option<(&str, &str)>,
    ) -> Result<(String, Amr), ServiceError> {
        let webauthn = self.passkeys.relying_party()?;
        let state: SignInState = self
            .take_ceremony("sign-in", ceremony_id)
            .await?
            .ok_or(ServiceError::InvalidSecondFactor)?;
        let credential: PublicKeyCredential =
            serde_json::from_value(credential).map_err(|_| ServiceError::InvalidSecondFactor)?;
        let credential_id = URL_SAFE_NO_PAD.encode(credential.get_credential_id());
        let row = {
            let mut conn = self.db.acquire().await?;
            mfa::passkey_by_credential(&mut conn, &credential_id).await?
        }
        .ok_or(ServiceError::InvalidSecondFactor)?;
        let mut passkey: Passkey =
            serde_json::from_str(&row.passkey).map_err(|e| internal("stored passkey", e))?;
        let result = match state {
            SignInState::Discoverable(state) => {
                if expected.is_some() {
                    return Err(ServiceError::InvalidSecondFactor);
                }
                let (handle, _) = webauthn
                    .identify_discoverable_authentication(&credential)
                    .map_err(|_| ServiceError::InvalidSecondFactor)?;
                if handle.to_string() != row.user_id {
                    return Err(ServiceError::InvalidSecondFactor);
                }
                webauthn.finish_discoverable_authentication_v2(&credential, state, &passkey)
            }
            SignInState::SecondFactor {
                user_id,
                token_hash,
                state,
            } => {
                if expected != Some((user_id.as_str(), token_hash.as_str()))
                    || row.user_id != user_id
                {
                    return Err(ServiceError::InvalidSecondFactor);
                }
                webauthn.finish_passkey_authentication(&credential, &state)
            }
        };
        let result = match result {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                tracing::warn!(passkey = %row.id, "a passkey's signature counter went backwards: refused");
                self.audit(
                    Entry::failure("webauthn.counter_regression")
                        .actor(&row.user_id)
                        .target(format!("passkey:{}", row.id)),
                )
                .await?;
                return Err(ServiceError::InvalidSecondFactor);
            }
            Err(err) => {
                self.audit(
                    Entry::failure("webauthn.login")
                        .actor(&row.user_id)
                        .target(format!("passkey:{}", row.id))
                        .detail(serde_json::json!({"reason": err.to_string()})),
                )
                .await?;
                return Err(ServiceError::InvalidSecondFactor);
            }
        };
        passkey.update_credential(&result);
        let stored = serde_json::to_string(&passkey).map_err(|e| internal("passkey", e))?;
        let raised = {
            let mut conn = self.db.acquire().await?;
            mfa::passkey_used(
                &mut conn,
                &row.id,
                &stored,
                i64::from(result.counter()),
                now_ms(),
            )
            .await?
        };
        if !raised {
            // webauthn-rs compared the counter with the copy taken when the ceremony began;
            // the stored one is the arbiter (a newer sign-in, or a clone, got there first).
            tracing::warn!(passkey = %row.id, "a passkey's signature counter did not go up: refused");
            self.audit(
                Entry::failure("webauthn.counter_regression")
                    .actor(&row.user_id)
                    .target(format!("passkey:{}", row.id)),
            )
            .await?;
            return Err(ServiceError::InvalidSecondFactor);
        }
        Ok((
            row.user_id,
            Amr::NONE.with(key_factor(result.backup_eligible())),
        ))
    }

    /// `POST /auth/webauthn/finish`: a discoverable passkey signs in without a password
    /// (limited per address like `/auth/login`); audited as `webauthn.login`
    pub async fn passkey_sign_in(
        &self,
        ceremony_id: &str,
        credential: serde_json::Value,
        addr: Option<std::net::IpAddr>,
        user_agent: Option<String>,
    ) -> Result<crate::LoginOutcome, ServiceError> {
        let per_address = self
            .throttle
            .take_ip(crate::throttle::Gate::Login, addr)
            .await?;
        let (user_id, amr) = self.verify_passkey(ceremony_id, credential, None).await?;
        let user = {
            let mut conn = self.db.acquire().await?;
            users::find(&mut conn, &user_id).await?
        }
        .filter(|u| !u.disabled())
        .ok_or(ServiceError::InvalidSecondFactor)?;
        self.throttle.succeeded(per_address).await;
        self.audit(
            Entry::success("webauthn.login")
                .actor(&user.id)
                .target(format!("user:{}", user.id))
                .detail(serde_json::json!({"amr": amr.values()})),
        )
        .await?;
        self.open_session(&user, amr, addr, user_agent).await
    }
}
