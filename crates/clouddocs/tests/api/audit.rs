//! The hash-chained audit log: events recorded with their changes, visibility, tamper
//! detection (HTTP and CLI), and a linear chain under concurrent writers.

use clouddocs_service::audit::Entry;
use clouddocs_testkit::{Backend, PASSWORD, TestApp, backends};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    a_scripted_scenario_leaves_each_expected_event_with_actor_and_outcome,
    org_admins_see_their_orgs_events_and_plain_users_see_none,
    changing_one_row_makes_verification_name_that_event,
    concurrent_writers_leave_a_linear_gapless_verified_chain,
);

async fn events(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let page: Value = reqwest::Client::new()
        .get(app.url(&format!("/audit?limit=100{query}")))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

fn find<'a>(events: &'a [Value], action: &str, outcome: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["action"] == action && e["outcome"] == outcome)
        .collect()
}

async fn a_scripted_scenario_leaves_each_expected_event_with_actor_and_outcome(app: TestApp) {
    let http = reqwest::Client::new();
    let admin = app.admin_token("auditor@example.com").await;
    let (alice_id, alice, refresh) = app.user_with_tokens("alice@example.com", "").await;
    let (bob_id, bob, _) = app.user_with_tokens("bob@example.com", "").await;
    // A failed login, a refresh, a reuse.
    assert_eq!(
        app.login(&app.browser(), "alice@example.com", "wrong-password-123")
            .await
            .status(),
        401
    );
    let rotated: Value = app.refresh(&refresh).await.json().await.unwrap();
    assert!(rotated["refresh_token"].is_string());
    assert_eq!(app.refresh(&refresh).await.status(), 400);
    // An org, a document, a share, a denied edit, a policy change, an API key.
    // The reuse revoked Alice's first login, access token included; she signs in again.
    assert_eq!(app.me_with_bearer(&alice).await.status(), 401);
    let alice2 = {
        let r: Value = app
            .password_grant("alice@example.com", PASSWORD, "")
            .await
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_owned()
    };
    let org: Value = http
        .post(app.url("/orgs"))
        .bearer_auth(&alice2)
        .json(&json!({"name": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org_id = org["id"].as_str().unwrap();
    let doc: Value = http
        .post(app.url(&format!("/orgs/{org_id}/documents")))
        .bearer_auth(&alice2)
        .json(&json!({"title": "Plan", "body": "b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let doc_id = doc["id"].as_str().unwrap();
    let shared = http
        .put(app.url(&format!("/documents/{doc_id}/shares/{bob_id}")))
        .bearer_auth(&alice2)
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(shared.status(), 204);
    let denied = http
        .patch(app.url(&format!("/documents/{doc_id}")))
        .bearer_auth(&bob)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    let key = http
        .post(app.url("/me/api-keys"))
        .bearer_auth(&alice2)
        .json(&json!({"name": "k", "scopes": ["profile"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 201);
    let key_text = key.text().await.unwrap();
    let policies: Value = http
        .get(app.url("/admin/policies"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let put = http
        .put(app.url("/admin/policies"))
        .bearer_auth(&admin)
        .json(&policies)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);

    let all = events(&app, &admin, "").await;
    let text = serde_json::to_string(&all).unwrap();
    let secret = serde_json::from_str::<Value>(&key_text).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!text.contains(&secret), "no API key in the audit log");
    assert!(
        !text.contains(PASSWORD) && !text.contains("wrong-password-123"),
        "no password in the audit log"
    );
    assert!(
        !text.contains(refresh.as_str()),
        "no refresh token in the audit log"
    );

    assert!(
        find(&all, "user.register", "success")
            .iter()
            .any(|e| e["actor"] == alice_id.as_str())
    );
    let failed = find(&all, "auth.login", "failure");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["target"], format!("user:{alice_id}"));
    assert!(failed[0]["ip"].as_str().unwrap().starts_with("127.0.0.1"));
    assert!(failed[0]["request_id"].is_string());
    assert!(
        find(&all, "token.issue", "success")
            .iter()
            .any(|e| e["actor"] == alice_id.as_str())
    );
    assert_eq!(find(&all, "token.refresh", "success").len(), 1);
    let reuse = find(&all, "token.reuse", "failure");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0]["actor"], alice_id.as_str());
    assert_eq!(
        find(&all, "org.create", "success")[0]["actor"],
        alice_id.as_str()
    );
    let created = find(&all, "document.create", "success");
    assert_eq!(created[0]["target"], format!("document:{doc_id}"));
    assert_eq!(
        find(&all, "document.share", "success")[0]["detail"]["user"],
        bob_id.as_str()
    );
    let denial = find(&all, "permission.denied", "denied");
    assert_eq!(denial.len(), 1);
    assert_eq!(denial[0]["actor"], bob_id.as_str());
    assert_eq!(denial[0]["detail"]["action"], "document.update");
    assert_eq!(
        find(&all, "api_key.create", "success")[0]["actor"],
        alice_id.as_str()
    );
    assert_eq!(find(&all, "policy.update", "success").len(), 1);

    // Filters.
    let only_bob = events(&app, &admin, &format!("&actor={bob_id}")).await;
    assert!(!only_bob.is_empty() && only_bob.iter().all(|e| e["actor"] == bob_id.as_str()));
    let only_denials = events(&app, &admin, "&action=permission.denied").await;
    assert_eq!(only_denials.len(), 1);
    let by_target = events(&app, &admin, &format!("&target=document:{doc_id}")).await;
    assert!(by_target.len() >= 3);
    let future = events(&app, &admin, "&from=99999999999999").await;
    assert!(future.is_empty());
    // Newest first, each linked to the one before.
    for pair in all.windows(2) {
        assert_eq!(
            pair[0]["seq"].as_i64().unwrap(),
            pair[1]["seq"].as_i64().unwrap() + 1
        );
        assert_eq!(pair[0]["prev_hash"], pair[1]["hash"]);
    }
    let verify: Value = http
        .get(app.url("/audit/verify"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");
}

async fn org_admins_see_their_orgs_events_and_plain_users_see_none(app: TestApp) {
    let http = reqwest::Client::new();
    let (_, alice, _) = app.user_with_tokens("orgadmin@example.com", "").await;
    let (_, carol, _) = app.user_with_tokens("other@example.com", "").await;
    let (_, dave, _) = app.user_with_tokens("plain@example.com", "").await;
    let a: Value = http
        .post(app.url("/orgs"))
        .bearer_auth(&alice)
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b: Value = http
        .post(app.url("/orgs"))
        .bearer_auth(&carol)
        .json(&json!({"name": "B"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (token, org) in [(&alice, &a), (&carol, &b)] {
        let r = http
            .post(app.url(&format!("/orgs/{}/documents", org["id"].as_str().unwrap())))
            .bearer_auth(token)
            .json(&json!({"title": "t", "body": "b"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let seen = events(&app, &alice, "").await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|e| e["action"] != "user.register"),
        "platform events stay hidden"
    );
    let a_id = a["id"].as_str().unwrap();
    assert!(
        seen.iter()
            .all(|e| e["target"].as_str().unwrap().contains(a_id)
                || e["action"] == "document.create")
    );
    let other_org = events(&app, &alice, &format!("&org={}", b["id"].as_str().unwrap())).await;
    assert!(
        other_org.is_empty(),
        "an org admin cannot read another org's events"
    );
    let r = http
        .get(app.url("/audit"))
        .bearer_auth(&dave)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(app.url("/audit/verify"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

async fn changing_one_row_makes_verification_name_that_event(app: TestApp) {
    let admin = app.admin_token("verifier@example.com").await;
    for i in 0..5 {
        app.user_with_tokens(&format!("u{i}@example.com"), "").await;
    }
    let http = reqwest::Client::new();
    let before: Value = http
        .get(app.url("/audit/verify"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before["ok"], true);
    let count = before["count"].as_i64().unwrap();
    assert!(count >= 10);
    let victim = count / 2;
    sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = $1")
        .bind(victim)
        .execute(app.state.svc.db().pool())
        .await
        .unwrap();
    let after: Value = http
        .get(app.url("/audit/verify"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["ok"], false);
    assert_eq!(after["broken_seq"], victim, "{after}");
    assert!(
        after["error"]
            .as_str()
            .unwrap()
            .contains(&victim.to_string())
    );

    // The CLI names the same event, from the database alone.
    if app.backend == Backend::Sqlite {
        let url = app.state.svc.db().url().to_owned();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_clouddocs"))
            .args(["--dev", "--database-url", &url, "audit", "verify"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("broken at event {victim}")),
            "{stderr}"
        );
    }

    // Deleting the newest event is caught too (the head remembers it).
    sqlx::query("UPDATE audit_events SET actor = NULL WHERE seq = $1")
        .bind(victim)
        .execute(app.state.svc.db().pool())
        .await
        .unwrap();
    let _ = sqlx::query("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
        .execute(app.state.svc.db().pool())
        .await
        .unwrap();
    let truncated: Value = http
        .get(app.url("/audit/verify"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(truncated["ok"], false);
}

async fn concurrent_writers_leave_a_linear_gapless_verified_chain(app: TestApp) {
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let svc = app.state.svc.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..200 {
                svc.audit(
                    Entry::success("test.event")
                        .actor(format!("writer-{writer}"))
                        .target(format!("item:{i}")),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = app.state.svc.verify_audit_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.count, 1600);
    let (max, count): (i64, i64) = sqlx::query_as("SELECT MAX(seq), COUNT(*) FROM audit_events")
        .fetch_one(app.state.svc.db().pool())
        .await
        .unwrap();
    assert_eq!((max, count), (1600, 1600), "gapless");
}
