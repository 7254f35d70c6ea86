//! A bounded cache of access tokens whose signature and claims were already verified, keyed
//! by the SHA-256 of the token, so a client reusing its token skips the Ed25519
//! verification. Only the signature check is cached: expiry is re-checked and the denylist
//! is consulted on every request, so revocation stays immediate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::AccessClaims;

/// Entries kept at most; beyond it expired entries are dropped, then everything
const CAPACITY: usize = 16_384;

/// Verified tokens by digest
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], Arc<AccessClaims>>>,
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedTokens")
    }
}

pub(crate) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedTokens {
    /// The claims of a token verified before, if it has not expired since
    pub(crate) fn get(&self, digest: &[u8; 32], now_secs: i64) -> Option<Arc<AccessClaims>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(digest).filter(|c| c.exp > now_secs).cloned()
    }

    /// Remembers a verified token
    pub(crate) fn insert(&self, digest: [u8; 32], claims: Arc<AccessClaims>, now_secs: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, c| c.exp > now_secs);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest, claims);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Arc<AccessClaims> {
        Arc::new(AccessClaims {
            iss: "i".to_owned(),
            sub: "s".to_owned(),
            aud: "a".to_owned(),
            exp,
            iat: 0,
            nbf: 0,
            jti: "j".to_owned(),
            scope: String::new(),
            sid: None,
            client_id: None,
            roles: Vec::new(),
            client: false,
            amr: Vec::new(),
            auth_time: None,
        })
    }

    #[test]
    fn a_cached_token_is_returned_only_until_it_expires() {
        let cache = VerifiedTokens::default();
        let d = digest("token");
        cache.insert(d, claims(100), 0);
        assert!(cache.get(&d, 99).is_some());
        assert!(cache.get(&d, 100).is_none());
        assert!(
            cache.get(&digest("token2"), 0).is_none(),
            "a different token is a miss"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = VerifiedTokens::default();
        for i in 0..(CAPACITY + 10) {
            cache.insert(digest(&i.to_string()), claims(1), 0);
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }
}
