//! portal's read side: the projector runner, which folds the log into read-model tables with checkpoints kept in
//! the same transaction, and the read models with their queries.

pub mod accounts;
pub mod calendar;
pub mod care;
pub mod listener;
pub mod lockout;
pub mod organizations;
pub mod patients;
pub mod reporting;
pub mod runner;
pub mod schedule;
pub mod status;
pub mod transcript;
pub mod writes;

pub use runner::{Projection, ProjectionError, Runner, RunnerSettings, Source};
pub use writes::Writes;

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

/// Every projection the server runs, by name.
pub const NAMES: &[&str] = &[
    accounts::NAME,
    organizations::NAME,
    lockout::NAME,
    calendar::NAME,
    patients::NAME,
    schedule::NAME,
    transcript::NAME,
    care::NAME,
];

/// Rebuilds the projection called `name` and switches over to it (see [`runner::rebuild`]); None when no
/// projection has that name.
pub async fn rebuild_named(
    name: &str,
    source: &Source,
    pool: &deadpool_postgres::Pool,
    batch_size: usize,
) -> Result<Option<runner::Rebuilt>, ProjectionError> {
    use runner::rebuild;
    Ok(Some(match name {
        accounts::NAME => rebuild(&accounts::Accounts, source, pool, batch_size).await?,
        organizations::NAME => {
            rebuild(&organizations::Organizations, source, pool, batch_size).await?
        }
        lockout::NAME => rebuild(&lockout::Lockout, source, pool, batch_size).await?,
        calendar::NAME => rebuild(&calendar::Calendar, source, pool, batch_size).await?,
        patients::NAME => rebuild(&patients::Patients, source, pool, batch_size).await?,
        schedule::NAME => rebuild(&schedule::Schedule, source, pool, batch_size).await?,
        transcript::NAME => rebuild(&transcript::Transcript, source, pool, batch_size).await?,
        care::NAME => rebuild(&care::Care, source, pool, batch_size).await?,
        _ => return Ok(None),
    }))
}

/// A LIKE pattern that finds `text` anywhere, its own wildcards matched as themselves (a search for `100%` finds
/// the text `100%`).
pub(crate) fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
