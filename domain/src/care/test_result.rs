//! Test results: staff or an upstream system record a result for a patient; it is held back from the patient until a
//! provider releases it, or until the delay the organization set for its test has passed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{FieldError, ReferenceRange, ResultFlag, ResultReport, TestCode, TestName};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal};

/// The test-result aggregate: one stream per result.
pub struct TestResult;

/// What a result says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ResultValue {
    /// A measured value (`6.1`) and its unit (`%`).
    Measured {
        /// The value as the laboratory wrote it (a decimal number).
        value: String,
        /// The unit, if any.
        unit: Option<String>,
    },
    /// A report in words (imaging, pathology), or a value that is not a number.
    Report {
        /// The text.
        text: ResultReport,
    },
}

impl ResultValue {
    /// A measured value: a decimal number of up to 20 characters, and a unit of up to 20 characters.
    pub fn measured(value: &str, unit: Option<&str>) -> Result<Self, FieldError> {
        let value = value.trim();
        let number = value.strip_prefix(['-', '+', '<', '>']).unwrap_or(value);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
        if value.len() > 20
            || whole.is_empty()
            || fraction.is_empty()
            || !whole
                .chars()
                .chain(fraction.chars())
                .all(|c| c.is_ascii_digit())
        {
            return Err(FieldError {
                field: "value",
                rule: "is a decimal number such as 6.1 (optionally after <, > or a sign)",
            });
        }
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        if unit.is_some_and(|u| u.chars().count() > 20 || u.chars().any(char::is_control)) {
            return Err(FieldError {
                field: "unit",
                rule: "has 1 to 20 characters",
            });
        }
        Ok(ResultValue::Measured {
            value: value.to_owned(),
            unit: unit.map(str::to_owned),
        })
    }
}

/// What is recorded of a result.
#[derive(Clone, Debug, PartialEq)]
pub struct NewResult {
    /// The result's id.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient's account.
    pub patient: AccountId,
    /// The test's code (its history is kept by code).
    pub test_code: TestCode,
    /// The test's name.
    pub test_name: TestName,
    /// The value or report.
    pub value: ResultValue,
    /// The reference range.
    pub reference_range: Option<ReferenceRange>,
    /// How it compares with the range.
    pub flag: ResultFlag,
    /// The provider or care team of the catalogue who ordered it.
    pub ordering_provider: Uuid,
    /// When the specimen was taken or the study done.
    pub observed_at: DateTime<Utc>,
}

/// Who released a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "who")]
pub enum ReleasedBy {
    /// A provider.
    Provider {
        /// The provider's account.
        by: AccountId,
    },
    /// portal, once the organization's delay for the test had passed.
    Automatic,
}

/// Commands on a result.
#[derive(Clone, Debug)]
pub enum TestResultCommand {
    /// Records a result.
    Record {
        /// The result.
        result: Box<NewResult>,
        /// The staff member or upstream system's account.
        by: AccountId,
        /// The organization's delay for this test (None: a provider releases it).
        release_after: Option<Duration>,
    },
    /// Shows the result to the patient.
    Release {
        /// Who.
        by: ReleasedBy,
    },
}

/// Events of a result.
// A result is recorded once and released once: boxing the larger event would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum TestResultEvent {
    /// Recorded, held back from the patient.
    TestResultRecorded(TestResultRecorded),
    /// Released to the patient.
    TestResultReleased(TestResultReleased),
}

/// A result was recorded (v1); the patient does not see it until it is released.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResultRecorded {
    /// The result.
    pub result_id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// The test's code.
    pub test_code: TestCode,
    /// The test's name (personal: a test can say much about a person).
    pub test_name: Personal<TestName>,
    /// The value or report (personal).
    pub value: Personal<ResultValue>,
    /// The reference range.
    pub reference_range: Option<ReferenceRange>,
    /// The flag (personal).
    pub flag: Personal<ResultFlag>,
    /// The ordering provider or care team.
    pub ordering_provider: Uuid,
    /// When observed.
    pub observed_at: DateTime<Utc>,
    /// When it is released by itself, if it is.
    pub release_due_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A result was released to the patient (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResultReleased {
    /// Who.
    pub by: ReleasedBy,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for TestResultEvent {
    fn event_type(&self) -> &'static str {
        match self {
            TestResultEvent::TestResultRecorded(_) => "TestResultRecorded",
            TestResultEvent::TestResultReleased(_) => "TestResultReleased",
        }
    }
}

/// A result as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultInfo {
    /// The result.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient.
    pub patient: AccountId,
    /// The test.
    pub test_code: TestCode,
    /// When it is released by itself.
    pub release_due_at: Option<DateTime<Utc>>,
    /// When it was released.
    pub released_at: Option<DateTime<Utc>>,
}

/// The lifecycle of a result.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum TestResultState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Recorded.
    Recorded(Box<ResultInfo>),
}

/// Why a result command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestResultError {
    /// No such result.
    #[error("no such result")]
    NotFound,
    /// The id is taken.
    #[error("this result exists already")]
    Exists,
    /// Its delay has not passed (automatic release).
    #[error("this result is not due for release")]
    NotDue,
    /// Observed in the future.
    #[error("a result is observed before it is recorded")]
    ObservedInFuture,
}

impl ErrorCode for TestResultError {
    fn code(&self) -> &'static str {
        match self {
            TestResultError::NotFound => "RESULT_NOT_FOUND",
            TestResultError::Exists => "RESULT_EXISTS",
            TestResultError::NotDue => "RESULT_NOT_DUE",
            TestResultError::ObservedInFuture => "OBSERVED_IN_FUTURE",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            TestResultError::NotFound => Some("resultId"),
            TestResultError::ObservedInFuture => Some("observedAt"),
            _ => None,
        }
    }
}

impl Decider for TestResult {
    type State = TestResultState;
    type Command = TestResultCommand;
    type Event = TestResultEvent;
    type Error = TestResultError;
    const CATEGORY: &'static str = "testresult";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (
                TestResultState::Absent,
                TestResultCommand::Record {
                    result,
                    by,
                    release_after,
                },
            ) => {
                if result.observed_at > now + Duration::minutes(5) {
                    return Err(TestResultError::ObservedInFuture);
                }
                let result = *result;
                Ok(vec![TestResultEvent::TestResultRecorded(
                    TestResultRecorded {
                        result_id: result.id,
                        organization_id: result.organization,
                        patient_id: result.patient,
                        test_code: result.test_code,
                        test_name: Personal::Known(result.test_name),
                        value: Personal::Known(result.value),
                        reference_range: result.reference_range,
                        flag: Personal::Known(result.flag),
                        ordering_provider: result.ordering_provider,
                        observed_at: result.observed_at,
                        release_due_at: release_after.map(|delay| now + delay),
                        by,
                        at: now,
                    },
                )])
            }
            (TestResultState::Recorded(_), TestResultCommand::Record { .. }) => {
                Err(TestResultError::Exists)
            }
            (TestResultState::Absent, TestResultCommand::Release { .. }) => {
                Err(TestResultError::NotFound)
            }
            (TestResultState::Recorded(info), TestResultCommand::Release { by }) => {
                if info.released_at.is_some() {
                    return Ok(vec![]);
                }
                if by == ReleasedBy::Automatic && info.release_due_at.is_none_or(|due| now < due) {
                    return Err(TestResultError::NotDue);
                }
                Ok(vec![TestResultEvent::TestResultReleased(
                    TestResultReleased { by, at: now },
                )])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, TestResultEvent::TestResultRecorded(e)) => {
                TestResultState::Recorded(Box::new(ResultInfo {
                    id: e.result_id,
                    organization: e.organization_id,
                    patient: e.patient_id,
                    test_code: e.test_code.clone(),
                    release_due_at: e.release_due_at,
                    released_at: None,
                }))
            }
            (TestResultState::Recorded(mut info), TestResultEvent::TestResultReleased(e)) => {
                info.released_at = Some(e.at);
                TestResultState::Recorded(info)
            }
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
    }

    fn record(release_after: Option<Duration>) -> TestResultCommand {
        TestResultCommand::Record {
            result: Box::new(NewResult {
                id: Uuid::from_u128(1),
                organization: OrganizationId(Uuid::from_u128(2)),
                patient: AccountId(Uuid::from_u128(3)),
                test_code: TestCode::parse("HBA1C").unwrap(),
                test_name: TestName::parse("Hemoglobin A1c").unwrap(),
                value: ResultValue::measured("6.1", Some("%")).unwrap(),
                reference_range: Some(ReferenceRange::parse("4.0-5.6 %").unwrap()),
                flag: ResultFlag::High,
                ordering_provider: Uuid::from_u128(4),
                observed_at: t0() - Duration::hours(3),
            }),
            by: AccountId(Uuid::from_u128(5)),
            release_after,
        }
    }

    fn recorded(release_after: Option<Duration>) -> Vec<TestResultEvent> {
        TestResult::decide(&TestResultState::Absent, record(release_after), t0()).unwrap()
    }

    #[test]
    fn a_result_with_a_delay_is_due_for_release_after_it() {
        let events = recorded(Some(Duration::hours(72)));
        let TestResultEvent::TestResultRecorded(e) = &events[0] else {
            panic!()
        };
        assert_eq!(e.release_due_at, Some(t0() + Duration::hours(72)));
    }

    #[test]
    fn a_result_is_not_released_by_itself_before_its_delay() {
        given::<TestResult>(recorded(Some(Duration::hours(72))))
            .when(
                TestResultCommand::Release {
                    by: ReleasedBy::Automatic,
                },
                t0() + Duration::hours(71),
            )
            .then_error(TestResultError::NotDue);
    }

    #[test]
    fn a_result_without_a_delay_waits_for_a_provider() {
        given::<TestResult>(recorded(None))
            .when(
                TestResultCommand::Release {
                    by: ReleasedBy::Automatic,
                },
                t0() + Duration::days(365),
            )
            .then_error(TestResultError::NotDue);
    }

    #[test]
    fn a_provider_releases_a_result_at_any_time_and_once() {
        let provider = ReleasedBy::Provider {
            by: AccountId(Uuid::from_u128(6)),
        };
        let mut events = recorded(Some(Duration::hours(72)));
        let released = TestResult::decide(
            &TestResult::fold(events.iter()),
            TestResultCommand::Release { by: provider },
            t0(),
        )
        .unwrap();
        assert_eq!(
            released,
            vec![TestResultEvent::TestResultReleased(TestResultReleased {
                by: provider,
                at: t0()
            })]
        );
        events.extend(released);
        given::<TestResult>(events)
            .when(TestResultCommand::Release { by: provider }, t0())
            .then(vec![]);
    }

    #[test]
    fn a_result_observed_in_the_future_is_refused() {
        let TestResultCommand::Record { mut result, by, .. } = record(None) else {
            panic!()
        };
        result.observed_at = t0() + Duration::hours(1);
        given::<TestResult>(vec![])
            .when(
                TestResultCommand::Record {
                    result,
                    by,
                    release_after: None,
                },
                t0(),
            )
            .then_error(TestResultError::ObservedInFuture);
    }

    #[test]
    fn measured_values_are_numbers() {
        assert!(ResultValue::measured("<0.01", Some("ng/mL")).is_ok());
        assert!(ResultValue::measured("positive", None).is_err());
        assert!(ResultValue::measured("1.", None).is_err());
    }
}
