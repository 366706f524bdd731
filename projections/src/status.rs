//! `portal projections status`: where each projection stands, how far behind the log it is in events and in
//! seconds, and which process runs it.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

use crate::runner::lock_key;
use crate::ProjectionError;

/// One projection's standing.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionStatus {
    /// Its name.
    pub name: String,
    /// The position of the last event it applied.
    pub position: i64,
    /// Events in the log after its checkpoint.
    pub lag_events: i64,
    /// How long the oldest event it has not applied has waited (0 when caught up).
    pub lag_seconds: f64,
    /// When its checkpoint last moved.
    pub updated_at: DateTime<Utc>,
    /// `running` (a process holds its runner's lock) or `stopped`.
    pub state: String,
    /// The process running it: `<application name> pid <backend pid>@<client address>`.
    pub runner: Option<String>,
}

/// How far one projection is behind the log.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionLag {
    /// Its name.
    pub name: String,
    /// The position of the last event it applied.
    pub position: i64,
    /// When its checkpoint last moved.
    pub updated_at: DateTime<Utc>,
    /// Events in the log after its checkpoint.
    pub lag_events: i64,
    /// How long the oldest event it has not applied has waited (0 when caught up).
    pub lag_seconds: f64,
}

/// The log's head position and every projection's lag, in two queries on `client` (what metrics need; `status`
/// adds who runs each).
pub async fn lags(
    client: &tokio_postgres::Client,
) -> Result<(i64, Vec<ProjectionLag>), ProjectionError> {
    let head: i64 = client
        .query_one("SELECT coalesce(max(position), 0) FROM events", &[])
        .await?
        .get(0);
    let rows = client
        .query(
            "SELECT c.name, c.position, c.updated_at, behind.events,
                    coalesce(extract(epoch FROM now() - behind.oldest), 0)::float8
             FROM projection_checkpoints c,
                  LATERAL (SELECT count(*) AS events, min(e.recorded_at) AS oldest FROM events e
                           WHERE (e.transaction_id, e.position) > (c.transaction_id::text::xid8, c.position)) behind
             ORDER BY c.name",
            &[],
        )
        .await?;
    let lags = rows
        .iter()
        .map(|r| ProjectionLag {
            name: r.get(0),
            position: r.get(1),
            updated_at: r.get(2),
            lag_events: r.get(3),
            lag_seconds: r.get(4),
        })
        .collect();
    Ok((head, lags))
}

/// Every projection that has run on this database, with the log's head position.
pub async fn status(pool: &Pool) -> Result<(i64, Vec<ProjectionStatus>), ProjectionError> {
    let client = pool.get().await?;
    let (head, lags) = lags(&client).await?;
    let mut statuses = Vec::with_capacity(lags.len());
    for lag in lags {
        let key = lock_key(&lag.name);
        // A bigint advisory lock shows in pg_locks as its high and low 32 bits.
        let holder = client
            .query_opt(
                "SELECT coalesce(nullif(a.application_name, ''), 'portal') || ' pid ' || a.pid
                        || coalesce('@' || host(a.client_addr), '')
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND l.classid::bigint = $1 AND l.objid::bigint = $2",
                &[&(key >> 32), &(key & 0xffff_ffff)],
            )
            .await?
            .map(|row| row.get::<_, String>(0));
        statuses.push(ProjectionStatus {
            name: lag.name,
            position: lag.position,
            updated_at: lag.updated_at,
            lag_events: lag.lag_events,
            lag_seconds: lag.lag_seconds,
            state: if holder.is_some() {
                "running".to_owned()
            } else {
                "stopped".to_owned()
            },
            runner: holder,
        });
    }
    Ok((head, statuses))
}
