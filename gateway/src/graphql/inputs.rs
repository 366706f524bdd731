//! Parsing GraphQL input into domain types at the edge, collecting every broken rule with its field and code.

use portal_commands::credentials::BreachedPasswords;
use portal_domain::values::{
    EmailAddress, EmailError, NameError, NamePart, OrganizationCode, Password, PasswordError,
    PersonName, Title,
};

use super::errors::{ApiError, FieldError};

/// The broken rules of one input object.
#[derive(Default)]
pub struct Checked {
    errors: Vec<FieldError>,
}

impl Checked {
    /// Records a broken rule of `field`.
    pub fn refuse(&mut self, field: &str, code: &'static str, message: String) {
        self.errors.push(FieldError {
            field: format!("input.{field}"),
            code,
            message,
        });
    }

    /// An e-mail address.
    pub fn email(&mut self, field: &str, raw: &str) -> Option<EmailAddress> {
        EmailAddress::parse(raw)
            .map_err(|e| {
                let code = match e {
                    EmailError::Empty => "EMAIL_REQUIRED",
                    EmailError::TooLong => "EMAIL_TOO_LONG",
                    EmailError::Malformed => "EMAIL_INVALID",
                };
                self.refuse(field, code, e.to_string());
            })
            .ok()
    }

    fn name_error(&mut self, field: &str, error: NameError) {
        let code = match error {
            NameError::Empty => "NAME_REQUIRED",
            NameError::TooLong(_) => "NAME_TOO_LONG",
            NameError::InvalidCharacters => "NAME_INVALID_CHARACTERS",
            NameError::LooksLikeLink => "NAME_LOOKS_LIKE_LINK",
        };
        self.refuse(field, code, error.to_string());
    }

    /// A required part of a name.
    pub fn name_part(&mut self, field: &str, raw: &str) -> Option<NamePart> {
        NamePart::parse(raw)
            .map_err(|e| self.name_error(field, e))
            .ok()
    }

    /// An optional part of a name: absent or blank means none.
    pub fn optional_name_part(
        &mut self,
        field: &str,
        raw: Option<&str>,
    ) -> Option<Option<NamePart>> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(text) => self.name_part(field, text).map(Some),
        }
    }

    /// An optional title: absent or blank means none.
    pub fn optional_title(&mut self, field: &str, raw: Option<&str>) -> Option<Option<Title>> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Some(None),
            Some(text) => Title::parse(text)
                .map(Some)
                .map_err(|e| self.name_error(field, e))
                .ok(),
        }
    }

    /// A full name.
    pub fn person_name(
        &mut self,
        title: Option<&str>,
        first: &str,
        middle: Option<&str>,
        last: &str,
    ) -> Option<PersonName> {
        let title = self.optional_title("title", title);
        let first = self.name_part("firstName", first);
        let middle = self.optional_name_part("middleName", middle);
        let last = self.name_part("lastName", last);
        Some(PersonName {
            title: title?,
            first: first?,
            middle: middle?,
            last: last?,
        })
    }

    /// A new password under the policy.
    pub fn new_password(&mut self, field: &str, raw: &str) -> Option<Password> {
        Password::parse(raw, &BreachedPasswords)
            .map_err(|e| {
                let code = match e {
                    PasswordError::TooShort => "PASSWORD_TOO_SHORT",
                    PasswordError::TooLong => "PASSWORD_TOO_LONG",
                    PasswordError::Breached => "PASSWORD_BREACHED",
                };
                self.refuse(field, code, e.to_string());
            })
            .ok()
    }

    /// An organization code.
    pub fn organization_code(&mut self, field: &str, raw: &str) -> Option<OrganizationCode> {
        OrganizationCode::parse(raw)
            .map_err(|e| self.refuse(field, "ORGANIZATION_CODE_INVALID", e.to_string()))
            .ok()
    }

    /// A password presented to sign in: only its length is checked (at most 128 characters, as when it was set),
    /// so that an over-long input cannot make hashing slow.
    pub fn presented_password<'a>(&mut self, field: &str, raw: &'a str) -> Option<&'a str> {
        if raw.chars().count() > portal_domain::values::MAX_PASSWORD_CHARS {
            self.refuse(
                field,
                "PASSWORD_TOO_LONG",
                PasswordError::TooLong.to_string(),
            );
            None
        } else {
            Some(raw)
        }
    }

    /// A parsed value, or the rule it broke recorded under `field` with `code`.
    pub fn value<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        code: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|e| self.refuse(field, code, e.to_string()))
            .ok()
    }

    /// A mobile number, normalised to E.164.
    pub fn phone(&mut self, field: &str, raw: &str) -> Option<portal_domain::values::PhoneNumber> {
        self.value(
            field,
            "PHONE_NUMBER_INVALID",
            portal_domain::values::PhoneNumber::parse(raw),
        )
    }

    /// Ok when no rule was broken; otherwise the first broken rule, listing all of them.
    pub fn finish(self) -> Result<(), ApiError> {
        ApiError::of_fields(self.errors).map_or(Ok(()), Err)
    }
}
