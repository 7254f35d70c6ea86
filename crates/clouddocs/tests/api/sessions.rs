//! Cookie sessions: CSRF, logout, password change, devices.

use clouddocs_testkit::{Auth, Items, PASSWORD, Session, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    cookie_authenticated_patch_without_csrf_token_is_403,
    after_logout_the_cookie_is_useless,
    password_change_ends_the_other_sessions,
    a_wrong_current_password_is_403_and_ends_no_session,
    a_user_can_list_and_sign_out_their_devices_but_not_others,
    login_rotates_the_session_id,
    requests_without_credentials_are_401_with_a_challenge,
    a_refresh_token_issued_to_no_client_is_revocable_by_its_holder,
    bearer_logout_ends_the_refresh_family_too,
    api_sign_ins_are_listed_as_sessions_without_their_tokens,
    another_user_cannot_sign_out_an_api_sign_in,
    signing_out_an_api_sign_in_ends_its_tokens,
);

async fn revoke_without_client(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_form("/oauth/revoke", None, &[("token", token)])
        .await
}

/// A second browser signed in as `email`, already registered
async fn another_device(app: &TestApp, email: &str) -> Session {
    let client = app.browser();
    let login = app.login(&client, email, PASSWORD).await;
    assert_eq!(login.status(), 200, "signing in {email} again");
    let body: Value = login.json().await.unwrap();
    Session {
        client,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
    }
}

/// `GET /me`'s status
async fn me(app: &TestApp, auth: Auth<'_>) -> StatusCode {
    app.call(Method::GET, "/me", auth, None).await.0
}

/// `GET /me/sessions`
async fn sessions(app: &TestApp, auth: Auth<'_>) -> Items {
    let (status, list) = app.call(Method::GET, "/me/sessions", auth, None).await;
    assert_eq!(status, 200, "{list}");
    serde_json::from_value(list).unwrap()
}

/// `DELETE /me/sessions/{id}` from `session`'s browser
async fn sign_out(app: &TestApp, session: &Session, id: &str) -> StatusCode {
    let path = format!("/me/sessions/{id}");
    let (status, _) = app
        .call(Method::DELETE, &path, Auth::Session(session), None)
        .await;
    status
}

/// The id of the one session in `list` whose `current` is `current`
fn session_id(list: &Items, current: bool) -> String {
    list.iter().find(|s| s["current"] == current).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A password change from `session`'s browser; returns the status
async fn change_password(app: &TestApp, session: &Session, current: &str, new: &str) -> StatusCode {
    let body = json!({"current_password": current, "new_password": new});
    let (status, _) = app
        .call(
            Method::POST,
            "/me/password",
            Auth::Session(session),
            Some(body),
        )
        .await;
    status
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

    let (logout, _) = app
        .call(Method::POST, "/auth/logout", Auth::Bearer(&access), None)
        .await;

    assert_eq!(logout, 204);
    assert_eq!(me(&app, Auth::Bearer(&access)).await, 401);
    let rotated = app.refresh(&refresh).await;
    assert_eq!(
        rotated.status(),
        400,
        "the device's refresh token ended too"
    );
    let body: Value = rotated.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

/// A browser and a "phone" (the password grant) signed in as `email`; returns the browser
/// and the phone's `(access, refresh)` tokens
async fn browser_and_phone(app: &TestApp, email: &str) -> (Session, String, String) {
    let browser = app.signed_in(email).await;
    let phone: Value = app
        .password_grant(email, PASSWORD, "")
        .await
        .json()
        .await
        .unwrap();
    (
        browser,
        phone["access_token"].as_str().unwrap().to_owned(),
        phone["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn api_sign_ins_are_listed_as_sessions_without_their_tokens(app: TestApp) {
    let (_, phone_access, phone_refresh) = browser_and_phone(&app, "many@example.com").await;

    let seen_by_phone = sessions(&app, Auth::Bearer(&phone_access)).await;

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
    assert!(!text.contains(&phone_refresh), "no token in the list");
}

async fn another_user_cannot_sign_out_an_api_sign_in(app: TestApp) {
    let (_, phone_access, _) = browser_and_phone(&app, "many@example.com").await;
    let family = session_id(&sessions(&app, Auth::Bearer(&phone_access)).await, true);
    let intruder = app.signed_in("thief@example.com").await;

    let steal = sign_out(&app, &intruder, &family).await;

    assert_eq!(steal, 404, "another user's sign-in is not theirs to end");
    assert_eq!(me(&app, Auth::Bearer(&phone_access)).await, 200);
}

async fn signing_out_an_api_sign_in_ends_its_tokens(app: TestApp) {
    let (browser, phone_access, phone_refresh) = browser_and_phone(&app, "many@example.com").await;
    let family = session_id(&sessions(&app, Auth::Bearer(&phone_access)).await, true);

    let signed_out = sign_out(&app, &browser, &family).await;

    assert_eq!(signed_out, 204);
    assert_eq!(me(&app, Auth::Bearer(&phone_access)).await, 401);
    assert_eq!(app.refresh(&phone_refresh).await.status(), 400);
    let after = sessions(&app, Auth::Session(&browser)).await;
    assert_eq!(after.len(), 1, "only the browser is left: {after:?}");
    assert_eq!(sign_out(&app, &browser, &family).await, 404);
}

async fn cookie_authenticated_patch_without_csrf_token_is_403(app: TestApp) {
    let s = app.signed_in("csrf@example.com").await;
    let body = json!({"display_name": "Mallory"});
    // Missing, then wrong.
    for csrf in [None, Some("forged-token")] {
        let mut patch = s.client.patch(app.url("/me")).json(&body);
        if let Some(token) = csrf {
            patch = patch.header("x-csrf-token", token);
        }
        let refused = patch.send().await.unwrap();
        assert_eq!(refused.status(), 403, "CSRF token {csrf:?}");
    }
    let (_, me) = app.call(Method::GET, "/me", Auth::Session(&s), None).await;
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
    let me_with_cookie = || raw.get(app.url("/me")).header("cookie", &cookie).send();
    assert_eq!(me_with_cookie().await.unwrap().status(), 200);

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
    assert_eq!(me_with_cookie().await.unwrap().status(), 401);
}

/// The new password of the password-change tests
const NEW_PASSWORD: &str = "another-violet-staple-77";

async fn a_wrong_current_password_is_403_and_ends_no_session(app: TestApp) {
    let laptop = app.signed_in("grace@example.com").await;
    let phone = another_device(&app, "grace@example.com").await;
    assert_eq!(me(&app, Auth::Session(&phone)).await, 200);

    let wrong = change_password(&app, &laptop, "not-my-password-1", NEW_PASSWORD).await;

    assert_eq!(wrong, 403);
    assert_eq!(me(&app, Auth::Session(&phone)).await, 200);
}

async fn password_change_ends_the_other_sessions(app: TestApp) {
    let laptop = app.signed_in("grace@example.com").await;
    let phone = another_device(&app, "grace@example.com").await;
    assert_eq!(me(&app, Auth::Session(&phone)).await, 200);

    let changed = change_password(&app, &laptop, PASSWORD, NEW_PASSWORD).await;

    assert_eq!(changed, 204);
    assert_eq!(me(&app, Auth::Session(&phone)).await, 401);
    assert_eq!(me(&app, Auth::Session(&laptop)).await, 200);
    for (password, status) in [(PASSWORD, 401), (NEW_PASSWORD, 200)] {
        let login = app
            .login(&app.browser(), "grace@example.com", password)
            .await;
        assert_eq!(login.status(), status, "signing in with {password}");
    }
}

async fn a_user_can_list_and_sign_out_their_devices_but_not_others(app: TestApp) {
    let laptop = app.signed_in("heidi@example.com").await;
    let phone = another_device(&app, "heidi@example.com").await;
    let listed = sessions(&app, Auth::Session(&laptop)).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    let text = serde_json::to_string(&listed).unwrap();
    assert!(
        !text.contains("token_hash") && !text.contains("csrf"),
        "{text}"
    );
    let other = session_id(&listed, false);

    let intruder = app.signed_in("ivan@example.com").await;
    assert_eq!(sign_out(&app, &intruder, &other).await, 404);
    assert_eq!(me(&app, Auth::Session(&phone)).await, 200);

    assert_eq!(sign_out(&app, &laptop, &other).await, 204);
    assert_eq!(me(&app, Auth::Session(&phone)).await, 401);
}

async fn login_rotates_the_session_id(app: TestApp) {
    let s = app.signed_in("judy@example.com").await;
    let before = sessions(&app, Auth::Session(&s)).await;
    assert_eq!(
        app.login(&s.client, "judy@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    let after = sessions(&app, Auth::Session(&s)).await;
    assert_ne!(session_id(&before, true), session_id(&after, true));
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
