//! Cached aggregates: a load reads only what its cached state has not seen, never misses another process's write,
//! and an erasure empties the cache.

use portal_commands::aggregates::AggregateCache;
use portal_commands::handler::CommandContext;
use portal_commands::log::{Commit, EventData, ExpectedVersion, StreamId, StreamWrite};
use portal_commands::organizations;
use portal_commands::testing::{pg_store, TestDatabase};
use portal_domain::organization::Organization;
use portal_domain::values::{OrganizationCode, OrganizationName, TimeZone};
use serde_json::json;
use uuid::Uuid;

const ZONES: [&str; 3] = ["America/Chicago", "America/New_York", "Europe/Paris"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_aggregate_sees_what_another_process_appended_and_equals_a_full_fold() {
    let database = TestDatabase::migrated().await;
    let here = pg_store(&database);
    // Another process: the same log and keys, a cache of its own.
    let mut there = here.clone();
    there.aggregates = AggregateCache::default();
    let mut uncached = here.clone();
    uncached.aggregates = AggregateCache::disabled();

    let ctx = CommandContext::system();
    let (organization, _) = organizations::create(
        &here,
        OrganizationCode::parse("cached").unwrap(),
        OrganizationName::parse("Cached CE").unwrap(),
        &ctx,
    )
    .await
    .unwrap();
    for n in 0..30 {
        organizations::set_time_zone(
            &here,
            organization,
            TimeZone::parse(ZONES[n % 2]).unwrap(),
            None,
            &CommandContext::system(),
        )
        .await
        .unwrap();
    }
    let stream = organizations::stream(organization);
    let (_, version) = here.load::<Organization>(&stream).await.unwrap();
    assert_eq!(version, 31);
    assert!(!here.aggregates.is_empty(), "the state is cached");

    organizations::set_time_zone(
        &there,
        organization,
        TimeZone::parse(ZONES[2]).unwrap(),
        None,
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let (cached, version) = here.load::<Organization>(&stream).await.unwrap();
    let (folded, full_version) = uncached.load::<Organization>(&stream).await.unwrap();
    assert_eq!(version, 32, "the other process's event is seen");
    assert_eq!(full_version, 32);
    assert_eq!(
        cached, folded,
        "cached state plus the new event equals the whole fold"
    );
    assert!(uncached.aggregates.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_empties_the_cache() {
    let database = TestDatabase::migrated().await;
    let store = pg_store(&database);
    let ctx = CommandContext::system();
    let (organization, _) = organizations::create(
        &store,
        OrganizationCode::parse("erasing").unwrap(),
        OrganizationName::parse("Erasing CE").unwrap(),
        &ctx,
    )
    .await
    .unwrap();
    store
        .load::<Organization>(&organizations::stream(organization))
        .await
        .unwrap();
    assert!(!store.aggregates.is_empty());
    store
        .append(Commit {
            tenant: organization.0,
            writes: vec![StreamWrite {
                stream: StreamId::new("test", Uuid::new_v4()),
                expected: ExpectedVersion::NoStream,
                events: vec![EventData {
                    event_type: "PersonalDataErased".into(),
                    schema_version: 1,
                    data: json!({}),
                }],
            }],
            erase: vec![Uuid::new_v4()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        store.aggregates.is_empty(),
        "cached states may hold the erased person's data"
    );
}
