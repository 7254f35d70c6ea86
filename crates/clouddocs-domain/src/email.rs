//! Email addresses, normalized so that comparisons are case-insensitive and
//! compatibility-equivalent forms are one address, with a UTS #39 confusable skeleton so
//! that lookalikes of an address can be found.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

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
    /// Contains invisible or direction-changing characters
    #[error("email contains invisible or bidirectional control characters")]
    InvisibleCharacters,
}

/// A syntactically valid email address: trimmed, NFKC-normalized and lowercased
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Validates and normalizes an email address
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let normalized: String = raw.trim().nfkc().collect();
        let trimmed = normalized.trim();
        if trimmed.chars().any(crate::profile::is_invisible) {
            return Err(EmailError::InvisibleCharacters);
        }
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

    /// The UTS #39 confusable skeleton of the address, lowercased: two addresses a reader
    /// cannot tell apart (`pаypal@example.com` with a Cyrillic `а`, `paypal@example.com`)
    /// have the same skeleton
    pub fn skeleton(&self) -> String {
        unicode_security::skeleton(&self.0)
            .collect::<String>()
            .to_lowercase()
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
    fn compatibility_forms_are_one_address() {
        // Fullwidth letters and a ligature normalize (NFKC) to their plain forms.
        assert_eq!(
            Email::parse("ａｌｉｃｅ@example.com").unwrap(),
            Email::parse("alice@example.com").unwrap()
        );
        assert_eq!(
            Email::parse("ﬁn@example.com").unwrap().as_str(),
            "fin@example.com"
        );
    }

    #[test]
    fn a_cyrillic_lookalike_shares_the_skeleton_and_other_addresses_do_not() {
        let latin = Email::parse("paypal@example.com").unwrap();
        let cyrillic = Email::parse("p\u{0430}ypal@example.com").unwrap();
        let other = Email::parse("paypal2@example.com").unwrap();

        assert_ne!(latin, cyrillic, "different addresses");
        assert_eq!(latin.skeleton(), cyrillic.skeleton(), "that look the same");
        assert_ne!(latin.skeleton(), other.skeleton());
    }

    #[test]
    fn invisible_characters_are_refused() {
        for bad in ["ali\u{200b}ce@example.com", "alice@exa\u{202e}mple.com"] {
            assert_eq!(
                Email::parse(bad),
                Err(EmailError::InvisibleCharacters),
                "{bad:?}"
            );
        }
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
