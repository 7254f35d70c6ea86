//! Input bounds (issue 11, item 1): nothing a caller sends reaches a recursive path
//! unbounded, and a panic answers 500 problem+json without taking the server down.

use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    a_deep_entity_chain_is_refused_with_the_bound_named,
    too_many_entities_or_attribute_bytes_are_refused,
    deeply_nested_json_bodies_are_refused,
    deeply_nested_policy_text_is_refused,
    a_panic_answers_500_problem_and_the_server_goes_on,
);

fn chain(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                let parents = if i == 0 {
                    json!([])
                } else {
                    json!([{"type": "App::Node", "id": format!("n{}", i - 1)}])
                };
                json!({"uid": {"type": "App::Node", "id": format!("n{i}")}, "attrs": {}, "parents": parents})
            })
            .collect(),
    )
}

async fn check(app: &TestApp, token: &str, entities: Value) -> (StatusCode, Value) {
    let body = json!({
        "principal": {"type": "App::Node", "id": "n0"},
        "action": {"type": "App::Action", "id": "view"},
        "resource": {"type": "App::Node", "id": "n1"},
        "entities": entities,
    });
    app.call(
        Method::POST,
        "/authz/check",
        Auth::Bearer(token),
        Some(body),
    )
    .await
}

async fn a_deep_entity_chain_is_refused_with_the_bound_named(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("deep@example.com", "").await;
    let (status, problem) = check(&app, &token, chain(900)).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("ancestor depth"),
        "{problem}"
    );
    // Within the bounds the same question is answered.
    let (status, decision) = check(&app, &token, chain(10)).await;
    assert_eq!(status, 200, "{decision}");
}

async fn too_many_entities_or_attribute_bytes_are_refused(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("many@example.com", "").await;
    let flat: Vec<Value> = (0..2500)
        .map(|i| json!({"uid": {"type": "App::Node", "id": format!("n{i}")}, "attrs": {}, "parents": []}))
        .collect();
    let (status, problem) = check(&app, &token, Value::Array(flat)).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("entity count"));
    let big = json!([{"uid": {"type": "App::Node", "id": "n0"}, "attrs": {"blob": "x".repeat(200_000)}, "parents": []}]);
    let (status, problem) = check(&app, &token, big).await;
    assert_eq!(status, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("attribute bytes")
    );
}

async fn deeply_nested_json_bodies_are_refused(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("nest@example.com", "").await;
    let body = format!(
        r#"{{"action": "read", "resource": "x", "context": {}1{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let r = reqwest::Client::new()
        .post(app.url("/authz/check"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("nesting depth")
    );
}

async fn deeply_nested_policy_text_is_refused(app: TestApp) {
    let admin = app.admin_token("pol@example.com").await;
    let policies = format!(
        "@id(\"deep\")\npermit(principal, action, resource) when {{ {}true{} }};",
        "(".repeat(500),
        ")".repeat(500)
    );
    let body = json!({"policies": policies});
    let (status, problem) = app
        .call(
            Method::PUT,
            "/admin/policies",
            Auth::Bearer(&admin),
            Some(body),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("policy nesting depth"),
        "{problem}"
    );
}

async fn a_panic_answers_500_problem_and_the_server_goes_on(app: TestApp) {
    let http = reqwest::Client::new();
    let r = http.get(app.url("/__test/panic")).send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(!problem.to_string().contains("deliberate"), "{problem}");
    let r = http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
