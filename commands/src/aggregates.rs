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

/// States cached at most; the cache is emptied when it is full (loads then read whole streams once more).
pub const CAPACITY: usize = 10_000;

struct Entry {
    version: u64,
    state: Arc<dyn Any + Send + Sync>,
    loaded_at: Instant,
}

/// Folded states by stream, shared by clones.
#[derive(Clone, Default)]
pub struct AggregateCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// When false, nothing is kept (every load reads the whole stream).
    disabled: bool,
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
        let entry = entries.get(stream)?;
        if entry.loaded_at.elapsed() > MAX_AGE {
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
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let loaded_at = match (fresh, entries.get(stream)) {
            (Some(at), _) => at,
            (None, Some(entry)) => entry.loaded_at,
            (None, None) => return,
        };
        if entries.len() >= CAPACITY && !entries.contains_key(stream) {
            entries.clear();
        }
        entries.insert(
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
            .clear();
    }

    /// States cached now.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
