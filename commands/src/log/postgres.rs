//! The PostgreSQL log: each commit is one call of `portal_append` (one statement, one transaction, one round trip),
//! version checks backed by the unique (stream, version) index, global reads ordered by (transaction id, position)
//! below the oldest running transaction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use deadpool_postgres::Pool;
use serde_json::{json, Value};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;
use uuid::Uuid;

use super::group_commit::{self, GroupCommit, GroupCommitSettings, GroupCommitStats, Grouped};
use super::{
    check_expected, AppendError, CommandRecord, Commit, Committed, EventLog, ExpectedVersion,
    GlobalCursor, LogError, Metadata, RecordedCommand, RecordedEvent, StreamId,
};

/// The channel on which every commit notifies listeners (projectors wake up on it).
pub const NOTIFY_CHANNEL: &str = "portal_events";

/// How long a notification waits for more commits to join it; it bounds the extra latency of live projections.
const NOTIFY_COALESCE: std::time::Duration = std::time::Duration::from_millis(2);

/// How often an append with `ExpectedVersion::Any` retries after losing a race for the same version.
const ANY_RETRIES: usize = 5;

/// The event log in PostgreSQL.
#[derive(Clone)]
pub struct PgEventLog {
    pool: Pool,
    notifier: Arc<Notifier>,
    group: Arc<GroupCommit>,
}

/// Tells listeners (projectors, the mailer, in any process) that the log grew, coalescing bursts.
///
/// A transaction that runs NOTIFY takes a server-wide lock while it commits, so notifying inside every append would
/// serialize all appends. Instead, after a commit, at most one `NOTIFY` is in flight and at most one more is queued,
/// however many appends commit meanwhile, each sent 2 ms after the commit that asked for it. It is sent after the commit, so a woken listener always finds the events;
/// listeners also poll, so a notification lost to a failure only delays them.
struct Notifier {
    pool: Pool,
    in_flight: AtomicBool,
    again: AtomicBool,
}

impl Notifier {
    fn poke(self: &Arc<Self>) {
        if self.in_flight.swap(true, Ordering::SeqCst) {
            self.again.store(true, Ordering::SeqCst);
            return;
        }
        let notifier = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                // A short pause gathers the commits of a burst under one notification.
                tokio::time::sleep(NOTIFY_COALESCE).await;
                notifier.again.store(false, Ordering::SeqCst);
                if let Err(error) = notifier.notify().await {
                    tracing::warn!(%error, "could not notify listeners of new events");
                }
                if notifier.again.load(Ordering::SeqCst) {
                    continue;
                }
                notifier.in_flight.store(false, Ordering::SeqCst);
                // A poke that came between the check and the release found the flag still set: take it back.
                if !notifier.again.load(Ordering::SeqCst)
                    || notifier.in_flight.swap(true, Ordering::SeqCst)
                {
                    return;
                }
            }
        });
    }

    async fn notify(&self) -> Result<(), LogError> {
        let client = self.pool.get().await?;
        client
            .batch_execute(&format!("NOTIFY {NOTIFY_CHANNEL}"))
            .await?;
        Ok(())
    }
}

enum Attempt {
    Done(Committed),
    /// A writer with `Any` lost a race for a version: try again.
    Race,
}

impl PgEventLog {
    /// A log over the given pool (migrations applied), with group commit as [`GroupCommitSettings::default`].
    pub fn new(pool: Pool) -> Self {
        Self::with_group_commit(pool, GroupCommitSettings::default())
    }

    /// A log whose concurrent appends are grouped as `settings` say (`max_in_flight: 0`: never grouped).
    pub fn with_group_commit(pool: Pool, settings: GroupCommitSettings) -> Self {
        let notifier = Arc::new(Notifier {
            pool: pool.clone(),
            in_flight: AtomicBool::new(false),
            again: AtomicBool::new(false),
        });
        let group = GroupCommit::new(pool.clone(), settings);
        Self {
            pool,
            notifier,
            group,
        }
    }

    /// What group commit has done so far in this process.
    pub fn group_commit_stats(&self) -> GroupCommitStats {
        self.group.stats()
    }

    /// The pool, for callers that need plain SQL on the same database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn try_append(&self, commit: &Commit, document: &str) -> Result<Attempt, AppendError> {
        let client = self.pool.get().await?;
        let answer = group_commit::append(&client, document).await;
        drop(client);
        self.attempted(commit, answer).await
    }

    /// What an answer of `portal_append` means for `commit`.
    async fn attempted(
        &self,
        commit: &Commit,
        answer: Result<Value, tokio_postgres::Error>,
    ) -> Result<Attempt, AppendError> {
        let error = match answer {
            Ok(result) => return committed(result).map(Attempt::Done),
            Err(error) => error,
        };
        let Some(db) = error.as_db_error() else {
            return Err(error.into());
        };
        let detail: Value = db
            .detail()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null);
        match db.code().code() {
            "PA412" => {
                let stream =
                    StreamId::from_stored(detail["stream"].as_str().unwrap_or_default().to_owned());
                let expected = commit
                    .writes
                    .iter()
                    .find(|w| w.stream == stream)
                    .map_or(ExpectedVersion::Any, |w| w.expected);
                Err(AppendError::WrongExpectedVersion {
                    stream,
                    expected,
                    actual: detail["actual"].as_u64(),
                })
            }
            "PA409" => Err(AppendError::ClaimTaken {
                kind: detail["kind"].as_str().unwrap_or_default().to_owned(),
                owner: StreamId::from_stored(
                    detail["owner"].as_str().unwrap_or_default().to_owned(),
                ),
            }),
            "PA208" => match &commit.command {
                Some(record) => {
                    replay(self.find_command(record.command_id).await?, record).map(Attempt::Done)
                }
                None => Err(error.into()),
            },
            _ if db.code() == &SqlState::UNIQUE_VIOLATION
                && db.constraint() == Some("events_stream_version_unique") =>
            {
                // Another writer took the version between our check and our insert.
                if commit
                    .writes
                    .iter()
                    .any(|w| w.expected == ExpectedVersion::Any)
                {
                    return Ok(Attempt::Race);
                }
                for write in &commit.writes {
                    let actual = self.stream_version(&write.stream).await?;
                    if check_expected(&write.stream, write.expected, actual).is_err() {
                        return Err(AppendError::WrongExpectedVersion {
                            stream: write.stream.clone(),
                            expected: write.expected,
                            actual,
                        });
                    }
                }
                Ok(Attempt::Race)
            }
            _ => Err(error.into()),
        }
    }

    /// Up to `limit` events of one organization's stream after `after_version`, with each event's stored hash.
    pub async fn read_stream_page(
        &self,
        tenant: Uuid,
        stream: &StreamId,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<(RecordedEvent, Vec<u8>)>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &client
                    .prepare_cached(&format!(
                        "SELECT {EVENT_COLUMNS}, hash FROM events
                         WHERE stream_id = $1 AND tenant_id = $2 AND stream_version > $3
                         ORDER BY stream_version LIMIT $4"
                    ))
                    .await?,
                &[
                    &stream.as_str(),
                    &tenant,
                    &(after_version as i64),
                    &(limit as i64),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((event_from_row(row)?, row.get::<_, Vec<u8>>(10))))
            .collect()
    }

    /// The streams about an account in an organization: its own, its attendances, its appointments and wait-list
    /// entries (the streams whose first event names it as learner or patient).
    pub async fn streams_of(&self, tenant: Uuid, account: Uuid) -> Result<Vec<StreamId>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT stream_id FROM events
                 WHERE tenant_id = $1 AND stream_version = 1
                   AND (stream_id = 'account-' || $2 OR data->>'learner_id' = $2 OR data->>'patient_id' = $2)
                 ORDER BY position",
                &[&tenant, &account.to_string()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| StreamId::from_stored(r.get(0)))
            .collect())
    }

    /// The records tied to an account in an organization: the patient records it signed up from, and the sign-up
    /// requests approved into those records.
    pub async fn linked_records(
        &self,
        tenant: Uuid,
        account: Uuid,
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), LogError> {
        let client = self.pool.get().await?;
        let patients: Vec<Uuid> = client
            .query(
                "SELECT DISTINCT stream_id FROM events
                 WHERE tenant_id = $1 AND event_type = 'PatientSignedUp' AND data->>'account_id' = $2",
                &[&tenant, &account.to_string()],
            )
            .await?
            .iter()
            .filter_map(|r| StreamId::from_stored(r.get(0)).id())
            .collect();
        let names: Vec<String> = patients.iter().map(Uuid::to_string).collect();
        let requests: Vec<Uuid> = client
            .query(
                "SELECT DISTINCT stream_id FROM events
                 WHERE tenant_id = $1 AND event_type = 'SignUpRequestApproved' AND data->>'patient_id' = ANY($2)",
                &[&tenant, &names],
            )
            .await?
            .iter()
            .filter_map(|r| StreamId::from_stored(r.get(0)).id())
            .collect();
        Ok((patients, requests))
    }

    /// The attendance streams of a learner in an organization (each begins with `AttendanceRecorded`).
    pub async fn attendance_streams(
        &self,
        tenant: Uuid,
        learner: Uuid,
    ) -> Result<Vec<StreamId>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT stream_id FROM events
                 WHERE tenant_id = $1 AND event_type = 'AttendanceRecorded' AND stream_version = 1
                   AND data->>'learner_id' = $2
                 ORDER BY position",
                &[&tenant, &learner.to_string()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| StreamId::from_stored(r.get(0)))
            .collect())
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<Option<u64>, LogError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                &client
                    .prepare_cached("SELECT max(stream_version) FROM events WHERE stream_id = $1")
                    .await?,
                &[&stream.as_str()],
            )
            .await?;
        Ok(row.get::<_, Option<i64>>(0).map(|v| v as u64))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn expected(expected: ExpectedVersion) -> Value {
    match expected {
        ExpectedVersion::NoStream => json!({ "kind": "no_stream" }),
        ExpectedVersion::Exact(version) => json!({ "kind": "exact", "version": version }),
        ExpectedVersion::Any => json!({ "kind": "any" }),
    }
}

/// The commit as the JSON document `portal_append` takes (see migrations/0003_append_function.sql).
fn document(commit: &Commit) -> Result<Value, LogError> {
    let metadata =
        serde_json::to_value(&commit.metadata).map_err(|e| LogError::Corrupt(e.to_string()))?;
    Ok(json!({
        "tenant": commit.tenant,
        "metadata": metadata,
        "writes": commit.writes.iter().map(|w| json!({
            "stream": w.stream.as_str(),
            "expected": expected(w.expected),
            "events": w.events.iter().map(|e| json!({
                "type": e.event_type, "version": e.schema_version, "data": e.data,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "command": commit.command.as_ref().map(|c| json!({
            "id": c.command_id, "fingerprint": hex(&c.fingerprint), "outcome": c.outcome,
        })),
        "claims": commit.claims.iter().map(|c| json!({
            "scope": c.scope, "kind": c.kind, "key": hex(&c.key), "owner": c.owner.as_str(),
        })).collect::<Vec<_>>(),
        "releases": commit.releases.iter().map(|c| json!({
            "scope": c.scope, "kind": c.kind, "key": hex(&c.key), "owner": c.owner.as_str(),
        })).collect::<Vec<_>>(),
        "outbox": commit.outbox.iter().map(|m| json!({
            "id": m.id, "channel": m.kind.channel().as_str(), "kind": m.kind.as_str(), "recipient": m.recipient,
            "data": m.data, "due_at": m.due_at.to_rfc3339(), "subject_id": m.about,
        })).collect::<Vec<_>>(),
        "withdraw": commit.withdraw,
        "erase": commit.erase,
        "scrub_recipients": commit.scrub_recipients,
    }))
}

fn committed(result: Value) -> Result<Committed, AppendError> {
    let corrupt = || {
        AppendError::Log(LogError::Corrupt(format!(
            "unexpected result of portal_append: {result}"
        )))
    };
    let last_position = result["last_position"].as_i64().ok_or_else(corrupt)?;
    let versions = result["versions"]
        .as_array()
        .ok_or_else(corrupt)?
        .iter()
        .map(|pair| {
            Some((
                StreamId::from_stored(pair[0].as_str()?.to_owned()),
                pair[1].as_u64()?,
            ))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(corrupt)?;
    Ok(Committed {
        last_position,
        versions,
        outcome: None,
        replayed: false,
    })
}

fn replay(
    found: Option<RecordedCommand>,
    record: &CommandRecord,
) -> Result<Committed, AppendError> {
    match found {
        Some(existing) if existing.record.fingerprint == record.fingerprint => Ok(Committed {
            last_position: existing.last_position,
            versions: vec![],
            outcome: Some(existing.record.outcome),
            replayed: true,
        }),
        _ => Err(AppendError::CommandIdReused(record.command_id)),
    }
}

// The second output column is named `transaction_id` too: a query that orders by the global order must qualify
// `events.transaction_id`, or PostgreSQL sorts by the output (a bigint no index has) and reads every later event.
const EVENT_COLUMNS: &str =
    "position, transaction_id::text::bigint, tenant_id, stream_id, stream_version, event_type, \
                             schema_version, data, metadata, recorded_at";

fn event_from_row(row: &Row) -> Result<RecordedEvent, LogError> {
    let metadata: serde_json::Value = row.get(8);
    Ok(RecordedEvent {
        position: row.get(0),
        transaction_id: row.get(1),
        tenant: row.get(2),
        stream: StreamId::from_stored(row.get(3)),
        stream_version: row.get::<_, i64>(4) as u64,
        event_type: row.get(5),
        schema_version: row.get::<_, i16>(6) as u16,
        data: row.get(7),
        metadata: serde_json::from_value::<Metadata>(metadata)
            .map_err(|e| LogError::Corrupt(e.to_string()))?,
        recorded_at: row.get(9),
    })
}

impl EventLog for PgEventLog {
    async fn append(&self, commit: Commit) -> Result<Committed, AppendError> {
        if commit.writes.iter().all(|w| w.events.is_empty()) && commit.outbox.is_empty() {
            return Err(AppendError::Empty);
        }
        let document: Arc<str> = serde_json::to_string(&document(&commit)?)
            .map_err(|e| LogError::Corrupt(e.to_string()))?
            .into();
        let mut attempt = if self.group.enabled() {
            let first_stream = commit.writes.first().map_or("", |w| w.stream.as_str());
            match self.group.submit(Arc::clone(&document), first_stream).await {
                Grouped::Alone(answer) => self.attempted(&commit, answer).await?,
                Grouped::Committed(result) => Attempt::Done(committed(result)?),
                Grouped::Retry => self.try_append(&commit, &document).await?,
            }
        } else {
            self.try_append(&commit, &document).await?
        };
        let mut races = 0;
        while let Attempt::Race = attempt {
            races += 1;
            if races > ANY_RETRIES {
                break;
            }
            attempt = self.try_append(&commit, &document).await?;
        }
        if let Attempt::Done(committed) = attempt {
            if !committed.replayed {
                self.notifier.poke();
            }
            return Ok(committed);
        }
        let stream = commit.writes[0].stream.clone();
        let actual = self.stream_version(&stream).await?;
        Err(AppendError::WrongExpectedVersion {
            stream,
            expected: ExpectedVersion::Any,
            actual,
        })
    }

    async fn read_stream_after(
        &self,
        stream: &StreamId,
        after: u64,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &client
                    .prepare_cached(&format!(
                        "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2
                         ORDER BY stream_version"
                    ))
                    .await?,
                &[&stream.as_str(), &(after as i64)],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<RecordedEvent>, LogError> {
        self.read_stream_after(stream, 0).await
    }

    async fn read_all(
        &self,
        after: GlobalCursor,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &client
                    .prepare_cached(&format!(
                        "SELECT {EVENT_COLUMNS} FROM events
                         WHERE (transaction_id, position) > ($1::text::xid8, $2)
                           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                         ORDER BY events.transaction_id, events.position
                         LIMIT $3"
                    ))
                    .await?,
                &[
                    &after.transaction_id.to_string(),
                    &after.position,
                    &(limit as i64),
                ],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn find_claim(
        &self,
        scope: Uuid,
        kind: &str,
        key: &[u8],
    ) -> Result<Option<StreamId>, LogError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &client
                    .prepare_cached("SELECT owner_stream FROM unique_claims WHERE scope = $1 AND kind = $2 AND key_hash = $3")
                    .await?,
                &[&scope, &kind, &key],
            )
            .await?;
        Ok(row.map(|row| StreamId::from_stored(row.get(0))))
    }

    async fn find_command(&self, command_id: Uuid) -> Result<Option<RecordedCommand>, LogError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                &client
                    .prepare_cached("SELECT fingerprint, outcome, last_position FROM commands WHERE command_id = $1")
                    .await?,
                &[&command_id],
            )
            .await?;
        Ok(row.map(|row| RecordedCommand {
            record: CommandRecord {
                command_id,
                fingerprint: row.get(0),
                outcome: row.get(1),
            },
            last_position: row.get(2),
        }))
    }
}
