//! Cookie sessions: CSRF, logout, password change, devices.

use clouddocs_testkit::{PASSWORD, TestApp, both_backends};
use serde_json::{Value, json};

both_backends!(
    cookie_authenticated_patch_without_csrf_token_is_403,
    after_logout_the_cookie_is_useless,
    password_change_ends_the_other_sessions,
    a_user_can_list_and_sign_out_their_devices_but_not_others,
    login_rotates_the_session_id,
    requests_without_credentials_are_401_with_a_challenge,
);

async fn cookie_authenticated_patch_without_csrf_token_is_403(app: TestApp) {
    let s = app.signed_in("csrf@example.com").await;
    let body = json!({"display_name": "Mallory"});
    let missing = s
        .client
        .patch(app.url("/me"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 403);
    let wrong = s
        .client
        .patch(app.url("/me"))
        .header("x-csrf-token", "forged-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
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
}

async fn after_logout_the_cookie_is_useless(app: TestApp) {
    // Sign in with a plain client and keep the raw cookie, as a thief copying it would.
    let client = app.browser();
    app.register(&client, "logout@example.com", PASSWORD).await;
    let login = app
        .login(&reqwest::Client::new(), "logout@example.com", PASSWORD)
        .await;
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let raw = reqwest::Client::new();
    let me = raw
        .get(app.url("/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    let logout = raw
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // Replaying the copied cookie after logout fails: the session is gone server-side.
    let replay = raw
        .get(app.url("/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
}

async fn password_change_ends_the_other_sessions(app: TestApp) {
    let laptop = app.signed_in("grace@example.com").await;
    let phone = app.browser();
    assert_eq!(
        app.login(&phone, "grace@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        200
    );

    let wrong = laptop
        .client
        .post(app.url("/me/password"))
        .header("x-csrf-token", &laptop.csrf)
        .json(&json!({"current_password": "not-my-password-1", "new_password": "another-violet-staple-77"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        200
    );

    let changed = laptop
        .client
        .post(app.url("/me/password"))
        .header("x-csrf-token", &laptop.csrf)
        .json(&json!({"current_password": PASSWORD, "new_password": "another-violet-staple-77"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        401
    );
    assert_eq!(
        laptop
            .client
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        app.login(&app.browser(), "grace@example.com", PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.login(
            &app.browser(),
            "grace@example.com",
            "another-violet-staple-77"
        )
        .await
        .status(),
        200
    );
}

async fn a_user_can_list_and_sign_out_their_devices_but_not_others(app: TestApp) {
    let laptop = app.signed_in("heidi@example.com").await;
    let phone = app.browser();
    app.login(&phone, "heidi@example.com", PASSWORD).await;
    let sessions: clouddocs_testkit::Items = laptop
        .client
        .get(app.url("/me/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let text = serde_json::to_string(&sessions).unwrap();
    assert!(
        !text.contains("token_hash") && !text.contains("csrf"),
        "{text}"
    );
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let intruder = app.signed_in("ivan@example.com").await;
    let steal = intruder
        .client
        .delete(app.url(&format!("/me/sessions/{other}")))
        .header("x-csrf-token", &intruder.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(steal.status(), 404);
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        200
    );

    let signed_out = laptop
        .client
        .delete(app.url(&format!("/me/sessions/{other}")))
        .header("x-csrf-token", &laptop.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        401
    );
}

async fn login_rotates_the_session_id(app: TestApp) {
    let s = app.signed_in("judy@example.com").await;
    let before: clouddocs_testkit::Items = s
        .client
        .get(app.url("/me/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.login(&s.client, "judy@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    let after: clouddocs_testkit::Items = s
        .client
        .get(app.url("/me/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let current_before = before.iter().find(|x| x["current"] == true).unwrap()["id"].clone();
    let current_after = after.iter().find(|x| x["current"] == true).unwrap()["id"].clone();
    assert_ne!(current_before, current_after);
}

async fn requests_without_credentials_are_401_with_a_challenge(app: TestApp) {
    let client = app.browser();
    for path in ["/me", "/me/sessions", "/admin/users"] {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let garbage = client
        .get(app.url("/me"))
        .header("cookie", "clouddocs=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
}
