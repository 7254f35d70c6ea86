//! Property tests of JWT verification: no input, however built, panics or is accepted
//! unless it is a token the ring itself signed. Bounded like the rest of the suite
//! (`PROPTEST_CASES` raises the case count for a longer run).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::SigningAlgorithm;
use super::testing::{Claims, claims, options, ring};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Header values an attacker would try, and arbitrary ones
fn header() -> impl Strategy<Value = Value> {
    let alg = prop_oneof![
        Just(json!("none")),
        Just(json!("None")),
        Just(json!("HS256")),
        Just(json!("RS256")),
        Just(json!("EdDSA")),
        Just(json!("ES256")),
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(Value::Null),
    ];
    let kid = prop_oneof![
        Just(Value::Null),
        any::<String>().prop_map(Value::from),
        Just(json!("../../../../dev/null")),
        Just(json!({"kid": "nested"})),
    ];
    let extra = prop_oneof![
        Just(json!({})),
        Just(json!({"jku": "https://evil.example/jwks.json"})),
        Just(json!({"jwk": {"kty": "oct", "k": "AAAA"}})),
        Just(json!({"crit": ["exp"]})),
        Just(json!({"x5u": "https://evil.example/cert"})),
    ];
    (alg, kid, extra).prop_map(|(alg, kid, mut extra)| {
        if let Some(map) = extra.as_object_mut() {
            map.insert("alg".to_owned(), alg);
            map.insert("typ".to_owned(), json!("JWT"));
            if !kid.is_null() {
                map.insert("kid".to_owned(), kid);
            }
        }
        extra
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_refused_without_a_panic(token in any::<String>()) {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        prop_assert!(ring.verify::<Value>(&token, &options()).is_err());
    }

    #[test]
    fn three_segments_with_any_header_and_any_signature_are_refused(
        header in header(),
        payload in prop::collection::vec(any::<u8>(), 0..256),
        signature in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        let good = serde_json::to_vec(&claims()).unwrap();
        for body in [payload.as_slice(), good.as_slice()] {
            let token = format!(
                "{}.{}.{}",
                b64(header.to_string().as_bytes()),
                b64(body),
                b64(&signature)
            );
            prop_assert!(ring.verify::<Value>(&token, &options()).is_err(), "{}", token);
        }
    }

    #[test]
    fn a_signed_token_with_any_one_byte_of_its_signed_part_changed_is_refused(
        position in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let (ring, key) = ring(SigningAlgorithm::EdDsa);
        let token = ring.sign(&claims()).unwrap();
        prop_assert!(ring.verify::<Claims>(&token, &options()).is_ok());
        let signed_len = token.rfind('.').unwrap();
        let mut bytes = token.into_bytes();
        let at = position.index(signed_len);
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let tampered = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert!(
            ring.verify::<Claims>(&tampered, &options()).is_err(),
            "kid {} accepted {}", key.kid(), tampered
        );
    }
}
