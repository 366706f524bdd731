//! The runner: exactly-once effect under crashes, live tail, one active runner, read-your-writes.

use std::sync::Arc;
use std::time::Duration;

use portal_commands::log::RecordedEvent;
use portal_projections::accounts::{self, Accounts};
use portal_projections::runner::{checkpoint, rebuild_into, wait_for};
use portal_projections::{
    listener, params, status, Projection, ProjectionError, Runner, RunnerSettings, Writes,
};
use tokio::sync::{watch, Notify};

use super::support::World;

fn settings(batch_size: usize) -> RunnerSettings {
    RunnerSettings {
        batch_size,
        poll_interval: Duration::from_millis(50),
    }
}

fn runner<P: Projection>(
    world: &World,
    projection: P,
    batch_size: usize,
    wake: Arc<Notify>,
) -> Runner<P> {
    Runner::new(
        projection,
        world.source(),
        world.database.pool.clone(),
        world.database.config.clone(),
        settings(batch_size),
        wake,
    )
}

async fn catch_up<P: Projection>(runner: &Runner<P>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut idle = 0;
    // Two empty steps in a row, since a page can be empty while another test's transaction holds the horizon.
    while idle < 2 && std::time::Instant::now() < deadline {
        if runner.step().await.unwrap() == 0 {
            idle += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            idle = 0;
        }
    }
}

/// The advisory lock the test holds so that a stalled batch waits inside its transaction.
const STALL_LOCK: i64 = 7_007;

/// Applies a batch like `Accounts`, then, on the `stall_on`-th batch, waits for a lock the test holds, after its
/// rows are written and before the checkpoint moves.
struct Stalling {
    batches: std::sync::atomic::AtomicUsize,
    stall_on: usize,
}

impl Projection for Stalling {
    fn name(&self) -> &'static str {
        accounts::NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        Accounts.tables()
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        Accounts.apply(writes, events)?;
        let batch = self
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if batch == self.stall_on {
            writes.execute("SELECT pg_advisory_xact_lock($1)", params![STALL_LOCK]);
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_mid_batch_resumes_to_the_same_rows_as_a_rebuild_from_zero() {
    let world = World::new().await;
    for n in 0..10 {
        world.account(n).await;
    }
    let holder = world.database.pool.get().await.unwrap();
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&STALL_LOCK])
        .await
        .unwrap();
    let doomed = runner(
        &world,
        Stalling {
            batches: Default::default(),
            stall_on: 3,
        },
        4,
        Arc::new(Notify::new()),
    );
    let task = tokio::spawn(async move {
        loop {
            doomed.step().await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), ProjectionError>(())
    });
    // The stalled batch: its rows are written, it waits for the lock before its checkpoint.
    let mut pid = None;
    for _ in 0..200 {
        pid = holder
            .query_opt(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[&(STALL_LOCK as u32)],
            )
            .await
            .unwrap()
            .map(|row| row.get::<_, i32>(0));
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = pid.expect("the third batch stalls");
    let before_crash = checkpoint(&world.database.pool, accounts::NAME)
        .await
        .unwrap();

    // The crash: the connection holding the open batch dies, and the runner with it.
    let client = world.database.pool.get().await.unwrap();
    client
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    task.abort();
    let _ = task.await;
    // Give the dead connection's driver a moment to notice, so the pool discards it instead of lending it out.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        checkpoint(&world.database.pool, accounts::NAME)
            .await
            .unwrap(),
        before_crash,
        "the open batch left nothing"
    );

    let restarted = runner(&world, Accounts, 4, Arc::new(Notify::new()));
    catch_up(&restarted).await;
    let applied = rebuild_into(
        &Accounts,
        &world.source(),
        &world.database.pool,
        "rebuilt",
        3,
    )
    .await
    .unwrap();
    assert!(
        applied >= 25,
        "the rebuild read the whole log ({applied} events)"
    );
    let live = world.rows("accounts").await;
    assert_eq!(live.len(), 10);
    assert_eq!(live, world.rows("rebuilt.accounts").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_projection_tails_the_log_and_reads_its_own_writes() {
    let world = World::new().await;
    world.account(0).await;
    let wake = listener::spawn(world.database.config.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(runner(&world, Accounts, 100, wake).run(stop_rx));

    let position = world.account(2).await;
    wait_for(
        &world.database.pool,
        accounts::NAME,
        position,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let rows = world.rows("accounts").await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r.contains("\"status\":\"active\"")),
        "{rows:?}"
    );

    stop_tx.send(true).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_of_one_projection_apply_each_event_once() {
    let world = World::new().await;
    let wake = listener::spawn(world.database.config.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let first = tokio::spawn(runner(&world, Accounts, 3, wake.clone()).run(stop_rx.clone()));
    let second = tokio::spawn(runner(&world, Accounts, 3, wake).run(stop_rx));
    let mut last = 0;
    for n in 0..8 {
        last = world.account(n).await;
    }
    wait_for(
        &world.database.pool,
        accounts::NAME,
        last,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    stop_tx.send(true).unwrap();
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    rebuild_into(
        &Accounts,
        &world.source(),
        &world.database.pool,
        "rebuilt",
        100,
    )
    .await
    .unwrap();
    assert_eq!(world.rows("accounts").await.len(), 8);
    assert_eq!(
        world.rows("accounts").await,
        world.rows("rebuilt.accounts").await
    );
}

#[tokio::test]
async fn status_reports_each_projection_and_its_lag() {
    let world = World::new().await;
    for n in 0..3 {
        world.account(n).await;
    }
    let runner = runner(&world, Accounts, 2, Arc::new(Notify::new()));
    // A reader of the whole log stops below the server's oldest running transaction, which tests beside this one
    // share: wait until every event is below it, so that the first batch is a full one.
    let client = world.database.pool.get().await.unwrap();
    for _ in 0..2_000 {
        let above: i64 = client
            .query_one(
                "SELECT count(*) FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if above == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    runner.step().await.unwrap();
    let (head, projections) = status::status(&world.database.pool).await.unwrap();
    assert!(head >= 7);
    let accounts = projections.iter().find(|p| p.name == "accounts").unwrap();
    assert_eq!(accounts.position, 2);
    assert_eq!(accounts.lag_events, head - 2);
    catch_up(&runner).await;
    let (_, projections) = status::status(&world.database.pool).await.unwrap();
    assert_eq!(
        projections
            .iter()
            .find(|p| p.name == "accounts")
            .unwrap()
            .lag_events,
        0
    );
}

#[tokio::test]
async fn waiting_for_a_position_not_in_the_log_is_refused() {
    let world = World::new().await;
    let result = wait_for(
        &world.database.pool,
        accounts::NAME,
        999_999,
        Duration::from_millis(10),
    )
    .await;
    assert!(matches!(
        result,
        Err(ProjectionError::UnknownPosition(999_999))
    ));
}
