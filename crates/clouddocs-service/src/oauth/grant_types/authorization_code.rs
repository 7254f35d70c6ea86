//! `grant_type=authorization_code` (RFC 6749 §4.1.3 with RFC 7636 PKCE): the code is
//! claimed once, checked against its client, redirect URI, expiry and PKCE challenge, and
//! exchanged for an access token, a refresh token of a new family and an ID token.

use crate::tokens::Client;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clouddocs_auth::token;
use clouddocs_domain::Scopes;
use clouddocs_store::sql::{oidc, users};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{Replay, TokenResponse, roles_claim};
use crate::audit::{Entry, record};
use crate::oauth::OAuthError;
use crate::tokens::user_scopes;
use crate::{Services, now_ms};

/// The token answer of the code grant: the usual tokens plus the ID token
#[derive(Debug, Clone, Serialize)]
pub struct CodeTokenResponse {
    /// Access and refresh tokens
    #[serde(flatten)]
    pub tokens: TokenResponse,
    /// The ID token, when `openid` was granted
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`, in constant time
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    valid && token::constant_time_eq(&computed, challenge)
}

impl Services {
    /// `grant_type=authorization_code`. A code presented a second time revokes the tokens
    /// issued from it (RFC 6749 §4.1.2).
    pub async fn authorization_code_grant(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<CodeTokenResponse, OAuthError> {
        if !client.allows_grant("authorization_code") {
            return Err(OAuthError::UnauthorizedClient);
        }
        let now = now_ms();
        let code_hash = token::digest(code);
        let found = {
            let mut conn = self.db.acquire().await?;
            oidc::find_code(&mut conn, &code_hash).await?
        };
        let Some(found) = found else {
            return Err(OAuthError::InvalidGrant("authorization code is invalid"));
        };
        if found.client_id != client.id() {
            return Err(OAuthError::InvalidGrant(
                "authorization code was issued to another client",
            ));
        }
        let mut tx = self.db.begin().await?;
        // INVARIANT: the conditional UPDATE comes first, so exactly one exchange claims the
        // code; any other presentation is a replay.
        if !oidc::claim_code(&mut tx, &code_hash, now).await? {
            drop(tx);
            let family = {
                let mut conn = self.db.acquire().await?;
                oidc::find_code(&mut conn, &code_hash)
                    .await?
                    .and_then(|c| c.family_id)
            };
            return Err(self
                .revoke_on_reuse(Replay {
                    reason: "authorization code reuse",
                    family: family.as_deref(),
                    action: "oauth.code.reuse",
                    actor: &found.user_id,
                    target: format!("client:{}", client.id()),
                    answer: "authorization code was already used; the tokens issued from it are revoked",
                })
                .await);
        }
        // From here on the code is burnt whatever happens: a failed exchange commits the claim.
        let refusal = if found.expires_at <= now {
            Some("authorization code has expired")
        } else if redirect_uri != Some(found.redirect_uri.as_str()) {
            Some("`redirect_uri` does not match the authorization request")
        } else if !code_verifier.is_some_and(|v| pkce_matches(v, &found.code_challenge)) {
            Some("PKCE verification failed")
        } else {
            None
        };
        let user = users::find(&mut tx, &found.user_id).await?;
        let user = match (refusal, user) {
            (None, Some(user)) if !user.disabled() => user,
            (reason, _) => {
                let reason = reason.unwrap_or("the user can no longer sign in");
                record(
                    &mut tx,
                    Entry::failure("oauth.code.exchange")
                        .actor(&found.user_id)
                        .target(format!("client:{}", client.id()))
                        .detail(serde_json::json!({"reason": reason})),
                )
                .await?;
                tx.commit().await?;
                return Err(OAuthError::InvalidGrant(reason));
            }
        };
        let scopes = Scopes::parse(&found.scope)
            .unwrap_or_default()
            .intersection(&user_scopes(user.platform_admin()));
        let signed_in = super::SignedIn {
            amr: clouddocs_domain::Amr::from_stored(&found.amr),
            auth_time_ms: found.auth_time,
        };
        let (family, refresh_token) = self
            .start_family(&mut tx, &user.id, Some(client.id()), &scopes, signed_in)
            .await?;
        oidc::set_code_family(&mut tx, &code_hash, &family.id).await?;
        record(
            &mut tx,
            Entry::success("token.issue")
                .actor(&user.id)
                .target(format!("family:{}", family.id))
                .detail(serde_json::json!({
                    "scope": scopes.to_string(),
                    "client_id": client.id(),
                    "grant": "authorization_code",
                })),
        )
        .await?;
        tx.commit().await?;
        let roles = roles_claim(user.platform_admin());
        let (access_token, expires_in) = self.sign_access(
            &user.id,
            &scopes,
            Some(&family.id),
            Some(client.id()),
            roles,
            super::Subject::User(signed_in),
        )?;
        let id_token = if Self::is_oidc(&scopes) {
            let alg = {
                let mut conn = self.db.acquire().await?;
                oidc::client_settings(&mut conn, client.id())
                    .await?
                    .map(|s| s.id_token_alg)
            };
            Some(self.sign_id_token(
                &user.id,
                client.id(),
                alg.as_deref().unwrap_or("RS256"),
                signed_in,
                found.nonce.as_deref(),
                &access_token,
            )?)
        } else {
            None
        };
        tracing::info!(user_id = %user.id, client_id = %client.id(), family = %family.id, "code exchanged");
        Ok(CodeTokenResponse {
            tokens: TokenResponse {
                access_token,
                token_type: "bearer",
                expires_in,
                refresh_token: Some(refresh_token),
                scope: scopes.to_string(),
            },
            id_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_accepts_the_rfc_7636_example_and_refuses_anything_else() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
        assert!(!pkce_matches(challenge, challenge), "plain is refused");
    }
}
