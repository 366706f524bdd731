//! Appends through the commands layer against the database's own limit: a plain single-row INSERT per
//! transaction into a table of the same shape, at 1, 4, 16 and 64 concurrent writers.
//!
//! Run: `cargo bench -p portal-commands --bench append` (server: BENCH_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped). Seconds per measurement:
//! BENCH_SECONDS (default 3). Results: a table on stdout and JSON in target/bench-append.json.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use portal_commands::db;
use portal_commands::log::{
    Commit, EventData, EventLog, ExpectedVersion, Metadata, PgEventLog, StreamId, StreamWrite,
};
use serde_json::json;
use tokio_postgres::{Config, NoTls};
use uuid::Uuid;

const WRITERS: [usize; 4] = [1, 4, 16, 64];

#[derive(Clone, Copy, Debug)]
enum Workload {
    PlainInsert,
    AppendNewStream,
    AppendExistingStream,
}

impl Workload {
    fn label(self) -> &'static str {
        match self {
            Workload::PlainInsert => "plain INSERT (1 row/tx)",
            Workload::AppendNewStream => "append, new stream",
            Workload::AppendExistingStream => "append, existing stream",
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
        Workload::PlainInsert => {
            let client = pool.get().await.expect("connection");
            let statement = client
                .prepare_cached(
                    // The row carries a 32-byte hash like an event's, so both rows are the same size.
                    "INSERT INTO plain_events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                               hash)
                     VALUES ($1, $2, 1, 'AttendanceRecorded', 1, $3, $4, $5)",
                )
                .await
                .expect("prepare");
            client
                .execute(
                    &statement,
                    &[
                        &Uuid::nil(),
                        &format!("bench-{}", Uuid::new_v4()),
                        &event().data,
                        &serde_json::to_value(metadata()).expect("json"),
                        &[0xabu8; 32].as_slice(),
                    ],
                )
                .await
                .expect("insert");
        }
        Workload::AppendNewStream | Workload::AppendExistingStream => {
            let (stream, expected) = match workload {
                Workload::AppendNewStream => (
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
                    events: vec![event()],
                }],
                metadata: metadata(),
                ..Default::default()
            };
            log.append(commit).await.expect("append");
            if matches!(workload, Workload::AppendExistingStream) {
                *version += 1;
            }
        }
    }
}

async fn measure(workload: Workload, config: &Config, writers: usize, seconds: f64) -> f64 {
    let pool = db::pool(config.clone(), writers).expect("pool");
    let log = PgEventLog::new(pool.clone());
    let done = Arc::new(AtomicU64::new(0));
    let warmup = Duration::from_millis(300);
    let window = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (pool, log, done) = (pool.clone(), log.clone(), done.clone());
            tokio::spawn(async move {
                let own = StreamId::new("bench", Uuid::new_v4());
                let mut version = 0;
                while start.elapsed() < warmup + window {
                    one(workload, &pool, &log, &own, &mut version).await;
                    if start.elapsed() > warmup {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer");
    }
    let elapsed = start.elapsed().saturating_sub(warmup).as_secs_f64();
    pool.close();
    done.load(Ordering::Relaxed) as f64 / elapsed
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and only wants the target to build.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let admin_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin: Config = admin_url.parse().expect("BENCH_DATABASE_URL parses");
    let name = format!("portal_bench_{}", Uuid::new_v4().simple());
    let (client, connection) = admin
        .connect(NoTls)
        .await
        .expect("PostgreSQL reachable at BENCH_DATABASE_URL");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let mut config = admin.clone();
    config.dbname(&name);
    let setup = db::pool(config.clone(), 2).expect("pool");
    db::migrate(&setup).await.expect("migrate");
    setup
        .get()
        .await
        .expect("connection")
        .batch_execute(
            "CREATE TABLE plain_events (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
             ALTER TABLE plain_events ALTER COLUMN position ADD GENERATED ALWAYS AS IDENTITY;",
        )
        .await
        .expect("plain table");
    setup.close();

    println!("appends through portal-commands vs plain INSERT, {seconds} s per measurement");
    println!(
        "{:<26} {:>8} {:>12} {:>10}",
        "workload", "writers", "ops/s", "ratio"
    );
    let mut results = Vec::new();
    for writers in WRITERS {
        let plain = measure(Workload::PlainInsert, &config, writers, seconds).await;
        println!(
            "{:<26} {:>8} {:>12.0} {:>10}",
            Workload::PlainInsert.label(),
            writers,
            plain,
            "1.00"
        );
        results.push(json!({ "workload": "plain_insert", "writers": writers, "ops_per_second": plain, "ratio": 1.0 }));
        for workload in [Workload::AppendNewStream, Workload::AppendExistingStream] {
            let rate = measure(workload, &config, writers, seconds).await;
            println!(
                "{:<26} {:>8} {:>12.0} {:>10.2}",
                workload.label(),
                writers,
                rate,
                rate / plain
            );
            results.push(json!({ "workload": format!("{workload:?}"), "writers": writers, "ops_per_second": rate, "ratio": rate / plain }));
        }
    }
    client
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .expect("drop database");
    let target =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-append.json");
    std::fs::write(
        &target,
        serde_json::to_string_pretty(&results).expect("json"),
    )
    .expect("write results");
    println!("results written to {}", target.display());
}
