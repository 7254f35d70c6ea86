//! The default policy set against the document policy table of DESIGN.md.
//!
//! Every cell lives in `scenarios/documents.json`; a property test checks random facts
//! against a plain-Rust reading of the same table; the rest covers hot swap and reasons.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly on bad fixtures"
)]

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::PolicySet;
use clouddocs_authz::{
    AuthzError, CustomCheck, DEFAULT_POLICIES, DocAction, DocumentFacts, OrgRole, PolicyEngine,
    PrincipalFacts,
};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expected {
    Allow,
    Deny,
}

impl Expected {
    fn allowed(self) -> bool {
        self == Expected::Allow
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentTemplate {
    id: String,
    org_id: String,
    author_id: String,
    viewers: Vec<String>,
    editors: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    relation: String,
    published: bool,
    read: Expected,
    update: Expected,
    delete: Expected,
    share: Expected,
}

impl Row {
    fn expected(&self, action: DocAction) -> Expected {
        match action {
            DocAction::Read => self.read,
            DocAction::Update => self.update,
            DocAction::Delete => self.delete,
            DocAction::Share => self.share,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManageUsers {
    org_id: String,
    expected: BTreeMap<String, Expected>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenarios {
    #[serde(rename = "description")]
    _description: String,
    document: DocumentTemplate,
    principals: BTreeMap<String, PrincipalFacts>,
    documents: Vec<Row>,
    manage_users: ManageUsers,
}

fn scenarios() -> Scenarios {
    serde_json::from_str(include_str!("scenarios/documents.json")).unwrap()
}

fn document(template: &DocumentTemplate, published: bool) -> DocumentFacts {
    DocumentFacts {
        id: template.id.clone(),
        org_id: template.org_id.clone(),
        author_id: template.author_id.clone(),
        published,
        viewers: template.viewers.clone(),
        editors: template.editors.clone(),
    }
}

fn engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| PolicyEngine::default_set().unwrap())
}

fn user(user_id: &str, memberships: &[(&str, OrgRole)]) -> PrincipalFacts {
    PrincipalFacts {
        user_id: user_id.to_owned(),
        platform_admin: false,
        memberships: memberships
            .iter()
            .map(|(org, role)| ((*org).to_owned(), *role))
            .collect(),
        mfa: false,
    }
}

fn acme_doc(published: bool) -> DocumentFacts {
    DocumentFacts {
        id: "doc-1".to_owned(),
        org_id: "acme".to_owned(),
        author_id: "alice".to_owned(),
        published,
        viewers: vec!["vic".to_owned()],
        editors: vec!["evan".to_owned()],
    }
}

#[test]
fn every_cell_of_the_document_policy_table_gets_the_expected_decision() {
    // Arrange
    let scenarios = scenarios();
    let engine = engine();
    let mut mismatches = Vec::new();

    // Act
    for row in &scenarios.documents {
        let principal = &scenarios.principals[&row.relation];
        let doc = document(&scenarios.document, row.published);
        for action in DocAction::ALL {
            let decision = engine.decide_document(principal, action, &doc);
            if decision.allowed != row.expected(action).allowed() {
                mismatches.push(format!(
                    "{} {action} (published: {}): expected {:?}, got {decision:?}",
                    row.relation,
                    row.published,
                    row.expected(action)
                ));
            }
        }
    }

    // Assert
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_scenario_file_covers_every_relation_published_and_unpublished() {
    let scenarios = scenarios();
    for relation in scenarios.principals.keys() {
        for published in [true, false] {
            let rows = scenarios
                .documents
                .iter()
                .filter(|row| &row.relation == relation && row.published == published)
                .count();
            assert_eq!(rows, 1, "{relation} published={published}");
        }
        assert!(
            scenarios.manage_users.expected.contains_key(relation),
            "{relation} has no manage_users expectation"
        );
    }
    assert_eq!(
        scenarios.documents.len(),
        scenarios.principals.len() * 2,
        "a row names an unknown relation"
    );
}

#[test]
fn only_org_admins_may_manage_the_users_of_their_org() {
    let scenarios = scenarios();
    for (relation, expected) in &scenarios.manage_users.expected {
        let principal = &scenarios.principals[relation];
        let decision = engine().decide_manage_users(principal, &scenarios.manage_users.org_id);
        assert_eq!(
            decision.allowed,
            expected.allowed(),
            "{relation}: {decision:?}"
        );
    }
}

#[test]
fn an_allow_names_every_determining_policy_by_its_id() {
    // An org admin who is also the author: two policies permit sharing
    let ada = user("alice", &[("acme", OrgRole::Admin)]);

    let decision = engine().decide_document(&ada, DocAction::Share, &acme_doc(true));

    assert!(decision.allowed);
    assert_eq!(
        decision.policies,
        vec!["author-reads-updates-shares", "org-admin-deletes-shares"]
    );
    assert_eq!(
        decision.reasons,
        vec![
            "permitted by policy `author-reads-updates-shares`",
            "permitted by policy `org-admin-deletes-shares`"
        ]
    );
}

#[test]
fn the_org_admin_manage_users_decision_names_its_policy() {
    let ada = user("ada", &[("acme", OrgRole::Admin)]);

    let decision = engine().decide_manage_users(&ada, "acme");

    assert_eq!(decision.policies, vec!["org-admin-manages-users"]);
}

#[test]
fn a_default_deny_names_no_policy_and_says_nothing_permits_it() {
    let stranger = user("sam", &[]);

    let decision = engine().decide_document(&stranger, DocAction::Read, &acme_doc(true));

    assert!(!decision.allowed);
    assert!(decision.policies.is_empty());
    assert_eq!(decision.reasons, vec!["no policy permits this request"]);
}

#[test]
fn every_policy_of_the_default_set_carries_an_id_annotation() {
    let set = PolicySet::from_str(DEFAULT_POLICIES).unwrap();
    assert!(set.policies().count() >= 8);
    for policy in set.policies() {
        assert!(
            policy.annotation("id").is_some(),
            "{} has no @id",
            policy.id()
        );
    }
}

#[test]
fn a_replacement_with_a_syntax_error_is_rejected_with_its_line_and_column_and_the_old_set_stays() {
    // Arrange
    let engine = PolicyEngine::default_set().unwrap();
    let broken = "@id(\"ok\")\npermit (principal, action, resource);\n\n@id(\"broken\")\n  permit (principal, action, resource) whenn { true };\n";

    // Act
    let err = engine.replace(broken).unwrap_err();

    // Assert: `whenn` is at line 5, column 40
    match &err {
        AuthzError::Invalid { line, column, .. } => {
            assert_eq!((*line, *column), (Some(5), Some(40)), "{err}");
        }
        other => panic!("expected an invalid policy set, got {other:?}"),
    }
    assert_eq!(engine.policies_text(), DEFAULT_POLICIES);
    assert!(
        !engine
            .decide_document(&user("sam", &[]), DocAction::Read, &acme_doc(true))
            .allowed
    );
}

#[test]
fn a_replacement_that_fails_schema_validation_points_at_the_offending_expression() {
    // Arrange
    let engine = PolicyEngine::default_set().unwrap();
    let src = "@id(\"fine\")\npermit (principal, action == CloudDocs::Action::\"read\", resource is CloudDocs::Document)\nwhen { resource.published };\n\n@id(\"unknown-attribute\")\npermit (principal, action == CloudDocs::Action::\"read\", resource is CloudDocs::Document)\nwhen { resource.title == \"x\" };\n";

    // Act
    let err = engine.replace(src).unwrap_err();

    // Assert: `resource.title` starts at line 7, column 8
    let AuthzError::Invalid {
        message,
        line,
        column,
    } = &err
    else {
        panic!("expected an invalid policy set, got {err:?}");
    };
    assert_eq!((*line, *column), (Some(7), Some(8)), "{err}");
    assert!(
        message.starts_with(
            "for policy `unknown-attribute`, attribute `title` on entity type `CloudDocs::Document` not found"
        ),
        "{message}"
    );
    assert_eq!(engine.policies_text(), DEFAULT_POLICIES);
}

#[test]
fn a_replacement_with_an_unknown_entity_type_is_rejected() {
    let engine = PolicyEngine::default_set().unwrap();
    let src = "@id(\"x\")\npermit (principal is CloudDocs::Robot, action, resource);\n";

    let err = engine.replace(src).unwrap_err();

    assert!(
        matches!(err, AuthzError::Invalid { line: Some(2), .. }),
        "{err:?}"
    );
}

#[test]
fn a_valid_replacement_takes_effect_for_the_next_decision() {
    // Arrange
    let engine = PolicyEngine::default_set().unwrap();
    let stranger = user("sam", &[]);
    let everyone_reads_published = "@id(\"anyone-reads-published\")\npermit (principal, action == CloudDocs::Action::\"read\", resource is CloudDocs::Document)\nwhen { resource.published };\n";

    // Act
    engine.replace(everyone_reads_published).unwrap();

    // Assert
    let decision = engine.decide_document(&stranger, DocAction::Read, &acme_doc(true));
    assert!(decision.allowed);
    assert_eq!(decision.policies, vec!["anyone-reads-published"]);
    assert_eq!(engine.policies_text(), everyone_reads_published);
    let admin = user("ada", &[("acme", OrgRole::Admin)]);
    assert!(
        !engine
            .decide_document(&admin, DocAction::Delete, &acme_doc(true))
            .allowed
    );
}

#[test]
fn a_policy_without_an_id_annotation_is_named_by_its_cedar_id() {
    let engine = PolicyEngine::default_set().unwrap();
    engine
        .replace("permit (principal, action == CloudDocs::Action::\"read\", resource);")
        .unwrap();

    let decision = engine.decide_document(&user("sam", &[]), DocAction::Read, &acme_doc(false));

    assert_eq!(decision.policies, vec!["policy0"]);
}

#[test]
fn a_broken_schema_is_reported_with_its_line() {
    let err = PolicyEngine::new(
        "namespace X {\n  entity User;\n  entity Doc {\n    owner: Usr,\n  };\n}\n",
        "",
    )
    .unwrap_err();
    assert!(matches!(err, AuthzError::Schema { .. }), "{err:?}");
}

#[test]
fn a_policy_that_fails_to_evaluate_is_skipped_and_named_in_the_reasons() {
    // Arrange: a custom check with a document entity that lacks its attributes
    let check: CustomCheck = serde_json::from_value(serde_json::json!({
        "principal": {"type": "CloudDocs::User", "id": "sam"},
        "action": {"type": "CloudDocs::Action", "id": "read"},
        "resource": {"type": "CloudDocs::Document", "id": "doc-1"},
        "entities": [
            {"uid": {"type": "CloudDocs::User", "id": "sam"}, "attrs": {"platform_admin": false}, "parents": []},
            {"uid": {"type": "CloudDocs::Document", "id": "doc-1"}, "attrs": {}, "parents": []}
        ]
    }))
    .unwrap();

    // Act
    let decision = engine().check_custom(&check).unwrap();

    // Assert
    assert!(!decision.allowed);
    assert!(decision.policies.is_empty());
    assert_eq!(decision.reasons[0], "no policy permits this request");
    assert!(
        decision
            .reasons
            .iter()
            .any(|reason| reason.starts_with("policy `org-member-reads-published` was skipped:")),
        "{:?}",
        decision.reasons
    );
}

#[test]
fn a_custom_check_with_malformed_entities_is_a_bad_request() {
    let check: CustomCheck = serde_json::from_value(serde_json::json!({
        "principal": {"type": "App::User", "id": "u"},
        "action": {"type": "App::Action", "id": "go"},
        "resource": {"type": "App::Thing", "id": "t"},
        "entities": {"not": "an array"}
    }))
    .unwrap();

    let err = engine().check_custom(&check).unwrap_err();

    assert!(matches!(err, AuthzError::BadRequest(_)), "{err:?}");
}

#[test]
fn a_custom_check_with_a_malformed_entity_type_is_a_bad_request() {
    let check: CustomCheck = serde_json::from_value(serde_json::json!({
        "principal": {"type": "not a type", "id": "u"},
        "action": {"type": "App::Action", "id": "go"},
        "resource": {"type": "App::Thing", "id": "t"}
    }))
    .unwrap();

    let err = engine().check_custom(&check).unwrap_err();

    assert!(
        matches!(&err, AuthzError::BadRequest(message) if message.starts_with("invalid principal")),
        "{err:?}"
    );
}

// ---- property test: the engine agrees with a plain reading of the table ----

/// DESIGN.md's table, read literally
fn reference(principal: &PrincipalFacts, action: DocAction, doc: &DocumentFacts) -> bool {
    let roles: Vec<OrgRole> = principal.roles_in(&doc.org_id).collect();
    let member = !roles.is_empty();
    let editor = roles
        .iter()
        .any(|r| matches!(r, OrgRole::Admin | OrgRole::Editor));
    let admin = roles.contains(&OrgRole::Admin);
    let author = principal.user_id == doc.author_id;
    let shared_viewer = doc.viewers.contains(&principal.user_id);
    let shared_editor = doc.editors.contains(&principal.user_id);
    match action {
        DocAction::Read => {
            (doc.published && member) || author || editor || shared_viewer || shared_editor
        }
        DocAction::Update => author || editor || shared_editor,
        DocAction::Delete => admin || (author && !doc.published),
        DocAction::Share => author || admin,
    }
}

const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];
const ORGS: [&str; 2] = ["o0", "o1"];

fn a_user() -> impl Strategy<Value = String> {
    prop::sample::select(USERS.to_vec()).prop_map(str::to_owned)
}

fn an_org() -> impl Strategy<Value = String> {
    prop::sample::select(ORGS.to_vec()).prop_map(str::to_owned)
}

fn a_role() -> impl Strategy<Value = OrgRole> {
    prop::sample::select(OrgRole::ALL.to_vec())
}

fn an_action() -> impl Strategy<Value = DocAction> {
    prop::sample::select(DocAction::ALL.to_vec())
}

fn a_principal() -> impl Strategy<Value = PrincipalFacts> {
    (
        a_user(),
        any::<bool>(),
        prop::collection::vec((an_org(), a_role()), 0..3),
    )
        .prop_map(|(user_id, platform_admin, memberships)| PrincipalFacts {
            user_id,
            platform_admin,
            memberships,
            mfa: false,
        })
}

fn a_document() -> impl Strategy<Value = DocumentFacts> {
    (
        an_org(),
        a_user(),
        any::<bool>(),
        prop::collection::vec(a_user(), 0..3),
        prop::collection::vec(a_user(), 0..3),
    )
        .prop_map(
            |(org_id, author_id, published, viewers, editors)| DocumentFacts {
                id: "d".to_owned(),
                org_id,
                author_id,
                published,
                viewers,
                editors,
            },
        )
}

proptest! {
    #[test]
    fn decide_document_agrees_with_the_table_for_any_facts(
        principal in a_principal(),
        action in an_action(),
        doc in a_document(),
    ) {
        let decision = engine().decide_document(&principal, action, &doc);
        prop_assert_eq!(
            decision.allowed,
            reference(&principal, action, &doc),
            "{:?}",
            decision
        );
        prop_assert_eq!(decision.allowed, !decision.policies.is_empty());
        prop_assert!(!decision.reasons.iter().any(|r| r.contains("skipped")));
    }
}
