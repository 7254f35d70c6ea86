//! Limits, headers, operations endpoints and bad input: always a clear 4xx, never a 5xx.

use clouddocs_testkit::{Auth, Backend, TestApp, backends};
use reqwest::Method;
use serde_json::Value;

backends!(
    [sqlite, postgres],
    bad_bodies_are_clear_4xx_problems,
    oversized_bodies_and_headers_are_refused,
    security_headers_are_on_every_response,
);

backends!(
    [sqlite, postgres, postgres_redis],
    health_readiness_metrics_and_openapi_answer
);

async fn bad_bodies_are_clear_4xx_problems(app: TestApp) {
    let client = app.browser();
    let cases: [(&str, &str, u16); 5] = [
        ("application/json", "{not json", 400),
        ("application/json", "[]", 422),
        (
            "application/json",
            r#"{"email": 5, "password": "x", "display_name": "y"}"#,
            422,
        ),
        ("text/plain", "hello", 415),
        (
            "application/json",
            r#"{"email":"a@b.co","password":"correct-violet-staple-91","display_name":"A","is_admin":true}"#,
            422,
        ),
    ];
    for (ct, body, status) in cases {
        let r = client
            .post(app.url("/auth/register"))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["status"], status);
    }
    let r = client.get(app.url("/no/such/route")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = client.put(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (_, token, _) = app.user_with_tokens("query@example.com", "").await;
    for query in [
        "/documents?limit=abc",
        "/documents?published=maybe",
        "/documents?is_admin=1",
        "/admin/users?limit=-1",
    ] {
        let r = client
            .get(app.url(query))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == 400 || r.status() == 403,
            "{query}: {}",
            r.status()
        );
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
    }
}

async fn oversized_bodies_and_headers_are_refused(app: TestApp) {
    let client = app.browser();
    let huge = format!(
        r#"{{"email":"a@b.co","password":"{}","display_name":"A"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let r = client
        .post(app.url("/auth/register"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let r = client
        .get(app.url("/healthz"))
        .header("x-padding", "y".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
}

async fn security_headers_are_on_every_response(app: TestApp) {
    let r = app.browser().get(app.url("/me")).send().await.unwrap();
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(h.contains_key("x-request-id"));
    assert!(
        !h.contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
}

async fn health_readiness_metrics_and_openapi_answer(app: TestApp) {
    let get = |path: &'static str| app.call(Method::GET, path, Auth::None, None);
    assert_eq!(get("/healthz").await.0, 200);
    let (_, ready) = get("/readyz").await;
    assert_eq!(ready["database"], "ok");
    let redis = if app.backend == Backend::PostgresRedis {
        "ok"
    } else {
        "not configured"
    };
    assert_eq!(ready["redis"], redis, "{ready}");
    assert!(ready.get("ephemeral").is_none(), "{ready}");
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds"));
    let (_, spec) = get("/openapi.json").await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/auth/register",
        "/auth/login",
        "/me",
        "/me/sessions",
        "/admin/users",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} documented");
    }
    assert_eq!(get("/docs/").await.0, 200);
}

#[tokio::test]
async fn production_cookies_are_host_prefixed_secure_httponly_and_lax() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.http.dev = false)
        .await
        .unwrap();
    let client = app.browser();
    app.register(&client, "prod@example.com", clouddocs_testkit::PASSWORD)
        .await;
    let r = app
        .login(&client, "prod@example.com", clouddocs_testkit::PASSWORD)
        .await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-clouddocs="), "{cookie}");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}
