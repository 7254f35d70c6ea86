//! Broken object-level authorization and mass assignment: an outsider probing another org's
//! document ids learns nothing, and the server never takes ownership fields from a body.

use clouddocs_testkit::{TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    an_outsider_probing_another_orgs_ids_gets_the_missing_id_answer_byte_for_byte,
    extra_ownership_fields_are_rejected_and_change_nothing
);

/// An id that never existed
const NEVER: &str = "01900000-0000-7000-8000-000000000000";

async fn create_org(app: &TestApp, token: &str, name: &str) -> String {
    let response = reqwest::Client::new()
        .post(app.url("/orgs"))
        .bearer_auth(token)
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

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

async fn an_outsider_probing_another_orgs_ids_gets_the_missing_id_answer_byte_for_byte(
    app: TestApp,
) {
    let http = reqwest::Client::new();
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (mallory_id, mallory, _) = app.user_with_tokens("mallory@example.com", "").await;
    let org_a = create_org(&app, &alice, "Org A").await;
    let _org_b = create_org(&app, &mallory, "Org B").await;

    let mut ids = Vec::new();
    for i in 0..100 {
        let response = http
            .post(app.url(&format!("/orgs/{org_a}/documents")))
            .bearer_auth(&alice)
            .json(&json!({"title": format!("Secret {i}"), "body": "classified", "published": i % 2 == 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        ids.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

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
        let doc: Value = http
            .get(app.url(&format!("/documents/{id}")))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(doc["title"], "pwned");
        assert_eq!(
            http.get(app.url(&format!("/documents/{id}")))
                .bearer_auth(&mallory)
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
    }

    // The listing of org A shows the outsider nothing, and neither does the unfiltered one.
    for query in [
        vec![("org", org_a.as_str())],
        vec![("org", org_a.as_str()), ("published", "true")],
        vec![],
    ] {
        let page: Value = http
            .get(app.url("/documents"))
            .query(&query)
            .bearer_auth(&mallory)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"], json!([]), "{query:?}");
        assert_eq!(page["next_cursor"], Value::Null, "{query:?}");
    }
}

async fn extra_ownership_fields_are_rejected_and_change_nothing(app: TestApp) {
    let http = reqwest::Client::new();
    let (alice_id, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (mallory_id, mallory, _) = app.user_with_tokens("mallory@example.com", "").await;
    let org_a = create_org(&app, &alice, "Org A").await;
    let org_b = create_org(&app, &mallory, "Org B").await;

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
    for body in &attempts {
        let response = http
            .post(app.url(&format!("/orgs/{org_b}/documents")))
            .bearer_auth(&mallory)
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
    }
    assert_eq!(
        document_count(&app).await,
        0,
        "a rejected create stored something"
    );
    assert_eq!(
        http.get(app.url(&format!("/documents/{NEVER}")))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // PATCH with ownership fields: 422 and the document is unchanged.
    let created = http
        .post(app.url(&format!("/orgs/{org_b}/documents")))
        .bearer_auth(&mallory)
        .json(&json!({"title": "Mine", "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let before: Value = created.json().await.unwrap();
    let doc_id = before["id"].as_str().unwrap();
    assert_eq!(before["author_id"], mallory_id);
    assert_eq!(before["org_id"], org_b);
    for body in [
        json!({"author_id": alice_id}),
        json!({"org_id": org_a}),
        json!({"title": "Moved", "author_id": alice_id, "org_id": org_a}),
    ] {
        let response = http
            .patch(app.url(&format!("/documents/{doc_id}")))
            .bearer_auth(&mallory)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
    }
    let after: Value = http
        .get(app.url(&format!("/documents/{doc_id}")))
        .bearer_auth(&mallory)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after, before, "a rejected PATCH changed the document");
    assert_eq!(
        http.get(app.url(&format!("/documents/{doc_id}")))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(document_count(&app).await, 1);
}
