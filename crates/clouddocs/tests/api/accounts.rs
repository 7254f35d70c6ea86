//! Registration, login, profile.

use clouddocs_testkit::{PASSWORD, TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    registering_returns_the_user_without_any_hash,
    registering_a_taken_email_or_a_lookalike_reveals_nothing_and_changes_nothing,
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

async fn registering_a_taken_email_or_a_lookalike_reveals_nothing_and_changes_nothing(
    app: TestApp,
) {
    let first = register_as(&app, "bob@example.com", PASSWORD, "Bob").await;
    assert_eq!(first.status(), 201);
    let first_type = first.headers()["content-type"].clone();
    let bob: Value = first.json().await.unwrap();
    let other_password = "another-correct-horse-42";

    let again = register_as(&app, "BOB@example.com", other_password, "Mallory").await;
    let lookalike = register_as(&app, "b\u{043e}b@example.com", other_password, "Mallory").await;

    for (response, email) in [
        (again, "bob@example.com"),
        (lookalike, "b\u{043e}b@example.com"),
    ] {
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
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    assert_eq!(users, 1, "no account was created");
    let client = app.browser();
    assert_eq!(
        app.login(&client, "bob@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.login(&client, "bob@example.com", other_password)
            .await
            .status(),
        401,
        "the existing account is unchanged"
    );
    assert_eq!(
        app.login(&client, "b\u{043e}b@example.com", other_password)
            .await
            .status(),
        401,
        "the lookalike is not an account"
    );
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
    let patched = s
        .client
        .patch(app.url("/me"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"display_name": "\u{2066}admin\u{2069}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 422, "the profile refuses them too");
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
    let response = s
        .client
        .patch(app.url("/me"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({"display_name": "  Erin E.  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = s
        .client
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let me: Value = s
        .client
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(users, 1, "the lookalike created nothing");
}
