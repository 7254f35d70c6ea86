//! Property tests of the chain verifier fed corrupted rows: a sealed chain verifies; any
//! change to any field of any event, a deleted, duplicated or swapped event, or rows of
//! garbage are refused, and nothing panics.
#![expect(clippy::indexing_slicing, reason = "tests fail by panicking")]

use clouddocs_audit::{AuditEvent, GENESIS_HASH, NewEvent, Outcome, seal, verify_chain};
use proptest::prelude::*;
use serde_json::json;

fn new_event() -> impl Strategy<Value = NewEvent> {
    (
        0i64..4_000_000_000_000,
        proptest::option::of("[a-z0-9-]{1,12}"),
        "[a-z.]{1,16}",
        proptest::option::of(any::<String>()),
        prop_oneof![
            Just(Outcome::Success),
            Just(Outcome::Failure),
            Just(Outcome::Denied)
        ],
        proptest::option::of("[0-9.]{7,15}"),
        any::<String>(),
    )
        .prop_map(|(at, actor, action, target, outcome, ip, note)| NewEvent {
            at,
            actor,
            action,
            target,
            outcome,
            ip,
            request_id: None,
            detail: json!({"note": note}),
        })
}

fn chain() -> impl Strategy<Value = Vec<AuditEvent>> {
    prop::collection::vec(new_event(), 1..12).prop_map(|events| {
        let mut prev = GENESIS_HASH.to_owned();
        events
            .into_iter()
            .zip(1..)
            .map(|(new, seq)| {
                let event = seal(new, seq, &prev);
                prev.clone_from(&event.hash);
                event
            })
            .collect()
    })
}

/// One corruption of a chain, at event `at`
#[derive(Debug, Clone)]
enum Corruption {
    Actor(String),
    Action(String),
    Target(Option<String>),
    At(i64),
    Detail(String),
    Outcome,
    Hash(String),
    Delete,
    Duplicate,
    SwapWithNext,
}

fn corruption() -> impl Strategy<Value = Corruption> {
    prop_oneof![
        any::<String>().prop_map(Corruption::Actor),
        any::<String>().prop_map(Corruption::Action),
        proptest::option::of(any::<String>()).prop_map(Corruption::Target),
        any::<i64>().prop_map(Corruption::At),
        any::<String>().prop_map(Corruption::Detail),
        Just(Corruption::Outcome),
        "[0-9a-f]{64}".prop_map(Corruption::Hash),
        Just(Corruption::Delete),
        Just(Corruption::Duplicate),
        Just(Corruption::SwapWithNext),
    ]
}

/// Applies `c` at `at`; returns false when it changes nothing (the same value again, or a
/// structural change with nowhere to apply), so the property skips that case
fn corrupt(events: &mut Vec<AuditEvent>, at: usize, c: Corruption) -> bool {
    let last = events.len() - 1;
    let event = &mut events[at];
    match c {
        Corruption::Actor(v) => replace(&mut event.actor, Some(v)),
        Corruption::Action(v) => replace(&mut event.action, v),
        Corruption::Target(v) => replace(&mut event.target, v),
        Corruption::At(v) => replace(&mut event.at, v),
        Corruption::Detail(v) => replace(&mut event.detail, json!({"note": v, "x": 1})),
        Corruption::Outcome => {
            event.outcome = match event.outcome {
                Outcome::Success => Outcome::Denied,
                Outcome::Failure | Outcome::Denied => Outcome::Success,
            };
            true
        }
        Corruption::Hash(v) => replace(&mut event.hash, v),
        // Deleting the newest event leaves a valid shorter chain: only an outside record
        // of the head hash catches that (the report's `head_hash`), so it is not a case.
        Corruption::Delete if at < last => {
            events.remove(at);
            true
        }
        Corruption::Duplicate => {
            let copy = events[at].clone();
            events.insert(at, copy);
            true
        }
        Corruption::SwapWithNext if at < last => {
            events.swap(at, at + 1);
            true
        }
        Corruption::Delete | Corruption::SwapWithNext => false,
    }
}

fn replace<T: PartialEq>(slot: &mut T, value: T) -> bool {
    if *slot == value {
        return false;
    }
    *slot = value;
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_sealed_chain_verifies_and_reports_its_head(events in chain()) {
        let head = events.last().unwrap().hash.clone();
        let count = events.len() as u64;
        let report = verify_chain(events).unwrap();
        prop_assert_eq!(report.count, count);
        prop_assert_eq!(report.head_hash, head);
    }

    #[test]
    fn any_corruption_of_any_event_is_refused(
        mut events in chain(),
        at in any::<prop::sample::Index>(),
        c in corruption(),
    ) {
        let at = at.index(events.len());
        prop_assume!(corrupt(&mut events, at, c));
        prop_assert!(verify_chain(events).is_err());
    }

    #[test]
    fn rows_of_garbage_are_refused_without_a_panic(
        rows in prop::collection::vec(
            (any::<i64>(), any::<String>(), any::<String>(), any::<String>()),
            1..8,
        ),
    ) {
        let events: Vec<AuditEvent> = rows
            .into_iter()
            .map(|(seq, action, prev_hash, hash)| AuditEvent {
                seq,
                at: 0,
                actor: None,
                action,
                target: None,
                outcome: Outcome::Success,
                ip: None,
                request_id: None,
                detail: json!(null),
                prev_hash,
                hash,
            })
            .collect();
        prop_assert!(verify_chain(events).is_err());
    }
}
