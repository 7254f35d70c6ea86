//! Pure domain types of CloudDocs: validated newtypes, identities, scopes and principals.
//!
//! Nothing here performs I/O or knows about HTTP or SQL. Every raw input is parsed into a
//! type with a private field and a single validating constructor, so the rest of the code
//! never sees an unvalidated email, password or display name.
#![warn(missing_docs)]

mod email;
mod factors;
mod ids;
mod password;
mod principal;
mod profile;
mod roles;
mod scope;

pub use email::{Email, EmailError};
pub use factors::{Amr, Factor};
pub use ids::{ApiKeyId, ClientId, DocumentId, OrgId, SessionId, UserId};
pub use password::{Password, PasswordError, check_strength};
pub use principal::{AuthMethod, Principal};
pub use profile::{DisplayName, DisplayNameError};
pub use roles::{OrgRole, OrgRoleError, ShareRole, ShareRoleError};
pub use scope::{Scope, ScopeError, Scopes};
