//! The policy engine: a schema and the active, validated policy set, swappable at runtime.
//!
//! A new policy set is parsed and validated against the schema (strict mode) before it
//! replaces the active one; on any error the old set stays and the error carries the
//! 1-based line and column of the first problem. Readers clone an `Arc` under a short read
//! lock and evaluate without holding it.
//!
//! - [`mod@compile`]: parsing and validating policy sets and schema extensions; the active set
//! - [`slices`]: the entities (and, for a custom check, the request) a decision reads
//! - [`evaluate`]: evaluating a request into a [`Decision`], and the [`DocumentDecider`]

use std::sync::{Arc, PoisonError, RwLock};

use cedar_policy::Authorizer;

use crate::decision::Decision;
use crate::entities::{CustomCheck, DocAction, DocumentFacts, PrincipalFacts, Vocabulary};

mod compile;
mod evaluate;
mod slices;

use compile::{ActiveSet, compile, parse_extended_schema, parse_schema};
use evaluate::fatal;

pub use evaluate::DocumentDecider;

/// The default schema, `policies/clouddocs.cedarschema`
pub const DEFAULT_SCHEMA: &str = include_str!("../../../../policies/clouddocs.cedarschema");

/// The default policy set, `policies/documents.cedar`
pub const DEFAULT_POLICIES: &str = include_str!("../../../../policies/documents.cedar");

/// What can go wrong when loading policies or asking a custom question
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthzError {
    /// The schema does not parse or is inconsistent
    #[error("invalid schema{}: {message}", at(*line, *column))]
    Schema {
        /// Cedar's message
        message: String,
        /// 1-based line of the first error in the schema text, when Cedar gives one
        line: Option<usize>,
        /// 1-based column (in characters) of the first error, when Cedar gives one
        column: Option<usize>,
    },
    /// The policy set does not parse or does not validate against the schema
    #[error("invalid policy set{}: {message}", at(*line, *column))]
    Invalid {
        /// Cedar's message
        message: String,
        /// 1-based line of the first error in the policy text, when Cedar gives one
        line: Option<usize>,
        /// 1-based column (in characters) of the first error, when Cedar gives one
        column: Option<usize>,
    },
    /// A custom check whose principal, action, resource, context or entities are malformed
    #[error("bad authorization request: {0}")]
    BadRequest(String),
    /// The request or policy text exceeds one of the bounds of [`crate::bounds`]
    #[error("{bound} exceeds the bound of {limit}")]
    Bound {
        /// Which bound, e.g. `ancestor depth`
        bound: &'static str,
        /// The bound's value
        limit: usize,
    },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        _ => String::new(),
    }
}

/// A Cedar schema and the active policy set, shared by every request
#[derive(Debug)]
pub struct PolicyEngine {
    base_schema: String,
    authorizer: Authorizer,
    vocabulary: Vocabulary,
    active: RwLock<Arc<ActiveSet>>,
}

impl PolicyEngine {
    /// Builds an engine from a schema (Cedar schema syntax) and a policy set valid against it
    pub fn new(schema_src: &str, policies_src: &str) -> Result<Self, AuthzError> {
        let validator = parse_schema(schema_src)?;
        let policies = compile(&validator, policies_src)?;
        let vocabulary = Vocabulary::new().map_err(|message| AuthzError::Schema {
            message,
            line: None,
            column: None,
        })?;
        let active = ActiveSet::new(policies_src, "", policies, &vocabulary);
        Ok(Self {
            base_schema: schema_src.to_owned(),
            authorizer: Authorizer::new(),
            vocabulary,
            active: RwLock::new(Arc::new(active)),
        })
    }

    /// The engine with the default schema and policy set from `policies/`
    pub fn default_set() -> Result<Self, AuthzError> {
        Self::new(DEFAULT_SCHEMA, DEFAULT_POLICIES)
    }

    /// The text of the active policy set, as it was given
    pub fn policies_text(&self) -> String {
        self.current().text.clone()
    }

    /// Each active policy's label (its `@id`, or Cedar's id) and its source text, in the
    /// order of the set: what the access simulator shows next to a decision
    pub fn policy_sources(&self) -> Vec<(String, String)> {
        let active = self.current();
        let mut sources: Vec<(String, String)> = active
            .policies
            .policies()
            .map(|policy| {
                (
                    crate::decision::policy_label(&active.policies, policy.id()),
                    policy.to_string(),
                )
            })
            .collect();
        sources.sort();
        sources
    }

    /// Replaces the active policy set after parsing and validating `new_src`; keeps the old one on error
    pub fn replace(&self, new_src: &str) -> Result<(), AuthzError> {
        let extension = self.current().schema_extension.clone();
        self.replace_with_schema(&extension, new_src)
    }

    /// The schema fragment added to the base schema (other applications' namespaces)
    pub fn schema_extension(&self) -> String {
        self.current().schema_extension.clone()
    }

    /// Replaces the policy set and the schema extension together: `extension` holds other
    /// applications' namespaces (entity types and actions), appended to the base schema, so
    /// their policies validate as strictly as CloudDocs' own. Line and column of a schema
    /// error refer to the extension text. The old set stays active on any error.
    pub fn replace_with_schema(&self, extension: &str, new_src: &str) -> Result<(), AuthzError> {
        crate::bounds::check_policy_text(extension)?;
        crate::bounds::check_policy_text(new_src)?;
        let validator = parse_extended_schema(&self.base_schema, extension)?;
        let policies = compile(&validator, new_src)?;
        let next = Arc::new(ActiveSet::new(
            new_src,
            extension,
            policies,
            &self.vocabulary,
        ));
        // A poisoned lock still holds a whole `Arc`: there is no half-written state to fear.
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(())
    }

    /// May `principal` do `action` on `document`
    pub fn decide_document(
        &self,
        principal: &PrincipalFacts,
        action: DocAction,
        document: &DocumentFacts,
    ) -> Decision {
        let vocabulary = &self.vocabulary;
        let (resource, entities) = match slices::document(vocabulary, principal, document) {
            Ok(built) => built,
            Err(err) => return fatal(&err),
        };
        let active = self.current();
        self.evaluate(
            &active,
            active.for_action(action),
            evaluate::request(
                vocabulary.user(&principal.user_id),
                vocabulary.action(action).clone(),
                resource,
                principal.mfa,
            ),
            &entities,
        )
    }

    /// Decides `action` by `principal` on many documents, e.g. a page of a listing: each
    /// decision is exactly [`PolicyEngine::decide_document`]'s, against one snapshot of the
    /// active set, with what the documents share (the principal, the action, each org's
    /// entities) built once instead of once per document
    pub fn document_decider<'a>(
        &'a self,
        principal: &'a PrincipalFacts,
        action: DocAction,
    ) -> DocumentDecider<'a> {
        DocumentDecider::new(self, principal, action)
    }

    /// May `principal` manage the members of `org_id`
    pub fn decide_manage_users(&self, principal: &PrincipalFacts, org_id: &str) -> Decision {
        let mfa = principal.mfa;
        let (principal, action, resource, entities) =
            match slices::manage_users(&self.vocabulary, principal, org_id) {
                Ok(slice) => slice,
                Err(err) => return fatal(&err),
            };
        let active = self.current();
        self.evaluate(
            &active,
            &active.policies,
            evaluate::request(principal, action, resource, mfa),
            &entities,
        )
    }

    /// Evaluates a caller-built question against the active set, without schema validation,
    /// so other applications can use their own entity types, actions and policies
    pub fn check_custom(&self, request: &CustomCheck) -> Result<Decision, AuthzError> {
        let (cedar_request, entities) = slices::custom(request)?;
        let active = self.current();
        Ok(self.authorize(&active, &active.policies, &cedar_request, &entities))
    }

    fn current(&self) -> Arc<ActiveSet> {
        Arc::clone(&self.active.read().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PolicyEngine>();
    }
}
