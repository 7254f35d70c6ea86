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
    /// Contains bidirectional overrides or zero-width characters, which can make a name
    /// read as something else
    #[error("display name contains invisible or bidirectional control characters")]
    InvisibleCharacters,
}

/// Characters that change how surrounding text reads without being seen: bidirectional
/// marks, embeddings, overrides and isolates, and zero-width characters (the Trojan Source
/// set, CVE-2021-42574, plus the zero-width space, joiners and the BOM)
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
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
        if trimmed.chars().any(is_invisible) {
            return Err(DisplayNameError::InvisibleCharacters);
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

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_refused() {
        for bad in [
            "admin\u{202E}nimda",
            "Ada\u{200B}Lovelace",
            "\u{2066}Ada\u{2069}",
            "Ada\u{FEFF}",
            "A\u{200D}da",
            "\u{200F}Ada",
        ] {
            assert_eq!(
                DisplayName::parse(bad),
                Err(DisplayNameError::InvisibleCharacters),
                "{bad:?}"
            );
        }
        assert_eq!(
            DisplayName::parse("Zoë Ñúñez 李").unwrap().as_str(),
            "Zoë Ñúñez 李"
        );
    }
}
