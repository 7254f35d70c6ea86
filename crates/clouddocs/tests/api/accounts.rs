//! Registration, login, profile.

use clouddocs_testkit::{PASSWORD, TestApp, both_backends};
use serde_json::{Value, json};

both_backends!(
    registering_returns_the_user_without_any_hash,
    duplicate_email_is_a_conflict_even_with_other_case,
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

async fn duplicate_email_is_a_conflict_even_with_other_case(app: TestApp) {
    let client = app.browser();
    assert_eq!(
        app.register(&client, "bob@example.com", PASSWORD)
            .await
            .status(),
        201
    );
    let again = app.register(&client, "BOB@example.com", PASSWORD).await;
    assert_eq!(again.status(), 409);
    assert_eq!(again.headers()["content-type"], "application/problem+json");
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["status"], 409);
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
