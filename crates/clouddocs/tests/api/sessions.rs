//! Cookie sessions: CSRF, logout, password change, devices.

use clouddocs_testkit::{PASSWORD, TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    cookie_authenticated_patch_without_csrf_token_is_403,
    after_logout_the_cookie_is_useless,
    password_change_ends_the_other_sessions,
    a_user_can_list_and_sign_out_their_devices_but_not_others,
    login_rotates_the_session_id,
    requests_without_credentials_are_401_with_a_challenge,
    a_refresh_token_issued_to_no_client_is_revocable_by_its_holder,
    bearer_logout_ends_the_refresh_family_too,
    api_sign_ins_are_listed_as_sessions_and_can_be_signed_out,
);

async fn revoke_without_client(app: &TestApp, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/oauth/revoke"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

async fn a_refresh_token_issued_to_no_client_is_revocable_by_its_holder(app: TestApp) {
    let (_, access, refresh) = app.user_with_tokens("holder@example.com", "").await;
    let (_, other_access, _) = app.user_with_tokens("holder2@example.com", "").await;

    let revoked_refresh = revoke_without_client(&app, &refresh).await;
    let revoked_access = revoke_without_client(&app, &other_access).await;
    let unknown = revoke_without_client(&app, "not-a-token-of-ours").await;

    assert_eq!(
        revoked_refresh.status(),
        200,
        "RFC 7009: holding it is the proof"
    );
    assert_eq!(
        app.refresh(&refresh).await.status(),
        400,
        "the revoked refresh token no longer rotates"
    );
    assert_eq!(
        app.me_with_bearer(&access).await.status(),
        401,
        "the family's access tokens end with it"
    );
    assert_eq!(revoked_access.status(), 200);
    assert_eq!(app.me_with_bearer(&other_access).await.status(), 401);
    assert_eq!(unknown.status(), 200, "unknown tokens are not an error");
}

async fn bearer_logout_ends_the_refresh_family_too(app: TestApp) {
    let (_, access, refresh) = app.user_with_tokens("device@example.com", "").await;

    let logout = reqwest::Client::new()
        .post(app.url("/auth/logout"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();

    assert_eq!(logout.status(), 204);
    assert_eq!(app.me_with_bearer(&access).await.status(), 401);
    let rotated = app.refresh(&refresh).await;
    assert_eq!(
        rotated.status(),
        400,
        "the device's refresh token ended too"
    );
    let body: Value = rotated.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

async fn api_sign_ins_are_listed_as_sessions_and_can_be_signed_out(app: TestApp) {
    let browser = app.signed_in("many@example.com").await;
    let phone = app.password_grant("many@example.com", PASSWORD, "").await;
    let phone: Value = phone.json().await.unwrap();
    let phone_access = phone["access_token"].as_str().unwrap();
    let phone_refresh = phone["refresh_token"].as_str().unwrap();

    let seen_by_phone: clouddocs_testkit::Items = reqwest::Client::new()
        .get(app.url("/me/sessions"))
        .bearer_auth(phone_access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api: Vec<&Value> = seen_by_phone
        .iter()
        .filter(|s| s["kind"] == "api")
        .collect();
    let cookie: Vec<&Value> = seen_by_phone
        .iter()
        .filter(|s| s["kind"] == "browser")
        .collect();
    assert_eq!((api.len(), cookie.len()), (1, 1), "{seen_by_phone:?}");
    assert_eq!(api[0]["current"], true, "the phone sees itself as current");
    assert_eq!(cookie[0]["current"], false);
    let text = serde_json::to_string(&*seen_by_phone).unwrap();
    assert!(!text.contains(phone_refresh), "no token in the list");
    let family = api[0]["id"].as_str().unwrap().to_owned();

    let intruder = app.signed_in("thief@example.com").await;
    let steal = intruder
        .client
        .delete(app.url(&format!("/me/sessions/{family}")))
        .header("x-csrf-token", &intruder.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(
        steal.status(),
        404,
        "another user's sign-in is not theirs to end"
    );
    assert_eq!(app.me_with_bearer(phone_access).await.status(), 200);

    let signed_out = browser
        .client
        .delete(app.url(&format!("/me/sessions/{family}")))
        .header("x-csrf-token", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    assert_eq!(app.me_with_bearer(phone_access).await.status(), 401);
    assert_eq!(app.refresh(phone_refresh).await.status(), 400);
    let after: clouddocs_testkit::Items = browser
        .client
        .get(app.url("/me/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "only the browser is left: {after:?}");
    let again = browser
        .client
        .delete(app.url(&format!("/me/sessions/{family}")))
        .header("x-csrf-token", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

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
