//! The example API in front of a real CloudDocs server, on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "integration tests fail by panicking"
)]

use std::time::Duration;

use clouddocs_resource::Verifier;
use clouddocs_testkit::{TestApp, backends};
use serde_json::Value;

backends!(
    [sqlite, postgres],
    scopes_keys_and_decisions_hold_in_front_of_a_real_server,
);

async fn serve(app: &TestApp) -> String {
    let verifier = Verifier::discover(&app.base, "clouddocs")
        .await
        .unwrap()
        .with_refetch_interval(Duration::ZERO);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum_resource_server::app(verifier, &app.base);
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn scopes_keys_and_decisions_hold_in_front_of_a_real_server(app: TestApp) {
    let api = serve(&app).await;
    let (user, reader, _) = app
        .user_with_tokens(
            "ann@example.com",
            "documents:read documents:write orgs:manage",
        )
        .await;
    let (status, body) = get(&format!("{api}/notes"), Some(&reader)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["owner"], user.as_str());

    let (narrow, _) = app
        .tokens("ann@example.com", clouddocs_testkit::PASSWORD, "profile")
        .await;
    let (status, body) = get(&format!("{api}/notes"), Some(&narrow)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("documents:read"));
    assert_eq!(get(&format!("{api}/notes"), None).await.0, 401);
    assert_eq!(
        get(&format!("{api}/notes"), Some("not.a.token")).await.0,
        401
    );
    let mut tampered = reader.clone();
    tampered.push('x');
    assert_eq!(get(&format!("{api}/notes"), Some(&tampered)).await.0, 401);

    // A rotated key: the next token has an unknown kid, the JWKS is fetched again.
    app.state.svc.rotate_signing_key("test").await.unwrap();
    let (fresh, _) = app
        .tokens(
            "ann@example.com",
            clouddocs_testkit::PASSWORD,
            "documents:read",
        )
        .await;
    assert_eq!(get(&format!("{api}/notes"), Some(&fresh)).await.0, 200);

    // Object decisions from CloudDocs' engine: Ann's document, and one she may not read.
    let org = app.create_org(&reader, "Ann's").await;
    let mine = app.create_document(&reader, &org, "mine").await;
    let (status, body) = get(&format!("{api}/documents/{mine}/summary"), Some(&reader)).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["allowed_by"].as_array().unwrap().is_empty(), "{body}");
    let (_, other, _) = app
        .user_with_tokens(
            "bob@example.com",
            "documents:read documents:write orgs:manage",
        )
        .await;
    let bobs_org = app.create_org(&other, "Bob's").await;
    let hidden = app.create_document(&other, &bobs_org, "hidden").await;
    let (status, body) = get(&format!("{api}/documents/{hidden}/summary"), Some(&reader)).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body["reasons"].as_array().unwrap().is_empty(), "{body}");
}
