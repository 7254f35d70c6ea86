//! What a sign-in proved, as RFC 8176 authentication method references (`amr`).

use std::fmt;

/// One authentication factor
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    /// A password (`pwd`)
    Password,
    /// A one-time password: a TOTP code or a single-use recovery code (`otp`)
    Otp,
    /// A device-bound passkey (`hwk`): a key that never leaves its authenticator
    HardwareKey,
    /// A synced passkey (`swk`): backup-eligible, copied between a user's devices
    SoftwareKey,
}

impl Factor {
    /// The RFC 8176 value
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Password => "pwd",
            Factor::Otp => "otp",
            Factor::HardwareKey => "hwk",
            Factor::SoftwareKey => "swk",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Factor::Password => 1,
            Factor::Otp => 2,
            Factor::HardwareKey => 4,
            Factor::SoftwareKey => 8,
        }
    }

    const ALL: [Factor; 4] = [
        Factor::Password,
        Factor::Otp,
        Factor::HardwareKey,
        Factor::SoftwareKey,
    ];
}

/// The factors of one sign-in. A passkey counts as multi-factor on its own: CloudDocs asks
/// every passkey for user verification, so it proves possession of the key and the PIN or
/// biometric that unlocked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Amr(u8);

impl Amr {
    /// No factor (API keys, client credentials)
    pub const NONE: Amr = Amr(0);
    /// A password alone
    pub const PASSWORD: Amr = Amr(1);

    /// `self` with `factor` added
    #[must_use]
    pub fn with(self, factor: Factor) -> Amr {
        Amr(self.0 | factor.bit())
    }

    /// Whether `factor` is among the factors
    pub fn has(self, factor: Factor) -> bool {
        self.0 & factor.bit() != 0
    }

    /// Whether the sign-in proved more than one factor
    pub fn is_mfa(self) -> bool {
        self.0.count_ones() >= 2 || self.has(Factor::HardwareKey) || self.has(Factor::SoftwareKey)
    }

    /// The `amr` claim: each factor, then `mfa` when the sign-in was multi-factor
    pub fn values(self) -> Vec<&'static str> {
        let mut values: Vec<&'static str> = Factor::ALL
            .into_iter()
            .filter(|f| self.has(*f))
            .map(Factor::as_str)
            .collect();
        if self.is_mfa() {
            values.push("mfa");
        }
        values
    }

    /// Parses stored or claimed values (space-separated or a list); unknown values, such as
    /// `mfa` itself, are ignored since they follow from the factors
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Amr {
        values.into_iter().fold(Amr::NONE, |amr, value| {
            match Factor::ALL.into_iter().find(|f| f.as_str() == value) {
                Some(factor) => amr.with(factor),
                None => amr,
            }
        })
    }

    /// Parses the space-separated form [`fmt::Display`] writes
    pub fn from_stored(stored: &str) -> Amr {
        Amr::parse(stored.split_ascii_whitespace())
    }
}

impl fmt::Display for Amr {
    /// The factors, space-separated, as stored
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let factors: Vec<&str> = Factor::ALL
            .into_iter()
            .filter(|factor| self.has(*factor))
            .map(Factor::as_str)
            .collect();
        f.write_str(&factors.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_alone_is_one_factor() {
        assert_eq!(Amr::PASSWORD.values(), ["pwd"]);
        assert!(!Amr::PASSWORD.is_mfa());
    }

    #[test]
    fn a_password_and_a_code_are_multi_factor() {
        let amr = Amr::PASSWORD.with(Factor::Otp);
        assert_eq!(amr.values(), ["pwd", "otp", "mfa"]);
        assert_eq!(Amr::from_stored(&amr.to_string()), amr);
    }

    #[test]
    fn a_verified_passkey_is_multi_factor_on_its_own() {
        let amr = Amr::NONE.with(Factor::HardwareKey);
        assert_eq!(amr.values(), ["hwk", "mfa"]);
        assert!(Amr::NONE.with(Factor::SoftwareKey).is_mfa());
    }

    #[test]
    fn claimed_mfa_without_factors_proves_nothing() {
        assert_eq!(Amr::parse(["mfa", "pin"]), Amr::NONE);
        assert!(!Amr::parse(["mfa"]).is_mfa());
    }
}
