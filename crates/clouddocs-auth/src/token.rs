//! Opaque random secrets (session cookies, CSRF tokens, refresh tokens, API keys), their
//! storage digests, and constant-time comparison.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The operating system's random source failed
#[derive(Debug, thiserror::Error)]
#[error("random source unavailable")]
pub struct RandomError;

/// `bytes` random bytes from the OS, base64url-encoded without padding
pub fn random_token(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|_| RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// `bytes` random bytes from the OS, hex-encoded (for identifiers that must not contain `_`)
pub fn random_hex(bytes: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|_| RandomError)?;
    Ok(hex::encode(&buf))
}

/// SHA-256 of a high-entropy secret, hex-encoded: what is stored instead of the secret.
///
/// A fast hash is right here (unlike passwords): the secrets carry at least 256 random
/// bits, so there is nothing to brute-force.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in constant time (for equal lengths)
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_url_safe() {
        let a = random_token(32).unwrap();
        let b = random_token(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn digests_are_stable_and_comparison_is_exact() {
        assert_eq!(digest("x"), digest("x"));
        assert_ne!(digest("x"), digest("y"));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
