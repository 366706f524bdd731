//! `portal log export` and `portal log import`: the log as NDJSON, one JSON object per line.
//!
//! Lines, each with a `kind`: one `header`, then the `event`s in the global order, then the wrapped data `key`s of
//! the people those events name (useless without the master key), the uniqueness `claim`s their streams hold, the
//! idempotency `command` records and, for a whole-log export, the signed `checkpoint`s. Event bodies are written by
//! PostgreSQL itself (jsonb in, jsonb out), so an import stores byte-for-byte the same canonical text and every
//! hash comes out the same.
//!
//! The global order is (writing transaction, position). Import writes the events of consecutive original
//! transactions together as long as their positions keep rising, and starts a new transaction where they do not, so
//! the imported log reads back in the same order and its checkpoints verify.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};

use deadpool_postgres::Pool;
use serde_json::Value;
use uuid::Uuid;

use super::{GlobalCursor, LogError};

/// The format written in the header.
pub const FORMAT: &str = "portal-log/v1";

/// Events per query while exporting, and at most per transaction while importing.
const PAGE: i64 = 2_000;

/// What to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything, with the checkpoints.
    All,
    /// One organization's streams.
    Tenant(Uuid),
    /// One stream.
    Stream(String),
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum PortabilityError {
    /// Storage failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Writing or reading the file failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The target database already has events.
    #[error("the database already holds {0} event(s); import only into an empty log")]
    NotEmpty(i64),
    /// A line is not what an export writes.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

impl From<tokio_postgres::Error> for PortabilityError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Log(LogError::Database(error))
    }
}

impl From<deadpool_postgres::PoolError> for PortabilityError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Self::Log(LogError::Pool(error))
    }
}

/// What an export or import handled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events.
    pub events: u64,
    /// Data keys.
    pub keys: u64,
    /// Uniqueness claims.
    pub claims: u64,
    /// Idempotency records.
    pub commands: u64,
    /// Checkpoints.
    pub checkpoints: u64,
}

/// The SQL that turns an event row into its export line.
const EVENT_LINE: &str = "jsonb_build_object(
        'kind', 'event', 'position', position, 'transaction', transaction_id::text::bigint, 'tenant', tenant_id,
        'stream', stream_id, 'version', stream_version, 'type', event_type, 'schema_version', schema_version,
        'data', data, 'metadata', metadata,
        'recorded_at', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
        'hash', encode(hash, 'hex'))::text";

fn line(out: &mut dyn Write, text: &str) -> Result<(), std::io::Error> {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

/// Collects the data subjects named in encrypted fields (`{"$enc": {"subject": ...}}`).
fn subjects_in(value: &Value, found: &mut BTreeSet<Uuid>) {
    match value {
        Value::Object(map) => {
            if let Some(subject) = map
                .get("$enc")
                .and_then(|enc| enc.get("subject"))
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                found.insert(subject);
            }
            map.values().for_each(|v| subjects_in(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| subjects_in(v, found)),
        _ => {}
    }
}

/// Writes `scope` as NDJSON to `out`.
pub async fn export(
    pool: &Pool,
    scope: &Scope,
    out: &mut dyn Write,
) -> Result<Counts, PortabilityError> {
    let mut connection = pool.get().await?;
    // One snapshot for every query: the keys, claims and checkpoints written are those of the events written, even
    // while the log grows.
    let client = connection
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut counts = Counts::default();
    let (scope_name, filter) = match scope {
        Scope::All => ("all".to_owned(), "$4::text = ''"),
        Scope::Tenant(id) => (format!("tenant:{id}"), "tenant_id = $4::text::uuid"),
        Scope::Stream(name) => (format!("stream:{name}"), "stream_id = $4"),
    };
    let argument = match scope {
        Scope::All => String::new(),
        Scope::Tenant(id) => id.to_string(),
        Scope::Stream(name) => name.clone(),
    };
    let header: String = client
        .query_one(
            "SELECT jsonb_build_object('kind', 'header', 'format', $1::text, 'scope', $2::text,
                                       'exported_at', now())::text",
            &[&FORMAT, &scope_name],
        )
        .await?
        .get(0);
    line(out, &header)?;

    // Every event the snapshot sees, in the global order: the export is a consistent copy, not an incremental read
    // (those stop below the oldest running transaction).
    let query = format!(
        "SELECT {EVENT_LINE}, transaction_id::text::bigint, position FROM events
         WHERE (transaction_id, position) > ($1::text::xid8, $2)
           AND {filter}
         ORDER BY events.transaction_id, events.position LIMIT $3"
    );
    let statement = client.prepare(&query).await?;
    let mut subjects = BTreeSet::new();
    let mut streams = BTreeSet::new();
    let mut cursor = GlobalCursor::START;
    loop {
        let rows = client
            .query(
                &statement,
                &[
                    &cursor.transaction_id.to_string(),
                    &cursor.position,
                    &PAGE,
                    &argument,
                ],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        cursor = GlobalCursor {
            transaction_id: last.get(1),
            position: last.get(2),
        };
        for row in &rows {
            let text: String = row.get(0);
            let parsed: Value = serde_json::from_str(&text)
                .map_err(|e| LogError::Corrupt(format!("an exported event does not parse: {e}")))?;
            subjects_in(&parsed["data"], &mut subjects);
            if let Some(stream) = parsed["stream"].as_str() {
                streams.insert(stream.to_owned());
            }
            line(out, &text)?;
            counts.events += 1;
        }
    }

    let all = *scope == Scope::All;
    let subjects: Vec<Uuid> = subjects.into_iter().collect();
    let streams: Vec<String> = streams.into_iter().collect();
    for row in client
        .query(
            "SELECT jsonb_build_object('kind', 'key', 'subject', subject_id, 'wrapped_key', wrapped_key,
                                       'created_at', created_at)::text
             FROM subject_keys WHERE $1 OR subject_id = ANY($2) ORDER BY subject_id",
            &[&all, &subjects],
        )
        .await?
    {
        line(out, row.get(0))?;
        counts.keys += 1;
    }
    for row in client
        .query(
            "SELECT jsonb_build_object('kind', 'claim', 'scope', scope, 'claim', kind,
                                       'key', encode(key_hash, 'hex'), 'owner', owner_stream,
                                       'claimed_at', claimed_at)::text
             FROM unique_claims WHERE $1 OR owner_stream = ANY($2) ORDER BY scope, kind, key_hash",
            &[&all, &streams],
        )
        .await?
    {
        line(out, row.get(0))?;
        counts.claims += 1;
    }
    let tenant = match scope {
        Scope::Tenant(id) => Some(*id),
        _ => None,
    };
    if all || tenant.is_some() {
        for row in client
            .query(
                "SELECT jsonb_build_object('kind', 'command', 'command_id', command_id, 'tenant', tenant_id,
                                           'fingerprint', encode(fingerprint, 'hex'), 'outcome', outcome,
                                           'last_position', last_position, 'recorded_at', recorded_at)::text
                 FROM commands WHERE $1 OR tenant_id = $2 ORDER BY command_id",
                &[&all, &tenant.unwrap_or_default()],
            )
            .await?
        {
            line(out, row.get(0))?;
            counts.commands += 1;
        }
    }
    if all {
        for row in client
            .query(
                "SELECT jsonb_build_object('kind', 'checkpoint', 'sequence', sequence,
                                           'last_position', last_position, 'event_count', event_count,
                                           'chain_hash', encode(chain_hash, 'hex'),
                                           'signature', encode(signature, 'hex'), 'created_at', created_at)::text
                 FROM log_checkpoints ORDER BY sequence",
                &[],
            )
            .await?
        {
            line(out, row.get(0))?;
            counts.checkpoints += 1;
        }
    }
    out.flush()?;
    client.commit().await?;
    Ok(counts)
}

/// Events of consecutive original transactions, to be written in one transaction of the target.
#[derive(Default)]
struct Group {
    lines: Vec<String>,
    last_position: i64,
}

async fn write_events(pool: &Pool, group: &mut Group) -> Result<(), PortabilityError> {
    if group.lines.is_empty() {
        return Ok(());
    }
    let document = format!("[{}]", group.lines.join(","));
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO events (position, tenant_id, stream_id, stream_version, event_type, schema_version, data,
                             metadata, recorded_at, hash)
         OVERRIDING SYSTEM VALUE
         SELECT (l->>'position')::bigint, (l->>'tenant')::uuid, l->>'stream', (l->>'version')::bigint,
                l->>'type', (l->>'schema_version')::smallint, l->'data', l->'metadata',
                (l->>'recorded_at')::timestamptz, decode(l->>'hash', 'hex')
         FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(l, n) ORDER BY n",
        &[&document],
    )
    .await?;
    tx.commit().await?;
    group.lines.clear();
    Ok(())
}

/// Reads an export into an empty database; refuses a database that already has events.
pub async fn import(pool: &Pool, input: &mut dyn BufRead) -> Result<Counts, PortabilityError> {
    {
        let client = pool.get().await?;
        let existing: i64 = client
            .query_one("SELECT count(*) FROM events", &[])
            .await?
            .get(0);
        if existing > 0 {
            return Err(PortabilityError::NotEmpty(existing));
        }
    }
    let mut counts = Counts::default();
    let mut group = Group::default();
    let mut rest: Vec<(usize, String, String)> = Vec::new();
    let mut text = String::new();
    let mut number = 0;
    loop {
        text.clear();
        if input.read_line(&mut text)? == 0 {
            break;
        }
        number += 1;
        let trimmed = text.trim_end_matches(['\n', '\r']);
        if trimmed.is_empty() {
            continue;
        }
        let malformed = |reason: String| PortabilityError::Malformed {
            line: number,
            reason,
        };
        let parsed: Value = serde_json::from_str(trimmed).map_err(|e| malformed(e.to_string()))?;
        let kind = parsed["kind"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "header" if number == 1 => {
                if parsed["format"] != FORMAT {
                    return Err(malformed(format!(
                        "format {} is not {FORMAT}",
                        parsed["format"]
                    )));
                }
            }
            "event" => {
                let position = parsed["position"]
                    .as_i64()
                    .ok_or_else(|| malformed("an event without a position".into()))?;
                // A position below the group's last means the original order is not the position order here:
                // what follows must be in a later transaction.
                if position <= group.last_position || group.lines.len() as i64 >= PAGE {
                    write_events(pool, &mut group).await?;
                }
                group.last_position = position;
                group.lines.push(trimmed.to_owned());
                counts.events += 1;
            }
            "key" | "claim" | "command" | "checkpoint" => {
                rest.push((number, kind, trimmed.to_owned()))
            }
            other => return Err(malformed(format!("unknown kind {other:?}"))),
        }
    }
    write_events(pool, &mut group).await?;

    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    for (_, kind, text) in &rest {
        let sql = match kind.as_str() {
            "key" => {
                counts.keys += 1;
                "INSERT INTO subject_keys (subject_id, wrapped_key, created_at)
                 SELECT (l->>'subject')::uuid, l->>'wrapped_key', (l->>'created_at')::timestamptz
                 FROM (SELECT $1::text::jsonb AS l) AS line"
            }
            "claim" => {
                counts.claims += 1;
                "INSERT INTO unique_claims (scope, kind, key_hash, owner_stream, claimed_at)
                 SELECT (l->>'scope')::uuid, l->>'claim', decode(l->>'key', 'hex'), l->>'owner',
                        (l->>'claimed_at')::timestamptz
                 FROM (SELECT $1::text::jsonb AS l) AS line"
            }
            "command" => {
                counts.commands += 1;
                "INSERT INTO commands (command_id, tenant_id, fingerprint, outcome, last_position, recorded_at)
                 SELECT (l->>'command_id')::uuid, (l->>'tenant')::uuid, decode(l->>'fingerprint', 'hex'),
                        l->'outcome', (l->>'last_position')::bigint, (l->>'recorded_at')::timestamptz
                 FROM (SELECT $1::text::jsonb AS l) AS line"
            }
            _ => {
                counts.checkpoints += 1;
                "INSERT INTO log_checkpoints (sequence, last_position, event_count, chain_hash, signature,
                                              created_at)
                 SELECT (l->>'sequence')::bigint, (l->>'last_position')::bigint, (l->>'event_count')::bigint,
                        decode(l->>'chain_hash', 'hex'), decode(l->>'signature', 'hex'),
                        (l->>'created_at')::timestamptz
                 FROM (SELECT $1::text::jsonb AS l) AS line"
            }
        };
        tx.execute(sql, &[text]).await?;
    }
    // Positions were written as they were; new appends continue after the highest.
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('events', 'position'), max(position))
         FROM events HAVING max(position) IS NOT NULL",
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(counts)
}
