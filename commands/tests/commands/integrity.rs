//! Tamper evidence and portability of the PostgreSQL log: hash chains, signed checkpoints, `verify`, export/import.

use portal_commands::log::integrity::{self, Finding};
use portal_commands::log::portability::{self, Scope};
use portal_commands::log::{EventLog, ExpectedVersion, PgEventLog, StreamId};
use portal_commands::secrets::{MasterKey, Secrets};
use portal_commands::testing::TestDatabase;
use serde_json::json;
use tokio_postgres::NoTls;
use uuid::Uuid;

use super::log_conformance::{commit, stream};

async fn connect(database: &TestDatabase) -> tokio_postgres::Client {
    let (client, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Waits until every event is below the oldest running transaction of the server (tests beside this one share
/// transaction ids), so that verify and export see all of them.
async fn settled(database: &TestDatabase) {
    let client = connect(database).await;
    for _ in 0..2_000 {
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())), count(*)
                 FROM events",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("events stayed above the horizon for 20 s");
}

/// Three streams of a few events each, with one stream written twice.
async fn some_log(database: &TestDatabase) -> Vec<StreamId> {
    let log = PgEventLog::new(database.pool.clone());
    let streams = vec![stream(), stream(), stream()];
    for (i, s) in streams.iter().enumerate() {
        log.append(commit(s, ExpectedVersion::NoStream, i + 1))
            .await
            .unwrap();
    }
    log.append(commit(&streams[0], ExpectedVersion::Exact(1), 2))
        .await
        .unwrap();
    settled(database).await;
    streams
}

fn secrets() -> Secrets {
    Secrets::derive(&MasterKey::generate())
}

/// Runs SQL as whoever can disable the append-only trigger: an intruder with the database's owner rights.
async fn behind_the_databases_back(database: &TestDatabase, sql: &str) {
    let client = connect(database).await;
    client
        .batch_execute(&format!(
            "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete;
             {sql};
             ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete;"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_untouched_log_verifies_with_its_checkpoints() {
    let database = TestDatabase::migrated().await;
    some_log(&database).await;
    let secrets = secrets();
    assert_eq!(
        integrity::seal_all(&database.pool, &secrets).await.unwrap(),
        1
    );

    let report = integrity::verify(&database.pool, &secrets).await.unwrap();

    assert_eq!(report.finding, None);
    assert_eq!(
        (
            report.events,
            report.streams,
            report.checkpoints,
            report.unsealed
        ),
        (8, 3, 1, 0)
    );
}

#[tokio::test]
async fn a_row_altered_behind_the_databases_back_is_named_by_verify() {
    let database = TestDatabase::migrated().await;
    let streams = some_log(&database).await;
    let secrets = secrets();
    integrity::seal_all(&database.pool, &secrets).await.unwrap();
    let client = connect(&database).await;
    let target: i64 = client
        .query_one(
            "SELECT position FROM events WHERE stream_id = $1 AND stream_version = 2",
            &[&streams[1].as_str()],
        )
        .await
        .unwrap()
        .get(0);

    behind_the_databases_back(
        &database,
        &format!("UPDATE events SET data = '{{\"n\": 99}}' WHERE position = {target}"),
    )
    .await;
    let report = integrity::verify(&database.pool, &secrets).await.unwrap();

    assert_eq!(
        report.finding,
        Some(Finding::EventAltered {
            position: target,
            stream: streams[1].as_str().to_owned(),
            version: 2,
        })
    );
    assert_eq!(
        report.finding.unwrap().to_string(),
        format!(
            "event at position {target} (stream {}, version 2) does not match its hash",
            streams[1]
        )
    );
}

#[tokio::test]
async fn a_stream_rewritten_with_fresh_hashes_is_caught_by_the_signed_checkpoint() {
    let database = TestDatabase::migrated().await;
    let streams = some_log(&database).await;
    let secrets = secrets();
    integrity::seal_all(&database.pool, &secrets).await.unwrap();

    // The intruder knows the hash function (it is in the migrations) and rewrites the stream's whole chain.
    behind_the_databases_back(
        &database,
        &format!(
            "UPDATE events SET data = '{{\"n\": 42}}' WHERE stream_id = '{s}' AND stream_version = 1;
             UPDATE events e SET hash = portal_event_hash(NULL, e.tenant_id, e.stream_id, e.stream_version,
                 e.event_type, e.schema_version, e.data, e.metadata, e.recorded_at)
             WHERE stream_id = '{s}' AND stream_version = 1",
            s = streams[2]
        ),
    )
    .await;
    behind_the_databases_back(
        &database,
        &format!(
            "UPDATE events e SET hash = portal_event_hash(p.hash, e.tenant_id, e.stream_id, e.stream_version,
                 e.event_type, e.schema_version, e.data, e.metadata, e.recorded_at)
             FROM events p WHERE p.stream_id = e.stream_id AND p.stream_version = e.stream_version - 1
               AND e.stream_id = '{s}' AND e.stream_version = 2;
             UPDATE events e SET hash = portal_event_hash(p.hash, e.tenant_id, e.stream_id, e.stream_version,
                 e.event_type, e.schema_version, e.data, e.metadata, e.recorded_at)
             FROM events p WHERE p.stream_id = e.stream_id AND p.stream_version = e.stream_version - 1
               AND e.stream_id = '{s}' AND e.stream_version = 3",
            s = streams[2]
        ),
    )
    .await;
    let report = integrity::verify(&database.pool, &secrets).await.unwrap();

    assert!(
        matches!(
            report.finding,
            Some(Finding::CheckpointMismatch { sequence: 1, .. })
        ),
        "{:?}",
        report.finding
    );
}

#[tokio::test]
async fn checkpoints_signed_with_another_key_are_refused() {
    let database = TestDatabase::migrated().await;
    some_log(&database).await;
    integrity::seal_all(&database.pool, &secrets())
        .await
        .unwrap();

    let report = integrity::verify(&database.pool, &secrets()).await.unwrap();

    assert_eq!(
        report.finding,
        Some(Finding::CheckpointForged { sequence: 1 })
    );
}

#[tokio::test]
async fn a_removed_event_breaks_its_stream() {
    let database = TestDatabase::migrated().await;
    let streams = some_log(&database).await;
    let secrets = secrets();

    behind_the_databases_back(
        &database,
        &format!(
            "DELETE FROM events WHERE stream_id = '{}' AND stream_version = 1",
            streams[1]
        ),
    )
    .await;
    let report = integrity::verify(&database.pool, &secrets).await.unwrap();

    assert!(
        matches!(
            &report.finding,
            Some(Finding::EventsMissing {
                version: 2,
                previous: 0,
                ..
            })
        ),
        "{:?}",
        report.finding
    );
}

#[tokio::test]
async fn events_appended_after_a_checkpoint_are_covered_by_the_next() {
    let database = TestDatabase::migrated().await;
    let streams = some_log(&database).await;
    let secrets = secrets();
    integrity::seal_all(&database.pool, &secrets).await.unwrap();
    let log = PgEventLog::new(database.pool.clone());
    log.append(commit(&streams[1], ExpectedVersion::Exact(2), 3))
        .await
        .unwrap();
    settled(&database).await;

    let before = integrity::verify(&database.pool, &secrets).await.unwrap();
    let sealed = integrity::seal(&database.pool, &secrets, 1_000)
        .await
        .unwrap()
        .unwrap();
    let after = integrity::verify(&database.pool, &secrets).await.unwrap();

    assert_eq!((before.unsealed, before.finding), (3, None));
    assert_eq!((sealed.sequence, sealed.event_count), (2, 3));
    assert_eq!(
        (after.checkpoints, after.unsealed, after.finding),
        (2, 0, None)
    );
}

async fn hashes(database: &TestDatabase) -> Vec<(i64, String, i64, Vec<u8>)> {
    connect(database)
        .await
        .query(
            "SELECT position, stream_id, stream_version, hash FROM events ORDER BY transaction_id, position",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// A commit whose transaction took its id before another commit that then got the lower position: the global
/// order (transaction, position) is not the position order.
async fn a_late_commit(database: &TestDatabase, late: &StreamId, early: &StreamId) {
    let mut slow = connect(database).await;
    let tx = slow.transaction().await.unwrap();
    tx.query_one("SELECT pg_current_xact_id()", &[])
        .await
        .unwrap();
    PgEventLog::new(database.pool.clone())
        .append(commit(early, ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let document = json!({
        "tenant": Uuid::nil(), "metadata": {}, "writes": [{
            "stream": late.as_str(), "expected": {"kind": "no_stream"},
            "events": [{"type": "Happened", "version": 1, "data": {"late": true}}],
        }],
    });
    tx.query_one("SELECT portal_append($1::jsonb)", &[&document])
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_export_imported_into_an_empty_database_has_the_same_hashes_and_verifies() {
    let source = TestDatabase::migrated().await;
    some_log(&source).await;
    let (late, early) = (stream(), stream());
    a_late_commit(&source, &late, &early).await;
    settled(&source).await;
    let secrets = secrets();
    integrity::seal_all(&source.pool, &secrets).await.unwrap();
    let mut file = Vec::new();
    let exported = portability::export(&source.pool, &Scope::All, &mut file)
        .await
        .unwrap();

    let target = TestDatabase::migrated().await;
    let imported = portability::import(&target.pool, &mut file.as_slice())
        .await
        .unwrap();
    settled(&target).await;

    assert_eq!(exported, imported);
    assert_eq!((imported.events, imported.checkpoints), (10, 1));
    let original = hashes(&source).await;
    assert_ne!(
        original.iter().map(|h| h.0).collect::<Vec<_>>(),
        {
            let mut sorted: Vec<i64> = original.iter().map(|h| h.0).collect();
            sorted.sort();
            sorted
        },
        "the late commit makes the global order differ from the position order"
    );
    assert_eq!(hashes(&target).await, original);
    let report = integrity::verify(&target.pool, &secrets).await.unwrap();
    assert_eq!(
        (report.events, report.checkpoints, report.finding),
        (10, 1, None)
    );

    // Appends continue after the imported positions.
    let next = PgEventLog::new(target.pool.clone())
        .append(commit(&stream(), ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    assert!(next.last_position > original.iter().map(|h| h.0).max().unwrap());
}

#[tokio::test]
async fn an_import_into_a_database_with_events_is_refused() {
    let source = TestDatabase::migrated().await;
    some_log(&source).await;
    let mut file = Vec::new();
    portability::export(&source.pool, &Scope::All, &mut file)
        .await
        .unwrap();

    let error = portability::import(&source.pool, &mut file.as_slice())
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        "the database already holds 8 event(s); import only into an empty log"
    );
}

#[tokio::test]
async fn a_stream_export_holds_only_that_stream() {
    let source = TestDatabase::migrated().await;
    let streams = some_log(&source).await;
    let mut file = Vec::new();

    let counts = portability::export(
        &source.pool,
        &Scope::Stream(streams[0].as_str().to_owned()),
        &mut file,
    )
    .await
    .unwrap();

    let text = String::from_utf8(file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(counts.events, 3);
    assert_eq!(lines[0]["kind"], "header");
    assert!(lines[1..]
        .iter()
        .all(|l| l["kind"] == "event" && l["stream"] == streams[0].as_str()));
}
