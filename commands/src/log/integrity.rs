//! Tamper evidence: each event's hash chains to the previous event of its stream (computed by `portal_append`,
//! see migrations/0011_tamper_evidence.sql), and signed checkpoints chain the event hashes in the global order.
//!
//! The stream chains show that no row was altered or removed without rewriting every later hash of its stream; the
//! checkpoints, signed with a key derived from the master key that the database never holds, show that nobody
//! rewrote a chain either. Events after the last checkpoint are covered by their stream chains only until the next
//! checkpoint is sealed (the server seals one every few seconds while the log grows).

use deadpool_postgres::Pool;
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

use super::{GlobalCursor, LogError};
use crate::secrets::Secrets;

/// Events read per query while verifying or sealing.
const PAGE: i64 = 5_000;

/// Domain-separation label of the checkpoint chain.
const CHECKPOINT_LABEL: &[u8] = b"portal-checkpoint/v1";

/// A sealed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// 1, 2, 3, ... in the order they were sealed.
    pub sequence: i64,
    /// The position of the last event it covers.
    pub last_position: i64,
    /// How many events it covers (after the previous checkpoint).
    pub event_count: i64,
    /// SHA-256 over the previous chain hash and each covered event's position and hash.
    pub chain_hash: Vec<u8>,
    /// HMAC-SHA256 of the chain hash under the server's checkpoint key.
    pub signature: Vec<u8>,
}

/// The first thing `verify` found wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    /// The event's content no longer gives its stored hash: it was altered after it was written.
    #[error(
        "event at position {position} (stream {stream}, version {version}) does not match its hash"
    )]
    EventAltered {
        /// Global position.
        position: i64,
        /// Stream.
        stream: String,
        /// Version in the stream.
        version: i64,
    },
    /// A stream skips versions: events were removed.
    #[error("event at position {position} (stream {stream}, version {version}) follows version {previous}: events are missing before it")]
    EventsMissing {
        /// Global position of the event after the gap.
        position: i64,
        /// Stream.
        stream: String,
        /// Its version.
        version: i64,
        /// The version seen before it (0: none).
        previous: i64,
    },
    /// The events a checkpoint covers no longer hash to its chain hash: events were added, removed, reordered or
    /// rewritten together with their stream's hashes.
    #[error("checkpoint {sequence} does not match the log: the events up to position {last_position} were changed, added or removed (first covered event at position {first_position})")]
    CheckpointMismatch {
        /// The checkpoint.
        sequence: i64,
        /// The first event it covers, as the log holds it now.
        first_position: i64,
        /// The last event it says it covers.
        last_position: i64,
    },
    /// A checkpoint's signature is not this server's.
    #[error("checkpoint {sequence} is not signed with this server's key")]
    CheckpointForged {
        /// The checkpoint.
        sequence: i64,
    },
    /// Checkpoints are missing from the sequence, or cover more events than the log holds.
    #[error("checkpoint {sequence} is missing or covers events that are not in the log")]
    CheckpointsBroken {
        /// The first checkpoint that could not be matched.
        sequence: i64,
    },
}

/// What `verify` checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Events checked.
    pub events: u64,
    /// Streams seen.
    pub streams: u64,
    /// Checkpoints checked.
    pub checkpoints: u64,
    /// Events after the last checkpoint (covered by their stream chains only).
    pub unsealed: u64,
    /// The first problem, if any.
    pub finding: Option<Finding>,
}

/// The hash `portal_event_hash` stores for an event, recomputed from the row's canonical fields.
struct CanonicalEvent {
    position: i64,
    tenant: String,
    stream: String,
    version: i64,
    event_type: String,
    schema_version: i16,
    data: String,
    metadata: String,
    recorded_micros: i64,
    hash: Vec<u8>,
    transaction_id: i64,
}

const CANONICAL_COLUMNS: &str = "position, tenant_id::text, stream_id, stream_version, event_type, schema_version, \
     data::text, metadata::text, (extract(epoch FROM recorded_at) * 1000000)::bigint, hash, transaction_id::text::bigint";

impl CanonicalEvent {
    fn from_row(row: &Row) -> Self {
        Self {
            position: row.get(0),
            tenant: row.get(1),
            stream: row.get(2),
            version: row.get(3),
            event_type: row.get(4),
            schema_version: row.get(5),
            data: row.get(6),
            metadata: row.get(7),
            recorded_micros: row.get(8),
            hash: row.get(9),
            transaction_id: row.get(10),
        }
    }

    /// SHA-256 of the fields joined by newlines, exactly as migrations/0011_tamper_evidence.sql encodes them.
    fn expected_hash(&self, previous: Option<&[u8]>) -> Vec<u8> {
        let previous = previous.map(hex).unwrap_or_default();
        let encoded = [
            "portal-event/v1",
            &previous,
            &self.tenant,
            &self.stream,
            &self.version.to_string(),
            &self.event_type,
            &self.schema_version.to_string(),
            &self.data,
            &self.metadata,
            &self.recorded_micros.to_string(),
        ]
        .join("\n");
        Sha256::digest(encoded.as_bytes()).to_vec()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Extends a checkpoint chain by the events it covers.
fn chain(previous: Option<&[u8]>, events: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(CHECKPOINT_LABEL);
    hasher.update(previous.unwrap_or_default());
    for (position, hash) in events {
        hasher.update(position.to_be_bytes());
        hasher.update(hash);
    }
    hasher.finalize().to_vec()
}

/// Events after `after` in the global order, as the transaction's snapshot sees them. Verify reads the whole log in
/// one snapshot rather than below the oldest running transaction as incremental readers do: a transaction still
/// running can hold no event a checkpoint covers, and the checks are per stream.
async fn page(
    tx: &deadpool_postgres::Transaction<'_>,
    after: GlobalCursor,
) -> Result<Vec<CanonicalEvent>, LogError> {
    let rows = tx
        .query(
            &format!(
                "SELECT {CANONICAL_COLUMNS} FROM events
                 WHERE (transaction_id, position) > ($1::text::xid8, $2)
                 ORDER BY events.transaction_id, events.position LIMIT $3"
            ),
            &[&after.transaction_id.to_string(), &after.position, &PAGE],
        )
        .await?;
    Ok(rows.iter().map(CanonicalEvent::from_row).collect())
}

async fn checkpoints(tx: &deadpool_postgres::Transaction<'_>) -> Result<Vec<Checkpoint>, LogError> {
    let rows = tx
        .query(
            "SELECT sequence, last_position, event_count, chain_hash, signature FROM log_checkpoints ORDER BY sequence",
            &[],
        )
        .await?;
    Ok(rows.iter().map(checkpoint_from_row).collect())
}

fn checkpoint_from_row(row: &Row) -> Checkpoint {
    Checkpoint {
        sequence: row.get(0),
        last_position: row.get(1),
        event_count: row.get(2),
        chain_hash: row.get(3),
        signature: row.get(4),
    }
}

/// Seals a checkpoint over the events written since the last one (at most `max_events`); None when there are none.
/// Two processes sealing at once cannot both succeed: the sequence number is the table's key.
pub async fn seal(
    pool: &Pool,
    secrets: &Secrets,
    max_events: usize,
) -> Result<Option<Checkpoint>, LogError> {
    let client = pool.get().await?;
    let last = client
        .query_opt(
            "SELECT c.sequence, c.last_position, c.event_count, c.chain_hash, c.signature,
                    e.transaction_id::text::bigint
             FROM log_checkpoints c JOIN events e ON e.position = c.last_position
             ORDER BY c.sequence DESC LIMIT 1",
            &[],
        )
        .await?;
    let (sequence, previous, cursor) = match &last {
        Some(row) => (
            row.get::<_, i64>(0) + 1,
            Some(row.get::<_, Vec<u8>>(3)),
            GlobalCursor {
                transaction_id: row.get(5),
                position: row.get(1),
            },
        ),
        None => (1, None, GlobalCursor::START),
    };
    let rows = client
        .query(
            "SELECT position, hash FROM events
             WHERE (transaction_id, position) > ($1::text::xid8, $2)
               AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY transaction_id, position LIMIT $3",
            &[
                &cursor.transaction_id.to_string(),
                &cursor.position,
                &(max_events as i64),
            ],
        )
        .await?;
    let covered: Vec<(i64, Vec<u8>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let Some((last_position, _)) = covered.last() else {
        return Ok(None);
    };
    let chain_hash = chain(previous.as_deref(), &covered);
    let checkpoint = Checkpoint {
        sequence,
        last_position: *last_position,
        event_count: covered.len() as i64,
        signature: secrets.sign_checkpoint(sequence, &chain_hash),
        chain_hash,
    };
    let inserted = client
        .execute(
            "INSERT INTO log_checkpoints (sequence, last_position, event_count, chain_hash, signature)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sequence) DO NOTHING",
            &[
                &checkpoint.sequence,
                &checkpoint.last_position,
                &checkpoint.event_count,
                &checkpoint.chain_hash,
                &checkpoint.signature,
            ],
        )
        .await?;
    Ok((inserted == 1).then_some(checkpoint))
}

/// Seals checkpoints until every event written so far is covered; returns how many were sealed.
pub async fn seal_all(pool: &Pool, secrets: &Secrets) -> Result<usize, LogError> {
    let mut sealed = 0;
    while seal(pool, secrets, PAGE as usize).await?.is_some() {
        sealed += 1;
    }
    Ok(sealed)
}

/// Walks the whole log in the global order, recomputing every stream chain and every checkpoint; stops at the
/// first finding.
pub async fn verify(pool: &Pool, secrets: &Secrets) -> Result<Report, LogError> {
    let mut client = pool.get().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let checkpoints = checkpoints(&tx).await?;
    let mut report = Report {
        events: 0,
        streams: 0,
        checkpoints: 0,
        unsealed: 0,
        finding: None,
    };
    for (index, checkpoint) in checkpoints.iter().enumerate() {
        if checkpoint.sequence != index as i64 + 1 {
            report.finding = Some(Finding::CheckpointsBroken {
                sequence: index as i64 + 1,
            });
            return Ok(report);
        }
    }
    let mut heads: std::collections::HashMap<String, (i64, Vec<u8>)> = Default::default();
    let mut pending = checkpoints.iter();
    let mut next = pending.next();
    let mut covered: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut previous_chain: Option<Vec<u8>> = None;
    let mut cursor = GlobalCursor::START;
    loop {
        let events = page(&tx, cursor).await?;
        let Some(last) = events.last() else { break };
        cursor = GlobalCursor {
            transaction_id: last.transaction_id,
            position: last.position,
        };
        for event in events {
            report.events += 1;
            let head = heads.get(&event.stream);
            let previous_version = head.map_or(0, |(version, _)| *version);
            if event.version != previous_version + 1 {
                report.finding = Some(Finding::EventsMissing {
                    position: event.position,
                    stream: event.stream,
                    version: event.version,
                    previous: previous_version,
                });
                return Ok(report);
            }
            let expected = event.expected_hash(head.map(|(_, hash)| hash.as_slice()));
            if expected != event.hash {
                report.finding = Some(Finding::EventAltered {
                    position: event.position,
                    stream: event.stream,
                    version: event.version,
                });
                return Ok(report);
            }
            covered.push((event.position, event.hash.clone()));
            heads.insert(event.stream, (event.version, event.hash));
            if let Some(checkpoint) = next {
                if covered.len() as i64 == checkpoint.event_count {
                    if let Some(finding) =
                        check_checkpoint(checkpoint, previous_chain.as_deref(), &covered, secrets)
                    {
                        report.finding = Some(finding);
                        return Ok(report);
                    }
                    report.checkpoints += 1;
                    previous_chain = Some(checkpoint.chain_hash.clone());
                    covered.clear();
                    next = pending.next();
                }
            }
        }
    }
    report.streams = heads.len() as u64;
    report.unsealed = covered.len() as u64;
    if let Some(checkpoint) = next {
        report.finding = Some(Finding::CheckpointsBroken {
            sequence: checkpoint.sequence,
        });
    }
    Ok(report)
}

fn check_checkpoint(
    checkpoint: &Checkpoint,
    previous_chain: Option<&[u8]>,
    covered: &[(i64, Vec<u8>)],
    secrets: &Secrets,
) -> Option<Finding> {
    let last_position = covered.last().map_or(0, |(position, _)| *position);
    let chain_hash = chain(previous_chain, covered);
    if last_position != checkpoint.last_position || chain_hash != checkpoint.chain_hash {
        return Some(Finding::CheckpointMismatch {
            sequence: checkpoint.sequence,
            first_position: covered.first().map_or(0, |(position, _)| *position),
            last_position: checkpoint.last_position,
        });
    }
    if !secrets.checkpoint_signed(
        checkpoint.sequence,
        &checkpoint.chain_hash,
        &checkpoint.signature,
    ) {
        return Some(Finding::CheckpointForged {
            sequence: checkpoint.sequence,
        });
    }
    None
}
