use serde::{Deserialize, Serialize};

/// The code people type into the mobile app to find their organization (`umncpd`): 2 to 32 characters,
/// lower-case letters, digits and hyphens, starting with a letter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganizationCode(String);

/// An organization's display name: 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganizationName(String);

/// Why a string is not an organization code or name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationValueError {
    /// The code breaks its rule.
    #[error("an organization code has 2 to 32 lower-case letters, digits or hyphens and starts with a letter")]
    InvalidCode,
    /// The name is empty, too long or has control characters.
    #[error("an organization name has 1 to 200 characters")]
    InvalidName,
}

impl OrganizationCode {
    /// Parses a code; it is compared in lower case, so upper-case input is folded.
    pub fn parse(raw: &str) -> Result<Self, OrganizationValueError> {
        let code = raw.trim().to_ascii_lowercase();
        let len = code.chars().count();
        let valid = (2..=32).contains(&len)
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(code))
        } else {
            Err(OrganizationValueError::InvalidCode)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl OrganizationName {
    /// Parses a name; surrounding spaces are dropped.
    pub fn parse(raw: &str) -> Result<Self, OrganizationValueError> {
        let name = raw.trim();
        let len = name.chars().count();
        if (1..=200).contains(&len) && !name.chars().any(char::is_control) {
            Ok(Self(name.to_owned()))
        } else {
            Err(OrganizationValueError::InvalidName)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_folded_to_lower_case() {
        assert_eq!(
            OrganizationCode::parse(" UMNCPD ").unwrap().as_str(),
            "umncpd"
        );
    }

    #[test]
    fn codes_break_no_rule() {
        for raw in ["a", "1abc", "ab cd", "ab_cd", &"a".repeat(33)] {
            assert_eq!(
                OrganizationCode::parse(raw),
                Err(OrganizationValueError::InvalidCode),
                "{raw}"
            );
        }
    }
}
