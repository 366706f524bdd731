//! Values of the patient portal's care features: messages with the care team, test results, bills and prescriptions.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::FieldError;

/// Trims `raw` and checks it has 1 to `max` characters and no control characters other than line breaks and tabs.
fn text(
    raw: &str,
    field: &'static str,
    max: usize,
    rule: &'static str,
) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len == 0 || len > max {
        return Err(FieldError { field, rule });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError {
            field,
            rule: "has no control characters",
        });
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr, $rule:literal, single_line = $single:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses raw input.
            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                let value = text(raw, $field, $max, $rule)?;
                if $single && value.contains(['\n', '\r']) {
                    return Err(FieldError { field: $field, rule: "is one line" });
                }
                Ok(Self(value))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// The subject of a conversation with the care team: one line of 1 to 150 characters.
    ConversationSubject, "subject", 150, "has 1 to 150 characters", single_line = true
);
text_type!(
    /// The text of a message: 1 to 10,000 characters.
    MessageBody, "body", 10_000, "has 1 to 10000 characters", single_line = false
);
text_type!(
    /// The name of a test (`Hemoglobin A1c`): one line of 1 to 200 characters.
    TestName, "testName", 200, "has 1 to 200 characters", single_line = true
);
text_type!(
    /// A result's report, or its value when it is not a number: 1 to 20,000 characters.
    ResultReport, "report", 20_000, "has 1 to 20000 characters", single_line = false
);
text_type!(
    /// A reference range as the laboratory gives it (`4.0-5.6 %`): one line of 1 to 100 characters.
    ReferenceRange, "referenceRange", 100, "has 1 to 100 characters", single_line = true
);
text_type!(
    /// A line of a statement (`Office visit, 2026-11-02`): one line of 1 to 200 characters.
    LineDescription, "description", 200, "has 1 to 200 characters", single_line = true
);
text_type!(
    /// A medication as prescribed (`Lisinopril 10 mg tablet`): one line of 1 to 200 characters.
    MedicationName, "medication", 200, "has 1 to 200 characters", single_line = true
);
text_type!(
    /// How to take a medication (`1 tablet by mouth daily`): 1 to 500 characters.
    Instructions, "instructions", 500, "has 1 to 500 characters", single_line = false
);
text_type!(
    /// Why something was declined, or a note to the care team: 1 to 1,000 characters.
    Reason, "reason", 1_000, "has 1 to 1000 characters", single_line = false
);

/// A reference to a file held elsewhere (a document store's key or URL path): 1 to 200 letters, digits and
/// `._:/-`; portal keeps the reference, never the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentRef(String);

impl AttachmentRef {
    /// Parses raw input.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty()
            || value.len() > 200
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:/-".contains(c))
        {
            return Err(FieldError {
                field: "attachment",
                rule: "is 1 to 200 letters, digits or ._:/-",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The code of a kind of test (`HBA1C`, `LOINC:4548-4`): 1 to 40 upper-case letters, digits and `.:-_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TestCode(String);

impl TestCode {
    /// Parses raw input (upper-cased).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_ascii_uppercase();
        if value.is_empty()
            || value.len() > 40
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:-_".contains(c))
        {
            return Err(FieldError {
                field: "testCode",
                rule: "is 1 to 40 letters, digits or .:-_",
            });
        }
        Ok(Self(value))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a result compares with its reference range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultFlag {
    /// Within range.
    Normal,
    /// Below range.
    Low,
    /// Above range.
    High,
    /// Outside range, not a number.
    Abnormal,
    /// Needs attention at once.
    Critical,
}

impl ResultFlag {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultFlag::Normal => "normal",
            ResultFlag::Low => "low",
            ResultFlag::High => "high",
            ResultFlag::Abnormal => "abnormal",
            ResultFlag::Critical => "critical",
        }
    }
}

/// An amount of money in cents of the organization's currency, never negative: `12.50` is 1250.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

/// The largest amount one line or payment may have (ten million).
pub const MAX_CENTS: i64 = 1_000_000_000;

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Parses a decimal amount with at most two decimals (`12`, `12.5`, `12.50`), 0 to 10,000,000.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        let refuse = FieldError {
            field,
            rule: "is an amount such as 12.50 (0 to 10000000, at most two decimals)",
        };
        let raw = raw.trim();
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        if whole.is_empty()
            || whole.len() > 8
            || fraction.len() > 2
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
            || (raw.contains('.') && fraction.is_empty())
        {
            return Err(refuse);
        }
        let whole: i64 = whole.parse().map_err(|_| refuse.clone())?;
        let fraction: i64 = format!("{fraction:0<2}")
            .parse()
            .map_err(|_| refuse.clone())?;
        let cents = whole * 100 + fraction;
        if cents > MAX_CENTS {
            return Err(refuse);
        }
        Ok(Self(cents))
    }

    /// From cents already known to be in range (stored values).
    pub fn from_cents(cents: i64) -> Self {
        Self(cents.clamp(0, i64::MAX))
    }

    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// The sum, saturating.
    pub fn plus(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// The difference, or None below zero.
    pub fn minus(self, other: Money) -> Option<Money> {
        (self.0 >= other.0).then(|| Money(self.0 - other.0))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A payment processor's reference for a payment (`ch_3PqR...`): 1 to 100 letters, digits and `._:-`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProcessorReference(String);

impl ProcessorReference {
    /// Parses raw input.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty()
            || value.len() > 100
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
        {
            return Err(FieldError {
                field: "processorReference",
                rule: "is 1 to 100 letters, digits or ._:-",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A payment processor's secret API key: a secret key (`sk_test_…`, `sk_live_…`) or a restricted one (`rk_…`).
/// Only the commands layer reads it, to seal it; it never reaches an event in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct ProcessorApiKey(String);

impl ProcessorApiKey {
    /// Parses raw input: `sk_` or `rk_` then 8 to 250 letters, digits or `_`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        secret_token(
            raw,
            &["sk_", "rk_"],
            "apiKey",
            "starts with sk_ or rk_ and has 8 to 250 letters, digits or _ after it",
        )
        .map(Self)
    }

    /// The key.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters, to tell keys apart without showing them.
    pub fn hint(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }

    /// Whether it is a live-mode key (real money) rather than a test-mode one.
    pub fn live(&self) -> bool {
        self.0.contains("_live_")
    }
}

impl fmt::Debug for ProcessorApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProcessorApiKey(<redacted>)")
    }
}

/// The secret a payment processor signs its webhooks with (`whsec_…`).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSigningSecret(String);

impl WebhookSigningSecret {
    /// Parses raw input: `whsec_` then 8 to 250 letters, digits or `_`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        secret_token(
            raw,
            &["whsec_"],
            "webhookSecret",
            "starts with whsec_ and has 8 to 250 letters, digits or _ after it",
        )
        .map(Self)
    }

    /// The secret.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for WebhookSigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSigningSecret(<redacted>)")
    }
}

fn secret_token(
    raw: &str,
    prefixes: &[&str],
    field: &'static str,
    rule: &'static str,
) -> Result<String, FieldError> {
    let value = raw.trim();
    let rest = prefixes
        .iter()
        .find_map(|p| value.strip_prefix(p))
        .ok_or(FieldError { field, rule })?;
    if !(8..=250).contains(&rest.len())
        || !rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(FieldError { field, rule });
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_up_to_two_decimals() {
        assert_eq!(Money::parse("12", "amount").unwrap().cents(), 1200);
        assert_eq!(Money::parse("12.5", "amount").unwrap().cents(), 1250);
        assert_eq!(Money::parse(" 0.07 ", "amount").unwrap().cents(), 7);
        assert_eq!(
            Money::parse("12.50", "amount").unwrap().to_string(),
            "12.50"
        );
    }

    #[test]
    fn malformed_or_negative_or_huge_amounts_are_refused() {
        for raw in [
            "",
            "-1",
            "1.234",
            "1.",
            ".5",
            "1e3",
            "12,50",
            "10000000.01",
            "NaN",
        ] {
            assert!(Money::parse(raw, "amount").is_err(), "{raw}");
        }
    }

    #[test]
    fn a_subject_is_one_line() {
        assert!(ConversationSubject::parse("Question about my dose").is_ok());
        assert_eq!(
            ConversationSubject::parse("two\nlines").unwrap_err().rule,
            "is one line"
        );
        assert!(ConversationSubject::parse("   ").is_err());
    }

    #[test]
    fn a_body_keeps_its_line_breaks_and_refuses_other_control_characters() {
        assert_eq!(
            MessageBody::parse(" Hello,\n\nthanks ").unwrap().as_str(),
            "Hello,\n\nthanks"
        );
        assert!(MessageBody::parse("bell\u{7}").is_err());
        assert!(MessageBody::parse(&"x".repeat(10_001)).is_err());
    }

    #[test]
    fn test_codes_are_upper_cased_and_limited_to_a_few_symbols() {
        assert_eq!(
            TestCode::parse("loinc:4548-4").unwrap().as_str(),
            "LOINC:4548-4"
        );
        assert!(TestCode::parse("A1C; DROP").is_err());
    }

    #[test]
    fn references_to_attachments_and_payments_are_plain_tokens() {
        assert!(AttachmentRef::parse("docs/2026/scan-1.pdf").is_ok());
        assert!(AttachmentRef::parse("<script>").is_err());
        assert!(ProcessorReference::parse("ch_3PqR.1").is_ok());
        assert!(ProcessorReference::parse("ch 3").is_err());
    }

    #[test]
    fn processor_keys_have_their_documented_prefixes() {
        let key = ProcessorApiKey::parse(" sk_test_51AbCdEf0123 ").unwrap();
        assert_eq!(key.hint(), "…0123");
        assert!(!key.live());
        assert!(ProcessorApiKey::parse("sk_live_51AbCdEf0123")
            .unwrap()
            .live());
        assert!(ProcessorApiKey::parse("pk_test_51AbCdEf0123").is_err());
        assert!(ProcessorApiKey::parse("sk_short").is_err());
        assert!(WebhookSigningSecret::parse("whsec_abcdefgh1234").is_ok());
        assert!(WebhookSigningSecret::parse("whsec_abc defgh1234").is_err());
        assert_eq!(format!("{key:?}"), "ProcessorApiKey(<redacted>)");
    }
}
