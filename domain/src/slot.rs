//! Bookable slots of a provider's time. A slot is a stream of its own, so that two patients who pick it at the same
//! moment race on one version: exactly one takes it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Decider, DomainEvent, ErrorCode, OrganizationId};

/// The slot aggregate.
pub struct Slot;

/// Where and when a slot is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotInfo {
    /// The slot.
    pub slot_id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The provider or care team.
    pub provider_id: Uuid,
    /// The location.
    pub location_id: Uuid,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// The lifecycle of a slot.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SlotState {
    /// Not published.
    #[default]
    Absent,
    /// Open for booking.
    Open(SlotInfo),
    /// Taken by an appointment.
    Taken(SlotInfo, Uuid),
}

impl SlotState {
    /// The slot, published.
    pub fn info(&self) -> Option<&SlotInfo> {
        match self {
            SlotState::Absent => None,
            SlotState::Open(info) | SlotState::Taken(info, _) => Some(info),
        }
    }
}

/// Commands on a slot.
#[derive(Clone, Debug)]
pub enum SlotCommand {
    /// Publishes the slot.
    Publish(SlotInfo),
    /// An appointment takes the slot.
    Take {
        /// The appointment.
        appointment: Uuid,
    },
    /// The appointment gives the slot up (cancelled or moved).
    Release {
        /// The appointment.
        appointment: Uuid,
    },
}

/// Events of a slot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SlotEvent {
    /// Published.
    SlotPublished(SlotInfo),
    /// Taken.
    SlotTaken(SlotTaken),
    /// Freed.
    SlotReleased(SlotReleased),
}

/// An appointment took the slot (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotTaken {
    /// The appointment.
    pub appointment_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

/// The slot is open again (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotReleased {
    /// The appointment that held it.
    pub appointment_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for SlotEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SlotEvent::SlotPublished(_) => "SlotPublished",
            SlotEvent::SlotTaken(_) => "SlotTaken",
            SlotEvent::SlotReleased(_) => "SlotReleased",
        }
    }
}

/// Why a slot command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// No such slot.
    #[error("no such slot")]
    NotFound,
    /// Someone else has it.
    #[error("this slot was just booked by someone else; choose another")]
    Taken,
    /// It has begun.
    #[error("this slot has begun or is over")]
    Past,
}

impl ErrorCode for SlotError {
    fn code(&self) -> &'static str {
        match self {
            SlotError::NotFound => "SLOT_NOT_FOUND",
            SlotError::Taken => "SLOT_TAKEN",
            SlotError::Past => "SLOT_PAST",
        }
    }

    fn field(&self) -> Option<&'static str> {
        Some("slotId")
    }
}

impl Decider for Slot {
    type State = SlotState;
    type Command = SlotCommand;
    type Event = SlotEvent;
    type Error = SlotError;
    const CATEGORY: &'static str = "slot";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (SlotState::Absent, SlotCommand::Publish(info)) => {
                Ok(vec![SlotEvent::SlotPublished(info)])
            }
            (_, SlotCommand::Publish(_)) => Ok(vec![]),
            (SlotState::Absent, _) => Err(SlotError::NotFound),
            (SlotState::Open(info), SlotCommand::Take { appointment }) => {
                if info.starts_at <= now {
                    return Err(SlotError::Past);
                }
                Ok(vec![SlotEvent::SlotTaken(SlotTaken {
                    appointment_id: appointment,
                    at: now,
                })])
            }
            (SlotState::Taken(_, holder), SlotCommand::Take { appointment }) => {
                if *holder == appointment {
                    Ok(vec![])
                } else {
                    Err(SlotError::Taken)
                }
            }
            (SlotState::Taken(_, holder), SlotCommand::Release { appointment })
                if *holder == appointment =>
            {
                Ok(vec![SlotEvent::SlotReleased(SlotReleased {
                    appointment_id: appointment,
                    at: now,
                })])
            }
            (_, SlotCommand::Release { .. }) => Ok(vec![]),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, SlotEvent::SlotPublished(info)) => SlotState::Open(info.clone()),
            (SlotState::Open(info), SlotEvent::SlotTaken(e)) => {
                SlotState::Taken(info, e.appointment_id)
            }
            (SlotState::Taken(info, _), SlotEvent::SlotReleased(_)) => SlotState::Open(info),
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::Duration;

    fn published(at: DateTime<Utc>) -> SlotEvent {
        SlotEvent::SlotPublished(SlotInfo {
            slot_id: Uuid::from_u128(1),
            organization_id: OrganizationId(Uuid::from_u128(2)),
            provider_id: Uuid::from_u128(3),
            location_id: Uuid::from_u128(4),
            starts_at: at,
            ends_at: at + Duration::minutes(30),
        })
    }

    #[test]
    fn a_taken_slot_cannot_be_taken_by_another_appointment() {
        let now = Utc::now();
        let taken = SlotEvent::SlotTaken(SlotTaken {
            appointment_id: Uuid::from_u128(10),
            at: now,
        });
        given::<Slot>([published(now + Duration::days(1)), taken])
            .when(
                SlotCommand::Take {
                    appointment: Uuid::from_u128(11),
                },
                now,
            )
            .then_error(SlotError::Taken);
    }

    #[test]
    fn a_slot_that_has_begun_is_not_booked() {
        let now = Utc::now();
        given::<Slot>([published(now - Duration::minutes(1))])
            .when(
                SlotCommand::Take {
                    appointment: Uuid::from_u128(11),
                },
                now,
            )
            .then_error(SlotError::Past);
    }

    #[test]
    fn only_the_holder_releases_a_slot() {
        let now = Utc::now();
        let taken = SlotEvent::SlotTaken(SlotTaken {
            appointment_id: Uuid::from_u128(10),
            at: now,
        });
        given::<Slot>([published(now + Duration::days(1)), taken])
            .when(
                SlotCommand::Release {
                    appointment: Uuid::from_u128(11),
                },
                now,
            )
            .then(vec![]);
    }
}
