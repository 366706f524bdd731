//! What auditors read: a stream's events as they were written, and an account as it stood at a past moment,
//! replayed from the log (never read from a projection).

use chrono::{DateTime, Utc};
use portal_domain::account::{Account, AccountEvent, AccountState};
use portal_domain::care::{
    billing::{BillingAccount, Statement},
    care_team::CareTeam,
    conversation::Conversation,
    medication::Medication,
    proxy::ProxyAccess,
    test_result::TestResult,
};
use portal_domain::secret::{is_redacted, redacted};
use portal_domain::{
    activity::Activity, appointment::Appointment, attendance::Attendance, catalogue::Catalogue,
    organization::Organization, patient::Patient, series::Series, session::Session,
    signup_request::SignUpRequest, slot::Slot, waitlist::WaitList, Decider,
};
use serde_json::Value;
use uuid::Uuid;

use crate::log::{EventLog, PgEventLog, RecordedEvent, StreamId};
use crate::store::{decode, CodecError, LoadError, Store};

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

/// A stream's event as an auditor sees it: personal data decrypted (`{"$pii": ...}`), or `{"$erased": true}`, and
/// every secret `{"$secret": true}`.
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
        event.data = redact(&event)?;
        events.push(HistoryEvent { event, hash });
    }
    Ok(events)
}

/// An event's (decrypted) data as every reader outside the write side sees it: as it was written, with each secret
/// replaced by `{"$secret": true}`.
///
/// The types say what is secret (`portal_domain::secret`), so the event is decoded into its domain type and
/// serialized redacted; the places of the markers are then carried over to the data as written. Should a marker's
/// place not exist in the data as written (an upcaster moved the field), the event is shown in its current shape
/// instead, so a secret never slips through. A stream of a category this code does not know is refused.
pub fn redact(event: &RecordedEvent) -> Result<Value, CodecError> {
    match event.stream.category() {
        Account::CATEGORY => redact_as::<Account>(event),
        Activity::CATEGORY => redact_as::<Activity>(event),
        Appointment::CATEGORY => redact_as::<Appointment>(event),
        Attendance::CATEGORY => redact_as::<Attendance>(event),
        BillingAccount::CATEGORY => redact_as::<BillingAccount>(event),
        CareTeam::CATEGORY => redact_as::<CareTeam>(event),
        Catalogue::CATEGORY => redact_as::<Catalogue>(event),
        Conversation::CATEGORY => redact_as::<Conversation>(event),
        Medication::CATEGORY => redact_as::<Medication>(event),
        Organization::CATEGORY => redact_as::<Organization>(event),
        Patient::CATEGORY => redact_as::<Patient>(event),
        ProxyAccess::CATEGORY => redact_as::<ProxyAccess>(event),
        Series::CATEGORY => redact_as::<Series>(event),
        Session::CATEGORY => redact_as::<Session>(event),
        SignUpRequest::CATEGORY => redact_as::<SignUpRequest>(event),
        Slot::CATEGORY => redact_as::<Slot>(event),
        Statement::CATEGORY => redact_as::<Statement>(event),
        TestResult::CATEGORY => redact_as::<TestResult>(event),
        WaitList::CATEGORY => redact_as::<WaitList>(event),
        other => Err(CodecError::Shape {
            event_type: event.event_type.clone(),
            position: event.position,
            reason: format!("no event type is known for streams of category `{other}`"),
        }),
    }
}

fn redact_as<D: Decider>(event: &RecordedEvent) -> Result<Value, CodecError> {
    let typed: D::Event = decode(event)?;
    let shape = |e: serde_json::Error| CodecError::Shape {
        event_type: event.event_type.clone(),
        position: event.position,
        reason: e.to_string(),
    };
    let current = redacted(&typed).map_err(shape)?["data"].take();
    let mut written = event.data.clone();
    Ok(if carry_markers(&current, &mut written) {
        written
    } else {
        current
    })
}

/// Puts every secret marker of `from` at the same place in `to`; false when a place does not exist in `to`.
fn carry_markers(from: &Value, to: &mut Value) -> bool {
    if is_redacted(from) {
        *to = from.clone();
        return true;
    }
    match (from, to) {
        (Value::Object(from), Value::Object(to)) => from.iter().all(|(key, inner)| {
            !holds_marker(inner) || to.get_mut(key).is_some_and(|t| carry_markers(inner, t))
        }),
        (Value::Array(from), Value::Array(to)) => {
            from.len() == to.len()
                && from
                    .iter()
                    .zip(to.iter_mut())
                    .all(|(inner, t)| !holds_marker(inner) || carry_markers(inner, t))
        }
        (from, _) => !holds_marker(from),
    }
}

fn holds_marker(value: &Value) -> bool {
    is_redacted(value)
        || match value {
            Value::Object(map) => map.values().any(holds_marker),
            Value::Array(items) => items.iter().any(holds_marker),
            _ => false,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Metadata;
    use serde_json::json;

    fn session_started(data: Value) -> RecordedEvent {
        RecordedEvent {
            position: 7,
            transaction_id: 1,
            tenant: Uuid::nil(),
            stream: StreamId::new(Session::CATEGORY, Uuid::nil()),
            stream_version: 1,
            event_type: "SessionStarted".into(),
            schema_version: 1,
            data,
            metadata: Metadata::default(),
            recorded_at: Utc::now(),
        }
    }

    fn written() -> Value {
        json!({
            "session_id": Uuid::nil(), "account_id": Uuid::nil(), "organization_id": Uuid::nil(),
            "role": "staff", "token_hash": "ab".repeat(32),
            "started_at": "2026-12-05T09:00:00Z", "expires_at": "2026-12-05T21:00:00Z", "idle_minutes": 30
        })
    }

    #[test]
    fn a_token_hash_reads_as_a_secret_and_the_rest_as_written() {
        let shown = redact(&session_started(written())).unwrap();
        let mut expected = written();
        expected["token_hash"] = json!({"$secret": true});
        assert_eq!(shown, expected);
    }

    #[test]
    fn a_secret_whose_place_differs_from_the_written_shape_shows_the_current_shape() {
        let mut to = json!({"old_name": "ab"});
        let from = json!({"token_hash": {"$secret": true}});
        assert!(!carry_markers(&from, &mut to));
        let mut nested = json!({"codes": ["x"]});
        assert!(!carry_markers(
            &json!({"codes": [{"$secret": true}, {"$secret": true}]}),
            &mut nested
        ));
    }

    #[test]
    fn a_stream_of_an_unknown_category_is_refused() {
        let mut event = session_started(written());
        event.stream = StreamId::from_stored(format!("mystery-{}", Uuid::nil()));
        assert!(redact(&event).is_err());
    }
}
