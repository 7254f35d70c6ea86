//! The pages: a real browser through every page (axe-core, screenshots), and the
//! cross-site defences as tests: CSRF on every form, CSP on every page, content
//! negotiation, markup in user data rendered as text.

use clouddocs_testkit::{Auth, Backend, PASSWORD, Session, TestApp, backends};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::jwt_attacks::{assemble, forge, now, server_signing_key, split};

backends!(
    [sqlite, postgres],
    headless_chromium_walks_every_page,
    every_page_form_without_its_csrf_token_is_403,
    every_page_sends_csp_with_frame_ancestors_none,
    documents_are_html_for_browsers_and_json_for_everyone_else,
    the_account_page_turns_two_step_sign_in_on_and_off,
    the_jwt_inspector_gives_the_apis_own_verdict,
    opening_the_inspector_leaves_a_sign_in_in_progress_valid,
);

backends!(
    with_backend[sqlite],
    a_hidden_document_is_the_same_404_page_as_a_missing_one
);

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop");

/// Alice, admin of Acme with one document; Bob, a viewer in Acme
struct World {
    alice: Session,
    bob_token: String,
    org: String,
    doc: String,
}

async fn world(app: &TestApp) -> World {
    let alice = app.signed_in("alice@example.com").await;
    let (_, bob_token, _) = app.user_with_tokens("bob@example.com", "").await;
    let (bob_id, _) = {
        let me: Value = app.get_json("/me", &bob_token).await;
        (me["id"].as_str().unwrap().to_owned(), ())
    };
    let (status, org) = app
        .call(
            Method::POST,
            "/orgs",
            Auth::Session(&alice),
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(status, 201);
    let org = org["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/orgs/{org}/members/{bob_id}"),
            Auth::Session(&alice),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, doc) = app
        .call(
            Method::POST,
            &format!("/orgs/{org}/documents"),
            Auth::Session(&alice),
            Some(json!({"title": "<img src=x onerror=alert(1)> Notes", "body": "<b>bold?</b>"})),
        )
        .await;
    assert_eq!(status, 201);
    World {
        alice,
        bob_token,
        org,
        doc: doc["id"].as_str().unwrap().to_owned(),
    }
}

/// A browser's GET of `path` with a session's cookie
async fn browse(app: &TestApp, session: Option<&Session>, path: &str) -> reqwest::Response {
    let client = session.map_or_else(|| app.browser(), |s| s.client.clone());
    client
        .get(app.url(path))
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send()
        .await
        .unwrap()
}

async fn headless_chromium_walks_every_page(app: TestApp) {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let modules = std::path::Path::new(INTEROP).join("node_modules");
    if !chromium.exists()
        || !modules.join("playwright-core").exists()
        || !modules.join("axe-core").exists()
    {
        clouddocs_testkit::skip(
            "needs /usr/bin/chromium and tests/interop/node_modules (apt-get install chromium; npm ci in tests/interop)",
        );
        return;
    }
    let world = world(&app).await;
    // Cara has a second factor, for the sign-in page's second step.
    let cara = app.signed_in("cara@example.com").await;
    crate::mfa::enrol(&app, &cara).await;
    // Tokens for the inspector: one valid; one expired, signed with the server's own key;
    // an `alg: none` forgery of the valid one; one signed by another server's key.
    let (_, valid, _) = app.user_with_tokens("dave@example.com", "").await;
    let (header, payload, _) = split(&valid);
    let (kid, key) = server_signing_key(&app).await;
    let mut stale = payload.clone();
    stale["exp"] = json!(now() - 3600);
    stale["iat"] = json!(now() - 7200);
    stale["nbf"] = json!(now() - 7200);
    let mut stale_header = header.clone();
    stale_header["kid"] = json!(kid);
    let expired = forge(&stale_header, &stale, &key, Algorithm::EdDSA);
    let none = assemble(&json!({"alg": "none", "typ": "JWT"}), &payload, "");
    let other = TestApp::spawn(app.backend).await.unwrap();
    let (_, unknown, _) = other.user_with_tokens("dave@example.com", "").await;

    // The learning-platform pack, so the simulator's custom-entities example has policies.
    let root = app.admin_token("root@example.com").await;
    let (_, active) = app
        .call(Method::GET, "/admin/policies", Auth::Bearer(&root), None)
        .await;
    let policies = format!(
        "{}\n{}",
        active["policies"].as_str().unwrap(),
        include_str!("../../../../examples/policies/learning-platform/policies.cedar")
    );
    let schema = include_str!("../../../../examples/policies/learning-platform/schema.cedarschema");
    let (status, body) = app
        .call(
            Method::PUT,
            "/admin/policies",
            Auth::Bearer(&root),
            Some(json!({"policies": policies, "schema": schema})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let shots = tempfile::tempdir().unwrap();
    let config = json!({
        "base": app.base,
        "shots": shots.path(),
        "alice": {"email": "alice@example.com", "password": PASSWORD},
        "bob": {"email": "bob@example.com", "password": PASSWORD, "token": world.bob_token},
        "cara": {"email": "cara@example.com", "password": PASSWORD},
        "org": world.org,
        "tokens": {"valid": valid, "expired": expired, "none": none, "unknown": unknown},
    });
    let output = tokio::process::Command::new("node")
        .arg(format!("{INTEROP}/pages_flow.mjs"))
        .arg(config.to_string())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser flow failed: {stderr}");
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();

    // Signed in, to the account page; the API key worked, then was refused once revoked.
    assert_eq!(seen["after_sign_in"], "/account");
    assert_eq!(seen["key_prefix"], "cdk_");
    assert_eq!(seen["key_before"], 200, "{seen}");
    assert_eq!(seen["key_after"], 401, "{seen}");
    // Markup in a title is text, and no script ran.
    assert_eq!(seen["heading"], "<script>alert(\"x\")</script> Plan");
    assert_eq!(seen["dialogs"], 0);
    assert_eq!(seen["body_after_edit"], "Second draft.");
    assert!(
        seen["shared_with"]
            .as_str()
            .unwrap()
            .contains("bob@example.com")
    );
    // The second user sees exactly the buttons the policy allows, as a viewer and an editor.
    for stage in ["bob_as_viewer", "bob_as_editor"] {
        assert_eq!(
            seen[stage]["buttons"], seen[stage]["policy"],
            "{stage}: {seen}"
        );
    }
    assert_eq!(seen["bob_as_viewer"]["buttons"]["save"], false);
    assert_eq!(seen["bob_as_editor"]["buttons"]["save"], true);
    // The simulator: a permitted question names its policies, a denied one says why.
    assert_eq!(seen["access_allowed"]["decision"], "Allow", "{seen}");
    assert!(
        !seen["access_allowed"]["policies"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{seen}"
    );
    assert_eq!(seen["access_denied"]["decision"], "Deny", "{seen}");
    assert!(
        !seen["access_denied"]["reasons"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{seen}"
    );
    assert_eq!(
        seen["access_custom"], "Allow",
        "the learning-platform example question"
    );
    assert_eq!(seen["after_delete"], 404);
    // The inspector's verdicts, each with its reasons; the token never went into a URL.
    let jwt = &seen["jwt"];
    assert!(
        jwt["valid"]["verdict"]
            .as_str()
            .unwrap()
            .starts_with("Accepted"),
        "{jwt}"
    );
    let reasons = |name: &str| jwt[name]["reasons"].to_string();
    assert!(
        jwt["expired"]["verdict"] == "Refused." && reasons("expired").contains("expired"),
        "{jwt}"
    );
    assert!(reasons("none").contains("alg: none"), "{jwt}");
    assert!(reasons("unknown").contains("unknown signing key"), "{jwt}");
    for name in ["valid", "expired", "none", "unknown"] {
        assert!(
            jwt[name]["url"].as_str().unwrap().ends_with("/tools/jwt"),
            "{jwt}"
        );
    }
    assert_eq!(seen["live_decode_shown"], true);
    assert_eq!(seen["cara_step"], true);
    // axe-core: no serious or critical violation on any page.
    let axe = seen["axe"].as_object().unwrap();
    assert!(axe.len() >= 10, "{axe:?}");
    let failing: Vec<String> = axe
        .iter()
        .filter(|(_, v)| v != &&json!([]))
        .map(|(page, v)| format!("{page}: {v}"))
        .collect();
    assert!(failing.is_empty(), "{}", failing.join("\n"));
    // Every page photographed at both widths.
    for shot in seen["shots"].as_array().unwrap() {
        let size = std::fs::metadata(shot.as_str().unwrap()).unwrap().len();
        assert!(size > 1_000, "{shot}");
    }
    if let Ok(dir) = std::env::var("CLOUDDOCS_KEEP_SCREENSHOTS") {
        for shot in seen["shots"].as_array().unwrap() {
            let from = std::path::Path::new(shot.as_str().unwrap());
            let _ = std::fs::copy(
                from,
                std::path::Path::new(&dir).join(from.file_name().unwrap()),
            );
        }
    }
}

async fn every_page_form_without_its_csrf_token_is_403(app: TestApp) {
    let world = world(&app).await;
    let doc = &world.doc;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/login".to_owned(),
            vec![("email", "alice@example.com"), ("password", PASSWORD)],
        ),
        (
            "/login/mfa".to_owned(),
            vec![("mfa_token", "x"), ("code", "123456")],
        ),
        ("/consent".to_owned(), vec![("decision", "allow")]),
        ("/tools/jwt".to_owned(), vec![("token", "a.b.c")]),
        ("/tools/access".to_owned(), vec![("action", "read")]),
        (
            "/account/profile".to_owned(),
            vec![("display_name", "Mallory was here")],
        ),
        (
            "/account/password".to_owned(),
            vec![
                ("current_password", PASSWORD),
                ("new_password", "another long password 1"),
            ],
        ),
        (
            "/account/api-keys".to_owned(),
            vec![("name", "stolen"), ("scopes", "documents:read")],
        ),
        ("/account/mfa/totp".to_owned(), vec![("password", PASSWORD)]),
        (
            "/account/mfa/totp/confirm".to_owned(),
            vec![("code", "123456")],
        ),
        (
            "/account/mfa/totp/remove".to_owned(),
            vec![("password", PASSWORD), ("code", "1")],
        ),
        (
            "/account/mfa/recovery-codes".to_owned(),
            vec![("password", PASSWORD), ("code", "1")],
        ),
        ("/account/sessions/x/sign-out".to_owned(), vec![]),
        ("/account/api-keys/x/revoke".to_owned(), vec![]),
        ("/account/passkeys/x/rename".to_owned(), vec![("name", "n")]),
        ("/account/passkeys/x/remove".to_owned(), vec![]),
        (
            "/documents/new".to_owned(),
            vec![("org", world.org.as_str()), ("title", "forged")],
        ),
        (
            format!("/documents/{doc}/edit"),
            vec![("title", "defaced"), ("body", "")],
        ),
        (
            format!("/documents/{doc}/share"),
            vec![("email", "bob@example.com"), ("role", "editor")],
        ),
        (format!("/documents/{doc}/unshare"), vec![("user", "x")]),
        (format!("/documents/{doc}/delete"), vec![]),
    ];
    // The signed-out forms' double-submit cookies are present, so each refusal below is
    // about the token in the form, not a missing cookie.
    for page in ["/login", "/tools/jwt"] {
        let shown = world.alice.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(shown.status(), 200);
    }
    for (path, fields) in &forms {
        for token in [None, Some("forged-token")] {
            let mut form = fields.clone();
            if let Some(token) = token {
                form.push(("csrf_token", token));
            }
            let response = world
                .alice
                .client
                .post(app.url(path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "POST {path} with {token:?}"
            );
        }
    }
    // Nothing changed.
    let me: Value = app
        .get_json(
            "/me",
            &app.tokens("alice@example.com", PASSWORD, "").await.0,
        )
        .await;
    assert_eq!(me["display_name"], "Test User");
    let (status, kept) = app
        .call(
            Method::GET,
            &format!("/documents/{doc}"),
            Auth::Session(&world.alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(kept["title"], "<img src=x onerror=alert(1)> Notes");
}

async fn every_page_sends_csp_with_frame_ancestors_none(app: TestApp) {
    let world = world(&app).await;
    let pages = [
        ("/login", false),
        ("/tools/jwt", false),
        ("/account", true),
        ("/documents", true),
        ("/tools/access", true),
        ("/tools/access?tab=custom", true),
    ];
    let doc_page = format!("/documents/{}", world.doc);
    for (path, signed_in) in pages
        .iter()
        .map(|(p, s)| (p.to_string(), *s))
        .chain([(doc_page, true)])
    {
        let response = browse(&app, signed_in.then_some(&world.alice), &path).await;
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let scripts = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"));
        assert_eq!(scripts, Some("script-src 'self'"), "{path}: {csp}");
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        let html = response.text().await.unwrap();
        assert!(
            !html.contains("<img src=x"),
            "{path}: markup from user data is escaped"
        );
    }
    // Signed-out visitors of a signed-in page are sent to sign in, and back.
    let redirect = browse(&app, None, "/account").await;
    assert_eq!(redirect.status(), 303);
    assert_eq!(redirect.headers()["location"], "/login?next=%2Faccount");
}

async fn documents_are_html_for_browsers_and_json_for_everyone_else(app: TestApp) {
    let world = world(&app).await;
    let path = format!("/documents/{}", world.doc);
    let html = browse(&app, Some(&world.alice), &path).await;
    assert_eq!(html.status(), 200);
    assert!(
        html.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(html.headers()["vary"], "accept");
    let text = html.text().await.unwrap();
    assert!(
        text.contains("&#60;img src=x onerror=alert(1)&#62; Notes"),
        "{text}"
    );
    assert!(text.contains("&#60;b&#62;bold?&#60;/b&#62;"), "{text}");
    assert!(
        !text.contains("<img src=x") && !text.contains("<b>bold"),
        "{text}"
    );
    // The API answers exactly as before: JSON for `*/*`, for JSON, and for no Accept.
    for accept in [
        None,
        Some("*/*"),
        Some("application/json"),
        Some("text/html;q=0.5, application/json"),
    ] {
        let mut request = world.alice.client.get(app.url(&path));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{accept:?}");
        assert_eq!(response.headers()["vary"], "accept");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["id"], world.doc.as_str(), "{accept:?}");
    }
    // A credential means the API, whatever the Accept header prefers (Java's default does).
    let (token, _) = app.tokens("alice@example.com", PASSWORD, "").await;
    let api = reqwest::Client::new()
        .get(app.url(&path))
        .bearer_auth(&token)
        .header(
            "accept",
            "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let doc: Value = api.json().await.unwrap();
    assert_eq!(doc["id"], world.doc.as_str());
    let list = world
        .alice
        .client
        .get(app.url("/documents"))
        .send()
        .await
        .unwrap();
    let list: Value = list.json().await.unwrap();
    assert_eq!(list["items"][0]["id"], world.doc.as_str());
    // The list page filters and shows the document.
    let page = browse(
        &app,
        Some(&world.alice),
        "/documents?q=notes&published=false",
    )
    .await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&world.doc));
    // Without a session a browser is sent to sign in; the API still says 401.
    let anonymous = browse(&app, None, &path).await;
    assert_eq!(anonymous.status(), 303);
    let api = reqwest::get(app.url(&path)).await.unwrap();
    assert_eq!(api.status(), 401);
}

async fn a_hidden_document_is_the_same_404_page_as_a_missing_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let world = world(&app).await;
    let outsider = app.signed_in("eve@example.com").await;
    let hidden = browse(&app, Some(&outsider), &format!("/documents/{}", world.doc)).await;
    let missing = browse(
        &app,
        Some(&outsider),
        "/documents/0190a0a0-0000-7000-8000-000000000000",
    )
    .await;
    assert_eq!(hidden.status(), 404);
    assert_eq!(missing.status(), 404);
    assert_eq!(hidden.text().await.unwrap(), missing.text().await.unwrap());
    let malformed = browse(&app, Some(&outsider), "/documents/not-an-id").await;
    assert_eq!(malformed.status(), 404);
}

/// The value of the hidden or text input `name` in `html`
fn input_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no input {name}"))
        .to_owned()
}

async fn the_account_page_turns_two_step_sign_in_on_and_off(app: TestApp) {
    let session = app.signed_in("tess@example.com").await;
    let page = browse(&app, Some(&session), "/account")
        .await
        .text()
        .await
        .unwrap();
    let token = input_value(&page, "csrf_token");
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (client, url) = (session.client.clone(), app.url(path));
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    // A wrong password: the error is shown next to the form, nothing is enrolled.
    let (status, html) = post(
        "/account/mfa/totp",
        vec![
            ("csrf_token", token.clone()),
            ("password", "not the password".to_owned()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("current password is incorrect"), "{html}");
    let (status, html) = post(
        "/account/mfa/totp",
        vec![
            ("csrf_token", token.clone()),
            ("password", PASSWORD.to_owned()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg"), "the QR code is on the page");
    let secret = html
        .split("<p class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
        .build()
        .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let (status, html) = post(
        "/account/mfa/totp/confirm",
        vec![
            ("csrf_token", token.clone()),
            ("code", totp.generate(now()).to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Two-step sign-in is on."), "{html}");
    assert!(
        html.contains("download=\"clouddocs-recovery-codes.txt\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"data:text/plain;charset=utf-8,"),
        "{html}"
    );
    // Shown once: the next view of the page has neither the codes nor the secret.
    let later = browse(&app, Some(&session), "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(!later.contains(&secret) && !later.contains("recovery-codes.txt"));
    assert!(later.contains("An authenticator app is on."));
    let (_, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Session(&session), None)
        .await;
    assert_eq!(factors["totp"], true);
    let (status, html) = post(
        "/account/mfa/totp/remove",
        vec![
            ("csrf_token", token.clone()),
            ("password", PASSWORD.to_owned()),
            ("code", totp.generate(now() + 30).to_string()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("The authenticator app was removed."));
    let (_, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Session(&session), None)
        .await;
    assert_eq!(factors["totp"], false);
}

/// Pastes `token` into `/tools/jwt` as a browser would; returns the page
async fn inspect(app: &TestApp, token: &str) -> String {
    // The form sets this browser's double-submit cookie; the post repeats its token.
    let browser = app.browser();
    let form = browser
        .get(app.url("/tools/jwt"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = input_value(&form, "csrf_token");
    let answer = browser
        .post(app.url("/tools/jwt"))
        .form(&[("csrf_token", csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    answer.text().await.unwrap()
}

async fn the_jwt_inspector_gives_the_apis_own_verdict(app: TestApp) {
    let (_, user_token, _) = app.user_with_tokens("ivan@example.com", "").await;
    assert!(inspect(&app, &user_token).await.contains("Accepted"));
    // A client's own token is not accepted as a user by the API: the inspector says so.
    let root = app.admin_token("root@example.com").await;
    let (id, secret) = app.service_client(&root, "svc").await;
    let issued: Value = app
        .client_credentials(&id, &secret)
        .await
        .json()
        .await
        .unwrap();
    let page = inspect(&app, issued["access_token"].as_str().unwrap()).await;
    assert!(
        page.contains("Refused.") && page.contains("client_credentials"),
        "{page}"
    );
    // A revoked token: the denylist is consulted.
    let (status, _) = app
        .call(
            Method::POST,
            "/auth/logout",
            Auth::Bearer(&user_token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let page = inspect(&app, &user_token).await;
    assert!(
        page.contains("Refused.") && page.contains("revoked"),
        "{page}"
    );
    // Nothing of the token is echoed into the form.
    assert!(!page.contains(&user_token));
}

async fn opening_the_inspector_leaves_a_sign_in_in_progress_valid(app: TestApp) {
    let registered = app
        .register(&app.browser(), "kit@example.com", PASSWORD)
        .await;
    assert_eq!(registered.status(), 201);
    let browser = app.browser();
    let form = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = input_value(&form, "csrf_token");
    // The inspector in another tab of the same browser: its own double-submit cookie.
    let tools = browser.get(app.url("/tools/jwt")).send().await.unwrap();
    assert_eq!(tools.status(), 200);
    let signed_in = browser
        .post(app.url("/login"))
        .form(&[
            ("email", "kit@example.com"),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the sign-in form is still valid");
    // And the login form's token does not pass the inspector's check.
    let crossed = browser
        .post(app.url("/tools/jwt"))
        .form(&[("csrf_token", csrf.as_str()), ("token", "a.b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status(), 403);
}
