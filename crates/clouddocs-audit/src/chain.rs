//! Chaining: sealing a new event onto the previous hash, and recomputing an event's hash.
//!
//! `hash = hex(SHA-256(prev_hash || canonical(event)))`, where `prev_hash` is the
//! previous event's hash as stored (64 lowercase hex characters) and `canonical` is
//! [`crate::canonical::encode`]. The first event links to [`GENESIS_HASH`].

use sha2::{Digest, Sha256};

use crate::canonical;
use crate::event::{AuditEvent, NewEvent};

/// The `prev_hash` of the first event of a chain: 64 zeros
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Places `new` in the chain at position `seq`, after the event whose hash is `prev_hash`
pub fn seal(new: NewEvent, seq: i64, prev_hash: &str) -> AuditEvent {
    let NewEvent {
        at,
        actor,
        action,
        target,
        outcome,
        ip,
        request_id,
        detail,
    } = new;
    let mut event = AuditEvent {
        seq,
        at,
        actor,
        action,
        target,
        outcome,
        ip,
        request_id,
        detail,
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
    };
    event.hash = compute_hash(&event);
    event
}

/// Recomputes the hash `event` should carry from all its other fields (its `hash` is ignored)
pub fn compute_hash(event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    hasher.update(event.prev_hash.as_bytes());
    hasher.update(canonical::encode(event));
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Outcome;

    fn login() -> NewEvent {
        NewEvent {
            at: 1_700_000_000_000,
            actor: Some("user-1".to_owned()),
            action: "login".to_owned(),
            target: None,
            outcome: Outcome::Success,
            ip: Some("192.0.2.1".to_owned()),
            request_id: Some("req-1".to_owned()),
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn a_sealed_event_carries_a_64_character_lowercase_hex_hash() {
        let event = seal(login(), 1, GENESIS_HASH);

        assert_eq!(event.hash.len(), 64);
        assert!(
            event
                .hash
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
        assert_eq!(event.prev_hash, GENESIS_HASH);
    }

    #[test]
    fn the_same_event_on_a_different_previous_hash_gets_a_different_hash() {
        let first = seal(login(), 1, GENESIS_HASH);

        let relinked = seal(login(), 1, &first.hash);

        assert_ne!(first.hash, relinked.hash);
    }

    #[test]
    fn sealing_is_deterministic() {
        assert_eq!(
            seal(login(), 7, GENESIS_HASH),
            seal(login(), 7, GENESIS_HASH)
        );
    }
}
