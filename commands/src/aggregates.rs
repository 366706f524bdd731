//! Aggregates cached in memory, so that loading one costs the events it has not seen, not its whole stream.
//!
//! A cached state is never trusted alone: every load reads the stream's events after the cached version (one index
//! probe when there are none) and folds them in, so a write by another process is never missed, and an append
//! still checks the version in the database. What the cache saves is re-reading, decrypting and folding a long
//! stream's history at every command.
//!
//! States hold decrypted personal data. An erasure in this process empties the cache at once; entries older than
//! [`MAX_AGE`] are loaded afresh, which bounds how long another process's cache can hold erased data (the same
//! bound as the key cache's).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a cached state is used before the stream is read afresh.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// States cached at most. States older than [`MAX_AGE`] are dropped every [`MAX_AGE`], so the cache holds about the
/// streams used in the last minute; only a burst of more fresh streams than this empties it.
pub const CAPACITY: usize = 10_000;

struct Entry {
    version: u64,
    state: Arc<dyn Any + Send + Sync>,
    loaded_at: Instant,
}

#[derive(Default)]
struct Entries {
    by_stream: HashMap<String, Entry>,
    pruned_at: Option<Instant>,
}

/// Folded states by stream, shared by clones.
#[derive(Clone)]
pub struct AggregateCache {
    entries: Arc<Mutex<Entries>>,
    /// When false, nothing is kept (every load reads the whole stream).
    disabled: bool,
    /// How long a state is used ([`MAX_AGE`]; shorter in tests).
    max_age: Duration,
}

impl Default for AggregateCache {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
            disabled: false,
            max_age: MAX_AGE,
        }
    }
}

impl AggregateCache {
    /// A cache that keeps nothing: every load reads the whole stream.
    pub fn disabled() -> Self {
        Self {
            disabled: true,
            ..Self::default()
        }
    }

    /// The cached state of `stream` and its version, if fresh.
    pub fn get<S: Clone + Send + Sync + 'static>(&self, stream: &str) -> Option<(S, u64)> {
        if self.disabled {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.by_stream.get(stream)?;
        if entry.loaded_at.elapsed() > self.max_age {
            return None;
        }
        let state = entry.state.downcast_ref::<S>()?;
        Some((state.clone(), entry.version))
    }

    /// Keeps `state` at `version` for `stream`; `fresh` is when its whole history was last read (a state updated
    /// from the cache keeps the time of the read it started from).
    pub fn put<S: Clone + Send + Sync + 'static>(
        &self,
        stream: &str,
        state: &S,
        version: u64,
        fresh: Option<Instant>,
    ) {
        if self.disabled || version == 0 {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = &mut *guard;
        let loaded_at = match (fresh, entries.by_stream.get(stream)) {
            (Some(at), _) => at,
            (None, Some(entry)) => entry.loaded_at,
            (None, None) => return,
        };
        // Stale states serve no one (a load reads the stream afresh): without this they would pile up to CAPACITY.
        let max_age = self.max_age;
        if entries.pruned_at.is_none_or(|at| at.elapsed() > max_age) {
            entries
                .by_stream
                .retain(|_, entry| entry.loaded_at.elapsed() <= max_age);
            entries.pruned_at = Some(Instant::now());
        }
        if entries.by_stream.len() >= CAPACITY && !entries.by_stream.contains_key(stream) {
            entries.by_stream.clear();
        }
        entries.by_stream.insert(
            stream.to_owned(),
            Entry {
                version,
                state: Arc::new(state.clone()),
                loaded_at,
            },
        );
    }

    /// Forgets every state (after an erasure: they may hold the erased person's data).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_stream
            .clear();
    }

    /// States cached now.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_stream
            .len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_states_are_dropped_instead_of_piling_up() {
        let cache = AggregateCache {
            max_age: Duration::from_millis(50),
            ..AggregateCache::default()
        };
        for n in 0..100 {
            cache.put(&format!("account-{n}"), &n, 1, Some(Instant::now()));
        }
        assert_eq!(cache.len(), 100);
        std::thread::sleep(Duration::from_millis(120));
        cache.put("account-new", &0, 1, Some(Instant::now()));
        assert_eq!(cache.len(), 1, "only the fresh state is kept");
        assert_eq!(cache.get::<i32>("account-new"), Some((0, 1)));
    }
}
