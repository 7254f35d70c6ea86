//! Public keys: deriving an asymmetric key's public JWK and RFC 7638 thumbprint (its kid)
//! from the private key, and the JWKS document served at `/.well-known/jwks.json`, which
//! lists every asymmetric key in the ring and never an HS256 secret or private member.

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use serde_json::{Value, json};

use super::sign::encoding_key;
use super::{JwtError, KeyRing, SigningAlgorithm};

/// The public JWK of an asymmetric private key (PKCS#8 DER), with `kid` (its SHA-256 JWK
/// thumbprint), `alg` and `use: "sig"` set; returns `(kid, jwk)`
pub(super) fn derive_public_jwk(
    alg: SigningAlgorithm,
    private_pkcs8: &[u8],
) -> Result<(String, Jwk), JwtError> {
    if alg.is_symmetric() {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    let key = encoding_key(alg, private_pkcs8)?;
    // Parses the private key with aws-lc-rs, so a corrupt key fails here
    let mut jwk =
        Jwk::from_encoding_key(&key, alg.jwt_algorithm()).map_err(|_| JwtError::Crypto)?;
    let kid = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| JwtError::Crypto)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.key_algorithm = Some(KeyAlgorithm::from(alg.jwt_algorithm()));
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok((kid, jwk))
}

impl KeyRing {
    /// `{"keys": [...]}`: the public JWK of every asymmetric key in the ring, current key
    /// first. HS256 keys are shared secrets and are left out.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter_map(|key| key.public_jwk.as_ref())
            .filter_map(|jwk| serde_json::to_value(jwk).ok())
            .collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::testing::key;

    fn full_ring() -> KeyRing {
        let keys = [
            key(SigningAlgorithm::Es256),
            key(SigningAlgorithm::EdDsa),
            key(SigningAlgorithm::Rs256),
            key(SigningAlgorithm::Hs256),
        ];
        KeyRing::new(keys, key(SigningAlgorithm::Es256).kid()).unwrap()
    }

    #[test]
    fn jwks_lists_every_asymmetric_key_with_kid_alg_and_use() {
        let jwks = full_ring().jwks();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(
            keys[0]["kid"],
            key(SigningAlgorithm::Es256).kid(),
            "current key first"
        );
        for (jwk, alg) in keys.iter().zip(["ES256", "EdDSA", "RS256"]) {
            assert_eq!(jwk["alg"], alg);
            assert_eq!(jwk["use"], "sig");
            assert!(jwk["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
        }
        assert_eq!(keys[0]["kty"], "EC");
        assert_eq!(keys[0]["crv"], "P-256");
        assert_eq!(keys[1]["kty"], "OKP");
        assert_eq!(keys[1]["crv"], "Ed25519");
        assert_eq!(keys[2]["kty"], "RSA");
        assert_eq!(keys[2]["e"], "AQAB");
    }

    #[test]
    fn jwks_contains_no_private_members_and_no_hs256_keys() {
        let jwks = full_ring().jwks();
        let text = jwks.to_string();
        for jwk in jwks["keys"].as_array().unwrap() {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(jwk.get(private).is_none(), "{private} published");
            }
            assert_ne!(jwk["kty"], "oct");
        }
        assert!(!text.contains(key(SigningAlgorithm::Hs256).kid()));
        assert!(!text.contains("HS256"));
    }

    #[test]
    fn a_ring_with_only_an_hs256_key_publishes_an_empty_key_set() {
        let hs = key(SigningAlgorithm::Hs256);
        let ring = KeyRing::new([hs], hs.kid()).unwrap();
        assert_eq!(ring.jwks(), json!({ "keys": [] }));
    }

    #[test]
    fn published_keys_parse_as_a_jwk_set_and_find_by_kid() {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(full_ring().jwks()).unwrap();
        let ed = key(SigningAlgorithm::EdDsa);
        assert_eq!(set.find(ed.kid()), ed.public_jwk());
    }

    #[test]
    fn deriving_a_public_jwk_from_garbage_fails_cleanly() {
        for alg in [
            SigningAlgorithm::EdDsa,
            SigningAlgorithm::Es256,
            SigningAlgorithm::Rs256,
        ] {
            assert!(derive_public_jwk(alg, b"not a key").is_err());
            assert!(derive_public_jwk(alg, &[]).is_err());
        }
        assert_eq!(
            derive_public_jwk(SigningAlgorithm::Hs256, &[0; 32]).unwrap_err(),
            JwtError::UnsupportedAlgorithm
        );
    }
}
