//! Broken object-level authorization and mass assignment: an outsider probing another org's
//! document ids learns nothing, and the server never takes ownership fields from a body.

use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    an_outsider_probing_another_orgs_ids_gets_the_missing_id_answer_byte_for_byte,
    another_orgs_listing_shows_an_outsider_nothing,
    a_create_with_ownership_fields_is_rejected_and_stores_nothing,
    a_patch_with_ownership_fields_is_rejected_and_changes_nothing,
);

/// An id that never existed
const NEVER: &str = "01900000-0000-7000-8000-000000000000";

async fn document_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents")
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    n
}

#[derive(Debug, Clone, Copy)]
enum Probe {
    Get,
    Patch,
    Delete,
    Share,
}

/// Sends one probe; returns (status, content type, body bytes)
async fn probe(
    app: &TestApp,
    token: &str,
    kind: Probe,
    id: &str,
    share_with: &str,
) -> (u16, String, Vec<u8>) {
    let http = reqwest::Client::new();
    let url = app.url(&format!("/documents/{id}"));
    let request = match kind {
        Probe::Get => http.get(url),
        Probe::Patch => http
            .patch(url)
            .json(&json!({"title": "pwned", "published": true})),
        Probe::Delete => http.delete(url),
        Probe::Share => http
            .put(app.url(&format!("/documents/{id}/shares/{share_with}")))
            .json(&json!({"role": "editor"})),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// `GET /documents/{id}` as `token`
async fn get_document(app: &TestApp, token: &str, id: &str) -> (StatusCode, Value) {
    let path = format!("/documents/{id}");
    app.call(Method::GET, &path, Auth::Bearer(token), None)
        .await
}

/// Alice's "Org A" with 100 documents, half of them published, and Mallory, the admin of
/// "Org B"; returns Alice's token, Mallory's id and token, Org A's id and the document ids
async fn alice_secrets_and_mallory(
    app: &TestApp,
) -> (String, (String, String), String, Vec<String>) {
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (mallory_id, mallory, _) = app.user_with_tokens("mallory@example.com", "").await;
    let org_a = app.create_org(&alice, "Org A").await;
    let _org_b = app.create_org(&mallory, "Org B").await;
    let mut ids = Vec::new();
    for i in 0..100 {
        let body =
            json!({"title": format!("Secret {i}"), "body": "classified", "published": i % 2 == 0});
        let path = format!("/orgs/{org_a}/documents");
        let (status, doc) = app
            .call(Method::POST, &path, Auth::Bearer(&alice), Some(body))
            .await;
        assert_eq!(status, 201);
        ids.push(doc["id"].as_str().unwrap().to_owned());
    }
    (alice, (mallory_id, mallory), org_a, ids)
}

async fn an_outsider_probing_another_orgs_ids_gets_the_missing_id_answer_byte_for_byte(
    app: TestApp,
) {
    let (alice, (mallory_id, mallory), _, ids) = alice_secrets_and_mallory(&app).await;

    for kind in [Probe::Get, Probe::Patch, Probe::Delete, Probe::Share] {
        let reference = probe(&app, &mallory, kind, NEVER, &mallory_id).await;
        assert_eq!(reference.0, 404, "{kind:?} on a never-existing id");
        let text = String::from_utf8(reference.2.clone()).unwrap();
        assert!(
            !text.contains(NEVER),
            "the problem body names the id: {text}"
        );
        for id in &ids {
            let answer = probe(&app, &mallory, kind, id, &mallory_id).await;
            assert_eq!(
                answer.0,
                404,
                "{kind:?} {id}: {}",
                String::from_utf8_lossy(&answer.2)
            );
            assert_eq!(
                answer.1, reference.1,
                "{kind:?} {id}: content type differs from a missing id's"
            );
            assert_eq!(
                answer.2,
                reference.2,
                "{kind:?} {id}: body differs from a missing id's: {} vs {}",
                String::from_utf8_lossy(&answer.2),
                text
            );
        }
    }

    // Nothing changed: every document is still there, unshared and untouched.
    assert_eq!(document_count(&app).await, 100);
    for id in &ids {
        let (_, doc) = get_document(&app, &alice, id).await;
        assert_ne!(doc["title"], "pwned");
        assert_eq!(get_document(&app, &mallory, id).await.0, 404);
    }
}

async fn another_orgs_listing_shows_an_outsider_nothing(app: TestApp) {
    let (_, (_, mallory), org_a, _) = alice_secrets_and_mallory(&app).await;

    // The listing of org A shows the outsider nothing, and neither does the unfiltered one.
    for query in [
        format!("?org={org_a}"),
        format!("?org={org_a}&published=true"),
        String::new(),
    ] {
        let page = app.get_json(&format!("/documents{query}"), &mallory).await;
        assert_eq!(page["items"], json!([]), "{query:?}");
        assert_eq!(page["next_cursor"], Value::Null, "{query:?}");
    }
}

/// Alice's "Org A" and Mallory's "Org B"; returns `(alice_id, alice, mallory_id, mallory,
/// org_a, org_b)`
async fn two_orgs(app: &TestApp) -> [String; 6] {
    let (alice_id, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (mallory_id, mallory, _) = app.user_with_tokens("mallory@example.com", "").await;
    let org_a = app.create_org(&alice, "Org A").await;
    let org_b = app.create_org(&mallory, "Org B").await;
    [alice_id, alice, mallory_id, mallory, org_a, org_b]
}

async fn a_create_with_ownership_fields_is_rejected_and_stores_nothing(app: TestApp) {
    let [alice_id, alice, _, mallory, org_a, org_b] = two_orgs(&app).await;

    // Mallory, an admin of her own org, tries to plant documents with forged ownership.
    let forged = [
        ("author_id", json!(alice_id)),
        ("org_id", json!(org_a)),
        ("id", json!(NEVER)),
        ("created_at", json!(0)),
    ];
    let mut attempts: Vec<Value> = forged
        .iter()
        .map(|(field, value)| {
            let mut body = json!({"title": "Forged", "body": "x"});
            body[*field] = value.clone();
            body
        })
        .collect();
    attempts.push(json!({"title": "Forged", "body": "x", "author_id": alice_id, "org_id": org_a, "id": NEVER, "created_at": 0}));
    let path = format!("/orgs/{org_b}/documents");
    for body in attempts {
        let (status, _) = app
            .call(
                Method::POST,
                &path,
                Auth::Bearer(&mallory),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }

    assert_eq!(
        document_count(&app).await,
        0,
        "a rejected create stored something"
    );
    assert_eq!(get_document(&app, &alice, NEVER).await.0, 404);
}

async fn a_patch_with_ownership_fields_is_rejected_and_changes_nothing(app: TestApp) {
    let [alice_id, alice, mallory_id, mallory, org_a, org_b] = two_orgs(&app).await;
    let path = format!("/orgs/{org_b}/documents");
    let body = json!({"title": "Mine", "body": "b"});
    let (status, before) = app
        .call(Method::POST, &path, Auth::Bearer(&mallory), Some(body))
        .await;
    assert_eq!(status, 201);
    let doc_id = before["id"].as_str().unwrap();
    assert_eq!(before["author_id"], mallory_id);
    assert_eq!(before["org_id"], org_b);

    let path = format!("/documents/{doc_id}");
    for body in [
        json!({"author_id": alice_id}),
        json!({"org_id": org_a}),
        json!({"title": "Moved", "author_id": alice_id, "org_id": org_a}),
    ] {
        let (status, _) = app
            .call(
                Method::PATCH,
                &path,
                Auth::Bearer(&mallory),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }

    let (_, after) = get_document(&app, &mallory, doc_id).await;
    assert_eq!(after, before, "a rejected PATCH changed the document");
    assert_eq!(get_document(&app, &alice, doc_id).await.0, 404);
    assert_eq!(document_count(&app).await, 1);
}
