//! Property tests of the policy upload path (`PUT /admin/policies` validates through
//! `replace_with_schema`): any text, policy-shaped or not, is either accepted as a valid
//! set or refused with an error, never a panic, and a refusal leaves the active set as it
//! was.

use clouddocs_authz::PolicyEngine;
use proptest::prelude::*;

/// Text that looks like Cedar: keywords, scopes, conditions and brackets in any order
fn cedar_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("permit".to_owned()),
        Just("forbid".to_owned()),
        Just("(principal, action, resource)".to_owned()),
        Just("principal in CloudDocs::Role::\"admins\"".to_owned()),
        Just("action == CloudDocs::Action::\"read\"".to_owned()),
        Just("when { resource.published }".to_owned()),
        Just("unless { principal == resource.author }".to_owned()),
        Just("@id(\"x\")".to_owned()),
        Just(";".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("(".to_owned()),
        "[ -~]{0,8}",
    ];
    prop::collection::vec(token, 0..40).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_policy_text_is_accepted_or_refused_and_a_refusal_changes_nothing(
        policies in prop_oneof![cedar_like(), any::<String>()],
        extension in prop_oneof![Just(String::new()), "[ -~]{0,40}"],
    ) {
        let engine = PolicyEngine::default_set().unwrap();
        let before = engine.policies_text();
        if engine.replace_with_schema(&extension, &policies).is_err() {
            prop_assert_eq!(engine.policies_text(), before);
        }
    }

    #[test]
    fn deep_brackets_are_refused_by_the_bound_not_by_the_stack(depth in 60usize..5000) {
        let engine = PolicyEngine::default_set().unwrap();
        let text = format!(
            "permit (principal, action, resource) when {{ {}true{} }};",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let refused = engine.replace_with_schema("", &text).is_err();
        prop_assert!(refused || depth <= 64);
    }
}
