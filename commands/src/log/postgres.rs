//! The PostgreSQL log: one transaction per commit, version checks by the unique (stream, version) index,
//! global reads ordered by (transaction id, position) below the oldest running transaction.

use deadpool_postgres::{Pool, Transaction};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{
    check_expected, AppendError, CommandRecord, Commit, Committed, EventLog, ExpectedVersion,
    GlobalCursor, LogError, Metadata, RecordedCommand, RecordedEvent, StreamId,
};

/// The channel on which every commit notifies listeners (projectors wake up on it).
pub const NOTIFY_CHANNEL: &str = "portal_events";

/// How often an append with `ExpectedVersion::Any` retries after losing a race for the same version.
const ANY_RETRIES: usize = 5;

/// The event log in PostgreSQL.
#[derive(Clone)]
pub struct PgEventLog {
    pool: Pool,
}

enum Attempt {
    Done(Committed),
    /// A writer with `Any` lost a race for a version: try again.
    Race,
}

impl PgEventLog {
    /// A log over the given pool (migrations applied).
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// The pool, for callers that need plain SQL on the same database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn try_append(&self, commit: &Commit) -> Result<Attempt, AppendError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;

        // Claims first: concurrent registrations of one address queue up here and all but one stop.
        let mut claims: Vec<_> = commit.claims.iter().collect();
        claims.sort_by(|a, b| (a.scope, &a.kind, &a.key).cmp(&(b.scope, &b.kind, &b.key)));
        for claim in claims {
            let inserted = tx
                .query_opt(
                    "INSERT INTO unique_claims (scope, kind, key_hash, owner_stream) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING RETURNING owner_stream",
                    &[&claim.scope, &claim.kind, &claim.key, &claim.owner.as_str()],
                )
                .await?;
            if inserted.is_none() {
                let owner: String = tx
                    .query_one(
                        "SELECT owner_stream FROM unique_claims WHERE scope = $1 AND kind = $2 AND key_hash = $3",
                        &[&claim.scope, &claim.kind, &claim.key],
                    )
                    .await?
                    .get(0);
                if owner != claim.owner.as_str() {
                    return Err(AppendError::ClaimTaken {
                        kind: claim.kind.clone(),
                        owner: StreamId::from_stored(owner),
                    });
                }
            }
        }

        // Streams in a fixed order, so that two multi-stream commits cannot deadlock on each other.
        let mut writes: Vec<_> = commit
            .writes
            .iter()
            .filter(|w| !w.events.is_empty())
            .collect();
        writes.sort_by(|a, b| a.stream.cmp(&b.stream));
        let metadata =
            serde_json::to_value(&commit.metadata).map_err(|e| LogError::Corrupt(e.to_string()))?;
        let mut versions = Vec::new();
        let mut last_position = 0i64;
        for write in writes {
            let actual = current_version(&tx, &write.stream).await?;
            check_expected(&write.stream, write.expected, actual)?;
            let start = actual.unwrap_or(0);
            let stream_versions: Vec<i64> = (1..=write.events.len() as i64)
                .map(|i| start as i64 + i)
                .collect();
            let types: Vec<&str> = write.events.iter().map(|e| e.event_type.as_str()).collect();
            let schema_versions: Vec<i16> = write
                .events
                .iter()
                .map(|e| e.schema_version as i16)
                .collect();
            let data: Vec<&serde_json::Value> = write.events.iter().map(|e| &e.data).collect();
            let inserted = tx
                .query(
                    "INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata)
                     SELECT $1, $2, v, t, s, d, $7
                     FROM unnest($3::bigint[], $4::text[], $5::smallint[], $6::jsonb[]) WITH ORDINALITY AS u(v, t, s, d, n)
                     ORDER BY n
                     RETURNING position",
                    &[&commit.tenant, &write.stream.as_str(), &stream_versions, &types, &schema_versions, &data, &metadata],
                )
                .await;
            let rows = match inserted {
                Ok(rows) => rows,
                Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    drop(tx);
                    if write.expected == ExpectedVersion::Any {
                        return Ok(Attempt::Race);
                    }
                    let actual = self.stream_version(&write.stream).await?;
                    return Err(AppendError::WrongExpectedVersion {
                        stream: write.stream.clone(),
                        expected: write.expected,
                        actual,
                    });
                }
                Err(error) => return Err(error.into()),
            };
            for row in rows {
                last_position = last_position.max(row.get::<_, i64>(0));
            }
            versions.push((write.stream.clone(), start + write.events.len() as u64));
        }

        if let Some(record) = &commit.command {
            let inserted = tx
                .execute(
                    "INSERT INTO commands (command_id, tenant_id, fingerprint, outcome, last_position)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (command_id) DO NOTHING",
                    &[&record.command_id, &commit.tenant, &record.fingerprint, &record.outcome, &last_position],
                )
                .await?;
            if inserted == 0 {
                drop(tx);
                return replay(self.find_command(record.command_id).await?, record)
                    .map(Attempt::Done);
            }
        }

        for message in &commit.outbox {
            tx.execute(
                "INSERT INTO outbox (id, tenant_id, channel, recipient, subject, body, due_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &message.id,
                    &commit.tenant,
                    &message.channel,
                    &message.recipient,
                    &message.subject,
                    &message.body,
                    &message.due_at,
                ],
            )
            .await?;
        }

        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&NOTIFY_CHANNEL, &last_position.to_string()],
        )
        .await?;
        tx.commit().await?;
        Ok(Attempt::Done(Committed {
            last_position,
            versions,
            outcome: None,
            replayed: false,
        }))
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<Option<u64>, LogError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT max(stream_version) FROM events WHERE stream_id = $1",
                &[&stream.as_str()],
            )
            .await?;
        Ok(row.get::<_, Option<i64>>(0).map(|v| v as u64))
    }
}

async fn current_version(tx: &Transaction<'_>, stream: &StreamId) -> Result<Option<u64>, LogError> {
    let row = tx
        .query_one(
            "SELECT max(stream_version) FROM events WHERE stream_id = $1",
            &[&stream.as_str()],
        )
        .await?;
    Ok(row.get::<_, Option<i64>>(0).map(|v| v as u64))
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
        if commit.writes.iter().all(|w| w.events.is_empty()) {
            return Err(AppendError::Empty);
        }
        for _ in 0..ANY_RETRIES {
            if let Attempt::Done(committed) = self.try_append(&commit).await? {
                return Ok(committed);
            }
        }
        let stream = commit.writes[0].stream.clone();
        let actual = self.stream_version(&stream).await?;
        Err(AppendError::WrongExpectedVersion {
            stream,
            expected: ExpectedVersion::Any,
            actual,
        })
    }

    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<RecordedEvent>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version"),
                &[&stream.as_str()],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn read_all(
        &self,
        after: GlobalCursor,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events
                     WHERE (transaction_id, position) > ($1::text::xid8, $2)
                       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                     ORDER BY transaction_id, position
                     LIMIT $3"
                ),
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
                "SELECT owner_stream FROM unique_claims WHERE scope = $1 AND kind = $2 AND key_hash = $3",
                &[&scope, &kind, &key],
            )
            .await?;
        Ok(row.map(|row| StreamId::from_stored(row.get(0))))
    }

    async fn find_command(&self, command_id: Uuid) -> Result<Option<RecordedCommand>, LogError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT fingerprint, outcome, last_position FROM commands WHERE command_id = $1",
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
