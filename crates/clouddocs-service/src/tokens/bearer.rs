//! Bearer authentication: an access JWT verified (signature once, then from the
//! verified-token cache) and checked against the denylist, failing closed.

use clouddocs_auth::jwt::JwtError;
use clouddocs_domain::{AuthMethod, ClientId, Principal, Scopes, UserId};

use super::{AccessClaims, family_key, jti_key};
use crate::{ServiceError, Services, now_ms};

/// Why a bearer token was not accepted
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// The JWT itself is invalid (signature, claims, size, header)
    #[error(transparent)]
    Invalid(#[from] JwtError),
    /// The token, or the login it descends from, was revoked
    #[error("token has been revoked")]
    Revoked,
    /// A `client_credentials` token: it names a client, not a user
    #[error("client tokens cannot act as a user")]
    NotAUser,
    /// The denylist could not be checked; the token is refused (fail closed)
    #[error("token cannot be checked right now")]
    Unavailable(#[source] clouddocs_store::StoreError),
}

impl Services {
    /// Verifies an access token (signature once, then from the verified-token cache; expiry
    /// every time) and checks the denylist for the token and the login it descends from
    pub(crate) async fn verify_live_access(
        &self,
        jwt: &str,
    ) -> Result<std::sync::Arc<AccessClaims>, BearerError> {
        let now = now_ms() / 1000;
        let digest = super::verified::digest(jwt);
        let claims = match self.verified.get(&digest, now) {
            Some(claims) => claims,
            None => {
                let claims: std::sync::Arc<AccessClaims> =
                    std::sync::Arc::new(self.keys.verify(jwt, &self.verify_options()).await?);
                self.verified.insert(digest, claims.clone(), now);
                claims
            }
        };
        let jti = jti_key(&claims.jti);
        let fam = claims
            .sid
            .as_deref()
            .map(family_key)
            .unwrap_or_else(|| jti.clone());
        match self
            .denylist
            .any_revoked([&jti, &fam, &jti], now_ms())
            .await
        {
            Ok(false) => Ok(claims),
            Ok(true) => Err(BearerError::Revoked),
            Err(err) => {
                // Fail closed: a token that cannot be checked is not accepted.
                tracing::error!(error = %err, "denylist unavailable");
                Err(BearerError::Unavailable(err))
            }
        }
    }

    /// Verifies a bearer access token and checks the denylist
    pub async fn authenticate_bearer(&self, jwt: &str) -> Result<Principal, BearerError> {
        let claims = self.verify_live_access(jwt).await?;
        if claims.client {
            return Err(BearerError::NotAUser);
        }
        let user_id: UserId = claims
            .sub
            .parse()
            .map_err(|_| BearerError::Invalid(JwtError::Malformed))?;
        Ok(Principal {
            user_id,
            platform_admin: claims.roles.iter().any(|r| r == "platform_admin"),
            method: AuthMethod::Bearer {
                jti: claims.jti.clone(),
                expires_at: claims.exp,
                client_id: claims.client_id.clone().map(ClientId::new),
                family_id: claims.sid.clone(),
            },
            scopes: Scopes::parse(&claims.scope)
                .map_err(|_| BearerError::Invalid(JwtError::Malformed))?,
            amr: clouddocs_domain::Amr::parse(claims.amr.iter().map(String::as_str)),
        })
    }
}

/// The JWT inspector's answer about a pasted token
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInspection {
    /// The decoded header, if it decodes
    pub header: Option<serde_json::Value>,
    /// The decoded claims, if they decode (whether or not they verify)
    pub claims: Option<serde_json::Value>,
    /// Whether this server would accept it as an access token now
    pub accepted: bool,
    /// Every reason it would be refused; empty when accepted
    pub reasons: Vec<String>,
}

impl Services {
    /// What the JWT inspector shows: the real verifier's verdict on `jwt` as an access
    /// token, every reason for a refusal, and the denylist. Nothing of the token is
    /// logged, stored or audited.
    pub async fn inspect_token(&self, jwt: &str) -> Result<TokenInspection, ServiceError> {
        let jwt = jwt.trim();
        let diagnosis = self.keys.ring().diagnose(jwt, &self.verify_options());
        // The verdict is the API's own: the key manager's verification (which reloads the
        // keys on an unknown kid) into the access-token claims, then the user check.
        let verified = self
            .keys
            .verify::<AccessClaims>(jwt, &self.verify_options())
            .await;
        let mut accepted = verified.is_ok();
        let mut reasons = diagnosis.reasons;
        match &verified {
            Ok(claims) if claims.client => {
                accepted = false;
                reasons.push(
                    "a client's own token (client_credentials): it cannot act as a user on this API"
                        .to_owned(),
                );
            }
            Ok(_) => reasons.clear(),
            Err(err) if reasons.is_empty() => reasons.push(err.to_string()),
            Err(_) => {}
        }
        if accepted && let Some(claims) = &diagnosis.claims {
            let jti = claims
                .get("jti")
                .and_then(serde_json::Value::as_str)
                .map(jti_key)
                .unwrap_or_default();
            let fam = claims
                .get("sid")
                .and_then(serde_json::Value::as_str)
                .map(family_key)
                .unwrap_or_else(|| jti.clone());
            if self
                .denylist
                .any_revoked([&jti, &fam, &jti], now_ms())
                .await?
            {
                accepted = false;
                reasons.push(
                    "revoked: the token, or the sign-in it descends from, is on the denylist"
                        .to_owned(),
                );
            }
        }
        Ok(TokenInspection {
            header: diagnosis.header,
            claims: diagnosis.claims,
            accepted,
            reasons,
        })
    }
}
