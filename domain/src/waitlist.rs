//! The wait list: patients who want an earlier visit with a provider or department wait in line; when a slot frees
//! up, it is offered to the first in line who can use it, for a time the organization sets; the next in line gets
//! it if the offer lapses; the first to accept gets the slot, in the commit that books it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId};

/// The wait-list aggregate: one per organization.
pub struct WaitList;

/// What a patient waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "for")]
pub enum WaitTarget {
    /// Any slot of this provider or care team.
    Provider {
        /// The provider.
        id: Uuid,
    },
    /// Any slot of a provider of this department.
    Department {
        /// The department.
        id: Uuid,
    },
}

/// A freed slot, as the wait list needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreedSlot {
    /// The slot.
    pub slot_id: Uuid,
    /// Its provider.
    pub provider_id: Uuid,
    /// The provider's departments.
    pub departments: Vec<Uuid>,
    /// Its start.
    pub starts_at: DateTime<Utc>,
}

/// Where an entry stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// In line.
    Waiting,
    /// A slot is offered until `expires_at`.
    Offered {
        /// The slot.
        slot: Uuid,
        /// When the offer lapses.
        expires_at: DateTime<Utc>,
    },
    /// Got a slot.
    Fulfilled,
    /// Left the list.
    Left,
}

/// One patient in line.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitEntry {
    /// The entry.
    pub id: Uuid,
    /// The patient.
    pub patient: AccountId,
    /// What they wait for.
    pub target: WaitTarget,
    /// The visit reason to book with.
    pub reason: Uuid,
    /// Only slots starting before this (their current appointment's start), if any.
    pub before: Option<DateTime<Utc>>,
    /// The appointment to move to an accepted slot, if they have one.
    pub appointment: Option<Uuid>,
    /// Where it stands.
    pub status: EntryStatus,
    /// Slots offered to it before (not offered again).
    pub passed: Vec<Uuid>,
}

impl WaitEntry {
    fn wants(&self, slot: &FreedSlot, now: DateTime<Utc>) -> bool {
        let target = match self.target {
            WaitTarget::Provider { id } => id == slot.provider_id,
            WaitTarget::Department { id } => slot.departments.contains(&id),
        };
        target
            && self.status == EntryStatus::Waiting
            && slot.starts_at > now
            && self.before.is_none_or(|before| slot.starts_at < before)
            && !self.passed.contains(&slot.slot_id)
    }
}

/// The wait list as its events left it, first come first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WaitListState {
    /// Entries in the order they joined.
    pub entries: Vec<WaitEntry>,
}

/// Commands on the wait list.
#[derive(Clone, Debug)]
pub enum WaitListCommand {
    /// A patient joins.
    Join {
        /// The new entry's id.
        entry: Uuid,
        /// The patient.
        patient: AccountId,
        /// What they wait for.
        target: WaitTarget,
        /// The visit reason to book with.
        reason: Uuid,
        /// Their current appointment, to move (only earlier slots are offered then).
        appointment: Option<(Uuid, DateTime<Utc>)>,
    },
    /// A patient leaves.
    Leave {
        /// The entry.
        entry: Uuid,
        /// The patient (only their own).
        patient: AccountId,
    },
    /// A slot freed up: offer it to the first in line who wants it.
    Offer {
        /// The slot.
        slot: FreedSlot,
        /// How long the offer stands.
        ttl: Duration,
    },
    /// Offers past their time lapse; each lapsed slot is offered to the next in line who wants it.
    Expire {
        /// The slots that lapsed offers held, as they stand (only those still open are offered again).
        open_slots: Vec<FreedSlot>,
        /// How long a new offer stands.
        ttl: Duration,
    },
    /// The patient accepts their offer (the same commit books the slot).
    Accept {
        /// The entry.
        entry: Uuid,
        /// The patient.
        patient: AccountId,
    },
}

/// Events of the wait list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum WaitListEvent {
    /// A patient joined.
    WaitListJoined(WaitListJoined),
    /// A patient left.
    WaitListLeft(WaitListLeft),
    /// A slot was offered to an entry.
    SlotOffered(SlotOffered),
    /// An offer lapsed.
    SlotOfferLapsed(SlotOfferLapsed),
    /// An offer was accepted.
    SlotOfferAccepted(SlotOfferAccepted),
}

/// A patient joined the wait list (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitListJoined {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The entry.
    pub entry_id: Uuid,
    /// The patient.
    pub patient_id: AccountId,
    /// What they wait for.
    pub target: WaitTarget,
    /// The visit reason to book with.
    pub reason_id: Uuid,
    /// Only slots before this.
    pub before: Option<DateTime<Utc>>,
    /// Their appointment to move.
    pub appointment_id: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A patient left the wait list (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitListLeft {
    /// The entry.
    pub entry_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

/// A slot was offered (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotOffered {
    /// The entry.
    pub entry_id: Uuid,
    /// The slot.
    pub slot_id: Uuid,
    /// Its start.
    pub starts_at: DateTime<Utc>,
    /// When the offer lapses.
    pub expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An offer lapsed unanswered (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotOfferLapsed {
    /// The entry (back in line).
    pub entry_id: Uuid,
    /// The slot.
    pub slot_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

/// An offer was accepted (v1); the slot was booked in the same commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotOfferAccepted {
    /// The entry.
    pub entry_id: Uuid,
    /// The slot.
    pub slot_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for WaitListEvent {
    fn event_type(&self) -> &'static str {
        match self {
            WaitListEvent::WaitListJoined(_) => "WaitListJoined",
            WaitListEvent::WaitListLeft(_) => "WaitListLeft",
            WaitListEvent::SlotOffered(_) => "SlotOffered",
            WaitListEvent::SlotOfferLapsed(_) => "SlotOfferLapsed",
            WaitListEvent::SlotOfferAccepted(_) => "SlotOfferAccepted",
        }
    }
}

/// Why a wait-list command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitListError {
    /// No such entry of this patient.
    #[error("no such wait-list entry")]
    NotFound,
    /// No offer stands for the entry.
    #[error("no offer stands for this entry: it lapsed or went to someone else")]
    NoOffer,
    /// The patient waits for the same already.
    #[error("you are on the wait list for this already")]
    AlreadyWaiting,
}

impl ErrorCode for WaitListError {
    fn code(&self) -> &'static str {
        match self {
            WaitListError::NotFound => "WAITLIST_ENTRY_NOT_FOUND",
            WaitListError::NoOffer => "OFFER_UNAVAILABLE",
            WaitListError::AlreadyWaiting => "ALREADY_WAITING",
        }
    }
}

fn offer(
    state: &WaitListState,
    slot: &FreedSlot,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Option<WaitListEvent> {
    let entry = state.entries.iter().find(|e| e.wants(slot, now))?;
    Some(WaitListEvent::SlotOffered(SlotOffered {
        entry_id: entry.id,
        slot_id: slot.slot_id,
        starts_at: slot.starts_at,
        expires_at: now + ttl,
        at: now,
    }))
}

impl Decider for WaitList {
    type State = WaitListState;
    type Command = (OrganizationId, WaitListCommand);
    type Event = WaitListEvent;
    type Error = WaitListError;
    const CATEGORY: &'static str = "waitlist";

    fn decide(
        state: &Self::State,
        (organization, command): Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match command {
            WaitListCommand::Join {
                entry,
                patient,
                target,
                reason,
                appointment,
            } => {
                if state.entries.iter().any(|e| {
                    e.patient == patient
                        && e.target == target
                        && matches!(e.status, EntryStatus::Waiting | EntryStatus::Offered { .. })
                }) {
                    return Err(WaitListError::AlreadyWaiting);
                }
                Ok(vec![WaitListEvent::WaitListJoined(WaitListJoined {
                    organization_id: organization,
                    entry_id: entry,
                    patient_id: patient,
                    target,
                    reason_id: reason,
                    before: appointment.map(|(_, starts_at)| starts_at),
                    appointment_id: appointment.map(|(id, _)| id),
                    at: now,
                })])
            }
            WaitListCommand::Leave { entry, patient } => {
                let found = state
                    .entries
                    .iter()
                    .find(|e| e.id == entry && e.patient == patient)
                    .ok_or(WaitListError::NotFound)?;
                if matches!(found.status, EntryStatus::Left | EntryStatus::Fulfilled) {
                    return Ok(vec![]);
                }
                Ok(vec![WaitListEvent::WaitListLeft(WaitListLeft {
                    entry_id: entry,
                    at: now,
                })])
            }
            WaitListCommand::Offer { slot, ttl } => {
                Ok(offer(state, &slot, ttl, now).into_iter().collect())
            }
            WaitListCommand::Expire { open_slots, ttl } => {
                let mut events = Vec::new();
                let mut next = state.clone();
                for entry in &state.entries {
                    if let EntryStatus::Offered { slot, expires_at } = entry.status {
                        if expires_at <= now {
                            let lapsed = WaitListEvent::SlotOfferLapsed(SlotOfferLapsed {
                                entry_id: entry.id,
                                slot_id: slot,
                                at: now,
                            });
                            next = WaitList::evolve(next, &lapsed);
                            events.push(lapsed);
                            if let Some(freed) = open_slots.iter().find(|s| s.slot_id == slot) {
                                if let Some(offered) = offer(&next, freed, ttl, now) {
                                    next = WaitList::evolve(next, &offered);
                                    events.push(offered);
                                }
                            }
                        }
                    }
                }
                Ok(events)
            }
            WaitListCommand::Accept { entry, patient } => {
                let found = state
                    .entries
                    .iter()
                    .find(|e| e.id == entry && e.patient == patient)
                    .ok_or(WaitListError::NotFound)?;
                match found.status {
                    EntryStatus::Offered { slot, expires_at } if now < expires_at => {
                        Ok(vec![WaitListEvent::SlotOfferAccepted(SlotOfferAccepted {
                            entry_id: entry,
                            slot_id: slot,
                            at: now,
                        })])
                    }
                    _ => Err(WaitListError::NoOffer),
                }
            }
        }
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            WaitListEvent::WaitListJoined(e) => state.entries.push(WaitEntry {
                id: e.entry_id,
                patient: e.patient_id,
                target: e.target,
                reason: e.reason_id,
                before: e.before,
                appointment: e.appointment_id,
                status: EntryStatus::Waiting,
                passed: vec![],
            }),
            WaitListEvent::WaitListLeft(e) => {
                if let Some(found) = state.entries.iter_mut().find(|x| x.id == e.entry_id) {
                    found.status = EntryStatus::Left;
                }
            }
            WaitListEvent::SlotOffered(e) => {
                if let Some(found) = state.entries.iter_mut().find(|x| x.id == e.entry_id) {
                    found.status = EntryStatus::Offered {
                        slot: e.slot_id,
                        expires_at: e.expires_at,
                    };
                    found.passed.push(e.slot_id);
                }
            }
            WaitListEvent::SlotOfferLapsed(e) => {
                if let Some(found) = state.entries.iter_mut().find(|x| x.id == e.entry_id) {
                    found.status = EntryStatus::Waiting;
                }
            }
            WaitListEvent::SlotOfferAccepted(e) => {
                if let Some(found) = state.entries.iter_mut().find(|x| x.id == e.entry_id) {
                    found.status = EntryStatus::Fulfilled;
                }
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;

    fn org() -> OrganizationId {
        OrganizationId(Uuid::from_u128(1))
    }

    fn joined(entry: u128, patient: u128, at: DateTime<Utc>) -> WaitListEvent {
        WaitListEvent::WaitListJoined(WaitListJoined {
            organization_id: org(),
            entry_id: Uuid::from_u128(entry),
            patient_id: AccountId(Uuid::from_u128(patient)),
            target: WaitTarget::Provider {
                id: Uuid::from_u128(50),
            },
            reason_id: Uuid::from_u128(60),
            before: None,
            appointment_id: None,
            at,
        })
    }

    fn freed(now: DateTime<Utc>) -> FreedSlot {
        FreedSlot {
            slot_id: Uuid::from_u128(70),
            provider_id: Uuid::from_u128(50),
            departments: vec![],
            starts_at: now + Duration::days(2),
        }
    }

    #[test]
    fn a_freed_slot_is_offered_to_the_first_in_line() {
        let now = Utc::now();
        given::<WaitList>([joined(1, 10, now), joined(2, 20, now)])
            .when(
                (
                    org(),
                    WaitListCommand::Offer {
                        slot: freed(now),
                        ttl: Duration::hours(2),
                    },
                ),
                now,
            )
            .then(vec![WaitListEvent::SlotOffered(SlotOffered {
                entry_id: Uuid::from_u128(1),
                slot_id: Uuid::from_u128(70),
                starts_at: now + Duration::days(2),
                expires_at: now + Duration::hours(2),
                at: now,
            })]);
    }

    #[test]
    fn a_lapsed_offer_goes_to_the_next_in_line() {
        let now = Utc::now();
        let offered = WaitListEvent::SlotOffered(SlotOffered {
            entry_id: Uuid::from_u128(1),
            slot_id: Uuid::from_u128(70),
            starts_at: now + Duration::days(2),
            expires_at: now + Duration::hours(2),
            at: now,
        });
        let later = now + Duration::hours(3);
        given::<WaitList>([joined(1, 10, now), joined(2, 20, now), offered])
            .when(
                (
                    org(),
                    WaitListCommand::Expire {
                        open_slots: vec![freed(now)],
                        ttl: Duration::hours(2),
                    },
                ),
                later,
            )
            .then(vec![
                WaitListEvent::SlotOfferLapsed(SlotOfferLapsed {
                    entry_id: Uuid::from_u128(1),
                    slot_id: Uuid::from_u128(70),
                    at: later,
                }),
                WaitListEvent::SlotOffered(SlotOffered {
                    entry_id: Uuid::from_u128(2),
                    slot_id: Uuid::from_u128(70),
                    starts_at: now + Duration::days(2),
                    expires_at: later + Duration::hours(2),
                    at: later,
                }),
            ]);
    }

    #[test]
    fn a_lapsed_offer_cannot_be_accepted() {
        let now = Utc::now();
        let offered = WaitListEvent::SlotOffered(SlotOffered {
            entry_id: Uuid::from_u128(1),
            slot_id: Uuid::from_u128(70),
            starts_at: now + Duration::days(2),
            expires_at: now + Duration::hours(2),
            at: now,
        });
        given::<WaitList>([joined(1, 10, now), offered])
            .when(
                (
                    org(),
                    WaitListCommand::Accept {
                        entry: Uuid::from_u128(1),
                        patient: AccountId(Uuid::from_u128(10)),
                    },
                ),
                now + Duration::hours(2),
            )
            .then_error(WaitListError::NoOffer);
    }
}
