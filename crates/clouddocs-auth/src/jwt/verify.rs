//! Token verification. The order is fixed and security-critical: size limit before any
//! parsing; header decoded and checked for parameters that would let the token pick its own
//! key (`jku`, `x5u`, `jwk`, `x5c`) or demand extensions (`crit`); key found by `kid` in the
//! ring only; the header `alg` must equal the key's pinned algorithm, and the validation
//! accepts exactly that one algorithm; then signature, `exp`, `nbf`, `iss`, `aud` and the
//! required claims.

use std::collections::HashSet;

use jsonwebtoken::{Validation, decode, decode_header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{JwtError, KeyRing, unix_now};

/// Largest accepted clock-skew allowance
pub const MAX_LEEWAY_SECS: u64 = 60;
/// Default size limit of a token, in bytes
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8192;
/// Claims every token must carry, whatever `VerifyOptions::required_claims` adds
pub const REQUIRED_CLAIMS: [&str; 7] = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"];
/// Default clock-skew allowance
const DEFAULT_LEEWAY_SECS: u64 = 30;
/// Longest kid worth looking up (ours are 43-character thumbprints or 36-character UUIDs)
const MAX_KID_BYTES: usize = 128;

/// What a token must satisfy besides its signature
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The only accepted `iss`
    pub issuer: String,
    /// Accepted `aud` values; the token's `aud` must name at least one (must not be empty)
    pub audience: Vec<String>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`, at most [`MAX_LEEWAY_SECS`]
    pub leeway_secs: u64,
    /// Tokens longer than this are rejected before parsing
    pub max_token_bytes: usize,
    /// Claims required in addition to [`REQUIRED_CLAIMS`] (for example `scope`)
    pub required_claims: Vec<String>,
}

impl VerifyOptions {
    /// Options for `issuer` and `audience` with a 30 s leeway, an 8 KiB size limit and no
    /// extra required claims
    pub fn new<A: Into<String>>(
        issuer: impl Into<String>,
        audience: impl IntoIterator<Item = A>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into_iter().map(Into::into).collect(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            required_claims: Vec::new(),
        }
    }

    fn check(&self) -> Result<(), JwtError> {
        if self.issuer.is_empty() {
            return Err(JwtError::InvalidOptions("issuer is empty"));
        }
        if self.audience.is_empty() || self.audience.iter().any(String::is_empty) {
            return Err(JwtError::InvalidOptions("audience is empty"));
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            return Err(JwtError::InvalidOptions("leeway exceeds 60 seconds"));
        }
        Ok(())
    }
}

impl KeyRing {
    /// Verifies `token` and returns its claims. Every failure is a [`JwtError`]; no input
    /// makes this panic, fetch a URL or touch the filesystem.
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        expect: &VerifyOptions,
    ) -> Result<C, JwtError> {
        expect.check()?;
        if token.len() > expect.max_token_bytes {
            return Err(JwtError::TooLarge);
        }
        if token.bytes().filter(|b| *b == b'.').count() != 2 {
            return Err(JwtError::Malformed);
        }

        let header = decode_header(token).map_err(|_| JwtError::Malformed)?;
        let forbidden = [
            ("jku", header.jku.is_some()),
            ("x5u", header.x5u.is_some()),
            ("jwk", header.jwk.is_some()),
            ("x5c", header.x5c.is_some()),
            ("crit", header.crit.is_some()),
        ];
        if let Some((name, _)) = forbidden.iter().find(|(_, present)| *present) {
            return Err(JwtError::ForbiddenHeader(name));
        }

        let kid = header.kid.as_deref().ok_or(JwtError::UnknownKey)?;
        if kid.len() > MAX_KID_BYTES {
            return Err(JwtError::UnknownKey);
        }
        let key = self.find(kid).ok_or(JwtError::UnknownKey)?;
        let pinned = key.alg.jwt_algorithm();
        if header.alg != pinned {
            return Err(JwtError::AlgorithmMismatch);
        }

        let mut validation = Validation::new(pinned);
        validation.algorithms = vec![pinned];
        validation.leeway = expect.leeway_secs;
        validation.reject_tokens_expiring_in_less_than = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[expect.issuer.as_str()]);
        validation.set_audience(&expect.audience);
        // jsonwebtoken enforces the presence of exp, nbf, iss, aud and sub; iat and jti are
        // checked below because it ignores them.
        validation.required_spec_claims = REQUIRED_CLAIMS.iter().map(|c| (*c).to_owned()).collect();

        let claims = decode::<Value>(token, &key.decoding, &validation)?.claims;
        check_claims(&claims, expect)?;
        serde_json::from_value(claims).map_err(|_| JwtError::Malformed)
    }
}

/// The checks jsonwebtoken does not make: `iat` (a number, not in the future), `jti` (a
/// non-empty string) and the caller's extra required claims
fn check_claims(claims: &Value, expect: &VerifyOptions) -> Result<(), JwtError> {
    let object = claims.as_object().ok_or(JwtError::Malformed)?;
    let iat = object
        .get("iat")
        .and_then(Value::as_f64)
        .filter(|iat| iat.is_finite() && *iat >= 0.0)
        .ok_or_else(|| JwtError::MissingClaim("iat".to_owned()))?;
    let latest = unix_now().saturating_add(i64::try_from(expect.leeway_secs).unwrap_or(0));
    if iat > latest as f64 {
        return Err(JwtError::NotYetValid);
    }
    if object
        .get("jti")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(JwtError::MissingClaim("jti".to_owned()));
    }
    let mut seen = HashSet::new();
    for claim in &expect.required_claims {
        if seen.insert(claim) && object.get(claim).is_none_or(Value::is_null) {
            return Err(JwtError::MissingClaim(claim.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jwt::SigningAlgorithm;
    use crate::jwt::testing::{AUDIENCE, Claims, claims, options, ring};

    fn sign_value(claims: &Value) -> (KeyRing, String) {
        let (ring, _) = ring(SigningAlgorithm::EdDsa);
        let token = ring.sign(claims).unwrap();
        (ring, token)
    }

    fn without(claim: &str) -> Value {
        let mut value = serde_json::to_value(claims()).unwrap();
        value.as_object_mut().unwrap().remove(claim);
        value
    }

    #[test]
    fn every_required_claim_must_be_present() {
        for claim in REQUIRED_CLAIMS {
            let (ring, token) = sign_value(&without(claim));
            assert_eq!(
                ring.verify::<Value>(&token, &options()).unwrap_err(),
                JwtError::MissingClaim(claim.to_owned()),
                "{claim}"
            );
        }
    }

    #[test]
    fn extra_required_claims_from_the_options_are_enforced() {
        let (ring, token) = sign_value(&without("scope"));
        let mut opts = options();
        assert!(ring.verify::<Value>(&token, &opts).is_ok());
        opts.required_claims = vec!["scope".to_owned()];
        assert_eq!(
            ring.verify::<Value>(&token, &opts).unwrap_err(),
            JwtError::MissingClaim("scope".to_owned())
        );
    }

    #[test]
    fn a_string_exp_is_not_mistaken_for_a_missing_one() {
        let mut value = serde_json::to_value(claims()).unwrap();
        value["exp"] = json!("9999999999");
        let (ring, token) = sign_value(&value);
        assert!(matches!(
            ring.verify::<Value>(&token, &options()).unwrap_err(),
            JwtError::MissingClaim(_) | JwtError::Malformed
        ));
    }

    #[test]
    fn a_token_issued_in_the_future_is_not_yet_valid() {
        let mut value = serde_json::to_value(claims()).unwrap();
        value["iat"] = json!(unix_now() + 3600);
        let (ring, token) = sign_value(&value);
        assert_eq!(
            ring.verify::<Value>(&token, &options()).unwrap_err(),
            JwtError::NotYetValid
        );
    }

    #[test]
    fn an_empty_jti_counts_as_missing() {
        let mut value = serde_json::to_value(claims()).unwrap();
        value["jti"] = json!("");
        let (ring, token) = sign_value(&value);
        assert_eq!(
            ring.verify::<Value>(&token, &options()).unwrap_err(),
            JwtError::MissingClaim("jti".to_owned())
        );
    }

    #[test]
    fn expiry_within_the_leeway_is_accepted() {
        let mut c = claims();
        c.exp = unix_now() - 10;
        let (ring, token) = sign_value(&serde_json::to_value(&c).unwrap());
        assert!(ring.verify::<Claims>(&token, &options()).is_ok());
        let mut strict = options();
        strict.leeway_secs = 0;
        assert_eq!(
            ring.verify::<Claims>(&token, &strict).unwrap_err(),
            JwtError::Expired
        );
    }

    #[test]
    fn an_audience_list_is_accepted_when_it_names_us() {
        let mut value = serde_json::to_value(claims()).unwrap();
        value["aud"] = json!(["another-api", AUDIENCE]);
        let (ring, token) = sign_value(&value);
        assert!(ring.verify::<Value>(&token, &options()).is_ok());
    }

    #[test]
    fn unsafe_or_incomplete_options_are_refused() {
        let (ring, token) = sign_value(&serde_json::to_value(claims()).unwrap());
        let mut lax = options();
        lax.leeway_secs = 61;
        assert_eq!(
            ring.verify::<Value>(&token, &lax).unwrap_err(),
            JwtError::InvalidOptions("leeway exceeds 60 seconds")
        );
        let no_aud = VerifyOptions::new("https://clouddocs.test", Vec::<String>::new());
        assert_eq!(
            ring.verify::<Value>(&token, &no_aud).unwrap_err(),
            JwtError::InvalidOptions("audience is empty")
        );
        let no_iss = VerifyOptions::new("", [AUDIENCE]);
        assert_eq!(
            ring.verify::<Value>(&token, &no_iss).unwrap_err(),
            JwtError::InvalidOptions("issuer is empty")
        );
    }

    #[test]
    fn claims_that_do_not_fit_the_callers_type_are_malformed() {
        #[derive(Debug, serde::Deserialize)]
        struct NeedsRoles {
            #[allow(dead_code, reason = "only deserialized")]
            roles: Vec<String>,
        }
        let (ring, token) = sign_value(&serde_json::to_value(claims()).unwrap());
        assert_eq!(
            ring.verify::<NeedsRoles>(&token, &options()).unwrap_err(),
            JwtError::Malformed
        );
    }

    #[test]
    fn the_size_limit_is_configurable() {
        let (ring, token) = sign_value(&serde_json::to_value(claims()).unwrap());
        let mut small = options();
        small.max_token_bytes = token.len() - 1;
        assert_eq!(
            ring.verify::<Value>(&token, &small).unwrap_err(),
            JwtError::TooLarge
        );
        small.max_token_bytes = token.len();
        assert!(ring.verify::<Value>(&token, &small).is_ok());
    }
}
