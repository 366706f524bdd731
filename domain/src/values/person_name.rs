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
    /// Looks like a web address, which mail programs would turn into a link in every e-mail that greets the person.
    #[error("a name may not look like a web address (such as www.example.com)")]
    LooksLikeLink,
}

/// Whether text looks like something a mail program turns into a link: a scheme (`https://`), `www.`, or a word
/// shaped like a domain name (`evil.example`, letters on both sides of a dot, two or more after it). Initials
/// such as "J.R." and "St. John" do not.
pub fn looks_like_link(text: &str) -> bool {
    let lower = text.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower.split_whitespace().any(|word| {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        let labels: Vec<&str> = word.split('.').collect();
        labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
            && labels[..labels.len() - 1]
                .iter()
                .any(|label| label.chars().count() >= 2)
    })
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
    if looks_like_link(trimmed) {
        return Err(NameError::LooksLikeLink);
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
    #[test]
    fn a_name_shaped_like_a_web_address_is_refused_and_initials_are_not() {
        for link in [
            "www.evil.example",
            "evil.example",
            "https://x",
            "Ada evil.co",
            "sub.domain.org.",
        ] {
            assert_eq!(
                NamePart::parse(link),
                Err(NameError::LooksLikeLink),
                "{link}"
            );
        }
        for name in [
            "J.R.",
            "St. John",
            "Ada",
            "O'Brien",
            "Mary-Ann",
            "Dr.",
            "A.B. Smith",
        ] {
            assert!(NamePart::parse(name).is_ok(), "{name}");
        }
    }

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
