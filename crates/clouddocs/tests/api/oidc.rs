//! The OpenID Connect provider, driven by real relying parties: the `openidconnect` crate
//! (here), authlib (`tests/interop/authlib_flow.py`) and headless Chromium
//! (`tests/interop/browser_flow.mjs`); and every refusal RFC 6749 and RFC 7636 prescribe.

use std::time::Duration;

use clouddocs_testkit::{Auth, Backend, PASSWORD, TestApp, backends};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use reqwest::Method;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    the_openidconnect_crate_runs_the_whole_code_flow_and_verifies_the_id_token,
    a_first_party_client_skips_consent_and_may_get_eddsa_id_tokens,
    discovery_lists_every_endpoint_and_capability,
    an_unknown_client_or_unregistered_redirect_uri_shows_an_error_page_and_never_redirects,
    missing_or_plain_pkce_redirects_back_with_invalid_request,
    a_wrong_code_verifier_is_invalid_grant,
    a_reused_code_is_invalid_grant_and_revokes_the_tokens_of_the_first_exchange,
    a_redirect_uri_mismatch_at_the_token_endpoint_is_invalid_grant,
    a_wrong_client_secret_is_invalid_client,
    scope_escalation_on_refresh_is_invalid_scope,
    the_pages_are_csrf_protected_framing_proof_and_denial_reaches_the_client,
    userinfo_needs_a_bearer_token_with_openid,
    authlib_runs_the_whole_code_flow,
    headless_chromium_clicks_through_login_and_consent,
    headless_chromium_enters_a_totp_code_on_the_authorize_flows_second_factor_page,
    prompt_none_never_shows_a_page,
    a_code_is_bound_to_the_client_it_was_issued_to,
    fifty_parallel_exchanges_of_one_code_issue_at_most_one_token,
);

/// Where the relying parties of these tests are sent back to (never fetched by reqwest)
const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A registered relying party
struct Rp {
    client_id: String,
    secret: Option<String>,
    redirect_uri: String,
}

/// Registers a user (returns the email) and an OIDC client with `options` merged into the
/// registration body
async fn setup(app: &TestApp, tag: &str, options: Value) -> (String, Rp) {
    let admin = app.admin_token(&format!("admin-{tag}@example.com")).await;
    let email = format!("user-{tag}@example.com");
    let registered = app
        .register(&reqwest::Client::new(), &email, PASSWORD)
        .await;
    assert_eq!(registered.status(), 201);
    let mut body = json!({
        "name": format!("Relying party {tag}"),
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "profile", "email", "documents:read"],
        "confidential": false,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), options.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    let redirect_uri = body["redirect_uris"][0].as_str().unwrap().to_owned();
    let (client_id, secret) = app.register_client(&admin, body).await;
    (
        email,
        Rp {
            client_id,
            secret,
            redirect_uri,
        },
    )
}

/// Decodes the few HTML entities askama writes in attribute values
fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
}

/// The `name`/`value` pairs of a page's hidden inputs
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\"")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split("name=\"").nth(1)?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location on a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Plays the browser from the authorization URL to the redirect back to the client: signs
/// in when sent to `/login`, allows when sent to `/consent`. Returns the final Location and
/// how many consent pages were shown.
async fn browse(
    app: &TestApp,
    browser: &reqwest::Client,
    start: &str,
    email: &str,
) -> (String, u32) {
    let mut url = start.to_owned();
    let mut consents = 0;
    for _ in 0..8 {
        let absolute = if url.starts_with('/') {
            app.url(&url)
        } else {
            url.clone()
        };
        if !absolute.starts_with(&app.base) {
            return (url, consents);
        }
        let response = browser.get(&absolute).send().await.unwrap();
        if response.status() == 303 {
            url = location(&response);
            continue;
        }
        assert_eq!(response.status(), 200, "GET {absolute}");
        let html = response.text().await.unwrap();
        let mut form = hidden_inputs(&html);
        let action = if absolute.contains("/login") {
            form.push(("email".to_owned(), email.to_owned()));
            form.push(("password".to_owned(), PASSWORD.to_owned()));
            "/login"
        } else {
            consents += 1;
            form.push(("decision".to_owned(), "allow".to_owned()));
            "/consent"
        };
        let posted = browser
            .post(app.url(action))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 303, "POST {action}");
        url = location(&posted);
    }
    panic!("the authorization flow did not come back to the client");
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An authorization URL with a fresh PKCE pair; returns `(url, verifier)`
fn authorize_url(app: &TestApp, rp: &Rp, scope: &str) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", rp.client_id.as_str()),
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("scope", scope),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    (
        app.url(&format!("/oauth/authorize?{query}")),
        verifier.secret().clone(),
    )
}

/// Signs in with a new browser and returns a code and its verifier
async fn code_for(app: &TestApp, rp: &Rp, email: &str, scope: &str) -> (String, String) {
    let (url, verifier) = authorize_url(app, rp, scope);
    let (back, _) = browse(app, &app.browser(), &url, email).await;
    assert!(back.starts_with(&rp.redirect_uri), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-123"));
    (query_param(&back, "code").expect("code"), verifier)
}

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/oauth/token", None, form).await
}

async fn exchange(app: &TestApp, rp: &Rp, code: &str, verifier: &str) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("code_verifier", verifier),
        ("client_id", rp.client_id.as_str()),
    ];
    if let Some(secret) = &rp.secret {
        form.push(("client_secret", secret.as_str()));
    }
    token_request(app, &form).await
}

async fn assert_oauth_error(response: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body
}

fn rp_http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn the_openidconnect_crate_runs_the_whole_code_flow_and_verifies_the_id_token(app: TestApp) {
    let (email, rp) = setup(&app, "rp", json!({"confidential": true})).await;
    let http = rp_http_client();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(rp.client_id.clone()),
        rp.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = app.browser();
    let (back, consents) = browse(&app, &browser, url.as_str(), &email).await;
    assert_eq!(consents, 1, "a third-party client asks for consent");
    assert!(back.starts_with(REDIRECT));
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(app.base.as_str())
    );
    let code = query_param(&back, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.issuer().as_str(), app.base);
    assert!(claims.auth_time().is_some());
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected);
    assert!(tokens.refresh_token().is_some());

    let userinfo: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some(email.as_str()));
    assert_eq!(userinfo.email_verified(), Some(false));
    assert!(userinfo.name().is_some());

    // Consent is remembered for this client and these scopes: no second consent page.
    let (again, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let (back, consents) = browse(&app, &browser, again.as_str(), &email).await;
    assert_eq!(consents, 0, "consent was remembered");
    assert!(query_param(&back, "code").is_some());
}

async fn a_first_party_client_skips_consent_and_may_get_eddsa_id_tokens(app: TestApp) {
    let (email, rp) = setup(
        &app,
        "fp",
        json!({"first_party": true, "id_token_signed_response_alg": "EdDSA"}),
    )
    .await;
    let (url, verifier) = authorize_url(&app, &rp, "openid email");
    let (back, consents) = browse(&app, &app.browser(), &url, &email).await;
    assert_eq!(consents, 0, "first-party clients skip consent");
    let code = query_param(&back, "code").unwrap();
    let response = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let header = id_token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");

    // The openidconnect crate verifies it too, once EdDSA is allowed.
    let http = rp_http_client();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(rp.client_id.clone()), None);
    let token: openidconnect::core::CoreIdToken = id_token.parse().unwrap();
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs([CoreJwsSigningAlgorithm::EdDsa]);
    let claims = token
        .claims(&verifier, &Nonce::new("n-456".to_owned()))
        .unwrap();
    let access = openidconnect::AccessToken::new(body["access_token"].as_str().unwrap().to_owned());
    let actual = AccessTokenHash::from_token(
        &access,
        token.signing_alg().unwrap(),
        token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(Some(&actual), claims.access_token_hash());
}

async fn discovery_lists_every_endpoint_and_capability(app: TestApp) {
    let doc: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], app.base.as_str());
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(doc[field], app.url(path).as_str(), "{field}");
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    let algs = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("RS256")));
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("authorization_code"))
    );
    assert!(
        doc["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none"))
    );
    for scope in ["openid", "profile", "email"] {
        assert!(
            doc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope))
        );
    }
    // The JWKS carries the RS256 ID-token key next to the access-token key.
    let jwks: Value = reqwest::get(app.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(
        keys.iter()
            .any(|k| k["alg"] == "RS256" && k["kty"] == "RSA")
    );
}

async fn an_unknown_client_or_unregistered_redirect_uri_shows_an_error_page_and_never_redirects(
    app: TestApp,
) {
    let (_, rp) = setup(&app, "bad", json!({})).await;
    let (url, _) = authorize_url(&app, &rp, "openid");
    let browser = app.browser();
    for bad in [
        url.replace(&rp.client_id, "cdc_unknown"),
        url.replace("%2Fcallback", "%2Fcallback%2F"),
        url.replace("%2Fcallback", "%2Fevil"),
        url.replace("127.0.0.1%3A9", "attacker.example"),
        url.replace("redirect_uri=", "x="),
    ] {
        let response = browser.get(&bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
        assert!(
            response.headers().get("location").is_none(),
            "never redirects: {bad}"
        );
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(response.text().await.unwrap().contains("cannot continue"));
    }
}

async fn missing_or_plain_pkce_redirects_back_with_invalid_request(app: TestApp) {
    let (_, rp) = setup(&app, "pkce", json!({})).await;
    let (url, _) = authorize_url(&app, &rp, "openid");
    let without = url::Url::parse(&url).unwrap();
    let strip = |drop: &[&str], add: &[(&str, &str)]| {
        let mut u = without.clone();
        let pairs: Vec<(String, String)> = without
            .query_pairs()
            .filter(|(k, _)| !drop.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .extend_pairs(add.iter().copied());
        u.to_string()
    };
    let browser = app.browser();
    for (case, target) in [
        (
            "no PKCE",
            strip(&["code_challenge", "code_challenge_method"], &[]),
        ),
        (
            "plain",
            strip(
                &["code_challenge_method"],
                &[("code_challenge_method", "plain")],
            ),
        ),
        ("no method", strip(&["code_challenge_method"], &[])),
    ] {
        let response = browser.get(&target).send().await.unwrap();
        assert_eq!(response.status(), 303, "{case}");
        let back = location(&response);
        assert!(back.starts_with(REDIRECT), "{case}: {back}");
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_request"),
            "{case}"
        );
        assert_eq!(
            query_param(&back, "state").as_deref(),
            Some("st-123"),
            "{case}"
        );
        assert!(query_param(&back, "code").is_none());
    }
    let token = strip(&["response_type"], &[("response_type", "token")]);
    let response = browser.get(&token).send().await.unwrap();
    assert_eq!(
        query_param(&location(&response), "error").as_deref(),
        Some("unsupported_response_type")
    );
}

async fn a_wrong_code_verifier_is_invalid_grant(app: TestApp) {
    let (email, rp) = setup(&app, "verifier", json!({})).await;
    let (code, _) = code_for(&app, &rp, &email, "openid").await;
    let wrong = PkceCodeChallenge::new_random_sha256().1;
    assert_oauth_error(
        exchange(&app, &rp, &code, wrong.secret()).await,
        400,
        "invalid_grant",
    )
    .await;
    // Without any verifier at all
    let (code, _) = code_for(&app, &rp, &email, "openid").await;
    let response = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &rp.client_id),
        ],
    )
    .await;
    assert_oauth_error(response, 400, "invalid_grant").await;
}

async fn a_reused_code_is_invalid_grant_and_revokes_the_tokens_of_the_first_exchange(app: TestApp) {
    let (email, rp) = setup(&app, "reuse", json!({})).await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid profile").await;
    let first = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(first.status(), 200);
    let tokens: Value = first.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = |access| app.call(Method::GET, "/oauth/userinfo", Auth::Bearer(access), None);
    assert_eq!(userinfo(access).await.0, 200);

    let again = exchange(&app, &rp, &code, &verifier).await;
    assert_oauth_error(again, 400, "invalid_grant").await;

    assert_eq!(
        userinfo(access).await.0,
        401,
        "the first exchange's access token is revoked"
    );
    let refreshed = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &rp.client_id),
        ],
    )
    .await;
    assert_oauth_error(refreshed, 400, "invalid_grant").await;
}

async fn a_redirect_uri_mismatch_at_the_token_endpoint_is_invalid_grant(app: TestApp) {
    let (email, rp) = setup(
        &app,
        "redir",
        json!({"redirect_uris": [REDIRECT, "http://127.0.0.1:9/other"]}),
    )
    .await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid").await;
    let response = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
            ("client_id", &rp.client_id),
        ],
    )
    .await;
    assert_oauth_error(response, 400, "invalid_grant").await;
}

async fn a_wrong_client_secret_is_invalid_client(app: TestApp) {
    let (email, mut rp) = setup(&app, "secret", json!({"confidential": true})).await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid").await;
    rp.secret = Some("not-the-secret".to_owned());
    let response = exchange(&app, &rp, &code, &verifier).await;
    assert_oauth_error(response, 401, "invalid_client").await;
    // A confidential client that presents no secret at all is not a public client.
    rp.secret = None;
    let response = exchange(&app, &rp, &code, &verifier).await;
    assert_oauth_error(response, 401, "invalid_client").await;
}

async fn scope_escalation_on_refresh_is_invalid_scope(app: TestApp) {
    let (email, rp) = setup(&app, "scope", json!({})).await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid email").await;
    let tokens: Value = exchange(&app, &rp, &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let response = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "openid email documents:read"),
            ("client_id", &rp.client_id),
        ],
    )
    .await;
    assert_oauth_error(response, 400, "invalid_scope").await;
    // Narrowing is fine
    let response = token_request(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "openid"),
            ("client_id", &rp.client_id),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    // Asking the authorization endpoint for more than the client may have is refused too.
    let (url, _) = authorize_url(&app, &rp, "openid admin");
    let response = app.browser().get(&url).send().await.unwrap();
    assert_eq!(
        query_param(&location(&response), "error").as_deref(),
        Some("invalid_scope")
    );
}

async fn the_pages_are_csrf_protected_framing_proof_and_denial_reaches_the_client(app: TestApp) {
    let (email, rp) = setup(&app, "pages", json!({})).await;
    let (url, _) = authorize_url(&app, &rp, "openid email");
    let browser = app.browser();
    let to_login = browser.get(&url).send().await.unwrap();
    assert_eq!(to_login.status(), 303);
    let login_url = location(&to_login);
    assert!(login_url.starts_with("/login?next="));
    let page = browser.get(app.url(&login_url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // Scripts only from the server's own files: nothing inline, nothing from elsewhere.
    let scripts = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"));
    assert_eq!(scripts, Some("script-src 'self'"), "{csp}");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<label for=\"email\">") && html.contains("id=\"email\""));
    assert!(html.contains("<label for=\"password\">") && html.contains("id=\"password\""));
    let mut form = hidden_inputs(&html);
    // A forged login without the double-submit token is refused.
    let forged = app
        .browser()
        .post(app.url("/login"))
        .form(&[
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", "x"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // A wrong password re-renders the form with 401.
    let mut wrong = form.clone();
    wrong.push(("email".to_owned(), email.clone()));
    wrong.push(("password".to_owned(), "wrong-password-123".to_owned()));
    let refused = browser
        .post(app.url("/login"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let html = refused.text().await.unwrap();
    form = hidden_inputs(&html);
    form.push(("email".to_owned(), email.clone()));
    form.push(("password".to_owned(), PASSWORD.to_owned()));
    let signed_in = browser
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let to_consent = browser
        .get(app.url(&location(&signed_in)))
        .send()
        .await
        .unwrap();
    let consent_url = location(&to_consent);
    assert!(consent_url.starts_with("/consent?"));
    let page = browser.get(app.url(&consent_url)).send().await.unwrap();
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let fields = hidden_inputs(&page.text().await.unwrap());
    // Without the session-bound token, or from another browser, consent is refused.
    let mut forged: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "csrf_token")
        .cloned()
        .collect();
    forged.push(("csrf_token".to_owned(), "forged".to_owned()));
    forged.push(("decision".to_owned(), "allow".to_owned()));
    let response = browser
        .post(app.url("/consent"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.headers().get("location").is_none());
    let mut allow = fields.clone();
    allow.push(("decision".to_owned(), "allow".to_owned()));
    let other = app
        .browser()
        .post(app.url("/consent"))
        .form(&allow)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    // Denying sends the client `access_denied`.
    let mut deny = fields;
    deny.push(("decision".to_owned(), "deny".to_owned()));
    let response = browser
        .post(app.url("/consent"))
        .form(&deny)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let back = location(&response);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-123"));
}

async fn prompt_none_never_shows_a_page(app: TestApp) {
    let (email, rp) = setup(&app, "prompt", json!({})).await;
    let (url, _) = authorize_url(&app, &rp, "openid");
    let silent = format!("{url}&prompt=none");
    let browser = app.browser();
    let response = browser.get(&silent).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let back = location(&response);
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    // Signed in but never consented
    let login = app.login(&browser, &email, PASSWORD).await;
    assert_eq!(login.status(), 200);
    let response = browser.get(&silent).send().await.unwrap();
    let back = location(&response);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("consent_required")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-123"));
    // Once consented, prompt=none answers with a code straight away.
    let (_, _) = code_for(&app, &rp, &email, "openid").await;
    let (url, _) = authorize_url(&app, &rp, "openid");
    let response = browser
        .get(format!("{url}&prompt=none"))
        .send()
        .await
        .unwrap();
    assert!(query_param(&location(&response), "code").is_some());
}

async fn a_code_is_bound_to_the_client_it_was_issued_to(app: TestApp) {
    let (email, rp) = setup(&app, "bound", json!({})).await;
    let admin = app.admin_token("admin-bound-2@example.com").await;
    let (other_id, _) = app
        .register_client(
            &admin,
            json!({
                "name": "Another party",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code"],
                "scopes": ["openid"],
                "confidential": false,
            }),
        )
        .await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid").await;
    let other = Rp {
        client_id: other_id,
        secret: None,
        redirect_uri: REDIRECT.to_owned(),
    };
    assert_oauth_error(
        exchange(&app, &other, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
    // The rightful client can still redeem it.
    assert_eq!(exchange(&app, &rp, &code, &verifier).await.status(), 200);
}

async fn userinfo_needs_a_bearer_token_with_openid(app: TestApp) {
    let none = reqwest::get(app.url("/oauth/userinfo")).await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let (_, access, _) = app
        .user_with_tokens("noopenid@example.com", "profile")
        .await;
    let (status, _) = app
        .call(Method::GET, "/oauth/userinfo", Auth::Bearer(&access), None)
        .await;
    assert_eq!(status, 403);
}

async fn an_expired_code_is_invalid_grant(app: TestApp) {
    let (email, rp) = setup(&app, "expired", json!({})).await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_oauth_error(
        exchange(&app, &rp, &code, &verifier).await,
        400,
        "invalid_grant",
    )
    .await;
}

mod an_expired_code_is_invalid_grant {
    use super::*;

    async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |s| s.tokens.auth_code_ttl = Duration::from_secs(1)).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        if let Some(app) = spawn(Backend::Sqlite).await {
            super::an_expired_code_is_invalid_grant(app).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(app) = spawn(Backend::Postgres).await {
            super::an_expired_code_is_invalid_grant(app).await;
        }
    }
}

/// The interop scripts, relative to this crate
const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop");

async fn authlib_runs_the_whole_code_flow(app: TestApp) {
    let available = tokio::process::Command::new("python3")
        .args(["-c", "import authlib, requests"])
        .output()
        .await
        .is_ok_and(|o| o.status.success());
    if !available {
        clouddocs_testkit::skip(
            "authlib not installed (pip install -r tests/interop/requirements.txt)",
        );
        return;
    }
    let (email, rp) = setup(&app, "authlib", json!({"confidential": true})).await;
    let output = tokio::process::Command::new("python3")
        .arg(format!("{INTEROP}/authlib_flow.py"))
        .args([
            &app.base,
            &rp.client_id,
            rp.secret.as_deref().unwrap(),
            &rp.redirect_uri,
            &email,
            PASSWORD,
        ])
        .env("AUTHLIB_INSECURE_TRANSPORT", "1")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "authlib flow failed: {stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["userinfo"]["email"], email.as_str());
    assert_eq!(result["id_token"]["nonce"], result["nonce"]);
    assert_eq!(result["id_token"]["aud"], rp.client_id.as_str());
}

async fn headless_chromium_clicks_through_login_and_consent(app: TestApp) {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let playwright = std::path::Path::new(INTEROP).join("node_modules/playwright-core");
    if !chromium.exists() || !playwright.exists() {
        clouddocs_testkit::skip(
            "needs /usr/bin/chromium and tests/interop/node_modules (apt-get install chromium; npm ci in tests/interop)",
        );
        return;
    }
    // A callback the browser can really reach: the script serves it on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let callback = format!("http://127.0.0.1:{port}/callback");
    let (email, rp) = setup(&app, "chromium", json!({"redirect_uris": [callback]})).await;
    let (url, verifier) = authorize_url(&app, &rp, "openid profile email");
    let output = tokio::process::Command::new("node")
        .arg(format!("{INTEROP}/browser_flow.mjs"))
        .args([&url, &email, PASSWORD, &port.to_string()])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser flow failed: {stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["consent_shown"], true);
    let back = result["callback"].as_str().unwrap();
    assert_eq!(query_param(back, "state").as_deref(), Some("st-123"));
    let code = query_param(back, "code").unwrap();
    let response = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert!(tokens["id_token"].is_string());
}

async fn fifty_parallel_exchanges_of_one_code_issue_at_most_one_token(app: TestApp) {
    let (email, rp) = setup(&app, "race", json!({})).await;
    let (code, verifier) = code_for(&app, &rp, &email, "openid profile").await;
    let form = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code),
        ("redirect_uri".to_owned(), rp.redirect_uri.clone()),
        ("code_verifier".to_owned(), verifier),
        ("client_id".to_owned(), rp.client_id.clone()),
    ];
    let http = reqwest::Client::new();

    let mut exchanges = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (http, url, form) = (http.clone(), app.url("/oauth/token"), form.clone());
        exchanges.spawn(async move {
            let response = http.post(url).form(&form).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let answers = exchanges.join_all().await;

    let issued: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert!(
        issued.len() <= 1,
        "one code, {} token answers",
        issued.len()
    );
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 || body["error"] == "invalid_grant"),
        "every other exchange is invalid_grant"
    );
    if let Some(tokens) = issued.first() {
        // A replay happened, so the one exchange's tokens are revoked too.
        let access = tokens["access_token"].as_str().unwrap();
        let (status, _) = app
            .call(Method::GET, "/oauth/userinfo", Auth::Bearer(access), None)
            .await;
        assert_eq!(status, 401, "the tokens of a replayed code are revoked");
    }
}

async fn headless_chromium_enters_a_totp_code_on_the_authorize_flows_second_factor_page(
    app: TestApp,
) {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let playwright = std::path::Path::new(INTEROP).join("node_modules/playwright-core");
    if !chromium.exists() || !playwright.exists() {
        clouddocs_testkit::skip(
            "needs /usr/bin/chromium and tests/interop/node_modules (apt-get install chromium; npm ci in tests/interop)",
        );
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let callback = format!("http://127.0.0.1:{port}/callback");
    let (email, rp) = setup(&app, "totp", json!({"redirect_uris": [callback]})).await;
    let browser = app.browser();
    let login: Value = app
        .login(&browser, &email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let session = clouddocs_testkit::Session {
        client: browser,
        csrf: login["csrf_token"].as_str().unwrap().to_owned(),
        user_id: login["user"]["id"].as_str().unwrap().to_owned(),
    };
    let authenticator = crate::mfa::enrol(&app, &session).await;
    let (url, verifier) = authorize_url(&app, &rp, "openid profile email");
    let output = tokio::process::Command::new("node")
        .arg(format!("{INTEROP}/mfa_flow.mjs"))
        .args([
            "totp",
            &url,
            &email,
            PASSWORD,
            &authenticator.code(1),
            &port.to_string(),
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser flow failed: {stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["second_factor_page"], true, "{result}");
    let back = result["callback"].as_str().unwrap();
    let code = query_param(back, "code").unwrap();
    let response = exchange(&app, &rp, &code, &verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    let id_token = crate::mfa::claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["amr"], json!(["pwd", "otp", "mfa"]), "{id_token}");
    assert!(id_token["auth_time"].is_i64());
    let access = crate::mfa::claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "otp", "mfa"]), "{access}");
}
