use serde::{Deserialize, Serialize};

/// The fewest characters a password may have (NIST SP 800-63B, OWASP ASVS 4.0.3 V2.1.1 ask for at least 12).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most characters a password may have (ASVS V2.1.2 allows up to 128; it is never truncated).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A list of passwords known from breaches, which no one may choose.
pub trait PasswordBlocklist {
    /// True when `candidate` is on the list.
    fn is_blocked(&self, candidate: &str) -> bool;
}

/// A new password that meets the policy: 12 to 128 characters of any kind (spaces and emoji included), no
/// composition rules, and not on the breached-password list. It is never logged or printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than 12 characters.
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than 128 characters.
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    /// On the list of passwords known from breaches.
    #[error("this password is in a list of passwords exposed in data breaches; choose another")]
    Breached,
}

impl Password {
    /// Applies the policy. Characters are Unicode code points; nothing is trimmed or truncated.
    pub fn parse(raw: &str, blocklist: &dyn PasswordBlocklist) -> Result<Self, PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(PasswordError::TooLong);
        }
        if blocklist.is_blocked(raw) {
            return Err(PasswordError::Breached);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string format (argon2id). The domain keeps it and never looks inside.
///
/// A secret (see `crate::secret`): readers outside the write side see `{"$secret": true}`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::secret::serialize_secret(serializer, |s| s.serialize_str(&self.0))
    }
}

impl PasswordHash {
    /// Wraps a PHC string produced by the hashing module.
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string.
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blocks(&'static str);
    impl PasswordBlocklist for Blocks {
        fn is_blocked(&self, candidate: &str) -> bool {
            candidate == self.0
        }
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        let list = Blocks("");
        assert_eq!(
            Password::parse("ünïcödé ün", &list),
            Err(PasswordError::TooShort)
        );
        assert!(Password::parse("🦀🦀🦀🦀🦀🦀 spaces ok", &list).is_ok());
        assert!(Password::parse(&"é".repeat(128), &list).is_ok());
        assert_eq!(
            Password::parse(&"é".repeat(129), &list),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn a_breached_password_is_refused() {
        let list = Blocks("correct horse battery");
        assert_eq!(
            Password::parse("correct horse battery", &list),
            Err(PasswordError::Breached)
        );
    }

    #[test]
    fn a_password_never_prints() {
        let list = Blocks("");
        let password = Password::parse("a very secret passphrase", &list).unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
    }
}
