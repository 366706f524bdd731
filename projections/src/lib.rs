//! portal's read side: the projector runner, which folds the log into read-model tables with checkpoints kept in
//! the same transaction, and the read models with their queries.

pub mod accounts;
pub mod calendar;
pub mod listener;
pub mod lockout;
pub mod organizations;
pub mod patients;
pub mod reporting;
pub mod runner;
pub mod schedule;
pub mod status;
pub mod transcript;

pub use runner::{Projection, ProjectionError, Runner, RunnerSettings, Source};

use portal_commands::log::RecordedEvent;
use portal_commands::store::decode;
use portal_domain::DomainEvent;

/// Decodes an event of the category a projection cares about; events of other categories give None.
pub fn decode_if<E: DomainEvent>(
    event: &RecordedEvent,
    category: &str,
) -> Result<Option<E>, ProjectionError> {
    if event.stream.category() != category {
        return Ok(None);
    }
    decode::<E>(event)
        .map(Some)
        .map_err(|e| ProjectionError::Decode(e.to_string()))
}
