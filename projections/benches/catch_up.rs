//! Projection catch-up from a cold start: how many events per second a projector folds into its read model when it
//! starts at position 0 on a log that is already long.
//!
//! Run: `cargo bench -p portal-projections --bench catch_up` (server: BENCH_DATABASE_URL, default
//! postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped). Events in the log:
//! BENCH_EVENTS (default 100000). Results: a line on stdout and JSON in target/bench-catch-up.json.
//!
//! The log is filled by SQL (`OrganizationCreated` events with their chained hashes, one stream each), then the
//! `organizations` projector runs its batches (500 events, rows and checkpoint in one transaction each) until it has
//! applied them all. The reference is issue 7's target of 50,000 events/s.

use std::sync::Arc;
use std::time::Instant;

use portal_commands::log::PgEventLog;
use portal_commands::personal_data::KeyRing;
use portal_commands::secrets::{MasterKey, Secrets};
use portal_commands::testing::bench::{self, BenchDatabase};
use portal_projections::organizations::Organizations;
use portal_projections::{Runner, RunnerSettings, Source};
use serde_json::json;

/// Issue 7's target for cold catch-up.
const TARGET_EVENTS_PER_SECOND: f64 = 50_000.0;

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let events: i64 = bench::setting("BENCH_EVENTS", 100_000);
    let database = BenchDatabase::create(4).await;
    let (pool, config) = (database.pool.clone(), database.config.clone());

    let filled = Instant::now();
    pool.get()
        .await
        .expect("connection")
        .execute(
            "INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                 recorded_at, hash)
             SELECT id, 'organization-' || id, 1, 'OrganizationCreated', 1, data, '{\"actor\": \"system\"}', now(),
                    portal_event_hash(NULL, id, 'organization-' || id, 1, 'OrganizationCreated', 1::smallint, data,
                                      '{\"actor\": \"system\"}', now())
             FROM (SELECT g, gen_random_uuid() AS id FROM generate_series(1, $1::bigint) g) s,
                  LATERAL (SELECT jsonb_build_object('organization_id', s.id, 'code', 'org-' || s.g,
                                                     'name', 'Organization ' || s.g, 'created_at', now()) AS data) d",
            &[&events],
        )
        .await
        .expect("fill the log");
    let fill_seconds = filled.elapsed().as_secs_f64();

    let secrets = Secrets::derive(&MasterKey::generate());
    let source = Source {
        log: PgEventLog::new(pool.clone()),
        keys: KeyRing::postgres(pool.clone(), secrets),
    };
    let runner = Runner::new(
        Organizations,
        source,
        pool.clone(),
        config.clone(),
        RunnerSettings::default(),
        Arc::new(tokio::sync::Notify::new()),
    );
    let started = Instant::now();
    let mut applied = 0;
    while applied < events as usize {
        let step = runner.step().await.expect("a batch applies");
        if step == 0 {
            // Events above the server's oldest running transaction are not readable yet: wait for it.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        applied += step;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rate = applied as f64 / seconds;
    println!(
        "cold catch-up of the organizations projection: {applied} events in {seconds:.1} s = {rate:.0} events/s \
         ({:.2} of the 50,000/s target); filling the log took {fill_seconds:.1} s",
        rate / TARGET_EVENTS_PER_SECOND
    );
    database.drop_database().await;
    let target = bench::write_results(
        "bench-catch-up.json",
        &json!({
            "projection": "organizations", "events": applied, "seconds": seconds, "events_per_second": rate,
            "target_events_per_second": TARGET_EVENTS_PER_SECOND, "ratio": rate / TARGET_EVENTS_PER_SECOND,
        }),
    );
    println!("results written to {}", target.display());
}
