//! Profile fields a user may set on themselves.

use std::fmt;

/// Why a display name is not acceptable
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    /// Empty after trimming
    #[error("display name is empty")]
    Empty,
    /// More than 100 characters
    #[error("display name is longer than 100 characters")]
    TooLong,
    /// Contains control characters
    #[error("display name contains control characters")]
    ControlCharacters,
}

/// A trimmed, printable display name of 1 to 100 characters
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates a display name
    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        if trimmed.chars().count() > 100 {
            return Err(DisplayNameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DisplayNameError::ControlCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as text
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DisplayName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse("   "), Err(DisplayNameError::Empty));
        assert_eq!(
            DisplayName::parse(&"x".repeat(101)),
            Err(DisplayNameError::TooLong)
        );
        assert_eq!(
            DisplayName::parse("a\u{0}b"),
            Err(DisplayNameError::ControlCharacters)
        );
    }
}
