//! Everything a command handler needs, in one value: the log, the data keys, the derived secrets, the hasher.

use std::sync::Arc;

use portal_domain::account::Account;
use portal_domain::{Decider, DomainEvent};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::aggregates::AggregateCache;
use crate::credentials::PasswordHasher;
use crate::log::{AppendError, Commit, Committed, EventData, EventLog, RecordedEvent, StreamId};
use crate::personal_data::{CryptoError, KeyRing};
use crate::secrets::Secrets;

/// Why stored events could not be turned back into domain events, or domain events into stored ones.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Personal data could not be encrypted or decrypted.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The stored shape does not match the event type.
    #[error("event {event_type} at position {position} does not deserialize: {reason}")]
    Shape {
        /// The stored type.
        event_type: String,
        /// Where.
        position: i64,
        /// What serde said.
        reason: String,
    },
    /// A stored schema version is unknown.
    #[error(transparent)]
    Upcast(#[from] portal_domain::UpcastError),
}

/// The write side's dependencies.
#[derive(Clone)]
pub struct Store<L: EventLog> {
    /// The event log.
    pub log: L,
    /// People's data keys.
    pub keys: KeyRing,
    /// Keys derived from the master key.
    pub secrets: Secrets,
    /// Password hashing.
    pub passwords: Arc<PasswordHasher>,
    /// When sessions were last used (idle timeout).
    pub activity: crate::session_activity::SessionActivity,
    /// The public address of the portal's web front end, for links in e-mails (no trailing slash).
    pub public_url: String,
    /// Folded aggregates, so that a long stream is not read whole at every command.
    pub aggregates: AggregateCache,
}

impl<L: EventLog> Store<L> {
    /// Encodes domain events for the log, encrypting personal data under `subject`'s key.
    pub async fn encode<E: DomainEvent>(
        &self,
        subject: Option<Uuid>,
        events: &[E],
    ) -> Result<Vec<EventData>, CodecError> {
        let mut encoded = Vec::with_capacity(events.len());
        for event in events {
            let tagged = serde_json::to_value(event).map_err(|e| CodecError::Shape {
                event_type: event.event_type().to_owned(),
                position: 0,
                reason: e.to_string(),
            })?;
            let mut data = tagged.get("data").cloned().unwrap_or(Value::Null);
            self.keys.encrypt(subject, &mut data).await?;
            encoded.push(EventData {
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                data,
            });
        }
        Ok(encoded)
    }

    /// Decrypts a recorded event's personal data in place (erased values become `{"$erased": true}`), and its
    /// client details.
    pub async fn decrypt(&self, event: &mut RecordedEvent) -> Result<(), CodecError> {
        self.keys.decrypt(&mut event.data).await?;
        Ok(self.keys.open_client(&mut event.metadata).await?)
    }

    /// Appends a commit, its client address and user agent encrypted with the key of the person it is about: the
    /// acting account, or else the account whose stream it writes (a registration, a sign-in). A commit about no
    /// person (portal itself, an SMS provider) keeps them in clear.
    pub async fn append(&self, mut commit: Commit) -> Result<Committed, AppendError> {
        let actor = commit
            .metadata
            .actor
            .as_deref()
            .and_then(|a| a.strip_prefix("account:"))
            .and_then(|id| Uuid::parse_str(id).ok());
        let subject = actor.or_else(|| {
            commit
                .writes
                .iter()
                .find(|w| w.stream.category() == Account::CATEGORY)
                .and_then(|w| w.stream.id())
        });
        if let Some(subject) = subject {
            self.keys
                .seal_client(subject, &mut commit.metadata)
                .await
                .map_err(|e| AppendError::Seal(e.to_string()))?;
        }
        for message in &mut commit.outbox {
            crate::outbox::seal(&self.secrets, message);
        }
        let erases = !commit.erase.is_empty();
        let started = std::time::Instant::now();
        let committed = self.log.append(commit).await;
        crate::metrics::observe_append(
            &committed,
            committed.as_ref().is_ok_and(|c| c.replayed),
            started.elapsed(),
        );
        if erases {
            // Cached states may hold the erased people's data, decrypted.
            self.aggregates.clear();
        }
        committed
    }

    /// Loads a stream and folds it: the state and the stream's version.
    pub async fn load<D: Decider>(&self, stream: &StreamId) -> Result<(D::State, u64), LoadError> {
        let (mut state, mut version, fresh, recorded) =
            match self.aggregates.get::<D::State>(stream.as_str()) {
                Some((state, version)) => {
                    let recorded = self.log.read_stream_after(stream, version).await?;
                    (state, version, None, recorded)
                }
                None => {
                    let read_at = std::time::Instant::now();
                    let recorded = self.log.read_stream(stream).await?;
                    (D::State::default(), 0, Some(read_at), recorded)
                }
            };
        let unchanged = recorded.is_empty() && fresh.is_none();
        for mut event in recorded {
            version = event.stream_version;
            self.decrypt(&mut event).await?;
            let event = decode::<D::Event>(&event)?;
            state = D::evolve(state, &event);
        }
        if !unchanged {
            self.aggregates.put(stream.as_str(), &state, version, fresh);
        }
        Ok((state, version))
    }
}

/// Why a stream could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Storage failed.
    #[error(transparent)]
    Log(#[from] crate::log::LogError),
    /// A stored event does not decode.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// Turns a recorded (already decrypted) event into its domain type, upcasting older schema versions.
pub fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<E, CodecError> {
    let data = E::upcast(&event.event_type, event.schema_version, event.data.clone())?;
    serde_json::from_value(json!({ "type": event.event_type, "data": data })).map_err(|e| {
        CodecError::Shape {
            event_type: event.event_type.clone(),
            position: event.position,
            reason: e.to_string(),
        }
    })
}
