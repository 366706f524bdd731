//! Requests for an activation code made online by people without a clinic number or code (seed 001, step 2, third
//! way): staff check who they are, then approve (a code is sent) or reject.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::personal::mark_personal;
use crate::values::{ClinicNumber, DateOfBirth, EmailAddress, PersonName, PhoneNumber};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, PatientId, Personal, UpcastError};

/// The request aggregate.
pub struct SignUpRequest;

/// Who the person says they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityDetails {
    /// Name.
    pub name: PersonName,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// Where to send the code.
    pub email: EmailAddress,
    /// A phone number staff may call to confirm.
    pub phone: Option<PhoneNumber>,
    /// The clinic number, if they know it.
    pub clinic_number: Option<ClinicNumber>,
}

/// Where a request stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SignUpRequestState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Waiting for staff.
    Pending(Personal<IdentityDetails>),
    /// Approved: a code was sent.
    Approved,
    /// Rejected.
    Rejected,
}

/// Commands on a request.
#[derive(Clone, Debug)]
pub enum SignUpRequestCommand {
    /// The person asks for a code.
    Submit {
        /// Who they say they are.
        details: IdentityDetails,
    },
    /// Staff matched the person to a record and sent a code.
    Approve {
        /// The record.
        patient: PatientId,
        /// The staff member.
        by: AccountId,
    },
    /// Staff could not confirm who the person is.
    Reject {
        /// Why (for staff and auditors; the person is asked to call).
        reason: String,
        /// The staff member.
        by: AccountId,
    },
}

/// Events of a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SignUpRequestEvent {
    /// A code was asked for.
    ActivationCodeRequested(ActivationCodeRequested),
    /// Staff approved it.
    SignUpRequestApproved(SignUpRequestApproved),
    /// Staff rejected it.
    SignUpRequestRejected(SignUpRequestRejected),
}

/// Someone asked online for an activation code (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationCodeRequested {
    /// Who they say they are (personal).
    pub details: Personal<IdentityDetails>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Staff approved a request (v1): the record it matched got a new code, sent to the request's address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignUpRequestApproved {
    /// The record.
    pub patient_id: PatientId,
    /// The staff member.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Staff rejected a request (v2: the reason is personal; v1 stored it in clear).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignUpRequestRejected {
    /// Why (personal since v2: staff may write about the person).
    pub reason: Personal<String>,
    /// The staff member.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for SignUpRequestEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SignUpRequestEvent::ActivationCodeRequested(_) => "ActivationCodeRequested",
            SignUpRequestEvent::SignUpRequestApproved(_) => "SignUpRequestApproved",
            SignUpRequestEvent::SignUpRequestRejected(_) => "SignUpRequestRejected",
        }
    }

    fn schema_version(&self) -> u16 {
        match self {
            SignUpRequestEvent::SignUpRequestRejected(_) => 2,
            _ => 1,
        }
    }

    fn upcast(event_type: &str, version: u16, mut data: Value) -> Result<Value, UpcastError> {
        match (event_type, version) {
            ("SignUpRequestRejected", 1) => {
                mark_personal(&mut data, "reason");
                Ok(data)
            }
            ("SignUpRequestRejected", 2) | (_, 1) => Ok(data),
            _ => Err(UpcastError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
            }),
        }
    }
}

/// Why a request command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignUpRequestError {
    /// No such request.
    #[error("no such request")]
    NotFound,
    /// Decided already.
    #[error("this request was decided already")]
    AlreadyDecided,
    /// A rejection needs a reason.
    #[error("a rejection has a reason of 1 to 500 characters")]
    ReasonInvalid,
}

impl ErrorCode for SignUpRequestError {
    fn code(&self) -> &'static str {
        match self {
            SignUpRequestError::NotFound => "REQUEST_NOT_FOUND",
            SignUpRequestError::AlreadyDecided => "REQUEST_DECIDED",
            SignUpRequestError::ReasonInvalid => "REASON_INVALID",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SignUpRequestError::ReasonInvalid => Some("reason"),
            _ => None,
        }
    }
}

impl Decider for SignUpRequest {
    type State = SignUpRequestState;
    type Command = SignUpRequestCommand;
    type Event = SignUpRequestEvent;
    type Error = SignUpRequestError;
    const CATEGORY: &'static str = "signuprequest";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (SignUpRequestState::Absent, SignUpRequestCommand::Submit { details }) => {
                Ok(vec![SignUpRequestEvent::ActivationCodeRequested(
                    ActivationCodeRequested {
                        details: Personal::Known(details),
                        at: now,
                    },
                )])
            }
            (SignUpRequestState::Absent, _) => Err(SignUpRequestError::NotFound),
            (SignUpRequestState::Pending(_), SignUpRequestCommand::Approve { patient, by }) => {
                Ok(vec![SignUpRequestEvent::SignUpRequestApproved(
                    SignUpRequestApproved {
                        patient_id: patient,
                        by,
                        at: now,
                    },
                )])
            }
            (SignUpRequestState::Pending(_), SignUpRequestCommand::Reject { reason, by }) => {
                let reason = reason.trim().to_owned();
                if reason.is_empty() || reason.chars().count() > 500 {
                    return Err(SignUpRequestError::ReasonInvalid);
                }
                Ok(vec![SignUpRequestEvent::SignUpRequestRejected(
                    SignUpRequestRejected {
                        reason: Personal::Known(reason),
                        by,
                        at: now,
                    },
                )])
            }
            _ => Err(SignUpRequestError::AlreadyDecided),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            SignUpRequestEvent::ActivationCodeRequested(e) => {
                SignUpRequestState::Pending(e.details.clone())
            }
            SignUpRequestEvent::SignUpRequestApproved(_) => SignUpRequestState::Approved,
            SignUpRequestEvent::SignUpRequestRejected(_) => match state {
                SignUpRequestState::Absent => SignUpRequestState::Absent,
                _ => SignUpRequestState::Rejected,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use uuid::Uuid;

    fn requested() -> SignUpRequestEvent {
        SignUpRequestEvent::ActivationCodeRequested(ActivationCodeRequested {
            details: Personal::Erased,
            at: Utc::now(),
        })
    }

    #[test]
    fn a_version_1_rejection_reads_its_reason_as_known_personal_data() {
        let v1 = serde_json::json!({ "reason": "no such patient", "at": "2026-03-01T09:00:00Z" });

        let upcast = SignUpRequestEvent::upcast("SignUpRequestRejected", 1, v1).unwrap();

        assert_eq!(
            upcast["reason"],
            serde_json::json!({ "$pii": "no such patient" })
        );
    }

    #[test]
    fn a_decided_request_is_not_decided_again() {
        let approved = SignUpRequestEvent::SignUpRequestApproved(SignUpRequestApproved {
            patient_id: PatientId(Uuid::from_u128(1)),
            by: AccountId(Uuid::from_u128(2)),
            at: Utc::now(),
        });
        given::<SignUpRequest>([requested(), approved])
            .when(
                SignUpRequestCommand::Reject {
                    reason: "unknown".to_owned(),
                    by: AccountId(Uuid::from_u128(2)),
                },
                Utc::now(),
            )
            .then_error(SignUpRequestError::AlreadyDecided);
    }

    #[test]
    fn a_rejection_needs_a_reason() {
        given::<SignUpRequest>([requested()])
            .when(
                SignUpRequestCommand::Reject {
                    reason: "  ".to_owned(),
                    by: AccountId(Uuid::from_u128(2)),
                },
                Utc::now(),
            )
            .then_error(SignUpRequestError::ReasonInvalid);
    }
}
