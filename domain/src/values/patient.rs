use serde::{Deserialize, Serialize};

use super::activity::FieldError;

/// The patient number printed on appointment letters and statements: 3 to 20 letters and digits, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClinicNumber(String);

impl ClinicNumber {
    /// Parses a number as typed: spaces and hyphens are ignored, letters compared in upper case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let number: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        if (3..=20).contains(&number.len()) && number.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Self(number))
        } else {
            Err(FieldError {
                field: "clinicNumber",
                rule: "has 3 to 20 letters and digits",
            })
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sign-in name chosen by a patient: 3 to 64 characters, lower-case letters, digits, `.`, `_` and `-`, starting
/// with a letter or digit; unique in the organization.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses a username; it is compared in lower case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim().to_ascii_lowercase();
        let valid = (3..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if valid {
            Ok(Self(name))
        } else {
            Err(FieldError {
                field: "username",
                rule: "has 3 to 64 letters, digits, dots, hyphens or underscores and starts with a letter or digit",
            })
        }
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The characters of activation codes: no 0/O or 1/I/L, which people misread.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A patient activation code, handed out at check-in or sent by e-mail: 12 characters shown in groups of four
/// (`ABCD-EFGH-JKMN`), about 59 bits of randomness.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

impl std::fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActivationCode(…)")
    }
}

impl ActivationCode {
    /// A code from 12 random bytes (the caller supplies the randomness).
    pub fn generate(random: [u8; 12]) -> Self {
        Self(
            random
                .iter()
                .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
                .collect(),
        )
    }

    /// Parses a code as typed: spaces and hyphens are ignored, case does not matter.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        if code.len() == 12 && code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Ok(Self(code))
        } else {
            Err(FieldError {
                field: "activationCode",
                rule: "has 12 letters and digits, as printed (ABCD-EFGH-JKMN)",
            })
        }
    }

    /// The code without separators (what is hashed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as shown to people, in groups of four.
    pub fn display(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinic_numbers_ignore_spaces_and_case() {
        assert_eq!(
            ClinicNumber::parse("mc 123-456").unwrap().as_str(),
            "MC123456"
        );
        assert!(ClinicNumber::parse("12").is_err());
        assert!(ClinicNumber::parse("12/34").is_err());
    }

    #[test]
    fn usernames_are_lower_case_and_bounded() {
        assert_eq!(Username::parse(" Ada.L ").unwrap().as_str(), "ada.l");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(".ada").is_err());
        assert!(Username::parse("ada lovelace").is_err());
    }

    #[test]
    fn activation_codes_read_back_as_printed() {
        let code = ActivationCode::generate([7; 12]);
        let printed = code.display();
        assert_eq!(printed.len(), 14);
        assert_eq!(
            ActivationCode::parse(&printed.to_lowercase()).unwrap(),
            code
        );
        assert!(
            ActivationCode::parse("ABCD-EFGH-JKL0").is_err(),
            "0 and L are not in the alphabet"
        );
        assert!(
            !format!("{code:?}").contains(code.as_str()),
            "Debug hides the code"
        );
    }
}
