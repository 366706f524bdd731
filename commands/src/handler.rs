//! The one loop every command goes through: load, decide, append; on a version conflict, reload and decide again.

use chrono::{DateTime, Utc};
use portal_domain::SessionId;
use portal_domain::{Decider, ErrorCode};
use serde_json::Value;
use uuid::Uuid;

use crate::log::{
    AppendError, Claim, CommandRecord, Commit, EventLog, ExpectedVersion, LogError, Metadata,
    OutboxMessage, StreamId, StreamWrite,
};
use crate::store::{CodecError, LoadError, Store};

/// How many times a command is decided again after losing a race for its stream.
pub const MAX_ATTEMPTS: usize = 10;

/// Waits before attempt `attempt` (from 1) after a lost race: a random pause of up to 2^attempt ms (capped at
/// 256 ms), so that writers racing for one stream spread out instead of colliding again in step.
pub async fn back_off(attempt: usize) {
    let ceiling_ms = 1u64 << attempt.min(8);
    let random = u64::from_le_bytes(Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([0; 8]));
    tokio::time::sleep(std::time::Duration::from_micros(
        random % (ceiling_ms * 1000),
    ))
    .await;
}

/// The time now, to the microsecond: what PostgreSQL keeps, so that a time in an event and the same time in a
/// read model are equal.
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Who or what issues a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// Someone not signed in.
    Anonymous,
    /// A signed-in account.
    Account(Uuid),
    /// A signed-in proxy acting for a patient: the events record both.
    Proxy {
        /// The proxy's account (who acted).
        proxy: Uuid,
        /// The patient's account (for whom).
        patient: Uuid,
    },
    /// portal itself (CLI, demo, background jobs).
    System,
}

impl Actor {
    fn label(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".to_owned(),
            Actor::Account(id) | Actor::Proxy { proxy: id, .. } => format!("account:{id}"),
            Actor::System => "system".to_owned(),
        }
    }
}

/// What every command carries besides its input.
#[derive(Clone, Debug)]
pub struct CommandContext {
    /// Idempotency key: a retry with the same id returns the first result.
    pub command_id: Uuid,
    /// Ties together everything one request caused.
    pub correlation_id: Uuid,
    /// What caused this command, if it was another command or event.
    pub causation_id: Option<Uuid>,
    /// Who issues it.
    pub actor: Actor,
    /// The client's address.
    pub client_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The time the command is decided at.
    pub now: DateTime<Utc>,
}

impl CommandContext {
    /// A context for portal itself, with fresh ids and the current time.
    pub fn system() -> Self {
        let id = Uuid::new_v4();
        Self {
            command_id: id,
            correlation_id: id,
            causation_id: None,
            actor: Actor::System,
            client_ip: None,
            user_agent: None,
            now: now(),
        }
    }

    /// The metadata stored with the events of command `name`.
    pub fn metadata(&self, name: &str) -> Metadata {
        Metadata {
            command_id: Some(self.command_id),
            command: Some(name.to_owned()),
            correlation_id: Some(self.correlation_id),
            causation_id: self.causation_id,
            actor: Some(self.actor.label()),
            on_behalf_of: match self.actor {
                Actor::Proxy { patient, .. } => Some(patient),
                _ => None,
            },
            client_ip: self.client_ip.clone(),
            user_agent: self.user_agent.clone(),
            client: None,
        }
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E> {
    /// The domain refused it.
    #[error("{0}")]
    Rejected(E),
    /// The stream kept changing under us; nothing was appended.
    #[error("the command lost {0} races for stream {1}; try again")]
    Conflict(usize, StreamId),
    /// A unique value (such as an e-mail address) belongs to another stream.
    #[error("{kind} belongs to {owner}")]
    Taken {
        /// What is unique.
        kind: String,
        /// Its owner.
        owner: StreamId,
    },
    /// The command id was used before for a different command.
    #[error("this command id was used before for a different command")]
    IdempotencyKeyReused,
    /// Storage failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Stored events could not be read or written.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Every core is busy checking passwords and the queue is full: refused at once rather than queued behind a
    /// burst (try again in a few seconds).
    #[error("the server is busy checking passwords; try again in a few seconds")]
    Busy,
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
}

impl<E> CommandError<E> {
    /// Maps a domain refusal to another error type, keeping the other cases.
    pub fn map_rejected<F>(self, f: impl FnOnce(E) -> F) -> CommandError<F> {
        match self {
            CommandError::Rejected(e) => CommandError::Rejected(f(e)),
            CommandError::Conflict(n, s) => CommandError::Conflict(n, s),
            CommandError::Taken { kind, owner } => CommandError::Taken { kind, owner },
            CommandError::IdempotencyKeyReused => CommandError::IdempotencyKeyReused,
            CommandError::Log(e) => CommandError::Log(e),
            CommandError::Codec(e) => CommandError::Codec(e),
            CommandError::Busy => CommandError::Busy,
            CommandError::Internal(e) => CommandError::Internal(e),
        }
    }
}

impl<E> From<LoadError> for CommandError<E> {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Log(e) => CommandError::Log(e),
            LoadError::Codec(e) => CommandError::Codec(e),
        }
    }
}

impl<E: ErrorCode> CommandError<E> {
    /// The stable code the API reports.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Rejected(e) => e.code(),
            CommandError::Conflict(..) => "CONCURRENCY_CONFLICT",
            CommandError::Taken { .. } => "ALREADY_TAKEN",
            CommandError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            CommandError::Busy => "RATE_LIMITED",
            CommandError::Log(_) | CommandError::Codec(_) | CommandError::Internal(_) => "INTERNAL",
        }
    }
}

/// Messages that depend on what the decider decided (credit awarded after it waited, say), written with the events.
pub type FollowUp<E> = Box<dyn Fn(&[E]) -> Vec<OutboxMessage> + Send + Sync>;

/// What a command writes besides its events, worked out from the state it is decided on.
pub struct Plan<C, E = ()> {
    /// The organization the stream belongs to.
    pub tenant: Uuid,
    /// The command for the decider.
    pub command: C,
    /// Uniqueness claims to take.
    pub claims: Vec<Claim>,
    /// Uniqueness claims to give up.
    pub releases: Vec<Claim>,
    /// Messages to send once the events are durable.
    pub outbox: Vec<OutboxMessage>,
    /// More messages, worked out from the events decided.
    pub follow_up: Option<FollowUp<E>>,
}

impl<C, E> Plan<C, E> {
    /// A plan with nothing but the command.
    pub fn command(tenant: Uuid, command: C) -> Self {
        Self::with_outbox(tenant, command, vec![])
    }

    /// A plan with the command and messages to send.
    pub fn with_outbox(tenant: Uuid, command: C, outbox: Vec<OutboxMessage>) -> Self {
        Self {
            tenant,
            command,
            claims: vec![],
            releases: vec![],
            outbox,
            follow_up: None,
        }
    }

    /// The plan, with messages worked out from the events once they are decided.
    pub fn following_up(self, follow_up: FollowUp<E>) -> Self {
        Self {
            follow_up: Some(follow_up),
            ..self
        }
    }
}

/// What a command did.
#[derive(Debug)]
pub struct Executed<Ev> {
    /// Position of the last event appended; None when the decider decided nothing.
    pub last_position: Option<i64>,
    /// The events appended (empty for a replay).
    pub events: Vec<Ev>,
    /// The first attempt's outcome, when this was a retry of a command already appended.
    pub replayed: Option<Value>,
}

/// Runs a single-stream command: `plan` sees the current state and says what to decide and what else to write.
/// Deciders whose events can revoke sessions: the loop ends those sessions in the same commit.
pub trait EndsSessions: Decider {
    /// The sessions `events` revoke.
    fn sessions_to_end(_events: &[Self::Event]) -> Vec<SessionId> {
        Vec::new()
    }
}

impl EndsSessions for portal_domain::organization::Organization {}
impl EndsSessions for portal_domain::activity::Activity {}
impl EndsSessions for portal_domain::attendance::Attendance {}
impl EndsSessions for portal_domain::patient::Patient {}
impl EndsSessions for portal_domain::signup_request::SignUpRequest {}
impl EndsSessions for portal_domain::catalogue::Catalogue {}
impl EndsSessions for portal_domain::session::Session {}
impl EndsSessions for portal_domain::appointment::Appointment {}
impl EndsSessions for portal_domain::care::conversation::Conversation {}
impl EndsSessions for portal_domain::care::care_team::CareTeam {}
impl EndsSessions for portal_domain::care::test_result::TestResult {}
impl EndsSessions for portal_domain::care::billing::Statement {}
impl EndsSessions for portal_domain::care::billing::BillingAccount {}
impl EndsSessions for portal_domain::care::medication::Medication {}
impl EndsSessions for portal_domain::care::proxy::ProxyAccess {}
impl EndsSessions for portal_domain::account::Account {
    fn sessions_to_end(events: &[Self::Event]) -> Vec<SessionId> {
        use portal_domain::account::AccountEvent;
        let mut sessions: Vec<SessionId> = Vec::new();
        for event in events {
            let ended = match event {
                AccountEvent::SessionsRevoked(revoked) => &revoked.session_ids,
                AccountEvent::DeviceSessionsEnded(ended) => &ended.session_ids,
                _ => continue,
            };
            for id in ended {
                // One write per stream: a session named twice in one commit would conflict with itself.
                if !sessions.contains(id) {
                    sessions.push(*id);
                }
            }
        }
        sessions
    }
}

pub async fn execute<L, D>(
    store: &Store<L>,
    stream: &StreamId,
    subject: Option<Uuid>,
    ctx: &CommandContext,
    name: &str,
    fingerprint: Vec<u8>,
    mut plan: impl FnMut(&D::State) -> Result<Plan<D::Command, D::Event>, D::Error>,
) -> Result<Executed<D::Event>, CommandError<D::Error>>
where
    L: EventLog,
    D: EndsSessions,
{
    if let Some(found) = store.log.find_command(ctx.command_id).await? {
        return if found.record.fingerprint == fingerprint {
            Ok(Executed {
                last_position: Some(found.last_position),
                events: vec![],
                replayed: Some(found.record.outcome),
            })
        } else {
            Err(CommandError::IdempotencyKeyReused)
        };
    }
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<D>(stream).await?;
        let Plan {
            tenant,
            command,
            claims,
            releases,
            mut outbox,
            follow_up,
        } = plan(&state).map_err(CommandError::Rejected)?;
        let events = D::decide(&state, command, ctx.now).map_err(CommandError::Rejected)?;
        if let Some(follow_up) = &follow_up {
            outbox.extend(follow_up(&events));
        }
        if events.is_empty() {
            return Ok(Executed {
                last_position: None,
                events,
                replayed: None,
            });
        }
        let expected = if version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(version)
        };
        let mut writes = vec![StreamWrite {
            stream: stream.clone(),
            expected,
            events: store.encode(subject, &events).await?,
        }];
        writes.extend(crate::sessions::end_writes(store, &D::sessions_to_end(&events), ctx).await?);
        let commit = Commit {
            tenant,
            writes,
            metadata: ctx.metadata(name),
            command: Some(CommandRecord {
                command_id: ctx.command_id,
                fingerprint: fingerprint.clone(),
                outcome: Value::Null,
            }),
            claims,
            releases,
            outbox,
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) if committed.replayed => {
                return Ok(Executed {
                    last_position: Some(committed.last_position),
                    events: vec![],
                    replayed: committed.outcome,
                })
            }
            Ok(committed) => {
                return Ok(Executed {
                    last_position: Some(committed.last_position),
                    events,
                    replayed: None,
                })
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, stream.clone()))
}

/// Maps an append failure that is not a version conflict.
pub fn append_error<E>(error: AppendError) -> CommandError<E> {
    match error {
        AppendError::ClaimTaken { kind, owner } => CommandError::Taken { kind, owner },
        AppendError::CommandIdReused(_) => CommandError::IdempotencyKeyReused,
        AppendError::Log(e) => CommandError::Log(e),
        AppendError::WrongExpectedVersion { stream, .. } => CommandError::Conflict(1, stream),
        AppendError::Empty => CommandError::Internal("empty commit".to_owned()),
        AppendError::Seal(reason) => CommandError::Internal(reason),
    }
}
