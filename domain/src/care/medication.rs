//! Prescriptions: the medications a patient takes, as the care team records them, and the patient's requests to
//! renew one, which a provider approves or declines with a reason.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Party;
use crate::values::{Instructions, MedicationName, Reason};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal};

/// The medication aggregate: one stream per prescribed medication.
pub struct Medication;

/// A renewal request as the aggregate keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Renewal {
    /// The request.
    pub id: Uuid,
    /// Approved (true) or declined (false), once decided.
    pub approved: Option<bool>,
}

/// A medication as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct MedicationInfo {
    /// The medication.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient.
    pub patient: AccountId,
    /// Still taken.
    pub active: bool,
    /// Renewal requests, oldest first.
    pub renewals: Vec<Renewal>,
}

impl MedicationInfo {
    /// The request waiting for a decision, if any.
    pub fn pending(&self) -> Option<&Renewal> {
        self.renewals.iter().find(|r| r.approved.is_none())
    }
}

/// The lifecycle of a medication.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum MedicationState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Prescribed.
    Prescribed(Box<MedicationInfo>),
}

/// A medication to record.
#[derive(Clone, Debug)]
pub struct NewMedication {
    /// Its id.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient's account.
    pub patient: AccountId,
    /// What.
    pub name: MedicationName,
    /// How to take it.
    pub instructions: Instructions,
    /// The prescribing provider or care team of the catalogue.
    pub prescriber: Uuid,
}

/// Commands on a medication.
#[derive(Clone, Debug)]
pub enum MedicationCommand {
    /// The care team records a medication the patient takes.
    Prescribe {
        /// The medication.
        medication: Box<NewMedication>,
        /// The staff member or provider.
        by: AccountId,
    },
    /// The patient stops taking it.
    Discontinue {
        /// The staff member or provider.
        by: AccountId,
    },
    /// The patient's side asks for a renewal.
    RequestRenewal {
        /// The request's id.
        request_id: Uuid,
        /// A note to the care team.
        note: Option<Reason>,
        /// The patient or their proxy.
        by: Party,
    },
    /// A provider decides the pending request.
    DecideRenewal {
        /// The request.
        request_id: Uuid,
        /// None to approve; the reason to decline.
        declined: Option<Reason>,
        /// The provider.
        by: AccountId,
    },
}

/// Events of a medication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum MedicationEvent {
    /// Recorded as taken.
    MedicationPrescribed(MedicationPrescribed),
    /// No longer taken.
    MedicationDiscontinued(MedicationDiscontinued),
    /// A renewal was asked for.
    RenewalRequested(RenewalRequested),
    /// A renewal was approved.
    RenewalApproved(RenewalApproved),
    /// A renewal was declined.
    RenewalDeclined(RenewalDeclined),
}

/// A medication was recorded as taken by the patient (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedicationPrescribed {
    /// The medication.
    pub medication_id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// What (personal).
    pub name: Personal<MedicationName>,
    /// How to take it (personal).
    pub instructions: Personal<Instructions>,
    /// The prescribing provider or care team.
    pub prescriber: Uuid,
    /// Who recorded it.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A medication is no longer taken (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedicationDiscontinued {
    /// Who recorded it.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// The patient's side asked for a renewal (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenewalRequested {
    /// The request.
    pub request_id: Uuid,
    /// A note to the care team (personal).
    pub note: Option<Personal<Reason>>,
    /// The patient or their proxy.
    pub by: Party,
    /// When.
    pub at: DateTime<Utc>,
}

/// A provider approved a renewal (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenewalApproved {
    /// The request.
    pub request_id: Uuid,
    /// The provider.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A provider declined a renewal (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenewalDeclined {
    /// The request.
    pub request_id: Uuid,
    /// Why (personal).
    pub reason: Personal<Reason>,
    /// The provider.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for MedicationEvent {
    fn event_type(&self) -> &'static str {
        match self {
            MedicationEvent::MedicationPrescribed(_) => "MedicationPrescribed",
            MedicationEvent::MedicationDiscontinued(_) => "MedicationDiscontinued",
            MedicationEvent::RenewalRequested(_) => "RenewalRequested",
            MedicationEvent::RenewalApproved(_) => "RenewalApproved",
            MedicationEvent::RenewalDeclined(_) => "RenewalDeclined",
        }
    }
}

/// Why a medication command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MedicationError {
    /// No such medication.
    #[error("no such medication")]
    NotFound,
    /// The id is taken.
    #[error("this medication exists already")]
    Exists,
    /// It is no longer taken.
    #[error("this medication was discontinued")]
    Discontinued,
    /// A request is waiting already.
    #[error("a renewal of this medication is waiting for the care team already")]
    RenewalPending,
    /// No such request waiting.
    #[error("no renewal request of this medication is waiting for a decision")]
    NoPendingRenewal,
}

impl ErrorCode for MedicationError {
    fn code(&self) -> &'static str {
        match self {
            MedicationError::NotFound => "MEDICATION_NOT_FOUND",
            MedicationError::Exists => "MEDICATION_EXISTS",
            MedicationError::Discontinued => "MEDICATION_DISCONTINUED",
            MedicationError::RenewalPending => "RENEWAL_PENDING",
            MedicationError::NoPendingRenewal => "RENEWAL_NOT_PENDING",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            MedicationError::NotFound => Some("medicationId"),
            MedicationError::NoPendingRenewal => Some("requestId"),
            _ => None,
        }
    }
}

impl Decider for Medication {
    type State = MedicationState;
    type Command = MedicationCommand;
    type Event = MedicationEvent;
    type Error = MedicationError;
    const CATEGORY: &'static str = "medication";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        let info = match (state, command) {
            (MedicationState::Absent, MedicationCommand::Prescribe { medication, by }) => {
                let m = *medication;
                return Ok(vec![MedicationEvent::MedicationPrescribed(
                    MedicationPrescribed {
                        medication_id: m.id,
                        organization_id: m.organization,
                        patient_id: m.patient,
                        name: Personal::Known(m.name),
                        instructions: Personal::Known(m.instructions),
                        prescriber: m.prescriber,
                        by,
                        at: now,
                    },
                )]);
            }
            (MedicationState::Prescribed(_), MedicationCommand::Prescribe { .. }) => {
                return Err(MedicationError::Exists)
            }
            (MedicationState::Absent, _) => return Err(MedicationError::NotFound),
            (MedicationState::Prescribed(info), command) => (info, command),
        };
        match info {
            (_, MedicationCommand::Prescribe { .. }) => Err(MedicationError::Exists),
            (info, MedicationCommand::Discontinue { by }) => {
                if !info.active {
                    return Ok(vec![]);
                }
                Ok(vec![MedicationEvent::MedicationDiscontinued(
                    MedicationDiscontinued { by, at: now },
                )])
            }
            (
                info,
                MedicationCommand::RequestRenewal {
                    request_id,
                    note,
                    by,
                },
            ) => {
                if !info.active {
                    return Err(MedicationError::Discontinued);
                }
                if info.pending().is_some() {
                    return Err(MedicationError::RenewalPending);
                }
                Ok(vec![MedicationEvent::RenewalRequested(RenewalRequested {
                    request_id,
                    note: note.map(Personal::Known),
                    by,
                    at: now,
                })])
            }
            (
                info,
                MedicationCommand::DecideRenewal {
                    request_id,
                    declined,
                    by,
                },
            ) => {
                if info.pending().is_none_or(|r| r.id != request_id) {
                    return Err(MedicationError::NoPendingRenewal);
                }
                Ok(vec![match declined {
                    None => MedicationEvent::RenewalApproved(RenewalApproved {
                        request_id,
                        by,
                        at: now,
                    }),
                    Some(reason) => MedicationEvent::RenewalDeclined(RenewalDeclined {
                        request_id,
                        reason: Personal::Known(reason),
                        by,
                        at: now,
                    }),
                }])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, MedicationEvent::MedicationPrescribed(e)) => {
                MedicationState::Prescribed(Box::new(MedicationInfo {
                    id: e.medication_id,
                    organization: e.organization_id,
                    patient: e.patient_id,
                    active: true,
                    renewals: vec![],
                }))
            }
            (MedicationState::Prescribed(mut info), event) => {
                let decide = |info: &mut MedicationInfo, id: Uuid, approved: bool| {
                    if let Some(r) = info.renewals.iter_mut().find(|r| r.id == id) {
                        r.approved = Some(approved);
                    }
                };
                match event {
                    MedicationEvent::MedicationPrescribed(_) => {}
                    MedicationEvent::MedicationDiscontinued(_) => info.active = false,
                    MedicationEvent::RenewalRequested(e) => info.renewals.push(Renewal {
                        id: e.request_id,
                        approved: None,
                    }),
                    MedicationEvent::RenewalApproved(e) => decide(&mut info, e.request_id, true),
                    MedicationEvent::RenewalDeclined(e) => decide(&mut info, e.request_id, false),
                }
                MedicationState::Prescribed(info)
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

    fn provider() -> AccountId {
        AccountId(Uuid::from_u128(7))
    }

    fn prescribed() -> Vec<MedicationEvent> {
        Medication::decide(
            &MedicationState::Absent,
            MedicationCommand::Prescribe {
                medication: Box::new(NewMedication {
                    id: Uuid::from_u128(1),
                    organization: OrganizationId(Uuid::from_u128(2)),
                    patient: AccountId(Uuid::from_u128(3)),
                    name: MedicationName::parse("Lisinopril 10 mg tablet").unwrap(),
                    instructions: Instructions::parse("1 tablet by mouth daily").unwrap(),
                    prescriber: Uuid::from_u128(4),
                }),
                by: provider(),
            },
            t0(),
        )
        .unwrap()
    }

    fn request(n: u128) -> MedicationCommand {
        MedicationCommand::RequestRenewal {
            request_id: Uuid::from_u128(n),
            note: None,
            by: Party::PATIENT,
        }
    }

    fn requested() -> Vec<MedicationEvent> {
        let mut events = prescribed();
        let state = Medication::fold(events.iter());
        events.extend(Medication::decide(&state, request(10), t0()).unwrap());
        events
    }

    #[test]
    fn a_second_renewal_request_waits_for_the_first_to_be_decided() {
        given::<Medication>(requested())
            .when(request(11), t0())
            .then_error(MedicationError::RenewalPending);
    }

    #[test]
    fn a_provider_approves_the_pending_renewal() {
        given::<Medication>(requested())
            .when(
                MedicationCommand::DecideRenewal {
                    request_id: Uuid::from_u128(10),
                    declined: None,
                    by: provider(),
                },
                t0(),
            )
            .then(vec![MedicationEvent::RenewalApproved(RenewalApproved {
                request_id: Uuid::from_u128(10),
                by: provider(),
                at: t0(),
            })]);
    }

    #[test]
    fn a_declined_renewal_carries_its_reason_and_a_new_request_may_follow() {
        let reason = Reason::parse("Please book a visit first").unwrap();
        let mut events = requested();
        let declined = Medication::decide(
            &Medication::fold(events.iter()),
            MedicationCommand::DecideRenewal {
                request_id: Uuid::from_u128(10),
                declined: Some(reason.clone()),
                by: provider(),
            },
            t0(),
        )
        .unwrap();
        assert!(
            matches!(&declined[0], MedicationEvent::RenewalDeclined(d) if d.reason == Personal::Known(reason))
        );
        events.extend(declined);
        assert_eq!(
            Medication::decide(&Medication::fold(events.iter()), request(11), t0())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_decided_request_cannot_be_decided_again() {
        let mut events = requested();
        events.push(MedicationEvent::RenewalApproved(RenewalApproved {
            request_id: Uuid::from_u128(10),
            by: provider(),
            at: t0(),
        }));
        given::<Medication>(events)
            .when(
                MedicationCommand::DecideRenewal {
                    request_id: Uuid::from_u128(10),
                    declined: None,
                    by: provider(),
                },
                t0(),
            )
            .then_error(MedicationError::NoPendingRenewal);
    }

    #[test]
    fn a_discontinued_medication_cannot_be_renewed() {
        let mut events = prescribed();
        events.push(MedicationEvent::MedicationDiscontinued(
            MedicationDiscontinued {
                by: provider(),
                at: t0(),
            },
        ));
        given::<Medication>(events)
            .when(request(10), t0())
            .then_error(MedicationError::Discontinued);
    }
}
