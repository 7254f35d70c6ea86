//! `grant_type=refresh_token` (RFC 6749 §6): rotation on every use; a token used twice
//! revokes its family.

use clouddocs_auth::token;
use clouddocs_domain::Scopes;
use clouddocs_store::sql::refresh;

use super::{Replay, TokenResponse, narrow, roles_claim};
use crate::audit::{Entry, record};
use crate::oauth::OAuthError;
use crate::tokens::{Client, user_scopes};
use crate::{ServiceError, Services, now_ms};

impl Services {
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
            return Err(self
                .revoke_on_reuse(Replay {
                    reason: "refresh token reuse",
                    family: Some(&presented.family_id),
                    action: "token.reuse",
                    actor: &presented.user_id,
                    target: format!("family:{}", presented.family_id),
                    answer: "refresh token was already used; the session is revoked",
                })
                .await);
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
        tx.commit().await?;
        let Some(user) = user.filter(|u| !u.disabled()) else {
            return Err(OAuthError::InvalidGrant(
                "refresh token is revoked or expired",
            ));
        };
        let scopes = scopes.intersection(&user_scopes(user.platform_admin()));
        let roles = roles_claim(user.platform_admin());
        let (access_token, expires_in) = self.sign_access(
            &user.id,
            &scopes,
            Some(&presented.family_id),
            presented.client_id.as_deref(),
            roles,
            super::Subject::User(super::SignedIn {
                amr: clouddocs_domain::Amr::from_stored(&presented.amr),
                auth_time_ms: presented.auth_time,
            }),
        )?;
        Ok(TokenResponse {
            access_token,
            token_type: "bearer",
            expires_in,
            refresh_token: Some(next),
            scope: scopes.to_string(),
        })
    }
}
