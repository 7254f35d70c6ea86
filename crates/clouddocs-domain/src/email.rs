//! Email addresses, normalized so that comparisons are case-insensitive.

use std::fmt;

/// Why a string is not an acceptable email address
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty after trimming
    #[error("email is empty")]
    Empty,
    /// Longer than 254 characters (RFC 5321)
    #[error("email is longer than 254 characters")]
    TooLong,
    /// Not of the form `local@domain`
    #[error("email must look like `name@example.com`")]
    Malformed,
}

/// A syntactically valid email address, trimmed and lowercased
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Validates and normalizes an email address
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.split_once('@').ok_or(EmailError::Malformed)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '@';
        if local.is_empty()
            || domain.is_empty()
            || local.chars().count() > 64
            || local.chars().any(bad_char)
            || domain.chars().any(bad_char)
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(EmailError::Malformed);
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    /// The normalized address
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_rejected_with_a_reason() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "a b@example.com",
            "a@b@c.com",
            "a@localhost",
            "a@.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(250))),
            Err(EmailError::TooLong)
        );
    }
}
