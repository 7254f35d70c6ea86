//! Property tests of the request parsers that see raw input first: the JSON nesting bound,
//! `X-Forwarded-For` through trusted proxies, and list cursors. None may panic; each must
//! agree with what it guards.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde_json::Value;

use crate::extract::json::{MAX_JSON_DEPTH, too_deep};
use crate::rate_limit::TrustedProxies;

/// JSON of a known nesting depth, with strings that hold brackets and escapes
fn nested(depth: usize, filler: &str) -> String {
    let mut text = serde_json::to_string(filler).unwrap_or_default();
    for level in 0..depth {
        text = if level % 2 == 0 {
            format!("[{text}]")
        } else {
            format!("{{\"k\\\"[{{\":{text}}}")
        };
    }
    text
}

fn depth_of(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_nesting_bound_agrees_with_the_parsed_depth(
        depth in 0usize..80,
        filler in "[\\[\\]{}\"\\\\a-z ]{0,16}",
    ) {
        let text = nested(depth, &filler);
        let parsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(depth_of(&parsed), depth);
        prop_assert_eq!(too_deep(text.as_bytes()), depth > MAX_JSON_DEPTH);
    }

    #[test]
    fn the_nesting_bound_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = too_deep(&bytes);
    }

    #[test]
    fn an_untrusted_peer_is_always_the_client(
        peer in any::<IpAddr>(),
        values in prop::collection::vec(any::<String>(), 0..4),
    ) {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();
        prop_assume!(!proxies.contains(peer.to_canonical()));
        let mut headers = HeaderMap::new();
        for v in &values {
            if let Ok(value) = HeaderValue::from_str(v) {
                headers.append("x-forwarded-for", value);
            }
        }
        prop_assert_eq!(proxies.client_ip(peer, &headers), peer.to_canonical());
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_peer_or_a_forwarded_hop(
        hops in prop::collection::vec(any::<IpAddr>(), 0..5),
        garbage in prop::collection::vec("[ -~]{0,12}", 0..3),
    ) {
        let proxies = TrustedProxies::parse_list("10.0.0.0/8").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let mut parts: Vec<String> = hops.iter().map(ToString::to_string).collect();
        parts.extend(garbage);
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&parts.join(", ")) {
            headers.append("x-forwarded-for", value);
        }
        let client = proxies.client_ip(peer, &headers);
        let candidates: Vec<IpAddr> =
            hops.iter().map(|h| h.to_canonical()).chain([peer]).collect();
        prop_assert!(candidates.contains(&client), "{} not in {:?}", client, candidates);
    }

    #[test]
    fn a_cursor_is_accepted_only_when_it_is_an_id(cursor in any::<String>()) {
        let accepted = crate::routes::id_cursor(Some(&cursor)).is_ok();
        prop_assert_eq!(accepted, uuid::Uuid::parse_str(&cursor).is_ok());
    }
}
