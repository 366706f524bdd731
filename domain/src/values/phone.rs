use serde::{Deserialize, Serialize};

/// A mobile phone number in E.164 form (`+16125551234`): a plus, a country code and at most 15 digits in all.
///
/// Numbers written without a country code are read as North American (+1) numbers, the plan of the seed portals'
/// users; any other country's number must be written with its `+` and country code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// Why a string is not a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a phone number has 8 to 15 digits with its country code, as +16125551234 or (612) 555-1234"
)]
pub struct PhoneNumberError;

impl PhoneNumber {
    /// Parses a number as people and SMS providers write it: spaces, dots, dashes and parentheses are ignored.
    pub fn parse(raw: &str) -> Result<Self, PhoneNumberError> {
        let trimmed = raw.trim();
        let (international, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => match trimmed.strip_prefix("00") {
                Some(rest) => (true, rest),
                None => (false, trimmed),
            },
        };
        let mut digits = String::with_capacity(15);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '.' | '-' | '(' | ')' => {}
                _ => return Err(PhoneNumberError),
            }
        }
        let national_plan = |d: &str| {
            d.len() == 10 && !d.starts_with('0') && !d.starts_with('1') && d.as_bytes()[3] >= b'2'
        };
        let e164 = if international {
            digits
        } else if national_plan(&digits) {
            format!("1{digits}")
        } else if digits.len() == 11 && digits.starts_with('1') && national_plan(&digits[1..]) {
            digits
        } else {
            return Err(PhoneNumberError);
        };
        if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
            return Err(PhoneNumberError);
        }
        Ok(Self(format!("+{e164}")))
    }

    /// The E.164 form, with its plus.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, for messages that must not show the whole number.
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneNumberError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_numbers_keep_their_country_code() {
        assert_eq!(
            PhoneNumber::parse("+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            PhoneNumber::parse("0044 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn north_american_numbers_without_a_country_code_get_plus_one() {
        for raw in [
            "(612) 626-7600",
            "612.626.7600",
            "1-612-626-7600",
            "+1 612 626 7600",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw).unwrap().as_str(),
                "+16126267600",
                "{raw}"
            );
        }
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for raw in [
            "",
            "+",
            "12345",
            "612-626-760",
            "+1234567890123456",
            "612 626 7600 x12",
            "+0123456789",
            "011 626 7600",
        ] {
            assert_eq!(PhoneNumber::parse(raw), Err(PhoneNumberError), "{raw}");
        }
    }

    #[test]
    fn a_stored_number_is_checked_again_when_read() {
        assert!(serde_json::from_str::<PhoneNumber>("\"+16126267600\"").is_ok());
        assert!(serde_json::from_str::<PhoneNumber>("\"hello\"").is_err());
    }
}
