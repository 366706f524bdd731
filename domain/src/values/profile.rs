use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Courtesy prefix, as the professional profile lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefix {
    /// Mr.
    Mr,
    /// Dr.
    Dr,
    /// Ms.
    Ms,
    /// Mrs.
    Mrs,
    /// Miss
    Miss,
}

/// What kind of address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressType {
    /// Home.
    Home,
    /// Work.
    Work,
}

/// A postal address. Each text is trimmed, non-empty and bounded; the country is an ISO 3166-1 alpha-2 code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Home or work.
    pub kind: AddressType,
    /// First line.
    pub line1: String,
    /// Second line.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: String,
}

/// Why a profile value is refused; `field` names the part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ProfileValueError {
    /// The part of the input (`line1`, `postalCode`, `dateOfBirth`, ...).
    pub field: &'static str,
    /// The rule, for people.
    pub rule: &'static str,
}

fn text(field: &'static str, raw: &str, max: usize) -> Result<String, ProfileValueError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ProfileValueError {
            field,
            rule: "is required",
        });
    }
    if trimmed.chars().count() > max || trimmed.chars().any(char::is_control) {
        return Err(ProfileValueError {
            field,
            rule: "is too long or has characters that are not allowed",
        });
    }
    Ok(trimmed.to_owned())
}

impl PostalAddress {
    /// Parses an address typed by a person.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        kind: AddressType,
        line1: &str,
        line2: Option<&str>,
        city: &str,
        state: &str,
        postal_code: &str,
        country: &str,
    ) -> Result<Self, ProfileValueError> {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ProfileValueError {
                field: "country",
                rule: "is a two-letter ISO 3166 country code",
            });
        }
        Ok(Self {
            kind,
            line1: text("line1", line1, 200)?,
            line2: line2
                .filter(|l| !l.trim().is_empty())
                .map(|l| text("line2", l, 200))
                .transpose()?,
            city: text("city", city, 100)?,
            state: text("state", state, 100)?,
            postal_code: text("postalCode", postal_code, 20)?,
            country,
        })
    }
}

/// A date of birth: a real date between 1900-01-01 and today (used for MOC and pharmacy credit reporting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    /// Parses `YYYY-MM-DD`; `today` is the upper bound.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, ProfileValueError> {
        let date =
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| ProfileValueError {
                field: "dateOfBirth",
                rule: "is a date written YYYY-MM-DD",
            })?;
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if date < earliest || date > today {
            return Err(ProfileValueError {
                field: "dateOfBirth",
                rule: "is between 1900-01-01 and today",
            });
        }
        Ok(Self(date))
    }

    /// The date.
    pub fn date(&self) -> NaiveDate {
        self.0
    }
}

/// A need the organization should plan for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialNeed {
    /// Mobility.
    Mobility,
    /// Hearing.
    Hearing,
    /// Vision.
    Vision,
    /// Diet.
    Dietary,
    /// Something else, to discuss with the coordinator.
    Other,
}

/// Special needs, where "none" is an explicit answer (the profile asks to select None if none apply).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer", content = "needs")]
pub enum SpecialNeeds {
    /// None apply.
    None,
    /// These apply (at least one).
    Some(Vec<SpecialNeed>),
}

/// The enrollment type that fits the person best.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentType {
    /// Physician.
    Physician,
    /// Resident or fellow.
    ResidentOrFellow,
    /// Nurse or nurse practitioner.
    Nurse,
    /// Pharmacist.
    Pharmacist,
    /// Physician assistant.
    PhysicianAssistant,
    /// Another health professional.
    OtherHealthProfessional,
    /// Not a health professional.
    NonHealthProfessional,
}

/// Whether the person holds a medical license of a named state, and its number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer")]
pub enum StateLicense {
    /// No.
    No {
        /// The state asked about (two letters, such as FL).
        state: String,
    },
    /// Yes, with this number.
    Yes {
        /// The state (two letters).
        state: String,
        /// The license number.
        number: String,
    },
}

impl StateLicense {
    /// Parses the answer for `state` (two letters); a yes needs a number of 1 to 30 letters, digits or hyphens.
    pub fn parse(
        state: &str,
        holds: bool,
        number: Option<&str>,
    ) -> Result<Self, ProfileValueError> {
        let state = state.trim().to_ascii_uppercase();
        if state.len() != 2 || !state.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ProfileValueError {
                field: "licenseState",
                rule: "is a two-letter state code",
            });
        }
        if !holds {
            return Ok(Self::No { state });
        }
        let number = number
            .map(str::trim)
            .unwrap_or_default()
            .to_ascii_uppercase();
        if number.is_empty()
            || number.len() > 30
            || !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(ProfileValueError {
                field: "licenseNumber",
                rule: "is required with a yes: 1 to 30 letters, digits or hyphens",
            });
        }
        Ok(Self::Yes { state, number })
    }
}

/// The kind of credit the person is eligible for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditEligibility {
    /// AMA PRA Category 1 Credit (physicians).
    AmaPraCategory1,
    /// ANCC contact hours (nurses).
    AnccContactHours,
    /// ACPE credit (pharmacy).
    Acpe,
    /// A certificate of participation (other professionals).
    Participation,
}

/// The professional profile (seed 000, step 6). Every field but `employed_by_care_network` starts unanswered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDetails {
    /// Courtesy prefix.
    pub prefix: Option<Prefix>,
    /// Employed by an organization of the clinic's care network (defaults to no).
    pub employed_by_care_network: bool,
    /// Postal address.
    pub address: Option<PostalAddress>,
    /// Date of birth.
    pub date_of_birth: Option<DateOfBirth>,
    /// Special needs, with "none" as an answer.
    pub special_needs: Option<SpecialNeeds>,
    /// Enrollment type.
    pub enrollment_type: Option<EnrollmentType>,
    /// Medical license of the named state.
    pub state_license: Option<StateLicense>,
    /// Credit eligibility.
    pub credit_eligibility: Option<CreditEligibility>,
}

impl ProfileDetails {
    /// The required fields still unanswered, by their API names. Credit-awarding activities need none missing.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.prefix.is_none() {
            missing.push("prefix");
        }
        if self.address.is_none() {
            missing.push("address");
        }
        if self.date_of_birth.is_none() {
            missing.push("dateOfBirth");
        }
        if self.special_needs.is_none() {
            missing.push("specialNeeds");
        }
        if self.enrollment_type.is_none() {
            missing.push("enrollmentType");
        }
        if self.state_license.is_none() {
            missing.push("stateLicense");
        }
        if self.credit_eligibility.is_none() {
            missing.push("creditEligibility");
        }
        missing
    }

    /// True when nothing required is missing.
    pub fn is_complete(&self) -> bool {
        self.missing_fields().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn a_new_profile_misses_every_required_field_but_not_employment() {
        let missing = ProfileDetails::default().missing_fields();
        assert_eq!(
            missing,
            vec![
                "prefix",
                "address",
                "dateOfBirth",
                "specialNeeds",
                "enrollmentType",
                "stateLicense",
                "creditEligibility"
            ]
        );
    }

    #[test]
    fn dates_of_birth_are_real_and_in_the_past() {
        assert!(DateOfBirth::parse("1980-02-29", today()).is_ok());
        for raw in ["1981-02-29", "2027-01-01", "1899-12-31", "29/02/1980"] {
            assert_eq!(
                DateOfBirth::parse(raw, today()).unwrap_err().field,
                "dateOfBirth",
                "{raw}"
            );
        }
    }

    #[test]
    fn an_address_names_the_part_that_is_wrong() {
        let ok = PostalAddress::parse(
            AddressType::Home,
            "1 Main St",
            None,
            "Rochester",
            "MN",
            "55901",
            "us",
        )
        .unwrap();
        assert_eq!(ok.country, "US");
        let err = PostalAddress::parse(
            AddressType::Home,
            "1 Main St",
            None,
            " ",
            "MN",
            "55901",
            "US",
        )
        .unwrap_err();
        assert_eq!(err.field, "city");
        let err = PostalAddress::parse(
            AddressType::Home,
            "1 Main St",
            None,
            "X",
            "MN",
            "55901",
            "USA",
        )
        .unwrap_err();
        assert_eq!(err.field, "country");
    }

    #[test]
    fn a_yes_needs_a_license_number() {
        assert_eq!(
            StateLicense::parse("fl", false, None).unwrap(),
            StateLicense::No { state: "FL".into() }
        );
        assert_eq!(
            StateLicense::parse("FL", true, None).unwrap_err().field,
            "licenseNumber"
        );
        assert_eq!(
            StateLicense::parse("FL", true, Some("me-12345")).unwrap(),
            StateLicense::Yes {
                state: "FL".into(),
                number: "ME-12345".into()
            }
        );
    }
}
