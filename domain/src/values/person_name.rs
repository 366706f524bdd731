use serde::{Deserialize, Serialize};

const MAX_NAME_CHARS: usize = 100;
const MAX_TITLE_CHARS: usize = 20;

/// One part of a person's name (first, middle or last): 1 to 100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NamePart(String);

/// An optional courtesy title such as "Dr." or "Ms.": 1 to 20 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Title(String);

/// Why a string is not a name part or title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty after trimming.
    #[error("this name is required")]
    Empty,
    /// Longer than allowed.
    #[error("this name has at most {0} characters")]
    TooLong(usize),
    /// Contains control characters.
    #[error("this name contains characters that are not allowed")]
    InvalidCharacters,
}

fn parse_text(raw: &str, max: usize) -> Result<String, NameError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(NameError::TooLong(max));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(NameError::InvalidCharacters);
    }
    Ok(trimmed.to_owned())
}

impl NamePart {
    /// Parses a name part; surrounding spaces are dropped.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        parse_text(raw, MAX_NAME_CHARS).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Title {
    /// Parses a title; surrounding spaces are dropped.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        parse_text(raw, MAX_TITLE_CHARS).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as the professional-account form asks for it: title and middle name are optional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// "Dr.", "Ms.", ...
    pub title: Option<Title>,
    /// Given name.
    pub first: NamePart,
    /// Middle name.
    pub middle: Option<NamePart>,
    /// Family name.
    pub last: NamePart,
}

impl PersonName {
    /// How to address the person in a message: first name.
    pub fn salutation(&self) -> &str {
        self.first.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(NamePart::parse("  Ada ").unwrap().as_str(), "Ada");
        assert_eq!(NamePart::parse(" "), Err(NameError::Empty));
        assert_eq!(
            NamePart::parse(&"x".repeat(101)),
            Err(NameError::TooLong(100))
        );
        assert_eq!(
            NamePart::parse("A\u{0}da"),
            Err(NameError::InvalidCharacters)
        );
        assert_eq!(Title::parse(&"x".repeat(21)), Err(NameError::TooLong(20)));
    }
}
