//! Scopes narrow what a token or API key may do: effective permission = policy allows AND scope grants.
//!
//! `Scope` itself (the strings `documents:read`, `documents:write`, `documents:delete`,
//! `orgs:manage`, `profile`, `openid`, `email`, `admin`, with `FromStr`, `Display` and serde)
//! lives in `clouddocs-domain` and is re-exported here, so there is one scope type in the
//! whole workspace.

pub use clouddocs_domain::Scope;

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

/// Narrows a policy decision by the token's scopes: denies when `needed` is not in `granted`
pub fn effective(decision: Decision, granted: &[Scope], needed: Scope) -> Decision {
    if granted.contains(&needed) {
        return decision;
    }
    let mut reasons = vec![format!("token scope `{needed}` not granted")];
    let policies = if decision.allowed {
        // No policy determined this deny; what the policies said stays in the reasons.
        Vec::new()
    } else {
        decision.policies
    };
    reasons.extend(decision.reasons);
    Decision {
        allowed: false,
        policies,
        reasons,
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
        let decision = effective(allowed(), &[Scope::DocumentsRead], Scope::DocumentsWrite);
        assert!(!decision.allowed);
        assert!(decision.policies.is_empty());
        assert_eq!(
            decision.reasons[0],
            "token scope `documents:write` not granted"
        );
    }

    #[test]
    fn a_granted_scope_leaves_the_decision_as_it_was() {
        let decision = effective(allowed(), &[Scope::DocumentsWrite], Scope::DocumentsWrite);
        assert_eq!(decision, allowed());
    }

    #[test]
    fn a_scope_never_turns_a_deny_into_an_allow() {
        let denied = Decision::deny("no policy permits this request");
        assert_eq!(
            effective(denied.clone(), &Scope::ALL, Scope::DocumentsDelete),
            denied
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
