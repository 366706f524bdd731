//! The shape every aggregate follows: `decide` turns a command into events, `evolve` folds events into state.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// An aggregate's rules, as two pure functions over its own state, commands and events.
pub trait Decider {
    /// The aggregate's state, folded from its events; `Default` is the state before the first event.
    type State: Default + Clone + Send + Sync + 'static;
    /// What a caller asks the aggregate to do.
    type Command;
    /// What the aggregate records as having happened.
    type Event: DomainEvent;
    /// Why a command is refused.
    type Error: std::error::Error + ErrorCode + Send + Sync + 'static;

    /// The stream category: streams are named `<CATEGORY>-<id>`.
    const CATEGORY: &'static str;

    /// Decides which events a command produces in the given state, at time `now`.
    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error>;

    /// Applies one event to the state.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Folds a sequence of events from the initial state.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }
}

/// An event as stored: a type name, a schema version, and a JSON body.
///
/// Event enums are serialized adjacently tagged (`{"type": .., "data": ..}`); the log keeps the type and the data
/// in separate columns. A released shape never changes: a new shape is a new version plus an arm in `upcast`.
pub trait DomainEvent:
    Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync
{
    /// The event's type name, as stored in the log.
    fn event_type(&self) -> &'static str;

    /// The schema version this code writes for the event.
    fn schema_version(&self) -> u16 {
        1
    }

    /// Rewrites the stored data of an older schema version into the current shape.
    fn upcast(event_type: &str, version: u16, data: Value) -> Result<Value, UpcastError> {
        match version {
            1 => Ok(data),
            other => Err(UpcastError::UnknownVersion {
                event_type: event_type.to_owned(),
                version: other,
            }),
        }
    }
}

/// A stored event that this code cannot read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpcastError {
    /// The event was written by a newer version of portal, or its version is corrupt.
    #[error("event {event_type} has unknown schema version {version}")]
    UnknownVersion {
        /// The stored type name.
        event_type: String,
        /// The stored schema version.
        version: u16,
    },
}

/// A refusal that the API reports with a stable, machine-readable code and, where it applies, the input field.
pub trait ErrorCode {
    /// A stable SCREAMING_SNAKE_CASE code, part of the API contract.
    fn code(&self) -> &'static str;
    /// The input field the refusal is about, if any (for example `email`).
    fn field(&self) -> Option<&'static str> {
        None
    }
    /// Facts a client needs to say what to do next (an extension each, such as `lockedUntil`), if any.
    fn details(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! given / when / then for deciders.
    use super::*;

    /// A scenario: the events already in the stream.
    pub struct Given<D: Decider> {
        state: D::State,
    }

    /// Starts a scenario from events already recorded.
    pub fn given<D: Decider>(events: impl IntoIterator<Item = D::Event>) -> Given<D> {
        let events: Vec<D::Event> = events.into_iter().collect();
        Given {
            state: D::fold(events.iter()),
        }
    }

    impl<D: Decider> Given<D> {
        /// Runs the command at `now`.
        pub fn when(self, command: D::Command, now: DateTime<Utc>) -> Then<D> {
            Then {
                result: D::decide(&self.state, command, now),
            }
        }
    }

    /// The outcome of a scenario.
    pub struct Then<D: Decider> {
        result: Result<Vec<D::Event>, D::Error>,
    }

    impl<D: Decider> Then<D>
    where
        D::Event: PartialEq,
        D::Error: PartialEq,
    {
        /// Asserts the events produced.
        pub fn then(self, expected: Vec<D::Event>) {
            match self.result {
                Ok(events) => assert_eq!(events, expected),
                Err(error) => panic!("expected events, got error {error:?}"),
            }
        }

        /// Asserts the refusal.
        pub fn then_error(self, expected: D::Error) {
            match self.result {
                Ok(events) => panic!("expected {expected:?}, got events {events:?}"),
                Err(error) => assert_eq!(error, expected),
            }
        }
    }
}
