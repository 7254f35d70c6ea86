//! Roles: what a user is in an organization, and what a share grants on a document.

use std::fmt;
use std::str::FromStr;

/// A role a user holds in an organization
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Read, write, delete and manage members
    Admin,
    /// Read and write
    Editor,
    /// Read published documents
    Viewer,
}

/// A role string that CloudDocs does not know
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown org role `{0}`")]
pub struct OrgRoleError(pub String);

impl OrgRole {
    /// Every role, strongest first
    pub const ALL: [OrgRole; 3] = [OrgRole::Admin, OrgRole::Editor, OrgRole::Viewer];

    /// The wire name: `admin`, `editor` or `viewer`
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Admin => "admin",
            OrgRole::Editor => "editor",
            OrgRole::Viewer => "viewer",
        }
    }
}

impl FromStr for OrgRole {
    type Err = OrgRoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgRole::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| OrgRoleError(s.to_owned()))
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a share of a document grants its user
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareRole {
    /// May read the document
    Viewer,
    /// May read and edit the document
    Editor,
}

/// A share role string that CloudDocs does not know
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown share role `{0}`: expected `viewer` or `editor`")]
pub struct ShareRoleError(pub String);

impl ShareRole {
    /// The wire name: `viewer` or `editor`
    pub fn as_str(self) -> &'static str {
        match self {
            ShareRole::Viewer => "viewer",
            ShareRole::Editor => "editor",
        }
    }
}

impl FromStr for ShareRole {
    type Err = ShareRoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(ShareRole::Viewer),
            "editor" => Ok(ShareRole::Editor),
            other => Err(ShareRoleError(other.to_owned())),
        }
    }
}

impl fmt::Display for ShareRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_and_write_as_their_wire_names() {
        for role in OrgRole::ALL {
            assert_eq!(role.as_str().parse::<OrgRole>().unwrap(), role);
        }
        assert!("owner".parse::<OrgRole>().is_err());
        assert_eq!("editor".parse::<ShareRole>().unwrap(), ShareRole::Editor);
        assert_eq!(ShareRole::Viewer.to_string(), "viewer");
        assert!("admin".parse::<ShareRole>().is_err());
    }
}
