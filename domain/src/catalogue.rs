//! The clinic's catalogue: locations, departments, providers or care teams (with the departments and locations
//! they serve), and visit reasons with their duration. One stream per organization: it changes rarely, and a
//! provider can only name departments and locations that exist.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::FieldError;
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId};

/// The catalogue aggregate.
pub struct Catalogue;

/// What kind of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A place patients go.
    Location,
    /// A department (Cardiology, Family Medicine).
    Department,
    /// A provider or care team.
    Provider,
    /// A reason for a visit.
    VisitReason,
}

/// A name in the catalogue: 1 to 200 characters.
pub fn entry_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(FieldError {
            field: "name",
            rule: "has 1 to 200 characters",
        });
    }
    Ok(name.to_owned())
}

/// One entry of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Entry {
    /// A location.
    Location {
        /// Its name.
        name: String,
        /// Its address, for patients.
        address: Option<String>,
    },
    /// A department.
    Department {
        /// Its name.
        name: String,
    },
    /// A provider or care team.
    Provider {
        /// Name ("Dr. Ada Lovelace", "Heart Failure Team").
        name: String,
        /// The departments it serves.
        departments: Vec<Uuid>,
        /// The locations it sees patients at.
        locations: Vec<Uuid>,
    },
    /// A reason for a visit.
    VisitReason {
        /// Its name ("New patient visit").
        name: String,
        /// How long it takes, in minutes (5 to 480).
        minutes: u32,
        /// The departments that offer it (empty: all).
        departments: Vec<Uuid>,
    },
}

impl Entry {
    /// Its kind.
    pub fn kind(&self) -> EntryKind {
        match self {
            Entry::Location { .. } => EntryKind::Location,
            Entry::Department { .. } => EntryKind::Department,
            Entry::Provider { .. } => EntryKind::Provider,
            Entry::VisitReason { .. } => EntryKind::VisitReason,
        }
    }
}

/// The catalogue as its events left it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatalogueState {
    /// Entries by id, in the order they were added.
    pub entries: Vec<(Uuid, Entry)>,
}

impl CatalogueState {
    /// The entry with this id.
    pub fn get(&self, id: Uuid) -> Option<&Entry> {
        self.entries.iter().find(|(i, _)| *i == id).map(|(_, e)| e)
    }

    /// True when `id` is an entry of `kind`.
    pub fn is(&self, id: Uuid, kind: EntryKind) -> bool {
        self.get(id).is_some_and(|e| e.kind() == kind)
    }
}

/// Commands on the catalogue.
#[derive(Clone, Debug)]
pub enum CatalogueCommand {
    /// Adds an entry, or replaces the one with this id.
    Put {
        /// The entry's id.
        id: Uuid,
        /// The entry.
        entry: Entry,
        /// The staff member.
        by: Option<AccountId>,
    },
}

/// Events of the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum CatalogueEvent {
    /// An entry was added or changed.
    CatalogueEntryPut(CatalogueEntryPut),
}

/// An entry was added or changed (v1): the whole entry as it now is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogueEntryPut {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The entry's id.
    pub id: Uuid,
    /// The entry.
    pub entry: Entry,
    /// The staff member.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for CatalogueEvent {
    fn event_type(&self) -> &'static str {
        match self {
            CatalogueEvent::CatalogueEntryPut(_) => "CatalogueEntryPut",
        }
    }
}

/// Why a catalogue command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// A referenced department or location does not exist.
    #[error("{0} does not name an entry of that kind in the catalogue")]
    UnknownReference(&'static str),
    /// An entry cannot change its kind.
    #[error("an entry keeps its kind")]
    KindChanged,
    /// A visit lasts 5 to 480 minutes.
    #[error("a visit reason lasts 5 to 480 minutes")]
    DurationInvalid,
}

impl ErrorCode for CatalogueError {
    fn code(&self) -> &'static str {
        match self {
            CatalogueError::UnknownReference(_) => "CATALOGUE_REFERENCE_UNKNOWN",
            CatalogueError::KindChanged => "CATALOGUE_KIND_FIXED",
            CatalogueError::DurationInvalid => "DURATION_INVALID",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CatalogueError::UnknownReference(field) => Some(field),
            CatalogueError::DurationInvalid => Some("minutes"),
            CatalogueError::KindChanged => None,
        }
    }
}

impl Decider for Catalogue {
    type State = CatalogueState;
    type Command = (OrganizationId, CatalogueCommand);
    type Event = CatalogueEvent;
    type Error = CatalogueError;
    const CATEGORY: &'static str = "catalogue";

    fn decide(
        state: &Self::State,
        (organization, command): Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        let CatalogueCommand::Put { id, entry, by } = command;
        if let Some(existing) = state.get(id) {
            if existing.kind() != entry.kind() {
                return Err(CatalogueError::KindChanged);
            }
            if *existing == entry {
                return Ok(vec![]);
            }
        }
        match &entry {
            Entry::Provider {
                departments,
                locations,
                ..
            } => {
                if !departments
                    .iter()
                    .all(|d| state.is(*d, EntryKind::Department))
                {
                    return Err(CatalogueError::UnknownReference("departmentIds"));
                }
                if !locations.iter().all(|l| state.is(*l, EntryKind::Location)) {
                    return Err(CatalogueError::UnknownReference("locationIds"));
                }
            }
            Entry::VisitReason {
                minutes,
                departments,
                ..
            } => {
                if !(5..=480).contains(minutes) {
                    return Err(CatalogueError::DurationInvalid);
                }
                if !departments
                    .iter()
                    .all(|d| state.is(*d, EntryKind::Department))
                {
                    return Err(CatalogueError::UnknownReference("departmentIds"));
                }
            }
            Entry::Location { .. } | Entry::Department { .. } => {}
        }
        Ok(vec![CatalogueEvent::CatalogueEntryPut(CatalogueEntryPut {
            organization_id: organization,
            id,
            entry,
            by,
            at: now,
        })])
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        let CatalogueEvent::CatalogueEntryPut(e) = event;
        match state.entries.iter_mut().find(|(id, _)| *id == e.id) {
            Some((_, entry)) => *entry = e.entry.clone(),
            None => state.entries.push((e.id, e.entry.clone())),
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;

    fn put(id: u128, entry: Entry) -> (OrganizationId, CatalogueCommand) {
        (
            OrganizationId(Uuid::from_u128(1)),
            CatalogueCommand::Put {
                id: Uuid::from_u128(id),
                entry,
                by: None,
            },
        )
    }

    #[test]
    fn a_provider_names_existing_departments_only() {
        given::<Catalogue>([])
            .when(
                put(
                    5,
                    Entry::Provider {
                        name: "Dr. Lovelace".to_owned(),
                        departments: vec![Uuid::from_u128(9)],
                        locations: vec![],
                    },
                ),
                Utc::now(),
            )
            .then_error(CatalogueError::UnknownReference("departmentIds"));
    }

    #[test]
    fn an_entry_keeps_its_kind() {
        let at = Utc::now();
        let added = Catalogue::decide(
            &CatalogueState::default(),
            put(
                2,
                Entry::Department {
                    name: "Cardiology".to_owned(),
                },
            ),
            at,
        )
        .unwrap();
        given::<Catalogue>(added)
            .when(
                put(
                    2,
                    Entry::Location {
                        name: "Gonda".to_owned(),
                        address: None,
                    },
                ),
                at,
            )
            .then_error(CatalogueError::KindChanged);
    }
}
