//! CloudDocs access control: a Cedar policy engine whose decisions carry their reasons.
//!
//! - [`PolicyEngine`] holds the schema and the active, validated policy set, hot-swappable
//!   with [`PolicyEngine::replace`].
//! - Callers pass plain facts ([`PrincipalFacts`], [`DocumentFacts`]); the engine builds only
//!   the entities one decision needs and answers with a [`Decision`] naming the policies
//!   behind it. Denial is the default; a policy that fails to evaluate is skipped and named
//!   in the reasons.
//! - [`PolicyEngine::check_custom`] answers "authorization as a service" questions with
//!   caller-supplied entities and custom types.
//! - [`scopes`] narrows a decision by a token's scopes.
#![warn(missing_docs)]

pub mod bounds;
mod decision;
mod engine;
mod entities;
pub mod scopes;

pub use decision::Decision;
pub use engine::{AuthzError, DEFAULT_POLICIES, DEFAULT_SCHEMA, DocumentDecider, PolicyEngine};
pub use entities::{
    CustomCheck, DocAction, DocumentFacts, EntityRef, OrgRole, OrgRoleError, PrincipalFacts,
};
pub use scopes::Scope;
