//! What only the PostgreSQL log must show: the database itself refuses changes to the log, and a reader of the
//! whole log never skips an event whose transaction commits late.

use std::collections::HashSet;

use portal_commands::log::{
    Commit, EventLog, ExpectedVersion, GlobalCursor, OutboxMessage, PgEventLog, RecordedEvent,
};
use portal_commands::testing::TestDatabase;
use tokio_postgres::NoTls;
use uuid::Uuid;

use super::log_conformance::{commit, stream};

async fn connect(database: &TestDatabase) -> tokio_postgres::Client {
    let (client, connection) = database.config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Reads until `want` events have been seen in all, or for `patience` when fewer arrive.
///
/// Transaction ids are shared by every database of the server, so a test running beside this one can hold the
/// horizon back for a moment: an empty page means "not yet", never "skipped".
async fn drain_until(
    log: &PgEventLog,
    cursor: &mut GlobalCursor,
    seen: &mut Vec<RecordedEvent>,
    want: usize,
    patience: std::time::Duration,
) {
    let deadline = std::time::Instant::now() + patience;
    while std::time::Instant::now() < deadline && seen.len() < want {
        let page = log.read_all(*cursor, 100).await.unwrap();
        match page.last() {
            Some(last) => *cursor = last.cursor(),
            None => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
        seen.extend(page);
    }
}

const SHORT: std::time::Duration = std::time::Duration::from_millis(300);
const LONG: std::time::Duration = std::time::Duration::from_secs(20);

#[tokio::test]
async fn the_database_refuses_to_update_delete_or_truncate_events() {
    let database = TestDatabase::migrated().await;
    let log = PgEventLog::new(database.pool.clone());
    log.append(commit(&stream(), ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let client = connect(&database).await;
    for statement in [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let error = client.batch_execute(statement).await.expect_err(statement);
        assert!(
            error.to_string().contains("append-only")
                || format!("{error:?}").contains("append-only"),
            "{statement}: {error:?}"
        );
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}

/// Two transactions commit in the reverse order of their positions while a reader polls between the commits:
/// the reader sees both, none skipped, none twice.
#[tokio::test]
async fn a_reader_never_skips_an_event_that_commits_late() {
    let database = TestDatabase::migrated().await;
    let log = PgEventLog::new(database.pool.clone());
    let (early, late) = (connect(&database).await, connect(&database).await);
    let insert = "INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                      recorded_at, hash)
                  VALUES ($1, $2, 1, 'Happened', 1, '{}', '{}', now(),
                          portal_event_hash(NULL, $1, $2, 1, 'Happened', 1::smallint, '{}', '{}', now()))
                  RETURNING position";
    let tenant = Uuid::nil();

    early.batch_execute("BEGIN").await.unwrap();
    let first_position: i64 = early
        .query_one(insert, &[&tenant, &"test-early"])
        .await
        .unwrap()
        .get(0);
    late.batch_execute("BEGIN").await.unwrap();
    let second_position: i64 = late
        .query_one(insert, &[&tenant, &"test-late"])
        .await
        .unwrap()
        .get(0);
    assert!(first_position < second_position);

    // The higher position commits first; a reader by position alone would now move past the lower one.
    late.batch_execute("COMMIT").await.unwrap();
    let mut cursor = GlobalCursor::START;
    let mut seen = Vec::new();
    drain_until(&log, &mut cursor, &mut seen, 1, SHORT).await;
    assert!(
        seen.is_empty(),
        "nothing is readable while an older transaction is still open: {seen:?}"
    );

    early.batch_execute("COMMIT").await.unwrap();
    drain_until(&log, &mut cursor, &mut seen, 2, LONG).await;
    let positions: Vec<i64> = seen.iter().map(|e| e.position).collect();
    assert_eq!(positions, vec![first_position, second_position]);
    drain_until(&log, &mut cursor, &mut seen, 3, SHORT).await;
    assert_eq!(seen.len(), 2, "nothing is read twice");
}

/// The reverse interleaving: the transaction that started first takes the higher position and commits last.
#[tokio::test]
async fn a_reader_never_skips_a_lower_position_of_a_younger_transaction() {
    let database = TestDatabase::migrated().await;
    let log = PgEventLog::new(database.pool.clone());
    let (older, younger) = (connect(&database).await, connect(&database).await);
    let insert = "INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                      recorded_at, hash)
                  VALUES ($1, $2, 1, 'Happened', 1, '{}', '{}', now(),
                          portal_event_hash(NULL, $1, $2, 1, 'Happened', 1::smallint, '{}', '{}', now()))
                  RETURNING position";
    let tenant = Uuid::nil();

    older.batch_execute("BEGIN").await.unwrap();
    older
        .query_one("SELECT pg_current_xact_id()", &[])
        .await
        .unwrap();
    younger.batch_execute("BEGIN").await.unwrap();
    let lower: i64 = younger
        .query_one(insert, &[&tenant, &"test-younger"])
        .await
        .unwrap()
        .get(0);
    younger.batch_execute("COMMIT").await.unwrap();

    let mut cursor = GlobalCursor::START;
    let mut seen = Vec::new();
    drain_until(&log, &mut cursor, &mut seen, 1, SHORT).await;
    assert!(
        seen.is_empty(),
        "the younger transaction waits behind the older one: {seen:?}"
    );

    let higher: i64 = older
        .query_one(insert, &[&tenant, &"test-older"])
        .await
        .unwrap()
        .get(0);
    assert!(lower < higher);
    older.batch_execute("COMMIT").await.unwrap();
    drain_until(&log, &mut cursor, &mut seen, 2, LONG).await;
    let mut positions: Vec<i64> = seen.iter().map(|e| e.position).collect();
    positions.sort();
    assert_eq!(positions, vec![lower, higher]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_polling_during_concurrent_appends_sees_each_event_exactly_once() {
    let database = TestDatabase::migrated().await;
    let log = PgEventLog::new(database.pool.clone());
    let writers: Vec<_> = (0..8)
        .map(|_| {
            let log = log.clone();
            tokio::spawn(async move {
                let s = stream();
                for append in 0..25u64 {
                    let expected = if append == 0 {
                        ExpectedVersion::NoStream
                    } else {
                        ExpectedVersion::Exact(append * 2)
                    };
                    log.append(commit(&s, expected, 2)).await.unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let log = log.clone();
        tokio::spawn(async move {
            let mut cursor = GlobalCursor::START;
            let mut seen = Vec::new();
            while seen.len() < 8 * 25 * 2 {
                let page = log.read_all(cursor, 37).await.unwrap();
                if let Some(last) = page.last() {
                    cursor = last.cursor();
                }
                seen.extend(page);
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let unique: HashSet<i64> = seen.iter().map(|e| e.position).collect();
    assert_eq!(seen.len(), 400);
    assert_eq!(unique.len(), 400, "no event was read twice");
    let more = log
        .read_all(seen.last().unwrap().cursor(), 10)
        .await
        .unwrap();
    assert!(more.is_empty());
}

#[tokio::test]
async fn outbox_messages_are_written_only_with_their_events() {
    let database = TestDatabase::migrated().await;
    let log = PgEventLog::new(database.pool.clone());
    let s = stream();
    let message = |id| OutboxMessage {
        id,
        kind: portal_domain::values::MessageKind::PasswordChanged,
        recipient: "ada@example.org".into(),
        data: serde_json::json!({ "salutation": "Ada" }),
        about: None,
        due_at: chrono::Utc::now(),
    };
    let mut ok: Commit = commit(&s, ExpectedVersion::NoStream, 1);
    ok.outbox.push(message(Uuid::new_v4()));
    log.append(ok).await.unwrap();
    let mut refused: Commit = commit(&s, ExpectedVersion::NoStream, 1);
    refused.outbox.push(message(Uuid::new_v4()));
    assert!(log.append(refused).await.is_err());
    let client = connect(&database).await;
    let count: i64 = client
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}
