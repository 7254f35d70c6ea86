//! Token verification against the CloudDocs JWKS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

use crate::Claims;

/// Why a request was refused
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header (401)
    #[error("a bearer token is required")]
    Missing,
    /// The token does not verify: signature, key, algorithm or claims (401)
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token lacks a scope the operation needs (403)
    #[error("the token lacks the `{0}` scope")]
    InsufficientScope(String),
    /// The CloudDocs server could not be asked (503)
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, challenge) = match &self {
            AuthError::Missing => (StatusCode::UNAUTHORIZED, "Bearer".to_owned()),
            AuthError::Invalid(_) => (
                StatusCode::UNAUTHORIZED,
                r#"Bearer error="invalid_token""#.to_owned(),
            ),
            AuthError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                format!(r#"Bearer error="insufficient_scope", scope="{scope}""#),
            ),
            AuthError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, String::new()),
        };
        let mut response = (
            status,
            axum::Json(serde_json::json!({"error": self.to_string()})),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge)
            && !challenge.is_empty()
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// One verification key and the only algorithm a token under it may use
struct Key {
    decoding: DecodingKey,
    algorithm: Algorithm,
}

/// Verifies CloudDocs access tokens; cheap to clone (one shared key set)
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    jwks_uri: String,
    http: reqwest::Client,
    keys: RwLock<Arc<HashMap<String, Key>>>,
    last_fetch: Mutex<Option<Instant>>,
    refetch_interval: Duration,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

/// The algorithm a JWK is for: its `alg`, else the one its key type implies
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    if let Some(alg) = jwk.common.key_algorithm {
        return match alg {
            KeyAlgorithm::EdDSA => Some(Algorithm::EdDSA),
            KeyAlgorithm::ES256 => Some(Algorithm::ES256),
            KeyAlgorithm::ES384 => Some(Algorithm::ES384),
            KeyAlgorithm::RS256 => Some(Algorithm::RS256),
            KeyAlgorithm::RS384 => Some(Algorithm::RS384),
            KeyAlgorithm::RS512 => Some(Algorithm::RS512),
            KeyAlgorithm::PS256 => Some(Algorithm::PS256),
            _ => None,
        };
    }
    match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        _ => None,
    }
}

impl Verifier {
    /// A verifier for tokens of `issuer` (the server's public URL) meant for `audience`
    /// (`clouddocs` unless the server says otherwise), reading keys from `jwks_uri`
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        jwks_uri: impl Into<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                issuer: issuer.into(),
                audience: audience.into(),
                jwks_uri: jwks_uri.into(),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_default(),
                keys: RwLock::new(Arc::new(HashMap::new())),
                last_fetch: Mutex::new(None),
                refetch_interval: Duration::from_secs(10),
            }),
        }
    }

    /// A verifier from the server's discovery document
    /// (`{issuer}/.well-known/openid-configuration`), with the keys loaded
    pub async fn discover(issuer: &str, audience: &str) -> Result<Self, AuthError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let document: serde_json::Value = reqwest::get(&url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| AuthError::Unavailable("no jwks_uri in discovery".to_owned()))?;
        // OpenID Connect Discovery §4.3: the document's issuer must be the one asked for.
        let stated = document.get("issuer").and_then(serde_json::Value::as_str);
        if stated.map(|s| s.trim_end_matches('/')) != Some(issuer.trim_end_matches('/')) {
            return Err(AuthError::Unavailable(format!(
                "the discovery document names issuer {stated:?}, not {issuer}"
            )));
        }
        let verifier = Self::new(issuer.trim_end_matches('/'), audience, jwks_uri);
        verifier.refetch().await?;
        Ok(verifier)
    }

    /// This verifier with another shortest time between two JWKS refetches (set it before
    /// sharing the verifier)
    #[must_use]
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.refetch_interval = interval;
        }
        self
    }

    /// The shortest time between two JWKS fetches caused by unknown `kid`s (10 s): a flood
    /// of tokens with made-up `kid`s costs the server one fetch per interval
    pub fn refetch_interval(&self) -> Duration {
        self.inner.refetch_interval
    }

    /// Fetches the JWKS now and replaces the key set
    pub async fn refetch(&self) -> Result<(), AuthError> {
        let set: JwkSet = self
            .inner
            .http
            .get(&self.inner.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Some(algorithm)) = (jwk.common.key_id.clone(), algorithm_of(jwk))
            else {
                continue;
            };
            if let Ok(decoding) = DecodingKey::from_jwk(jwk) {
                keys.insert(
                    kid,
                    Key {
                        decoding,
                        algorithm,
                    },
                );
            }
        }
        *self
            .inner
            .keys
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        *self
            .inner
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        Ok(())
    }

    fn keys(&self) -> Arc<HashMap<String, Key>> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn may_refetch(&self) -> bool {
        let mut last = self
            .inner
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *last {
            Some(at) if at.elapsed() < self.inner.refetch_interval => false,
            _ => {
                *last = Some(Instant::now());
                true
            }
        }
    }

    /// Verifies `token` and returns its claims
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > 8192 {
            return Err(AuthError::Invalid("token too large".to_owned()));
        }
        let header = decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no kid".to_owned()))?;
        if !self.keys().contains_key(&kid) && self.may_refetch() {
            self.refetch().await?;
        }
        let keys = self.keys();
        let key = keys
            .get(&kid)
            .ok_or_else(|| AuthError::Invalid(format!("unknown key `{kid}`")))?;
        if header.alg != key.algorithm {
            return Err(AuthError::Invalid(
                "algorithm does not match the key".to_owned(),
            ));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.algorithms = vec![key.algorithm];
        validation.set_issuer(&[self.inner.issuer.as_str()]);
        validation.set_audience(&[self.inner.audience.as_str()]);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.required_spec_claims = ["exp", "iat", "iss", "aud", "sub"]
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        decode::<Claims>(token, &key.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// Asks the server whether `token` is still active (RFC 7662), authenticating as the
    /// confidential client `(client_id, secret)`: for the operations that must refuse a
    /// revoked token at once rather than at its expiry
    pub async fn introspect(
        &self,
        token: &str,
        client_id: &str,
        secret: &str,
    ) -> Result<bool, AuthError> {
        let url = format!(
            "{}/oauth/introspect",
            self.inner.issuer.trim_end_matches('/')
        );
        let answer: serde_json::Value = self
            .inner
            .http
            .post(url)
            .basic_auth(client_id, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?;
        Ok(answer.get("active") == Some(&serde_json::Value::Bool(true)))
    }
}
