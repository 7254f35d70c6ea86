//! Plaintext passwords: bounded length, kept secret, checked for strength.

use std::collections::HashSet;
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

/// Minimum zxcvbn score (0 to 4) accepted for a new password
const MIN_SCORE: u8 = 3;

/// Why a password is not acceptable
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than 8 characters
    #[error("password must be at least 8 characters long")]
    TooShort,
    /// More than 128 characters
    #[error("password must be at most 128 characters long")]
    TooLong,
    /// On the list of commonly used passwords
    #[error("password is on the list of commonly used passwords")]
    Common,
    /// Guessable according to the strength estimate
    #[error("password is too easy to guess: {reason}")]
    Weak {
        /// The estimator's explanation
        reason: String,
    },
}

/// A plaintext password of 8 to 128 characters, redacted in `Debug`
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// Checks the length bounds only; use [`check_strength`] for new passwords
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let len = raw.chars().count();
        if len < 8 {
            return Err(PasswordError::TooShort);
        }
        if len > 128 {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// The plaintext, to be used only at the point of hashing or verifying
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Rejects passwords on the common-passwords list or scoring below 3 with zxcvbn.
///
/// `user_inputs` are words the password should not be built from, such as the email and
/// display name.
pub fn check_strength(password: &Password, user_inputs: &[&str]) -> Result<(), PasswordError> {
    let plain = password.expose();
    if common_passwords().contains(plain.to_lowercase().as_str()) {
        return Err(PasswordError::Common);
    }
    // INVARIANT: length is bounded to 128 by `Password::parse`, so the estimate is cheap.
    let entropy = zxcvbn::zxcvbn(plain, user_inputs);
    if u8::from(entropy.score()) < MIN_SCORE {
        let reason = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "add more words or less predictable characters".to_owned());
        return Err(PasswordError::Weak {
            reason: reason.trim_end_matches('.').to_lowercase(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_are_enforced() {
        assert_eq!(
            Password::parse("short").unwrap_err(),
            PasswordError::TooShort
        );
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err(),
            PasswordError::TooLong
        );
        assert!(Password::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn common_and_weak_passwords_are_rejected() {
        let common = Password::parse("Password123").unwrap();
        assert_eq!(check_strength(&common, &[]), Err(PasswordError::Common));
        let weak = Password::parse("aaaaaaaaaa").unwrap();
        assert!(matches!(
            check_strength(&weak, &[]),
            Err(PasswordError::Weak { .. })
        ));
        let personal = Password::parse("alice@example.com").unwrap();
        assert!(check_strength(&personal, &["alice@example.com"]).is_err());
    }

    #[test]
    fn a_strong_passphrase_is_accepted() {
        let strong = Password::parse("correct-violet-staple-harbor-91").unwrap();
        assert_eq!(check_strength(&strong, &[]), Ok(()));
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::parse("correct-violet-staple").unwrap();
        assert!(!format!("{p:?}").contains("violet"));
    }
}
