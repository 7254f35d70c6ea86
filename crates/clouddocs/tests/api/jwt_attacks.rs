//! The JWT attack suite over real HTTP, and refresh-token rotation, revocation and reuse.
//!
//! Every forged, tampered, foreign or malformed bearer token sent to `GET /me` must be a 401
//! with a `Bearer` challenge, never a 5xx. Most forgeries keep a real token's signature
//! (which then no longer matches); to test the claim and header checks behind a *valid*
//! signature, `server_signing_key` opens the server's own signing key from its database,
//! as an insider would, and signs whatever claims and header the case needs. The same
//! cases are covered at the crypto level by the unit tests in
//! `crates/clouddocs-auth/src/jwt/attack_tests.rs`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use clouddocs_auth::jwt::MasterKey;
use clouddocs_http::startup::ServerSettings;
use clouddocs_testkit::{Auth, PASSWORD, TestApp, backends};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    every_forged_or_malformed_bearer_token_is_refused_with_a_401_challenge,
    tokens_signed_with_the_server_key_but_with_bad_claims_or_headers_are_refused,
    tokens_from_another_clouddocs_instance_are_refused_whatever_their_header_claims,
    oversized_tokens_are_refused_with_a_4xx_and_never_a_5xx,
    a_bearer_token_is_refused_after_logout_with_it,
    revoking_a_refresh_token_at_the_revocation_endpoint_ends_its_family,
    a_client_cannot_revoke_tokens_issued_to_another_client,
    refreshing_rotates_the_refresh_token_and_the_old_one_stops_working,
    reusing_a_rotated_refresh_token_revokes_the_whole_family_and_only_that_family,
    fifty_simultaneous_refreshes_of_one_token_yield_exactly_one_success_and_revoke_the_family,
);

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

pub(crate) fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    b64(&serde_json::to_vec(value).unwrap())
}

/// A JWT's decoded header and payload, and its signature segment as sent
pub(crate) fn split(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let payload = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    (header, payload, parts[2].to_owned())
}

/// `header.payload.signature` with the given (possibly foreign or empty) signature segment
pub(crate) fn assemble(header: &Value, payload: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64_json(header), b64_json(payload))
}

/// Signs `header.payload` with `key`, whatever the header says
pub(crate) fn forge(header: &Value, payload: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let input = format!("{}.{}", b64_json(header), b64_json(payload));
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{signature}")
}

/// The server's current signing key, opened from its database with the (development)
/// master secret the test server runs with: `(kid, key)`
pub(crate) async fn server_signing_key(app: &TestApp) -> (String, EncodingKey) {
    let rows = {
        let mut conn = app.state.svc.db().acquire().await.unwrap();
        clouddocs_store::sql::keys::list_verifiable(&mut conn, 0)
            .await
            .unwrap()
    };
    let row = rows
        .iter()
        .rev()
        .find(|r| r.is_current())
        .expect("a current signing key");
    assert_eq!(row.alg, "EdDSA", "tokens are EdDSA by default");
    let settings = ServerSettings::new("sqlite::memory:");
    let master = MasterKey::from_secret(settings.secret.expose_secret()).unwrap();
    let sealed = STANDARD.decode(&row.sealed_private).unwrap();
    let der = master
        .open(&sealed, row.kid.as_bytes())
        .expect("the test server's key opens with the default secret");
    (row.kid.clone(), EncodingKey::from_ed_der(&der))
}

/// The server's JWKS document
async fn jwks(app: &TestApp) -> Value {
    let response = reqwest::get(app.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// `GET /me` with a raw `Authorization` header value
async fn me_with_authorization(app: &TestApp, value: HeaderValue) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url("/me"))
        .header(AUTHORIZATION, value)
        .send()
        .await
        .unwrap()
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).unwrap()
}

/// A 401 with a `Bearer` challenge, as every refused credential must be
fn assert_refused(response: &reqwest::Response, case: &str) {
    let status = response.status();
    assert!(
        !status.is_server_error(),
        "{case}: a server error ({status}) instead of a refusal"
    );
    assert_eq!(status, 401, "{case}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        challenge.as_deref().is_some_and(|c| c.contains("Bearer")),
        "{case}: challenge {challenge:?}"
    );
}

/// `GET /me` with `token` answers 200 for `user_id`
async fn assert_accepted(app: &TestApp, token: &str, user_id: &str, case: &str) {
    let response = app.me_with_bearer(token).await;
    assert_eq!(response.status(), 200, "{case}");
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["id"], user_id, "{case}");
}

/// Sends every case to `GET /me` and expects each to be refused
async fn assert_all_refused(app: &TestApp, cases: Vec<(String, HeaderValue)>) {
    assert!(!cases.is_empty());
    for (case, value) in cases {
        let response = me_with_authorization(app, value).await;
        assert_refused(&response, &case);
    }
}

/// A 400 `{"error": "invalid_grant"}` from the token endpoint
async fn assert_invalid_grant(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 400, "{case}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{case}: {body}");
}

/// The `(access_token, refresh_token)` of a 200 token answer
async fn token_pair(response: reqwest::Response, case: &str) -> (String, String) {
    assert_eq!(response.status(), 200, "{case}");
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// Registers a user and signs in with the password grant through a client
/// (`client_secret_post`); returns `(user_id, access_token, refresh_token)`
async fn user_with_client_tokens(
    app: &TestApp,
    email: &str,
    client_id: &str,
    secret: &str,
) -> (String, String, String) {
    let registered = app.register(&reqwest::Client::new(), email, PASSWORD).await;
    assert_eq!(registered.status(), 201);
    let user: Value = registered.json().await.unwrap();
    let form = [
        ("grant_type", "password"),
        ("username", email),
        ("password", PASSWORD),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    let response = app.post_form("/oauth/token", None, &form).await;
    let (access, refresh) = token_pair(response, "password grant through the client").await;
    (user["id"].as_str().unwrap().to_owned(), access, refresh)
}

/// A confidential client allowed the password and refresh grants; `(client_id, secret)`
async fn confidential_client(app: &TestApp, admin_token: &str, name: &str) -> (String, String) {
    let (id, secret) = app
        .register_client(
            admin_token,
            json!({
                "name": name,
                "grant_types": ["password", "refresh_token"],
                "scopes": ["profile", "documents:read"],
                "confidential": true,
            }),
        )
        .await;
    (id, secret.expect("a confidential client has a secret"))
}

/// `POST /oauth/revoke` with `client_secret_post`
async fn revoke(
    app: &TestApp,
    token: &str,
    hint: &str,
    client_id: &str,
    secret: &str,
) -> reqwest::Response {
    let form = [
        ("token", token),
        ("token_type_hint", hint),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    app.post_form("/oauth/revoke", None, &form).await
}

/// `grant_type=refresh_token` through a confidential client
async fn refresh_as_client(
    app: &TestApp,
    refresh_token: &str,
    client_id: &str,
    secret: &str,
) -> reqwest::Response {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    app.post_form("/oauth/token", None, &form).await
}

// ---------------------------------------------------------------------------------------
// Forged and malformed tokens
// ---------------------------------------------------------------------------------------

async fn every_forged_or_malformed_bearer_token_is_refused_with_a_401_challenge(app: TestApp) {
    let (user_id, token, _) = app.user_with_tokens("victim@example.com", "").await;
    let (other_id, _, _) = app.user_with_tokens("other@example.com", "").await;
    assert_accepted(&app, &token, &user_id, "the untouched token").await;

    let (header, payload, signature) = split(&token);
    let kid = header["kid"].as_str().unwrap().to_owned();
    assert_eq!(header["alg"], "EdDSA");
    let keys = jwks(&app).await;
    let jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap()
        .clone();
    assert_eq!(jwk["kty"], "OKP");
    let x = jwk["x"].as_str().unwrap().to_owned();

    let mut cases: Vec<(String, HeaderValue)> = Vec::new();
    let mut add = |case: String, token: &str| cases.push((case, bearer(token)));

    // alg: none, unsigned and with the real signature kept
    for alg in ["none", "None", "NONE", "nOnE"] {
        for h in [
            json!({"alg": alg, "typ": "JWT"}),
            json!({"alg": alg, "typ": "JWT", "kid": kid}),
        ] {
            add(
                format!("alg {alg} without a signature ({h})"),
                &assemble(&h, &payload, ""),
            );
            add(
                format!("alg {alg} with the real signature ({h})"),
                &assemble(&h, &payload, &signature),
            );
        }
    }

    // HS256 with the server's public key as the HMAC secret (algorithm confusion)
    let x_raw = URL_SAFE_NO_PAD.decode(&x).unwrap();
    assert_eq!(x_raw.len(), 32, "an Ed25519 public key");
    let jwk_text = serde_json::to_string(&jwk).unwrap();
    let secrets: [(&str, &[u8]); 3] = [
        ("raw public key bytes", &x_raw),
        ("base64url x", x.as_bytes()),
        ("the JWK as JSON", jwk_text.as_bytes()),
    ];
    for (what, secret) in secrets {
        let key = EncodingKey::from_secret(secret);
        for h in [
            json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
            json!({"alg": "HS256", "typ": "JWT"}),
        ] {
            add(
                format!("HS256 keyed with the {what} ({h})"),
                &forge(&h, &payload, &key, Algorithm::HS256),
            );
        }
    }

    // Tampered payload, signature kept
    let mut tampered = payload.clone();
    tampered["sub"] = json!(other_id);
    add(
        "sub changed to another user".to_owned(),
        &assemble(&header, &tampered, &signature),
    );
    let mut tampered = payload.clone();
    tampered["scope"] =
        json!("admin documents:read documents:write documents:delete orgs:manage profile");
    add(
        "scope widened to admin".to_owned(),
        &assemble(&header, &tampered, &signature),
    );
    let mut tampered = payload.clone();
    tampered["roles"] = json!(["platform_admin"]);
    add(
        "platform_admin role added".to_owned(),
        &assemble(&header, &tampered, &signature),
    );
    let mut tampered = payload.clone();
    tampered["exp"] = json!(payload["exp"].as_i64().unwrap() + 86_400);
    add(
        "exp extended by a day".to_owned(),
        &assemble(&header, &tampered, &signature),
    );

    // Stripped signature
    add(
        "stripped signature (header.payload.)".to_owned(),
        &assemble(&header, &payload, ""),
    );
    add(
        "two segments (header.payload)".to_owned(),
        &format!("{}.{}", b64_json(&header), b64_json(&payload)),
    );

    // kid games: the header is edited and the (now mismatching) signature kept
    let long_kid = "k".repeat(500);
    for bad_kid in [
        json!("../../etc/passwd"),
        json!("/dev/zero"),
        json!("file:///etc/passwd"),
        json!(""),
        json!(long_kid),
        json!(["a"]),
        json!(7),
    ] {
        let mut h = header.clone();
        h["kid"] = bad_kid.clone();
        add(
            format!("kid {bad_kid}"),
            &assemble(&h, &payload, &signature),
        );
    }
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("kid");
    add("no kid".to_owned(), &assemble(&h, &payload, &signature));

    // Header parameters that would let the token choose its own key
    let key_params = [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", jwk.clone()),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUQ"])),
        ("crit", json!(["exp"])),
    ];
    for (name, value) in key_params {
        let mut h = header.clone();
        h[name] = value;
        add(
            format!("{name} header added"),
            &assemble(&h, &payload, &signature),
        );
    }

    // Garbage
    for garbage in [
        "not-a-jwt",
        "a.b.c",
        "..",
        "...",
        "!!!.@@@.###",
        "eyJhbGciOiJFZERTQSJ9",
        "eyJhbGciOiJFZERTQSJ9.eyJ9.eyJ9",
        "e30.e30.e30",
        "bnVsbA.bnVsbA.",
        "W10.W10.",
    ] {
        add(format!("garbage {garbage:?}"), garbage);
    }
    add(
        "payload that is a JSON array".to_owned(),
        &assemble(&header, &json!([1, 2]), &signature),
    );

    // Trailing garbage after a valid token
    for suffix in ["garbage", "=", "==", ".", ".AAAA", " extra", "\tx"] {
        add(
            format!("valid token followed by {suffix:?}"),
            &format!("{token}{suffix}"),
        );
    }

    // Empty bearers, other schemes, no scheme
    let basic = STANDARD.encode(format!("victim@example.com:{PASSWORD}"));
    let raw_values: Vec<(&str, HeaderValue)> = vec![
        (
            "empty bearer with a space",
            HeaderValue::from_static("Bearer "),
        ),
        (
            "empty bearer without a space",
            HeaderValue::from_static("Bearer"),
        ),
        ("bearer of spaces", HeaderValue::from_static("Bearer     ")),
        (
            "Basic scheme with garbage",
            HeaderValue::from_static("Basic xxx"),
        ),
        (
            "Basic scheme with the user's real credentials",
            HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
        ),
        (
            "Token scheme with a valid token",
            HeaderValue::from_str(&format!("Token {token}")).unwrap(),
        ),
        (
            "a valid token without a scheme",
            HeaderValue::from_str(&token).unwrap(),
        ),
        ("empty Authorization header", HeaderValue::from_static("")),
        (
            "non-ASCII bytes",
            HeaderValue::from_bytes(b"Bearer \xff\xfe\xfd.\x80\x81.\x90").unwrap(),
        ),
    ];
    cases.extend(
        raw_values
            .into_iter()
            .map(|(case, value)| (case.to_owned(), value)),
    );

    assert_all_refused(&app, cases).await;
    // Nothing above disturbed the real token.
    assert_accepted(&app, &token, &user_id, "the untouched token, afterwards").await;
}

async fn tokens_signed_with_the_server_key_but_with_bad_claims_or_headers_are_refused(
    app: TestApp,
) {
    let (user_id, token, _) = app.user_with_tokens("insider@example.com", "").await;
    let (other_id, _, _) = app.user_with_tokens("someone@example.com", "").await;
    let (header, payload, _) = split(&token);
    let (kid, key) = server_signing_key(&app).await;
    assert_eq!(header["kid"], kid.as_str());

    // The forging tool is faithful: re-signing the real claims gives an accepted token, and
    // so does a genuinely signed token for another user. Every refusal below is therefore
    // due to the one thing each case changes.
    let resigned = forge(&header, &payload, &key, Algorithm::EdDSA);
    assert_accepted(&app, &resigned, &user_id, "the real claims re-signed").await;
    let mut as_other = payload.clone();
    as_other["sub"] = json!(other_id);
    as_other["jti"] = json!("insider-forged-jti-1");
    assert_accepted(
        &app,
        &forge(&header, &as_other, &key, Algorithm::EdDSA),
        &other_id,
        "another sub, signed",
    )
    .await;

    let t = now();
    let claim_cases: Vec<(&str, &str, Value)> = vec![
        ("expired an hour ago", "exp", json!(t - 3600)),
        ("expired beyond the 30 s leeway", "exp", json!(t - 120)),
        ("exp as a string", "exp", json!((t + 600).to_string())),
        ("not valid for ten more minutes", "nbf", json!(t + 600)),
        ("issued ten minutes in the future", "iat", json!(t + 600)),
        ("another issuer", "iss", json!("https://evil.example")),
        (
            "our issuer with a trailing slash",
            "iss",
            json!(format!("{}/", app.base)),
        ),
        (
            "our issuer over https",
            "iss",
            json!(app.base.replace("http://", "https://")),
        ),
        ("empty issuer", "iss", json!("")),
        ("another audience", "aud", json!("another-api")),
        (
            "an audience list without us",
            "aud",
            json!(["another-api", "yet-another"]),
        ),
        ("empty audience", "aud", json!("")),
        ("audience with different case", "aud", json!("CloudDocs")),
        ("empty jti", "jti", json!("")),
        ("numeric sub", "sub", json!(42)),
        ("sub that is not a user id", "sub", json!("not-a-uuid")),
        ("an unknown scope", "scope", json!("documents:read root")),
    ];
    let mut cases: Vec<(String, HeaderValue)> = Vec::new();
    for (case, claim, value) in claim_cases {
        let mut claims = payload.clone();
        claims[claim] = value;
        cases.push((
            case.to_owned(),
            bearer(&forge(&header, &claims, &key, Algorithm::EdDSA)),
        ));
    }
    for claim in ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"] {
        let mut claims = payload.clone();
        claims.as_object_mut().unwrap().remove(claim);
        cases.push((
            format!("no {claim}"),
            bearer(&forge(&header, &claims, &key, Algorithm::EdDSA)),
        ));
    }

    // Validly signed, but the header names parameters that let a token pick its own key
    let jwk = jwks(&app).await["keys"][0].clone();
    let header_cases = [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", jwk),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUQ"])),
        ("crit", json!(["exp"])),
    ];
    for (name, value) in header_cases {
        let mut h = header.clone();
        h[name] = value;
        cases.push((
            format!("validly signed with a {name} header"),
            bearer(&forge(&h, &payload, &key, Algorithm::EdDSA)),
        ));
    }
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("kid");
    cases.push((
        "validly signed without a kid".to_owned(),
        bearer(&forge(&h, &payload, &key, Algorithm::EdDSA)),
    ));
    let mut h = header.clone();
    h["alg"] = json!("Ed25519");
    cases.push((
        "validly signed, header alg Ed25519".to_owned(),
        bearer(&forge(&h, &payload, &key, Algorithm::EdDSA)),
    ));

    assert_all_refused(&app, cases).await;
    assert_accepted(&app, &token, &user_id, "the real token, afterwards").await;
}

async fn tokens_from_another_clouddocs_instance_are_refused_whatever_their_header_claims(
    app: TestApp,
) {
    let (user_id, token, _) = app.user_with_tokens("alice@example.com", "").await;
    let other = TestApp::spawn(app.backend)
        .await
        .expect("a second instance on the same backend");
    let (foreign_user, foreign, _) = other.user_with_tokens("alice@example.com", "").await;
    assert_accepted(
        &other,
        &foreign,
        &foreign_user,
        "a token at its own instance",
    )
    .await;
    assert_accepted(&app, &token, &user_id, "our own token").await;

    let (our_header, _, _) = split(&token);
    let (foreign_header, foreign_payload, foreign_signature) = split(&foreign);
    assert_ne!(
        our_header["kid"], foreign_header["kid"],
        "each instance has its own key"
    );
    let (foreign_kid, foreign_key) = server_signing_key(&other).await;

    // The foreign token as issued, then made to look like ours in every way it can
    let mut as_ours = foreign_payload.clone();
    as_ours["iss"] = json!(app.base);
    as_ours["sub"] = json!(user_id);
    let mut our_kid = foreign_header.clone();
    our_kid["kid"] = our_header["kid"].clone();
    let mut with_jku = foreign_header.clone();
    with_jku["jku"] = json!(other.url("/.well-known/jwks.json"));
    let mut with_jwk = foreign_header.clone();
    with_jwk["jwk"] = jwks(&other).await["keys"][0].clone();
    let mut jwk_under_our_kid = with_jwk.clone();
    jwk_under_our_kid["kid"] = our_header["kid"].clone();
    assert_eq!(foreign_header["kid"], foreign_kid.as_str());

    let cases = vec![
        (
            "the foreign token as issued (unknown kid)".to_owned(),
            bearer(&foreign),
        ),
        (
            "the foreign token's signature under our kid".to_owned(),
            bearer(&assemble(&our_kid, &foreign_payload, &foreign_signature)),
        ),
        (
            "foreign key, our issuer and user".to_owned(),
            bearer(&forge(
                &foreign_header,
                &as_ours,
                &foreign_key,
                Algorithm::EdDSA,
            )),
        ),
        (
            "foreign key signing under our kid".to_owned(),
            bearer(&forge(&our_kid, &as_ours, &foreign_key, Algorithm::EdDSA)),
        ),
        (
            "foreign key with jku pointing at the foreign JWKS".to_owned(),
            bearer(&forge(&with_jku, &as_ours, &foreign_key, Algorithm::EdDSA)),
        ),
        (
            "foreign key embedded as jwk".to_owned(),
            bearer(&forge(&with_jwk, &as_ours, &foreign_key, Algorithm::EdDSA)),
        ),
        (
            "foreign key embedded as jwk under our kid".to_owned(),
            bearer(&forge(
                &jwk_under_our_kid,
                &as_ours,
                &foreign_key,
                Algorithm::EdDSA,
            )),
        ),
    ];
    assert_all_refused(&app, cases).await;
    // A second look after the unknown-kid reload throttle has been used: still refused.
    assert_refused(
        &app.me_with_bearer(&foreign).await,
        "the foreign token again",
    );
}

async fn oversized_tokens_are_refused_with_a_4xx_and_never_a_5xx(app: TestApp) {
    let (user_id, token, _) = app.user_with_tokens("big@example.com", "").await;
    let (header, payload, signature) = split(&token);
    let padded = |bytes: usize| {
        let mut claims = payload.clone();
        claims["pad"] = json!("");
        let base = assemble(&header, &claims, &signature).len();
        claims["pad"] = json!("p".repeat(bytes.saturating_sub(base) * 3 / 4));
        assemble(&header, &claims, &signature)
    };

    // Below the 8 KiB JWT limit: parsed, and refused for its signature
    let seven_kib = padded(7 * 1024);
    assert!(
        (6 * 1024..8 * 1024).contains(&seven_kib.len()),
        "{}",
        seven_kib.len()
    );
    assert_refused(&app.me_with_bearer(&seven_kib).await, "a 7 KiB token");
    // Above the JWT limit, below the 16 KiB header limit: refused before parsing
    let twelve_kib = padded(12 * 1024);
    assert!(
        (9 * 1024..15 * 1024).contains(&twelve_kib.len()),
        "{}",
        twelve_kib.len()
    );
    assert_refused(&app.me_with_bearer(&twelve_kib).await, "a 12 KiB token");
    let twelve_kib_garbage = "A".repeat(12 * 1024);
    assert_refused(
        &app.me_with_bearer(&twelve_kib_garbage).await,
        "12 KiB of garbage",
    );

    // 1 MB: over the header limit; a 431 (or another 4xx), never a 5xx or a hang
    let megabyte = format!(
        "{}.{}.{}",
        "A".repeat(1024),
        "B".repeat(1024 * 1024),
        "C".repeat(86)
    );
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.me_with_bearer(&megabyte),
    )
    .await
    .expect("the server answers a 1 MB token promptly");
    let status = response.status();
    assert!(status.is_client_error(), "a 1 MB token: {status}");
    assert!(status == 401 || status == 431, "a 1 MB token: {status}");

    // The server is unharmed.
    assert_accepted(&app, &token, &user_id, "the real token, afterwards").await;
}

async fn a_bearer_token_is_refused_after_logout_with_it(app: TestApp) {
    let (user_id, token, _) = app.user_with_tokens("leaving@example.com", "").await;
    let second = app
        .password_grant("leaving@example.com", PASSWORD, "")
        .await;
    let (other_login, _) = token_pair(second, "a second login").await;
    assert_accepted(&app, &token, &user_id, "before logout").await;

    let (logout, _) = app
        .call(Method::POST, "/auth/logout", Auth::Bearer(&token), None)
        .await;
    assert_eq!(logout, 204);

    let after = app.me_with_bearer(&token).await;
    assert_refused(&after, "the logged-out token");
    let challenge = after.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let again = reqwest::Client::new()
        .post(app.url("/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_refused(&again, "logging out again with the same token");
    // Only the presented token is revoked: another login's token still works.
    assert_accepted(&app, &other_login, &user_id, "another login's token").await;
}

// ---------------------------------------------------------------------------------------
// Revocation (RFC 7009)
// ---------------------------------------------------------------------------------------

async fn revoking_a_refresh_token_at_the_revocation_endpoint_ends_its_family(app: TestApp) {
    let admin = app.admin_token("root@example.com").await;
    let (client_id, secret) = confidential_client(&app, &admin, "Notes app").await;
    let (user_id, access, refresh) =
        user_with_client_tokens(&app, "bob@example.com", &client_id, &secret).await;
    assert_accepted(&app, &access, &user_id, "before revocation").await;

    // The refresh token is bound to the client: presenting it without the client fails
    // (and does not count as a use).
    assert_invalid_grant(app.refresh(&refresh).await, "refresh without the client").await;

    let no_client = app
        .post_form("/oauth/revoke", None, &[("token", refresh.as_str())])
        .await;
    assert_eq!(
        no_client.status(),
        401,
        "revocation needs client authentication"
    );
    let body: Value = no_client.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let wrong_secret = revoke(
        &app,
        &refresh,
        "refresh_token",
        &client_id,
        "not-the-secret",
    )
    .await;
    assert_eq!(wrong_secret.status(), 401);
    let (still_access, still_refresh) = token_pair(
        refresh_as_client(&app, &refresh, &client_id, &secret).await,
        "the refresh token still works before a real revocation",
    )
    .await;
    assert_accepted(&app, &still_access, &user_id, "rotated access token").await;

    let revoked = revoke(&app, &still_refresh, "refresh_token", &client_id, &secret).await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(revoked.json::<Value>().await.unwrap(), json!({}));

    assert_invalid_grant(
        refresh_as_client(&app, &still_refresh, &client_id, &secret).await,
        "the revoked refresh token",
    )
    .await;
    assert_refused(
        &app.me_with_bearer(&still_access).await,
        "access token of the revoked family",
    );
    assert_refused(
        &app.me_with_bearer(&access).await,
        "first access token of the revoked family",
    );

    // Unknown tokens are not an error (RFC 7009 §2.2).
    let unknown = revoke(&app, "no-such-token", "refresh_token", &client_id, &secret).await;
    assert_eq!(unknown.status(), 200);
}

async fn a_client_cannot_revoke_tokens_issued_to_another_client(app: TestApp) {
    let admin = app.admin_token("root@example.com").await;
    let (owner_id, owner_secret) = confidential_client(&app, &admin, "Owner app").await;
    let (rogue_id, rogue_secret) = confidential_client(&app, &admin, "Rogue app").await;
    let (user_id, access, refresh) =
        user_with_client_tokens(&app, "carol@example.com", &owner_id, &owner_secret).await;

    // The rogue client knows both tokens: it can neither revoke nor use them.
    for (token, hint) in [(&refresh, "refresh_token"), (&access, "access_token")] {
        let response = revoke(&app, token, hint, &rogue_id, &rogue_secret).await;
        assert!(
            !response.status().is_server_error(),
            "{hint}: {}",
            response.status()
        );
    }
    assert_invalid_grant(
        refresh_as_client(&app, &refresh, &rogue_id, &rogue_secret).await,
        "refresh by another client",
    )
    .await;

    // The owner's tokens are untouched: the access token works and the refresh token was
    // neither revoked nor consumed.
    assert_accepted(
        &app,
        &access,
        &user_id,
        "access token after another client's revocation attempt",
    )
    .await;
    let (next_access, _) = token_pair(
        refresh_as_client(&app, &refresh, &owner_id, &owner_secret).await,
        "refresh after another client's revocation attempt",
    )
    .await;
    assert_accepted(&app, &next_access, &user_id, "rotated access token").await;
}

// ---------------------------------------------------------------------------------------
// Refresh rotation and reuse detection
// ---------------------------------------------------------------------------------------

async fn refreshing_rotates_the_refresh_token_and_the_old_one_stops_working(app: TestApp) {
    let (user_id, _, first) = app
        .user_with_tokens("rotate@example.com", "profile documents:read")
        .await;

    let response = app.refresh(&first).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "documents:read profile");
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first, "a new refresh token on every use");
    assert_accepted(&app, &access, &user_id, "access token from the refresh").await;

    let (access3, third) =
        token_pair(app.refresh(&second).await, "refreshing with the new token").await;
    assert_ne!(third, second);
    assert_ne!(third, first);
    assert_accepted(
        &app,
        &access3,
        &user_id,
        "access token from the second refresh",
    )
    .await;

    // The first token was consumed by the first refresh.
    assert_invalid_grant(app.refresh(&first).await, "the old refresh token").await;
    assert_invalid_grant(app.refresh("never-issued").await, "a made-up refresh token").await;
}

async fn reusing_a_rotated_refresh_token_revokes_the_whole_family_and_only_that_family(
    app: TestApp,
) {
    let (user_id, access1, refresh1) = app.user_with_tokens("reuse@example.com", "").await;
    let (other_access, other_refresh) = token_pair(
        app.password_grant("reuse@example.com", PASSWORD, "").await,
        "a second login",
    )
    .await;
    let (access2, refresh2) = token_pair(app.refresh(&refresh1).await, "first rotation").await;
    let (access3, refresh3) = token_pair(app.refresh(&refresh2).await, "second rotation").await;
    assert_accepted(
        &app,
        &access3,
        &user_id,
        "newest access token before the reuse",
    )
    .await;

    // A thief replays the first refresh token.
    assert_invalid_grant(app.refresh(&refresh1).await, "the reused refresh token").await;

    // The whole family is gone: the newest refresh token and every access token from it.
    assert_invalid_grant(
        app.refresh(&refresh3).await,
        "the newest refresh token of the family",
    )
    .await;
    assert_invalid_grant(
        app.refresh(&refresh2).await,
        "the middle refresh token of the family",
    )
    .await;
    for (case, access) in [
        ("newest", &access3),
        ("middle", &access2),
        ("first", &access1),
    ] {
        assert_refused(
            &app.me_with_bearer(access).await,
            &format!("{case} access token of the revoked family"),
        );
    }

    // The other login is a different family and is untouched.
    assert_accepted(
        &app,
        &other_access,
        &user_id,
        "another family's access token",
    )
    .await;
    assert_eq!(
        app.refresh(&other_refresh).await.status(),
        200,
        "another family's refresh token"
    );
}

async fn fifty_simultaneous_refreshes_of_one_token_yield_exactly_one_success_and_revoke_the_family(
    app: TestApp,
) {
    const RACERS: usize = 50;
    let (user_id, access, refresh) = app.user_with_tokens("race@example.com", "").await;
    let client = reqwest::Client::new();
    let url = app.url("/oauth/token");
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::with_capacity(RACERS);
    for _ in 0..RACERS {
        let (client, url, refresh, start) =
            (client.clone(), url.clone(), refresh.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let response = client
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = Vec::with_capacity(RACERS);
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    // `{(status, error) -> count}`, to show the whole outcome in any failure message
    let mut outcome = std::collections::BTreeMap::<(u16, String), usize>::new();
    for (status, body) in &answers {
        let error = body["error"].as_str().unwrap_or_default().to_owned();
        *outcome.entry((*status, error)).or_default() += 1;
    }

    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one refresh succeeds: {outcome:?}"
    );

    // The losers were reuses, so the family is revoked: the winner's tokens are dead too.
    let new_refresh = winners[0]["refresh_token"].as_str().unwrap();
    let new_access = winners[0]["access_token"].as_str().unwrap();
    assert_invalid_grant(
        app.refresh(new_refresh).await,
        "the winner's new refresh token",
    )
    .await;
    assert_refused(
        &app.me_with_bearer(new_access).await,
        "the winner's new access token",
    );
    assert_refused(
        &app.me_with_bearer(&access).await,
        "the family's first access token",
    );

    // Every loser is told invalid_grant; none of them is a server error.
    assert!(
        answers.iter().all(|(status, _)| *status < 500),
        "no server errors: {outcome:?}"
    );
    assert_eq!(
        outcome.get(&(400, "invalid_grant".to_owned())),
        Some(&(RACERS - 1)),
        "every other one is invalid_grant: {outcome:?}"
    );

    // The user can still sign in again.
    let (fresh, _) = token_pair(
        app.password_grant("race@example.com", PASSWORD, "").await,
        "a new login",
    )
    .await;
    assert_accepted(&app, &fresh, &user_id, "a new login after the race").await;
}
