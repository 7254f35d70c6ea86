//! Races as tests, with real parallel HTTP on both backends: a refresh token presented
//! fifty times at once yields one new pair and revokes its family; a membership removed
//! while its documents are being read is never read from after the removal answered.

use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::Method;
use serde_json::Value;

backends!(
    [sqlite, postgres],
    fifty_parallel_presentations_of_one_refresh_token_yield_one_pair_and_revoke_the_family,
    no_document_is_read_after_the_readers_membership_removal_answered,
);

async fn fifty_parallel_presentations_of_one_refresh_token_yield_one_pair_and_revoke_the_family(
    app: TestApp,
) {
    let (_, access, refresh) = app.user_with_tokens("racer@example.com", "").await;
    let http = reqwest::Client::new();

    let mut presentations = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (http, url, refresh) = (http.clone(), app.url("/oauth/token"), refresh.clone());
        presentations.spawn(async move {
            let response = http
                .post(url)
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        });
    }
    let answers = presentations.join_all().await;

    let pairs: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(pairs.len(), 1, "exactly one presentation rotates the token");
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 || body["error"] == "invalid_grant")
    );
    let winner = pairs[0]["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.refresh(winner).await.status(),
        400,
        "the reuse revoked the family, the winner's new token with it"
    );
    assert_eq!(app.me_with_bearer(&access).await.status(), 401);
    let new_access = pairs[0]["access_token"].as_str().unwrap();
    assert_eq!(app.me_with_bearer(new_access).await.status(), 401);
}

async fn no_document_is_read_after_the_readers_membership_removal_answered(app: TestApp) {
    let (_, admin, _) = app.user_with_tokens("org-admin@example.com", "").await;
    let (reader_id, reader, _) = app.user_with_tokens("reader@example.com", "").await;
    let org = app.create_org(&admin, "Acme").await;
    let doc = app.create_document(&admin, &org, "Plan").await;
    assert_eq!(
        app.add_member(&admin, &org, &reader_id, "editor").await,
        200
    );
    let path = format!("/documents/{doc}");
    let (status, _) = app
        .call(Method::GET, &path, Auth::Bearer(&reader), None)
        .await;
    assert_eq!(status, 200, "an editor reads the document");
    let http = reqwest::Client::new();

    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (http, url, reader) = (http.clone(), app.url(&path), reader.clone());
        reads.spawn(async move {
            let sent = std::time::Instant::now();
            let status = http
                .get(url)
                .bearer_auth(&reader)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            (sent, status)
        });
    }
    let removal = app
        .call(
            Method::DELETE,
            &format!("/orgs/{org}/members/{reader_id}"),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    let removed_at = std::time::Instant::now();
    assert_eq!(removal.0, 204);
    let mut after = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (http, url, reader) = (http.clone(), app.url(&path), reader.clone());
        after.spawn(async move {
            let status = http
                .get(url)
                .bearer_auth(&reader)
                .send()
                .await
                .unwrap()
                .status();
            (std::time::Instant::now(), status.as_u16())
        });
    }
    let during = reads.join_all().await;
    let afterwards = after.join_all().await;

    assert!(during.iter().all(|(_, s)| *s == 200 || *s == 404));
    assert!(
        during
            .iter()
            .filter(|(sent, _)| *sent > removed_at)
            .all(|(_, s)| *s == 404),
        "a read sent after the removal answered is refused"
    );
    assert!(
        afterwards.iter().all(|(_, s)| *s == 404),
        "every read after the removal is the same 404 as a missing document"
    );
}
