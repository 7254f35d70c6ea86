//! Bearer tokens, API keys, scopes, client credentials, introspection, revocation.

use clouddocs_testkit::{PASSWORD, TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres, postgres_redis],
    a_password_grant_token_authenticates_and_logout_revokes_it,
    password_change_and_disable_revoke_every_token_and_key,
    api_keys_are_shown_once_stored_hashed_scoped_and_revocable,
);

backends!(
    [sqlite, postgres],
    token_answers_follow_rfc_6749,
    scopes_narrow_what_a_token_may_do,
    client_credentials_and_introspection_work_for_confidential_clients,
    admin_endpoints_for_clients_need_a_platform_admin,
);

async fn a_password_grant_token_authenticates_and_logout_revokes_it(app: TestApp) {
    let (user_id, access, _refresh) = app.user_with_tokens("tok@example.com", "").await;
    let me = app.me_with_bearer(&access).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["id"], user_id.as_str());
    // A bearer request needs no CSRF token (it cannot be sent by a cross-site form).
    let patched = reqwest::Client::new()
        .patch(app.url("/me"))
        .bearer_auth(&access)
        .json(&json!({"display_name": "Token User"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let logout = reqwest::Client::new()
        .post(app.url("/auth/logout"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let after = app.me_with_bearer(&access).await;
    assert_eq!(after.status(), 401);
    assert!(
        after.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

async fn password_change_and_disable_revoke_every_token_and_key(app: TestApp) {
    let (user_id, access, refresh) = app.user_with_tokens("rev@example.com", "").await;
    let key: Value = reqwest::Client::new()
        .post(app.url("/me/api-keys"))
        .bearer_auth(&access)
        .json(&json!({"name": "ci", "scopes": ["profile"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_key = key["key"].as_str().unwrap().to_owned();
    let changed = reqwest::Client::new()
        .post(app.url("/me/password"))
        .bearer_auth(&access)
        .json(&json!({"current_password": PASSWORD, "new_password": "another-violet-staple-77"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    assert_eq!(
        app.me_with_bearer(&access).await.status(),
        401,
        "access token of the old login"
    );
    assert_eq!(
        app.refresh(&refresh).await.status(),
        400,
        "refresh token of the old login"
    );

    let fresh = app
        .password_grant("rev@example.com", "another-violet-staple-77", "")
        .await;
    let fresh: Value = fresh.json().await.unwrap();
    let fresh_access = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.me_with_bearer(&fresh_access).await.status(), 200);
    let with_key = reqwest::Client::new()
        .get(app.url("/me"))
        .header("x-api-key", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), 200, "API keys survive a password change");

    let admin = app.admin_token("boss@example.com").await;
    let disabled = reqwest::Client::new()
        .post(app.url(&format!("/admin/users/{user_id}/disable")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    assert_eq!(app.me_with_bearer(&fresh_access).await.status(), 401);
    let with_key = reqwest::Client::new()
        .get(app.url("/me"))
        .header("x-api-key", &api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), 401);
    let refreshed = app.refresh(fresh["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 400);
}

async fn api_keys_are_shown_once_stored_hashed_scoped_and_revocable(app: TestApp) {
    let (user_id, access, _) = app.user_with_tokens("keys@example.com", "").await;
    let client = reqwest::Client::new();
    let created = client
        .post(app.url("/me/api-keys"))
        .bearer_auth(&access)
        .json(&json!({"name": "reader", "scopes": ["documents:read"], "expires_in_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("cdk_"));
    assert!(
        key.len() >= 4 + 16 + 1 + 43,
        "at least 256 random bits: {key}"
    );

    let listed = client
        .get(app.url("/me/api-keys"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains(&key), "the key is never shown again");
    let listed: clouddocs_testkit::Items = serde_json::from_str(&listed).unwrap();
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

    // The key authenticates but its scopes narrow: no `profile`, so /me is 403.
    let me = client
        .get(app.url("/me"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 403);
    assert!(
        me.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    // A key cannot mint a wider key.
    let escalate = client
        .post(app.url("/me/api-keys"))
        .header("x-api-key", &key)
        .json(&json!({"name": "wider", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(escalate.status(), 403);
    // Non-admins cannot create admin-scoped keys even with a full-scope credential.
    let admin_key = client
        .post(app.url("/me/api-keys"))
        .bearer_auth(&access)
        .json(&json!({"name": "adm", "scopes": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin_key.status(), 403);
    let bad_scope = client
        .post(app.url("/me/api-keys"))
        .bearer_auth(&access)
        .json(&json!({"name": "x", "scopes": ["root"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_scope.status(), 422);

    let id = created["id"].as_str().unwrap();
    let revoked = client
        .delete(app.url(&format!("/me/api-keys/{id}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = client
        .get(app.url("/me"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    for forged in ["cdk_", "cdk_nope_nope", "not-a-key", &format!("{key}x")] {
        let r = client
            .get(app.url("/me"))
            .header("x-api-key", forged)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{forged}");
    }
}

async fn token_answers_follow_rfc_6749(app: TestApp) {
    let client = reqwest::Client::new();
    app.register(&client, "rfc@example.com", PASSWORD).await;
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
    let cases: Vec<Case<'_>> = vec![
        (
            vec![
                ("grant_type", "password"),
                ("username", "rfc@example.com"),
                ("password", "wrong-password-1"),
            ],
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
        (
            vec![("grant_type", "password"), ("username", "rfc@example.com")],
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "rfc@example.com"),
                ("password", PASSWORD),
                ("scope", "admin"),
            ],
            400,
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "rfc@example.com"),
                ("password", PASSWORD),
                ("scope", "root"),
            ],
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
        let r = client
            .post(app.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{form:?}");
        assert_eq!(r.headers()["cache-control"], "no-store");
        if status == 401 {
            assert!(r.headers().contains_key("www-authenticate"));
        }
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], error, "{form:?}");
        assert!(e["error_description"].is_string());
    }
    let json_body = client
        .post(app.url("/oauth/token"))
        .json(&json!({"grant_type": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
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
    let users = reqwest::Client::new()
        .get(app.url("/admin/users"))
        .bearer_auth(&profile)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 403);
    // Refresh cannot widen scope.
    let wider = reqwest::Client::new()
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("scope", "profile documents:write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wider.status(), 400);
    assert_eq!(
        wider.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
}

async fn client_credentials_and_introspection_work_for_confidential_clients(app: TestApp) {
    let admin = app.admin_token("ops@example.com").await;
    let (id, secret) = app
        .register_client(&admin, json!({"name": "reporting", "grant_types": ["client_credentials"], "scopes": ["documents:read"], "confidential": true}))
        .await;
    let secret = secret.unwrap();
    let client = reqwest::Client::new();
    // client_secret_basic
    let basic = client
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let token: Value = basic.json().await.unwrap();
    assert!(token.get("refresh_token").is_none());
    let access = token["access_token"].as_str().unwrap().to_owned();
    // client_secret_post
    let post = client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "documents:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    let wrong = client
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some("wrong-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let escalate = client
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(escalate.status(), 400);
    // A client token is not a user.
    assert_eq!(app.me_with_bearer(&access).await.status(), 403);

    let introspected: Value = client
        .post(app.url("/oauth/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["sub"], id.as_str());
    assert_eq!(introspected["scope"], "documents:read");
    let (_, user_access, user_refresh) = app.user_with_tokens("intro@example.com", "").await;
    for (t, kind) in [
        (&user_access, "access_token"),
        (&user_refresh, "refresh_token"),
    ] {
        let v: Value = client
            .post(app.url("/oauth/introspect"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", t.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["active"], true);
        assert_eq!(v["token_type"], kind);
    }
    let garbage: Value = client
        .post(app.url("/oauth/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", "garbage")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(garbage, json!({"active": false}));
    let anonymous = client
        .post(app.url("/oauth/introspect"))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Revoking the client token makes it inactive.
    let revoked = client
        .post(app.url("/oauth/revoke"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let v: Value = client
        .post(app.url("/oauth/introspect"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["active"], false);
}

async fn admin_endpoints_for_clients_need_a_platform_admin(app: TestApp) {
    let (_, user, _) = app.user_with_tokens("pleb@example.com", "").await;
    let client = reqwest::Client::new();
    let body = json!({"name": "x", "grant_types": ["client_credentials"], "confidential": true});
    let r = client
        .post(app.url("/admin/clients"))
        .bearer_auth(&user)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let admin = app.admin_token("root2@example.com").await;
    let (id, secret) = app.register_client(&admin, body).await;
    assert!(secret.is_some());
    let listed = client
        .get(app.url("/admin/clients"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&id));
    assert!(
        !listed.contains(secret.as_deref().unwrap()),
        "secret shown once only"
    );
    let invalid = client
        .post(app.url("/admin/clients"))
        .bearer_auth(&admin)
        .json(&json!({"name": "x", "grant_types": ["client_credentials"], "confidential": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 422);
    let mass = client
        .post(app.url("/admin/clients"))
        .bearer_auth(&admin)
        .json(&json!({"name": "x", "grant_types": ["password"], "confidential": true, "client_secret": "chosen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(mass.status(), 422);
    let deleted = client
        .delete(app.url(&format!("/admin/clients/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let again = client
        .delete(app.url(&format!("/admin/clients/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}
