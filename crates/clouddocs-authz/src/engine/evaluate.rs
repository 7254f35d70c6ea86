//! Evaluating requests against the active set into a [`Decision`], one at a time or many
//! documents at once with a [`DocumentDecider`].

use std::collections::HashMap;
use std::sync::Arc;

use cedar_policy::{Context, Entities, EntityUid, PolicySet, Request, RestrictedExpression};

use super::PolicyEngine;
use super::compile::ActiveSet;
use super::slices::{self, with_sources};
use crate::decision::Decision;
use crate::entities::{DocAction, DocumentFacts, PrincipalFacts};

impl PolicyEngine {
    /// Evaluates one of our own requests. The entities and the request are built by
    /// `entities.rs` from typed facts, and the schema-conformance of that construction is
    /// pinned by the tests (every cell of the policy table and a property test run through
    /// here). Validating them again on every decision would triple its cost, so the schema
    /// is applied once: to the policies, when they are loaded.
    pub(super) fn evaluate(
        &self,
        active: &ActiveSet,
        policies: &PolicySet,
        request: Result<Request, String>,
        entities: &Entities,
    ) -> Decision {
        match request {
            Ok(request) => self.authorize(active, policies, &request, entities),
            Err(err) => fatal(&err),
        }
    }

    /// Cedar's answer to `request` under `policies`, its reasons named by `active`'s labels
    pub(super) fn authorize(
        &self,
        active: &ActiveSet,
        policies: &PolicySet,
        request: &Request,
        entities: &Entities,
    ) -> Decision {
        let response = self.authorizer.is_authorized(request, policies, entities);
        Decision::from_response(&response, &active.labels)
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

impl<'a> DocumentDecider<'a> {
    /// The decider of `principal` doing `action`, against the engine's active set now
    pub(super) fn new(
        engine: &'a PolicyEngine,
        principal: &'a PrincipalFacts,
        action: DocAction,
    ) -> Self {
        Self {
            engine,
            active: engine.current(),
            principal,
            principal_uid: engine.vocabulary.user(&principal.user_id),
            doc_action: action,
            action: engine.vocabulary.action(action).clone(),
            orgs: HashMap::new(),
        }
    }
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
            Ok(org) => slices::with_document(org, entity),
            Err(err) => return fatal(err),
        };
        let entities = match entities {
            Ok(entities) => entities,
            Err(err) => return fatal(&err),
        };
        self.engine.evaluate(
            &self.active,
            self.active.for_action(self.doc_action),
            request(
                self.principal_uid.clone(),
                self.action.clone(),
                resource,
                self.principal.mfa,
            ),
            &entities,
        )
    }

    fn org_entities(&mut self, org_id: &str) -> &Result<Entities, String> {
        let (vocabulary, principal) = (&self.engine.vocabulary, self.principal);
        self.orgs
            .entry(org_id.to_owned())
            .or_insert_with(|| slices::org(vocabulary, principal, org_id))
    }
}

/// One of our own requests: `context.mfa` says whether the principal's sign-in was
/// multi-factor, so a policy can demand it (`when { context.mfa }`)
pub(super) fn request(
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
    mfa: bool,
) -> Result<Request, String> {
    let context = Context::from_pairs([("mfa".to_owned(), RestrictedExpression::new_bool(mfa))])
        .map_err(|err| with_sources(&err))?;
    Request::new(principal, action, resource, context, None).map_err(|err| with_sources(&err))
}

/// The denial of a request that could not be built or evaluated
pub(super) fn fatal(err: &str) -> Decision {
    Decision::deny(format!("denied: the request could not be evaluated: {err}"))
}
