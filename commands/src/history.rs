//! What auditors read: a stream's events as they were written, and an account as it stood at a past moment,
//! replayed from the log (never read from a projection).

use chrono::{DateTime, Utc};
use portal_domain::account::{Account, AccountEvent, AccountState};
use portal_domain::Decider;
use uuid::Uuid;

use crate::log::{EventLog, PgEventLog, RecordedEvent, StreamId};
use crate::store::{decode, LoadError, Store};

/// Where a replay stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cutoff {
    /// Events recorded at or before this time.
    At(DateTime<Utc>),
    /// Events at or before this log position.
    Position(i64),
}

impl Cutoff {
    /// Whether the event was in the log at the cutoff.
    pub fn includes(&self, event: &RecordedEvent) -> bool {
        match self {
            Cutoff::At(at) => event.recorded_at <= *at,
            Cutoff::Position(position) => event.position <= *position,
        }
    }
}

/// A stream's event as an auditor sees it: personal data decrypted (`{"$pii": ...}`), or `{"$erased": true}`.
#[derive(Clone, Debug)]
pub struct HistoryEvent {
    /// The event.
    pub event: RecordedEvent,
    /// Its chained hash (see `log::integrity`).
    pub hash: Vec<u8>,
}

/// Up to `limit` events of one organization's stream after `after_version`, decrypted.
pub async fn stream_page(
    store: &Store<PgEventLog>,
    tenant: Uuid,
    stream: &StreamId,
    after_version: u64,
    limit: usize,
) -> Result<Vec<HistoryEvent>, LoadError> {
    let page = store
        .log
        .read_stream_page(tenant, stream, after_version, limit)
        .await?;
    let mut events = Vec::with_capacity(page.len());
    for (mut event, hash) in page {
        store.decrypt(&mut event).await?;
        events.push(HistoryEvent { event, hash });
    }
    Ok(events)
}

/// The stream's events up to the cutoff, decrypted, of this organization only.
pub async fn replay<L: EventLog>(
    store: &Store<L>,
    tenant: Uuid,
    stream: &StreamId,
    cutoff: Cutoff,
) -> Result<Vec<RecordedEvent>, LoadError> {
    let mut events = Vec::new();
    for mut event in store.log.read_stream(stream).await? {
        if event.tenant != tenant || !cutoff.includes(&event) {
            continue;
        }
        store.decrypt(&mut event).await?;
        events.push(event);
    }
    Ok(events)
}

/// An account as it stood at the cutoff.
#[derive(Clone, Debug)]
pub struct AccountAsOf {
    /// The state folded from the events up to the cutoff.
    pub state: AccountState,
    /// How many events that was (the stream's version then).
    pub version: u64,
    /// The position of the last of them.
    pub position: Option<i64>,
    /// When the account registered (its first event).
    pub registered_at: Option<DateTime<Utc>>,
    /// When it was activated.
    pub activated_at: Option<DateTime<Utc>>,
}

/// Replays an account's stream up to the cutoff.
pub async fn account_as_of<L: EventLog>(
    store: &Store<L>,
    tenant: Uuid,
    account: Uuid,
    cutoff: Cutoff,
) -> Result<AccountAsOf, LoadError> {
    let events = replay(
        store,
        tenant,
        &StreamId::new(Account::CATEGORY, account),
        cutoff,
    )
    .await?;
    let mut state = AccountState::default();
    let mut activated_at = None;
    let mut registered_at = None;
    for recorded in &events {
        let event = decode::<AccountEvent>(recorded)?;
        match &event {
            AccountEvent::AccountRegistered(e) => registered_at = Some(e.registered_at),
            AccountEvent::AccountActivated(e) => activated_at = Some(e.activated_at),
            _ => {}
        }
        state = Account::evolve(state, &event);
    }
    Ok(AccountAsOf {
        state,
        version: events.last().map_or(0, |e| e.stream_version),
        position: events.last().map(|e| e.position),
        registered_at,
        activated_at,
    })
}
