//! The event log: an append-only sequence of events, grouped in streams, read back in one global order.
//!
//! Two backends implement [`EventLog`]: PostgreSQL (the system of record) and memory (for fast tests). Both pass
//! the same conformance suite (`commands/tests/commands/log_conformance.rs`).

mod group_commit;
pub mod integrity;
mod memory;
pub mod portability;
mod postgres;

pub use group_commit::{GroupCommitSettings, GroupCommitStats};
pub use memory::MemoryEventLog;
pub use postgres::{PgEventLog, NOTIFY_CHANNEL};

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A stream's name: `<category>-<uuid>`, for example `account-7b0c…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamId(String);

impl StreamId {
    /// The stream of aggregate `id` in `category`.
    pub fn new(category: &str, id: Uuid) -> Self {
        Self(format!("{category}-{id}"))
    }

    /// Wraps a name read back from storage.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The category, the part before the first `-`.
    pub fn category(&self) -> &str {
        self.0
            .split_once('-')
            .map_or(&self.0, |(category, _)| category)
    }

    /// The aggregate id, the UUID after the category.
    pub fn id(&self) -> Option<Uuid> {
        self.0
            .split_once('-')
            .and_then(|(_, id)| Uuid::parse_str(id).ok())
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the writer believes the stream's version to be. Versions count events: a stream of 3 events is at 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// The stream must not exist.
    NoStream,
    /// The stream must be at exactly this version.
    Exact(u64),
    /// No check.
    Any,
}

/// Where a reader of the whole log stands: the writing transaction's id and the position, compared in that order.
///
/// Positions come from a sequence and commit out of order; transaction ids below the oldest running transaction
/// can no longer gain events, so ordering by (transaction id, position) and reading only below that horizon never
/// skips an event that commits late.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct GlobalCursor {
    /// The writing transaction's id (`pg_current_xact_id()`).
    pub transaction_id: i64,
    /// The global position.
    pub position: i64,
}

impl GlobalCursor {
    /// The cursor before the first event.
    pub const START: GlobalCursor = GlobalCursor {
        transaction_id: 0,
        position: 0,
    };
}

/// One event to append, already encoded (personal data encrypted).
#[derive(Clone, Debug, PartialEq)]
pub struct EventData {
    /// The event's type name.
    pub event_type: String,
    /// The schema version of `data`.
    pub schema_version: u16,
    /// The body.
    pub data: Value,
}

/// Events to append to one stream.
#[derive(Clone, Debug)]
pub struct StreamWrite {
    /// The stream.
    pub stream: StreamId,
    /// The version check.
    pub expected: ExpectedVersion,
    /// The events, in order.
    pub events: Vec<EventData>,
}

/// Where a command came from. Stored with every event it produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The command's id (idempotency key).
    pub command_id: Option<Uuid>,
    /// The command's name, for auditors.
    pub command: Option<String>,
    /// Ties together everything one request caused.
    pub correlation_id: Option<Uuid>,
    /// The event or command that caused this one.
    pub causation_id: Option<Uuid>,
    /// Who acted: `account:<id>`, `system`, or `anonymous`.
    pub actor: Option<String>,
    /// When a proxy acted: the patient they acted for (the actor is the proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Uuid>,
    /// The client's address.
    pub client_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// `client_ip` and `user_agent` encrypted with the data subject's key, as the log stores them when the commit
    /// is about a person (see `Store::append`); readers put them back into the two fields above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Value>,
}

/// A uniqueness claim (an e-mail address in an organization, an organization code) written with the events.
///
/// Keys are keyed hashes, never the value itself, so the index holds no readable personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The scope of uniqueness: an organization's id, or nil for all of portal.
    pub scope: Uuid,
    /// What is unique (`email`, `organization_code`).
    pub kind: String,
    /// The keyed hash of the value.
    pub key: Vec<u8>,
    /// The stream that owns the value.
    pub owner: StreamId,
}

/// The first result of a command, kept so that a retry with the same command id gets it again.
#[derive(Clone, Debug, PartialEq)]
pub struct CommandRecord {
    /// The command's id.
    pub command_id: Uuid,
    /// A keyed hash of the command's input: a retry must carry the same input.
    pub fingerprint: Vec<u8>,
    /// The handler's result (secrets in it are sealed).
    pub outcome: Value,
}

/// A command already appended, as found by its id.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedCommand {
    /// What was recorded.
    pub record: CommandRecord,
    /// The position of its last event.
    pub last_position: i64,
}

/// A message to send once the commit is durable (the outbox).
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxMessage {
    /// Stable id, also the message's id for the receiver to drop duplicates.
    pub id: Uuid,
    /// What it is; also says how it travels and which template renders it.
    pub kind: portal_domain::values::MessageKind,
    /// The e-mail address or phone number.
    pub recipient: String,
    /// What its template is rendered with (an object).
    pub data: serde_json::Value,
    /// Not to be sent before.
    pub due_at: DateTime<Utc>,
    /// Whose personal data it holds, when its address alone does not say (an erasure of that person blanks it).
    pub about: Option<Uuid>,
}

impl OutboxMessage {
    /// The message, noted as holding the personal data of `subject`.
    pub fn about(self, subject: Uuid) -> Self {
        Self {
            about: Some(subject),
            ..self
        }
    }
}

/// Everything one command writes, atomically. Fields a commit does not use are left to `..Default::default()`.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    /// The organization every stream of the commit belongs to.
    pub tenant: Uuid,
    /// Events per stream.
    pub writes: Vec<StreamWrite>,
    /// Stored with every event.
    pub metadata: Metadata,
    /// The idempotency record, when the command has an id.
    pub command: Option<CommandRecord>,
    /// Uniqueness claims.
    pub claims: Vec<Claim>,
    /// Claims to give up (only their owner's are removed), such as an e-mail address replaced by another.
    pub releases: Vec<Claim>,
    /// Messages to send.
    pub outbox: Vec<OutboxMessage>,
    /// Messages of earlier commits not to send after all (a reminder of an appointment that moved), by id; those
    /// already sent are left as they are.
    pub withdraw: Vec<Uuid>,
    /// People whose data keys this commit deletes (erasure): their personal data in the log becomes unreadable.
    pub erase: Vec<Uuid>,
    /// Addresses whose outbox messages lose their address and text (the erased people's e-mail and numbers).
    pub scrub_recipients: Vec<String>,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq)]
pub struct Committed {
    /// Position of the last event appended (or, for a replay, of the first attempt's last event).
    pub last_position: i64,
    /// Version of each stream written (empty for a replay).
    pub versions: Vec<(StreamId, u64)>,
    /// The recorded outcome, for a replay.
    pub outcome: Option<Value>,
    /// True when the command id had been appended before and nothing was appended now.
    pub replayed: bool,
}

/// An event as read back from the log.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    /// The global position.
    pub position: i64,
    /// The writing transaction's id.
    pub transaction_id: i64,
    /// The organization.
    pub tenant: Uuid,
    /// The stream.
    pub stream: StreamId,
    /// The event's version within its stream, from 1.
    pub stream_version: u64,
    /// The type name.
    pub event_type: String,
    /// The schema version of `data`.
    pub schema_version: u16,
    /// The body (personal data still encrypted until decoded).
    pub data: Value,
    /// The metadata.
    pub metadata: Metadata,
    /// When the log recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// Where a reader stands after this event.
    pub fn cursor(&self) -> GlobalCursor {
        GlobalCursor {
            transaction_id: self.transaction_id,
            position: self.position,
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection could be had.
    #[error("connection pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A stored row cannot be read.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Why an append was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// A stream was not at the expected version; nothing was appended.
    #[error("stream {stream} is at version {actual:?}, expected {expected:?}")]
    WrongExpectedVersion {
        /// The stream.
        stream: StreamId,
        /// What the writer expected.
        expected: ExpectedVersion,
        /// What it is (None: no stream).
        actual: Option<u64>,
    },
    /// A uniqueness claim belongs to another stream; nothing was appended.
    #[error("{kind} is claimed by {owner}")]
    ClaimTaken {
        /// What is unique.
        kind: String,
        /// Who holds it.
        owner: StreamId,
    },
    /// The command id was used before with other input.
    #[error("command id {0} was used before for another command")]
    CommandIdReused(Uuid),
    /// A commit must append at least one event or outbox message.
    #[error("a commit must append at least one event or outbox message")]
    Empty,
    /// The client details could not be encrypted.
    #[error("the client details could not be sealed: {0}")]
    Seal(String),
    /// Storage failed.
    #[error(transparent)]
    Log(#[from] LogError),
}

impl From<tokio_postgres::Error> for AppendError {
    fn from(error: tokio_postgres::Error) -> Self {
        AppendError::Log(LogError::Database(error))
    }
}

impl From<deadpool_postgres::PoolError> for AppendError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        AppendError::Log(LogError::Pool(error))
    }
}

/// The operations every log backend offers.
pub trait EventLog: Clone + Send + Sync + 'static {
    /// Appends a commit atomically: every stream's version checked, all events or none, with its claims,
    /// idempotency record and outbox messages. A commit of outbox messages alone (an e-mail that answers a request
    /// about an address without an account) appends no event and reports position 0.
    fn append(&self, commit: Commit)
        -> impl Future<Output = Result<Committed, AppendError>> + Send;

    /// One stream's events, in version order (empty if the stream does not exist).
    fn read_stream(
        &self,
        stream: &StreamId,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, LogError>> + Send;

    /// One stream's events after version `after`, in version order: what a cached state has not seen yet.
    fn read_stream_after(
        &self,
        stream: &StreamId,
        after: u64,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, LogError>> + Send;

    /// Up to `limit` events after `after`, in global order, never skipping one that commits late.
    fn read_all(
        &self,
        after: GlobalCursor,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, LogError>> + Send;

    /// The owner of a uniqueness claim.
    fn find_claim(
        &self,
        scope: Uuid,
        kind: &str,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<StreamId>, LogError>> + Send;

    /// A command already appended, by id.
    fn find_command(
        &self,
        command_id: Uuid,
    ) -> impl Future<Output = Result<Option<RecordedCommand>, LogError>> + Send;
}

pub(crate) fn check_expected(
    stream: &StreamId,
    expected: ExpectedVersion,
    actual: Option<u64>,
) -> Result<(), AppendError> {
    let ok = match expected {
        ExpectedVersion::NoStream => actual.is_none(),
        ExpectedVersion::Exact(version) => {
            actual == Some(version) || (version == 0 && actual.is_none())
        }
        ExpectedVersion::Any => true,
    };
    if ok {
        Ok(())
    } else {
        Err(AppendError::WrongExpectedVersion {
            stream: stream.clone(),
            expected,
            actual,
        })
    }
}
