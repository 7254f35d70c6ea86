//! Bearer tokens, API keys, scopes, client credentials, introspection, revocation.

use clouddocs_testkit::{Auth, Items, PASSWORD, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres, postgres_redis],
    a_password_grant_token_authenticates_and_logout_revokes_it,
    a_password_change_revokes_every_token_but_no_api_key,
    disabling_a_user_revokes_every_token_and_api_key,
    an_api_key_is_shown_once_and_stored_as_a_digest,
    an_api_key_is_narrowed_by_its_scopes_and_mints_no_wider_key,
    a_revoked_or_forged_api_key_is_401,
);

backends!(
    [sqlite, postgres],
    token_answers_follow_rfc_6749,
    scopes_narrow_what_a_token_may_do,
    a_confidential_client_authenticates_either_way_for_no_more_than_its_scopes,
    introspection_describes_client_and_user_tokens_to_an_authenticated_client,
    a_revoked_client_token_introspects_as_inactive,
    admin_endpoints_for_clients_need_a_platform_admin,
);

/// The new password of the password-change test
const NEW_PASSWORD: &str = "another-violet-staple-77";

/// `GET /me`'s status with `auth`
async fn me(app: &TestApp, auth: Auth<'_>) -> StatusCode {
    app.call(Method::GET, "/me", auth, None).await.0
}

/// `POST /me/api-keys` as `auth` with `body`
async fn create_key(app: &TestApp, auth: Auth<'_>, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, "/me/api-keys", auth, Some(body))
        .await
}

async fn a_password_grant_token_authenticates_and_logout_revokes_it(app: TestApp) {
    let (user_id, access, _refresh) = app.user_with_tokens("tok@example.com", "").await;
    let (status, me) = app
        .call(Method::GET, "/me", Auth::Bearer(&access), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["id"], user_id.as_str());
    // A bearer request needs no CSRF token (it cannot be sent by a cross-site form).
    let body = json!({"display_name": "Token User"});
    let (patched, _) = app
        .call(Method::PATCH, "/me", Auth::Bearer(&access), Some(body))
        .await;
    assert_eq!(patched, 200);
    let (logout, _) = app
        .call(Method::POST, "/auth/logout", Auth::Bearer(&access), None)
        .await;
    assert_eq!(logout, 204);
    let after = app.me_with_bearer(&access).await;
    assert_eq!(after.status(), 401);
    assert!(
        after.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

async fn a_password_change_revokes_every_token_but_no_api_key(app: TestApp) {
    let (_, access, refresh) = app.user_with_tokens("rev@example.com", "").await;
    let (_, api_key) = app.api_key(&access, "ci", &["profile"]).await;

    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    let (changed, _) = app
        .call(
            Method::POST,
            "/me/password",
            Auth::Bearer(&access),
            Some(body),
        )
        .await;

    assert_eq!(changed, 204);
    assert_eq!(
        me(&app, Auth::Bearer(&access)).await,
        401,
        "access token of the old login"
    );
    assert_eq!(
        app.refresh(&refresh).await.status(),
        400,
        "refresh token of the old login"
    );
    let (fresh, _) = app.tokens("rev@example.com", NEW_PASSWORD, "").await;
    assert_eq!(me(&app, Auth::Bearer(&fresh)).await, 200);
    assert_eq!(
        me(&app, Auth::ApiKey(&api_key)).await,
        200,
        "API keys survive a password change"
    );
}

async fn disabling_a_user_revokes_every_token_and_api_key(app: TestApp) {
    let (user_id, access, refresh) = app.user_with_tokens("rev@example.com", "").await;
    let (_, api_key) = app.api_key(&access, "ci", &["profile"]).await;
    let admin = app.admin_token("boss@example.com").await;

    let path = format!("/admin/users/{user_id}/disable");
    let (disabled, _) = app
        .call(Method::POST, &path, Auth::Bearer(&admin), None)
        .await;

    assert_eq!(disabled, 200);
    assert_eq!(me(&app, Auth::Bearer(&access)).await, 401);
    assert_eq!(me(&app, Auth::ApiKey(&api_key)).await, 401);
    assert_eq!(app.refresh(&refresh).await.status(), 400);
}

/// A `documents:read` API key of a new user; returns `(user_id, access_token, key)` and
/// the creation answer
async fn reader_key(app: &TestApp) -> ((String, String, String), Value) {
    let (user_id, access, _) = app.user_with_tokens("keys@example.com", "").await;
    let (status, created) = create_key(
        app,
        Auth::Bearer(&access),
        json!({"name": "reader", "scopes": ["documents:read"], "expires_in_days": 30}),
    )
    .await;
    assert_eq!(status, 201);
    let key = created["key"].as_str().unwrap().to_owned();
    ((user_id, access, key), created)
}

async fn an_api_key_is_shown_once_and_stored_as_a_digest(app: TestApp) {
    let ((user_id, access, key), _) = reader_key(&app).await;
    assert!(key.starts_with("cdk_"));
    assert!(
        key.len() >= 4 + 16 + 1 + 43,
        "at least 256 random bits: {key}"
    );

    let listed = app.get_json("/me/api-keys", &access).await;
    assert!(
        !listed.to_string().contains(&key),
        "the key is never shown again"
    );
    let listed: Items = serde_json::from_value(listed).unwrap();
    assert!(listed.next_cursor.is_none());
    assert_eq!(listed.len(), 1);
    assert!(key.starts_with(listed[0]["prefix"].as_str().unwrap()));
    assert!(listed[0].get("key_hash").is_none());

    // Stored as a digest only.
    let stored: (String,) = sqlx::query_as("SELECT key_hash FROM api_keys WHERE user_id = $1")
        .bind(&user_id)
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    assert_ne!(stored.0, key);
    assert_eq!(stored.0.len(), 64);
}

async fn an_api_key_is_narrowed_by_its_scopes_and_mints_no_wider_key(app: TestApp) {
    let ((_, access, key), _) = reader_key(&app).await;

    // The key authenticates but its scopes narrow: no `profile`, so /me is 403.
    let profile = reqwest::Client::new()
        .get(app.url("/me"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 403);
    assert!(
        profile.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    // A key cannot mint a wider key.
    let wider = json!({"name": "wider", "scopes": ["admin"]});
    let (escalate, _) = create_key(&app, Auth::ApiKey(&key), wider).await;
    assert_eq!(escalate, 403);
    // Non-admins cannot create admin-scoped keys even with a full-scope credential.
    let admin_scoped = json!({"name": "adm", "scopes": ["admin"]});
    let (admin_key, _) = create_key(&app, Auth::Bearer(&access), admin_scoped).await;
    assert_eq!(admin_key, 403);
    let unknown_scope = json!({"name": "x", "scopes": ["root"]});
    let (bad_scope, _) = create_key(&app, Auth::Bearer(&access), unknown_scope).await;
    assert_eq!(bad_scope, 422);
}

async fn a_revoked_or_forged_api_key_is_401(app: TestApp) {
    let ((_, access, key), created) = reader_key(&app).await;
    let id = created["id"].as_str().unwrap();

    let path = format!("/me/api-keys/{id}");
    let (revoked, _) = app
        .call(Method::DELETE, &path, Auth::Bearer(&access), None)
        .await;

    assert_eq!(revoked, 204);
    assert_eq!(me(&app, Auth::ApiKey(&key)).await, 401);
    for forged in ["cdk_", "cdk_nope_nope", "not-a-key", &format!("{key}x")] {
        assert_eq!(me(&app, Auth::ApiKey(forged)).await, 401, "{forged}");
    }
}

async fn token_answers_follow_rfc_6749(app: TestApp) {
    app.register(&reqwest::Client::new(), "rfc@example.com", PASSWORD)
        .await;
    let ok = app
        .password_grant("rfc@example.com", PASSWORD, "profile documents:read")
        .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "documents:read profile");
    assert!(body["refresh_token"].is_string());

    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let password = |extra: &[(&'static str, &'static str)]| {
        let mut form = vec![("grant_type", "password"), ("username", "rfc@example.com")];
        form.extend_from_slice(extra);
        form
    };
    let cases: Vec<Case<'_>> = vec![
        (
            password(&[("password", "wrong-password-1")]),
            400,
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "nobody@example.com"),
                ("password", PASSWORD),
            ],
            400,
            "invalid_grant",
        ),
        (password(&[]), 400, "invalid_request"),
        (
            password(&[("password", PASSWORD), ("scope", "admin")]),
            400,
            "invalid_scope",
        ),
        (
            password(&[("password", PASSWORD), ("scope", "root")]),
            400,
            "invalid_scope",
        ),
        (
            vec![("grant_type", "implicit")],
            400,
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "nope"),
                ("client_secret", "nope"),
            ],
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "refresh_token"), ("refresh_token", "forged")],
            400,
            "invalid_grant",
        ),
        (vec![], 400, "invalid_request"),
    ];
    for (form, status, error) in cases {
        let r = app.post_form("/oauth/token", None, &form).await;
        assert_eq!(r.status().as_u16(), status, "{form:?}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        if status == 401 {
            assert!(r.headers().contains_key("www-authenticate"));
        }
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], error, "{form:?}");
        assert!(e["error_description"].is_string());
    }
    let body = json!({"grant_type": "password"});
    let (json_body, _) = app
        .call(Method::POST, "/oauth/token", Auth::None, Some(body))
        .await;
    assert_eq!(json_body, 400);
}

async fn scopes_narrow_what_a_token_may_do(app: TestApp) {
    let (_, narrow, _) = app
        .user_with_tokens("narrow@example.com", "documents:read")
        .await;
    let me = app.me_with_bearer(&narrow).await;
    assert_eq!(me.status(), 403);
    assert_eq!(me.headers()["content-type"], "application/problem+json");
    assert!(
        me.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains(r#"scope="profile""#)
    );
    let (_, profile, refresh) = app.user_with_tokens("wide@example.com", "profile").await;
    assert_eq!(app.me_with_bearer(&profile).await.status(), 200);
    // A platform-admin-only endpoint: a plain user's token is 403 whatever its scopes.
    let (users, _) = app
        .call(Method::GET, "/admin/users", Auth::Bearer(&profile), None)
        .await;
    assert_eq!(users, 403);
    // Refresh cannot widen scope.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("scope", "profile documents:write"),
    ];
    let wider = app.post_form("/oauth/token", None, &form).await;
    assert_eq!(wider.status(), 400);
    assert_eq!(
        wider.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
}

/// A confidential `client_credentials` client with the `documents:read` scope, and a
/// token of its own; returns `(client_id, secret, access_token)`
async fn reporting_client(app: &TestApp) -> (String, String, String) {
    let admin = app.admin_token("ops@example.com").await;
    let (id, secret) = app.service_client(&admin, "reporting").await;
    // client_secret_basic
    let basic = app.client_credentials(&id, &secret).await;
    assert_eq!(basic.status(), 200);
    let token: Value = basic.json().await.unwrap();
    assert!(token.get("refresh_token").is_none());
    let access = token["access_token"].as_str().unwrap().to_owned();
    (id, secret, access)
}

/// `POST /oauth/introspect` about `token` as the client `(id, secret)`
async fn introspect(app: &TestApp, id: &str, secret: &str, token: &str) -> Value {
    let response = app
        .post_form("/oauth/introspect", Some((id, secret)), &[("token", token)])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// `POST /oauth/token`'s status with `form`, as the client `(id, secret)` if one is given
async fn token(app: &TestApp, client: Option<(&str, &str)>, form: &[(&str, &str)]) -> StatusCode {
    app.post_form("/oauth/token", client, form).await.status()
}

async fn a_confidential_client_authenticates_either_way_for_no_more_than_its_scopes(app: TestApp) {
    let (id, secret, access) = reporting_client(&app).await;
    // client_secret_post
    let post = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "documents:read"),
        ],
    )
    .await;
    assert_eq!(post, 200);
    let wrong = token(
        &app,
        Some((&id, "wrong-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(wrong, 401);
    let escalate = token(
        &app,
        Some((&id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "admin")],
    )
    .await;
    assert_eq!(escalate, 400);
    // A client token is not a user.
    assert_eq!(me(&app, Auth::Bearer(&access)).await, 403);
}

async fn introspection_describes_client_and_user_tokens_to_an_authenticated_client(app: TestApp) {
    let (id, secret, access) = reporting_client(&app).await;
    let (_, user_access, user_refresh) = app.user_with_tokens("intro@example.com", "").await;

    let introspected = introspect(&app, &id, &secret, &access).await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["sub"], id.as_str());
    assert_eq!(introspected["scope"], "documents:read");
    for (t, kind) in [
        (&user_access, "access_token"),
        (&user_refresh, "refresh_token"),
    ] {
        let v = introspect(&app, &id, &secret, t).await;
        assert_eq!(v["active"], true);
        assert_eq!(v["token_type"], kind);
    }
    let garbage = introspect(&app, &id, &secret, "garbage").await;
    assert_eq!(garbage, json!({"active": false}));
    let anonymous = app
        .post_form("/oauth/introspect", None, &[("token", access.as_str())])
        .await;
    assert_eq!(anonymous.status(), 401);
}

async fn a_revoked_client_token_introspects_as_inactive(app: TestApp) {
    let (id, secret, access) = reporting_client(&app).await;

    let revoked = app
        .post_form(
            "/oauth/revoke",
            Some((&id, &secret)),
            &[("token", access.as_str())],
        )
        .await;

    assert_eq!(revoked.status(), 200);
    let v = introspect(&app, &id, &secret, &access).await;
    assert_eq!(v["active"], false);
}

async fn admin_endpoints_for_clients_need_a_platform_admin(app: TestApp) {
    let (_, user, _) = app.user_with_tokens("pleb@example.com", "").await;
    let register = |token: &str, body: Value| {
        let (app, token) = (&app, token.to_owned());
        async move {
            app.call(
                Method::POST,
                "/admin/clients",
                Auth::Bearer(&token),
                Some(body),
            )
            .await
            .0
        }
    };
    let body = json!({"name": "x", "grant_types": ["client_credentials"], "confidential": true});
    assert_eq!(register(&user, body.clone()).await, 403);
    let admin = app.admin_token("root2@example.com").await;
    let (id, secret) = app.register_client(&admin, body).await;
    assert!(secret.is_some());
    let listed = app.get_json("/admin/clients", &admin).await.to_string();
    assert!(listed.contains(&id));
    assert!(
        !listed.contains(secret.as_deref().unwrap()),
        "secret shown once only"
    );
    let invalid = register(
        &admin,
        json!({"name": "x", "grant_types": ["client_credentials"], "confidential": false}),
    )
    .await;
    assert_eq!(invalid, 422);
    let mass = register(
        &admin,
        json!({"name": "x", "grant_types": ["password"], "confidential": true, "client_secret": "chosen"}),
    )
    .await;
    assert_eq!(mass, 422);
    let delete = || {
        let path = format!("/admin/clients/{id}");
        let (app, admin) = (&app, &admin);
        async move {
            app.call(Method::DELETE, &path, Auth::Bearer(admin), None)
                .await
                .0
        }
    };
    assert_eq!(delete().await, 204);
    assert_eq!(delete().await, 404);
}
