//! Registration, login, profile.

use clouddocs_testkit::{Auth, PASSWORD, Session, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    registering_returns_the_user_without_any_hash,
    registering_a_taken_email_or_a_lookalike_is_answered_as_a_new_registration,
    registering_a_taken_email_or_a_lookalike_creates_or_changes_no_account,
    registering_a_taken_email_or_a_lookalike_leaves_a_notice_in_the_audit_log,
    display_names_with_bidi_overrides_or_zero_width_characters_are_422,
    accounts_from_before_skeletons_get_one_and_are_then_protected_from_lookalikes,
    weak_common_and_short_passwords_are_422_with_the_reason,
    unknown_email_and_wrong_password_get_byte_identical_answers,
    login_accepts_a_form_body_like_fastapi_clients_send,
    patch_me_changes_only_the_display_name,
    patch_me_refuses_role_and_admin_fields_and_changes_nothing,
);

async fn registering_returns_the_user_without_any_hash(app: TestApp) {
    let client = app.browser();
    let response = app.register(&client, "Ada@Example.COM", PASSWORD).await;
    assert_eq!(response.status(), 201);
    let text = response.text().await.unwrap();
    let user: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["platform_admin"], false);
    assert!(!text.contains("argon2"), "no password hash in {text}");
    assert!(!text.contains("password"), "no password field in {text}");
}

/// `PATCH /me` from `session`'s browser
async fn patch_me(app: &TestApp, session: &Session, body: Value) -> (StatusCode, Value) {
    app.call(Method::PATCH, "/me", Auth::Session(session), Some(body))
        .await
}

async fn register_as(app: &TestApp, email: &str, password: &str, name: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/auth/register"))
        .json(&json!({"email": email, "password": password, "display_name": name}))
        .send()
        .await
        .unwrap()
}

/// The keys of a JSON object, sorted
fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// The password of the second registrations of a taken email or its lookalike
const OTHER_PASSWORD: &str = "another-correct-horse-42";

/// Bob registers, then "Mallory" registers his email in another case and a lookalike of
/// it; returns Bob's registration, its content type, and the two later answers with the
/// email each registered
async fn bob_and_two_impostors(
    app: &TestApp,
) -> (
    Value,
    reqwest::header::HeaderValue,
    [(reqwest::Response, &'static str); 2],
) {
    let first = register_as(app, "bob@example.com", PASSWORD, "Bob").await;
    assert_eq!(first.status(), 201);
    let first_type = first.headers()["content-type"].clone();
    let bob: Value = first.json().await.unwrap();
    let again = register_as(app, "BOB@example.com", OTHER_PASSWORD, "Mallory").await;
    let lookalike = register_as(app, "b\u{043e}b@example.com", OTHER_PASSWORD, "Mallory").await;
    (
        bob,
        first_type,
        [
            (again, "bob@example.com"),
            (lookalike, "b\u{043e}b@example.com"),
        ],
    )
}

async fn registering_a_taken_email_or_a_lookalike_is_answered_as_a_new_registration(app: TestApp) {
    let (bob, first_type, answers) = bob_and_two_impostors(&app).await;

    for (response, email) in answers {
        assert_eq!(
            response.status(),
            201,
            "{email}: answered as a new registration"
        );
        assert_eq!(response.headers()["content-type"], first_type);
        assert!(response.headers().get("set-cookie").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(keys(&body), keys(&bob), "the same fields");
        assert_ne!(
            body["id"], bob["id"],
            "a fresh id, as a new account would get"
        );
        assert_eq!(body["email"], email);
        assert_eq!(body["display_name"], "Mallory");
    }
}

async fn user_count(app: &TestApp) -> i64 {
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    users
}

async fn registering_a_taken_email_or_a_lookalike_creates_or_changes_no_account(app: TestApp) {
    bob_and_two_impostors(&app).await;

    assert_eq!(user_count(&app).await, 1, "no account was created");
    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move { app.login(&app.browser(), email, password).await.status() }
    };
    assert_eq!(login("bob@example.com", PASSWORD).await, 200);
    assert_eq!(
        login("bob@example.com", OTHER_PASSWORD).await,
        401,
        "the existing account is unchanged"
    );
    assert_eq!(
        login("b\u{043e}b@example.com", OTHER_PASSWORD).await,
        401,
        "the lookalike is not an account"
    );
}

async fn registering_a_taken_email_or_a_lookalike_leaves_a_notice_in_the_audit_log(app: TestApp) {
    let (bob, _, _) = bob_and_two_impostors(&app).await;

    let notices: Vec<(String, String)> = sqlx::query_as(
        "SELECT target, detail FROM audit_events WHERE action = 'user.register' AND outcome = 'failure' ORDER BY seq",
    )
    .fetch_all(app.state.svc.db().pool())
    .await
    .unwrap();

    assert_eq!(notices.len(), 2, "{notices:?}");
    for (target, detail) in &notices {
        assert_eq!(target, &format!("user:{}", bob["id"].as_str().unwrap()));
        let detail: Value = serde_json::from_str(detail).unwrap();
        assert_eq!(detail["notice"], "you already have an account");
    }
}

async fn display_names_with_bidi_overrides_or_zero_width_characters_are_422(app: TestApp) {
    for name in ["Ada\u{202E}gnp.exe", "Ada\u{200B}Lovelace"] {
        let response = register_as(&app, "ada@example.com", PASSWORD, name).await;
        assert_eq!(response.status(), 422, "{name:?}");
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("invisible"),
            "{problem}"
        );
    }
    let s = app.signed_in("ada@example.com").await;
    let (patched, _) = patch_me(&app, &s, json!({"display_name": "\u{2066}admin\u{2069}"})).await;
    assert_eq!(patched, 422, "the profile refuses them too");
}

async fn weak_common_and_short_passwords_are_422_with_the_reason(app: TestApp) {
    let client = app.browser();
    let cases = [
        ("short1", "at least 8 characters"),
        ("password123", "commonly used"),
        ("aaaaaaaaaaaa", "too easy to guess"),
    ];
    for (password, reason) in cases {
        let response = app.register(&client, "weak@example.com", password).await;
        assert_eq!(response.status(), 422, "{password}");
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains(reason),
            "{problem}"
        );
    }
    let long = "x".repeat(129);
    assert_eq!(
        app.register(&client, "weak@example.com", &long)
            .await
            .status(),
        422
    );
    let bad_email = app.register(&client, "not-an-email", PASSWORD).await;
    assert_eq!(bad_email.status(), 422);
    // Nothing was created by the refused attempts.
    assert_eq!(
        app.register(&client, "weak@example.com", PASSWORD)
            .await
            .status(),
        201
    );
}

async fn unknown_email_and_wrong_password_get_byte_identical_answers(app: TestApp) {
    let client = app.browser();
    app.register(&client, "carol@example.com", PASSWORD).await;
    let wrong_password = app
        .login(&client, "carol@example.com", "wrong-violet-staple-91")
        .await;
    let unknown_email = app
        .login(&client, "nobody@example.com", "wrong-violet-staple-91")
        .await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    assert_eq!(
        wrong_password.headers()["www-authenticate"],
        unknown_email.headers()["www-authenticate"]
    );
    assert!(wrong_password.headers().get("set-cookie").is_none());
    let a = wrong_password.bytes().await.unwrap();
    let b = unknown_email.bytes().await.unwrap();
    assert_eq!(a, b);
}

async fn login_accepts_a_form_body_like_fastapi_clients_send(app: TestApp) {
    let client = app.browser();
    app.register(&client, "dave@example.com", PASSWORD).await;
    let response = client
        .post(app.url("/auth/login"))
        .form(&[("email", "dave@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me = client.get(app.url("/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
}

async fn patch_me_changes_only_the_display_name(app: TestApp) {
    let s = app.signed_in("erin@example.com").await;
    let (status, _) = patch_me(&app, &s, json!({"display_name": "  Erin E.  "})).await;
    assert_eq!(status, 200);
    let (_, me) = app.call(Method::GET, "/me", Auth::Session(&s), None).await;
    assert_eq!(me["display_name"], "Erin E.");
}

async fn patch_me_refuses_role_and_admin_fields_and_changes_nothing(app: TestApp) {
    let s = app.signed_in("frank@example.com").await;
    for body in [
        json!({"role": "admin"}),
        json!({"is_admin": true}),
        json!({"display_name": "Frank", "platform_admin": true}),
        json!({"display_name": "Frank", "email": "root@example.com"}),
    ] {
        let response = s
            .client
            .patch(app.url("/me"))
            .header("x-csrf-token", &s.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let (_, me) = app.call(Method::GET, "/me", Auth::Session(&s), None).await;
    assert_eq!(me["display_name"], "Test User");
    assert_eq!(me["platform_admin"], false);
    assert_eq!(me["email"], "frank@example.com");
}

async fn accounts_from_before_skeletons_get_one_and_are_then_protected_from_lookalikes(
    app: TestApp,
) {
    let first = register_as(&app, "old@example.com", PASSWORD, "Old").await;
    assert_eq!(first.status(), 201);
    let pool = app.state.svc.db().pool();
    // As a database migrated from before the column existed holds it.
    sqlx::query("UPDATE users SET email_skeleton = NULL")
        .execute(pool)
        .await
        .unwrap();

    let filled = app.state.svc.backfill_email_skeletons().await.unwrap();
    let again = app.state.svc.backfill_email_skeletons().await.unwrap();
    let lookalike = register_as(&app, "\u{043e}ld@example.com", PASSWORD, "Mallory").await;

    assert_eq!((filled, again), (1, 0), "filled once, idempotent");
    assert_eq!(lookalike.status(), 201);
    assert_eq!(user_count(&app).await, 1, "the lookalike created nothing");
}
