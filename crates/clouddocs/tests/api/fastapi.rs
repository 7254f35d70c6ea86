//! `examples/fastapi-resource-server`: a real FastAPI app (uvicorn, PyJWT, httpx) secured by
//! a real CloudDocs server: scopes, revocation through introspection, and object decisions
//! in the app's own Cedar namespace.

use std::process::Stdio;
use std::time::Duration;

use clouddocs_testkit::{Auth, PASSWORD, TestApp, backends};
use reqwest::Method;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    the_fastapi_example_trusts_clouddocs_for_tokens_scopes_and_decisions
);

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/fastapi-resource-server"
);

/// The app under uvicorn, killed when dropped
struct Uvicorn(std::process::Child);

impl Drop for Uvicorn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn get(url: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_fastapi_example_trusts_clouddocs_for_tokens_scopes_and_decisions(app: TestApp) {
    let ready = std::process::Command::new("python3")
        .args(["-c", "import fastapi, uvicorn, jwt, httpx, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        clouddocs_testkit::skip(
            "the FastAPI example's requirements are not installed (pip install -r examples/fastapi-resource-server/requirements.txt)",
        );
        return;
    }
    // CloudDocs side: the app's confidential client (for introspection) and its Cedar pack.
    let root = app.admin_token("root@example.com").await;
    let (client_id, secret) = app
        .register_client(
            &root,
            json!({"name": "courses", "grant_types": ["client_credentials"], "confidential": true}),
        )
        .await;
    let (_, active) = app
        .call(Method::GET, "/admin/policies", Auth::Bearer(&root), None)
        .await;
    let policies = format!(
        "{}\n{}",
        active["policies"].as_str().unwrap(),
        std::fs::read_to_string(format!("{EXAMPLE}/policies/policies.cedar")).unwrap()
    );
    let schema = std::fs::read_to_string(format!("{EXAMPLE}/policies/schema.cedarschema")).unwrap();
    let (status, body) = app
        .call(
            Method::PUT,
            "/admin/policies",
            Auth::Bearer(&root),
            Some(json!({"policies": policies, "schema": schema})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (student, token, _) = app
        .user_with_tokens("stu@example.com", "documents:read profile")
        .await;
    let (_, outsider, _) = app
        .user_with_tokens("out@example.com", "documents:read")
        .await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Uvicorn(
        std::process::Command::new("python3")
            .args([
                "-m",
                "uvicorn",
                "app:app",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .current_dir(EXAMPLE)
            .env("CLOUDDOCS_URL", &app.base)
            .env("CLIENT_ID", &client_id)
            .env("CLIENT_SECRET", secret.as_deref().unwrap())
            .env("ENROLLED", &student)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let api = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{api}/openapi.json")).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the example app did not start");

    // The right scope: 200. The OpenAPI document offers CloudDocs' code flow.
    let (status, body) = get(&format!("{api}/courses"), &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"], student.as_str());
    let openapi: Value = reqwest::get(format!("{api}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let flows = openapi["components"]["securitySchemes"].to_string();
    assert!(
        flows.contains("authorizationCode") && flows.contains("/oauth/authorize"),
        "{flows}"
    );
    // A missing scope: 403. A forged token: 401.
    let (narrow, _) = app.tokens("stu@example.com", PASSWORD, "profile").await;
    let (status, body) = get(&format!("{api}/courses"), &narrow).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = get(&format!("{api}/courses"), &format!("{token}x")).await;
    assert_eq!(status, 401);
    // Object decisions in the app's namespace: enrolled or not.
    let (status, body) = get(&format!("{api}/courses/algebra/materials"), &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["allowed_by"],
        json!(["enrolled-students-view-materials"])
    );
    let (status, body) = get(&format!("{api}/courses/algebra/materials"), &outsider).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        !body["detail"]["reasons"].as_array().unwrap().is_empty(),
        "{body}"
    );
    // Revoked at CloudDocs (logout with the token): refused by the app at once.
    let (status, _) = app
        .call(Method::POST, "/auth/logout", Auth::Bearer(&token), None)
        .await;
    assert_eq!(status, 204);
    let (status, body) = get(&format!("{api}/courses"), &token).await;
    assert_eq!(status, 401, "{body}");
}
