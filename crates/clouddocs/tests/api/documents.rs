//! Organizations, documents and sharing through the policy engine.

use clouddocs_testkit::{TestApp, both_backends};
use serde_json::{Value, json};

both_backends!(a_document_lifecycle_follows_the_policy_table_basics);

async fn a_document_lifecycle_follows_the_policy_table_basics(app: TestApp) {
    let http = reqwest::Client::new();
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (bob_id, bob, _) = app.user_with_tokens("bob@example.com", "").await;
    let org: Value = http
        .post(app.url("/orgs"))
        .bearer_auth(&alice)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(org["role"], "admin");
    let org_id = org["id"].as_str().unwrap();
    // Every list answers {items, next_cursor}.
    let orgs: clouddocs_testkit::Items = http
        .get(app.url("/orgs"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["role"], "admin");
    let members: clouddocs_testkit::Items = http
        .get(app.url(&format!("/orgs/{org_id}/members")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert!(members.next_cursor.is_none());
    let created = http
        .post(app.url(&format!("/orgs/{org_id}/documents")))
        .bearer_auth(&alice)
        .json(&json!({"title": "Plan", "body": "secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let doc: Value = created.json().await.unwrap();
    let doc_id = doc["id"].as_str().unwrap();
    let outsider = http
        .get(app.url(&format!("/documents/{doc_id}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), 404);
    let missing = http
        .get(app.url("/documents/01900000-0000-7000-8000-000000000000"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let share = http
        .put(app.url(&format!("/documents/{doc_id}/shares/{bob_id}")))
        .bearer_auth(&alice)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), 204);
    assert_eq!(
        http.get(app.url(&format!("/documents/{doc_id}")))
            .bearer_auth(&bob)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let edit = http
        .patch(app.url(&format!("/documents/{doc_id}")))
        .bearer_auth(&bob)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 403);
    let list: Value = http
        .get(app.url("/documents"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let check: Value = http
        .post(app.url("/authz/check"))
        .bearer_auth(&bob)
        .json(&json!({"action": "read", "resource": {"type": "Document", "id": doc_id}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["decision"], "allow");
    assert_eq!(check["policies"], json!(["shared-user-reads"]));
}
