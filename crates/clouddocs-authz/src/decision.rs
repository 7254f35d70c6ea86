//! A decision with the policies behind it and reasons a person can read.
//!
//! Taken straight from Cedar's `Response { decision, diagnostics { reason, errors } }`:
//! an allow names the permit policies that applied, a deny names the forbid policies (or
//! none, when nothing permitted), and a policy that failed to evaluate was skipped and is
//! listed in the reasons. Denial is the default.

use std::collections::HashMap;

use cedar_policy::{AuthorizationError, PolicyId, PolicySet, Response};
use serde::{Deserialize, Serialize};

use crate::entities::one_line;

/// The answer to "may this principal do this action on this resource"
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the request is allowed
    pub allowed: bool,
    /// The `@id` annotations (else the Cedar policy ids) of the determining policies, sorted
    pub policies: Vec<String>,
    /// Why, in words, including policies skipped because they failed to evaluate
    pub reasons: Vec<String>,
}

impl Decision {
    /// A deny that no policy determined, e.g. because the request could not be built
    pub fn deny(reason: impl Into<String>) -> Self {
        Self {
            allowed: false,
            policies: Vec::new(),
            reasons: vec![reason.into()],
        }
    }

    /// Reads Cedar's answer, naming policies by their `@id`
    pub(crate) fn from_response(response: &Response, labels: &Labels) -> Self {
        let allowed = response.decision() == cedar_policy::Decision::Allow;
        let mut determining: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| labels.get(id))
            .collect();
        determining.sort();
        let mut reasons: Vec<String> = if determining.is_empty() {
            vec!["no policy permits this request".to_owned()]
        } else {
            let verb = if allowed { "permitted" } else { "forbidden" };
            determining
                .iter()
                .map(|label| format!("{verb} by policy `{label}`"))
                .collect()
        };
        let mut skipped: Vec<String> = response
            .diagnostics()
            .errors()
            .map(|err| match err {
                AuthorizationError::PolicyEvaluationError(failure) => format!(
                    "policy `{}` was skipped: {}",
                    labels.get(failure.policy_id()),
                    one_line(failure.inner())
                ),
            })
            .collect();
        skipped.sort();
        reasons.append(&mut skipped);
        Self {
            allowed,
            policies: determining,
            reasons,
        }
    }
}

/// The policy's `@id` annotation, else its Cedar id (`policy0`, …)
pub(crate) fn policy_label(policies: &PolicySet, id: &PolicyId) -> String {
    match policies.annotation(id, "id") {
        Some(label) if !label.is_empty() => label.to_owned(),
        _ => id.to_string(),
    }
}

/// Every policy's label, read once when a set is loaded: Cedar parses the annotation key
/// anew on every annotation lookup, which cost a decision more than evaluating a policy
#[derive(Debug)]
pub(crate) struct Labels(HashMap<PolicyId, String>);

impl Labels {
    pub(crate) fn new(policies: &PolicySet) -> Self {
        Self(
            policies
                .policies()
                .map(|policy| (policy.id().clone(), policy_label(policies, policy.id())))
                .collect(),
        )
    }

    /// The label of a policy of the set; a policy outside it is named by its Cedar id
    fn get(&self, id: &PolicyId) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
}
