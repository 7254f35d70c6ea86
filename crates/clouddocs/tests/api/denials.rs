//! Every denial is audited the same way, with the real reason: a scope denial names the
//! missing scope and no permitting policy, on every path that can refuse.

use clouddocs_service::DocumentPatch;
use clouddocs_testkit::{Auth, PASSWORD, TestApp, backends};
use reqwest::Method;
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

/// An org and one document of `token`'s; returns `(org_id, doc_id)`
async fn org_with_document(app: &TestApp, token: &str) -> (String, String) {
    let org_id = app.create_org(token, "Acme").await;
    let doc_id = app.create_document(token, &org_id, "Plan").await;
    (org_id, doc_id)
}

/// A `documents:read` access token for `email`
async fn read_only(app: &TestApp, email: &str) -> String {
    app.tokens(email, PASSWORD, "documents:read").await.0
}

async fn a_route_level_scope_denial_is_audited_with_the_missing_scope(app: TestApp) {
    let (alice_id, full, _) = app.user_with_tokens("alice@example.com", "").await;
    let (_, doc_id) = org_with_document(&app, &full).await;
    let read_only = read_only(&app, "alice@example.com").await;

    let path = format!("/documents/{doc_id}");
    let body = json!({"title": "changed"});
    let (refused, body) = app
        .call(Method::PATCH, &path, Auth::Bearer(&read_only), Some(body))
        .await;

    assert_eq!(refused, 403);
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
    let read_only = read_only(&app, "author@example.com").await;
    let principal = app.state.svc.authenticate_bearer(&read_only).await.unwrap();

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
    let added = app.add_member(&alice, &org_id, &bob_id, "editor").await;
    assert!(added.is_success(), "{added}");

    let refused = app.add_member(&bob, &org_id, &carol_id, "viewer").await;

    assert_eq!(refused, 403);
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
    app.add_member(&alice, &org_id, &vic_id, "viewer").await;

    let path = format!("/orgs/{org_id}/documents");
    let body = json!({"title": "Mine", "body": "b"});
    let (refused, _) = app
        .call(Method::POST, &path, Auth::Bearer(&vic), Some(body))
        .await;

    assert_eq!(refused, 403);
    let denials = denials_by(&app, &vic_id).await;
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["action"], "create");
    assert_eq!(
        denials[0]["reasons"],
        json!(["creating documents needs the editor or admin role"])
    );
}
