//! When each session was last used, for the idle timeout.
//!
//! Recording every request as an event would flood the log, so this is operational state beside it: one row per
//! session, rewritten at most every 30 seconds. A missing row means "not used since it started".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_domain::SessionId;

use crate::log::LogError;

/// How stale the recorded time may get before a use rewrites it.
const TOUCH_EVERY_SECONDS: i64 = 30;

/// True when a use at `now` must be recorded: none is, or the last is at least `TOUCH_EVERY_SECONDS` old.
pub fn touch_due(last_seen: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_seen.is_none_or(|seen| seen < now - chrono::Duration::seconds(TOUCH_EVERY_SECONDS))
}

/// Where last-use times are kept.
#[derive(Clone)]
pub enum SessionActivity {
    /// The `session_activity` table.
    Postgres(Pool),
    /// In memory (tests, the in-memory log).
    Memory(Arc<Mutex<HashMap<SessionId, DateTime<Utc>>>>),
}

impl SessionActivity {
    /// In memory.
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// When the session was last used, if recorded.
    pub async fn last_seen(&self, session: SessionId) -> Result<Option<DateTime<Utc>>, LogError> {
        match self {
            Self::Postgres(pool) => {
                let client = pool.get().await?;
                let statement = client
                    .prepare_cached(
                        "SELECT last_seen_at FROM session_activity WHERE session_id = $1",
                    )
                    .await?;
                Ok(client
                    .query_opt(&statement, &[&session.0])
                    .await?
                    .map(|row| row.get(0)))
            }
            Self::Memory(map) => Ok(map
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&session)
                .copied()),
        }
    }

    /// Records a use at `at` (skipped when the recorded one is less than 30 seconds older).
    pub async fn touch(&self, session: SessionId, at: DateTime<Utc>) -> Result<(), LogError> {
        match self {
            Self::Postgres(pool) => {
                let client = pool.get().await?;
                let statement = client
                    .prepare_cached(
                        "INSERT INTO session_activity AS a (session_id, last_seen_at) VALUES ($1, $2)
                         ON CONFLICT (session_id) DO UPDATE SET last_seen_at = excluded.last_seen_at
                         WHERE a.last_seen_at < excluded.last_seen_at - make_interval(secs => $3)",
                    )
                    .await?;
                client
                    .execute(
                        &statement,
                        &[&session.0, &at, &(TOUCH_EVERY_SECONDS as f64)],
                    )
                    .await?;
                Ok(())
            }
            Self::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.entry(session).or_insert(at);
                if *entry < at - chrono::Duration::seconds(TOUCH_EVERY_SECONDS) {
                    *entry = at;
                }
                Ok(())
            }
        }
    }
}
