//! Revocation (RFC 7009), introspection (RFC 7662), refresh-family revocation through the
//! denylist, and bearer sign-out.

use crate::tokens::Client;
use clouddocs_auth::token;
use clouddocs_domain::{AuthMethod, Principal};
use clouddocs_store::sql::refresh;
use serde::Serialize;

use super::{AccessClaims, BearerError, family_key, jti_key};
use crate::audit::Entry;
use crate::oauth::OAuthError;
use crate::{ServiceError, Services, millis, now_ms};

/// RFC 7662 introspection answer
#[derive(Debug, Clone, Default, Serialize)]
pub struct Introspection {
    /// Whether the token is valid now
    pub active: bool,
    /// Granted scopes
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Client the token was issued to
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Subject
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `access_token` or `refresh_token`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry (unix seconds)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at (unix seconds)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Token id
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Services {
    /// Revokes a family: its refresh tokens, and (through the denylist) every access token
    /// issued from it
    pub(crate) async fn revoke_family(
        &self,
        family_id: &str,
        reason: &str,
    ) -> Result<(), ServiceError> {
        {
            // INVARIANT: the connection is released before the denylist takes one, so
            // concurrent revocations can never hold the whole pool while waiting for it.
            let mut conn = self.db.acquire().await?;
            refresh::revoke_family(&mut conn, family_id, reason, now_ms()).await?;
        }
        self.denylist_family(family_id).await
    }

    pub(crate) async fn denylist_family(&self, family_id: &str) -> Result<(), ServiceError> {
        // Access tokens of the family live at most `access_ttl` (plus leeway) from now.
        let until = now_ms()
            .saturating_add(millis(self.tokens.access_ttl))
            .saturating_add(120_000);
        self.denylist.revoke(&family_key(family_id), until).await?;
        Ok(())
    }

    /// Revokes every refresh family (and so every access token) of a user
    pub(crate) async fn revoke_user_tokens(
        &self,
        user_id: &str,
        reason: &str,
    ) -> Result<(), ServiceError> {
        let families = {
            let mut conn = self.db.acquire().await?;
            refresh::revoke_all_for_user(&mut conn, user_id, reason, now_ms()).await?
        };
        for family in families {
            self.denylist_family(&family).await?;
        }
        Ok(())
    }

    /// Denylists the presented access token until it expires (logout with a bearer token)
    pub async fn revoke_access_token(
        &self,
        jti: &str,
        expires_at_secs: i64,
    ) -> Result<(), ServiceError> {
        self.denylist
            .revoke(
                &jti_key(jti),
                expires_at_secs.saturating_mul(1000).saturating_add(120_000),
            )
            .await?;
        Ok(())
    }

    /// Signs the bearer token's holder out (`POST /auth/logout` with a bearer token): the
    /// token is denylisted and, when it descends from a sign-in, that refresh family ends
    /// too, so the device's refresh token stops working as well
    pub async fn sign_out_bearer(&self, principal: &Principal) -> Result<(), ServiceError> {
        let AuthMethod::Bearer {
            jti,
            expires_at,
            family_id,
            ..
        } = &principal.method
        else {
            return Err(ServiceError::Forbidden("not a bearer token"));
        };
        self.revoke_access_token(jti, *expires_at).await?;
        let mut entry = Entry::success("token.revoke")
            .by(principal)
            .target(format!("jti:{jti}"));
        if let Some(family) = family_id {
            self.revoke_family(family, "signed out").await?;
            entry = entry.detail(serde_json::json!({"via": "logout", "family": family}));
        } else {
            entry = entry.detail(serde_json::json!({"via": "logout"}));
        }
        self.audit(entry).await
    }

    /// RFC 7009: revokes a refresh token (its family) or an access token; unknown tokens
    /// are not an error.
    ///
    /// A token issued to a client may be revoked by that client only, authenticated
    /// (public clients by `client_id`); presented by anyone else it is answered like an
    /// unknown token, and presented with no client authentication it is `invalid_client`.
    /// A token issued to no client (the `password` grant without a client) is revocable
    /// without client authentication: holding it is the proof (RFC 7009 §2.1).
    pub async fn revoke_token(
        &self,
        presented: &str,
        client: Option<&Client>,
    ) -> Result<(), OAuthError> {
        let found = {
            let mut conn = self.db.acquire().await?;
            refresh::find_presented(&mut conn, &token::digest(presented)).await?
        };
        if let Some(found) = found {
            let actor = may_revoke(found.client_id.as_deref(), &found.user_id, client)?;
            if let Some(actor) = actor {
                self.revoke_family(&found.family_id, "revoked by its holder")
                    .await?;
                self.audit(
                    Entry::success("token.revoke")
                        .actor(actor)
                        .target(format!("family:{}", found.family_id)),
                )
                .await?;
            }
            return Ok(());
        }
        if let Ok(claims) = self
            .keys
            .ring()
            .verify::<AccessClaims>(presented, &self.verify_options())
        {
            let actor = may_revoke(claims.client_id.as_deref(), &claims.sub, client)?;
            if let Some(actor) = actor {
                self.revoke_access_token(&claims.jti, claims.exp).await?;
                self.audit(
                    Entry::success("token.revoke")
                        .actor(actor)
                        .target(format!("jti:{}", claims.jti)),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// RFC 7662: what the presented token is, if it is active
    pub async fn introspect(&self, presented: &str) -> Result<Introspection, OAuthError> {
        match self.verify_live_access(presented).await {
            Ok(claims) => {
                let claims = AccessClaims::clone(&claims);
                return Ok(Introspection {
                    active: true,
                    scope: Some(claims.scope),
                    client_id: claims.client_id,
                    sub: Some(claims.sub),
                    token_type: Some("access_token"),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    iss: Some(claims.iss),
                    aud: Some(claims.aud),
                    jti: Some(claims.jti),
                });
            }
            Err(BearerError::Revoked) => return Ok(Introspection::default()),
            Err(BearerError::Unavailable(err)) => return Err(err.into()),
            // Not a valid access token: perhaps a refresh token.
            Err(BearerError::Invalid(_) | BearerError::NotAUser) => {}
        }
        let found = {
            let mut conn = self.db.acquire().await?;
            refresh::find_presented(&mut conn, &token::digest(presented)).await?
        };
        match found {
            Some(t) if t.used_at.is_none() && t.revoked_at.is_none() && t.expires_at > now_ms() => {
                Ok(Introspection {
                    active: true,
                    scope: Some(t.scope),
                    client_id: t.client_id,
                    sub: Some(t.user_id),
                    token_type: Some("refresh_token"),
                    exp: Some(t.expires_at / 1000),
                    iss: Some(self.tokens.issuer.clone()),
                    ..Introspection::default()
                })
            }
            _ => Ok(Introspection::default()),
        }
    }
}

/// Who revokes a token issued to `owner_client` (or to no client) for `user_id`, when
/// `client` authenticated the request: `Ok(Some(actor))` to revoke, `Ok(None)` to answer
/// as for an unknown token (another client's token), `Err(InvalidClient)` when the token's
/// client must authenticate and did not
fn may_revoke<'a>(
    owner_client: Option<&'a str>,
    user_id: &'a str,
    client: Option<&'a Client>,
) -> Result<Option<&'a str>, OAuthError> {
    match (owner_client, client) {
        (None, Some(c)) => Ok(Some(c.id())),
        (None, None) => Ok(Some(user_id)),
        (Some(owner), Some(c)) if owner == c.id() => Ok(Some(c.id())),
        (Some(_), Some(_)) => Ok(None),
        (Some(_), None) => Err(OAuthError::InvalidClient),
    }
}
