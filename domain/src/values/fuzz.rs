//! Fuzzing of the value types with proptest: whatever text arrives from outside, parsing never panics; a value it
//! accepts is in canonical form (parsing its text again gives the same value), and a refusal says why.
//!
//! Each property runs `FUZZ_CASES` cases (default 512), a fixed budget so that CI time stays bounded; raise it for a
//! longer hunt: `FUZZ_CASES=100000 cargo test -p portal-domain fuzz`.

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::*;

fn config() -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    Config {
        cases,
        // A failure is reported with its shrunk input in the test's output; no files are written into the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// Any text, or text near the shape `near` describes (a regular expression), with noise around it.
fn text(near: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        near,
        (near, "[ \t\n\u{0}\u{200b}\u{feff}é'\"<>%\\\\]{0,3}")
            .prop_map(|(a, b)| format!("{b}{a}{b}")),
        proptest::collection::vec(any::<char>(), 0..300).prop_map(|c| c.into_iter().collect()),
    ]
}

/// Asserts the two properties for one parser: canonical when accepted, a reason when refused.
macro_rules! canonical {
    ($test:ident, $near:expr, |$raw:ident| $parse:expr, |$value:ident| $show:expr) => {
        proptest! {
            #![proptest_config(config())]
            #[test]
            fn $test(input in text($near)) {
                let parse = |$raw: &str| $parse;
                match parse(&input) {
                    Ok(value) => {
                        let shown: String = { let $value = &value; $show };
                        let again = parse(&shown);
                        prop_assert_eq!(again.as_ref().ok(), Some(&value), "{:?} shown as {:?}", input, shown);
                    }
                    Err(error) => prop_assert!(!error.to_string().is_empty()),
                }
            }
        }
    };
}

canonical!(
    email_addresses,
    "[a-zA-Z0-9._%+-]{1,20}@[a-zA-Z0-9.-]{1,20}\\.[a-z]{2,6}",
    |raw| EmailAddress::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    phone_numbers,
    "\\+?[0-9 ().-]{3,20}",
    |raw| PhoneNumber::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    activity_codes,
    "[A-Za-z0-9]{1,20}",
    |raw| ActivityCode::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    activity_titles,
    "[A-Za-z &-]{0,210}",
    |raw| ActivityTitle::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    credit_amounts,
    "[0-9]{0,4}(\\.[0-9]{0,3})?",
    |raw| CreditAmount::parse(raw),
    |v| v.to_string()
);
canonical!(
    time_zones,
    "(America|Europe|Asia)/[A-Z][a-z_]{2,12}",
    |raw| TimeZone::parse(raw),
    |v| v.name().to_owned()
);
canonical!(
    organization_codes,
    "[a-zA-Z0-9-]{0,40}",
    |raw| OrganizationCode::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    organization_names,
    "[A-Za-z .'-]{0,210}",
    |raw| OrganizationName::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    name_parts,
    "[A-Za-z '.-]{0,110}",
    |raw| NamePart::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    titles,
    "(Dr|Mr|Ms|Prof)\\.?",
    |raw| Title::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    clinic_numbers,
    "[A-Za-z0-9-]{0,24}",
    |raw| ClinicNumber::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    usernames,
    "[A-Za-z0-9._-]{0,40}",
    |raw| Username::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    activation_codes,
    "[A-Za-z0-9-]{0,24}",
    |raw| ActivationCode::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    sms_account_ids,
    "AC[0-9a-f]{30,34}",
    |raw| SmsAccountId::parse(raw),
    |v| v.as_str().to_owned()
);
canonical!(
    dates_of_birth,
    "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}",
    |raw| DateOfBirth::parse(
        raw,
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or(NaiveDate::MAX)
    ),
    |v| v.date().format("%Y-%m-%d").to_string()
);

struct NoneBlocked;

impl PasswordBlocklist for NoneBlocked {
    fn is_blocked(&self, _: &str) -> bool {
        false
    }
}

proptest! {
    #![proptest_config(config())]

    /// Passwords are kept as given (never trimmed or cut) when they are 12 to 128 characters.
    #[test]
    fn passwords(input in text(".{8,140}")) {
        let length = input.chars().count();
        match Password::parse(&input, &NoneBlocked) {
            Ok(password) => {
                prop_assert!((MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length));
                prop_assert_eq!(password.expose(), input.as_str());
            }
            Err(error) => prop_assert!(
                !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) && !error.to_string().is_empty()
            ),
        }
    }
}

canonical!(
    conversation_subjects,
    "[A-Za-z ,.?]{1,160}",
    |raw| ConversationSubject::parse(raw),
    |v| v.as_str().to_owned()
);

canonical!(
    message_bodies,
    "[A-Za-z \n.,]{1,200}",
    |raw| MessageBody::parse(raw),
    |v| v.as_str().to_owned()
);

canonical!(
    attachment_references,
    "[a-z0-9._:/-]{1,210}",
    |raw| AttachmentRef::parse(raw),
    |v| v.as_str().to_owned()
);

canonical!(
    test_codes,
    "[A-Za-z0-9.:_-]{1,45}",
    |raw| TestCode::parse(raw),
    |v| v.as_str().to_owned()
);

canonical!(
    amounts,
    "[0-9]{1,9}(\\.[0-9]{0,3})?",
    |raw| Money::parse(raw, "amount"),
    |v| v.to_string()
);

canonical!(
    processor_references,
    "[A-Za-z0-9._:-]{1,105}",
    |raw| ProcessorReference::parse(raw),
    |v| v.as_str().to_owned()
);

canonical!(
    medication_names,
    "[A-Za-z0-9 .]{1,210}",
    |raw| MedicationName::parse(raw),
    |v| v.as_str().to_owned()
);
