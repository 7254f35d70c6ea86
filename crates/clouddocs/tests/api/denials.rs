//! Every denial is audited the same way, with the real reason: a scope denial names the
//! missing scope and no permitting policy, on every path that can refuse.

use clouddocs_service::DocumentPatch;
use clouddocs_testkit::{TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    a_route_level_scope_denial_is_audited_with_the_missing_scope,
    a_service_level_scope_denial_names_no_permitting_policy,
    a_refused_membership_change_is_audited_with_its_reasons,
    a_viewer_creating_a_document_is_an_audited_denial,
);

/// The `detail` of every `permission.denied` event by `actor`, oldest first
async fn denials_by(app: &TestApp, actor: &str) -> Vec<Value> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT detail FROM audit_events WHERE action = 'permission.denied' AND actor = $1 ORDER BY seq",
    )
    .bind(actor)
    .fetch_all(app.state.svc.db().pool())
    .await
    .unwrap();
    rows.iter()
        .map(|(d,)| serde_json::from_str(d).unwrap())
        .collect()
}

/// Alice's org and one document of hers; returns `(org_id, doc_id)`
async fn org_with_document(app: &TestApp, token: &str) -> (String, String) {
    let http = reqwest::Client::new();
    let org: Value = http
        .post(app.url("/orgs"))
        .bearer_auth(token)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org_id = org["id"].as_str().unwrap().to_owned();
    let doc: Value = http
        .post(app.url(&format!("/orgs/{org_id}/documents")))
        .bearer_auth(token)
        .json(&json!({"title": "Plan", "body": "b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (org_id, doc["id"].as_str().unwrap().to_owned())
}

async fn a_route_level_scope_denial_is_audited_with_the_missing_scope(app: TestApp) {
    let (alice_id, full, _) = app.user_with_tokens("alice@example.com", "").await;
    let (_, doc_id) = org_with_document(&app, &full).await;
    let read_only: Value = app
        .password_grant(
            "alice@example.com",
            clouddocs_testkit::PASSWORD,
            "documents:read",
        )
        .await
        .json()
        .await
        .unwrap();

    let refused = reqwest::Client::new()
        .patch(app.url(&format!("/documents/{doc_id}")))
        .bearer_auth(read_only["access_token"].as_str().unwrap())
        .json(&json!({"title": "changed"}))
        .send()
        .await
        .unwrap();

    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["type"],
        "https://clouddocs.dev/problems/insufficient-scope"
    );
    let denials = denials_by(&app, &alice_id).await;
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["action"], "scope");
    assert_eq!(denials[0]["policies"], json!([]));
    assert_eq!(
        denials[0]["reasons"],
        json!(["token scope `documents:write` not granted"])
    );
}

async fn a_service_level_scope_denial_names_no_permitting_policy(app: TestApp) {
    let (alice_id, full, _) = app.user_with_tokens("author@example.com", "").await;
    let (_, doc_id) = org_with_document(&app, &full).await;
    let read_only: Value = app
        .password_grant(
            "author@example.com",
            clouddocs_testkit::PASSWORD,
            "documents:read",
        )
        .await
        .json()
        .await
        .unwrap();
    let principal = app
        .state
        .svc
        .authenticate_bearer(read_only["access_token"].as_str().unwrap())
        .await
        .unwrap();

    let refused = app
        .state
        .svc
        .update_document(
            &principal,
            &doc_id.parse().unwrap(),
            DocumentPatch {
                title: Some("changed".to_owned()),
                ..DocumentPatch::default()
            },
        )
        .await;

    assert!(
        matches!(refused, Err(clouddocs_service::ServiceError::Denied(_))),
        "{refused:?}"
    );
    let denials = denials_by(&app, &alice_id).await;
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(
        denials[0]["policies"],
        json!([]),
        "the author's permitting policy did not decide this denial"
    );
    assert_eq!(
        denials[0]["reasons"],
        json!(["token scope `documents:write` not granted"])
    );
}

async fn a_refused_membership_change_is_audited_with_its_reasons(app: TestApp) {
    let (_, alice, _) = app.user_with_tokens("owner@example.com", "").await;
    let (bob_id, bob, _) = app.user_with_tokens("editor@example.com", "").await;
    let (carol_id, _, _) = app.user_with_tokens("carol@example.com", "").await;
    let (org_id, _) = org_with_document(&app, &alice).await;
    let http = reqwest::Client::new();
    let added = http
        .put(app.url(&format!("/orgs/{org_id}/members/{bob_id}")))
        .bearer_auth(&alice)
        .json(&json!({"role": "editor"}))
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "{}", added.status());

    let refused = http
        .put(app.url(&format!("/orgs/{org_id}/members/{carol_id}")))
        .bearer_auth(&bob)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();

    assert_eq!(refused.status(), 403);
    let denials = denials_by(&app, &bob_id).await;
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["action"], "manage_users");
    let reasons = denials[0]["reasons"].as_array().unwrap();
    assert!(!reasons.is_empty(), "the real reason is recorded");
    assert!(
        reasons
            .iter()
            .all(|r| !r.as_str().unwrap().starts_with("permitted")),
        "{reasons:?}"
    );
}

async fn a_viewer_creating_a_document_is_an_audited_denial(app: TestApp) {
    let (_, alice, _) = app.user_with_tokens("admin@example.com", "").await;
    let (vic_id, vic, _) = app.user_with_tokens("viewer@example.com", "").await;
    let (org_id, _) = org_with_document(&app, &alice).await;
    let http = reqwest::Client::new();
    http.put(app.url(&format!("/orgs/{org_id}/members/{vic_id}")))
        .bearer_auth(&alice)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();

    let refused = http
        .post(app.url(&format!("/orgs/{org_id}/documents")))
        .bearer_auth(&vic)
        .json(&json!({"title": "Mine", "body": "b"}))
        .send()
        .await
        .unwrap();

    assert_eq!(refused.status(), 403);
    let denials = denials_by(&app, &vic_id).await;
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["action"], "create");
    assert_eq!(
        denials[0]["reasons"],
        json!(["creating documents needs the editor or admin role"])
    );
}
