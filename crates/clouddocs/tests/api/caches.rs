//! The hot-path caches never serve a stale answer: profiles, clients and the in-memory
//! denylist follow every write at once, and batched audit events form one gapless chain.

use clouddocs_http::rate_limit::Limit;
use clouddocs_testkit::{Auth, Backend, TestApp, backends};
use reqwest::Method;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres, postgres_redis],
    a_cached_profile_follows_every_change,
    a_deleted_client_is_refused_at_once,
    a_revoked_token_is_refused_at_once_after_being_accepted,
);

/// A burst of token requests from one address: the per-address limit is lifted
async fn spawn_unlimited(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| {
        s.http.rate_limits.token_per_ip = Limit {
            burst: 1000,
            per_seconds: 1,
        };
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_audit_events_form_one_gapless_chain_sqlite() {
    if let Some(app) = spawn_unlimited(Backend::Sqlite).await {
        concurrent_audit_events_form_one_gapless_chain(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_audit_events_form_one_gapless_chain_postgres() {
    if let Some(app) = spawn_unlimited(Backend::Postgres).await {
        concurrent_audit_events_form_one_gapless_chain(app).await;
    }
}

async fn a_cached_profile_follows_every_change(app: TestApp) {
    let (user_id, access, _) = app.user_with_tokens("cache@example.com", "").await;
    for _ in 0..3 {
        assert_eq!(app.get_json("/me", &access).await["id"], user_id.as_str());
    }
    for name in ["First Name", "Second Name"] {
        let body = json!({ "display_name": name });
        let (patched, _) = app
            .call(Method::PATCH, "/me", Auth::Bearer(&access), Some(body))
            .await;
        assert_eq!(patched, 200);
        assert_eq!(
            app.get_json("/me", &access).await["display_name"],
            name,
            "GET /me right after PATCH /me"
        );
    }
}

async fn a_deleted_client_is_refused_at_once(app: TestApp) {
    let admin = app.admin_token("ops@example.com").await;
    let (id, secret) = app.service_client(&admin, "svc").await;
    for _ in 0..3 {
        assert_eq!(app.client_credentials(&id, &secret).await.status(), 200);
    }
    let path = format!("/admin/clients/{id}");
    let (deleted, _) = app
        .call(Method::DELETE, &path, Auth::Bearer(&admin), None)
        .await;
    assert_eq!(deleted, 204);
    let refused = app.client_credentials(&id, &secret).await;
    assert_eq!(
        refused.status(),
        401,
        "a deleted client must not get tokens"
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

async fn a_revoked_token_is_refused_at_once_after_being_accepted(app: TestApp) {
    let admin = app.admin_token("root@example.com").await;
    let (user_id, access, _) = app.user_with_tokens("gone@example.com", "").await;
    // Accepted (and so cached as verified) many times first.
    for _ in 0..5 {
        assert_eq!(app.me_with_bearer(&access).await.status(), 200);
    }
    let path = format!("/admin/users/{user_id}/disable");
    let (disabled, _) = app
        .call(Method::POST, &path, Auth::Bearer(&admin), None)
        .await;
    assert!(disabled.is_success(), "{disabled}");
    assert_eq!(app.me_with_bearer(&access).await.status(), 401);
    // The admin's own token was never revoked.
    assert_eq!(app.me_with_bearer(&admin).await.status(), 200);
}

async fn concurrent_audit_events_form_one_gapless_chain(app: TestApp) {
    let admin = app.admin_token("audit@example.com").await;
    let (id, secret) = app.service_client(&admin, "burst").await;
    let client = reqwest::Client::new();
    // Token issuance (batched), failed client authentication and state changes (each in
    // its own transaction) all at once.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..70 {
        let request = if i < 60 {
            let presented = if i % 5 == 0 { "wrong" } else { secret.as_str() };
            client
                .post(app.url("/oauth/token"))
                .basic_auth(&id, Some(presented))
                .form(&[("grant_type", "client_credentials")])
        } else {
            client
                .post(app.url("/orgs"))
                .bearer_auth(&admin)
                .json(&json!({ "name": format!("org {i}") }))
        };
        tasks.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    let statuses: Vec<u16> = tasks.join_all().await;
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(
        (count(200), count(401), count(201)),
        (48, 12, 10),
        "{statuses:?}"
    );
    let verify = app.get_json("/audit/verify", &admin).await;
    assert_eq!(verify["ok"], true, "{verify}");
    let events = app
        .get_json("/audit?action=token.issue&limit=100", &admin)
        .await;
    let issued = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == id.as_str())
        .count();
    assert_eq!(issued, 48, "one event per issued token");
}
