//! `POST /authz/check`: object-level decisions from CloudDocs' policy engine.

use serde::Deserialize;

use crate::AuthError;

/// A decision of the policy engine
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Decision {
    /// `allow` or `deny`
    pub decision: String,
    /// The `@id`s of the determining policies
    #[serde(default)]
    pub policies: Vec<String>,
    /// Why, in words
    #[serde(default)]
    pub reasons: Vec<String>,
}

impl Decision {
    /// Whether the request is allowed
    pub fn allowed(&self) -> bool {
        self.decision == "allow"
    }
}

/// Asks a CloudDocs server for decisions, as the holder of `credential` (the service's own
/// token or the caller's)
#[derive(Debug, Clone)]
pub struct AuthzClient {
    base: String,
    http: reqwest::Client,
}

impl AuthzClient {
    /// A client of the server at `base`
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        }
    }

    /// `POST /authz/check` with `question` (`{principal, action, resource, context,
    /// entities}`), authenticated with the bearer `token`
    pub async fn check(
        &self,
        token: &str,
        question: &serde_json::Value,
    ) -> Result<Decision, AuthError> {
        let response = self
            .http
            .post(format!("{}/authz/check", self.base))
            .bearer_auth(token)
            .json(question)
            .send()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        // The caller's token refused by CloudDocs is the caller's problem, not an outage.
        match response.status().as_u16() {
            401 => return Err(AuthError::Invalid("CloudDocs refused the token".to_owned())),
            403 => {
                return Err(AuthError::InsufficientScope(
                    "the decision point refused the question".to_owned(),
                ));
            }
            _ => {}
        }
        response
            .error_for_status()
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))
    }
}
