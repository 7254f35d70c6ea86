//! The key ring: every key still in service for verification (each pinned to one
//! algorithm), and the current key, which alone signs. Signing writes the header
//! `{alg, typ: "JWT", kid}` and nothing else.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use serde::Serialize;
use zeroize::Zeroizing;

use super::{JwtError, KeyMaterial, SigningAlgorithm};

/// Signs with the current key and verifies with any key it holds. Build it from the keys
/// still valid for verification (retired keys are kept until `retired_at` + the longest token
/// lifetime, which is the caller's selection); rebuild it after a rotation.
pub struct KeyRing {
    current_kid: String,
    current_alg: SigningAlgorithm,
    encoding: EncodingKey,
    /// Verification keys, current first, then in the order given
    pub(super) keys: Vec<RingKey>,
}

/// One verification key of the ring
pub(super) struct RingKey {
    pub(super) kid: String,
    /// The only algorithm a token under this kid may use
    pub(super) alg: SigningAlgorithm,
    pub(super) decoding: DecodingKey,
    /// `None` for HS256
    pub(super) public_jwk: Option<Jwk>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current_kid", &self.current_kid)
            .field("current_alg", &self.current_alg)
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|k| (k.kid.as_str(), k.alg))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Builds the ring. `current_kid` must name one of `keys` that is not retired; kids must
    /// be unique.
    pub fn new<'a>(
        keys: impl IntoIterator<Item = &'a KeyMaterial>,
        current_kid: &str,
    ) -> Result<Self, JwtError> {
        let mut ring_keys: Vec<RingKey> = Vec::new();
        let mut current = None;
        for key in keys {
            if ring_keys.iter().any(|k| k.kid == key.kid()) {
                return Err(JwtError::InvalidKeyRing("duplicate kid"));
            }
            let ring_key = RingKey {
                kid: key.kid().to_owned(),
                alg: key.alg(),
                decoding: decoding_key(key)?,
                public_jwk: key.public_jwk().cloned(),
            };
            if key.kid() == current_kid {
                if key.retired_at().is_some() {
                    return Err(JwtError::InvalidKeyRing("current key is retired"));
                }
                current = Some((key.alg(), encoding_key(key.alg(), key.private_bytes())?));
                ring_keys.insert(0, ring_key);
            } else {
                ring_keys.push(ring_key);
            }
        }
        let (current_alg, encoding) =
            current.ok_or(JwtError::InvalidKeyRing("current key is not in the ring"))?;
        Ok(Self {
            current_kid: current_kid.to_owned(),
            current_alg,
            encoding,
            keys: ring_keys,
        })
    }

    /// The kid new tokens are signed with
    pub fn current_kid(&self) -> &str {
        &self.current_kid
    }

    /// The algorithm new tokens are signed with
    pub fn current_alg(&self) -> SigningAlgorithm {
        self.current_alg
    }

    /// The kids of every key the ring verifies with, current first
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    /// Signs `claims` (which must serialize to a JSON object) with the current key; the
    /// header is `{alg, typ: "JWT", kid}`
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, JwtError> {
        let claims = serde_json::to_value(claims).map_err(|_| JwtError::Malformed)?;
        if !claims.is_object() {
            return Err(JwtError::Malformed);
        }
        let mut header = Header::new(self.current_alg.jwt_algorithm());
        header.kid = Some(self.current_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|_| JwtError::Crypto)
    }

    /// The verification key for `kid`, if the ring holds it
    pub(super) fn find(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }
}

/// The jsonwebtoken signing key for a private key of `alg`
pub(super) fn encoding_key(alg: SigningAlgorithm, private: &[u8]) -> Result<EncodingKey, JwtError> {
    match alg {
        SigningAlgorithm::EdDsa => Ok(EncodingKey::from_ed_der(private)),
        SigningAlgorithm::Es256 => Ok(EncodingKey::from_ec_der(private)),
        // jsonwebtoken's aws-lc backend wants PKCS#1 `RSAPrivateKey` DER, and aws-lc-rs only
        // exports PKCS#8; jsonwebtoken's own PEM reader unwraps PKCS#8 to PKCS#1.
        SigningAlgorithm::Rs256 => {
            EncodingKey::from_rsa_pem(pkcs8_pem(private)?.as_bytes()).map_err(|_| JwtError::Crypto)
        }
        SigningAlgorithm::Hs256 => Ok(EncodingKey::from_secret(private)),
    }
}

/// The jsonwebtoken verification key of `key`: from the public JWK for asymmetric keys,
/// from the secret for HS256
fn decoding_key(key: &KeyMaterial) -> Result<DecodingKey, JwtError> {
    match key.public_jwk() {
        Some(jwk) => DecodingKey::from_jwk(jwk).map_err(|_| JwtError::Crypto),
        None if key.alg().is_symmetric() => Ok(DecodingKey::from_secret(key.private_bytes())),
        None => Err(JwtError::Crypto),
    }
}

/// PKCS#8 DER as a `PRIVATE KEY` PEM block (64-column base64), wiped on drop
fn pkcs8_pem(der: &[u8]) -> Result<Zeroizing<String>, JwtError> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----\n";
    const END: &str = "-----END PRIVATE KEY-----\n";
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut pem = Zeroizing::new(String::with_capacity(
        BEGIN.len() + END.len() + b64.len() + b64.len() / 64 + 1,
    ));
    pem.push_str(BEGIN);
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).map_err(|_| JwtError::Crypto)?);
        pem.push('\n');
    }
    pem.push_str(END);
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::testing::{Claims, claims, key, options, ring};

    fn header_of(token: &str) -> serde_json::Value {
        let segment = token.split('.').next().unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(segment)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn round_trip(alg: SigningAlgorithm) {
        let (ring, key) = ring(alg);
        let claims = claims();
        let token = ring.sign(&claims).unwrap();
        let header = header_of(&token);
        assert_eq!(
            header,
            serde_json::json!({ "alg": alg.as_str(), "typ": "JWT", "kid": key.kid() })
        );
        let verified: Claims = ring.verify(&token, &options()).unwrap();
        assert_eq!(verified, claims);
    }

    #[test]
    fn eddsa_tokens_round_trip() {
        round_trip(SigningAlgorithm::EdDsa);
    }

    #[test]
    fn es256_tokens_round_trip() {
        round_trip(SigningAlgorithm::Es256);
    }

    #[test]
    fn rs256_tokens_round_trip() {
        round_trip(SigningAlgorithm::Rs256);
    }

    #[test]
    fn hs256_tokens_round_trip() {
        round_trip(SigningAlgorithm::Hs256);
    }

    #[test]
    fn a_ring_with_old_and_new_keys_signs_with_the_new_one_and_verifies_both() {
        let old = key(SigningAlgorithm::Rs256);
        let old_ring = KeyRing::new([old], old.kid()).unwrap();
        let old_token = old_ring.sign(&claims()).unwrap();

        let mut retired = KeyMaterial::generate(SigningAlgorithm::EdDsa).unwrap();
        let retired_ring = KeyRing::new([&retired], retired.kid()).unwrap();
        let retired_token = retired_ring.sign(&claims()).unwrap();
        retired.retire(crate::jwt::unix_now());

        let new = key(SigningAlgorithm::EdDsa);
        let ring = KeyRing::new([old, &retired, new], new.kid()).unwrap();
        assert_eq!(ring.current_kid(), new.kid());
        assert_eq!(ring.current_alg(), SigningAlgorithm::EdDsa);
        assert_eq!(ring.kids().next(), Some(new.kid()));
        assert_eq!(ring.kids().count(), 3);

        let new_token = ring.sign(&claims()).unwrap();
        assert_eq!(header_of(&new_token)["kid"], new.kid());
        for token in [&old_token, &retired_token, &new_token] {
            let _: Claims = ring.verify(token, &options()).unwrap();
        }

        // Once the old key leaves the ring, its tokens are no longer accepted
        let trimmed = KeyRing::new([new], new.kid()).unwrap();
        assert_eq!(
            trimmed
                .verify::<Claims>(&old_token, &options())
                .unwrap_err(),
            JwtError::UnknownKey
        );
    }

    #[test]
    fn a_ring_whose_current_key_is_missing_or_retired_or_duplicated_is_refused() {
        let ed = key(SigningAlgorithm::EdDsa);
        assert_eq!(
            KeyRing::new([ed], "nope").unwrap_err(),
            JwtError::InvalidKeyRing("current key is not in the ring")
        );
        assert_eq!(
            KeyRing::new([ed, ed], ed.kid()).unwrap_err(),
            JwtError::InvalidKeyRing("duplicate kid")
        );
        let mut retired = KeyMaterial::generate(SigningAlgorithm::Es256).unwrap();
        retired.retire(1);
        assert_eq!(
            KeyRing::new([&retired], retired.kid()).unwrap_err(),
            JwtError::InvalidKeyRing("current key is retired")
        );
        let none: [&KeyMaterial; 0] = [];
        assert!(KeyRing::new(none, "").is_err());
    }

    #[test]
    fn claims_that_are_not_a_json_object_are_not_signed() {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        assert_eq!(
            ring.sign(&"just a string").unwrap_err(),
            JwtError::Malformed
        );
        assert_eq!(ring.sign(&[1, 2, 3]).unwrap_err(), JwtError::Malformed);
    }

    #[test]
    fn ring_debug_output_shows_kids_but_no_key_material() {
        let (ring, key) = ring(SigningAlgorithm::Hs256);
        let debug = format!("{ring:?}");
        assert!(debug.contains(key.kid()));
        assert!(!debug.contains(&format!("{:?}", key.private_bytes())));
    }
}
