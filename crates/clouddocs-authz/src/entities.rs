//! The facts a decision needs, and the few Cedar entities built from them.
//!
//! Callers load plain facts (no database types, no I/O here) and this module turns them
//! into exactly the entities one decision reads: the principal, its role groups in the one
//! org concerned, that org, and the document. Users named by the document (author, shares)
//! are referenced by uid only; Cedar does not need them as entities.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use cedar_policy::{Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use serde::{Deserialize, Serialize};

pub use clouddocs_domain::{OrgRole, OrgRoleError};

/// The role group a holder of `role` is put in (see the schema's nesting)
fn group_of(role: OrgRole) -> RoleGroup {
    match role {
        OrgRole::Admin => RoleGroup::Admins,
        OrgRole::Editor => RoleGroup::Editors,
        OrgRole::Viewer => RoleGroup::Members,
    }
}

/// What a caller wants to do with a document
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocAction {
    /// View the document
    Read,
    /// Edit the title or body
    Update,
    /// Delete the document
    Delete,
    /// Add or remove shares
    Share,
}

impl DocAction {
    /// Every document action
    pub const ALL: [DocAction; 4] = [
        DocAction::Read,
        DocAction::Update,
        DocAction::Delete,
        DocAction::Share,
    ];

    /// The Cedar action id, e.g. `read` for `CloudDocs::Action::"read"`
    pub fn as_str(self) -> &'static str {
        match self {
            DocAction::Read => "read",
            DocAction::Update => "update",
            DocAction::Delete => "delete",
            DocAction::Share => "share",
        }
    }
}

impl fmt::Display for DocAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is asking: the user and its org roles
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalFacts {
    /// The user's id
    pub user_id: String,
    /// Whether the user is a platform administrator
    pub platform_admin: bool,
    /// `(org_id, role)` for every org the user belongs to; only the org concerned is loaded
    pub memberships: Vec<(String, OrgRole)>,
    /// Whether the credential's sign-in was multi-factor (`context.mfa` of the request)
    #[serde(default)]
    pub mfa: bool,
}

impl PrincipalFacts {
    /// The roles this user holds in `org_id`
    pub fn roles_in<'a>(&'a self, org_id: &'a str) -> impl Iterator<Item = OrgRole> + 'a {
        self.memberships
            .iter()
            .filter(move |(org, _)| org == org_id)
            .map(|(_, role)| *role)
    }
}

/// The document a decision is about
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentFacts {
    /// The document's id
    pub id: String,
    /// The org that owns the document
    pub org_id: String,
    /// The user who created it
    pub author_id: String,
    /// Whether every org member may read it
    pub published: bool,
    /// Users it is shared with as viewers
    pub viewers: Vec<String>,
    /// Users it is shared with as editors
    pub editors: Vec<String>,
}

/// An entity uid as JSON: `{"type": "CloudDocs::User", "id": "alice"}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRef {
    /// The entity type, with its namespace, e.g. `LearningPlatform::User`
    #[serde(rename = "type")]
    pub entity_type: String,
    /// The entity id
    pub id: String,
}

/// An "authorization as a service" question, checked without schema validation
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomCheck {
    /// Who is asking
    pub principal: EntityRef,
    /// The action, e.g. `{"type": "LearningPlatform::Action", "id": "use_model"}`
    pub action: EntityRef,
    /// What it is about
    pub resource: EntityRef,
    /// The request context, a JSON object (`null` or absent means empty)
    #[serde(default)]
    pub context: serde_json::Value,
    /// The entities the policies may read, as a Cedar entities JSON array (`null` or absent means none)
    #[serde(default)]
    pub entities: serde_json::Value,
}

/// The namespace of the default schema
const NAMESPACE: &str = "CloudDocs";

/// The three nested role groups of an org
#[derive(Debug, Clone, Copy)]
enum RoleGroup {
    Admins,
    Editors,
    Members,
}

impl RoleGroup {
    fn suffix(self) -> &'static str {
        match self {
            RoleGroup::Admins => "admin",
            RoleGroup::Editors => "editor",
            RoleGroup::Members => "member",
        }
    }
}

/// Builds `type::"id"` from an already qualified type name
pub(crate) fn uid(entity_type: &str, id: &str) -> Result<EntityUid, String> {
    let type_name = EntityTypeName::from_str(entity_type)
        .map_err(|err| format!("invalid entity type `{entity_type}`: {}", one_line(&err)))?;
    Ok(EntityUid::from_type_name_and_id(
        type_name,
        EntityId::new(id),
    ))
}

/// The entity types and actions of the CloudDocs namespace, parsed once.
///
/// Parsing a type name runs Cedar's parser (a lexer with regular expressions): doing it
/// for every uid of every decision was the largest single cost of a decision. Only ids
/// vary between decisions, and an `EntityId` is taken as is, without parsing.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    user: EntityTypeName,
    org: EntityTypeName,
    org_role: EntityTypeName,
    document: EntityTypeName,
    read: EntityUid,
    update: EntityUid,
    delete: EntityUid,
    share: EntityUid,
    manage_users: EntityUid,
}

fn type_name(entity_type: &str) -> Result<EntityTypeName, String> {
    let name = format!("{NAMESPACE}::{entity_type}");
    EntityTypeName::from_str(&name)
        .map_err(|err| format!("invalid entity type `{name}`: {}", one_line(&err)))
}

impl Vocabulary {
    /// Parses the names; fails only if the constants above are not valid Cedar names
    pub(crate) fn new() -> Result<Self, String> {
        let action = type_name("Action")?;
        let action_uid =
            |id: &str| EntityUid::from_type_name_and_id(action.clone(), EntityId::new(id));
        Ok(Self {
            user: type_name("User")?,
            org: type_name("Org")?,
            org_role: type_name("OrgRole")?,
            document: type_name("Document")?,
            read: action_uid(DocAction::Read.as_str()),
            update: action_uid(DocAction::Update.as_str()),
            delete: action_uid(DocAction::Delete.as_str()),
            share: action_uid(DocAction::Share.as_str()),
            manage_users: action_uid("manage_users"),
        })
    }

    /// `CloudDocs::Action::"read"`, …
    pub(crate) fn action(&self, action: DocAction) -> &EntityUid {
        match action {
            DocAction::Read => &self.read,
            DocAction::Update => &self.update,
            DocAction::Delete => &self.delete,
            DocAction::Share => &self.share,
        }
    }

    /// Whether `uid` is one of the five CloudDocs actions (none is a group)
    pub(crate) fn is_known_action(&self, uid: &EntityUid) -> bool {
        *uid == self.manage_users
            || DocAction::ALL
                .into_iter()
                .any(|action| self.action(action) == uid)
    }

    fn uid(type_name: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
    }

    pub(crate) fn user(&self, user_id: &str) -> EntityUid {
        Self::uid(&self.user, user_id)
    }

    fn org(&self, org_id: &str) -> EntityUid {
        Self::uid(&self.org, org_id)
    }

    fn group(&self, org_id: &str, group: RoleGroup) -> EntityUid {
        Self::uid(&self.org_role, &format!("{org_id}#{}", group.suffix()))
    }

    /// The principal, holding only its roles in `org_id`
    fn user_entity(&self, principal: &PrincipalFacts, org_id: &str) -> Result<Entity, String> {
        let parents = principal
            .roles_in(org_id)
            .map(|role| self.group(org_id, group_of(role)))
            .collect::<HashSet<_>>();
        let attrs = HashMap::from([(
            "platform_admin".to_owned(),
            RestrictedExpression::new_bool(principal.platform_admin),
        )]);
        entity(self.user(&principal.user_id), attrs, parents)
    }

    /// The org and its nested role groups (admins in editors in members), and the
    /// principal holding only its roles in that org: everything a decision about one
    /// document of `org_id`, or about the org itself, reads besides the document
    pub(crate) fn org_slice(
        &self,
        principal: &PrincipalFacts,
        org_id: &str,
    ) -> Result<Vec<Entity>, String> {
        let admins = self.group(org_id, RoleGroup::Admins);
        let editors = self.group(org_id, RoleGroup::Editors);
        let members = self.group(org_id, RoleGroup::Members);
        let org_attrs = HashMap::from([
            (
                "admins".to_owned(),
                RestrictedExpression::new_entity_uid(admins.clone()),
            ),
            (
                "editors".to_owned(),
                RestrictedExpression::new_entity_uid(editors.clone()),
            ),
            (
                "members".to_owned(),
                RestrictedExpression::new_entity_uid(members.clone()),
            ),
        ]);
        Ok(vec![
            entity(self.org(org_id), org_attrs, HashSet::new())?,
            Entity::new_no_attrs(admins, HashSet::from([editors.clone()])),
            Entity::new_no_attrs(editors, HashSet::from([members.clone()])),
            Entity::new_no_attrs(members, HashSet::new()),
            self.user_entity(principal, org_id)?,
        ])
    }

    fn user_set(&self, user_ids: &[String]) -> RestrictedExpression {
        RestrictedExpression::new_set(
            user_ids
                .iter()
                .map(|id| RestrictedExpression::new_entity_uid(self.user(id))),
        )
    }

    /// The document entity; the users it names are referenced by uid only
    pub(crate) fn document_entity(
        &self,
        document: &DocumentFacts,
    ) -> Result<(EntityUid, Entity), String> {
        let resource = Self::uid(&self.document, &document.id);
        let attrs = HashMap::from([
            (
                "org".to_owned(),
                RestrictedExpression::new_entity_uid(self.org(&document.org_id)),
            ),
            (
                "author".to_owned(),
                RestrictedExpression::new_entity_uid(self.user(&document.author_id)),
            ),
            (
                "published".to_owned(),
                RestrictedExpression::new_bool(document.published),
            ),
            ("viewers".to_owned(), self.user_set(&document.viewers)),
            ("editors".to_owned(), self.user_set(&document.editors)),
        ]);
        let entity = entity(resource.clone(), attrs, HashSet::new())?;
        Ok((resource, entity))
    }

    /// `principal` managing the members of `org_id`: (principal, action, resource, entities)
    pub(crate) fn manage_users_slice(
        &self,
        principal: &PrincipalFacts,
        org_id: &str,
    ) -> Result<(EntityUid, EntityUid, EntityUid, Vec<Entity>), String> {
        Ok((
            self.user(&principal.user_id),
            self.manage_users.clone(),
            self.org(org_id),
            self.org_slice(principal, org_id)?,
        ))
    }
}

fn entity(
    uid: EntityUid,
    attrs: HashMap<String, RestrictedExpression>,
    parents: HashSet<EntityUid>,
) -> Result<Entity, String> {
    Entity::new(uid, attrs, parents).map_err(|err| one_line(&err))
}

/// Cedar's messages on one line, so they fit a reason or a problem detail
pub(crate) fn one_line(err: &dyn fmt::Display) -> String {
    err.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
