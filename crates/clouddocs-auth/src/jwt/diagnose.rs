//! Why a token would be refused: every reason at once, for the JWT inspector page.
//!
//! [`KeyRing::verify`] stops at the first failure, as a verifier must. The inspector wants
//! all of them, so this runs the same checks one by one on the unverified parts: the
//! verifier's own header and key checks, the signature under the ring's key (with
//! jsonwebtoken, as `verify` does), then each claim. It never replaces `verify`: the
//! verdict the inspector shows is `verify`'s, and these are its reasons.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Validation, decode};
use serde_json::Value;

use super::verify::{REQUIRED_CLAIMS, VerifyOptions};
use super::{JwtError, KeyRing, unix_now};

/// What the inspector shows of a token
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The decoded header, if it decodes
    pub header: Option<Value>,
    /// The decoded claims, if they decode (not verified)
    pub claims: Option<Value>,
    /// `verify`'s answer
    pub verdict: Result<(), JwtError>,
    /// Every reason the token would be refused, in the verifier's order; empty when accepted
    pub reasons: Vec<String>,
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl KeyRing {
    /// Every reason `token` would be refused under `expect`, with its decoded parts
    pub fn diagnose(&self, token: &str, expect: &VerifyOptions) -> Diagnosis {
        let verdict = self.verify::<Value>(token, expect).map(|_| ());
        let mut reasons = Vec::new();
        if token.len() > expect.max_token_bytes {
            reasons.push(format!(
                "the token is {} bytes, over the {}-byte limit (refused before parsing)",
                token.len(),
                expect.max_token_bytes
            ));
            return Diagnosis {
                header: None,
                claims: None,
                verdict,
                reasons,
            };
        }
        let parts: Vec<&str> = token.trim().split('.').collect();
        let (header, claims) = match parts.as_slice() {
            [h, c, _] => (decode_part(h), decode_part(c)),
            _ => (None, None),
        };
        if parts.len() != 3 {
            reasons.push("not a JWS compact token: it needs three dot-separated parts".to_owned());
        }
        match &header {
            None if parts.len() == 3 => reasons.push("the header is not base64url JSON".to_owned()),
            None => {}
            Some(h) => self.header_reasons(h, &mut reasons),
        }
        let key = header
            .as_ref()
            .and_then(|h| h.get("kid"))
            .and_then(Value::as_str)
            .and_then(|kid| self.find(kid));
        let alg_matches = header
            .as_ref()
            .and_then(|h| h.get("alg"))
            .and_then(Value::as_str)
            .zip(key)
            .is_some_and(|(alg, key)| format!("{:?}", key.alg.jwt_algorithm()) == alg);
        if let (Some(key), true) = (key, alg_matches) {
            // The signature alone, under the kid's key and pinned algorithm.
            let pinned = key.alg.jwt_algorithm();
            let mut only_signature = Validation::new(pinned);
            only_signature.algorithms = vec![pinned];
            only_signature.validate_exp = false;
            only_signature.validate_nbf = false;
            only_signature.validate_aud = false;
            only_signature.required_spec_claims.clear();
            if decode::<Value>(token, &key.decoding, &only_signature).is_err() {
                reasons
                    .push("the signature does not verify under the key its kid names".to_owned());
            }
        }
        match &claims {
            Some(c) => claim_reasons(c, expect, &mut reasons),
            None if parts.len() == 3 => {
                reasons.push("the claims are not base64url JSON".to_owned())
            }
            None => {}
        }
        if reasons.is_empty()
            && let Err(err) = &verdict
        {
            // Every check above passed but the verifier still refused: say what it said.
            reasons.push(err.to_string());
        }
        if verdict.is_ok() {
            reasons.clear();
        }
        Diagnosis {
            header,
            claims,
            verdict,
            reasons,
        }
    }

    fn header_reasons(&self, header: &Value, reasons: &mut Vec<String>) {
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let asymmetric_ring = self
            .keys
            .iter()
            .all(|k| k.alg != super::SigningAlgorithm::Hs256);
        match alg {
            "" => reasons.push("the header names no `alg`".to_owned()),
            a if a.eq_ignore_ascii_case("none") => reasons.push(
                "`alg: none`: an unsigned token, a forgery attempt; never accepted".to_owned(),
            ),
            a if a.starts_with("HS") && asymmetric_ring => reasons.push(format!(
                "`alg: {a}` with a server that signs with asymmetric keys: the HMAC/public-key \
                 confusion attack (signing with the public key as an HMAC secret); refused"
            )),
            _ => {}
        }
        for name in ["jku", "x5u", "jwk", "x5c", "crit"] {
            if header.get(name).is_some() {
                reasons.push(format!(
                    "the header carries `{name}`, which would let the token choose its own key or \
                     rules; refused"
                ));
            }
        }
        match header.get("kid").and_then(Value::as_str) {
            None => reasons.push("the header names no `kid`".to_owned()),
            Some(kid) => match self.find(kid) {
                None => reasons.push(format!("unknown signing key: no key `{kid}` in the JWKS")),
                Some(key) => {
                    let pinned = format!("{:?}", key.alg.jwt_algorithm());
                    if !alg.is_empty() && alg != pinned {
                        reasons.push(format!(
                            "wrong algorithm: key `{kid}` signs {pinned} only, the token says {alg}"
                        ));
                    }
                }
            },
        }
    }
}

fn claim_reasons(claims: &Value, expect: &VerifyOptions, reasons: &mut Vec<String>) {
    let Some(object) = claims.as_object() else {
        reasons.push("the claims are not a JSON object".to_owned());
        return;
    };
    for claim in REQUIRED_CLAIMS
        .iter()
        .copied()
        .chain(expect.required_claims.iter().map(String::as_str))
    {
        if object.get(claim).is_none_or(Value::is_null) {
            reasons.push(format!("missing required claim `{claim}`"));
        }
    }
    let now = unix_now();
    let leeway = i64::try_from(expect.leeway_secs).unwrap_or(0);
    let time = |name: &str| object.get(name).and_then(Value::as_i64);
    if let Some(exp) = time("exp")
        && exp.saturating_add(leeway) <= now
    {
        reasons.push(format!(
            "expired {} s ago (`exp` {exp})",
            now.saturating_sub(exp)
        ));
    }
    if let Some(nbf) = time("nbf")
        && nbf.saturating_sub(leeway) > now
    {
        reasons.push(format!(
            "not valid for another {} s (`nbf` {nbf})",
            nbf.saturating_sub(now)
        ));
    }
    if let Some(iat) = time("iat")
        && iat.saturating_sub(leeway) > now
    {
        reasons.push(format!("issued in the future (`iat` {iat})"));
    }
    match object.get("iss").and_then(Value::as_str) {
        Some(iss) if iss != expect.issuer => reasons.push(format!(
            "wrong issuer `{iss}`: this server is `{}`",
            expect.issuer
        )),
        _ => {}
    }
    let audiences: Vec<&str> = match object.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if object.contains_key("aud")
        && !audiences
            .iter()
            .any(|a| expect.audience.iter().any(|e| e == a))
    {
        reasons.push(format!(
            "wrong audience {audiences:?}: this API is {:?}",
            expect.audience
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jwt::SigningAlgorithm;
    use crate::jwt::testing::{claims, options, ring};

    #[test]
    fn a_good_token_has_no_reasons_and_a_bad_one_has_each_of_its_own() {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        let good = ring.sign(&claims()).unwrap();
        let diagnosis = ring.diagnose(&good, &options());
        assert_eq!(diagnosis.verdict, Ok(()));
        assert!(diagnosis.reasons.is_empty(), "{:?}", diagnosis.reasons);
        assert!(diagnosis.claims.is_some());

        let mut stale = serde_json::to_value(claims()).unwrap();
        stale["exp"] = json!(unix_now() - 3600);
        stale["iss"] = json!("https://elsewhere.example");
        let bad = ring.sign(&stale).unwrap();
        let diagnosis = ring.diagnose(&bad, &options());
        assert!(diagnosis.verdict.is_err());
        let text = diagnosis.reasons.join("\n");
        assert!(text.contains("expired"), "{text}");
        assert!(text.contains("wrong issuer"), "{text}");
        assert_eq!(diagnosis.reasons.len(), 2, "{text}");
    }

    #[test]
    fn extreme_times_are_reasons_not_overflows() {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        for (exp, nbf) in [(i64::MIN, i64::MAX), (i64::MAX, i64::MIN)] {
            let mut odd = serde_json::to_value(claims()).unwrap();
            odd["exp"] = json!(exp);
            odd["nbf"] = json!(nbf);
            odd["iat"] = json!(nbf);
            let token = ring.sign(&odd).unwrap();
            let diagnosis = ring.diagnose(&token, &options());
            assert!(diagnosis.verdict.is_err());
            assert!(!diagnosis.reasons.is_empty());
        }
    }

    #[test]
    fn forgeries_are_named_as_such() {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        let good = ring.sign(&claims()).unwrap();
        let mut parts = good.split('.');
        let (_, body) = (parts.next().unwrap(), parts.next().unwrap());
        let none = format!(
            "{}.{body}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        let text = ring.diagnose(&none, &options()).reasons.join("\n");
        assert!(text.contains("alg: none"), "{text}");
        assert!(text.contains("no `kid`"), "{text}");

        let tampered = format!("{good}x");
        let diagnosis = ring.diagnose(&tampered, &options());
        assert!(diagnosis.verdict.is_err());
        assert!(
            diagnosis.reasons.join("\n").contains("signature"),
            "{:?}",
            diagnosis.reasons
        );

        let huge = "a".repeat(10_000);
        let text = ring.diagnose(&huge, &options()).reasons.join("\n");
        assert!(text.contains("limit"), "{text}");
        assert!(ring.diagnose("", &options()).verdict.is_err());
        assert!(!ring.diagnose("a.b.c", &options()).reasons.is_empty());
    }
}
