//! The hash-chained audit log: events recorded with their changes, visibility, tamper
//! detection (HTTP and CLI), and a linear chain under concurrent writers.

use clouddocs_service::audit::Entry;
use clouddocs_testkit::{Auth, Backend, PASSWORD, TestApp, backends};
use reqwest::Method;
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    a_scripted_scenario_leaves_no_secret_in_the_audit_log,
    a_failed_login_is_audited_against_its_user_with_address_and_request_id,
    registration_issue_refresh_and_reuse_are_audited_with_their_actor,
    a_scripted_scenario_leaves_each_expected_event_with_actor_and_outcome,
    the_audit_log_filters_by_actor_action_target_and_time,
    the_audit_log_is_newest_first_hash_linked_and_verified,
    org_admins_see_their_orgs_events_and_not_another_orgs,
    plain_users_and_org_admins_may_not_read_the_whole_log_or_verify_it,
    changing_one_row_makes_verification_name_that_event,
    deleting_the_newest_event_makes_verification_fail,
    concurrent_writers_leave_a_linear_gapless_verified_chain,
);

/// The wrong password of the failed login in the scripted scenario
const WRONG_PASSWORD: &str = "wrong-password-123";

async fn events(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let page = app
        .get_json(&format!("/audit?limit=100{query}"), admin)
        .await;
    page["items"].as_array().unwrap().clone()
}

fn find<'a>(events: &'a [Value], action: &str, outcome: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["action"] == action && e["outcome"] == outcome)
        .collect()
}

/// What the scripted scenario did, and the audit log it left (newest first)
struct Script {
    admin: String,
    alice_id: String,
    bob_id: String,
    doc_id: String,
    refresh: String,
    api_key: String,
    events: Vec<Value>,
}

/// A failed login, a refresh, a refresh-token reuse, an org, a document, a share, a denied
/// edit, an API key and a policy change, by Alice and Bob
async fn scripted(app: &TestApp) -> Script {
    let admin = app.admin_token("auditor@example.com").await;
    let (alice_id, alice, refresh) = app.user_with_tokens("alice@example.com", "").await;
    let (bob_id, bob, _) = app.user_with_tokens("bob@example.com", "").await;
    // A failed login, a refresh, a reuse.
    assert_eq!(
        app.login(&app.browser(), "alice@example.com", WRONG_PASSWORD)
            .await
            .status(),
        401
    );
    let rotated: Value = app.refresh(&refresh).await.json().await.unwrap();
    assert!(rotated["refresh_token"].is_string());
    assert_eq!(app.refresh(&refresh).await.status(), 400);
    // The reuse revoked Alice's first login, access token included; she signs in again.
    assert_eq!(app.me_with_bearer(&alice).await.status(), 401);
    let (alice, _) = app.tokens("alice@example.com", PASSWORD, "").await;
    // An org, a document, a share, a denied edit, an API key, a policy change.
    let org_id = app.create_org(&alice, "Acme").await;
    let doc_id = app.create_document(&alice, &org_id, "Plan").await;
    assert_eq!(app.share(&alice, &doc_id, &bob_id, "viewer").await, 204);
    let path = format!("/documents/{doc_id}");
    let body = json!({"title": "x"});
    let (denied, _) = app
        .call(Method::PATCH, &path, Auth::Bearer(&bob), Some(body))
        .await;
    assert_eq!(denied, 403);
    let (_, api_key) = app.api_key(&alice, "k", &["profile"]).await;
    let policies = app.get_json("/admin/policies", &admin).await;
    let (put, _) = app
        .call(
            Method::PUT,
            "/admin/policies",
            Auth::Bearer(&admin),
            Some(policies),
        )
        .await;
    assert_eq!(put, 200);
    let events = events(app, &admin, "").await;
    Script {
        admin,
        alice_id,
        bob_id,
        doc_id,
        refresh,
        api_key,
        events,
    }
}

async fn a_scripted_scenario_leaves_no_secret_in_the_audit_log(app: TestApp) {
    let script = scripted(&app).await;

    let text = serde_json::to_string(&script.events).unwrap();

    assert!(
        !text.contains(&script.api_key),
        "no API key in the audit log"
    );
    assert!(
        !text.contains(PASSWORD) && !text.contains(WRONG_PASSWORD),
        "no password in the audit log"
    );
    assert!(
        !text.contains(script.refresh.as_str()),
        "no refresh token in the audit log"
    );
}

async fn a_failed_login_is_audited_against_its_user_with_address_and_request_id(app: TestApp) {
    let Script {
        alice_id, events, ..
    } = scripted(&app).await;

    let failed = find(&events, "auth.login", "failure");

    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["target"], format!("user:{alice_id}"));
    assert!(failed[0]["ip"].as_str().unwrap().starts_with("127.0.0.1"));
    assert!(failed[0]["request_id"].is_string());
}

async fn registration_issue_refresh_and_reuse_are_audited_with_their_actor(app: TestApp) {
    let Script {
        alice_id, events, ..
    } = scripted(&app).await;
    let by_alice = |action: &str| {
        find(&events, action, "success")
            .iter()
            .any(|e| e["actor"] == alice_id.as_str())
    };

    assert!(by_alice("user.register"));
    assert!(by_alice("token.issue"));
    assert_eq!(find(&events, "token.refresh", "success").len(), 1);
    let reuse = find(&events, "token.reuse", "failure");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0]["actor"], alice_id.as_str());
}

async fn a_scripted_scenario_leaves_each_expected_event_with_actor_and_outcome(app: TestApp) {
    let Script {
        alice_id,
        bob_id,
        doc_id,
        events,
        ..
    } = scripted(&app).await;
    let first = |action: &str| find(&events, action, "success")[0].clone();

    assert_eq!(first("org.create")["actor"], alice_id.as_str());
    assert_eq!(
        first("document.create")["target"],
        format!("document:{doc_id}")
    );
    assert_eq!(first("document.share")["detail"]["user"], bob_id.as_str());
    let denial = find(&events, "permission.denied", "denied");
    assert_eq!(denial.len(), 1);
    assert_eq!(denial[0]["actor"], bob_id.as_str());
    assert_eq!(denial[0]["detail"]["action"], "document.update");
    assert_eq!(first("api_key.create")["actor"], alice_id.as_str());
    assert_eq!(find(&events, "policy.update", "success").len(), 1);
}

async fn the_audit_log_filters_by_actor_action_target_and_time(app: TestApp) {
    let Script {
        admin,
        bob_id,
        doc_id,
        ..
    } = scripted(&app).await;

    let only_bob = events(&app, &admin, &format!("&actor={bob_id}")).await;
    let only_denials = events(&app, &admin, "&action=permission.denied").await;
    let by_target = events(&app, &admin, &format!("&target=document:{doc_id}")).await;
    let future = events(&app, &admin, "&from=99999999999999").await;

    assert!(!only_bob.is_empty() && only_bob.iter().all(|e| e["actor"] == bob_id.as_str()));
    assert_eq!(only_denials.len(), 1);
    assert!(by_target.len() >= 3);
    assert!(future.is_empty());
}

async fn the_audit_log_is_newest_first_hash_linked_and_verified(app: TestApp) {
    let Script { admin, events, .. } = scripted(&app).await;

    // Newest first, each linked to the one before.
    for pair in events.windows(2) {
        assert_eq!(
            pair[0]["seq"].as_i64().unwrap(),
            pair[1]["seq"].as_i64().unwrap() + 1
        );
        assert_eq!(pair[0]["prev_hash"], pair[1]["hash"]);
    }
    let verify = app.audit_verify(&admin).await;
    assert_eq!(verify["ok"], true, "{verify}");
}

/// Alice and Carol, each the admin of an org with one document; Dave, in no org. Returns
/// the three tokens and the two org ids.
async fn two_orgs(app: &TestApp) -> ([String; 3], [String; 2]) {
    let (_, alice, _) = app.user_with_tokens("orgadmin@example.com", "").await;
    let (_, carol, _) = app.user_with_tokens("other@example.com", "").await;
    let (_, dave, _) = app.user_with_tokens("plain@example.com", "").await;
    let a = app.create_org(&alice, "A").await;
    let b = app.create_org(&carol, "B").await;
    for (token, org) in [(&alice, &a), (&carol, &b)] {
        app.create_document(token, org, "t").await;
    }
    ([alice, carol, dave], [a, b])
}

async fn org_admins_see_their_orgs_events_and_not_another_orgs(app: TestApp) {
    let ([alice, ..], [a_id, b_id]) = two_orgs(&app).await;

    let seen = events(&app, &alice, "").await;
    let other_org = events(&app, &alice, &format!("&org={b_id}")).await;

    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|e| e["action"] != "user.register"),
        "platform events stay hidden"
    );
    assert!(
        seen.iter()
            .all(|e| e["target"].as_str().unwrap().contains(a_id.as_str())
                || e["action"] == "document.create")
    );
    assert!(
        other_org.is_empty(),
        "an org admin cannot read another org's events"
    );
}

async fn plain_users_and_org_admins_may_not_read_the_whole_log_or_verify_it(app: TestApp) {
    let ([alice, _, dave], _) = two_orgs(&app).await;

    let (listed, _) = app
        .call(Method::GET, "/audit", Auth::Bearer(&dave), None)
        .await;
    let (verified, _) = app
        .call(Method::GET, "/audit/verify", Auth::Bearer(&alice), None)
        .await;

    assert_eq!(listed, 403);
    assert_eq!(verified, 403);
}

/// A platform admin's token after ten or more events (five registrations and sign-ins)
/// that verify; returns the token and the event count
async fn a_verified_chain(app: &TestApp) -> (String, i64) {
    let admin = app.admin_token("verifier@example.com").await;
    for i in 0..5 {
        app.user_with_tokens(&format!("u{i}@example.com"), "").await;
    }
    let before = app.audit_verify(&admin).await;
    assert_eq!(before["ok"], true);
    let count = before["count"].as_i64().unwrap();
    assert!(count >= 10);
    (admin, count)
}

async fn changing_one_row_makes_verification_name_that_event(app: TestApp) {
    let (admin, count) = a_verified_chain(&app).await;
    let victim = count / 2;
    sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = $1")
        .bind(victim)
        .execute(app.state.svc.db().pool())
        .await
        .unwrap();

    let after = app.audit_verify(&admin).await;

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
}

async fn deleting_the_newest_event_makes_verification_fail(app: TestApp) {
    let (admin, _) = a_verified_chain(&app).await;
    // The head remembers the newest event, so its deletion is caught.
    sqlx::query("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)")
        .execute(app.state.svc.db().pool())
        .await
        .unwrap();

    let truncated = app.audit_verify(&admin).await;

    assert_eq!(truncated["ok"], false, "{truncated}");
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
