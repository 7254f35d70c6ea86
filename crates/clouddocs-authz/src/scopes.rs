//! Scopes narrow what a token or API key may do: effective permission = policy allows AND scope grants.
//!
//! `Scope` itself (the strings `documents:read`, `documents:write`, `documents:delete`,
//! `orgs:manage`, `profile`, `openid`, `email`, `admin`, with `FromStr`, `Display` and serde)
//! lives in `clouddocs-domain` and is re-exported here, so there is one scope type in the
//! whole workspace.

pub use clouddocs_domain::{Scope, Scopes};

use crate::decision::Decision;
use crate::entities::DocAction;

/// The scope a token needs for a document action
pub fn scope_for(action: DocAction) -> Scope {
    match action {
        DocAction::Read => Scope::DocumentsRead,
        DocAction::Update | DocAction::Share => Scope::DocumentsWrite,
        DocAction::Delete => Scope::DocumentsDelete,
    }
}

/// The scope a token needs to manage the members of an org
pub fn scope_for_manage_users() -> Scope {
    Scope::OrgsManage
}

/// Narrows a policy decision by the token's scopes: denies when `needed` is not in
/// `granted`. This is the one scope-narrowing function of the workspace.
///
/// A scope denial of something the policies permit names the missing scope as its only
/// reason and no policy: the permitting policies did not decide it, so naming them (in an
/// answer or the audit log) would be false. When the policies deny too, their reasons and
/// determining policies stay, after the scope's.
pub fn effective(decision: Decision, granted: &Scopes, needed: Scope) -> Decision {
    if granted.contains(needed) {
        return decision;
    }
    let mut reasons = vec![scope_reason(needed)];
    if decision.allowed {
        return Decision {
            allowed: false,
            policies: Vec::new(),
            reasons,
        };
    }
    reasons.extend(decision.reasons);
    Decision {
        allowed: false,
        policies: decision.policies,
        reasons,
    }
}

/// The reason a missing scope gives, everywhere it is refused
pub fn scope_reason(needed: Scope) -> String {
    format!("token scope `{needed}` not granted")
}

/// The denial of a request that needs `needed` but was granted only `granted`: what a
/// route-level scope check records, with the same reason as [`effective`]
pub fn missing_scope(needed: Scope) -> Decision {
    Decision {
        allowed: false,
        policies: Vec::new(),
        reasons: vec![scope_reason(needed)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Decision {
        Decision {
            allowed: true,
            policies: vec!["author-reads-updates-shares".to_owned()],
            reasons: vec!["permitted by policy `author-reads-updates-shares`".to_owned()],
        }
    }

    #[test]
    fn a_missing_scope_turns_an_allow_into_a_deny_that_names_the_scope() {
        let granted = Scopes::parse("documents:read").unwrap();
        let decision = effective(allowed(), &granted, Scope::DocumentsWrite);
        assert!(!decision.allowed);
        assert!(
            decision.policies.is_empty(),
            "the permitting policy did not decide this"
        );
        assert_eq!(
            decision.reasons,
            ["token scope `documents:write` not granted"],
            "and it is not named as a reason either"
        );
        assert_eq!(decision, missing_scope(Scope::DocumentsWrite));
    }

    #[test]
    fn a_granted_scope_leaves_the_decision_as_it_was() {
        let granted = Scopes::parse("documents:write").unwrap();
        let decision = effective(allowed(), &granted, Scope::DocumentsWrite);
        assert_eq!(decision, allowed());
    }

    #[test]
    fn a_scope_never_turns_a_deny_into_an_allow() {
        let denied = Decision::deny("no policy permits this request");
        assert_eq!(
            effective(denied.clone(), &Scopes::all(), Scope::DocumentsDelete),
            denied
        );
    }

    #[test]
    fn a_policy_deny_without_the_scope_keeps_the_policys_reasons_after_the_scopes() {
        let denied = Decision {
            allowed: false,
            policies: vec!["forbid-archived".to_owned()],
            reasons: vec!["forbidden by policy `forbid-archived`".to_owned()],
        };
        let decision = effective(denied, &Scopes::none(), Scope::DocumentsDelete);
        assert_eq!(decision.policies, ["forbid-archived"]);
        assert_eq!(
            decision.reasons,
            [
                "token scope `documents:delete` not granted",
                "forbidden by policy `forbid-archived`"
            ]
        );
    }

    #[test]
    fn each_document_action_needs_its_scope() {
        assert_eq!(scope_for(DocAction::Read), Scope::DocumentsRead);
        assert_eq!(scope_for(DocAction::Update), Scope::DocumentsWrite);
        assert_eq!(scope_for(DocAction::Share), Scope::DocumentsWrite);
        assert_eq!(scope_for(DocAction::Delete), Scope::DocumentsDelete);
        assert_eq!(scope_for_manage_users(), Scope::OrgsManage);
    }

    #[test]
    fn scopes_read_and_write_as_their_wire_strings() {
        assert_eq!(
            "documents:write".parse::<Scope>().unwrap(),
            Scope::DocumentsWrite
        );
        assert_eq!(Scope::OrgsManage.to_string(), "orgs:manage");
        assert_eq!(serde_json::to_string(&Scope::OpenId).unwrap(), "\"openid\"");
    }
}
