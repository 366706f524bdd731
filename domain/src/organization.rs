//! Organizations (tenants): the CE provider or clinic whose portal people use.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{OrganizationCode, OrganizationName};
use crate::{Decider, DomainEvent, ErrorCode, OrganizationId};

/// The organization aggregate.
pub struct Organization;

/// An organization's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum OrganizationState {
    /// Nothing recorded yet.
    #[default]
    Absent,
    /// Created.
    Active {
        /// Its id.
        id: OrganizationId,
        /// Its code.
        code: OrganizationCode,
        /// Its display name.
        name: OrganizationName,
    },
}

/// Commands on an organization.
#[derive(Clone, Debug)]
pub enum OrganizationCommand {
    /// Creates the organization.
    Create {
        /// The new id.
        id: OrganizationId,
        /// The code people type in the app.
        code: OrganizationCode,
        /// The display name.
        name: OrganizationName,
    },
}

/// Events of an organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OrganizationEvent {
    /// An organization was created.
    OrganizationCreated(OrganizationCreated),
}

/// An organization was created (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationCreated {
    /// Its id.
    pub organization_id: OrganizationId,
    /// Its code, unique across portal.
    pub code: OrganizationCode,
    /// Its display name.
    pub name: OrganizationName,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl DomainEvent for OrganizationEvent {
    fn event_type(&self) -> &'static str {
        match self {
            OrganizationEvent::OrganizationCreated(_) => "OrganizationCreated",
        }
    }
}

/// Why an organization command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationError {
    /// The organization exists already.
    #[error("this organization exists already")]
    AlreadyExists,
}

impl ErrorCode for OrganizationError {
    fn code(&self) -> &'static str {
        match self {
            OrganizationError::AlreadyExists => "ORGANIZATION_EXISTS",
        }
    }
}

impl Decider for Organization {
    type State = OrganizationState;
    type Command = OrganizationCommand;
    type Event = OrganizationEvent;
    type Error = OrganizationError;
    const CATEGORY: &'static str = "organization";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (OrganizationState::Absent, OrganizationCommand::Create { id, code, name }) => {
                Ok(vec![OrganizationEvent::OrganizationCreated(
                    OrganizationCreated {
                        organization_id: id,
                        code,
                        name,
                        created_at: now,
                    },
                )])
            }
            (OrganizationState::Active { .. }, OrganizationCommand::Create { .. }) => {
                Err(OrganizationError::AlreadyExists)
            }
        }
    }

    fn evolve(_state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            OrganizationEvent::OrganizationCreated(e) => OrganizationState::Active {
                id: e.organization_id,
                code: e.code.clone(),
                name: e.name.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn create(at: DateTime<Utc>) -> (OrganizationCommand, OrganizationEvent) {
        let id = OrganizationId(Uuid::from_u128(1));
        let code = OrganizationCode::parse("umncpd").unwrap();
        let name = OrganizationName::parse("UMN CPD").unwrap();
        (
            OrganizationCommand::Create {
                id,
                code: code.clone(),
                name: name.clone(),
            },
            OrganizationEvent::OrganizationCreated(OrganizationCreated {
                organization_id: id,
                code,
                name,
                created_at: at,
            }),
        )
    }

    #[test]
    fn an_organization_is_created_once() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (command, event) = create(t0);
        given::<Organization>([])
            .when(command, t0)
            .then(vec![event]);
    }

    #[test]
    fn creating_an_existing_organization_is_refused() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (command, event) = create(t0);
        given::<Organization>([event])
            .when(command, t0)
            .then_error(OrganizationError::AlreadyExists);
    }
}
