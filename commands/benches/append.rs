//! Appends through the commands layer against the database's own limit, at 1, 4, 16 and 64 concurrent writers:
//! one-event commands against a single-row INSERT per transaction, ten-event commands against ten INSERTs in one
//! transaction, into a table of the same shape; throughput, and p50/p99 latency of one operation.
//!
//! Run: `cargo bench -p portal-commands --bench append` (server: BENCH_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped). Seconds per measurement:
//! BENCH_SECONDS (default 3). Results: a table on stdout and JSON in target/bench-append.json.

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use portal_commands::db;
use portal_commands::log::{
    Commit, EventData, EventLog, ExpectedVersion, GroupCommitSettings, Metadata, PgEventLog,
    StreamId, StreamWrite,
};
use portal_commands::testing::bench::{self, BenchDatabase};
use serde_json::json;
use tokio_postgres::Config;
use uuid::Uuid;

const WRITERS: [usize; 4] = [1, 4, 16, 64];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    /// `rows` single INSERTs in one transaction (1: autocommit), the reference.
    PlainInsert { rows: usize },
    /// One command appending `events` events to a new stream.
    AppendNewStream { events: usize },
    /// One command appending `events` events to the writer's own stream.
    AppendExistingStream { events: usize },
    /// As `AppendNewStream`, with group commit off: each commit in a transaction of its own.
    AppendUngrouped { events: usize },
}

impl Workload {
    fn label(self) -> String {
        match self {
            Workload::PlainInsert { rows: 1 } => "plain INSERT (1 row/tx)".into(),
            Workload::PlainInsert { rows } => format!("plain INSERT ({rows} rows/tx)"),
            Workload::AppendNewStream { events } => format!("append {events}, new stream"),
            Workload::AppendExistingStream { events } => {
                format!("append {events}, existing stream")
            }
            Workload::AppendUngrouped { events } => format!("append {events}, no group commit"),
        }
    }

    fn key(self) -> String {
        match self {
            Workload::PlainInsert { rows } => format!("plain_insert_{rows}"),
            Workload::AppendNewStream { events } => format!("append_{events}_new_stream"),
            Workload::AppendExistingStream { events } => format!("append_{events}_existing_stream"),
            Workload::AppendUngrouped { events } => format!("append_{events}_ungrouped"),
        }
    }

    /// Events (rows) one operation writes.
    fn width(self) -> usize {
        match self {
            Workload::PlainInsert { rows } => rows,
            Workload::AppendNewStream { events }
            | Workload::AppendExistingStream { events }
            | Workload::AppendUngrouped { events } => events,
        }
    }
}

fn event() -> EventData {
    EventData {
        event_type: "AttendanceRecorded".into(),
        schema_version: 1,
        data: json!({ "activity": "GR-2026-11", "credits": 1.0 }),
    }
}

fn metadata() -> Metadata {
    Metadata {
        command_id: Some(Uuid::new_v4()),
        correlation_id: Some(Uuid::new_v4()),
        actor: Some("system".into()),
        on_behalf_of: None,
        ..Metadata::default()
    }
}

async fn one(
    workload: Workload,
    pool: &Pool,
    log: &PgEventLog,
    own_stream: &StreamId,
    version: &mut u64,
) {
    match workload {
        Workload::PlainInsert { rows } => {
            let mut client = pool.get().await.expect("connection");
            // The row carries a 32-byte hash like an event's, so both rows are the same size.
            let sql = "INSERT INTO plain_events (tenant_id, stream_id, stream_version, event_type, schema_version, data,
                                                 metadata, hash)
                       VALUES ($1, $2, $3, 'AttendanceRecorded', 1, $4, $5, $6)";
            let stream = format!("bench-{}", Uuid::new_v4());
            let data = event().data;
            let meta = serde_json::to_value(metadata()).expect("json");
            let hash = [0xabu8; 32];
            let tx = client.transaction().await.expect("begin");
            let statement = tx.prepare_cached(sql).await.expect("prepare");
            for n in 1..=rows as i64 {
                tx.execute(
                    &statement,
                    &[&Uuid::nil(), &stream, &n, &data, &meta, &hash.as_slice()],
                )
                .await
                .expect("insert");
            }
            tx.commit().await.expect("commit");
        }
        Workload::AppendNewStream { events }
        | Workload::AppendExistingStream { events }
        | Workload::AppendUngrouped { events } => {
            let (stream, expected) = match workload {
                Workload::AppendNewStream { .. } | Workload::AppendUngrouped { .. } => (
                    StreamId::new("bench", Uuid::new_v4()),
                    ExpectedVersion::NoStream,
                ),
                _ if *version == 0 => (own_stream.clone(), ExpectedVersion::NoStream),
                _ => (own_stream.clone(), ExpectedVersion::Exact(*version)),
            };
            let commit = Commit {
                tenant: Uuid::nil(),
                writes: vec![StreamWrite {
                    stream,
                    expected,
                    events: (0..events).map(|_| event()).collect(),
                }],
                metadata: metadata(),
                ..Default::default()
            };
            log.append(commit).await.expect("append");
            if matches!(workload, Workload::AppendExistingStream { .. }) {
                *version += events as u64;
            }
        }
    }
}

/// What one workload did at one writer count.
struct Measured {
    /// Operations (transactions, commands) per second.
    ops: f64,
    /// Median and 99th percentile latency of one operation, in milliseconds.
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

async fn measure(workload: Workload, config: &Config, writers: usize, seconds: f64) -> Measured {
    let pool = db::pool(config.clone(), writers).expect("pool");
    let log = match workload {
        Workload::AppendUngrouped { .. } => PgEventLog::with_group_commit(
            pool.clone(),
            GroupCommitSettings {
                max_in_flight: 0,
                ..GroupCommitSettings::default()
            },
        ),
        _ => PgEventLog::with_group_commit(
            pool.clone(),
            GroupCommitSettings {
                max_in_flight: bench::setting(
                    "BENCH_IN_FLIGHT",
                    GroupCommitSettings::default().max_in_flight,
                ),
                ..GroupCommitSettings::default()
            },
        ),
    };
    let warmup = Duration::from_millis(300);
    let window = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (pool, log) = (pool.clone(), log.clone());
            tokio::spawn(async move {
                let own = StreamId::new("bench", Uuid::new_v4());
                let mut version = 0;
                // Latencies in microseconds of the operations that ended inside the window.
                let mut latencies: Vec<u32> = Vec::new();
                while start.elapsed() < warmup + window {
                    let began = Instant::now();
                    one(workload, &pool, &log, &own, &mut version).await;
                    if start.elapsed() > warmup {
                        latencies
                            .push(began.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("writer"));
    }
    let elapsed = start.elapsed().saturating_sub(warmup).as_secs_f64();
    pool.close();
    latencies.sort_unstable();
    Measured {
        ops: latencies.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
    }
}

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let seconds: f64 = bench::setting("BENCH_SECONDS", 3.0);
    let database = BenchDatabase::create(2).await;
    database
        .pool
        .get()
        .await
        .expect("connection")
        .batch_execute(
            "CREATE TABLE plain_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
             ALTER TABLE plain_events ALTER COLUMN position ADD GENERATED ALWAYS AS IDENTITY;",
        )
        .await
        .expect("plain table");
    let config = database.config.clone();

    println!("appends through portal-commands vs plain INSERT, {seconds} s per measurement");
    println!(
        "{:<32} {:>7} {:>10} {:>10} {:>9} {:>9} {:>7} {:>9}",
        "workload", "writers", "ops/s", "events/s", "p50 ms", "p99 ms", "ratio", "p99 ratio"
    );
    let mut results = Vec::new();
    for writers in bench::list("BENCH_WRITERS", &WRITERS) {
        for (reference, appends) in [
            (
                Workload::PlainInsert { rows: 1 },
                vec![
                    Workload::AppendNewStream { events: 1 },
                    Workload::AppendExistingStream { events: 1 },
                    Workload::AppendUngrouped { events: 1 },
                ],
            ),
            (
                Workload::PlainInsert { rows: 10 },
                vec![
                    Workload::AppendNewStream { events: 10 },
                    Workload::AppendExistingStream { events: 10 },
                ],
            ),
        ] {
            let base = measure(reference, &config, writers, seconds).await;
            for workload in std::iter::once(reference).chain(appends) {
                let m = if workload == reference {
                    Measured { ..base }
                } else {
                    measure(workload, &config, writers, seconds).await
                };
                // Ratios compare rows (events) per second, and the 99th percentile, with the reference's.
                let ratio = m.ops / base.ops;
                let p99_ratio = m.p99_ms / base.p99_ms;
                println!(
                    "{:<32} {:>7} {:>10.0} {:>10.0} {:>9.2} {:>9.2} {:>7.2} {:>9.2}",
                    workload.label(),
                    writers,
                    m.ops,
                    m.ops * workload.width() as f64,
                    m.p50_ms,
                    m.p99_ms,
                    ratio,
                    p99_ratio
                );
                results.push(json!({
                    "workload": workload.key(), "writers": writers, "ops_per_second": m.ops,
                    "events_per_second": m.ops * workload.width() as f64, "p50_ms": m.p50_ms, "p99_ms": m.p99_ms,
                    "reference": reference.key(), "ratio": ratio, "p99_ratio": p99_ratio,
                }));
            }
        }
    }
    database.drop_database().await;
    let target = bench::write_results("bench-append.json", &json!(results));
    println!("results written to {}", target.display());
}
