//! Offline verification of an audit chain: recomputes every hash and checks every link,
//! naming the first event where the chain breaks.

use crate::chain::{GENESIS_HASH, compute_hash};
use crate::event::AuditEvent;

/// Why a chain does not verify, naming the first broken event
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The event's stored hash does not match its contents: the row was changed
    #[error("event `{seq}` was altered: its hash does not match its contents")]
    HashMismatch {
        /// The altered event
        seq: i64,
    },
    /// The event's `prev_hash` is not the previous event's hash
    #[error("event `{seq}` does not link to the event before it")]
    BrokenLink {
        /// The event whose link is broken
        seq: i64,
    },
    /// Events are missing (or out of order) before `found`
    #[error("expected event `{expected}` but found event `{found}`")]
    Gap {
        /// The sequence number that should have come next
        expected: i64,
        /// The sequence number that came instead
        found: i64,
    },
    /// The first event does not link to the genesis hash: the start of the log is missing
    #[error("the first event does not start from the genesis hash")]
    FirstNotGenesis,
}

/// What a successful verification covered
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// How many events were verified
    pub count: u64,
    /// The sequence number of the last event, `None` for an empty chain
    pub last_seq: Option<i64>,
    /// The hash of the last event ([`GENESIS_HASH`] for an empty chain): record it
    /// somewhere else to detect a later truncation or rewrite of the whole tail
    pub head_hash: String,
}

/// Verifies a whole chain given in `seq` order
pub fn verify_chain(
    events: impl IntoIterator<Item = AuditEvent>,
) -> Result<VerifyReport, ChainError> {
    let mut verifier = ChainVerifier::new();
    for event in events {
        verifier.push(&event)?;
    }
    Ok(verifier.finish())
}

/// Verifies a chain one event at a time, holding only the previous hash, so a cursor
/// over millions of rows can be checked in constant memory
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    /// The sequence number the next event must carry; `None` before the first event
    next_seq: Option<i64>,
    /// The hash the next event's `prev_hash` must equal
    head_hash: String,
    count: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier for a chain starting from the genesis hash; the first event may carry
    /// any sequence number, each following one the previous plus one
    pub fn new() -> Self {
        Self {
            next_seq: None,
            head_hash: GENESIS_HASH.to_owned(),
            count: 0,
        }
    }

    /// A verifier that continues after an already-trusted event (`seq`, `hash`), e.g. a
    /// checkpoint from an earlier run, so only the newer events need reading
    pub fn resume_after(seq: i64, hash: &str) -> Self {
        Self {
            next_seq: Some(seq.saturating_add(1)),
            head_hash: hash.to_owned(),
            count: 0,
        }
    }

    /// Checks the next event. After an error the verifier is unchanged, but the chain is
    /// broken there and later events prove nothing
    pub fn push(&mut self, event: &AuditEvent) -> Result<(), ChainError> {
        match self.next_seq {
            Some(expected) if event.seq != expected => {
                return Err(ChainError::Gap {
                    expected,
                    found: event.seq,
                });
            }
            None if event.prev_hash != GENESIS_HASH => return Err(ChainError::FirstNotGenesis),
            _ => {}
        }
        if event.prev_hash != self.head_hash {
            return Err(ChainError::BrokenLink { seq: event.seq });
        }
        if compute_hash(event) != event.hash {
            return Err(ChainError::HashMismatch { seq: event.seq });
        }
        self.next_seq = Some(event.seq.saturating_add(1));
        self.head_hash.clone_from(&event.hash);
        self.count = self.count.saturating_add(1);
        Ok(())
    }

    /// How many events verified so far
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The report for everything pushed so far
    pub fn finish(self) -> VerifyReport {
        VerifyReport {
            count: self.count,
            last_seq: self.next_seq.map(|next| next.saturating_sub(1)),
            head_hash: self.head_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::seal;
    use crate::event::{NewEvent, Outcome};
    use serde_json::json;

    fn new_event(i: i64) -> NewEvent {
        NewEvent {
            at: 1_700_000_000_000 + i,
            actor: Some(format!("user-{}", i % 7)),
            action: "document.update".to_owned(),
            target: Some(format!("doc-{i}")),
            outcome: Outcome::Success,
            ip: Some("198.51.100.7".to_owned()),
            request_id: Some(format!("req-{i}")),
            detail: json!({"policies": ["author-may-update"], "n": i}),
        }
    }

    fn chain(len: i64) -> Vec<AuditEvent> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=len)
            .map(|seq| {
                let event = seal(new_event(seq), seq, &prev);
                prev.clone_from(&event.hash);
                event
            })
            .collect()
    }

    #[test]
    fn a_chain_of_a_thousand_events_verifies() {
        let events = chain(1000);
        let head = events[999].hash.clone();

        let report = verify_chain(events).unwrap();

        assert_eq!(report.count, 1000);
        assert_eq!(report.last_seq, Some(1000));
        assert_eq!(report.head_hash, head);
    }

    #[test]
    fn an_empty_chain_verifies_with_the_genesis_head() {
        let report = verify_chain(Vec::new()).unwrap();

        assert_eq!(report.count, 0);
        assert_eq!(report.last_seq, None);
        assert_eq!(report.head_hash, GENESIS_HASH);
    }

    #[test]
    fn changing_any_single_field_of_an_event_is_a_hash_mismatch_at_that_event() {
        type Tamper = fn(&mut AuditEvent);
        let tampers: [(&str, Tamper); 8] = [
            ("actor", |e| e.actor = Some("mallory".to_owned())),
            ("actor removed", |e| e.actor = None),
            ("action", |e| e.action = "document.read".to_owned()),
            ("outcome", |e| e.outcome = Outcome::Denied),
            ("at", |e| e.at += 1),
            ("detail", |e| e.detail["policies"] = json!([])),
            ("target", |e| e.target = Some("doc-other".to_owned())),
            ("ip", |e| e.ip = None),
        ];
        for (field, tamper) in tampers {
            let mut events = chain(50);
            tamper(&mut events[20]);

            let result = verify_chain(events);

            assert_eq!(result, Err(ChainError::HashMismatch { seq: 21 }), "{field}");
        }
    }

    #[test]
    fn rewriting_an_event_with_a_fresh_hash_breaks_the_link_of_the_next_one() {
        let mut events = chain(10);
        events[4].action = "login".to_owned();
        events[4].hash = compute_hash(&events[4]);

        assert_eq!(verify_chain(events), Err(ChainError::BrokenLink { seq: 6 }));
    }

    #[test]
    fn deleting_an_event_is_a_gap() {
        let mut events = chain(10);
        events.remove(3);

        assert_eq!(
            verify_chain(events),
            Err(ChainError::Gap {
                expected: 4,
                found: 5
            })
        );
    }

    #[test]
    fn deleting_the_first_event_means_the_chain_does_not_start_at_genesis() {
        let mut events = chain(10);
        events.remove(0);

        assert_eq!(verify_chain(events), Err(ChainError::FirstNotGenesis));
    }

    #[test]
    fn swapping_two_events_is_an_error() {
        let mut events = chain(10);
        events.swap(2, 6);

        assert_eq!(
            verify_chain(events),
            Err(ChainError::Gap {
                expected: 3,
                found: 7
            })
        );
    }

    #[test]
    fn swapping_two_events_and_renumbering_them_is_still_an_error() {
        let mut events = chain(10);
        events.swap(2, 6);
        events[2].seq = 3;
        events[6].seq = 7;

        assert_eq!(verify_chain(events), Err(ChainError::BrokenLink { seq: 3 }));
    }

    #[test]
    fn reordering_keys_in_detail_does_not_change_the_hash() {
        let mut a = new_event(1);
        a.detail =
            serde_json::from_str(r#"{"x": 1, "policies": ["p1", "p2"], "m": {"b": 2, "a": 1}}"#)
                .unwrap();
        let mut b = new_event(1);
        b.detail =
            serde_json::from_str(r#"{"m": {"a": 1, "b": 2}, "policies": ["p1", "p2"], "x": 1}"#)
                .unwrap();

        assert_eq!(seal(a, 1, GENESIS_HASH).hash, seal(b, 1, GENESIS_HASH).hash);
    }

    #[test]
    fn an_event_survives_a_json_round_trip_and_still_verifies() {
        let events = chain(5);

        let json = serde_json::to_string(&events).unwrap();
        let back: Vec<AuditEvent> = serde_json::from_str(&json).unwrap();

        assert!(json.contains(r#""outcome":"success""#));
        assert_eq!(verify_chain(back).unwrap().count, 5);
    }

    #[test]
    fn a_verifier_resumed_from_a_checkpoint_checks_only_the_tail() {
        let events = chain(20);
        let checkpoint = events[9].clone();
        let mut verifier = ChainVerifier::resume_after(checkpoint.seq, &checkpoint.hash);

        for event in &events[10..] {
            verifier.push(event).unwrap();
        }

        let report = verifier.finish();
        assert_eq!(report.count, 10);
        assert_eq!(report.head_hash, events[19].hash);
    }

    #[test]
    fn a_verifier_resumed_from_the_wrong_hash_reports_a_broken_link() {
        let events = chain(20);
        let mut verifier = ChainVerifier::resume_after(10, GENESIS_HASH);

        assert_eq!(
            verifier.push(&events[10]),
            Err(ChainError::BrokenLink { seq: 11 })
        );
    }
}
