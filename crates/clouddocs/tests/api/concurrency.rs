//! Ordinary concurrency is not an outage: parallel writers wait for each other.

use std::time::{Duration, Instant};

use clouddocs_testkit::{TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    sixteen_parallel_clients_create_and_share_without_a_failure,
    a_database_outage_answers_503_with_retry_after,
);

/// 16 members of one org each create documents and share them with the next member, in
/// parallel, for a few seconds (at most 30 rounds each): every request succeeds. On SQLite
/// a transaction that reads and then writes must begin `IMMEDIATE`, or the lock upgrade
/// fails at once with "database is locked" instead of waiting for `busy_timeout`.
async fn sixteen_parallel_clients_create_and_share_without_a_failure(app: TestApp) {
    const CLIENTS: usize = 16;
    const ROUNDS: usize = 30;
    let http = reqwest::Client::new();
    let mut users = Vec::new();
    for i in 0..CLIENTS {
        users.push(
            app.user_with_tokens(&format!("writer{i}@example.com"), "")
                .await,
        );
    }
    let org_id = app.create_org(&users[0].1, "Busy").await;
    for (id, _, _) in users.iter().skip(1) {
        let added = app.add_member(&users[0].1, &org_id, id, "editor").await;
        assert!(added.is_success(), "adding a member");
    }
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let token = users[i].1.clone();
        let next = users[(i + 1) % CLIENTS].0.clone();
        let create = app.url(&format!("/orgs/{org_id}/documents"));
        let base = app.base.clone();
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failures) = (0_usize, Vec::new());
            for round in 0..ROUNDS {
                if Instant::now() > deadline {
                    break;
                }
                let created = http
                    .post(&create)
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("doc {i}-{round}"), "body": "text"}))
                    .send()
                    .await
                    .unwrap();
                if created.status() != 201 {
                    failures.push(format!("create: {}", created.status()));
                    continue;
                }
                let doc: Value = created.json().await.unwrap();
                let doc_id = doc["id"].as_str().unwrap();
                let shared = http
                    .put(format!("{base}/documents/{doc_id}/shares/{next}"))
                    .bearer_auth(&token)
                    .json(&json!({"role": "viewer"}))
                    .send()
                    .await
                    .unwrap();
                if shared.status() == 204 {
                    ok += 1;
                } else {
                    failures.push(format!("share: {}", shared.status()));
                }
            }
            (ok, failures)
        }));
    }
    let (mut ok, mut failures) = (0, Vec::new());
    for task in tasks {
        let (o, f) = task.await.unwrap();
        ok += o;
        failures.extend(f);
    }
    assert!(ok >= CLIENTS, "too few rounds completed: {ok}");
    assert!(
        failures.is_empty(),
        "{} of {} rounds failed: {:?}",
        failures.len(),
        ok + failures.len(),
        &failures[..failures.len().min(10)]
    );
}

/// A real outage (the pool is closed under the server) is a 503 with `Retry-After`, on the
/// problem endpoints and on `/oauth/token` (RFC 6749 `temporarily_unavailable`)
async fn a_database_outage_answers_503_with_retry_after(app: TestApp) {
    let (_, token, _) = app.user_with_tokens("outage@example.com", "").await;
    app.state.svc.db().close().await;

    let created = reqwest::Client::new()
        .post(app.url("/orgs"))
        .bearer_auth(&token)
        .json(&json!({"name": "Down"}))
        .send()
        .await
        .unwrap();
    let grant = app
        .password_grant("outage@example.com", clouddocs_testkit::PASSWORD, "")
        .await;

    assert_eq!(created.status(), 503);
    assert_eq!(
        created.headers()["content-type"],
        "application/problem+json"
    );
    assert!(created.headers().contains_key("retry-after"), "problem 503");
    assert_eq!(grant.status(), 503);
    assert!(grant.headers().contains_key("retry-after"), "token 503");
    let body: Value = grant.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
}
