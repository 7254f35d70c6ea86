//! Building the entity slices, entities and requests a decision reads.
//!
//! Our own decisions get only the entities they need, built from typed facts by the
//! [`Vocabulary`] and closed transitively once; a custom check's entities, context and
//! request come from the caller and are parsed here.

use cedar_policy::{Context, Entities, Entity, EntityUid, Request};

use super::AuthzError;
use crate::entities::{
    self, CustomCheck, DocumentFacts, EntityRef, PrincipalFacts, Vocabulary, one_line,
};

/// The resource and the entities of a decision by `principal` on `document`: the org
/// slice plus the document, in one transitive closure over the whole slice
pub(super) fn document(
    vocabulary: &Vocabulary,
    principal: &PrincipalFacts,
    document: &DocumentFacts,
) -> Result<(EntityUid, Entities), String> {
    vocabulary
        .org_slice(principal, &document.org_id)
        .and_then(|mut slice| {
            let (resource, entity) = vocabulary.document_entity(document)?;
            slice.push(entity);
            // One transitive closure over the whole slice
            Entities::from_entities(slice, None)
                .map(|entities| (resource, entities))
                .map_err(|err| with_sources(&err))
        })
}

/// The org, its role groups and `principal` with its roles there, closed transitively
pub(super) fn org(
    vocabulary: &Vocabulary,
    principal: &PrincipalFacts,
    org_id: &str,
) -> Result<Entities, String> {
    vocabulary
        .org_slice(principal, org_id)
        .and_then(|slice| Entities::from_entities(slice, None).map_err(|err| with_sources(&err)))
}

/// A copy of an org's entities (from [`org`]) with one document entity added
pub(super) fn with_document(org: &Entities, document: Entity) -> Result<Entities, String> {
    org.clone()
        .add_entities([document], None)
        .map_err(|err| with_sources(&err))
}

/// `principal` managing the members of `org_id`: (principal, action, resource, entities)
pub(super) fn manage_users(
    vocabulary: &Vocabulary,
    principal: &PrincipalFacts,
    org_id: &str,
) -> Result<(EntityUid, EntityUid, EntityUid, Entities), String> {
    let (principal, action, resource, entities) =
        vocabulary.manage_users_slice(principal, org_id)?;
    let entities = Entities::from_entities(entities, None).map_err(|err| with_sources(&err))?;
    Ok((principal, action, resource, entities))
}

/// The Cedar request and entities of a caller-built question, within the bounds of
/// [`crate::bounds`] and without schema validation
pub(super) fn custom(request: &CustomCheck) -> Result<(Request, Entities), AuthzError> {
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
    Ok((cedar_request, entities))
}

fn bad_request(part: &str, err: &dyn std::error::Error) -> AuthzError {
    AuthzError::BadRequest(format!("invalid {part}: {}", with_sources(err)))
}

fn entity_ref_uid(entity: &EntityRef, part: &str) -> Result<EntityUid, AuthzError> {
    entities::uid(&entity.entity_type, &entity.id)
        .map_err(|err| AuthzError::BadRequest(format!("invalid {part}: {err}")))
}

/// An error and its causes on one line: Cedar often puts the useful part in a source
pub(super) fn with_sources(err: &dyn std::error::Error) -> String {
    let mut message = one_line(err);
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&one_line(cause));
        source = cause.source();
    }
    message
}
