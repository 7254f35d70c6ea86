//! Interoperability: access tokens verify with a third-party JWT library (PyJWT) from the
//! public JWKS alone, a tampered token does not, and rotating the signing key keeps issued
//! tokens valid while new ones carry the new `kid`.

use std::process::Output;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clouddocs_testkit::{PASSWORD, TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    an_access_token_verifies_with_pyjwt_using_only_the_jwks,
    pyjwt_rejects_a_tampered_token_and_a_token_for_another_audience,
    after_a_key_rotation_old_tokens_still_verify_and_new_tokens_carry_the_new_kid,
);

/// The verifier script, relative to this crate
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/interop/verify_with_jwks.py"
);
/// The `aud` of CloudDocs access tokens
const AUDIENCE: &str = "clouddocs";

/// Whether `python3` can import PyJWT; says why not when it cannot
async fn pyjwt_available() -> bool {
    let available = tokio::process::Command::new("python3")
        .args(["-c", "import jwt"])
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !available {
        clouddocs_testkit::skip(
            "PyJWT not installed (pip install -r tests/interop/requirements.txt)",
        );
    }
    available
}

/// Runs `verify_with_jwks.py <jwks_url> <token> <issuer> <audience>`
async fn verify_with_pyjwt(app: &TestApp, token: &str, audience: &str) -> Output {
    tokio::process::Command::new("python3")
        .arg(SCRIPT)
        .arg(app.url("/.well-known/jwks.json"))
        .arg(token)
        .arg(&app.base)
        .arg(audience)
        .output()
        .await
        .unwrap()
}

/// The claims PyJWT printed for an accepted token
fn accepted_claims(output: &Output, case: &str) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{case}: PyJWT refused the token: {stderr}"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// PyJWT rejected the token (exit 1), as opposed to failing to run (exit 2)
fn assert_rejected(output: &Output, case: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
    assert!(stderr.contains("rejected"), "{case}: {stderr}");
    assert!(output.stdout.is_empty(), "{case}: no claims printed");
}

fn segment(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn kid(token: &str) -> String {
    segment(token, 0)["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = reqwest::get(app.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn me_id(app: &TestApp, token: &str, case: &str) -> String {
    let response = app.me_with_bearer(token).await;
    assert_eq!(response.status(), 200, "{case}");
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn an_access_token_verifies_with_pyjwt_using_only_the_jwks(app: TestApp) {
    let (user_id, token, _) = app
        .user_with_tokens("py@example.com", "profile documents:read")
        .await;
    assert_eq!(segment(&token, 0)["alg"], "EdDSA");
    if !pyjwt_available().await {
        return;
    }
    let claims = accepted_claims(
        &verify_with_pyjwt(&app, &token, AUDIENCE).await,
        "a fresh access token",
    );
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["aud"], AUDIENCE);
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "{claims}"
    );
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
    assert!(
        scopes.contains(&"profile") && scopes.contains(&"documents:read") && scopes.len() == 2,
        "{claims}"
    );
    let (exp, iat) = (
        claims["exp"].as_i64().unwrap(),
        claims["iat"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 15 * 60, "15-minute access tokens");
    // The server agrees with the third party about who this is.
    assert_eq!(me_id(&app, &token, "the same token at /me").await, user_id);
}

async fn pyjwt_rejects_a_tampered_token_and_a_token_for_another_audience(app: TestApp) {
    let (user_id, token, _) = app.user_with_tokens("tamper@example.com", "").await;
    let (other_id, _, _) = app.user_with_tokens("mallory@example.com", "").await;
    if !pyjwt_available().await {
        return;
    }
    // Control: the untouched token verifies, so the refusals below are the verifier's
    // judgement, not a broken setup.
    let claims = accepted_claims(
        &verify_with_pyjwt(&app, &token, AUDIENCE).await,
        "the untouched token",
    );
    assert_eq!(claims["sub"], user_id.as_str());

    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = segment(&token, 1);
    payload["sub"] = json!(other_id);
    let tampered_sub = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_rejected(
        &verify_with_pyjwt(&app, &tampered_sub, AUDIENCE).await,
        "sub changed, signature kept",
    );

    let mut payload = segment(&token, 1);
    payload["scope"] = json!("admin profile");
    let tampered_scope = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    assert_rejected(
        &verify_with_pyjwt(&app, &tampered_scope, AUDIENCE).await,
        "scope changed, signature kept",
    );

    let stripped = format!("{}.{}.", parts[0], parts[1]);
    assert_rejected(
        &verify_with_pyjwt(&app, &stripped, AUDIENCE).await,
        "signature stripped",
    );

    assert_rejected(
        &verify_with_pyjwt(&app, &token, "another-api").await,
        "verified for another audience",
    );

    // CloudDocs itself refuses the tampered tokens too.
    for forged in [&tampered_sub, &tampered_scope, &stripped] {
        assert_eq!(app.me_with_bearer(forged).await.status(), 401);
    }
}

async fn after_a_key_rotation_old_tokens_still_verify_and_new_tokens_carry_the_new_kid(
    app: TestApp,
) {
    let (user_id, old_token, old_refresh) = app.user_with_tokens("rotation@example.com", "").await;
    let old_kid = kid(&old_token);
    // The JWKS may also publish the ID-token key; the access-token key is among them.
    let before = jwks_kids(&app).await;
    assert!(before.contains(&old_kid), "{before:?}");

    let new_kid = app.state.svc.rotate_signing_key("cli").await.unwrap();
    assert_ne!(new_kid, old_kid);

    // The JWKS now publishes both keys, the new current one first.
    let kids = jwks_kids(&app).await;
    assert_eq!(kids.len(), before.len() + 1, "{kids:?}");
    assert!(
        kids.contains(&new_kid),
        "the new key is published: {kids:?}"
    );
    assert!(
        kids.contains(&old_kid),
        "the retired key stays published: {kids:?}"
    );

    // A token signed before the rotation keeps working.
    assert_eq!(
        me_id(&app, &old_token, "token signed by the retired key").await,
        user_id
    );

    // New tokens (from a login or a refresh) are signed by the new key.
    let response = app
        .password_grant("rotation@example.com", PASSWORD, "")
        .await;
    assert_eq!(response.status(), 200);
    let new_token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid(&new_token), new_kid);
    assert_ne!(kid(&new_token), old_kid);
    assert_eq!(
        me_id(&app, &new_token, "token signed by the new key").await,
        user_id
    );
    let refreshed = app.refresh(&old_refresh).await;
    assert_eq!(
        refreshed.status(),
        200,
        "refresh tokens survive a key rotation"
    );
    let refreshed_token = refreshed.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid(&refreshed_token), new_kid);

    if !pyjwt_available().await {
        return;
    }
    for (case, token) in [("old", &old_token), ("new", &new_token)] {
        let claims = accepted_claims(
            &verify_with_pyjwt(&app, token, AUDIENCE).await,
            &format!("{case} token via JWKS"),
        );
        assert_eq!(claims["sub"], user_id.as_str(), "{case}");
    }
}
