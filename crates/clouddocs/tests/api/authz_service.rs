//! Authorization as a service: `POST /authz/check` about oneself and (for platform admins)
//! about others, no existence leak, policy administration through `/admin/policies`, and a
//! foreign application's policy pack decided over HTTP.

use clouddocs_testkit::{Auth, TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

backends!(
    [sqlite, postgres],
    a_caller_asks_about_itself_and_only_a_platform_admin_about_others,
    a_missing_and_a_hidden_document_get_identical_answers,
    a_policy_set_with_a_syntax_error_is_422_with_its_position_and_changes_nothing,
    only_a_platform_admin_reads_or_replaces_the_policy_set,
    a_valid_policy_set_takes_effect_at_once_and_restoring_it_does_too,
    the_learning_platform_pack_decides_every_scenario_over_http
);

const NEVER: &str = "01900000-0000-7000-8000-000000000000";
const PACK_POLICIES: &str =
    include_str!("../../../../examples/policies/learning-platform/policies.cedar");
const PACK_SCHEMA: &str =
    include_str!("../../../../examples/policies/learning-platform/schema.cedarschema");
const PACK_SCENARIOS: &str =
    include_str!("../../../../examples/policies/learning-platform/scenarios.json");

async fn check(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        "/authz/check",
        Auth::Bearer(token),
        Some(body.clone()),
    )
    .await
}

/// `GET /admin/policies` as `token`
async fn policies(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.call(Method::GET, "/admin/policies", Auth::Bearer(token), None)
        .await
}

/// `PUT /admin/policies` as `token`; returns the status and the answer
async fn put_policies(
    app: &TestApp,
    token: &str,
    policies: &str,
    schema: &str,
) -> (StatusCode, Value) {
    let body = json!({"policies": policies, "schema": schema});
    app.call(
        Method::PUT,
        "/admin/policies",
        Auth::Bearer(token),
        Some(body),
    )
    .await
}

/// Alice (org admin) with editor Ed and viewer Vic, one published and one unpublished
/// document by Alice, and Sam, an outsider the unpublished document is shared with.
struct World {
    alice: (String, String),
    ed: (String, String),
    vic: (String, String),
    sam: (String, String),
    published: String,
    unpublished: String,
}

async fn world(app: &TestApp) -> World {
    let user = |email: &'static str| async move {
        let (id, token, _) = app.user_with_tokens(email, "").await;
        (id, token)
    };
    let alice = user("alice@example.com").await;
    let ed = user("ed@example.com").await;
    let vic = user("vic@example.com").await;
    let sam = user("sam@example.com").await;
    let org = app.create_org(&alice.1, "Acme").await;
    for (who, role) in [(&ed, "editor"), (&vic, "viewer")] {
        assert_eq!(app.add_member(&alice.1, &org, &who.0, role).await, 200);
    }
    let mut docs = Vec::new();
    for published in [true, false] {
        let path = format!("/orgs/{org}/documents");
        let body = json!({"title": "Doc", "body": "b", "published": published});
        let (status, doc) = app
            .call(Method::POST, &path, Auth::Bearer(&alice.1), Some(body))
            .await;
        assert_eq!(status, 201);
        docs.push(doc["id"].as_str().unwrap().to_owned());
    }
    let unpublished = docs.pop().unwrap();
    let published = docs.pop().unwrap();
    assert_eq!(
        app.share(&alice.1, &unpublished, &sam.0, "viewer").await,
        204
    );
    World {
        alice,
        ed,
        vic,
        sam,
        published,
        unpublished,
    }
}

fn doc_ref(id: &str) -> Value {
    json!({"type": "Document", "id": id})
}

async fn a_caller_asks_about_itself_and_only_a_platform_admin_about_others(app: TestApp) {
    let w = world(&app).await;
    let root = app.admin_token("root@example.com").await;
    // (who, document, action, allowed) per the policy table
    let table: Vec<(&(String, String), &str, &str, bool)> = vec![
        (&w.vic, &w.published, "read", true),
        (&w.vic, &w.published, "update", false),
        (&w.vic, &w.unpublished, "read", false),
        (&w.ed, &w.unpublished, "read", true),
        (&w.ed, &w.unpublished, "update", true),
        (&w.ed, &w.published, "delete", false),
        (&w.ed, &w.published, "share", false),
        (&w.alice, &w.published, "delete", true),
        (&w.alice, &w.unpublished, "share", true),
        (&w.sam, &w.unpublished, "read", true),
        (&w.sam, &w.unpublished, "update", false),
        (&w.sam, &w.published, "read", false),
    ];
    for (who, doc, action, allowed) in &table {
        let want = if *allowed { "allow" } else { "deny" };
        // Principal omitted, and principal = itself (bare and namespaced type): same decision.
        for principal in [
            None,
            Some(json!({"type": "User", "id": who.0})),
            Some(json!({"type": "CloudDocs::User", "id": who.0})),
        ] {
            let mut body = json!({"action": action, "resource": doc_ref(doc)});
            if let Some(p) = &principal {
                body["principal"] = p.clone();
            }
            let (status, answer) = check(&app, &who.1, &body).await;
            assert_eq!(status, 200, "{body}: {answer}");
            assert_eq!(answer["decision"], want, "{body}: {answer}");
            assert_eq!(
                answer["policies"].as_array().unwrap().is_empty(),
                !allowed,
                "{answer}"
            );
        }
        // The platform admin asking about that user gets the user's decision, not its own.
        let body = json!({"principal": {"type": "User", "id": who.0}, "action": action, "resource": doc_ref(doc)});
        let (status, answer) = check(&app, &root, &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["decision"], want,
            "admin asking about {body}: {answer}"
        );
    }
    // A non-admin asking about another user is refused, whatever the answer would be.
    for (asker, about) in [(&w.vic, &w.alice), (&w.sam, &w.vic), (&w.alice, &w.ed)] {
        let body = json!({"principal": {"type": "User", "id": about.0}, "action": "read", "resource": doc_ref(&w.published)});
        let (status, answer) = check(&app, &asker.1, &body).await;
        assert_eq!(status, 403, "{answer}");
        assert!(answer.get("decision").is_none(), "{answer}");
    }
}

async fn a_missing_and_a_hidden_document_get_identical_answers(app: TestApp) {
    let w = world(&app).await;
    let (_, mallory, _) = app.user_with_tokens("mallory@example.com", "").await;
    // Vic cannot see the unpublished document; Mallory sees neither.
    for (token, hidden) in [
        (&w.vic.1, &w.unpublished),
        (&mallory, &w.unpublished),
        (&mallory, &w.published),
    ] {
        for action in ["read", "update", "delete", "share"] {
            let (s1, missing) = check(
                &app,
                token,
                &json!({"action": action, "resource": doc_ref(NEVER)}),
            )
            .await;
            let (s2, hidden_answer) = check(
                &app,
                token,
                &json!({"action": action, "resource": doc_ref(hidden)}),
            )
            .await;
            assert_eq!((s1.as_u16(), s2.as_u16()), (200, 200));
            assert_eq!(missing["decision"], "deny");
            // Byte-identical apart from the id the caller itself sent.
            let normalized = serde_json::to_string(&hidden_answer)
                .unwrap()
                .replace(hidden.as_str(), NEVER);
            assert_eq!(
                normalized,
                serde_json::to_string(&missing).unwrap(),
                "{action}: hidden vs missing"
            );
        }
    }
}

/// The world, a platform admin's token, and the active policy text and schema
async fn world_and_policies(app: &TestApp) -> (World, String, String, String) {
    let w = world(app).await;
    let root = app.admin_token("root@example.com").await;
    let (status, active) = policies(app, &root).await;
    assert_eq!(status, 200);
    let original = active["policies"].as_str().unwrap().to_owned();
    let schema = active["schema"].as_str().unwrap_or_default().to_owned();
    assert!(
        original.contains("@id(\"shared-user-reads\")"),
        "{original}"
    );
    assert!(original.contains("@id(\"org-member-reads-published\")"));
    assert_eq!(sam_reads(app, &w).await, 200, "the shared viewer's GET");
    (w, root, original, schema)
}

/// The status of Sam's `GET` of the unpublished document shared with him
async fn sam_reads(app: &TestApp, w: &World) -> StatusCode {
    let path = format!("/documents/{}", w.unpublished);
    app.call(Method::GET, &path, Auth::Bearer(&w.sam.1), None)
        .await
        .0
}

/// `/authz/check`'s answer to Sam reading the unpublished document
async fn sam_check(app: &TestApp, w: &World) -> Value {
    let body = json!({"action": "read", "resource": doc_ref(&w.unpublished)});
    check(app, &w.sam.1, &body).await.1
}

/// `policies` without the `shared-user-reads` policy
fn without_shares(policies: &str) -> String {
    let start = policies.find("@id(\"shared-user-reads\")").unwrap();
    let end = policies[start + 1..]
        .find("@id(")
        .map_or(policies.len(), |i| start + 1 + i);
    let without = format!("{}{}", &policies[..start], &policies[end..]);
    assert!(!without.contains("shared-user-reads"));
    without
}

async fn a_policy_set_with_a_syntax_error_is_422_with_its_position_and_changes_nothing(
    app: TestApp,
) {
    let (w, root, original, schema) = world_and_policies(&app).await;
    let broken = format!("{original}\npermit (principal, action, resource) when {{ ;");

    let (status, problem) = put_policies(&app, &root, &broken, &schema).await;

    assert_eq!(status, 422, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("line") && detail.contains("column"),
        "{detail}"
    );
    let (_, still) = policies(&app, &root).await;
    assert_eq!(still["policies"], original.as_str());
    let answer = sam_check(&app, &w).await;
    assert_eq!(answer["decision"], "allow", "{answer}");
    assert_eq!(sam_reads(&app, &w).await, 200, "the shared viewer's GET");
}

async fn only_a_platform_admin_reads_or_replaces_the_policy_set(app: TestApp) {
    let (w, _, original, schema) = world_and_policies(&app).await;
    let without_shares = without_shares(&original);

    for token in [&w.alice.1, &w.sam.1] {
        let (status, _) = put_policies(&app, token, &without_shares, &schema).await;
        assert_eq!(status, 403);
        let (status, _) = policies(&app, token).await;
        assert_eq!(status, 403);
    }
    assert_eq!(sam_reads(&app, &w).await, 200, "the shared viewer's GET");
}

async fn a_valid_policy_set_takes_effect_at_once_and_restoring_it_does_too(app: TestApp) {
    let (w, root, original, schema) = world_and_policies(&app).await;
    let without_shares = without_shares(&original);

    // A valid set without `shared-user-reads` takes effect at once: the shared viewer gets 404.
    let (status, body) = put_policies(&app, &root, &without_shares, &schema).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sam_reads(&app, &w).await, 404, "the shared viewer's GET");
    let answer = sam_check(&app, &w).await;
    assert_eq!(answer["decision"], "deny", "{answer}");
    let (_, active) = policies(&app, &root).await;
    assert_eq!(active["policies"], without_shares.as_str());
    // Other rules still hold.
    let (_, answer) = check(
        &app,
        &w.vic.1,
        &json!({"action": "read", "resource": doc_ref(&w.published)}),
    )
    .await;
    assert_eq!(answer["decision"], "allow", "{answer}");

    // Restore.
    let (status, _) = put_policies(&app, &root, &original, &schema).await;
    assert_eq!(status, 200);
    assert_eq!(sam_reads(&app, &w).await, 200, "the shared viewer's GET");
    let answer = sam_check(&app, &w).await;
    assert_eq!(answer["policies"], json!(["shared-user-reads"]), "{answer}");
}

fn sorted_strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

async fn the_learning_platform_pack_decides_every_scenario_over_http(app: TestApp) {
    let root = app.admin_token("root@example.com").await;
    let (status, active) = policies(&app, &root).await;
    assert_eq!(status, 200);
    let combined = format!("{}\n{PACK_POLICIES}", active["policies"].as_str().unwrap());
    let (status, body) = put_policies(&app, &root, &combined, PACK_SCHEMA).await;
    assert_eq!(status, 200, "installing the pack: {body}");
    let (_, active) = policies(&app, &root).await;
    assert_eq!(active["policies"], combined.as_str());
    assert_eq!(active["schema"], PACK_SCHEMA);

    let scenarios: Value = serde_json::from_str(PACK_SCENARIOS).unwrap();
    let scenarios = scenarios["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 10, "{} scenarios", scenarios.len());
    let mut failures = Vec::new();
    for scenario in scenarios {
        let name = scenario["name"].as_str().unwrap();
        let mut body = json!({
            "principal": scenario["principal"],
            "action": scenario["action"],
            "resource": scenario["resource"],
        });
        for key in ["entities", "context"] {
            if let Some(v) = scenario.get(key) {
                body[key] = v.clone();
            }
        }
        let (status, answer) = check(&app, &root, &body).await;
        if status != 200 {
            failures.push(format!("{name}: status {status}: {answer}"));
            continue;
        }
        if answer["decision"] != scenario["expected"] {
            failures.push(format!(
                "{name}: decision {}, expected {}: {answer}",
                answer["decision"], scenario["expected"]
            ));
        }
        if let Some(policies) = scenario.get("policies")
            && sorted_strings(&answer["policies"]) != sorted_strings(policies)
        {
            failures.push(format!(
                "{name}: policies {}, expected {policies}",
                answer["policies"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // The CloudDocs rules still decide next to the pack.
    let (_, alice, _) = app.user_with_tokens("alice@example.com", "").await;
    let (_, answer) = check(
        &app,
        &alice,
        &json!({"action": "read", "resource": doc_ref(NEVER)}),
    )
    .await;
    assert_eq!(answer["decision"], "deny");
}
