//! Signing keys: generation with aws-lc-rs (Ed25519, P-256 and RSA-2048 as PKCS#8 DER, or a
//! 256-bit HS256 secret), the master key that seals private keys at rest (HKDF-SHA256 then
//! AES-256-GCM, with the kid as associated data), and the row shape that storage persists.

use std::fmt;

use aws_lc_rs::aead::{self, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::{self, SystemRandom};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use jsonwebtoken::jwk::Jwk;
use secrecy::{ExposeSecret as _, SecretSlice};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::jwks::derive_public_jwk;
use super::{JwtError, SigningAlgorithm, unix_now};

/// HKDF salt of the key-encryption key; a new version means a new salt
const KEY_ENCRYPTION_SALT: &[u8] = b"clouddocs-key-encryption-v1";
/// HKDF info: what the derived key is for
const KEY_ENCRYPTION_INFO: &[u8] = b"clouddocs signing keys at rest / aes-256-gcm";
/// HKDF info of the key that seals second-factor secrets (TOTP): a different purpose, so
/// a different key from the same master secret
pub const MFA_ENCRYPTION_INFO: &[u8] = b"clouddocs second-factor secrets at rest / aes-256-gcm";
/// Shortest master secret accepted, in bytes
const MIN_MASTER_SECRET_BYTES: usize = 16;
/// Length of generated HS256 secrets (the HMAC-SHA256 output size)
const HS256_SECRET_BYTES: usize = 32;

/// The key-encryption key: 32 bytes derived with HKDF-SHA256 from the operator's master
/// secret, used with AES-256-GCM to seal private signing keys before they are stored.
pub struct MasterKey {
    key: LessSafeKey,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Derives the key-encryption key from `secret` (at least 16 bytes; the server's
    /// configuration layer should demand a long random value)
    pub fn from_secret(secret: &str) -> Result<Self, JwtError> {
        Self::for_purpose(secret, KEY_ENCRYPTION_INFO)
    }

    /// Derives the key for another purpose (`info`, such as [`MFA_ENCRYPTION_INFO`]) from the
    /// same master secret
    pub fn for_purpose(secret: &str, info: &[u8]) -> Result<Self, JwtError> {
        if secret.len() < MIN_MASTER_SECRET_BYTES {
            return Err(JwtError::WeakMasterSecret);
        }
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, KEY_ENCRYPTION_SALT).extract(secret.as_bytes());
        let info = [info];
        let okm = prk
            .expand(&info, &aead::AES_256_GCM)
            .map_err(|_| JwtError::Crypto)?;
        let mut bytes = Zeroizing::new([0u8; 32]);
        okm.fill(bytes.as_mut_slice())
            .map_err(|_| JwtError::Crypto)?;
        let unbound =
            UnboundKey::new(&aead::AES_256_GCM, bytes.as_slice()).map_err(|_| JwtError::Crypto)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Encrypts `plaintext` under a fresh random nonce; `aad` (the kid) is authenticated but
    /// not encrypted. Output: nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, JwtError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).map_err(|_| JwtError::Crypto)?;
        // Allocated once at its final size so no copy of the plaintext is left behind by a
        // reallocation.
        let tag_len = self.key.algorithm().tag_len();
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + tag_len);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let (_, body) = out
            .split_at_mut_checked(NONCE_LEN)
            .ok_or(JwtError::Crypto)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), body)
            .map_err(|_| JwtError::Crypto)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts what [`MasterKey::seal`] produced with the same `aad`; any change to the
    /// nonce, ciphertext, tag or aad fails with [`JwtError::Crypto`]
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, JwtError> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or(JwtError::Crypto)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| JwtError::Crypto)?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), buf.as_mut_slice())
            .map_err(|_| JwtError::Crypto)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// A signing key in memory: its id, pinned algorithm, private key (PKCS#8 DER, or the raw
/// secret for HS256) and, for asymmetric keys, the public JWK (with `kid`, `alg`, `use`).
///
/// The kid of an asymmetric key is its RFC 7638 JWK thumbprint (SHA-256, base64url), so it is
/// bound to the key itself; HS256 keys get a UUIDv7 (a thumbprint would hash the secret).
pub struct KeyMaterial {
    kid: String,
    alg: SigningAlgorithm,
    private: SecretSlice<u8>,
    public_jwk: Option<Jwk>,
    created_at: i64,
    retired_at: Option<i64>,
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// Generates a new key for `alg`, created now and not retired
    pub fn generate(alg: SigningAlgorithm) -> Result<Self, JwtError> {
        let rng = SystemRandom::new();
        let private: Vec<u8> = match alg {
            SigningAlgorithm::EdDsa => Ed25519KeyPair::generate_pkcs8v1(&rng)
                .map_err(|_| JwtError::Crypto)?
                .as_ref()
                .to_vec(),
            SigningAlgorithm::Es256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| JwtError::Crypto)?
                    .as_ref()
                    .to_vec()
            }
            SigningAlgorithm::Rs256 => aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048)
                .and_then(|pair| pair.as_der())
                .map_err(|_| JwtError::Crypto)?
                .as_ref()
                .to_vec(),
            SigningAlgorithm::Hs256 => {
                let mut secret = vec![0u8; HS256_SECRET_BYTES];
                rand::fill(&mut secret).map_err(|_| JwtError::Crypto)?;
                secret
            }
        };
        Self::from_parts(None, alg, SecretSlice::from(private), unix_now(), None)
    }

    /// Assembles a key, deriving the public JWK and kid from the private key. With
    /// `expected_kid`, an asymmetric key whose thumbprint differs is rejected.
    fn from_parts(
        expected_kid: Option<&str>,
        alg: SigningAlgorithm,
        private: SecretSlice<u8>,
        created_at: i64,
        retired_at: Option<i64>,
    ) -> Result<Self, JwtError> {
        let (kid, public_jwk) = if alg.is_symmetric() {
            if private.expose_secret().len() != HS256_SECRET_BYTES {
                return Err(JwtError::KeyMismatch);
            }
            let kid = match expected_kid {
                Some(kid) if !kid.is_empty() => kid.to_owned(),
                Some(_) => return Err(JwtError::KeyMismatch),
                None => uuid::Uuid::now_v7().to_string(),
            };
            (kid, None)
        } else {
            let (kid, jwk) = derive_public_jwk(alg, private.expose_secret())?;
            if expected_kid.is_some_and(|expected| expected != kid) {
                return Err(JwtError::KeyMismatch);
            }
            (kid, Some(jwk))
        };
        Ok(Self {
            kid,
            alg,
            private,
            public_jwk,
            created_at,
            retired_at,
        })
    }

    /// The key id (`kid` header of the tokens it signs)
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key signs and verifies with
    pub fn alg(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The public JWK (with `kid`, `alg`, `use: "sig"`); `None` for HS256 keys
    pub fn public_jwk(&self) -> Option<&Jwk> {
        self.public_jwk.as_ref()
    }

    /// When the key was generated (Unix seconds)
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// When the key stopped signing (Unix seconds); it still verifies until
    /// `retired_at + max token lifetime`
    pub fn retired_at(&self) -> Option<i64> {
        self.retired_at
    }

    /// Marks the key as retired at `at` (Unix seconds): it may no longer be the current key
    pub fn retire(&mut self, at: i64) {
        self.retired_at = Some(at);
    }

    /// The private key bytes (PKCS#8 DER, or the HS256 secret)
    pub(super) fn private_bytes(&self) -> &[u8] {
        self.private.expose_secret()
    }

    /// Seals the private key under `master` (aad = kid) into the row that storage persists
    pub fn to_stored(&self, master: &MasterKey) -> Result<StoredKey, JwtError> {
        let public_jwk = match &self.public_jwk {
            Some(jwk) => serde_json::to_string(jwk).map_err(|_| JwtError::Crypto)?,
            None => String::new(),
        };
        Ok(StoredKey {
            kid: self.kid.clone(),
            alg: self.alg.as_str().to_owned(),
            sealed_private: master.seal(self.private_bytes(), self.kid.as_bytes())?,
            public_jwk,
            created_at: self.created_at,
            retired_at: self.retired_at,
        })
    }
}

/// A signing key as persisted: the private key sealed under the master key with the kid as
/// associated data, so a sealed key moved to another row fails to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// Key id: JWK thumbprint (asymmetric) or UUIDv7 (HS256)
    pub kid: String,
    /// `EdDSA`, `ES256`, `RS256` or `HS256`
    pub alg: String,
    /// nonce ‖ AES-256-GCM ciphertext ‖ tag of the private key
    pub sealed_private: Vec<u8>,
    /// The public JWK as JSON; empty for HS256
    pub public_jwk: String,
    /// Unix seconds
    pub created_at: i64,
    /// Unix seconds; `None` while the key may sign
    pub retired_at: Option<i64>,
}

impl StoredKey {
    /// Opens the sealed private key and checks that the row is consistent: the kid must be
    /// the thumbprint of the decrypted key and the stored public JWK must be its public half
    pub fn open(&self, master: &MasterKey) -> Result<KeyMaterial, JwtError> {
        let alg: SigningAlgorithm = self.alg.parse()?;
        let mut private = master.open(&self.sealed_private, self.kid.as_bytes())?;
        let private = SecretSlice::from(std::mem::take(&mut *private));
        let key = KeyMaterial::from_parts(
            Some(&self.kid),
            alg,
            private,
            self.created_at,
            self.retired_at,
        )?;
        match &key.public_jwk {
            None if self.public_jwk.is_empty() => {}
            Some(derived) => {
                let stored: Jwk =
                    serde_json::from_str(&self.public_jwk).map_err(|_| JwtError::KeyMismatch)?;
                if &stored != derived {
                    return Err(JwtError::KeyMismatch);
                }
            }
            None => return Err(JwtError::KeyMismatch),
        }
        Ok(key)
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
