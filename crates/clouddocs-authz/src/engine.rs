//! The policy engine: a schema and the active, validated policy set, swappable at runtime.
//!
//! A new policy set is parsed and validated against the schema (strict mode) before it
//! replaces the active one; on any error the old set stays and the error carries the
//! 1-based line and column of the first problem. Readers clone an `Arc` under a short read
//! lock and evaluate without holding it.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, PoisonError, RwLock};

use cedar_policy::ffi::DetailedError;
use cedar_policy::{
    ActionConstraint, Authorizer, Context, Entities, EntityUid, PolicySet, Request, Schema,
    ValidationMode, Validator,
};

use crate::decision::{Decision, Labels, policy_label};
use crate::entities::{
    self, CustomCheck, DocAction, DocumentFacts, EntityRef, PrincipalFacts, Vocabulary, one_line,
};

/// The default schema, `policies/clouddocs.cedarschema`
pub const DEFAULT_SCHEMA: &str = include_str!("../../../policies/clouddocs.cedarschema");

/// The default policy set, `policies/documents.cedar`
pub const DEFAULT_POLICIES: &str = include_str!("../../../policies/documents.cedar");

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

/// The active policy set (validated against the schema when loaded) and its texts
#[derive(Debug)]
struct ActiveSet {
    text: String,
    schema_extension: String,
    policies: PolicySet,
    labels: Labels,
    by_action: ByAction,
}

impl ActiveSet {
    fn new(
        text: &str,
        schema_extension: &str,
        policies: PolicySet,
        vocabulary: &Vocabulary,
    ) -> Self {
        let by_action = ByAction::new(&policies, vocabulary);
        Self {
            text: text.to_owned(),
            schema_extension: schema_extension.to_owned(),
            labels: Labels::new(&policies),
            policies,
            by_action,
        }
    }

    /// The policies a decision on `action` can be determined by
    fn for_action(&self, action: DocAction) -> &PolicySet {
        let sliced = match action {
            DocAction::Read => &self.by_action.read,
            DocAction::Update => &self.by_action.update,
            DocAction::Delete => &self.by_action.delete,
            DocAction::Share => &self.by_action.share,
        };
        sliced.as_ref().unwrap_or(&self.policies)
    }
}

/// The active set cut by action, for our own decisions.
///
/// Cedar evaluates every policy of a set on every request, building each policy's
/// condition anew, so a decision costs in proportion to the size of the set. A policy
/// whose action scope excludes the request's action is false before its body is looked
/// at (the scope is the first conjunct, and scope tests cannot fail), so it can never
/// determine a decision nor be skipped with an error: leaving it out of the set changes
/// neither the decision nor its reasons, only the work. Our entities never include action
/// entities, so `action in [A, B]` holds exactly for `A` and `B`; an `in` naming an
/// action that is not ours (a group, another namespace's) keeps its policy in every
/// slice, to stay on the safe side. `None` when the set holds templates: then every
/// decision uses the whole set.
#[derive(Debug, Default)]
struct ByAction {
    read: Option<PolicySet>,
    update: Option<PolicySet>,
    delete: Option<PolicySet>,
    share: Option<PolicySet>,
}

impl ByAction {
    fn new(policies: &PolicySet, vocabulary: &Vocabulary) -> Self {
        let slice = |action: DocAction| {
            if policies.templates().next().is_some() {
                return None;
            }
            let uid = vocabulary.action(action);
            let mut sliced = PolicySet::new();
            for policy in policies.policies() {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(only) => only == *uid,
                    ActionConstraint::In(listed) => listed
                        .iter()
                        .any(|listed| listed == uid || !vocabulary.is_known_action(listed)),
                };
                if applies {
                    // Only a template-linked policy can be refused, and there are none
                    sliced.add(policy.clone()).ok()?;
                }
            }
            Some(sliced)
        };
        Self {
            read: slice(DocAction::Read),
            update: slice(DocAction::Update),
            delete: slice(DocAction::Delete),
            share: slice(DocAction::Share),
        }
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

fn parse_schema(schema_src: &str) -> Result<Validator, AuthzError> {
    let (schema, _warnings) = Schema::from_cedarschema_str(schema_src).map_err(|err| {
        let (message, line, column) = locate(&DetailedError::from(&err), schema_src);
        AuthzError::Schema {
            message,
            line,
            column,
        }
    })?;
    Ok(Validator::new(schema))
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
        let validator = if extension.trim().is_empty() {
            parse_schema(&self.base_schema)?
        } else {
            let base_lines = self.base_schema.lines().count();
            parse_schema(&format!("{}\n{extension}", self.base_schema)).map_err(
                |err| match err {
                    AuthzError::Schema {
                        message,
                        line: Some(line),
                        column,
                    } if line > base_lines => AuthzError::Schema {
                        message,
                        line: Some(line - base_lines),
                        column,
                    },
                    other => other,
                },
            )?
        };
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
        let entities = vocabulary
            .org_slice(principal, &document.org_id)
            .and_then(|mut slice| {
                let (resource, entity) = vocabulary.document_entity(document)?;
                slice.push(entity);
                // One transitive closure over the whole slice
                Entities::from_entities(slice, None)
                    .map(|entities| (resource, entities))
                    .map_err(|err| with_sources(&err))
            });
        let (resource, entities) = match entities {
            Ok(built) => built,
            Err(err) => return fatal(&err),
        };
        let active = self.current();
        self.evaluate(
            &active,
            active.for_action(action),
            vocabulary.user(&principal.user_id),
            vocabulary.action(action).clone(),
            resource,
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
        DocumentDecider {
            engine: self,
            active: self.current(),
            principal,
            principal_uid: self.vocabulary.user(&principal.user_id),
            doc_action: action,
            action: self.vocabulary.action(action).clone(),
            orgs: HashMap::new(),
        }
    }

    /// May `principal` manage the members of `org_id`
    pub fn decide_manage_users(&self, principal: &PrincipalFacts, org_id: &str) -> Decision {
        let (principal, action, resource, entities) =
            match self.vocabulary.manage_users_slice(principal, org_id) {
                Ok(slice) => slice,
                Err(err) => return fatal(&err),
            };
        let entities = match Entities::from_entities(entities, None) {
            Ok(entities) => entities,
            Err(err) => return fatal(&with_sources(&err)),
        };
        let active = self.current();
        self.evaluate(
            &active,
            &active.policies,
            principal,
            action,
            resource,
            &entities,
        )
    }

    /// Evaluates a caller-built question against the active set, without schema validation,
    /// so other applications can use their own entity types, actions and policies
    pub fn check_custom(&self, request: &CustomCheck) -> Result<Decision, AuthzError> {
        crate::bounds::check_request(&request.entities, &request.context)?;
        let principal = entity_ref_uid(&request.principal, "principal")?;
        let action = entity_ref_uid(&request.action, "action")?;
        let resource = entity_ref_uid(&request.resource, "resource")?;
        let context = if request.context.is_null() {
            Context::empty()
        } else {
            Context::from_json_value(request.context.clone(), None)
                .map_err(|err| bad_request("context", &err))?
        };
        let entities = if request.entities.is_null() {
            Entities::empty()
        } else {
            Entities::from_json_value(request.entities.clone(), None)
                .map_err(|err| bad_request("entities", &err))?
        };
        let cedar_request = Request::new(principal, action, resource, context, None)
            .map_err(|err| bad_request("request", &err))?;
        let active = self.current();
        let response = self
            .authorizer
            .is_authorized(&cedar_request, &active.policies, &entities);
        Ok(Decision::from_response(&response, &active.labels))
    }

    /// Evaluates one of our own requests. The entities and the request are built by
    /// `entities.rs` from typed facts, and the schema-conformance of that construction is
    /// pinned by the tests (every cell of the policy table and a property test run through
    /// here). Validating them again on every decision would triple its cost, so the schema
    /// is applied once: to the policies, when they are loaded.
    fn evaluate(
        &self,
        active: &ActiveSet,
        policies: &PolicySet,
        principal: EntityUid,
        action: EntityUid,
        resource: EntityUid,
        entities: &Entities,
    ) -> Decision {
        let request = match Request::new(principal, action, resource, Context::empty(), None) {
            Ok(request) => request,
            Err(err) => return fatal(&with_sources(&err)),
        };
        let response = self.authorizer.is_authorized(&request, policies, entities);
        Decision::from_response(&response, &active.labels)
    }

    fn current(&self) -> Arc<ActiveSet> {
        Arc::clone(&self.active.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Decisions of one principal and action on documents, from [`PolicyEngine::document_decider`]
#[derive(Debug)]
pub struct DocumentDecider<'a> {
    engine: &'a PolicyEngine,
    active: Arc<ActiveSet>,
    principal: &'a PrincipalFacts,
    principal_uid: EntityUid,
    doc_action: DocAction,
    action: EntityUid,
    /// Per org: the org, its role groups and the principal with its roles there, closed
    /// transitively once; a document's decision adds only the document to a copy (the
    /// same entities [`PolicyEngine::decide_document`] builds for it)
    orgs: HashMap<String, Result<Entities, String>>,
}

impl DocumentDecider<'_> {
    /// May the principal do the action on `document`
    pub fn decide(&mut self, document: &DocumentFacts) -> Decision {
        let vocabulary = &self.engine.vocabulary;
        let (resource, entity) = match vocabulary.document_entity(document) {
            Ok(built) => built,
            Err(err) => return fatal(&err),
        };
        let entities = match self.org_entities(&document.org_id) {
            Ok(org) => org.clone().add_entities([entity], None),
            Err(err) => return fatal(err),
        };
        let entities = match entities {
            Ok(entities) => entities,
            Err(err) => return fatal(&with_sources(&err)),
        };
        self.engine.evaluate(
            &self.active,
            self.active.for_action(self.doc_action),
            self.principal_uid.clone(),
            self.action.clone(),
            resource,
            &entities,
        )
    }

    fn org_entities(&mut self, org_id: &str) -> &Result<Entities, String> {
        let (vocabulary, principal) = (&self.engine.vocabulary, self.principal);
        self.orgs.entry(org_id.to_owned()).or_insert_with(|| {
            vocabulary.org_slice(principal, org_id).and_then(|slice| {
                Entities::from_entities(slice, None).map_err(|err| with_sources(&err))
            })
        })
    }
}

fn fatal(err: &str) -> Decision {
    Decision::deny(format!("denied: the request could not be evaluated: {err}"))
}

fn bad_request(part: &str, err: &dyn std::error::Error) -> AuthzError {
    AuthzError::BadRequest(format!("invalid {part}: {}", with_sources(err)))
}

/// An error and its causes on one line: Cedar often puts the useful part in a source
fn with_sources(err: &dyn std::error::Error) -> String {
    let mut message = one_line(err);
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&one_line(cause));
        source = cause.source();
    }
    message
}

fn entity_ref_uid(entity: &EntityRef, part: &str) -> Result<cedar_policy::EntityUid, AuthzError> {
    entities::uid(&entity.entity_type, &entity.id)
        .map_err(|err| AuthzError::BadRequest(format!("invalid {part}: {err}")))
}

/// Parses `src` and validates it against the validator's schema in strict mode
fn compile(validator: &Validator, src: &str) -> Result<PolicySet, AuthzError> {
    let invalid = |detail: &DetailedError| {
        let (message, line, column) = locate(detail, src);
        AuthzError::Invalid {
            message,
            line,
            column,
        }
    };
    let policies = PolicySet::from_str(src).map_err(|err| invalid(&DetailedError::from(&err)))?;
    let result = validator.validate(&policies, ValidationMode::Strict);
    // Cedar reports validation errors per policy in no fixed order: report the earliest in the text.
    let first = result
        .validation_errors()
        .map(|err| {
            let mut detail = DetailedError::from(err);
            // Name the policy as people wrote it: its `@id`, not Cedar's `policy3`
            let id = err.policy_id();
            detail.message = detail.message.replace(
                &format!("`{id}`"),
                &format!("`{}`", policy_label(&policies, id)),
            );
            detail
        })
        .min_by_key(|detail| first_offset(detail).unwrap_or(usize::MAX));
    match first {
        Some(detail) => Err(invalid(&detail)),
        None => Ok(policies),
    }
}

/// The earliest labelled byte offset of an error or, failing that, of its related errors
fn first_offset(detail: &DetailedError) -> Option<usize> {
    detail
        .source_locations
        .iter()
        .map(|label| label.loc.start)
        .min()
        .or_else(|| detail.related.iter().filter_map(first_offset).min())
}

/// One-line message plus the 1-based line and column of the error's first label in `src`
fn locate(detail: &DetailedError, src: &str) -> (String, Option<usize>, Option<usize>) {
    let mut message = one_line(&detail.message);
    if let Some(help) = &detail.help {
        message.push_str("; help: ");
        message.push_str(&one_line(help));
    }
    match first_offset(detail) {
        Some(offset) => {
            let (line, column) = line_column(src, offset);
            (message, Some(line), Some(column))
        }
        None => (message, None, None),
    }
}

/// 1-based line and column (counted in characters) of byte `offset` in `src`
fn line_column(src: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for (index, ch) in src.char_indices() {
        if index >= offset {
            break;
        }
        if ch == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one_and_in_characters() {
        let src = "ab\ncé\nxyz";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 3), (2, 1));
        // `é` is two bytes: the `\n` after it is at byte 6, `x` at byte 7
        assert_eq!(line_column(src, 7), (3, 1));
        assert_eq!(line_column(src, 6), (2, 3));
    }

    #[test]
    fn the_engine_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PolicyEngine>();
    }
}
