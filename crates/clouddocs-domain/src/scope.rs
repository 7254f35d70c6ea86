//! OAuth-style scopes that narrow what a token or API key may do.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// One permission a token or API key may carry
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read documents
    DocumentsRead,
    /// Create, edit and share documents
    DocumentsWrite,
    /// Delete documents
    DocumentsDelete,
    /// Manage organizations and their members
    OrgsManage,
    /// Read and edit the caller's own profile
    Profile,
    /// OpenID Connect sign-in
    OpenId,
    /// The caller's email address (OpenID Connect)
    Email,
    /// Platform administration
    Admin,
}

/// A scope string that CloudDocs does not know
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct ScopeError(pub String);

impl Scope {
    /// Every scope, in a stable order
    pub const ALL: [Scope; 8] = [
        Scope::DocumentsRead,
        Scope::DocumentsWrite,
        Scope::DocumentsDelete,
        Scope::OrgsManage,
        Scope::Profile,
        Scope::OpenId,
        Scope::Email,
        Scope::Admin,
    ];

    /// The wire name, e.g. `documents:read`
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::DocumentsRead => "documents:read",
            Scope::DocumentsWrite => "documents:write",
            Scope::DocumentsDelete => "documents:delete",
            Scope::OrgsManage => "orgs:manage",
            Scope::Profile => "profile",
            Scope::OpenId => "openid",
            Scope::Email => "email",
            Scope::Admin => "admin",
        }
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| ScopeError(s.to_owned()))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of scopes; serialized as the space-separated OAuth form
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Every scope (what a session cookie carries, before role checks)
    pub fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// No scope at all
    pub fn none() -> Self {
        Self(BTreeSet::new())
    }

    /// Parses the space-separated OAuth form; empty means no scope
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        raw.split_ascii_whitespace()
            .map(Scope::from_str)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    /// Whether `scope` is granted
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `other` is granted here
    pub fn is_superset(&self, other: &Scopes) -> bool {
        self.0.is_superset(&other.0)
    }

    /// The scopes granted by both sets
    pub fn intersection(&self, other: &Scopes) -> Scopes {
        Self(self.0.intersection(&other.0).copied().collect())
    }

    /// Whether the set is empty
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes in a stable order
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Scope>::deserialize(d)?;
        Ok(list.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_the_oauth_form() {
        let scopes = Scopes::parse("profile documents:read  documents:read").unwrap();
        assert_eq!(scopes.to_string(), "documents:read profile");
        assert!(scopes.contains(Scope::Profile));
        assert!(!scopes.contains(Scope::Admin));
    }

    #[test]
    fn unknown_scopes_are_named_in_the_error() {
        assert_eq!(
            Scopes::parse("profile root").unwrap_err(),
            ScopeError("root".to_owned())
        );
    }
}
