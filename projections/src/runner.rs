//! The projector runner: catch up from the checkpoint in batches, then tail the log live.
//!
//! Each batch's rows and the new checkpoint are written in one transaction, so a crash at any point leaves the read
//! model exactly as of some checkpoint: nothing applied twice, nothing skipped. Several processes may run a runner
//! for the same projection: an advisory lock makes one active, and the checkpoint is advanced only from the value
//! the batch started at, so even two active runners could not both apply a batch.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;

use crate::writes::Writes;
use portal_commands::log::{EventLog, GlobalCursor, LogError, PgEventLog, RecordedEvent};
use portal_commands::personal_data::KeyRing;
use tokio::sync::{watch, Notify};
use tokio_postgres::{Config, NoTls};

/// A read model fed by the log.
pub trait Projection: Send + Sync + 'static {
    /// Its name: the checkpoint's key.
    fn name(&self) -> &'static str;

    /// The tables it owns, so that a rebuild can make empty copies of them.
    fn tables(&self) -> &'static [&'static str];

    /// The statements that fold a batch of events (personal data decrypted) into the read model; the runner sends
    /// them in its transaction. Table names must be unqualified: a rebuild runs the same statements with another
    /// schema first on the search path.
    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError>;
}

/// Why a projection step failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// Reading the log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Writing the read model failed.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection.
    #[error("connection pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// An event could not be decoded.
    #[error("event does not decode: {0}")]
    Decode(String),
    /// Another runner advanced the checkpoint meanwhile; this batch was rolled back.
    #[error("projection {0}: checkpoint moved under this runner; batch rolled back")]
    Fenced(&'static str),
    /// Waiting for a position timed out.
    #[error("projection {0} has not reached the position yet")]
    NotCaughtUp(&'static str),
    /// The position is not in the log.
    #[error("position {0} is not in the log")]
    UnknownPosition(i64),
    /// The session holding the projection's lock ended (the database restarted or the connection broke).
    #[error("projection {0}: the session holding its lock ended")]
    LockLost(&'static str),
}

/// Where events come from: the PostgreSQL log, and the keys to decrypt personal data.
#[derive(Clone)]
pub struct Source {
    /// The log.
    pub log: PgEventLog,
    /// People's data keys.
    pub keys: KeyRing,
}

impl Source {
    /// Reads a batch after `cursor` and decrypts its personal data.
    pub async fn read(
        &self,
        cursor: GlobalCursor,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, ProjectionError> {
        let mut events = self.log.read_all(cursor, limit).await?;
        for event in &mut events {
            self.keys
                .decrypt(&mut event.data)
                .await
                .map_err(|e| ProjectionError::Decode(e.to_string()))?;
            self.keys
                .open_client(&mut event.metadata)
                .await
                .map_err(|e| ProjectionError::Decode(e.to_string()))?;
        }
        Ok(events)
    }
}

/// How a runner paces itself.
#[derive(Clone, Debug)]
pub struct RunnerSettings {
    /// Events per transaction.
    pub batch_size: usize,
    /// How often to look for new events when no notification comes.
    pub poll_interval: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            // Measured (docs/benchmarks.md): 500 events a batch caught up at about 30,000 events/s, 2,000 at about
            // 50,000 (fewer commits); more gained nothing. A live tail's batches are as small as what arrived.
            batch_size: 2000,
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// Runs one projection.
pub struct Runner<P: Projection> {
    projection: Arc<P>,
    source: Source,
    pool: Pool,
    lock_config: Config,
    settings: RunnerSettings,
    wake: Arc<Notify>,
    progress: watch::Sender<GlobalCursor>,
}

pub(crate) fn lock_key(name: &str) -> i64 {
    // A stable 63-bit key per projection name (FNV-1a), in a range apart from the migration lock.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("portal-projection:{name}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 1) as i64
}

/// The checkpoint of a projection (START if it never ran).
pub async fn checkpoint(pool: &Pool, name: &str) -> Result<GlobalCursor, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT transaction_id, position FROM projection_checkpoints WHERE name = $1",
            &[&name],
        )
        .await?;
    Ok(row.map_or(GlobalCursor::START, |r| GlobalCursor {
        transaction_id: r.get(0),
        position: r.get(1),
    }))
}

impl<P: Projection> Runner<P> {
    /// A runner for `projection`, woken by `wake` (see [`crate::listener::spawn`]). `lock_config` opens the
    /// connection that holds the leadership lock: a connection of its own, so that the lock dies with the runner.
    pub fn new(
        projection: P,
        source: Source,
        pool: Pool,
        lock_config: Config,
        settings: RunnerSettings,
        wake: Arc<Notify>,
    ) -> Self {
        let (progress, _) = watch::channel(GlobalCursor::START);
        Self {
            projection: Arc::new(projection),
            source,
            pool,
            lock_config,
            settings,
            wake,
            progress,
        }
    }

    /// Follows the checkpoint as batches commit (in this process).
    pub fn progress(&self) -> watch::Receiver<GlobalCursor> {
        self.progress.subscribe()
    }

    /// Applies at most one batch; returns how many events it applied.
    pub async fn step(&self) -> Result<usize, ProjectionError> {
        let name = self.projection.name();
        let from = checkpoint(&self.pool, name).await?;
        let events = self.source.read(from, self.settings.batch_size).await?;
        let Some(last) = events.last().map(RecordedEvent::cursor) else {
            return Ok(0);
        };
        let mut writes = Writes::new();
        self.projection.apply(&mut writes, &events)?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        writes.send(&tx).await?;
        let moved = tx
            .execute(
                "INSERT INTO projection_checkpoints AS c (name, transaction_id, position) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET transaction_id = $2, position = $3, updated_at = now()
                 WHERE c.transaction_id = $4 AND c.position = $5",
                &[&name, &last.transaction_id, &last.position, &from.transaction_id, &from.position],
            )
            .await?;
        if moved != 1 {
            return Err(ProjectionError::Fenced(name));
        }
        tx.commit().await?;
        self.progress.send_replace(last);
        Ok(events.len())
    }

    /// Runs until `stop` turns true: waits to become the active runner, catches up, then tails the log. When the
    /// database goes away the runner keeps trying; once it is back the runner takes its lock again (another
    /// process may have become active meanwhile) and goes on from the checkpoint.
    pub async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        while !*stop.borrow() {
            match self.run_while_locked(&mut stop).await {
                Ok(()) => {}
                Err(error) => {
                    tracing::warn!(projection = name, %error, "projection runner lost the database; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(self.settings.poll_interval.max(Duration::from_millis(500))) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes the projection's lock on a session of its own, then applies batches while that session lives.
    /// Returns Ok when stopped, an error when the lock's session could not be had or was lost.
    async fn run_while_locked(
        &self,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), ProjectionError> {
        let name = self.projection.name();
        let (lock, connection) = self.lock_config.connect(NoTls).await?;
        let lock_session = tokio::spawn(connection);
        lock.execute(
            "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
            &[&name],
        )
        .await?;
        loop {
            let acquired: bool = lock
                .query_one("SELECT pg_try_advisory_lock($1)", &[&lock_key(name)])
                .await?
                .get(0);
            if acquired {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = stop.changed() => return Ok(()),
            }
        }
        tracing::info!(projection = name, "projection runner active");
        while !*stop.borrow() {
            if lock.is_closed() {
                // The lock went with its session: another runner may be active now, so take it again first.
                lock_session.abort();
                return Err(ProjectionError::LockLost(name));
            }
            // Register interest before reading, so a commit between the read and the wait is not missed.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step().await {
                Ok(0) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep(self.settings.poll_interval) => {}
                        _ = stop.changed() => {}
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(projection = name, %error, "projection batch failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(self.settings.poll_interval) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
        // Closing the session releases the lock, so a standby takes over at once.
        drop(lock);
        let _ = lock_session.await;
        Ok(())
    }
}

/// Builds the projection afresh from position 0 into `schema` (created with empty copies of its tables), without
/// touching the live tables; returns the number of events applied.
pub async fn rebuild_into<P: Projection>(
    projection: &P,
    source: &Source,
    pool: &Pool,
    schema: &str,
    batch_size: usize,
) -> Result<usize, ProjectionError> {
    Ok(build_into(projection, source, pool, schema, batch_size)
        .await?
        .0)
}

/// What `rebuild_into` does, also telling where it stopped.
async fn build_into<P: Projection>(
    projection: &P,
    source: &Source,
    pool: &Pool,
    schema: &str,
    batch_size: usize,
) -> Result<(usize, GlobalCursor), ProjectionError> {
    let quoted = portal_commands::db::quote_identifier(schema);
    {
        let client = pool.get().await?;
        client
            .batch_execute(&format!("CREATE SCHEMA {quoted}"))
            .await?;
        for table in projection.tables() {
            client
                .batch_execute(&format!(
                    "CREATE TABLE {quoted}.{table} (LIKE public.{table} INCLUDING ALL)"
                ))
                .await?;
        }
    }
    let mut cursor = GlobalCursor::START;
    let mut applied = 0;
    loop {
        let events = source.read(cursor, batch_size).await?;
        let Some(last) = events.last().map(RecordedEvent::cursor) else {
            break;
        };
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(&format!("SET LOCAL search_path TO {quoted}, public"))
            .await?;
        let mut writes = Writes::new();
        projection.apply(&mut writes, &events)?;
        writes.send(&tx).await?;
        tx.commit().await?;
        cursor = last;
        applied += events.len();
    }
    Ok((applied, cursor))
}

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events applied to the fresh tables.
    pub events: usize,
    /// The checkpoint the projection continues from.
    pub cursor: GlobalCursor,
}

/// How often a switch-over is tried when it loses a deadlock or waits too long for the tables.
const SWITCH_ATTEMPTS: usize = 5;

/// Rebuilds a projection from the log into fresh tables while the live ones keep answering, then switches over at
/// once: in one transaction the live tables are locked (queries wait for a moment, never see them empty), the fresh
/// ones catch up with the last events, take the live tables' place and the checkpoint moves to where they stand.
/// A running projector that applied a batch meanwhile is fenced by the checkpoint and applies it again to the new
/// tables. The analysts' views and grants are made again for the new tables.
pub async fn rebuild<P: Projection>(
    projection: &P,
    source: &Source,
    pool: &Pool,
    batch_size: usize,
) -> Result<Rebuilt, ProjectionError> {
    let name = projection.name();
    let schema = format!("rebuild_{name}_{}", uuid::Uuid::new_v4().simple());
    let (mut applied, mut cursor) =
        build_into(projection, source, pool, &schema, batch_size).await?;
    let quoted = portal_commands::db::quote_identifier(&schema);
    let retired = portal_commands::db::quote_identifier(&format!("retired_{schema}"));
    let tables = projection
        .tables()
        .iter()
        .map(|t| format!("public.{t}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let switched: Result<(usize, GlobalCursor), ProjectionError> = async {
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = '5s';
                 LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE"
            ))
            .await?;
            tx.execute(
                "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                &[&name],
            )
            .await?;
            tx.query(
                "SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE",
                &[&name],
            )
            .await?;
            tx.batch_execute(&format!("SET LOCAL search_path TO {quoted}, public"))
                .await?;
            let (mut more, mut at) = (0, cursor);
            loop {
                let events = source.read(at, batch_size).await?;
                let Some(last) = events.last().map(RecordedEvent::cursor) else {
                    break;
                };
                let mut writes = Writes::new();
                projection.apply(&mut writes, &events)?;
                writes.send(&tx).await?;
                more += events.len();
                at = last;
            }
            tx.batch_execute("SET LOCAL search_path TO DEFAULT").await?;
            let mut swap = format!("CREATE SCHEMA {retired};");
            for table in projection.tables() {
                swap.push_str(&format!(
                    "ALTER TABLE public.{table} SET SCHEMA {retired};
                     ALTER TABLE {quoted}.{table} SET SCHEMA public;"
                ));
            }
            tx.batch_execute(&swap).await?;
            tx.execute(
                "UPDATE projection_checkpoints SET transaction_id = $2, position = $3, updated_at = now()
                 WHERE name = $1",
                &[&name, &at.transaction_id, &at.position],
            )
            .await?;
            tx.batch_execute(&format!(
                "SELECT portal_analytics_views();
                 SELECT portal_grant_analyst();
                 SELECT portal_grant_app();
                 DROP SCHEMA {retired} CASCADE;
                 DROP SCHEMA {quoted};"
            ))
            .await?;
            Ok((more, at))
        }
        .await;
        match switched {
            Ok((more, at)) => {
                if let Err(error) = tx.commit().await {
                    let _ = pool
                        .get()
                        .await?
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"))
                        .await;
                    return Err(error.into());
                }
                applied += more;
                cursor = at;
                tracing::info!(
                    projection = name,
                    events = applied,
                    "projection rebuilt and switched over"
                );
                return Ok(Rebuilt {
                    events: applied,
                    cursor,
                });
            }
            Err(ProjectionError::Database(error))
                if attempt < SWITCH_ATTEMPTS
                    && error.code().is_some_and(|c| {
                        *c == tokio_postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                            || *c == tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE
                    }) =>
            {
                drop(tx);
                tracing::warn!(projection = name, %error, "switch-over lost a lock; trying again");
            }
            Err(error) => {
                drop(tx);
                let _ = pool
                    .get()
                    .await?
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"))
                    .await;
                return Err(error);
            }
        }
    }
}

/// Waits until `projection` has applied the event at `position` (read-your-writes), up to `timeout`.
pub async fn wait_for(
    pool: &Pool,
    projection: &'static str,
    position: i64,
    timeout: Duration,
) -> Result<(), ProjectionError> {
    let target = {
        let client = pool.get().await?;
        let row = client
            .query_opt(
                "SELECT transaction_id::text::bigint FROM events WHERE position = $1",
                &[&position],
            )
            .await?;
        let row = row.ok_or(ProjectionError::UnknownPosition(position))?;
        GlobalCursor {
            transaction_id: row.get(0),
            position,
        }
    };
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if checkpoint(pool, projection).await? >= target {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ProjectionError::NotCaughtUp(projection));
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}
