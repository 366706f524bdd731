//! One suite, run against every log backend: what any `EventLog` must do.

use portal_commands::log::{
    AppendError, Claim, CommandRecord, Commit, EventData, EventLog, ExpectedVersion, GlobalCursor,
    Metadata, StreamId, StreamWrite,
};
use serde_json::json;
use uuid::Uuid;

pub fn stream() -> StreamId {
    StreamId::new("test", Uuid::new_v4())
}

pub fn events(n: usize) -> Vec<EventData> {
    (0..n)
        .map(|i| EventData {
            event_type: "Happened".into(),
            schema_version: 1,
            data: json!({ "n": i }),
        })
        .collect()
}

pub fn commit(stream: &StreamId, expected: ExpectedVersion, n: usize) -> Commit {
    Commit {
        tenant: Uuid::nil(),
        writes: vec![StreamWrite {
            stream: stream.clone(),
            expected,
            events: events(n),
        }],
        metadata: Metadata::default(),
        ..Default::default()
    }
}

pub mod cases {
    use super::*;

    pub async fn a_new_stream_numbers_its_events_from_one<L: EventLog>(log: L) {
        let s = stream();
        let committed = log
            .append(commit(&s, ExpectedVersion::NoStream, 3))
            .await
            .unwrap();
        assert_eq!(committed.versions, vec![(s.clone(), 3)]);
        let read = log.read_stream(&s).await.unwrap();
        assert_eq!(
            read.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            read.iter()
                .map(|e| e.data["n"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(committed.last_position, read[2].position);
        assert!(read.windows(2).all(|w| w[0].position < w[1].position));
    }

    pub async fn no_stream_is_refused_when_the_stream_exists<L: EventLog>(log: L) {
        let s = stream();
        log.append(commit(&s, ExpectedVersion::NoStream, 2))
            .await
            .unwrap();
        match log.append(commit(&s, ExpectedVersion::NoStream, 1)).await {
            Err(AppendError::WrongExpectedVersion { actual, .. }) => assert_eq!(actual, Some(2)),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(log.read_stream(&s).await.unwrap().len(), 2);
    }

    pub async fn an_exact_version_must_match<L: EventLog>(log: L) {
        let s = stream();
        log.append(commit(&s, ExpectedVersion::NoStream, 2))
            .await
            .unwrap();
        match log.append(commit(&s, ExpectedVersion::Exact(1), 1)).await {
            Err(AppendError::WrongExpectedVersion {
                expected, actual, ..
            }) => {
                assert_eq!(expected, ExpectedVersion::Exact(1));
                assert_eq!(actual, Some(2));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        let committed = log
            .append(commit(&s, ExpectedVersion::Exact(2), 1))
            .await
            .unwrap();
        assert_eq!(committed.versions, vec![(s, 3)]);
    }

    pub async fn any_version_appends_whatever_the_stream_holds<L: EventLog>(log: L) {
        let s = stream();
        log.append(commit(&s, ExpectedVersion::Any, 1))
            .await
            .unwrap();
        let committed = log
            .append(commit(&s, ExpectedVersion::Any, 1))
            .await
            .unwrap();
        assert_eq!(committed.versions, vec![(s, 2)]);
    }

    pub async fn a_commit_to_several_streams_appends_all_or_nothing<L: EventLog>(log: L) {
        let (a, b) = (stream(), stream());
        log.append(commit(&b, ExpectedVersion::NoStream, 1))
            .await
            .unwrap();
        let mut both = commit(&a, ExpectedVersion::NoStream, 2);
        both.writes.push(StreamWrite {
            stream: b.clone(),
            expected: ExpectedVersion::NoStream,
            events: events(1),
        });
        assert!(matches!(
            log.append(both).await,
            Err(AppendError::WrongExpectedVersion { .. })
        ));
        assert!(
            log.read_stream(&a).await.unwrap().is_empty(),
            "nothing of the failed commit is visible"
        );
        assert_eq!(log.read_stream(&b).await.unwrap().len(), 1);
    }

    pub async fn a_repeated_command_id_returns_the_first_result_and_appends_nothing<L: EventLog>(
        log: L,
    ) {
        let s = stream();
        let record = CommandRecord {
            command_id: Uuid::new_v4(),
            fingerprint: vec![1, 2, 3],
            outcome: json!({"ok": 1}),
        };
        let mut first = commit(&s, ExpectedVersion::Any, 2);
        first.command = Some(record.clone());
        let committed = log.append(first.clone()).await.unwrap();
        assert!(!committed.replayed);
        let again = log.append(first).await.unwrap();
        assert!(again.replayed);
        assert_eq!(again.last_position, committed.last_position);
        assert_eq!(again.outcome, Some(json!({"ok": 1})));
        assert_eq!(log.read_stream(&s).await.unwrap().len(), 2);
        let found = log.find_command(record.command_id).await.unwrap().unwrap();
        assert_eq!(found.last_position, committed.last_position);
    }

    pub async fn a_command_id_reused_with_other_input_is_refused<L: EventLog>(log: L) {
        let command_id = Uuid::new_v4();
        let mut first = commit(&stream(), ExpectedVersion::Any, 1);
        first.command = Some(CommandRecord {
            command_id,
            fingerprint: vec![1],
            outcome: json!(null),
        });
        log.append(first).await.unwrap();
        let other_stream = stream();
        let mut second = commit(&other_stream, ExpectedVersion::Any, 1);
        second.command = Some(CommandRecord {
            command_id,
            fingerprint: vec![2],
            outcome: json!(null),
        });
        assert!(
            matches!(log.append(second).await, Err(AppendError::CommandIdReused(id)) if id == command_id)
        );
        assert!(log.read_stream(&other_stream).await.unwrap().is_empty());
    }

    pub async fn a_claim_held_by_another_stream_refuses_the_whole_commit<L: EventLog>(log: L) {
        let (a, b) = (stream(), stream());
        let scope = Uuid::new_v4();
        let claim = |owner: &StreamId| Claim {
            scope,
            kind: "email".into(),
            key: vec![9; 32],
            owner: owner.clone(),
        };
        let mut first = commit(&a, ExpectedVersion::NoStream, 1);
        first.claims.push(claim(&a));
        log.append(first).await.unwrap();
        let mut second = commit(&b, ExpectedVersion::NoStream, 1);
        second.claims.push(claim(&b));
        match log.append(second).await {
            Err(AppendError::ClaimTaken { kind, owner }) => {
                assert_eq!(kind, "email");
                assert_eq!(owner, a);
            }
            other => panic!("expected the claim to be taken, got {other:?}"),
        }
        assert!(log.read_stream(&b).await.unwrap().is_empty());
        assert_eq!(
            log.find_claim(scope, "email", &[9; 32]).await.unwrap(),
            Some(a.clone())
        );
        // The owner may claim again; another scope is another namespace.
        let mut again = commit(&a, ExpectedVersion::Exact(1), 1);
        again.claims.push(claim(&a));
        log.append(again).await.unwrap();
        let mut elsewhere = commit(&b, ExpectedVersion::NoStream, 1);
        elsewhere.claims.push(Claim {
            scope: Uuid::new_v4(),
            ..claim(&b)
        });
        log.append(elsewhere).await.unwrap();
    }

    pub async fn a_released_claim_can_be_taken_by_another_stream_and_only_its_owner_releases_it<
        L: EventLog,
    >(
        log: L,
    ) {
        let (a, b) = (stream(), stream());
        let scope = Uuid::new_v4();
        let claim = |owner: &StreamId, key: u8| Claim {
            scope,
            kind: "email".into(),
            key: vec![key; 32],
            owner: owner.clone(),
        };
        let mut first = commit(&a, ExpectedVersion::NoStream, 1);
        first.claims.push(claim(&a, 1));
        log.append(first).await.unwrap();
        // Another stream cannot release what it does not own.
        let mut foreign = commit(&b, ExpectedVersion::NoStream, 1);
        foreign.releases.push(claim(&b, 1));
        log.append(foreign).await.unwrap();
        assert_eq!(
            log.find_claim(scope, "email", &[1; 32]).await.unwrap(),
            Some(a.clone())
        );
        // The owner trades its value for another in one commit.
        let mut trade = commit(&a, ExpectedVersion::Exact(1), 1);
        trade.releases.push(claim(&a, 1));
        trade.claims.push(claim(&a, 2));
        log.append(trade).await.unwrap();
        assert_eq!(
            log.find_claim(scope, "email", &[1; 32]).await.unwrap(),
            None
        );
        assert_eq!(
            log.find_claim(scope, "email", &[2; 32]).await.unwrap(),
            Some(a.clone())
        );
        let mut taken = commit(&b, ExpectedVersion::Exact(1), 1);
        taken.claims.push(claim(&b, 1));
        log.append(taken).await.unwrap();
        assert_eq!(
            log.find_claim(scope, "email", &[1; 32]).await.unwrap(),
            Some(b)
        );
    }

    pub async fn reading_all_returns_every_event_once_in_commit_order<L: EventLog>(log: L) {
        let (a, b) = (stream(), stream());
        log.append(commit(&a, ExpectedVersion::NoStream, 2))
            .await
            .unwrap();
        log.append(commit(&b, ExpectedVersion::NoStream, 3))
            .await
            .unwrap();
        log.append(commit(&a, ExpectedVersion::Exact(2), 1))
            .await
            .unwrap();
        let mut seen = Vec::new();
        let mut cursor = GlobalCursor::START;
        // A page can come back empty while some other writer on the server is mid-transaction: poll, with a limit.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while seen.len() < 6 && std::time::Instant::now() < deadline {
            let page = log.read_all(cursor, 2).await.unwrap();
            assert!(page.len() <= 2);
            if let Some(last) = page.last() {
                cursor = last.cursor();
            } else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            seen.extend(page);
        }
        let order: Vec<(String, u64)> = seen
            .iter()
            .map(|e| (e.stream.to_string(), e.stream_version))
            .collect();
        assert_eq!(
            order,
            vec![
                (a.to_string(), 1),
                (a.to_string(), 2),
                (b.to_string(), 1),
                (b.to_string(), 2),
                (b.to_string(), 3),
                (a.to_string(), 3)
            ]
        );
        assert!(seen.windows(2).all(|w| w[0].cursor() < w[1].cursor()));
    }

    pub async fn an_unknown_stream_reads_as_empty<L: EventLog>(log: L) {
        assert!(log.read_stream(&stream()).await.unwrap().is_empty());
    }

    pub async fn metadata_and_tenant_are_kept_with_each_event<L: EventLog>(log: L) {
        let s = stream();
        let tenant = Uuid::new_v4();
        let metadata = Metadata {
            command_id: Some(Uuid::new_v4()),
            command: Some("DoIt".into()),
            correlation_id: Some(Uuid::new_v4()),
            causation_id: None,
            actor: Some("system".into()),
            on_behalf_of: None,
            client_ip: Some("127.0.0.1".into()),
            user_agent: Some("test".into()),
            client: None,
        };
        let mut c = commit(&s, ExpectedVersion::NoStream, 1);
        c.tenant = tenant;
        c.metadata = metadata.clone();
        log.append(c).await.unwrap();
        let read = log.read_stream(&s).await.unwrap();
        assert_eq!(read[0].metadata, metadata);
        assert_eq!(read[0].tenant, tenant);
    }

    pub async fn concurrent_writers_at_one_version_let_exactly_one_win<L: EventLog>(log: L) {
        let s = stream();
        log.append(commit(&s, ExpectedVersion::NoStream, 1))
            .await
            .unwrap();
        let attempts = (0..8).map(|_| {
            let log = log.clone();
            let s = s.clone();
            tokio::spawn(async move { log.append(commit(&s, ExpectedVersion::Exact(1), 1)).await })
        });
        let mut wins = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => wins += 1,
                Err(AppendError::WrongExpectedVersion { .. }) => {}
                Err(other) => panic!("unexpected error {other:?}"),
            }
        }
        assert_eq!(wins, 1);
        assert_eq!(log.read_stream(&s).await.unwrap().len(), 2);
    }

    pub async fn an_empty_commit_is_refused<L: EventLog>(log: L) {
        assert!(matches!(
            log.append(commit(&stream(), ExpectedVersion::Any, 0)).await,
            Err(AppendError::Empty)
        ));
    }
}

macro_rules! conformance_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            conformance_suite!(@cases $make;
                a_new_stream_numbers_its_events_from_one,
                no_stream_is_refused_when_the_stream_exists,
                an_exact_version_must_match,
                any_version_appends_whatever_the_stream_holds,
                a_commit_to_several_streams_appends_all_or_nothing,
                a_repeated_command_id_returns_the_first_result_and_appends_nothing,
                a_command_id_reused_with_other_input_is_refused,
                a_claim_held_by_another_stream_refuses_the_whole_commit,
                a_released_claim_can_be_taken_by_another_stream_and_only_its_owner_releases_it,
                reading_all_returns_every_event_once_in_commit_order,
                an_unknown_stream_reads_as_empty,
                metadata_and_tenant_are_kept_with_each_event,
                concurrent_writers_at_one_version_let_exactly_one_win,
                an_empty_commit_is_refused
            );
        }
    };
    (@cases $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (log, _keep) = $make;
                super::cases::$case(log).await;
            }
        )+
    };
}

conformance_suite!(memory, (portal_commands::log::MemoryEventLog::new(), ()));
conformance_suite!(postgres, {
    let database = portal_commands::testing::TestDatabase::migrated().await;
    (
        portal_commands::log::PgEventLog::new(database.pool.clone()),
        database,
    )
});
