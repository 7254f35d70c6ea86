//! `grant_type=client_credentials` (RFC 6749 §4.4): a token whose subject is the client.

use clouddocs_domain::Scopes;

use super::{TokenResponse, narrow};
use crate::Services;
use crate::audit::Entry;
use crate::oauth::OAuthError;
use crate::tokens::Client;

impl Services {
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
            super::Subject::Client,
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
}
