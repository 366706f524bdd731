use serde::{Deserialize, Serialize};

/// An e-mail address of plausible shape (`local@domain.tld`), as the person typed it.
///
/// Uniqueness is case-insensitive: compare [`EmailAddress::canonical`], never the raw text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty after trimming.
    #[error("an e-mail address is required")]
    Empty,
    /// Longer than RFC 5321 allows (254 characters).
    #[error("an e-mail address has at most 254 characters")]
    TooLong,
    /// Not `local@domain` with a dotted domain.
    #[error("an e-mail address looks like name@example.org")]
    Malformed,
}

impl EmailAddress {
    /// Parses an address typed by a person: surrounding spaces are dropped, the rest is kept as typed.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| !c.is_whitespace() && !c.is_control());
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.chars().count() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(EmailError::Malformed)
        }
    }

    /// The address as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and look-up: lower case throughout.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_case_but_compares_in_lower_case() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace@Example.ORG");
        assert_eq!(email.canonical(), "ada.lovelace@example.org");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "ada@exa_mple.org",
            "ada..x@example.org",
        ] {
            assert_eq!(
                EmailAddress::parse(raw),
                Err(EmailError::Malformed),
                "{raw}"
            );
        }
        assert_eq!(EmailAddress::parse("   "), Err(EmailError::Empty));
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn international_domains_are_accepted() {
        assert!(EmailAddress::parse("jose@correo.españa.es").is_ok());
    }
}
