//! Organizations, documents and sharing through the policy engine.

use clouddocs_testkit::{TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    a_document_lifecycle_follows_the_policy_table_basics,
    a_document_is_shared_and_unshared_by_email,
);

async fn a_document_is_shared_and_unshared_by_email(app: TestApp) {
    let http = reqwest::Client::new();
    let (_, alice, _) = app.user_with_tokens("owner@example.com", "").await;
    let (_, carol, _) = app.user_with_tokens("carol@example.com", "").await;
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
    let doc: Value = http
        .post(app.url(&format!("/orgs/{}/documents", org["id"].as_str().unwrap())))
        .bearer_auth(&alice)
        .json(&json!({"title": "Plan", "body": "b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc_url = app.url(&format!("/documents/{}", doc["id"].as_str().unwrap()));
    let read_as_carol = || async {
        http.get(&doc_url)
            .bearer_auth(&carol)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(read_as_carol().await, 404);

    let shared = http
        .put(format!("{doc_url}/shares/Carol%40Example.com"))
        .bearer_auth(&alice)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    let unknown = http
        .put(format!("{doc_url}/shares/nobody%40example.com"))
        .bearer_auth(&alice)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();

    assert_eq!(shared.status(), 204, "shared by email, in any case");
    assert_eq!(read_as_carol().await, 200);
    assert_eq!(unknown.status(), 404, "an unknown email is a missing user");
    let unshared = http
        .delete(format!("{doc_url}/shares/carol%40example.com"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(unshared.status(), 204);
    assert_eq!(read_as_carol().await, 404);
}

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
