//! `grant_type=password` (RFC 6749 §4.3), as FastAPI's `OAuth2PasswordRequestForm` sends it.

use clouddocs_domain::{Amr, Scopes};

use super::{SignedIn, TokenResponse, narrow};
use crate::oauth::OAuthError;
use crate::tokens::{Client, user_scopes};
use crate::{ServiceError, Services};

impl Services {
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
        let (user, enrolled) = match self.check_password(username, password).await {
            Ok(found) => found,
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
        if enrolled.any() {
            let challenge = self
                .issue_challenge(&user, enrolled, Some((client.map(|c| c.id()), &scopes)))
                .await?;
            return Err(OAuthError::MfaRequired(challenge));
        }
        Ok(self
            .issue_for_login(
                &user,
                &scopes,
                client.map(|c| c.id()),
                SignedIn::now(Amr::PASSWORD),
            )
            .await?)
    }
}
