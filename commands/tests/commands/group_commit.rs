//! Group commit: appends that queue up share transactions, and a failure in a group costs no commit but its own.

use std::sync::Arc;

use portal_commands::log::{
    AppendError, Claim, CommandRecord, Commit, EventLog, ExpectedVersion, GroupCommitSettings,
    PgEventLog,
};
use portal_commands::testing::TestDatabase;
use serde_json::json;
use uuid::Uuid;

use super::log_conformance::{commit, stream};

/// One transaction of appends at a time: whatever arrives meanwhile waits and goes as a group.
fn one_at_a_time(database: &TestDatabase) -> PgEventLog {
    PgEventLog::with_group_commit(
        database.pool.clone(),
        GroupCommitSettings {
            max_in_flight: 1,
            max_batch: 64,
        },
    )
}

async fn append_all(log: &PgEventLog, commits: Vec<Commit>) -> Vec<Result<(), AppendError>> {
    let tasks: Vec<_> = commits
        .into_iter()
        .map(|commit| {
            let log = log.clone();
            tokio::spawn(async move { log.append(commit).await.map(|_| ()) })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn transactions(database: &TestDatabase) -> (i64, i64) {
    let row = database
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*), count(DISTINCT transaction_id) FROM events",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_that_queue_up_commit_together_in_fewer_transactions() {
    let database = TestDatabase::migrated().await;
    let log = one_at_a_time(&database);
    let streams: Vec<_> = (0..40).map(|_| stream()).collect();
    let results = append_all(
        &log,
        streams
            .iter()
            .map(|s| commit(s, ExpectedVersion::NoStream, 1))
            .collect(),
    )
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (events, transactions) = transactions(&database).await;
    assert_eq!(events, 40);
    assert!(
        transactions < 40,
        "{transactions} transactions for 40 commits"
    );
    let stats = log.group_commit_stats();
    assert!(stats.groups >= 1 && stats.grouped_commits >= 2, "{stats:?}");
    assert_eq!(stats.failed_groups, 0);
    for s in &streams {
        let read = log.read_stream(s).await.unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].stream_version, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_conflict_in_a_group_fails_only_the_commit_that_lost() {
    let database = TestDatabase::migrated().await;
    let log = one_at_a_time(&database);
    let contested = stream();
    log.append(commit(&contested, ExpectedVersion::NoStream, 1))
        .await
        .unwrap();
    let others: Vec<_> = (0..20).map(|_| stream()).collect();
    let mut commits: Vec<Commit> = others
        .iter()
        .map(|s| commit(s, ExpectedVersion::NoStream, 1))
        .collect();
    commits.insert(3, commit(&contested, ExpectedVersion::Exact(1), 1));
    commits.insert(15, commit(&contested, ExpectedVersion::Exact(1), 1));
    let results = append_all(&log, commits).await;

    let lost: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert_eq!(lost.len(), 1, "{results:?}");
    assert!(
        matches!(
            lost[0],
            Err(AppendError::WrongExpectedVersion {
                actual: Some(2),
                ..
            })
        ),
        "{lost:?}"
    );
    assert_eq!(log.read_stream(&contested).await.unwrap().len(), 2);
    for s in &others {
        assert_eq!(log.read_stream(s).await.unwrap().len(), 1, "{s:?}");
    }
    assert!(log.group_commit_stats().failed_groups >= 1);
    let (events, _) = transactions(&database).await;
    assert_eq!(events, 22, "nothing of a failed group stays written twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_taken_inside_a_group_goes_to_the_first_and_is_refused_to_the_second() {
    let database = TestDatabase::migrated().await;
    let log = one_at_a_time(&database);
    let key = vec![7_u8; 32];
    let claiming = |owner: &portal_commands::log::StreamId| {
        let mut c = commit(owner, ExpectedVersion::NoStream, 1);
        c.claims = vec![Claim {
            scope: Uuid::nil(),
            kind: "email".into(),
            key: key.clone(),
            owner: owner.clone(),
        }];
        c
    };
    // With one transaction at a time, the commits after the first queue up and go in groups.
    let mut commits: Vec<Commit> = (0..10)
        .map(|_| commit(&stream(), ExpectedVersion::NoStream, 1))
        .collect();
    let (first, second) = (stream(), stream());
    commits.insert(4, claiming(&first));
    commits.insert(8, claiming(&second));
    let results = append_all(&log, commits).await;
    let refused: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert_eq!(refused.len(), 1, "{results:?}");
    assert!(
        matches!(refused[0], Err(AppendError::ClaimTaken { .. })),
        "{refused:?}"
    );
    let (events, _) = transactions(&database).await;
    assert_eq!(events, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_command_inside_a_group_gets_its_first_result_and_writes_nothing() {
    let database = TestDatabase::migrated().await;
    let log = one_at_a_time(&database);
    let record = CommandRecord {
        command_id: Uuid::new_v4(),
        fingerprint: vec![1, 2, 3],
        outcome: json!({ "attendance": "first" }),
    };
    let mut first = commit(&stream(), ExpectedVersion::NoStream, 1);
    first.command = Some(record.clone());
    let committed = log.append(first).await.unwrap();

    let mut retry = commit(&stream(), ExpectedVersion::NoStream, 1);
    retry.command = Some(record.clone());
    let log = Arc::new(log);
    let mut tasks = Vec::new();
    for n in 0..12 {
        let log = Arc::clone(&log);
        let commit = if n == 6 {
            retry.clone()
        } else {
            commit(&stream(), ExpectedVersion::NoStream, 1)
        };
        tasks.push(tokio::spawn(async move { log.append(commit).await }));
    }
    let mut replays = Vec::new();
    for task in tasks {
        let result = task.await.unwrap().unwrap();
        if result.replayed {
            replays.push(result);
        }
    }
    assert_eq!(replays.len(), 1);
    assert_eq!(replays[0].outcome, Some(record.outcome));
    assert_eq!(replays[0].last_position, committed.last_position);
    let (events, _) = transactions(&database).await;
    assert_eq!(events, 12, "the first command and the eleven others");
}
