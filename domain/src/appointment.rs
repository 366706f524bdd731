//! Appointments: a patient (or staff for them) books an open slot with a visit reason, contact details and
//! insurance; reschedules it to another slot in one step; cancels it before the organization's cut-off.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::personal::mark_personal;
use crate::values::{EmailAddress, FieldError, PhoneNumber};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal, UpcastError};

/// The appointment aggregate.
pub struct Appointment;

/// Insurance as the patient gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insurance {
    /// The payer (insurer or plan).
    pub payer: String,
    /// The member id.
    pub member_id: String,
    /// The group number, if any.
    pub group: Option<String>,
}

impl Insurance {
    /// Checks each part: payer 1 to 100 characters, member id and group 1 to 40 letters, digits or hyphens.
    pub fn new(payer: &str, member_id: &str, group: Option<&str>) -> Result<Self, FieldError> {
        let payer = payer.trim();
        if payer.is_empty() || payer.chars().count() > 100 || payer.chars().any(char::is_control) {
            return Err(FieldError {
                field: "payer",
                rule: "has 1 to 100 characters",
            });
        }
        let id = |raw: &str, field| {
            let value = raw.trim().to_ascii_uppercase();
            if value.is_empty()
                || value.len() > 40
                || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                Err(FieldError {
                    field,
                    rule: "has 1 to 40 letters, digits or hyphens",
                })
            } else {
                Ok(value)
            }
        };
        Ok(Self {
            payer: payer.to_owned(),
            member_id: id(member_id, "memberId")?,
            group: group
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(|g| id(g, "group"))
                .transpose()?,
        })
    }
}

/// How to reach the patient about this appointment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// E-mail for confirmations and reminders.
    pub email: Option<EmailAddress>,
    /// Phone.
    pub phone: Option<PhoneNumber>,
}

/// Where and when, from the slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The slot.
    pub slot_id: Uuid,
    /// The provider or care team.
    pub provider_id: Uuid,
    /// The location.
    pub location_id: Uuid,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// An appointment as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct AppointmentInfo {
    /// The appointment.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient's account.
    pub patient: AccountId,
    /// The visit reason.
    pub reason_id: Uuid,
    /// Where and when.
    pub placement: Placement,
    /// How to reach the patient.
    pub contact: Personal<Contact>,
}

/// The lifecycle of an appointment.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum AppointmentState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Booked.
    Booked(Box<AppointmentInfo>),
    /// Cancelled.
    Cancelled(Box<AppointmentInfo>),
    /// The patient did not come (recorded by staff once it began).
    Missed(Box<AppointmentInfo>),
}

/// Who acts on an appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "who")]
pub enum BookedBy {
    /// The patient.
    Patient,
    /// Staff, for the patient.
    Staff {
        /// The staff member.
        by: AccountId,
    },
    /// A proxy of the patient (a parent, a caregiver), for them.
    Proxy {
        /// The proxy's account.
        by: AccountId,
    },
}

/// Commands on an appointment.
#[derive(Clone, Debug)]
pub enum AppointmentCommand {
    /// Books a slot.
    Book {
        /// The new appointment's id.
        id: Uuid,
        /// The organization.
        organization: OrganizationId,
        /// The patient's account.
        patient: AccountId,
        /// The visit reason.
        reason_id: Uuid,
        /// The slot's placement.
        placement: Placement,
        /// Contact details.
        contact: Contact,
        /// Insurance, if any.
        insurance: Option<Insurance>,
        /// Who books.
        by: BookedBy,
    },
    /// Moves the appointment to another slot.
    Reschedule {
        /// The new slot's placement.
        placement: Placement,
        /// Who moves it.
        by: BookedBy,
        /// The organization's cut-off for patients.
        cutoff: Duration,
    },
    /// Cancels the appointment.
    Cancel {
        /// Why, if said.
        reason: Option<String>,
        /// Who cancels.
        by: BookedBy,
        /// The organization's cut-off for patients.
        cutoff: Duration,
    },
    /// Records that the patient did not come (staff, once the appointment has begun).
    RecordNoShow {
        /// The staff member.
        by: AccountId,
    },
}

/// Events of an appointment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum AppointmentEvent {
    /// Booked.
    AppointmentBooked(AppointmentBooked),
    /// Moved to another slot.
    AppointmentRescheduled(AppointmentRescheduled),
    /// Cancelled.
    AppointmentCancelled(AppointmentCancelled),
    /// The patient did not come.
    AppointmentMissed(AppointmentMissed),
}

/// An appointment was booked (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppointmentBooked {
    /// The appointment.
    pub appointment_id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// The visit reason.
    pub reason_id: Uuid,
    /// Where and when.
    pub placement: Placement,
    /// Contact details (personal).
    pub contact: Personal<Contact>,
    /// Insurance (personal).
    pub insurance: Option<Personal<Insurance>>,
    /// Who booked.
    pub by: BookedBy,
    /// When.
    pub at: DateTime<Utc>,
}

/// An appointment moved to another slot (v1); the old slot was freed in the same commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppointmentRescheduled {
    /// The slot it left.
    pub from: Placement,
    /// The slot it took.
    pub to: Placement,
    /// Who moved it.
    pub by: BookedBy,
    /// When.
    pub at: DateTime<Utc>,
}

/// An appointment was cancelled (v2: the reason is personal, encrypted with the patient's key; v1 stored it in
/// clear); its slot was freed in the same commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppointmentCancelled {
    /// Why, if said (personal: the patient's own words may say anything about them).
    pub reason: Option<Personal<String>>,
    /// Who cancelled.
    pub by: BookedBy,
    /// When.
    pub at: DateTime<Utc>,
}

/// The patient did not come to an appointment (v1), as recorded by staff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppointmentMissed {
    /// The staff member who recorded it.
    pub by: AccountId,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

impl DomainEvent for AppointmentEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AppointmentEvent::AppointmentBooked(_) => "AppointmentBooked",
            AppointmentEvent::AppointmentRescheduled(_) => "AppointmentRescheduled",
            AppointmentEvent::AppointmentCancelled(_) => "AppointmentCancelled",
            AppointmentEvent::AppointmentMissed(_) => "AppointmentMissed",
        }
    }

    fn schema_version(&self) -> u16 {
        match self {
            AppointmentEvent::AppointmentCancelled(_) => 2,
            _ => 1,
        }
    }

    fn upcast(event_type: &str, version: u16, mut data: Value) -> Result<Value, UpcastError> {
        match (event_type, version) {
            ("AppointmentCancelled", 1) => {
                mark_personal(&mut data, "reason");
                Ok(data)
            }
            ("AppointmentCancelled", 2) | (_, 1) => Ok(data),
            _ => Err(UpcastError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
            }),
        }
    }
}

/// Why an appointment command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppointmentError {
    /// No such appointment (for this patient).
    #[error("no such appointment")]
    NotFound,
    /// Booked already.
    #[error("this appointment exists already")]
    AlreadyBooked,
    /// Cancelled.
    #[error("this appointment was cancelled")]
    Cancelled,
    /// Too close to the start for the patient to change it.
    #[error("this appointment starts too soon to change online; call the clinic")]
    PastCutoff,
    /// It has begun.
    #[error("this appointment has begun or is over")]
    Past,
    /// The new slot is the current one.
    #[error("this is the appointment's slot already")]
    SameSlot,
    /// A no-show can be recorded only once the appointment has begun.
    #[error("this appointment has not begun yet")]
    NotYetBegun,
    /// The patient did not come.
    #[error("the patient did not come to this appointment")]
    Missed,
}

impl ErrorCode for AppointmentError {
    fn code(&self) -> &'static str {
        match self {
            AppointmentError::NotFound => "APPOINTMENT_NOT_FOUND",
            AppointmentError::AlreadyBooked => "APPOINTMENT_EXISTS",
            AppointmentError::Cancelled => "APPOINTMENT_CANCELLED",
            AppointmentError::PastCutoff => "CANCELLATION_CUTOFF_PASSED",
            AppointmentError::Past => "APPOINTMENT_PAST",
            AppointmentError::SameSlot => "SAME_SLOT",
            AppointmentError::NotYetBegun => "APPOINTMENT_NOT_BEGUN",
            AppointmentError::Missed => "APPOINTMENT_MISSED",
        }
    }
}

fn changeable(
    info: &AppointmentInfo,
    by: BookedBy,
    cutoff: Duration,
    now: DateTime<Utc>,
) -> Result<(), AppointmentError> {
    if info.placement.starts_at <= now {
        return Err(AppointmentError::Past);
    }
    if matches!(by, BookedBy::Patient | BookedBy::Proxy { .. })
        && info.placement.starts_at - now < cutoff
    {
        return Err(AppointmentError::PastCutoff);
    }
    Ok(())
}

impl Decider for Appointment {
    type State = AppointmentState;
    type Command = AppointmentCommand;
    type Event = AppointmentEvent;
    type Error = AppointmentError;
    const CATEGORY: &'static str = "appointment";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (
                AppointmentState::Absent,
                AppointmentCommand::Book {
                    id,
                    organization,
                    patient,
                    reason_id,
                    placement,
                    contact,
                    insurance,
                    by,
                },
            ) => Ok(vec![AppointmentEvent::AppointmentBooked(
                AppointmentBooked {
                    appointment_id: id,
                    organization_id: organization,
                    patient_id: patient,
                    reason_id,
                    placement,
                    contact: Personal::Known(contact),
                    insurance: insurance.map(Personal::Known),
                    by,
                    at: now,
                },
            )]),
            (_, AppointmentCommand::Book { .. }) => Err(AppointmentError::AlreadyBooked),
            (AppointmentState::Absent, _) => Err(AppointmentError::NotFound),
            (AppointmentState::Cancelled(_), AppointmentCommand::Cancel { .. }) => Ok(vec![]),
            (AppointmentState::Cancelled(_), _) => Err(AppointmentError::Cancelled),
            (AppointmentState::Missed(_), AppointmentCommand::RecordNoShow { .. }) => Ok(vec![]),
            (AppointmentState::Missed(_), _) => Err(AppointmentError::Missed),
            (AppointmentState::Booked(info), AppointmentCommand::RecordNoShow { by }) => {
                if info.placement.starts_at > now {
                    return Err(AppointmentError::NotYetBegun);
                }
                Ok(vec![AppointmentEvent::AppointmentMissed(
                    AppointmentMissed { by, at: now },
                )])
            }
            (
                AppointmentState::Booked(info),
                AppointmentCommand::Reschedule {
                    placement,
                    by,
                    cutoff,
                },
            ) => {
                if placement.slot_id == info.placement.slot_id {
                    return Err(AppointmentError::SameSlot);
                }
                changeable(info, by, cutoff, now)?;
                Ok(vec![AppointmentEvent::AppointmentRescheduled(
                    AppointmentRescheduled {
                        from: info.placement.clone(),
                        to: placement,
                        by,
                        at: now,
                    },
                )])
            }
            (AppointmentState::Booked(info), AppointmentCommand::Cancel { reason, by, cutoff }) => {
                changeable(info, by, cutoff, now)?;
                Ok(vec![AppointmentEvent::AppointmentCancelled(
                    AppointmentCancelled {
                        reason: reason.map(|r| Personal::Known(r.chars().take(500).collect())),
                        by,
                        at: now,
                    },
                )])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, AppointmentEvent::AppointmentBooked(e)) => {
                AppointmentState::Booked(Box::new(AppointmentInfo {
                    id: e.appointment_id,
                    organization: e.organization_id,
                    patient: e.patient_id,
                    reason_id: e.reason_id,
                    placement: e.placement.clone(),
                    contact: e.contact.clone(),
                }))
            }
            (AppointmentState::Booked(mut info), AppointmentEvent::AppointmentRescheduled(e)) => {
                info.placement = e.to.clone();
                AppointmentState::Booked(info)
            }
            (AppointmentState::Booked(info), AppointmentEvent::AppointmentCancelled(_)) => {
                AppointmentState::Cancelled(info)
            }
            (AppointmentState::Booked(info), AppointmentEvent::AppointmentMissed(_)) => {
                AppointmentState::Missed(info)
            }
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;

    fn placement(slot: u128, starts_at: DateTime<Utc>) -> Placement {
        Placement {
            slot_id: Uuid::from_u128(slot),
            provider_id: Uuid::from_u128(3),
            location_id: Uuid::from_u128(4),
            starts_at,
            ends_at: starts_at + Duration::minutes(30),
        }
    }

    fn booked(starts_at: DateTime<Utc>) -> AppointmentEvent {
        AppointmentEvent::AppointmentBooked(AppointmentBooked {
            appointment_id: Uuid::from_u128(9),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            patient_id: AccountId(Uuid::from_u128(7)),
            reason_id: Uuid::from_u128(5),
            placement: placement(1, starts_at),
            contact: Personal::Erased,
            insurance: None,
            by: BookedBy::Patient,
            at: starts_at - Duration::days(10),
        })
    }

    #[test]
    fn a_patient_cannot_cancel_after_the_cutoff_but_staff_can() {
        let now = Utc::now();
        let soon = now + Duration::hours(12);
        let cancel = |by| AppointmentCommand::Cancel {
            reason: None,
            by,
            cutoff: Duration::hours(24),
        };
        given::<Appointment>([booked(soon)])
            .when(cancel(BookedBy::Patient), now)
            .then_error(AppointmentError::PastCutoff);
        let staff = BookedBy::Staff {
            by: AccountId(Uuid::from_u128(2)),
        };
        given::<Appointment>([booked(soon)])
            .when(cancel(staff), now)
            .then(vec![AppointmentEvent::AppointmentCancelled(
                AppointmentCancelled {
                    reason: None,
                    by: staff,
                    at: now,
                },
            )]);
    }

    #[test]
    fn a_version_1_cancellation_reads_its_reason_as_known_personal_data() {
        let with = serde_json::json!({ "reason": "feeling better", "at": "2026-03-01T09:00:00Z" });
        let without = serde_json::json!({ "reason": null, "at": "2026-03-01T09:00:00Z" });

        let with = AppointmentEvent::upcast("AppointmentCancelled", 1, with).unwrap();
        let without = AppointmentEvent::upcast("AppointmentCancelled", 1, without).unwrap();

        assert_eq!(
            with["reason"],
            serde_json::json!({ "$pii": "feeling better" })
        );
        assert_eq!(without["reason"], serde_json::Value::Null);
    }

    #[test]
    fn a_no_show_is_recorded_once_the_appointment_has_begun() {
        let now = Utc::now();
        let staff = AccountId(Uuid::from_u128(2));
        given::<Appointment>([booked(now - Duration::minutes(20))])
            .when(AppointmentCommand::RecordNoShow { by: staff }, now)
            .then(vec![AppointmentEvent::AppointmentMissed(
                AppointmentMissed { by: staff, at: now },
            )]);
    }

    #[test]
    fn a_no_show_cannot_be_recorded_before_the_appointment_begins() {
        let now = Utc::now();
        given::<Appointment>([booked(now + Duration::hours(2))])
            .when(
                AppointmentCommand::RecordNoShow {
                    by: AccountId(Uuid::from_u128(2)),
                },
                now,
            )
            .then_error(AppointmentError::NotYetBegun);
    }

    #[test]
    fn recording_a_no_show_again_records_nothing() {
        let now = Utc::now();
        let staff = AccountId(Uuid::from_u128(2));
        let missed = AppointmentEvent::AppointmentMissed(AppointmentMissed {
            by: staff,
            at: now - Duration::minutes(5),
        });
        given::<Appointment>([booked(now - Duration::minutes(20)), missed])
            .when(AppointmentCommand::RecordNoShow { by: staff }, now)
            .then(vec![]);
    }

    #[test]
    fn rescheduling_records_both_slots() {
        let now = Utc::now();
        let later = now + Duration::days(5);
        given::<Appointment>([booked(now + Duration::days(3))])
            .when(
                AppointmentCommand::Reschedule {
                    placement: placement(2, later),
                    by: BookedBy::Patient,
                    cutoff: Duration::hours(24),
                },
                now,
            )
            .then(vec![AppointmentEvent::AppointmentRescheduled(
                AppointmentRescheduled {
                    from: placement(1, now + Duration::days(3)),
                    to: placement(2, later),
                    by: BookedBy::Patient,
                    at: now,
                },
            )]);
    }

    #[test]
    fn insurance_ids_are_checked() {
        assert!(Insurance::new("Blue Cross", "abc-123", None).is_ok());
        assert_eq!(
            Insurance::new("Blue Cross", "abc 123", None)
                .unwrap_err()
                .field,
            "memberId"
        );
        assert_eq!(Insurance::new(" ", "A1", None).unwrap_err().field, "payer");
    }
}
