//! Second factors through the real server: TOTP enrolment, the second step of every
//! password sign-in (`/auth/login`, the `/login` page, the `password` grant), recovery
//! codes, replay and brute-force defences, `amr` in tokens and `context.mfa` in decisions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clouddocs_http::rate_limit::Limit;
use clouddocs_testkit::{Auth, Backend, PASSWORD, Session, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use totp_rs::{Builder, Secret, Totp};

backends!(
    [sqlite, postgres],
    an_enrolled_account_gets_a_challenge_and_no_cookie_from_login,
    the_right_code_opens_a_session_and_the_same_code_is_refused_after,
    wrong_spent_and_foreign_second_factors_are_refused_alike,
    three_wrong_codes_burn_the_mfa_token,
    a_recovery_code_signs_in_exactly_once,
    the_secret_is_shown_once_and_never_again_nor_audited,
    the_password_grant_asks_for_the_mfa_otp_grant_and_tokens_carry_amr,
    the_mfa_otp_grant_is_bound_to_the_client_that_started_it,
    removing_the_authenticator_needs_password_and_code,
    disabling_a_user_ends_their_pending_mfa_tokens,
    the_sign_in_page_asks_for_the_second_factor,
    the_learning_platform_demands_mfa_for_deleting_a_dataset,
    a_clouddocs_policy_can_demand_mfa_for_deleting_documents,
    an_unconfirmed_enrolment_changes_nothing,
    enrolling_signs_out_every_other_session_and_api_sign_in,
    factors_are_managed_from_a_session_never_with_a_token,
    parallel_wrong_codes_on_one_token_get_three_checks,
    fifty_parallel_uses_of_one_recovery_code_sign_in_once,
);

backends!(
    with_backend [sqlite, postgres, postgres_redis],
    headless_chromium_registers_a_passkey_and_signs_in_with_it_alone,
    passkey_endpoints_refuse_bad_input_with_4xx,
    an_expired_mfa_token_is_refused,
    a_hundred_parallel_wrong_codes_get_no_more_guesses_than_the_limit,
);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An authenticator app holding the secret the server handed out
pub(crate) struct Authenticator {
    totp: Totp,
    /// The recovery codes shown at confirmation
    recovery_codes: Vec<String>,
    /// The base32 secret, to look for it where it must not be
    secret: String,
}

impl Authenticator {
    /// The code `steps` time steps from now (the server accepts one step either way)
    pub(crate) fn code(&self, steps: i64) -> String {
        let at = now_secs().saturating_add_signed(steps * 30);
        self.totp.generate(at).to_string()
    }
}

/// Enrols and confirms a TOTP authenticator for a signed-in user
pub(crate) async fn enrol(app: &TestApp, session: &Session) -> Authenticator {
    let (status, enrolment) = app
        .call(
            Method::POST,
            "/me/mfa/totp",
            Auth::Session(session),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/CloudDocs"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    let svg = enrolment["qr_svg"].as_str().unwrap();
    assert!(svg.contains("<svg"), "a QR code as SVG");
    let totp = Builder::new()
        .with_secret(Secret::try_from_base32(&secret).unwrap())
        .build()
        .unwrap();
    let (status, confirmed) = app
        .call(
            Method::POST,
            "/me/mfa/totp/confirm",
            Auth::Session(session),
            Some(json!({"code": totp.generate(now_secs()).to_string()})),
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    let recovery_codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery_codes.len(), 10);
    Authenticator {
        totp,
        recovery_codes,
        secret,
    }
}

/// Registers `email`, signs in and enrols TOTP
async fn enrolled(app: &TestApp, email: &str) -> (Session, Authenticator) {
    let session = app.signed_in(email).await;
    let authenticator = enrol(app, &session).await;
    (session, authenticator)
}

/// `POST /auth/login` with the right password for an enrolled account: the `mfa_token`
async fn challenge(app: &TestApp, client: &reqwest::Client, email: &str) -> String {
    let response = app.login(client, email, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "{body}");
    body["mfa_token"].as_str().unwrap().to_owned()
}

/// `POST /auth/mfa` with `proof` (`{"code": …}` or `{"recovery_code": …}`)
async fn second_factor(
    app: &TestApp,
    client: &reqwest::Client,
    mfa_token: &str,
    proof: Value,
) -> reqwest::Response {
    let mut body = proof;
    body["mfa_token"] = mfa_token.into();
    client
        .post(app.url("/auth/mfa"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The claims of a JWT, unverified (the server's own tests verify signatures elsewhere)
pub(crate) fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Every audit event, as one JSON text (read as a platform admin, page by page)
async fn audit_log(app: &TestApp) -> String {
    let admin = app.admin_token("auditor@example.com").await;
    let mut all = Vec::new();
    let mut path = "/audit?limit=100".to_owned();
    loop {
        let (status, page) = app
            .call(Method::GET, &path, Auth::Bearer(&admin), None)
            .await;
        assert_eq!(status, 200, "{page}");
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/audit?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert!(!all.is_empty());
    Value::Array(all).to_string()
}

async fn an_enrolled_account_gets_a_challenge_and_no_cookie_from_login(app: TestApp) {
    let (session, _) = enrolled(&app, "ann@example.com").await;
    let (status, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Session(&session), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        factors,
        json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10})
    );

    let response = app.login(&app.browser(), "ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no session before the second factor"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["mfa_required"], true);
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body["mfa_token"].as_str().unwrap().len() >= 40);
    assert!(body.get("csrf_token").is_none(), "{body}");

    // A wrong password still gets the same answer as without MFA.
    let wrong = app
        .login(&app.browser(), "ann@example.com", "not the password at all")
        .await;
    assert_eq!(wrong.status(), 401);
}

async fn the_right_code_opens_a_session_and_the_same_code_is_refused_after(app: TestApp) {
    let (_, authenticator) = enrolled(&app, "bob@example.com").await;
    let browser = app.browser();
    let token = challenge(&app, &browser, "bob@example.com").await;
    // The confirmation spent the current step: the next one is within the skew.
    let code = authenticator.code(1);
    let response = second_factor(&app, &browser, &token, json!({"code": code})).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_some());
    let body: Value = response.json().await.unwrap();
    let session = Session {
        client: browser,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
    };
    let (status, me) = app
        .call(Method::GET, "/me", Auth::Session(&session), None)
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "bob@example.com");

    // The same code again, on a fresh challenge: a replay, refused.
    let other = app.browser();
    let token = challenge(&app, &other, "bob@example.com").await;
    let replay = second_factor(&app, &other, &token, json!({"code": code})).await;
    assert_eq!(replay.status(), 401);
    assert!(replay.headers().get("set-cookie").is_none());
    // An earlier code than the last accepted one is refused as well.
    let earlier = second_factor(&app, &other, &token, json!({"code": authenticator.code(0)})).await;
    assert_eq!(earlier.status(), 401);
}

async fn wrong_spent_and_foreign_second_factors_are_refused_alike(app: TestApp) {
    let (_, cat) = enrolled(&app, "cat@example.com").await;
    let (_, dan) = enrolled(&app, "dan@example.com").await;
    let browser = app.browser();

    // A wrong code.
    let token = challenge(&app, &browser, "cat@example.com").await;
    let wrong = second_factor(&app, &browser, &token, json!({"code": "000000"})).await;
    assert_eq!(wrong.status(), 401);
    let problem: Value = wrong.json().await.unwrap();
    assert_eq!(problem["detail"], "invalid or expired second factor");

    // Dan's valid code on Cat's challenge: the token is bound to Cat.
    let foreign = second_factor(&app, &browser, &token, json!({"code": dan.code(1)})).await;
    assert_eq!(foreign.status(), 401);

    // Cat's right code works once; the token is spent after.
    let right = second_factor(&app, &browser, &token, json!({"code": cat.code(1)})).await;
    assert_eq!(right.status(), 200);
    // Spent: even an unused recovery code (a factor that would otherwise pass) is refused.
    let reused = second_factor(
        &app,
        &browser,
        &token,
        json!({"recovery_code": cat.recovery_codes[0]}),
    )
    .await;
    assert_eq!(reused.status(), 401);
    let fresh = challenge(&app, &browser, "cat@example.com").await;
    let unspent = second_factor(
        &app,
        &browser,
        &fresh,
        json!({"recovery_code": cat.recovery_codes[0]}),
    )
    .await;
    assert_eq!(
        unspent.status(),
        200,
        "the recovery code itself was not spent"
    );

    // A made-up token, and a malformed request.
    let unknown = second_factor(&app, &browser, "made-up", json!({"code": "123456"})).await;
    assert_eq!(unknown.status(), 401);
    let both = second_factor(
        &app,
        &browser,
        "made-up",
        json!({"code": "123456", "recovery_code": "x"}),
    )
    .await;
    assert_eq!(both.status(), 422);
    let extra = second_factor(&app, &browser, "t", json!({"code": "1", "admin": true})).await;
    assert_eq!(extra.status(), 422, "unknown fields are refused");
}

async fn three_wrong_codes_burn_the_mfa_token(app: TestApp) {
    let (_, eve) = enrolled(&app, "eve@example.com").await;
    let browser = app.browser();
    let token = challenge(&app, &browser, "eve@example.com").await;
    for _ in 0..3 {
        let wrong = second_factor(&app, &browser, &token, json!({"code": "999999"})).await;
        assert_eq!(wrong.status(), 401);
    }
    let right = second_factor(&app, &browser, &token, json!({"code": eve.code(1)})).await;
    assert_eq!(right.status(), 401, "the token is burnt");
    // A new sign-in works with the same (unspent) code.
    let token = challenge(&app, &browser, "eve@example.com").await;
    let right = second_factor(&app, &browser, &token, json!({"code": eve.code(1)})).await;
    assert_eq!(right.status(), 200);
    let log = audit_log(&app).await;
    assert!(log.contains("\"mfa_token_burnt\":true"), "{log}");
    assert!(
        log.contains("\"action\":\"mfa.verify\",\"outcome\":\"success\"")
            || log.contains("mfa.verify"),
        "{log}"
    );
}

async fn an_expired_mfa_token_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.service.mfa_challenge_ttl = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    let (_, fay) = enrolled(&app, "fay@example.com").await;
    let browser = app.browser();
    let token = challenge(&app, &browser, "fay@example.com").await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let late = second_factor(&app, &browser, &token, json!({"code": fay.code(1)})).await;
    assert_eq!(late.status(), 401);
    let token = challenge(&app, &browser, "fay@example.com").await;
    let on_time = second_factor(&app, &browser, &token, json!({"code": fay.code(1)})).await;
    assert_eq!(on_time.status(), 200, "the code itself was not spent");
}

async fn a_recovery_code_signs_in_exactly_once(app: TestApp) {
    let (session, gus) = enrolled(&app, "gus@example.com").await;
    let code = gus.recovery_codes[3].clone();
    let browser = app.browser();
    let token = challenge(&app, &browser, "gus@example.com").await;
    // Typed in capitals with spaces for dashes: still the code.
    let typed = code.to_uppercase().replace('-', " ");
    let used = second_factor(&app, &browser, &token, json!({"recovery_code": typed})).await;
    assert_eq!(used.status(), 200);

    let token = challenge(&app, &browser, "gus@example.com").await;
    let again = second_factor(&app, &browser, &token, json!({"recovery_code": code})).await;
    assert_eq!(again.status(), 401, "a recovery code is single-use");
    let (_, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Session(&session), None)
        .await;
    assert_eq!(factors["recovery_codes_left"], 9);

    // New codes replace the old ones (password and a code needed).
    let (status, fresh) = app
        .call(
            Method::POST,
            "/me/mfa/recovery-codes",
            Auth::Session(&session),
            Some(json!({"password": PASSWORD, "code": gus.code(1)})),
        )
        .await;
    assert_eq!(status, 200, "{fresh}");
    let old = second_factor(
        &app,
        &browser,
        &token,
        json!({"recovery_code": gus.recovery_codes[0]}),
    )
    .await;
    assert_eq!(old.status(), 401, "old codes are gone");
    let new = second_factor(
        &app,
        &browser,
        &token,
        json!({"recovery_code": fresh["recovery_codes"][0]}),
    )
    .await;
    assert_eq!(new.status(), 200);
    let log = audit_log(&app).await;
    assert!(log.contains("mfa.recovery.used"), "{log}");
    for code in &gus.recovery_codes {
        assert!(
            !log.contains(code.as_str()),
            "a recovery code in the audit log"
        );
    }
}

async fn the_secret_is_shown_once_and_never_again_nor_audited(app: TestApp) {
    let (session, hal) = enrolled(&app, "hal@example.com").await;
    let mut answers = Vec::new();
    for path in ["/me/mfa", "/me", "/me/sessions"] {
        let (status, body) = app
            .call(Method::GET, path, Auth::Session(&session), None)
            .await;
        assert_eq!(status, 200);
        answers.push(body.to_string());
    }
    // Enrolling again while confirmed: refused, and no new secret is shown.
    let (status, again) = app
        .call(
            Method::POST,
            "/me/mfa/totp",
            Auth::Session(&session),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 409, "{again}");
    answers.push(again.to_string());
    let browser = app.browser();
    let login = app.login(&browser, "hal@example.com", PASSWORD).await;
    answers.push(login.text().await.unwrap());
    answers.push(audit_log(&app).await);
    let lowercase = hal.secret.to_lowercase();
    for answer in &answers {
        assert!(!answer.contains(&hal.secret), "secret in {answer}");
        assert!(
            !answer.to_lowercase().contains(&lowercase),
            "secret in {answer}"
        );
        assert!(!answer.contains("otpauth://"), "URI in {answer}");
    }
    // At rest it is sealed: the database row does not hold it either.
    let sealed: (String,) = sqlx::query_as("SELECT sealed_secret FROM mfa_totp WHERE user_id = $1")
        .bind(&session.user_id)
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    assert!(!sealed.0.contains(&hal.secret));
}

async fn the_password_grant_asks_for_the_mfa_otp_grant_and_tokens_carry_amr(app: TestApp) {
    let (_, ivy) = enrolled(&app, "ivy@example.com").await;
    let response = app
        .password_grant("ivy@example.com", PASSWORD, "documents:read profile")
        .await;
    assert_eq!(response.status(), 403);
    let refusal: Value = response.json().await.unwrap();
    assert_eq!(refusal["error"], "mfa_required", "{refusal}");
    assert!(refusal["error_description"].is_string());
    assert!(refusal.get("access_token").is_none());
    let mfa_token = refusal["mfa_token"].as_str().unwrap();

    let grant = "urn:clouddocs:params:oauth:grant-type:mfa-otp";
    let wrong = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", grant),
                ("mfa_token", mfa_token),
                ("otp", "000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 400);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(wrong["error"], "invalid_grant");

    let code = ivy.code(1);
    let done = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", grant),
                ("mfa_token", mfa_token),
                ("otp", &code),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    let tokens: Value = done.json().await.unwrap();
    assert_eq!(tokens["scope"], "documents:read profile");
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["amr"], json!(["pwd", "otp", "mfa"]));
    let auth_time = access["auth_time"].as_i64().unwrap();
    assert!((access["iat"].as_i64().unwrap() - auth_time).abs() <= 5);

    // A refreshed token says how the sign-in was made, not the refresh.
    let refreshed = app.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let again = claims(refreshed["access_token"].as_str().unwrap());
    assert_eq!(again["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(again["auth_time"], auth_time);

    // The spent mfa_token cannot be exchanged again.
    let reused = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", grant),
                ("mfa_token", mfa_token),
                ("otp", &ivy.code(1)),
            ],
        )
        .await;
    assert_eq!(reused.status(), 400);

    // A password-only account: `amr` says so.
    let (_, plain, _) = app.user_with_tokens("jay@example.com", "").await;
    assert_eq!(claims(&plain)["amr"], json!(["pwd"]));

    let discovery: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!(grant)),
        "{discovery}"
    );
}

async fn the_mfa_otp_grant_is_bound_to_the_client_that_started_it(app: TestApp) {
    let (_, kim) = enrolled(&app, "kim@example.com").await;
    let admin = app.admin_token("root@example.com").await;
    let (client_id, secret) = app
        .register_client(
            &admin,
            json!({"name": "cli", "redirect_uris": ["http://127.0.0.1/cb"], "grant_types": ["password", "refresh_token"], "confidential": true}),
        )
        .await;
    let secret = secret.unwrap();
    let started = app
        .post_form(
            "/oauth/token",
            Some((&client_id, &secret)),
            &[
                ("grant_type", "password"),
                ("username", "kim@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(started.status(), 403);
    let started: Value = started.json().await.unwrap();
    let mfa_token = started["mfa_token"].as_str().unwrap();
    let grant = "urn:clouddocs:params:oauth:grant-type:mfa-otp";
    // Without the client (or as another one): refused, and the code is not even looked at.
    let anonymous = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", grant),
                ("mfa_token", mfa_token),
                ("otp", &kim.code(1)),
            ],
        )
        .await;
    assert_eq!(anonymous.status(), 400);
    let (other_id, other_secret) = app
        .register_client(
            &admin,
            json!({"name": "other", "redirect_uris": ["http://127.0.0.1/cb"], "grant_types": ["password"], "confidential": true}),
        )
        .await;
    let other = app
        .post_form(
            "/oauth/token",
            Some((&other_id, other_secret.as_deref().unwrap())),
            &[
                ("grant_type", grant),
                ("mfa_token", mfa_token),
                ("otp", &kim.code(1)),
            ],
        )
        .await;
    assert_eq!(other.status(), 400, "another client cannot complete it");
    let bound = app
        .post_form(
            "/oauth/token",
            Some((&client_id, &secret)),
            &[
                ("grant_type", grant),
                ("mfa_token", mfa_token),
                ("otp", &kim.code(1)),
            ],
        )
        .await;
    assert_eq!(bound.status(), 200);
    let tokens: Value = bound.json().await.unwrap();
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["client_id"],
        client_id.as_str()
    );
}

async fn removing_the_authenticator_needs_password_and_code(app: TestApp) {
    let (session, lea) = enrolled(&app, "lea@example.com").await;
    let remove = |body: Value| {
        let session = &session;
        let app = &app;
        async move {
            app.call(
                Method::DELETE,
                "/me/mfa/totp",
                Auth::Session(session),
                Some(body),
            )
            .await
            .0
        }
    };
    assert_eq!(
        remove(json!({"password": "wrong password here", "code": lea.code(1)})).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        remove(json!({"password": PASSWORD, "code": "000000"})).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        remove(json!({"password": PASSWORD})).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        remove(json!({"password": PASSWORD, "code": lea.code(1)})).await,
        StatusCode::NO_CONTENT
    );
    let (_, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Session(&session), None)
        .await;
    assert_eq!(
        factors,
        json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    let login = app.login(&app.browser(), "lea@example.com", PASSWORD).await;
    let body: Value = login.json().await.unwrap();
    assert!(
        body["csrf_token"].is_string(),
        "a password signs in again: {body}"
    );
    let log = audit_log(&app).await;
    for action in ["mfa.totp.enroll", "mfa.totp.confirm", "mfa.totp.remove"] {
        assert!(log.contains(action), "{action} not audited");
    }
}

async fn disabling_a_user_ends_their_pending_mfa_tokens(app: TestApp) {
    let (session, max) = enrolled(&app, "max@example.com").await;
    let browser = app.browser();
    let token = challenge(&app, &browser, "max@example.com").await;
    let admin = app.admin_token("root@example.com").await;
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/disable", session.user_id),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let late = second_factor(&app, &browser, &token, json!({"code": max.code(1)})).await;
    assert_eq!(late.status(), 401);
}

async fn the_sign_in_page_asks_for_the_second_factor(app: TestApp) {
    let (_, ned) = enrolled(&app, "ned@example.com").await;
    let browser = app.browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let step = browser
        .post(app.url("/login"))
        .form(&[
            ("email", "ned@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", "/oauth/authorize?client_id=x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(step.status(), 200);
    let session_cookie = format!("{}=", app.state.settings.cookie_name());
    let cookies: Vec<_> = step.headers().get_all("set-cookie").iter().collect();
    assert!(
        cookies
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with(&session_cookie)),
        "no session cookie before the second factor: {cookies:?}"
    );
    let html = step.text().await.unwrap();
    assert!(html.contains("action=\"/login/mfa\""), "{html}");
    let field = |name: &str| {
        html.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned()
    };
    let (csrf, mfa_token) = (field("csrf_token"), field("mfa_token"));
    let wrong = browser
        .post(app.url("/login/mfa"))
        .form(&[
            ("mfa_token", mfa_token.as_str()),
            ("code", "000000"),
            ("csrf_token", &csrf),
            ("next", "/oauth/authorize?client_id=x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("not valid"), "{html}");
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let done = browser
        .post(app.url("/login/mfa"))
        .form(&[
            ("mfa_token", mfa_token.as_str()),
            ("code", &ned.code(1)),
            ("csrf_token", &csrf),
            ("next", "/oauth/authorize?client_id=x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/oauth/authorize?client_id=x");
    let status = browser.get(app.url("/me")).send().await.unwrap().status();
    assert_eq!(status, 200, "the session cookie was set");
}

async fn the_learning_platform_demands_mfa_for_deleting_a_dataset(app: TestApp) {
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
    let question = json!({
        "principal": {"type": "LearningPlatform::User", "id": "ines"},
        "action": {"type": "LearningPlatform::Action", "id": "delete_dataset"},
        "resource": {"type": "LearningPlatform::Dataset", "id": "calculus-2026"},
        "entities": [
            {"uid": {"type": "LearningPlatform::User", "id": "ines"}, "attrs": {"premium": false},
             "parents": [{"type": "LearningPlatform::Group", "id": "instructors"}]},
            {"uid": {"type": "LearningPlatform::Group", "id": "instructors"}, "attrs": {}, "parents": []}
        ]
    });
    // Signed in with a password alone: `context.mfa` is false, the pack denies.
    let password_only = app.signed_in("oli@example.com").await;
    let (status, decision) = app
        .call(
            Method::POST,
            "/authz/check",
            Auth::Session(&password_only),
            Some(question.clone()),
        )
        .await;
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "deny", "{decision}");

    // Signed in with a second factor: allowed, by the MFA policy.
    let (_, pat) = enrolled(&app, "pat@example.com").await;
    let browser = app.browser();
    let token = challenge(&app, &browser, "pat@example.com").await;
    let done = second_factor(&app, &browser, &token, json!({"code": pat.code(1)})).await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    let strong = Session {
        client: browser,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
    };
    let (status, decision) = app
        .call(
            Method::POST,
            "/authz/check",
            Auth::Session(&strong),
            Some(question.clone()),
        )
        .await;
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "allow", "{decision}");
    assert_eq!(
        decision["policies"],
        json!(["instructors-delete-datasets-with-mfa"]),
        "{decision}"
    );

    // The MFA session's tokens (authorization code flow aside) carry it too: an API key
    // proves no sign-in at all, so it is denied.
    let (status, key) = app
        .call(
            Method::POST,
            "/me/api-keys",
            Auth::Session(&strong),
            Some(json!({"name": "k", "scopes": ["documents:read"]})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let key = key["key"].as_str().unwrap().to_owned();
    let (status, decision) = app
        .call(
            Method::POST,
            "/authz/check",
            Auth::ApiKey(&key),
            Some(question),
        )
        .await;
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["decision"], "deny", "{decision}");
}

/// Signs `email` in with the password and the next TOTP code: a multi-factor session
async fn strong_session(app: &TestApp, email: &str, authenticator: &Authenticator) -> Session {
    let browser = app.browser();
    let token = challenge(app, &browser, email).await;
    let done = second_factor(
        app,
        &browser,
        &token,
        json!({"code": authenticator.code(1)}),
    )
    .await;
    assert_eq!(done.status(), 200);
    let body: Value = done.json().await.unwrap();
    Session {
        client: browser,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
    }
}

async fn a_clouddocs_policy_can_demand_mfa_for_deleting_documents(app: TestApp) {
    // Mia signs in with a second factor; Ola, an admin of the same org, with a password only.
    let (weak, _) = (app.signed_in("ola@example.com").await, ());
    let (mia_session, mia) = enrolled(&app, "mia@example.com").await;
    let (status, org) = app
        .call(
            Method::POST,
            "/orgs",
            Auth::Session(&weak),
            Some(json!({"name": "Mia's"})),
        )
        .await;
    assert_eq!(status, 201, "{org}");
    let org = org["id"].as_str().unwrap();
    let mut docs = Vec::new();
    for title in ["one", "two"] {
        let (status, doc) = app
            .call(
                Method::POST,
                &format!("/orgs/{org}/documents"),
                Auth::Session(&weak),
                Some(json!({"title": title, "body": "text"})),
            )
            .await;
        assert_eq!(status, 201, "{doc}");
        docs.push(doc["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/orgs/{org}/members/{}", mia_session.user_id),
            Auth::Session(&weak),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(status, 200);
    let root = app.admin_token("root@example.com").await;
    let (_, active) = app
        .call(Method::GET, "/admin/policies", Auth::Bearer(&root), None)
        .await;
    let policies = format!(
        "{}\n@id(\"deleting-needs-mfa\")\nforbid (principal, action == CloudDocs::Action::\"delete\", resource) unless {{ context.mfa }};\n",
        active["policies"].as_str().unwrap()
    );
    let (status, body) = app
        .call(
            Method::PUT,
            "/admin/policies",
            Auth::Bearer(&root),
            Some(json!({"policies": policies, "schema": active["schema"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, refusal) = app
        .call(
            Method::DELETE,
            &format!("/documents/{}", docs[0]),
            Auth::Session(&weak),
            None,
        )
        .await;
    assert_eq!(status, 403, "{refusal}");
    assert!(
        refusal.to_string().contains("deleting-needs-mfa"),
        "{refusal}"
    );
    // Reading is not affected.
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/documents/{}", docs[0]),
            Auth::Session(&weak),
            None,
        )
        .await;
    assert_eq!(status, 200);

    let strong = strong_session(&app, "mia@example.com", &mia).await;
    let (status, body) = app
        .call(
            Method::DELETE,
            &format!("/documents/{}", docs[0]),
            Auth::Session(&strong),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // `/authz/check` answers the same question the same way.
    let question = |doc: &str| json!({"action": "delete", "resource": {"type": "CloudDocs::Document", "id": doc}});
    let (_, weak_answer) = app
        .call(
            Method::POST,
            "/authz/check",
            Auth::Session(&weak),
            Some(question(&docs[1])),
        )
        .await;
    assert_eq!(weak_answer["decision"], "deny", "{weak_answer}");
    let (_, strong_answer) = app
        .call(
            Method::POST,
            "/authz/check",
            Auth::Session(&strong),
            Some(question(&docs[1])),
        )
        .await;
    assert_eq!(strong_answer["decision"], "allow", "{strong_answer}");
}

async fn an_unconfirmed_enrolment_changes_nothing(app: TestApp) {
    let session = app.signed_in("quinn@example.com").await;
    let (status, _) = app
        .call(
            Method::POST,
            "/me/mfa/totp",
            Auth::Session(&session),
            Some(json!({"password": "a wrong password here"})),
        )
        .await;
    assert_eq!(status, 403, "the password is needed");
    let (status, _) = app
        .call(
            Method::POST,
            "/me/mfa/totp",
            Auth::Session(&session),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            Method::POST,
            "/me/mfa/totp/confirm",
            Auth::Session(&session),
            Some(json!({"code": "000000"})),
        )
        .await;
    assert_eq!(status, 403, "a wrong code confirms nothing");
    let login = app
        .login(&app.browser(), "quinn@example.com", PASSWORD)
        .await;
    let body: Value = login.json().await.unwrap();
    assert!(
        body["csrf_token"].is_string(),
        "pending enrolment: password alone still signs in"
    );
    let (_, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Session(&session), None)
        .await;
    assert_eq!(factors["totp"], false);
    // Without CSRF, a cookie cannot start an enrolment.
    let forged = session
        .client
        .post(app.url("/me/mfa/totp"))
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

async fn passkey_endpoints_refuse_bad_input_with_4xx(backend: Backend) {
    // Passkeys on (a domain name), so every refusal below is about the input itself.
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.tokens.issuer = s.tokens.issuer.replace("127.0.0.1", "localhost");
    })
    .await
    else {
        return;
    };
    let session = app.signed_in("ray@example.com").await;
    let call = |method: Method, path: &'static str, body: Option<Value>| {
        let (app, session) = (&app, &session);
        async move { app.call(method, path, Auth::Session(session), body).await }
    };
    let (status, start) = call(
        Method::POST,
        "/me/webauthn/register/start",
        Some(json!({"name": "laptop", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "a valid start: {start}");
    assert_eq!(start["options"]["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        start["options"]["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    let ceremony = start["ceremony_id"].as_str().unwrap().to_owned();
    let cases = [
        (
            Method::POST,
            "/me/webauthn/register/start",
            json!({"name": "", "password": PASSWORD}),
            422,
        ),
        (
            Method::POST,
            "/me/webauthn/register/start",
            json!({"name": "x\u{7}", "password": PASSWORD}),
            422,
        ),
        (
            Method::POST,
            "/me/webauthn/register/start",
            json!({"name": "laptop", "password": "not my password"}),
            403,
        ),
        (
            Method::POST,
            "/me/webauthn/register/start",
            json!({"name": "laptop"}),
            422,
        ),
        (
            Method::POST,
            "/me/webauthn/register/finish",
            json!({"ceremony_id": "nope", "credential": {}}),
            422,
        ),
        (
            Method::POST,
            "/me/webauthn/register/finish",
            json!({"ceremony_id": ceremony, "credential": {"garbage": true}}),
            422,
        ),
        // The ceremony was taken by the attempt above: single-use.
        (
            Method::POST,
            "/me/webauthn/register/finish",
            json!({"ceremony_id": ceremony, "credential": {}}),
            422,
        ),
        (
            Method::POST,
            "/auth/webauthn/finish",
            json!({"ceremony_id": "x", "credential": {"id": "AAAA"}}),
            401,
        ),
        (
            Method::POST,
            "/auth/mfa/webauthn/start",
            json!({"mfa_token": "nope"}),
            401,
        ),
        (
            Method::PATCH,
            "/me/webauthn/credentials/not-a-key",
            json!({"name": "n"}),
            404,
        ),
    ];
    for (method, path, body, expected) in cases {
        let (status, answer) = call(method.clone(), path, Some(body)).await;
        assert_eq!(status.as_u16(), expected, "{method} {path}: {answer}");
    }
    let (status, _) = call(Method::DELETE, "/me/webauthn/credentials/not-a-key", None).await;
    assert_eq!(status, 404);
    // A sign-in start is fine without a body; a finish with its ceremony but a garbage
    // assertion is a 401, and the ceremony is spent.
    let (status, sign_in) = app
        .call(Method::POST, "/auth/webauthn/start", Auth::None, None)
        .await;
    assert_eq!(status, 200);
    assert!(
        sign_in["options"].get("mediation").is_none(),
        "a modal request, not autofill"
    );
    let body = json!({"ceremony_id": sign_in["ceremony_id"], "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}});
    let (status, _) = app
        .call(
            Method::POST,
            "/auth/webauthn/finish",
            Auth::None,
            Some(body),
        )
        .await;
    assert_eq!(status, 401);
    let (status, list) = call(Method::GET, "/me/webauthn/credentials", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"], json!([]));
}

async fn enrolling_signs_out_every_other_session_and_api_sign_in(app: TestApp) {
    let (_, _, refresh) = app.user_with_tokens("vic@example.com", "").await;
    let other = app.browser();
    let login: Value = app
        .login(&other, "vic@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let other = Session {
        client: other,
        csrf: login["csrf_token"].as_str().unwrap().to_owned(),
        user_id: login["user"]["id"].as_str().unwrap().to_owned(),
    };
    let enrolling = {
        let client = app.browser();
        let login: Value = app
            .login(&client, "vic@example.com", PASSWORD)
            .await
            .json()
            .await
            .unwrap();
        Session {
            client,
            csrf: login["csrf_token"].as_str().unwrap().to_owned(),
            user_id: login["user"]["id"].as_str().unwrap().to_owned(),
        }
    };
    let _ = enrol(&app, &enrolling).await;
    let (status, _) = app
        .call(Method::GET, "/me", Auth::Session(&other), None)
        .await;
    assert_eq!(
        status, 401,
        "a session from before the factor is signed out"
    );
    let refreshed = app.refresh(&refresh).await;
    assert_eq!(refreshed.status(), 400, "so is an API sign-in");
    let (status, _) = app
        .call(Method::GET, "/me", Auth::Session(&enrolling), None)
        .await;
    assert_eq!(
        status, 200,
        "the enrolling session stays, and counts the factor"
    );
    let (status, _) = app
        .call(
            Method::POST,
            "/me/mfa/recovery-codes",
            Auth::Session(&enrolling),
            Some(json!({"password": PASSWORD, "code": "000000"})),
        )
        .await;
    assert_eq!(status, 403, "a wrong code, from a session allowed to ask");
}

async fn factors_are_managed_from_a_session_never_with_a_token(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("wes@example.com", "").await;
    let (status, answer) = app
        .call(
            Method::POST,
            "/me/mfa/totp",
            Auth::Bearer(&token),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403, "{answer}");
    let (_, key) = app.api_key(&token, "k", &["profile"]).await;
    let (status, _) = app
        .call(
            Method::POST,
            "/me/mfa/totp",
            Auth::ApiKey(&key),
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403);
    // Reading the status is fine.
    let (status, factors) = app
        .call(Method::GET, "/me/mfa", Auth::Bearer(&token), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(factors["totp"], false);
}

async fn parallel_wrong_codes_on_one_token_get_three_checks(app: TestApp) {
    let (_, xi) = enrolled(&app, "xi@example.com").await;
    let browser = app.browser();
    let token = challenge(&app, &browser, "xi@example.com").await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, token) = (app.url("/auth/mfa"), token.clone());
        attempts.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"mfa_token": token, "code": "000000"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let events: Value = serde_json::from_str(&audit_log(&app).await).unwrap();
    let checked = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "mfa.verify" && e["detail"].get("failures").is_some())
        .count();
    assert!(checked <= 3, "{checked} codes were checked on one token");
    let right = second_factor(&app, &browser, &token, json!({"code": xi.code(1)})).await;
    assert_eq!(right.status(), 401, "the token is spent");
}

async fn a_hundred_parallel_wrong_codes_get_no_more_guesses_than_the_limit(backend: Backend) {
    // The server's own per-account defaults (burst 5 = the lockout threshold), no test values.
    let defaults = clouddocs_http::rate_limit::RateLimitSettings::default();
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.http.rate_limits.per_account = defaults.per_account;
        s.http.rate_limits.lockout_threshold = defaults.lockout_threshold;
        s.http.rate_limits.login_per_ip = Limit {
            burst: 1_000,
            per_seconds: 1,
        };
    })
    .await
    else {
        return;
    };
    let (_, sam) = enrolled(&app, "sam@example.com").await;
    // A hundred sign-ins with the right password, each with its own mfa_token (a right
    // password gives its account token back, so none of these spend the budget).
    let browser = app.browser();
    let mut tokens = Vec::new();
    for _ in 0..100 {
        tokens.push(challenge(&app, &browser, "sam@example.com").await);
    }
    let spare = challenge(&app, &browser, "sam@example.com").await;
    let mut attempts = tokio::task::JoinSet::new();
    for token in tokens {
        let url = app.url("/auth/mfa");
        attempts.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"mfa_token": token, "code": "000000"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    let guesses = statuses.iter().filter(|s| **s != 429).count();
    assert_eq!(guesses, 5, "statuses: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // The account is locked now: even the right password waits.
    let locked = app.login(&app.browser(), "sam@example.com", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    // And the right code, on a token issued before the lock, waits for it too.
    let early = second_factor(&app, &browser, &spare, json!({"code": sam.code(1)})).await;
    assert_eq!(early.status(), 429);
}

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop");

async fn headless_chromium_registers_a_passkey_and_signs_in_with_it_alone(backend: Backend) {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let playwright = std::path::Path::new(INTEROP).join("node_modules/playwright-core");
    if !chromium.exists() || !playwright.exists() {
        clouddocs_testkit::skip(
            "needs /usr/bin/chromium and tests/interop/node_modules (apt-get install chromium; npm ci in tests/interop)",
        );
        return;
    }
    // WebAuthn needs a domain name: the relying party is `localhost`, the browser's origin
    // `http://localhost:PORT` (a secure context, as browsers treat localhost).
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.tokens.issuer = s.tokens.issuer.replace("127.0.0.1", "localhost");
    })
    .await
    else {
        return;
    };
    let base = format!("http://localhost:{}", app.addr.port());
    let registered = app
        .register(&reqwest::Client::new(), "uma@example.com", PASSWORD)
        .await;
    assert_eq!(registered.status(), 201);
    let output = tokio::process::Command::new("node")
        .arg(format!("{INTEROP}/mfa_flow.mjs"))
        .args(["passkey", &base, "uma@example.com", PASSWORD])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser flow failed: {stderr}");
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["registered"]["name"], "virtual key", "{result}");
    assert_eq!(
        result["passkey_sign_in"]["email"], "uma@example.com",
        "{result}"
    );
    assert_eq!(
        result["second_factor"]["email"], "uma@example.com",
        "{result}"
    );
    assert_eq!(result["after_rollback"]["status"], 401, "{result}");

    // With a passkey registered, the password alone no longer signs in.
    let login: Value = app
        .login(&app.browser(), "uma@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(login["mfa_required"], true, "{login}");
    assert_eq!(login["methods"], json!(["webauthn"]));

    let events: Value = serde_json::from_str(&audit_log(&app).await).unwrap();
    let count = |action: &str, outcome: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .count()
    };
    assert_eq!(count("webauthn.register", "success"), 1);
    assert_eq!(
        count("webauthn.login", "success"),
        1,
        "the passwordless sign-in"
    );
    assert_eq!(
        count("mfa.verify", "success"),
        1,
        "the passkey after the password"
    );
    assert_eq!(
        count("webauthn.counter_regression", "failure"),
        1,
        "the cloned key is audited"
    );
}

async fn fifty_parallel_uses_of_one_recovery_code_sign_in_once(app: TestApp) {
    let (_, yu) = enrolled(&app, "yu@example.com").await;
    let code = yu.recovery_codes[0].clone();
    // Fifty sign-ins, each with its own mfa_token, all presenting the same recovery code.
    let browser = app.browser();
    let mut tokens = Vec::new();
    for _ in 0..50 {
        tokens.push(challenge(&app, &browser, "yu@example.com").await);
    }
    let mut attempts = tokio::task::JoinSet::new();
    for token in tokens {
        let (url, code) = (app.url("/auth/mfa"), code.clone());
        attempts.spawn(async move {
            reqwest::Client::new()
                .post(url)
                .json(&json!({"mfa_token": token, "recovery_code": code}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = attempts.join_all().await;
    let signed_in = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(signed_in, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
    let events: Value = serde_json::from_str(&audit_log(&app).await).unwrap();
    let used = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "mfa.recovery.used")
        .count();
    assert_eq!(used, 1);
}
