//! The in-memory log: one mutex around everything, so every commit is atomic and commits in position order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use uuid::Uuid;

use super::{
    check_expected, AppendError, Commit, Committed, EventLog, GlobalCursor, LogError,
    OutboxMessage, RecordedCommand, RecordedEvent, StreamId,
};

#[derive(Default)]
struct State {
    events: Vec<RecordedEvent>,
    streams: HashMap<StreamId, Vec<usize>>,
    claims: HashMap<(Uuid, String, Vec<u8>), StreamId>,
    commands: HashMap<Uuid, RecordedCommand>,
    outbox: Vec<OutboxMessage>,
    transactions: i64,
}

/// An event log held in memory, for tests and experiments. Nothing survives the process.
#[derive(Clone, Default)]
pub struct MemoryEventLog {
    state: Arc<Mutex<State>>,
}

impl MemoryEventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied commit: state changes only after all checks.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Messages written to the outbox so far.
    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.lock().outbox.clone()
    }
}

impl EventLog for MemoryEventLog {
    async fn append(&self, commit: Commit) -> Result<Committed, AppendError> {
        if commit.writes.iter().all(|w| w.events.is_empty()) && commit.outbox.is_empty() {
            return Err(AppendError::Empty);
        }
        let mut state = self.lock();
        if let Some(record) = &commit.command {
            if let Some(existing) = state.commands.get(&record.command_id) {
                return if existing.record.fingerprint == record.fingerprint {
                    Ok(Committed {
                        last_position: existing.last_position,
                        versions: vec![],
                        outcome: Some(existing.record.outcome.clone()),
                        replayed: true,
                    })
                } else {
                    Err(AppendError::CommandIdReused(record.command_id))
                };
            }
        }
        for claim in &commit.claims {
            if let Some(owner) =
                state
                    .claims
                    .get(&(claim.scope, claim.kind.clone(), claim.key.clone()))
            {
                if owner != &claim.owner {
                    return Err(AppendError::ClaimTaken {
                        kind: claim.kind.clone(),
                        owner: owner.clone(),
                    });
                }
            }
        }
        for write in &commit.writes {
            let actual = state
                .streams
                .get(&write.stream)
                .map(|indexes| indexes.len() as u64);
            check_expected(&write.stream, write.expected, actual)?;
        }

        state.transactions += 1;
        let transaction_id = state.transactions;
        let now = Utc::now();
        let mut versions = Vec::new();
        for write in &commit.writes {
            let mut version = state
                .streams
                .get(&write.stream)
                .map_or(0, |indexes| indexes.len() as u64);
            for event in &write.events {
                version += 1;
                let position = state.events.len() as i64 + 1;
                state.events.push(RecordedEvent {
                    position,
                    transaction_id,
                    tenant: commit.tenant,
                    stream: write.stream.clone(),
                    stream_version: version,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    data: event.data.clone(),
                    metadata: commit.metadata.clone(),
                    recorded_at: now,
                });
                let index = state.events.len() - 1;
                state
                    .streams
                    .entry(write.stream.clone())
                    .or_default()
                    .push(index);
            }
            versions.push((write.stream.clone(), version));
        }
        let last_position = state.events.len() as i64;
        for release in &commit.releases {
            let key = (release.scope, release.kind.clone(), release.key.clone());
            if state.claims.get(&key) == Some(&release.owner) {
                state.claims.remove(&key);
            }
        }
        for claim in &commit.claims {
            state.claims.insert(
                (claim.scope, claim.kind.clone(), claim.key.clone()),
                claim.owner.clone(),
            );
        }
        if let Some(record) = &commit.command {
            state.commands.insert(
                record.command_id,
                RecordedCommand {
                    record: record.clone(),
                    last_position,
                },
            );
        }
        state.outbox.extend(commit.outbox.iter().cloned());
        state.outbox.retain(|m| !commit.withdraw.contains(&m.id));
        state
            .outbox
            .retain(|m| !commit.scrub_recipients.contains(&m.recipient));
        Ok(Committed {
            last_position,
            versions,
            outcome: None,
            replayed: false,
        })
    }

    async fn read_stream(&self, stream: &StreamId) -> Result<Vec<RecordedEvent>, LogError> {
        let state = self.lock();
        Ok(state
            .streams
            .get(stream)
            .map(|indexes| indexes.iter().map(|&i| state.events[i].clone()).collect())
            .unwrap_or_default())
    }

    async fn read_stream_after(
        &self,
        stream: &StreamId,
        after: u64,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let state = self.lock();
        Ok(state
            .streams
            .get(stream)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&i| &state.events[i])
                    .filter(|e| e.stream_version > after)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn read_all(
        &self,
        after: GlobalCursor,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        let state = self.lock();
        Ok(state
            .events
            .iter()
            .filter(|event| event.cursor() > after)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn find_claim(
        &self,
        scope: Uuid,
        kind: &str,
        key: &[u8],
    ) -> Result<Option<StreamId>, LogError> {
        Ok(self
            .lock()
            .claims
            .get(&(scope, kind.to_owned(), key.to_vec()))
            .cloned())
    }

    async fn find_command(&self, command_id: Uuid) -> Result<Option<RecordedCommand>, LogError> {
        Ok(self.lock().commands.get(&command_id).cloned())
    }
}
