//! Growth: how catch-up, appends, reads and a long stream's load cost as the log grows, one fresh database per size.
//!
//! For each size in BENCH_EVENTS (default `10000,100000,1000000`), the log is filled by SQL with `OrganizationCreated`
//! events (one stream each, chained hashes) and one organization stream of BENCH_STREAM events (default 10000,
//! `TimeZoneSet` after its creation: a long stream). Then it measures:
//! - the size of the `events` table and of its indexes;
//! - cold catch-up of the `organizations` projector from position 0 over the `OrganizationCreated` events (its
//!   default batches: rows and checkpoint in one transaction each), in events/s, against issue 7's target of
//!   50,000 events/s (the long stream is added after);
//! - one writer appending one-event commits to new streams for BENCH_SECONDS (default 2): p50/p99;
//! - a page of 500 events read at the end of the global order, and a stream read of one event, p50;
//! - loading the long stream through the commands layer: whole (no cache), and again from the cached state;
//! - the heap held by 10,000 organization aggregates in the cache, per aggregate (largest size only; a counting
//!   allocator).
//!
//! Run: `cargo bench -p portal-projections --bench catch_up` (server: BENCH_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; fresh databases are created and dropped). Results: a table on stdout
//! and JSON in target/bench-catch-up.json.

use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_commands::aggregates::AggregateCache;
use portal_commands::handler::CommandContext;
use portal_commands::log::{
    Commit, EventData, EventLog, ExpectedVersion, GlobalCursor, Metadata, PgEventLog, StreamId,
    StreamWrite,
};
use portal_commands::organizations;
use portal_commands::testing::bench::{self, percentile, BenchDatabase};
use portal_commands::testing::pg_store_on;
use portal_domain::organization::Organization;
use portal_projections::organizations::Organizations;
use portal_projections::{Runner, RunnerSettings, Source};
use serde_json::json;
use uuid::Uuid;

/// Issue 7's target for cold catch-up.
const TARGET_EVENTS_PER_SECOND: f64 = 50_000.0;

/// The system allocator, counting the bytes held: what a cached aggregate costs is measured exactly, where the
/// resident size would hide it in memory the allocator kept from earlier work.
struct Counting;

static HELD: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded as is to the system allocator.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        HELD.fetch_sub(layout.size() as isize, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded as is to the system allocator.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held_bytes() -> isize {
    HELD.load(std::sync::atomic::Ordering::Relaxed)
}

/// Milliseconds of `runs` calls of `f`, sorted.
async fn timed<F, Fut>(runs: usize, mut f: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let began = Instant::now();
        f().await;
        times.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times
}

async fn one_size(
    events: i64,
    stream_length: i64,
    seconds: f64,
    memory: bool,
) -> serde_json::Value {
    let database = BenchDatabase::create(4).await;
    let (pool, config) = (database.pool.clone(), database.config.clone());
    let store = pg_store_on(&pool);
    let client = pool.get().await.expect("connection");

    let filled = Instant::now();
    client
        .execute(
            "INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                 recorded_at, hash)
             SELECT id, 'organization-' || id, 1, 'OrganizationCreated', 1, data, '{\"actor\": \"system\"}', now(),
                    portal_event_hash(NULL, id, 'organization-' || id, 1, 'OrganizationCreated', 1::smallint, data,
                                      '{\"actor\": \"system\"}', now())
             FROM (SELECT g, gen_random_uuid() AS id FROM generate_series(1, $1::bigint) g) s,
                  LATERAL (SELECT jsonb_build_object('organization_id', s.id, 'code', 'org-' || s.g,
                                                     'name', 'Organization ' || s.g, 'created_at', now()) AS data) d",
            &[&(events - stream_length - 2).max(0)],
        )
        .await
        .expect("fill the log");
    client
        .batch_execute("VACUUM ANALYZE events")
        .await
        .expect("vacuum");
    let fill_seconds = filled.elapsed().as_secs_f64();
    let created: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .expect("count")
        .get(0);
    // Cold catch-up.
    let source = Source {
        log: PgEventLog::new(pool.clone()),
        keys: store.keys.clone(),
    };
    let runner = Runner::new(
        Organizations,
        source,
        pool.clone(),
        config.clone(),
        RunnerSettings {
            batch_size: bench::setting("BENCH_BATCH", RunnerSettings::default().batch_size),
            ..RunnerSettings::default()
        },
        Arc::new(tokio::sync::Notify::new()),
    );
    let started = Instant::now();
    let mut applied = 0;
    while applied < created as usize {
        let step = runner.step().await.expect("a batch applies");
        if step == 0 {
            // Events above the server's oldest running transaction are not readable yet: wait for it.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        applied += step;
    }
    let catch_up_seconds = started.elapsed().as_secs_f64();
    let catch_up_rate = applied as f64 / catch_up_seconds;

    // The long stream: created through the commands layer, then grown by SQL with copies of one real event.
    let (organization, _) = organizations::create(
        &store,
        portal_domain::values::OrganizationCode::parse("long").expect("code"),
        portal_domain::values::OrganizationName::parse("Long Stream CE").expect("name"),
        &CommandContext::system(),
    )
    .await
    .expect("organization");
    organizations::set_time_zone(
        &store,
        organization,
        portal_domain::values::TimeZone::parse("America/Chicago").expect("zone"),
        None,
        &CommandContext::system(),
    )
    .await
    .expect("time zone");
    let long = organizations::stream(organization);
    client
        .execute(
            "INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                 recorded_at, hash)
             SELECT e.tenant_id, e.stream_id, v, e.event_type, e.schema_version, e.data, e.metadata, now(), e.hash
             FROM events e, generate_series(3, $2::bigint) v
             WHERE e.stream_id = $1 AND e.stream_version = 2",
            &[&long.as_str(), &stream_length],
        )
        .await
        .expect("fill the long stream");
    client
        .batch_execute("VACUUM ANALYZE events")
        .await
        .expect("vacuum");
    let sizes = client
        .query_one(
            "SELECT count(*), pg_relation_size('events'), pg_indexes_size('events') FROM events",
            &[],
        )
        .await
        .expect("sizes");
    let (total, table_bytes, index_bytes): (i64, i64, i64) =
        (sizes.get(0), sizes.get(1), sizes.get(2));

    // One writer's appends into the grown log.
    let log = PgEventLog::new(pool.clone());
    let mut appends = Vec::new();
    let window = Instant::now();
    while window.elapsed().as_secs_f64() < seconds {
        let began = Instant::now();
        log.append(Commit {
            tenant: Uuid::nil(),
            writes: vec![StreamWrite {
                stream: StreamId::new("bench", Uuid::new_v4()),
                expected: ExpectedVersion::NoStream,
                events: vec![EventData {
                    event_type: "AttendanceRecorded".into(),
                    schema_version: 1,
                    data: json!({ "activity": "GR-2026-11", "credits": 1.0 }),
                }],
            }],
            metadata: Metadata::default(),
            ..Default::default()
        })
        .await
        .expect("append");
        appends.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    appends.sort_by(f64::total_cmp);

    // Reads: the last page of the global order, and one short stream.
    let near_end = client
        .query_one(
            "SELECT transaction_id::text::bigint, position FROM events ORDER BY transaction_id DESC, position DESC
             OFFSET 500 LIMIT 1",
            &[],
        )
        .await
        .expect("cursor");
    let cursor = GlobalCursor {
        transaction_id: near_end.get(0),
        position: near_end.get(1),
    };
    let page = timed(50, || async {
        log.read_all(cursor, 500).await.expect("page");
    })
    .await;
    let short: String = client
        .query_one(
            "SELECT stream_id FROM events WHERE stream_id LIKE 'bench-%' LIMIT 1",
            &[],
        )
        .await
        .expect("stream")
        .get(0);
    let short = StreamId::from_stored(short);
    let stream_read = timed(200, || async {
        log.read_stream(&short).await.expect("stream");
    })
    .await;

    // The long stream, whole and from the cache.
    let mut uncached = store.clone();
    uncached.aggregates = AggregateCache::disabled();
    let whole = timed(5, || async {
        uncached.load::<Organization>(&long).await.expect("load");
    })
    .await;
    store.load::<Organization>(&long).await.expect("load");
    let cached = timed(50, || async {
        store.load::<Organization>(&long).await.expect("load");
    })
    .await;

    // Memory per cached aggregate: 10,000 organization aggregates loaded into an empty cache.
    let per_aggregate = if memory {
        let streams: Vec<String> = client
            .query(
                "SELECT stream_id FROM events WHERE event_type = 'OrganizationCreated' AND stream_id <> $1 LIMIT 10000",
                &[&long.as_str()],
            )
            .await
            .expect("streams")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut fresh = store.clone();
        fresh.aggregates = AggregateCache::default();
        let before = held_bytes();
        for name in &streams {
            fresh
                .load::<Organization>(&StreamId::from_stored(name.clone()))
                .await
                .expect("load");
        }
        let after = held_bytes();
        Some((
            (after - before) as f64 / fresh.aggregates.len().max(1) as f64,
            fresh.aggregates.len(),
        ))
    } else {
        None
    };

    drop(client);
    database.drop_database().await;
    let row = json!({
        "events": total, "long_stream": stream_length, "fill_seconds": fill_seconds,
        "table_mib": table_bytes as f64 / 1048576.0, "indexes_mib": index_bytes as f64 / 1048576.0,
        "catch_up_events_per_second": catch_up_rate, "catch_up_ratio_to_target": catch_up_rate / TARGET_EVENTS_PER_SECOND,
        "append_p50_ms": percentile(&appends, 0.5), "append_p99_ms": percentile(&appends, 0.99),
        "read_page_500_p50_ms": percentile(&page, 0.5), "read_stream_p50_ms": percentile(&stream_read, 0.5),
        "long_stream_load_whole_ms": percentile(&whole, 0.5), "long_stream_load_cached_ms": percentile(&cached, 0.5),
        "bytes_per_cached_aggregate": per_aggregate.map(|(bytes, _)| bytes),
        "cached_aggregates": per_aggregate.map(|(_, n)| n),
    });
    println!(
        "{:>10} {:>8} {:>9.1} {:>10.1} {:>10.0} {:>6.2} {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>10.1} {:>10.2}",
        total,
        stream_length,
        table_bytes as f64 / 1048576.0,
        index_bytes as f64 / 1048576.0,
        catch_up_rate,
        catch_up_rate / TARGET_EVENTS_PER_SECOND,
        percentile(&appends, 0.5),
        percentile(&appends, 0.99),
        percentile(&page, 0.5),
        percentile(&stream_read, 0.5),
        percentile(&whole, 0.5),
        percentile(&cached, 0.5),
    );
    if let Some((bytes, n)) = per_aggregate {
        println!("           heap held per cached organization aggregate: {bytes:.0} bytes ({n} aggregates)");
    }
    row
}

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let sizes = bench::list("BENCH_EVENTS", &[10_000, 100_000, 1_000_000]);
    let stream_length: i64 = bench::setting("BENCH_STREAM", 10_000);
    let seconds: f64 = bench::setting("BENCH_SECONDS", 2.0);
    println!("growth of the log: one fresh database per size, a long stream of {stream_length} events in each");
    println!(
        "{:>10} {:>8} {:>9} {:>10} {:>10} {:>6} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
        "events",
        "stream",
        "table MiB",
        "index MiB",
        "catch-up/s",
        "ratio",
        "app p50",
        "app p99",
        "page p50",
        "read p50",
        "long whole",
        "long cache"
    );
    let mut rows = Vec::new();
    let largest = sizes.iter().copied().max().unwrap_or(0);
    for size in &sizes {
        let events = *size as i64;
        rows.push(
            one_size(
                events,
                stream_length.min(events / 2),
                seconds,
                *size == largest,
            )
            .await,
        );
    }
    println!("(times in ms; ratio: catch-up against issue 7's target of 50,000 events/s)");
    let target = bench::write_results("bench-catch-up.json", &json!(rows));
    println!("results written to {}", target.display());
}
