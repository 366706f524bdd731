//! `portal projections status`: where each projection stands and how far behind the log it is.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;

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
    /// When its checkpoint last moved.
    pub updated_at: DateTime<Utc>,
}

/// Every projection that has run on this database, with the log's head position.
pub async fn status(pool: &Pool) -> Result<(i64, Vec<ProjectionStatus>), ProjectionError> {
    let client = pool.get().await?;
    let head: i64 = client
        .query_one("SELECT coalesce(max(position), 0) FROM events", &[])
        .await?
        .get(0);
    let rows = client
        .query(
            "SELECT c.name, c.position, c.updated_at,
                    (SELECT count(*) FROM events e
                      WHERE (e.transaction_id, e.position) > (c.transaction_id::text::xid8, c.position))
             FROM projection_checkpoints c ORDER BY c.name",
            &[],
        )
        .await?;
    Ok((
        head,
        rows.iter()
            .map(|r| ProjectionStatus {
                name: r.get(0),
                position: r.get(1),
                updated_at: r.get(2),
                lag_events: r.get(3),
            })
            .collect(),
    ))
}
