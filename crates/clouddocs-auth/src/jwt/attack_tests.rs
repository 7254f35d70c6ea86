//! Hostile tokens: each must be rejected with a specific error and none may panic. Forged
//! tokens are signed properly with the real key wherever possible, so the check under test
//! is the only thing that can reject them.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::sign::encoding_key;
use super::testing::{Claims, claims, key, options, ring};
use super::{JwtError, KeyMaterial, KeyRing, SigningAlgorithm, unix_now};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

fn claims_value() -> Value {
    serde_json::to_value(claims()).unwrap()
}

/// A token with exactly this header JSON, signed with `key` under `key`'s own algorithm
fn forge(header: &Value, claims: &Value, key: &KeyMaterial) -> String {
    let message = format!("{}.{}", b64_json(header), b64_json(claims));
    let alg = key.alg().jwt_algorithm();
    let signing_key = encoding_key(key.alg(), key.private_bytes()).unwrap();
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &signing_key, alg).unwrap();
    format!("{message}.{signature}")
}

/// The header our own `sign` would write for `key`
fn clean_header(key: &KeyMaterial) -> Value {
    json!({ "alg": key.alg().as_str(), "typ": "JWT", "kid": key.kid() })
}

fn verify(ring: &KeyRing, token: &str) -> Result<Claims, JwtError> {
    ring.verify::<Claims>(token, &options())
}

fn verify_value(ring: &KeyRing, token: &str) -> Result<Value, JwtError> {
    ring.verify::<Value>(token, &options())
}

#[test]
fn a_forged_token_with_a_clean_header_verifies_so_the_forgeries_below_are_fair() {
    for alg in [SigningAlgorithm::EdDsa, SigningAlgorithm::Rs256] {
        let (ring, key) = ring(alg);
        assert!(verify(&ring, &forge(&clean_header(key), &claims_value(), key)).is_ok());
    }
}

#[test]
fn token_with_alg_none_and_no_signature_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({ "alg": alg, "typ": "JWT", "kid": key.kid() });
        let token = format!("{}.{}.", b64_json(&header), b64_json(&claims_value()));
        assert_eq!(
            verify(&ring, &token).unwrap_err(),
            JwtError::Malformed,
            "{alg}"
        );
    }
}

#[test]
fn token_with_alg_none_and_a_real_signature_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let genuine = ring.sign(&claims()).unwrap();
    let signature = genuine.rsplit('.').next().unwrap();
    let header = json!({ "alg": "none", "typ": "JWT", "kid": key.kid() });
    let token = format!(
        "{}.{}.{signature}",
        b64_json(&header),
        b64_json(&claims_value())
    );
    assert_eq!(verify(&ring, &token).unwrap_err(), JwtError::Malformed);
}

/// Candidate "secrets" an attacker could derive from a published public key
fn public_key_encodings(key: &KeyMaterial) -> Vec<Vec<u8>> {
    let jwk = key.public_jwk().unwrap();
    let jwk_json = serde_json::to_vec(jwk).unwrap();
    let spki: Vec<u8> = match key.alg() {
        SigningAlgorithm::Rs256 => aws_lc_rs::rsa::KeyPair::from_pkcs8(key.private_bytes())
            .unwrap()
            .public_key()
            .as_der()
            .unwrap()
            .as_ref()
            .to_vec(),
        _ => aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(key.private_bytes())
            .unwrap()
            .public_key()
            .as_der()
            .unwrap()
            .as_ref()
            .to_vec(),
    };
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(&spki)
    );
    let raw = match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => {
            URL_SAFE_NO_PAD.decode(&p.x).unwrap()
        }
        jsonwebtoken::jwk::AlgorithmParameters::RSA(p) => URL_SAFE_NO_PAD.decode(&p.n).unwrap(),
        _ => unreachable!("only Ed25519 and RSA keys are attacked here"),
    };
    vec![raw, spki, pem.into_bytes(), jwk_json]
}

fn hs256_signed_with_public_key_is_rejected(alg: SigningAlgorithm) {
    let (ring, key) = ring(alg);
    for secret in public_key_encodings(key) {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid().to_owned());
        let token =
            jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(
            verify(&ring, &token).unwrap_err(),
            JwtError::AlgorithmMismatch
        );
    }
}

#[test]
fn hs256_token_signed_with_the_ed25519_public_key_is_rejected() {
    hs256_signed_with_public_key_is_rejected(SigningAlgorithm::EdDsa);
}

#[test]
fn hs256_token_signed_with_the_rsa_public_key_is_rejected() {
    hs256_signed_with_public_key_is_rejected(SigningAlgorithm::Rs256);
}

#[test]
fn token_whose_header_alg_differs_from_the_keys_pinned_alg_is_rejected() {
    // Validly signed by an ES256 key, but claiming the kid of the Ed25519 key
    let (ring, ed) = ring(SigningAlgorithm::EdDsa);
    let es = key(SigningAlgorithm::Es256);
    let header = json!({ "alg": "ES256", "typ": "JWT", "kid": ed.kid() });
    let token = forge(&header, &claims_value(), es);
    assert_eq!(
        verify(&ring, &token).unwrap_err(),
        JwtError::AlgorithmMismatch
    );
}

#[test]
fn token_signed_by_another_key_of_the_same_algorithm_under_our_kid_is_rejected() {
    let (ring, ours) = ring(SigningAlgorithm::EdDsa);
    let theirs = KeyMaterial::generate(SigningAlgorithm::EdDsa).unwrap();
    let token = forge(&clean_header(ours), &claims_value(), &theirs);
    assert_eq!(verify(&ring, &token).unwrap_err(), JwtError::BadSignature);
}

#[test]
fn token_with_a_tampered_payload_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let token = ring.sign(&claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut escalated = claims_value();
    escalated["sub"] = json!("admin");
    escalated["scope"] = json!("admin");
    let tampered = format!("{}.{}.{}", parts[0], b64_json(&escalated), parts[2]);
    assert_eq!(
        verify(&ring, &tampered).unwrap_err(),
        JwtError::BadSignature
    );
}

#[test]
fn token_with_a_stripped_signature_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::Es256);
    let token = ring.sign(&claims()).unwrap();
    let unsigned = &token[..=token.rfind('.').unwrap()];
    assert_eq!(verify(&ring, unsigned).unwrap_err(), JwtError::BadSignature);
    let two_segments = &token[..token.rfind('.').unwrap()];
    assert_eq!(
        verify(&ring, two_segments).unwrap_err(),
        JwtError::Malformed
    );
}

#[test]
fn expired_token_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let now = unix_now();
    let mut c = claims();
    c.iat = now - 7200;
    c.nbf = now - 7200;
    c.exp = now - 3600;
    assert_eq!(
        verify(&ring, &ring.sign(&c).unwrap()).unwrap_err(),
        JwtError::Expired
    );
}

#[test]
fn token_that_is_not_yet_valid_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let mut c = claims();
    c.nbf = unix_now() + 3600;
    c.exp = c.nbf + 900;
    assert_eq!(
        verify(&ring, &ring.sign(&c).unwrap()).unwrap_err(),
        JwtError::NotYetValid
    );
}

#[test]
fn token_from_another_issuer_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let mut c = claims();
    c.iss = "https://evil.example".to_owned();
    assert_eq!(
        verify(&ring, &ring.sign(&c).unwrap()).unwrap_err(),
        JwtError::WrongIssuer
    );
}

#[test]
fn token_for_another_audience_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let mut c = claims();
    c.aud = "another-api".to_owned();
    assert_eq!(
        verify(&ring, &ring.sign(&c).unwrap()).unwrap_err(),
        JwtError::WrongAudience
    );
}

#[test]
fn token_with_an_unknown_kid_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let stranger = KeyMaterial::generate(SigningAlgorithm::EdDsa).unwrap();
    let token = KeyRing::new([&stranger], stranger.kid())
        .unwrap()
        .sign(&claims())
        .unwrap();
    assert_eq!(verify(&ring, &token).unwrap_err(), JwtError::UnknownKey);
}

#[test]
fn token_without_a_kid_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let token = forge(
        &json!({ "alg": "EdDSA", "typ": "JWT" }),
        &claims_value(),
        key,
    );
    assert_eq!(verify(&ring, &token).unwrap_err(), JwtError::UnknownKey);
}

#[test]
fn token_with_a_path_traversal_kid_is_rejected_as_unknown() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let long_kid = "k".repeat(500);
    for kid in [
        "../../etc/passwd",
        "/dev/zero",
        "file:///etc/passwd",
        "https://evil.example/k",
        "",
        &long_kid,
    ] {
        let header = json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid });
        let token = forge(&header, &claims_value(), key);
        assert_eq!(
            verify(&ring, &token).unwrap_err(),
            JwtError::UnknownKey,
            "{}",
            kid.len()
        );
    }
}

#[test]
fn token_with_a_non_string_kid_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let header = json!({ "alg": "EdDSA", "typ": "JWT", "kid": ["a", "b"] });
    let token = forge(&header, &claims_value(), key);
    assert_eq!(verify(&ring, &token).unwrap_err(), JwtError::Malformed);
}

fn with_header_param(key: &KeyMaterial, name: &str, value: Value) -> String {
    let mut header = clean_header(key);
    header[name] = value;
    forge(&header, &claims_value(), key)
}

#[test]
fn token_with_a_jku_header_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let token = with_header_param(key, "jku", json!("https://evil.example/jwks.json"));
    assert_eq!(
        verify(&ring, &token).unwrap_err(),
        JwtError::ForbiddenHeader("jku")
    );
}

#[test]
fn token_with_an_x5u_header_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let token = with_header_param(key, "x5u", json!("https://evil.example/cert.pem"));
    assert_eq!(
        verify(&ring, &token).unwrap_err(),
        JwtError::ForbiddenHeader("x5u")
    );
}

#[test]
fn token_with_an_embedded_jwk_header_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    // Even the ring's own public key may not be supplied by the token
    let jwk = serde_json::to_value(key.public_jwk().unwrap()).unwrap();
    let token = with_header_param(key, "jwk", jwk);
    assert_eq!(
        verify(&ring, &token).unwrap_err(),
        JwtError::ForbiddenHeader("jwk")
    );
}

#[test]
fn token_with_an_x5c_header_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let token = with_header_param(key, "x5c", json!(["MIIBszCCAVmgAwIBAgIU"]));
    assert_eq!(
        verify(&ring, &token).unwrap_err(),
        JwtError::ForbiddenHeader("x5c")
    );
}

#[test]
fn token_with_a_crit_header_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let token = with_header_param(key, "crit", json!(["exp"]));
    assert_eq!(
        verify(&ring, &token).unwrap_err(),
        JwtError::ForbiddenHeader("crit")
    );
}

#[test]
fn token_of_garbage_base64_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    for garbage in [
        "!!!.@@@.###",
        "a.b.c",
        "....",
        "e30.e30.e30",
        "\u{0}.\u{0}.\u{0}",
        "ü.ö.ä",
    ] {
        assert_eq!(
            verify(&ring, garbage).unwrap_err(),
            JwtError::Malformed,
            "{garbage:?}"
        );
    }
}

#[test]
fn token_of_one_megabyte_is_rejected_before_parsing() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    let huge = "a".repeat(1 << 20);
    assert_eq!(verify(&ring, &huge).unwrap_err(), JwtError::TooLarge);
    // Also when it is a validly signed, well-formed token
    let mut big = claims_value();
    big["padding"] = json!("x".repeat(1 << 20));
    let token = forge(&clean_header(key), &big, key);
    assert_eq!(verify_value(&ring, &token).unwrap_err(), JwtError::TooLarge);
}

#[test]
fn empty_token_is_rejected() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    assert_eq!(verify(&ring, "").unwrap_err(), JwtError::Malformed);
    assert_eq!(verify(&ring, "..").unwrap_err(), JwtError::Malformed);
}

#[test]
fn token_whose_payload_is_not_a_json_object_is_rejected() {
    let (ring, key) = ring(SigningAlgorithm::EdDsa);
    for payload in [json!("string"), json!(42), json!(null), json!([1, 2])] {
        let token = forge(&clean_header(key), &payload, key);
        assert!(verify_value(&ring, &token).is_err(), "{payload}");
    }
}

#[test]
fn every_truncation_and_single_byte_change_of_a_valid_token_is_rejected_without_panic() {
    let (ring, _) = ring(SigningAlgorithm::EdDsa);
    let token = ring.sign(&claims()).unwrap();
    for end in 0..token.len() {
        assert!(
            verify_value(&ring, &token[..end]).is_err(),
            "prefix of {end} bytes accepted"
        );
    }
    let bytes = token.as_bytes();
    for i in 0..bytes.len() {
        for replacement in [b'A', b'.', b'_', b'-'] {
            if bytes[i] == replacement {
                continue;
            }
            let mut mutated = bytes.to_vec();
            mutated[i] = replacement;
            let mutated = String::from_utf8(mutated).unwrap();
            // Changing a base64url character's unused low bits can leave the bytes intact,
            // so a mutated token may still verify; it must only never verify as something else.
            if let Ok(value) = verify_value(&ring, &mutated) {
                assert_eq!(
                    serde_json::from_value::<Claims>(value).unwrap().sub,
                    "user-1"
                );
            }
        }
    }
}
