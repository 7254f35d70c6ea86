//! The token endpoint's grants, one file each, and what they share: the success answer,
//! scope narrowing, access-token signing, a login's first refresh token, client
//! authentication, and the one answer to a replayed single-use credential.

mod authorization_code;
mod client_credentials;
mod password;
mod refresh_token;

pub use authorization_code::CodeTokenResponse;

use clouddocs_auth::jwt::VerifyOptions;
use clouddocs_auth::token;
use clouddocs_domain::{Amr, Scopes};
use clouddocs_store::sql::refresh::{self, FamilyRow};
use clouddocs_store::sql::users::UserRow;
use serde::Serialize;

use super::OAuthError;
use crate::audit::{Entry, record};
use crate::tokens::{AccessClaims, Client};
use crate::{ServiceError, Services, millis, now_ms};

/// The token endpoint's success answer
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The access JWT
    pub access_token: String,
    /// Always `bearer`
    pub token_type: &'static str,
    /// Seconds until the access token expires
    pub expires_in: i64,
    /// The next refresh token, if the grant issues one
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scopes
    pub scope: String,
}

/// Parses a requested scope string against what may be granted; empty means "all allowed"
pub(crate) fn narrow(requested: Option<&str>, allowed: &Scopes) -> Result<Scopes, OAuthError> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(allowed.clone()),
        Some(raw) => {
            let wanted = Scopes::parse(raw).map_err(|e| OAuthError::InvalidScope(e.to_string()))?;
            if !allowed.is_superset(&wanted) {
                return Err(OAuthError::InvalidScope(
                    "requested scope exceeds what may be granted".to_owned(),
                ));
            }
            Ok(wanted)
        }
    }
}

/// The `roles` claim of a user's access token
pub(crate) fn roles_claim(platform_admin: bool) -> Vec<String> {
    if platform_admin {
        vec!["platform_admin".to_owned()]
    } else {
        Vec::new()
    }
}

/// Whom an access token is about
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject {
    /// An OAuth client acting for itself (`client_credentials`)
    Client,
    /// A user, and what their sign-in proved
    User(SignedIn),
}

/// What a sign-in proved and when: the `amr` and `auth_time` of every token it yields
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedIn {
    /// The factors
    pub amr: Amr,
    /// When the user signed in (unix milliseconds)
    pub auth_time_ms: i64,
}

impl SignedIn {
    /// A sign-in that happens now with `amr`
    pub(crate) fn now(amr: Amr) -> Self {
        Self {
            amr,
            auth_time_ms: now_ms(),
        }
    }
}

/// A single-use credential presented again: what to revoke, record and answer
pub(crate) struct Replay<'a> {
    /// The refresh family issued from the credential, if any: revoked
    pub family: Option<&'a str>,
    /// Why the family is revoked, as stored with it
    pub reason: &'static str,
    /// The audit action, e.g. `token.reuse`
    pub action: &'static str,
    /// The user the credential belongs to
    pub actor: &'a str,
    /// The audit target
    pub target: String,
    /// The `invalid_grant` description
    pub answer: &'static str,
}

impl Services {
    pub(crate) fn verify_options(&self) -> VerifyOptions {
        VerifyOptions::new(self.tokens.issuer.clone(), [self.tokens.audience.clone()])
    }

    pub(crate) fn sign_access(
        &self,
        sub: &str,
        scopes: &Scopes,
        sid: Option<&str>,
        client_id: Option<&str>,
        roles: Vec<String>,
        subject: Subject,
    ) -> Result<(String, i64), ServiceError> {
        let (amr, auth_time) = match subject {
            Subject::Client => (Vec::new(), None),
            Subject::User(signed_in) => (
                signed_in
                    .amr
                    .values()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                Some(signed_in.auth_time_ms / 1000),
            ),
        };
        let now = now_ms() / 1000;
        let ttl = i64::try_from(self.tokens.access_ttl.as_secs()).unwrap_or(900);
        let claims = AccessClaims {
            iss: self.tokens.issuer.clone(),
            sub: sub.to_owned(),
            aud: self.tokens.audience.clone(),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::now_v7().to_string(),
            scope: scopes.to_string(),
            sid: sid.map(str::to_owned),
            client_id: client_id.map(str::to_owned),
            roles,
            client: matches!(subject, Subject::Client),
            amr,
            auth_time,
        };
        Ok((self.keys.sign(&claims)?, ttl))
    }

    /// Issues an access token and the first refresh token of a new family (one per login)
    pub(crate) async fn issue_for_login(
        &self,
        user: &UserRow,
        scopes: &Scopes,
        client_id: Option<&str>,
        signed_in: SignedIn,
    ) -> Result<TokenResponse, ServiceError> {
        let mut tx = self.db.begin().await?;
        let (family, refresh_token) = self
            .start_family(&mut tx, &user.id, client_id, scopes, signed_in)
            .await?;
        record(
            &mut tx,
            Entry::success("token.issue")
                .actor(&user.id)
                .target(format!("family:{}", family.id))
                .detail(serde_json::json!({
                    "scope": scopes.to_string(),
                    "client_id": client_id,
                    "amr": signed_in.amr.values(),
                })),
        )
        .await?;
        tx.commit().await?;
        let roles = roles_claim(user.platform_admin());
        let (access_token, expires_in) = self.sign_access(
            &user.id,
            scopes,
            Some(&family.id),
            client_id,
            roles,
            Subject::User(signed_in),
        )?;
        tracing::info!(user_id = %user.id, family = %family.id, "tokens issued");
        Ok(TokenResponse {
            access_token,
            token_type: "bearer",
            expires_in,
            refresh_token: Some(refresh_token),
            scope: scopes.to_string(),
        })
    }

    /// Opens a refresh family (one per sign-in) in `tx` and stores the digest of its first
    /// refresh token; returns the family and the token to hand out
    pub(crate) async fn start_family(
        &self,
        tx: &mut clouddocs_store::Tx,
        user_id: &str,
        client_id: Option<&str>,
        scopes: &Scopes,
        signed_in: SignedIn,
    ) -> Result<(FamilyRow, String), ServiceError> {
        let now = now_ms();
        let family = FamilyRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            client_id: client_id.map(str::to_owned),
            scope: scopes.to_string(),
            created_at: now,
            expires_at: now.saturating_add(millis(self.tokens.refresh_family_ttl)),
            revoked_at: None,
            revoked_reason: None,
            amr: signed_in.amr.to_string(),
            auth_time: Some(signed_in.auth_time_ms),
        };
        let refresh_token = token::random_token(32)?;
        refresh::insert_family(tx, &family).await?;
        refresh::insert_token(
            tx,
            &uuid::Uuid::now_v7().to_string(),
            &family.id,
            &token::digest(&refresh_token),
            now,
        )
        .await?;
        Ok((family, refresh_token))
    }

    /// Resolves a client from the token endpoint's credentials. Public clients present no
    /// secret; confidential ones must present the right one (compared in constant time).
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<Client, OAuthError> {
        let client = match self.clients.get(client_id) {
            Ok(client) => Some(client),
            Err(ticket) => {
                let mut conn = self.db.acquire().await?;
                let found = clouddocs_store::sql::clients::find(&mut conn, client_id)
                    .await?
                    .map(std::sync::Arc::new);
                if let Some(found) = &found {
                    self.clients.fill(ticket, client_id, found.clone());
                }
                found
            }
        };
        // Client ids are public identifiers (RFC 6749 §2.2), so serving known ones from the
        // cache reveals nothing; the secret is hashed whether or not the client exists.
        let presented = token::digest(secret.unwrap_or_default());
        let Some(client) = client.map(std::sync::Arc::unwrap_or_clone) else {
            return Err(OAuthError::InvalidClient);
        };
        match (&client.secret_hash, secret) {
            (Some(expected), Some(_)) if token::constant_time_eq(expected, &presented) => {
                Ok(Client(client))
            }
            (None, None) if !client.confidential() => Ok(Client(client)),
            _ => Err(OAuthError::InvalidClient),
        }
    }

    /// The one answer to a replayed refresh token or authorization code: the family issued
    /// from it is revoked (and, through the denylist, every access token of it), the replay
    /// is audited, and the presenter gets `invalid_grant`
    pub(crate) async fn revoke_on_reuse(&self, replay: Replay<'_>) -> OAuthError {
        if let Some(family) = replay.family
            && let Err(err) = self.revoke_family(family, replay.reason).await
        {
            return err.into();
        }
        let entry = Entry::failure(replay.action)
            .actor(replay.actor)
            .target(replay.target)
            .detail(serde_json::json!({"family_revoked": replay.family}));
        if let Err(err) = self.audit(entry).await {
            return err.into();
        }
        tracing::warn!(action = replay.action, family = ?replay.family, "single-use credential replayed: family revoked");
        OAuthError::InvalidGrant(replay.answer)
    }
}
