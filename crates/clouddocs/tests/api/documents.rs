//! Organizations, documents and sharing through the policy engine.

use clouddocs_testkit::{Auth, Items, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    an_orgs_creator_is_its_admin_and_lists_answer_items_and_a_cursor,
    an_outsider_gets_the_same_404_for_a_document_as_for_a_missing_id,
    a_shared_viewer_reads_and_lists_the_document_but_cannot_edit_it,
    authz_check_names_the_policy_that_lets_a_shared_viewer_read,
    a_document_is_shared_and_unshared_by_email,
);

/// An id that never existed
const NEVER: &str = "01900000-0000-7000-8000-000000000000";

/// `GET /documents/{doc}`'s status as `token`
async fn read(app: &TestApp, token: &str, doc: &str) -> StatusCode {
    let path = format!("/documents/{doc}");
    app.call(Method::GET, &path, Auth::Bearer(token), None)
        .await
        .0
}

/// Alice's org "Acme" with her document "Plan", and Bob; returns Alice's token, Bob's id
/// and token, and the document id
async fn alice_bob_and_a_document(app: &TestApp) -> (String, (String, String), String) {
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (bob_id, bob, _) = app.user_with_tokens("bob@example.com", "").await;
    let org = app.create_org(&alice, "Acme").await;
    let doc = app.create_document(&alice, &org, "Plan").await;
    (alice, (bob_id, bob), doc)
}

async fn a_document_is_shared_and_unshared_by_email(app: TestApp) {
    let (_, alice, _) = app.user_with_tokens("owner@example.com", "").await;
    let (carol_id, carol, _) = app.user_with_tokens("carol@example.com", "").await;
    let (dave_id, dave, _) = app.user_with_tokens("dave@example.com", "").await;
    let org = app.create_org(&alice, "Acme").await;
    let doc = app.create_document(&alice, &org, "Plan").await;
    assert_eq!(app.add_member(&alice, &org, &carol_id, "viewer").await, 200);
    assert_eq!(
        read(&app, &carol, &doc).await,
        404,
        "a draft is hidden from viewers"
    );

    let shared = app
        .share(&alice, &doc, "Carol%40Example.com", "viewer")
        .await;
    let outsider_by_email = app
        .share(&alice, &doc, "dave%40example.com", "viewer")
        .await;
    let unknown = app
        .share(&alice, &doc, "nobody%40example.com", "viewer")
        .await;

    assert_eq!(
        shared, 204,
        "an org member is shared with by email, in any case"
    );
    assert_eq!(read(&app, &carol, &doc).await, 200);
    assert_eq!(
        outsider_by_email, 404,
        "an email outside the org answers like an unknown one: sharing is no account oracle"
    );
    assert_eq!(unknown, 404);
    assert_eq!(read(&app, &dave, &doc).await, 404);
    assert_eq!(
        app.share(&alice, &doc, &dave_id, "viewer").await,
        204,
        "outside the org, share by user id"
    );
    assert_eq!(read(&app, &dave, &doc).await, 200);
    let path = format!("/documents/{doc}/shares/carol%40example.com");
    let (unshared, _) = app
        .call(Method::DELETE, &path, Auth::Bearer(&alice), None)
        .await;
    assert_eq!(unshared, 204);
    assert_eq!(read(&app, &carol, &doc).await, 404);
    let dave_path = format!("/documents/{doc}/shares/dave%40example.com");
    let (unshared_outsider, _) = app
        .call(Method::DELETE, &dave_path, Auth::Bearer(&alice), None)
        .await;
    assert_eq!(
        unshared_outsider, 204,
        "a user already shared with is named by email too"
    );
    assert_eq!(read(&app, &dave, &doc).await, 404);
}

async fn an_orgs_creator_is_its_admin_and_lists_answer_items_and_a_cursor(app: TestApp) {
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let body = json!({"name": "Acme"});
    let (status, org) = app
        .call(Method::POST, "/orgs", Auth::Bearer(&alice), Some(body))
        .await;
    assert_eq!(status, 201);
    assert_eq!(org["role"], "admin");
    let org_id = org["id"].as_str().unwrap();

    // Every list answers {items, next_cursor}.
    let items = |list: Value| serde_json::from_value::<Items>(list).unwrap();
    let orgs = items(app.get_json("/orgs", &alice).await);
    let members = items(
        app.get_json(&format!("/orgs/{org_id}/members"), &alice)
            .await,
    );

    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["role"], "admin");
    assert_eq!(members.len(), 1);
    assert!(members.next_cursor.is_none());
}

async fn an_outsider_gets_the_same_404_for_a_document_as_for_a_missing_id(app: TestApp) {
    let (_, (_, bob), doc) = alice_bob_and_a_document(&app).await;

    assert_eq!(read(&app, &bob, &doc).await, 404);
    assert_eq!(read(&app, &bob, NEVER).await, 404);
}

async fn a_shared_viewer_reads_and_lists_the_document_but_cannot_edit_it(app: TestApp) {
    let (alice, (bob_id, bob), doc) = alice_bob_and_a_document(&app).await;

    assert_eq!(app.share(&alice, &doc, &bob_id, "viewer").await, 204);

    assert_eq!(read(&app, &bob, &doc).await, 200);
    let path = format!("/documents/{doc}");
    let body = json!({"title": "x"});
    let (edit, _) = app
        .call(Method::PATCH, &path, Auth::Bearer(&bob), Some(body))
        .await;
    assert_eq!(edit, 403);
    let list = app.get_json("/documents", &bob).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn authz_check_names_the_policy_that_lets_a_shared_viewer_read(app: TestApp) {
    let (alice, (bob_id, bob), doc) = alice_bob_and_a_document(&app).await;
    assert_eq!(app.share(&alice, &doc, &bob_id, "viewer").await, 204);

    let body = json!({"action": "read", "resource": {"type": "Document", "id": doc}});
    let (status, check) = app
        .call(Method::POST, "/authz/check", Auth::Bearer(&bob), Some(body))
        .await;

    assert_eq!(status, 200, "{check}");
    assert_eq!(check["decision"], "allow");
    assert_eq!(check["policies"], json!(["shared-user-reads"]));
}
