//! The fast paths decide exactly like the plain one.
//!
//! `decide_document` and a `DocumentDecider` (a page of decisions sharing their setup) cut
//! the policy set by action and reuse prebuilt names and entities. Here both are checked,
//! decision, policies and reasons, against a reference that builds the same entities as
//! JSON and evaluates them against the whole set with `check_custom`, for the default set
//! and for a set with unconstrained actions, a forbid, a literal group and a policy that
//! fails to evaluate.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly on bad fixtures"
)]

use clouddocs_authz::{
    CustomCheck, DEFAULT_POLICIES, Decision, DocAction, DocumentFacts, OrgRole, PolicyEngine,
    PrincipalFacts,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Policies whose scopes the action cut must handle: any action, `in` lists, a forbid,
/// a literal role group of one org, and a policy that errors on a platform admin
const EXTRA_POLICIES: &str = r#"
@id("platform-admin-reads-anything-published")
permit (principal, action, resource is CloudDocs::Document)
when { principal.platform_admin && resource.published };

@id("nobody-deletes-published")
forbid (principal, action == CloudDocs::Action::"delete", resource is CloudDocs::Document)
when { resource.published };

@id("o1-admins-share-everything")
permit (
  principal in CloudDocs::OrgRole::"o1#admin",
  action in [CloudDocs::Action::"share", CloudDocs::Action::"update"],
  resource
);

@id("u3-is-never-trusted")
forbid (principal == CloudDocs::User::"u3", action, resource);

@id("overflows-for-platform-admins")
permit (principal, action == CloudDocs::Action::"read", resource is CloudDocs::Document)
when { principal.platform_admin && 9223372036854775807 + 1 > 0 };
"#;

fn engines() -> [PolicyEngine; 2] {
    let wide = PolicyEngine::default_set().unwrap();
    wide.replace(&format!("{DEFAULT_POLICIES}\n{EXTRA_POLICIES}"))
        .unwrap();
    [PolicyEngine::default_set().unwrap(), wide]
}

fn entity(entity_type: &str, id: &str) -> Value {
    json!({"__entity": {"type": format!("CloudDocs::{entity_type}"), "id": id}})
}

fn uid(entity_type: &str, id: &str) -> Value {
    json!({"type": format!("CloudDocs::{entity_type}"), "id": id})
}

/// The entities `entities.rs` builds, written out as JSON, evaluated against the whole set
fn reference(
    engine: &PolicyEngine,
    principal: &PrincipalFacts,
    action: DocAction,
    doc: &DocumentFacts,
) -> Decision {
    let org = &doc.org_id;
    let group = |suffix: &str| format!("{org}#{suffix}");
    let parents: Vec<Value> = principal
        .roles_in(org)
        .map(|role| {
            let suffix = match role {
                OrgRole::Admin => "admin",
                OrgRole::Editor => "editor",
                OrgRole::Viewer => "member",
            };
            uid("OrgRole", &group(suffix))
        })
        .collect();
    let users =
        |ids: &[String]| -> Vec<Value> { ids.iter().map(|id| entity("User", id)).collect() };
    let entities = json!([
        {"uid": uid("Org", org), "attrs": {
            "admins": entity("OrgRole", &group("admin")),
            "editors": entity("OrgRole", &group("editor")),
            "members": entity("OrgRole", &group("member")),
        }, "parents": []},
        {"uid": uid("OrgRole", &group("admin")), "attrs": {}, "parents": [uid("OrgRole", &group("editor"))]},
        {"uid": uid("OrgRole", &group("editor")), "attrs": {}, "parents": [uid("OrgRole", &group("member"))]},
        {"uid": uid("OrgRole", &group("member")), "attrs": {}, "parents": []},
        {"uid": uid("User", &principal.user_id), "attrs": {"platform_admin": principal.platform_admin}, "parents": parents},
        {"uid": uid("Document", &doc.id), "attrs": {
            "org": entity("Org", org),
            "author": entity("User", &doc.author_id),
            "published": doc.published,
            "viewers": users(&doc.viewers),
            "editors": users(&doc.editors),
        }, "parents": []},
    ]);
    let check: CustomCheck = serde_json::from_value(json!({
        "principal": uid("User", &principal.user_id),
        "action": {"type": "CloudDocs::Action", "id": action.as_str()},
        "resource": uid("Document", &doc.id),
        "entities": entities,
    }))
    .unwrap();
    engine.check_custom(&check).unwrap()
}

const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];
const ORGS: [&str; 3] = ["o0", "o1", "o2"];

fn a_user() -> impl Strategy<Value = String> {
    prop::sample::select(USERS.to_vec()).prop_map(str::to_owned)
}

fn a_principal() -> impl Strategy<Value = PrincipalFacts> {
    (
        a_user(),
        any::<bool>(),
        prop::collection::vec(
            (
                prop::sample::select(ORGS.to_vec()).prop_map(str::to_owned),
                prop::sample::select(OrgRole::ALL.to_vec()),
            ),
            0..4,
        ),
    )
        .prop_map(|(user_id, platform_admin, memberships)| PrincipalFacts {
            user_id,
            platform_admin,
            memberships,
            mfa: false,
        })
}

fn documents() -> impl Strategy<Value = Vec<DocumentFacts>> {
    prop::collection::vec(
        (
            prop::sample::select(ORGS.to_vec()),
            a_user(),
            any::<bool>(),
            prop::collection::vec(a_user(), 0..3),
            prop::collection::vec(a_user(), 0..3),
        ),
        1..8,
    )
    .prop_map(|docs| {
        docs.into_iter()
            .enumerate()
            .map(
                |(i, (org, author_id, published, viewers, editors))| DocumentFacts {
                    id: format!("d{i}"),
                    org_id: org.to_owned(),
                    author_id,
                    published,
                    viewers,
                    editors,
                },
            )
            .collect()
    })
}

proptest! {
    #[test]
    fn decide_document_and_a_decider_decide_like_the_whole_set(
        principal in a_principal(),
        action in prop::sample::select(DocAction::ALL.to_vec()),
        docs in documents(),
    ) {
        for engine in &engines() {
            let mut decider = engine.document_decider(&principal, action);
            for doc in &docs {
                let expected = reference(engine, &principal, action, doc);
                prop_assert_eq!(&engine.decide_document(&principal, action, doc), &expected);
                prop_assert_eq!(&decider.decide(doc), &expected);
            }
        }
    }
}

#[test]
fn the_wide_set_exercises_forbids_and_skipped_policies() {
    let [_, wide] = engines();
    let admin = PrincipalFacts {
        user_id: "u0".to_owned(),
        platform_admin: true,
        memberships: vec![("o1".to_owned(), OrgRole::Admin)],
        mfa: false,
    };
    let doc = DocumentFacts {
        id: "d0".to_owned(),
        org_id: "o1".to_owned(),
        author_id: "u1".to_owned(),
        published: true,
        viewers: vec![],
        editors: vec![],
    };

    let read = wide.decide_document(&admin, DocAction::Read, &doc);
    let delete = wide.decide_document(&admin, DocAction::Delete, &doc);

    assert!(read.allowed, "{read:?}");
    assert!(
        read.reasons
            .iter()
            .any(|r| r.starts_with("policy `overflows-for-platform-admins` was skipped")),
        "{read:?}"
    );
    assert!(!delete.allowed);
    assert_eq!(delete.policies, ["nobody-deletes-published"]);
    assert_eq!(read, reference(&wide, &admin, DocAction::Read, &doc));
    assert_eq!(delete, reference(&wide, &admin, DocAction::Delete, &doc));
}
