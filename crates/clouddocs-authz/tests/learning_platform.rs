//! The learning-platform example pack, run through `check_custom` as another app would.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly on bad fixtures"
)]

use clouddocs_authz::{CustomCheck, DEFAULT_POLICIES, DEFAULT_SCHEMA, PolicyEngine};
use serde::Deserialize;

const SCHEMA: &str =
    include_str!("../../../examples/policies/learning-platform/schema.cedarschema");
const POLICIES: &str = include_str!("../../../examples/policies/learning-platform/policies.cedar");
const SCENARIOS: &str = include_str!("../../../examples/policies/learning-platform/scenarios.json");

#[derive(Debug, Deserialize)]
struct Scenario {
    name: String,
    expected: String,
    policies: Vec<String>,
    #[serde(default)]
    reason_contains: Option<String>,
    /// principal, action, resource, context and entities, exactly as sent to `/authz/check`
    #[serde(flatten)]
    check: CustomCheck,
}

#[derive(Debug, Deserialize)]
struct Pack {
    scenarios: Vec<Scenario>,
}

fn pack() -> Pack {
    serde_json::from_str(SCENARIOS).unwrap()
}

fn run_every_scenario(engine: &PolicyEngine) {
    let mut mismatches = Vec::new();
    for scenario in pack().scenarios {
        let decision = engine.check_custom(&scenario.check).unwrap();
        let expected_allowed = match scenario.expected.as_str() {
            "allow" => true,
            "deny" => false,
            other => panic!("{}: unknown expectation `{other}`", scenario.name),
        };
        let reason_ok = scenario
            .reason_contains
            .as_ref()
            .is_none_or(|needle| decision.reasons.iter().any(|r| r.contains(needle.as_str())));
        if decision.allowed != expected_allowed
            || decision.policies != scenario.policies
            || !reason_ok
        {
            mismatches.push(format!("{}: got {decision:?}", scenario.name));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_learning_platform_scenario_gets_its_expected_decision_and_policies() {
    let engine = PolicyEngine::new(SCHEMA, POLICIES).unwrap();
    run_every_scenario(&engine);
}

#[test]
fn the_pack_has_an_allow_and_a_deny_for_every_action() {
    let scenarios = pack().scenarios;
    assert!(scenarios.len() >= 12);
    for action in [
        "use_model",
        "upload_dataset",
        "view_dashboard",
        "manage_user",
    ] {
        for expected in ["allow", "deny"] {
            assert!(
                scenarios
                    .iter()
                    .any(|s| s.check.action.id == action && s.expected == expected),
                "no {expected} scenario for {action}"
            );
        }
    }
}

#[test]
fn every_learning_platform_policy_carries_an_id_annotation() {
    let engine = PolicyEngine::new(SCHEMA, POLICIES).unwrap();
    let ids = POLICIES.matches("@id(").count();
    let policies = POLICIES.matches("permit (").count() + POLICIES.matches("forbid (").count();
    assert_eq!(ids, policies);
    assert_eq!(engine.policies_text(), POLICIES);
}

#[test]
fn the_pack_and_the_default_set_can_share_one_engine() {
    // One schema text may hold several namespaces: this is how the server's engine
    // would carry an app's policies next to CloudDocs' own.
    let schema = format!("{DEFAULT_SCHEMA}\n{SCHEMA}");
    let policies = format!("{DEFAULT_POLICIES}\n{POLICIES}");
    let engine = PolicyEngine::new(&schema, &policies).unwrap();
    run_every_scenario(&engine);
}
