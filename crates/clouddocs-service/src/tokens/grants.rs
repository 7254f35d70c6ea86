//! The OAuth 2.0 token endpoint's grants: `password`, `refresh_token` and
//! `client_credentials`, and the signing of access tokens.

use crate::tokens::Client;
use clouddocs_auth::jwt::VerifyOptions;
use clouddocs_auth::token;
use clouddocs_domain::Scopes;
use clouddocs_store::StoreError;
use clouddocs_store::sql::refresh::{self, FamilyRow};
use clouddocs_store::sql::users::UserRow;
use serde::Serialize;

use super::{AccessClaims, user_scopes};
use crate::audit::{Entry, record};
use crate::{ServiceError, Services, millis, now_ms};

/// An RFC 6749 error: `error` code and a safe description
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_request`
    #[error("{0}")]
    InvalidRequest(String),
    /// `invalid_client` (401)
    #[error("client authentication failed")]
    InvalidClient,
    /// `invalid_grant`
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// `unauthorized_client`
    #[error("the client may not use this grant type")]
    UnauthorizedClient,
    /// `unsupported_grant_type`
    #[error("grant type `{0}` is not supported")]
    UnsupportedGrantType(String),
    /// `invalid_scope`
    #[error("{0}")]
    InvalidScope(String),
    /// A server-side failure (`server_error`)
    #[error(transparent)]
    Server(#[from] ServiceError),
}

impl OAuthError {
    /// The RFC 6749 error code
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::Server(_) => "server_error",
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(err: StoreError) -> Self {
        OAuthError::Server(err.into())
    }
}

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
fn narrow(requested: Option<&str>, allowed: &Scopes) -> Result<Scopes, OAuthError> {
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
        is_client: bool,
    ) -> Result<(String, i64), ServiceError> {
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
            client: is_client,
        };
        Ok((self.keys.sign(&claims)?, ttl))
    }

    /// Issues an access token and the first refresh token of a new family (one per login)
    pub(crate) async fn issue_for_login(
        &self,
        user: &UserRow,
        scopes: &Scopes,
        client_id: Option<&str>,
    ) -> Result<TokenResponse, ServiceError> {
        let now = now_ms();
        let family = FamilyRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            client_id: client_id.map(str::to_owned),
            scope: scopes.to_string(),
            created_at: now,
            expires_at: now.saturating_add(millis(self.tokens.refresh_family_ttl)),
            revoked_at: None,
            revoked_reason: None,
        };
        let refresh_token = token::random_token(32)?;
        let mut tx = self.db.begin().await?;
        refresh::insert_family(&mut tx, &family).await?;
        refresh::insert_token(
            &mut tx,
            &uuid::Uuid::now_v7().to_string(),
            &family.id,
            &token::digest(&refresh_token),
            now,
        )
        .await?;
        record(
            &mut tx,
            Entry::success("token.issue")
                .actor(&user.id)
                .target(format!("family:{}", family.id))
                .detail(serde_json::json!({"scope": scopes.to_string(), "client_id": client_id})),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        let roles = if user.platform_admin() {
            vec!["platform_admin".to_owned()]
        } else {
            Vec::new()
        };
        let (access_token, expires_in) =
            self.sign_access(&user.id, scopes, Some(&family.id), client_id, roles, false)?;
        tracing::info!(user_id = %user.id, family = %family.id, "tokens issued");
        Ok(TokenResponse {
            access_token,
            token_type: "bearer",
            expires_in,
            refresh_token: Some(refresh_token),
            scope: scopes.to_string(),
        })
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

    /// `grant_type=password`
    pub async fn password_grant(
        &self,
        username: &str,
        password: &str,
        scope: Option<&str>,
        client: Option<&Client>,
    ) -> Result<TokenResponse, OAuthError> {
        if let Some(c) = client
            && !c.allows_grant("password")
        {
            return Err(OAuthError::UnauthorizedClient);
        }
        let user = match self.check_password(username, password).await {
            Ok(user) => user,
            Err(ServiceError::InvalidCredentials) => {
                return Err(OAuthError::InvalidGrant("invalid username or password"));
            }
            Err(other) => return Err(other.into()),
        };
        let mut allowed = user_scopes(user.platform_admin());
        if let Some(c) = client {
            allowed = allowed.intersection(&Scopes::parse(&c.0.scopes).unwrap_or_default());
        }
        let scopes = narrow(scope, &allowed)?;
        Ok(self
            .issue_for_login(&user, &scopes, client.map(|c| c.id()))
            .await?)
    }

    /// `grant_type=refresh_token`: rotates the token; a token used twice revokes its family
    pub async fn refresh_grant(
        &self,
        refresh_token: &str,
        scope: Option<&str>,
        client: Option<&Client>,
    ) -> Result<TokenResponse, OAuthError> {
        let now = now_ms();
        let presented = {
            let mut conn = self.db.acquire().await?;
            refresh::find_presented(&mut conn, &token::digest(refresh_token)).await?
        };
        let Some(presented) = presented else {
            return Err(OAuthError::InvalidGrant("refresh token is invalid"));
        };
        if presented.client_id.as_deref() != client.map(|c| c.id()) {
            return Err(OAuthError::InvalidGrant(
                "refresh token was issued to another client",
            ));
        }
        if presented.revoked_at.is_some() || presented.expires_at <= now {
            return Err(OAuthError::InvalidGrant(
                "refresh token is revoked or expired",
            ));
        }
        let granted = Scopes::parse(&presented.scope).unwrap_or_default();
        let scopes = narrow(scope, &granted)?;
        let next = token::random_token(32).map_err(ServiceError::from)?;
        let mut tx = self.db.begin().await?;
        // INVARIANT: the conditional UPDATE is the first statement of the transaction, so
        // exactly one concurrent presenter claims the token; every other one is a reuse.
        if !refresh::claim(&mut tx, &presented.token_id, now).await? {
            drop(tx);
            self.revoke_family(&presented.family_id, "refresh token reuse")
                .await?;
            self.audit(
                Entry::failure("token.reuse")
                    .actor(&presented.user_id)
                    .target(format!("family:{}", presented.family_id))
                    .detail(serde_json::json!({"family_revoked": true})),
            )
            .await?;
            tracing::warn!(family = %presented.family_id, user_id = %presented.user_id, "refresh token reuse: family revoked");
            return Err(OAuthError::InvalidGrant(
                "refresh token was already used; the session is revoked",
            ));
        }
        refresh::insert_token(
            &mut tx,
            &uuid::Uuid::now_v7().to_string(),
            &presented.family_id,
            &token::digest(&next),
            now,
        )
        .await?;
        let user = clouddocs_store::sql::users::find(&mut tx, &presented.user_id).await?;
        record(
            &mut tx,
            Entry::success("token.refresh")
                .actor(&presented.user_id)
                .target(format!("family:{}", presented.family_id)),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        let Some(user) = user.filter(|u| !u.disabled()) else {
            return Err(OAuthError::InvalidGrant(
                "refresh token is revoked or expired",
            ));
        };
        let scopes = scopes.intersection(&user_scopes(user.platform_admin()));
        let roles = if user.platform_admin() {
            vec!["platform_admin".to_owned()]
        } else {
            Vec::new()
        };
        let (access_token, expires_in) = self.sign_access(
            &user.id,
            &scopes,
            Some(&presented.family_id),
            presented.client_id.as_deref(),
            roles,
            false,
        )?;
        Ok(TokenResponse {
            access_token,
            token_type: "bearer",
            expires_in,
            refresh_token: Some(next),
            scope: scopes.to_string(),
        })
    }

    /// `grant_type=client_credentials`: a token whose subject is the client itself
    pub async fn client_credentials_grant(
        &self,
        client: &Client,
        scope: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.confidential() {
            return Err(OAuthError::UnauthorizedClient);
        }
        if !client.allows_grant("client_credentials") {
            return Err(OAuthError::UnauthorizedClient);
        }
        let allowed = Scopes::parse(&client.0.scopes).unwrap_or_default();
        let scopes = narrow(scope, &allowed)?;
        self.throttle.take_client(client.id()).await?;
        let (access_token, expires_in) = self.sign_access(
            client.id(),
            &scopes,
            None,
            Some(client.id()),
            Vec::new(),
            true,
        )?;
        self.audit(
            Entry::success("token.issue")
                .actor(client.id())
                .target(format!("client:{}", client.id()))
                .detail(
                    serde_json::json!({"scope": scopes.to_string(), "grant": "client_credentials"}),
                ),
        )
        .await?;
        Ok(TokenResponse {
            access_token,
            token_type: "bearer",
            expires_in,
            refresh_token: None,
            scope: scopes.to_string(),
        })
    }

    /// The issuer and audience tokens are checked against
    pub fn token_config(&self) -> &super::TokenConfig {
        &self.tokens
    }

    /// The algorithm of the current signing key (`EdDSA`, `ES256`, …)
    pub fn signing_algorithm(&self) -> &'static str {
        self.keys.ring().current_alg().as_str()
    }

    /// The public JWKS document
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// Periodic upkeep: picks up keys rotated by other processes, purges expired denylist
    /// rows and sessions
    pub async fn housekeeping(&self) -> Result<(), ServiceError> {
        self.keys.reload().await?;
        self.reload_policies().await?;
        let now = now_ms();
        self.denylist.purge_expired(now).await?;
        let mut conn = self.db.acquire().await?;
        clouddocs_store::sql::sessions::delete_expired(&mut conn, now).await?;
        // Used codes are kept a day past expiry so a late replay still revokes its tokens.
        clouddocs_store::sql::oidc::purge_codes(&mut conn, now.saturating_sub(86_400_000)).await?;
        Ok(())
    }

    /// Rotates the signing key (CLI `keys rotate`)
    pub async fn rotate_signing_key(&self, actor: &str) -> Result<String, ServiceError> {
        self.keys.rotate(actor).await
    }
}
