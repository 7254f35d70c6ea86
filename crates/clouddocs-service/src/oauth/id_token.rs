//! ID tokens (OpenID Connect Core §2): signed RS256 with the ID-token ring by default, or
//! EdDSA with the access-token ring when the client asked for it and that ring is Ed25519.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clouddocs_auth::jwt::SigningAlgorithm;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha512};

use crate::{ServiceError, Services, now_ms};

/// Claims of an ID token
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdTokenClaims {
    /// Issuer
    pub iss: String,
    /// The user's id
    pub sub: String,
    /// The client id
    pub aud: String,
    /// Expiry (unix seconds)
    pub exp: i64,
    /// Issued at (unix seconds)
    pub iat: i64,
    /// When the user authenticated (unix seconds)
    pub auth_time: i64,
    /// How the user authenticated (RFC 8176)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The nonce of the authorization request
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Left half of the access token's hash, base64url
    pub at_hash: String,
    /// Authorized party: the client id
    pub azp: String,
}

/// `at_hash`: the left half of the access token's digest under the signature's hash
/// (SHA-256 for RS256, SHA-512 for Ed25519, as OpenID Connect Core §3.1.3.6 and the
/// `openidconnect` crate define it)
pub(crate) fn at_hash(access_token: &str, alg: SigningAlgorithm) -> String {
    let digest: Vec<u8> = match alg {
        SigningAlgorithm::EdDsa => Sha512::digest(access_token.as_bytes()).to_vec(),
        _ => Sha256::digest(access_token.as_bytes()).to_vec(),
    };
    let half = digest.get(..digest.len() / 2).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(half)
}

impl Services {
    /// Signs an ID token for `sub` and `client_id` in the client's algorithm
    pub(crate) fn sign_id_token(
        &self,
        sub: &str,
        client_id: &str,
        alg: &str,
        signed_in: super::grant_types::SignedIn,
        nonce: Option<&str>,
        access_token: &str,
    ) -> Result<String, ServiceError> {
        let now = now_ms() / 1000;
        let ttl = i64::try_from(self.tokens.access_ttl.as_secs()).unwrap_or(900);
        let use_access_ring =
            alg == "EdDSA" && self.keys.ring().current_alg() == SigningAlgorithm::EdDsa;
        let signing_alg = if use_access_ring {
            SigningAlgorithm::EdDsa
        } else {
            SigningAlgorithm::Rs256
        };
        let claims = IdTokenClaims {
            iss: self.tokens.issuer.clone(),
            sub: sub.to_owned(),
            aud: client_id.to_owned(),
            exp: now + ttl,
            iat: now,
            auth_time: signed_in.auth_time_ms / 1000,
            amr: signed_in
                .amr
                .values()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            nonce: nonce.map(str::to_owned),
            at_hash: at_hash(access_token, signing_alg),
            azp: client_id.to_owned(),
        };
        if use_access_ring {
            self.keys.sign(&claims)
        } else {
            self.keys.sign_id_token(&claims)
        }
    }

    /// The algorithms ID tokens may be signed with
    pub fn id_token_algorithms(&self) -> Vec<&'static str> {
        let mut algs = vec!["RS256"];
        if self.keys.ring().current_alg() == SigningAlgorithm::EdDsa {
            algs.push("EdDSA");
        }
        algs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_openid_connect_core_example() {
        // OpenID Connect Core, appendix A.3: access token and its RS256 at_hash
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                SigningAlgorithm::Rs256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
