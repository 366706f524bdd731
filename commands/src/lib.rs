//! portal's write side: the event log and its backends, the command handlers that decide and append, idempotency,
//! encryption of personal data, and the outbox of messages to send.

pub mod access_log;
pub mod accounts;
pub mod activities;
pub mod aggregates;
pub mod attendance;
pub mod care;
pub mod credentials;
pub mod db;
pub mod deliveries;
pub mod devices;
pub mod erasure;
pub mod handler;
pub mod history;
pub mod links;
pub mod log;
pub mod messages;
pub mod metrics;
pub mod organizations;
pub mod outbox;
pub mod patients;
pub mod personal_data;
pub mod phones;
pub mod scheduling;
pub mod secrets;
pub mod session_activity;
pub mod sessions;
pub mod signup_requests;
pub mod sms;
pub mod store;
pub mod templates;
#[cfg(feature = "testing")]
pub mod testing;
pub mod two_step;
pub mod waitlist;

pub use handler::{Actor, CommandContext, CommandError};
pub use store::Store;

/// Why the write side could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The master key is malformed or does not match the database.
    #[error(transparent)]
    Key(#[from] secrets::KeyError),
    /// Storage failed.
    #[error(transparent)]
    Log(#[from] log::LogError),
    /// The database could not be prepared.
    #[error(transparent)]
    Db(#[from] db::DbError),
}
