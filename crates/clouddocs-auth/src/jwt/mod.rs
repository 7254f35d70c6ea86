//! JWT access and ID tokens: signing keys (generated with aws-lc-rs, sealed at rest with
//! AES-256-GCM under a master key), a key ring that signs with the current key and verifies
//! with any key still in service (the algorithm pinned per key, never taken from the token),
//! and the public JWKS document.
//!
//! Layout: [`keys`] generates, seals and opens keys; [`sign`] builds the ring and signs;
//! [`verify`] checks tokens; [`jwks`] derives and publishes public keys.

mod diagnose;
mod jwks;
mod keys;
mod sign;
mod verify;

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod property_tests;

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use jsonwebtoken::errors::ErrorKind;
use serde::{Deserialize, Serialize};

pub use diagnose::Diagnosis;
pub use keys::{KeyMaterial, MFA_ENCRYPTION_INFO, MasterKey, StoredKey};
pub use sign::KeyRing;
pub use verify::{DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY_SECS, REQUIRED_CLAIMS, VerifyOptions};

/// The signature algorithms CloudDocs signs with. HS256 is only used when the operator
/// explicitly opts in; it never appears in the JWKS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// Ed25519 (the default)
    #[default]
    #[serde(rename = "EdDSA")]
    EdDsa,
    /// ECDSA over P-256 with SHA-256
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit key
    #[serde(rename = "RS256")]
    Rs256,
    /// HMAC-SHA256 with a 256-bit shared secret (explicit opt-in only)
    #[serde(rename = "HS256")]
    Hs256,
}

impl SigningAlgorithm {
    /// The JOSE name: `EdDSA`, `ES256`, `RS256` or `HS256`
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Hs256 => "HS256",
        }
    }

    /// Whether the key is a shared secret (and so must never be published)
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Self::Hs256)
    }

    /// The jsonwebtoken algorithm this key is pinned to
    pub(crate) const fn jwt_algorithm(self) -> Algorithm {
        match self {
            Self::EdDsa => Algorithm::EdDSA,
            Self::Es256 => Algorithm::ES256,
            Self::Rs256 => Algorithm::RS256,
            Self::Hs256 => Algorithm::HS256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningAlgorithm {
    type Err = JwtError;

    /// Parses the exact JOSE name (case-sensitive, as in a JWT header)
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EdDSA" => Ok(Self::EdDsa),
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            "HS256" => Ok(Self::Hs256),
            _ => Err(JwtError::UnsupportedAlgorithm),
        }
    }
}

/// Everything that can go wrong with keys and tokens. Messages never contain the token,
/// claims or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a well-formed compact JWS (segments, base64url, JSON, claim types)
    #[error("malformed token")]
    Malformed,
    /// Longer than `VerifyOptions::max_token_bytes`; rejected before any parsing
    #[error("token exceeds the size limit")]
    TooLarge,
    /// No `kid`, or a `kid` that is not in the key ring
    #[error("unknown signing key")]
    UnknownKey,
    /// The header `alg` differs from the algorithm pinned to the key
    #[error("token algorithm does not match the signing key")]
    AlgorithmMismatch,
    /// A header parameter that could redirect key selection (`jku`, `x5u`, `jwk`, `x5c`)
    /// or demand extensions (`crit`)
    #[error("forbidden token header parameter {0}")]
    ForbiddenHeader(&'static str),
    /// The signature does not verify
    #[error("invalid token signature")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway)
    #[error("token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway)
    #[error("token is not yet valid")]
    NotYetValid,
    /// `iss` is not the expected issuer
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` names none of the expected audiences
    #[error("token audience is not accepted")]
    WrongAudience,
    /// A required claim is absent (or has the wrong type)
    #[error("token is missing required claim {0}")]
    MissingClaim(String),
    /// An algorithm name other than EdDSA, ES256, RS256, HS256
    #[error("unsupported signing algorithm")]
    UnsupportedAlgorithm,
    /// The key ring cannot be built as asked
    #[error("invalid key ring: {0}")]
    InvalidKeyRing(&'static str),
    /// The verification options are unsafe or incomplete
    #[error("invalid verification options: {0}")]
    InvalidOptions(&'static str),
    /// The master secret is too short to derive a key-encryption key from
    #[error("master secret is too short")]
    WeakMasterSecret,
    /// A stored key does not match its kid, algorithm or public key
    #[error("stored key does not match its metadata")]
    KeyMismatch,
    /// A cryptographic primitive failed (key generation, sealing, opening, signing)
    #[error("cryptographic operation failed")]
    Crypto,
}

impl From<jsonwebtoken::errors::Error> for JwtError {
    fn from(err: jsonwebtoken::errors::Error) -> Self {
        match err.kind() {
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_)
            | ErrorKind::InvalidClaimFormat(_)
            | ErrorKind::InvalidSubject => Self::Malformed,
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => Self::AlgorithmMismatch,
            ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
                Self::UnsupportedAlgorithm
            }
            // Key format and provider failures, and any kind added in a later release
            _ => Self::Crypto,
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970, which never panics)
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Claims and keys shared by the tests of this module
    use std::sync::OnceLock;

    use serde::{Deserialize, Serialize};

    use super::{KeyMaterial, KeyRing, SigningAlgorithm, VerifyOptions, unix_now};

    pub(crate) const ISSUER: &str = "https://clouddocs.test";
    pub(crate) const AUDIENCE: &str = "clouddocs-api";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub(crate) struct Claims {
        pub(crate) iss: String,
        pub(crate) sub: String,
        pub(crate) aud: String,
        pub(crate) exp: i64,
        pub(crate) iat: i64,
        pub(crate) nbf: i64,
        pub(crate) jti: String,
        pub(crate) scope: String,
    }

    /// Valid claims: issued now, valid for 15 minutes
    pub(crate) fn claims() -> Claims {
        let now = unix_now();
        Claims {
            iss: ISSUER.to_owned(),
            sub: "user-1".to_owned(),
            aud: AUDIENCE.to_owned(),
            exp: now + 900,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::now_v7().to_string(),
            scope: "documents:read".to_owned(),
        }
    }

    pub(crate) fn options() -> VerifyOptions {
        VerifyOptions::new(ISSUER, [AUDIENCE])
    }

    /// One key per algorithm, generated once per test binary (RSA generation is slow)
    pub(crate) fn key(alg: SigningAlgorithm) -> &'static KeyMaterial {
        static KEYS: OnceLock<Vec<KeyMaterial>> = OnceLock::new();
        let keys = KEYS.get_or_init(|| {
            [
                SigningAlgorithm::EdDsa,
                SigningAlgorithm::Es256,
                SigningAlgorithm::Rs256,
                SigningAlgorithm::Hs256,
            ]
            .into_iter()
            .map(|alg| KeyMaterial::generate(alg).unwrap())
            .collect()
        });
        keys.iter().find(|k| k.alg() == alg).unwrap()
    }

    /// A ring holding only the shared key for `alg`, which is current
    pub(crate) fn ring(alg: SigningAlgorithm) -> (KeyRing, &'static KeyMaterial) {
        let key = key(alg);
        let ring = KeyRing::new([key], key.kid()).unwrap();
        (ring, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip_through_serde_and_from_str() {
        for alg in [
            SigningAlgorithm::EdDsa,
            SigningAlgorithm::Es256,
            SigningAlgorithm::Rs256,
            SigningAlgorithm::Hs256,
        ] {
            let json = serde_json::to_string(&alg).unwrap();
            assert_eq!(json, format!("\"{}\"", alg.as_str()));
            assert_eq!(
                serde_json::from_str::<SigningAlgorithm>(&json).unwrap(),
                alg
            );
            assert_eq!(alg.as_str().parse::<SigningAlgorithm>().unwrap(), alg);
        }
    }

    #[test]
    fn unknown_or_miscased_algorithm_names_are_rejected() {
        for name in ["none", "eddsa", "HS512", "PS256", ""] {
            assert_eq!(
                name.parse::<SigningAlgorithm>(),
                Err(JwtError::UnsupportedAlgorithm)
            );
        }
        assert!(serde_json::from_str::<SigningAlgorithm>("\"none\"").is_err());
    }

    #[test]
    fn default_algorithm_is_eddsa_and_only_hs256_is_symmetric() {
        assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::EdDsa);
        assert!(SigningAlgorithm::Hs256.is_symmetric());
        assert!(!SigningAlgorithm::Rs256.is_symmetric());
    }

    #[test]
    fn error_messages_are_lowercase_without_trailing_period() {
        let errors = [
            JwtError::Malformed,
            JwtError::ForbiddenHeader("jku"),
            JwtError::MissingClaim("jti".to_owned()),
            JwtError::InvalidKeyRing("current key is not in the ring"),
            JwtError::Crypto,
        ];
        for err in errors {
            let msg = err.to_string();
            assert!(!msg.ends_with('.'), "{msg}");
            assert_eq!(msg, msg.to_lowercase(), "{msg}");
        }
    }
}
