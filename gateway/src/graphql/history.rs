//! Auditors: a stream's events as they were written, and an account or a learner's transcript as they stood at a
//! past time or log position, replayed from the log.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::history::{self, Cutoff};
use portal_commands::log::StreamId;
use portal_domain::account::{AccountState, Role};
use portal_domain::session::Principal;
use portal_domain::Personal;
use portal_projections::transcript;

use super::access_log::audited;
use super::attendance::{entry, TranscriptEntry};
use super::errors::ApiError;
use super::query::{account_id, principal};
use super::types::{AccountStatus, LogPosition, PageInfo, Role as ApiRole};
use crate::access::Whose;
use crate::app::AppState;

/// Largest page of a stream's history.
const MAX_PAGE: i32 = 500;

/// The caller, who must be an auditor.
pub async fn auditor(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let principal = principal(ctx).await?;
    if principal.role == Role::Auditor {
        Ok(principal)
    } else {
        Err(ApiError::forbidden())
    }
}

/// Where to stop a replay: exactly one of the two.
#[derive(InputObject, Clone, Copy)]
pub struct AsOfInput {
    /// Events recorded at or before this time.
    pub at: Option<DateTime<Utc>>,
    /// Events at or before this log position (the position a mutation answered with).
    pub position: Option<LogPosition>,
}

fn cutoff(input: AsOfInput) -> Result<Cutoff, ApiError> {
    match (input.at, input.position) {
        (Some(at), None) => Ok(Cutoff::At(at)),
        (None, Some(position)) => Ok(Cutoff::Position(position.0)),
        _ => Err(ApiError::new(
            "AS_OF_INVALID",
            "give exactly one of `at` (a time) and `position` (a log position)",
        )
        .on("asOf")),
    }
}

/// One event of a stream, as it was written.
#[derive(SimpleObject)]
pub struct HistoryEvent {
    /// The event.
    pub id: ID,
    /// Its position in the whole log.
    pub position: LogPosition,
    /// Its stream.
    pub stream: String,
    /// Its version within the stream, from 1.
    pub version: i64,
    /// What happened (`AccountRegistered`, `CreditAwarded`, ...).
    pub event_type: String,
    /// The schema version of `data`.
    pub schema_version: i32,
    /// When the log recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Who acted: `account:<id>`, `system` or `anonymous`.
    pub actor: Option<String>,
    /// When a proxy acted (the actor): the patient's account they acted for.
    pub on_behalf_of: Option<String>,
    /// The command that caused it.
    pub command: Option<String>,
    /// The command's id (idempotency key).
    pub command_id: Option<String>,
    /// Ties together everything one request caused.
    pub correlation_id: Option<String>,
    /// The event or command that caused it.
    pub causation_id: Option<String>,
    /// The client's address.
    pub client_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The body. Personal fields read `{"$pii": value}`, or `{"$erased": true}` once the person was erased.
    pub data: Json<serde_json::Value>,
    /// The event's hash, chained to the previous event of its stream (hex).
    pub hash: String,
}

/// An edge of a stream's history.
#[derive(SimpleObject)]
pub struct HistoryEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The event.
    pub node: HistoryEvent,
}

/// A page of a stream's history, oldest first.
#[derive(SimpleObject)]
pub struct HistoryConnection {
    /// The events.
    pub edges: Vec<HistoryEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// An account as it stood at a past moment.
#[derive(SimpleObject)]
pub struct AccountAsOf {
    /// The account at that moment (of one account and stream version; the account's own id is `accountId`).
    pub id: ID,
    /// The account.
    pub account_id: ID,
    /// What it may do.
    pub role: ApiRole,
    /// Where it was in its lifecycle.
    pub status: AccountStatus,
    /// Courtesy title.
    pub title: Option<String>,
    /// Given name (null once erased).
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name (null once erased).
    pub last_name: Option<String>,
    /// Sign-in address (null once erased).
    pub email: Option<String>,
    /// When it registered.
    pub registered_at: Option<DateTime<Utc>>,
    /// When it was activated.
    pub activated_at: Option<DateTime<Utc>>,
    /// Disabled by staff.
    pub disabled: bool,
    /// Two-step verification was on.
    pub two_step_enabled: bool,
    /// The sign-in name (patients).
    pub username: Option<String>,
    /// The version of the organization's terms accepted last.
    pub terms_accepted_version: Option<i32>,
    /// Mobile numbers on file and whether each was verified.
    pub phones: Vec<PhoneAsOf>,
    /// The account's stream version then (how many events).
    pub version: i64,
    /// The position of its last event then.
    pub position: Option<LogPosition>,
}

/// A mobile number on an account at a past moment.
#[derive(SimpleObject)]
pub struct PhoneAsOf {
    /// The number at that moment (of one account, stream version and place in the list).
    pub id: ID,
    /// E.164, or null once erased.
    pub number: Option<String>,
    /// Verified (texts from it count).
    pub verified: bool,
}

fn known<T>(value: &Personal<T>) -> Option<&T> {
    match value {
        Personal::Known(v) => Some(v),
        Personal::Erased => None,
    }
}

fn account_as_of(id: &ID, replayed: history::AccountAsOf) -> Option<AccountAsOf> {
    let (profile, status) = match &replayed.state {
        AccountState::Unregistered => return None,
        AccountState::Pending(p) => (p, AccountStatus::Pending),
        AccountState::Active(p) => (p, AccountStatus::Active),
    };
    let name = known(&profile.name);
    let at =
        |kind: &str, n: usize| super::ids::derived(kind, &[&id.as_str(), &replayed.version, &n]);
    Some(AccountAsOf {
        id: at("AccountAsOf", 0),
        account_id: id.clone(),
        role: match profile.role {
            Role::Learner => ApiRole::Learner,
            Role::Staff => ApiRole::Staff,
            Role::Patient => ApiRole::Patient,
            Role::Auditor => ApiRole::Auditor,
            Role::Provider => ApiRole::Provider,
        },
        status,
        title: name.and_then(|n| n.title.as_ref().map(|t| t.as_str().to_owned())),
        first_name: name.map(|n| n.first.as_str().to_owned()),
        middle_name: name.and_then(|n| n.middle.as_ref().map(|m| m.as_str().to_owned())),
        last_name: name.map(|n| n.last.as_str().to_owned()),
        email: known(&profile.email).map(|e| e.as_str().to_owned()),
        registered_at: replayed.registered_at,
        activated_at: replayed.activated_at,
        disabled: profile.disabled,
        two_step_enabled: profile.two_step.is_some(),
        username: profile
            .username
            .as_ref()
            .and_then(known)
            .map(|u| u.as_str().to_owned()),
        terms_accepted_version: profile.terms_accepted.and_then(|v| i32::try_from(v).ok()),
        phones: profile
            .phones
            .iter()
            .enumerate()
            .map(|(n, p)| PhoneAsOf {
                id: at("PhoneAsOf", n),
                number: known(&p.number).map(|n| n.as_str().to_owned()),
                verified: p.verified,
            })
            .collect(),
        version: replayed.version as i64,
        position: replayed.position.map(LogPosition),
    })
}

/// The patients whose data a page of a stream's history shows: the stream's own subject when it is a patient's
/// (their account, record or request), and every patient an event of the page names.
async fn whose_history(
    state: &AppState,
    tenant: uuid::Uuid,
    stream: &StreamId,
    events: &[history::HistoryEvent],
) -> Result<Vec<Whose>, ApiError> {
    let mut whose = Vec::new();
    if let Some(id) = stream.id() {
        match stream.category() {
            "patient" => whose.push(Whose {
                record: Some(id),
                ..Whose::default()
            }),
            "signuprequest" => whose.push(Whose {
                request: Some(id),
                ..Whose::default()
            }),
            "account" => {
                let client = state
                    .pool
                    .get()
                    .await
                    .map_err(|_| ApiError::unavailable())?;
                let role: Option<String> = client
                    .query_opt(
                        "SELECT data->>'role' FROM events
                         WHERE stream_id = $1 AND tenant_id = $2 AND stream_version = 1",
                        &[&stream.as_str(), &tenant],
                    )
                    .await
                    .map_err(|e| ApiError::internal(&e))?
                    .and_then(|r| r.get(0));
                if role.as_deref() == Some("patient") {
                    whose.push(Whose::account(id));
                }
            }
            // A patient's care streams named by their account.
            "proxy" | "billing" => whose.push(Whose::account(id)),
            // Care streams whose first event names the patient: a later page may not.
            "conversation" | "testresult" | "statement" | "medication" => {
                let client = state
                    .pool
                    .get()
                    .await
                    .map_err(|_| ApiError::unavailable())?;
                let patient: Option<String> = client
                    .query_opt(
                        "SELECT data->>'patient_id' FROM events
                         WHERE stream_id = $1 AND tenant_id = $2 AND stream_version = 1",
                        &[&stream.as_str(), &tenant],
                    )
                    .await
                    .map_err(|e| ApiError::internal(&e))?
                    .and_then(|r| r.get(0));
                if let Some(patient) = patient.and_then(|p| uuid::Uuid::parse_str(&p).ok()) {
                    whose.push(Whose::account(patient));
                }
            }
            _ => {}
        }
    }
    // In appointment and wait-list events `patient_id` is the patient's account (in patient records and requests
    // it is the record, counted above).
    let names_accounts = !matches!(stream.category(), "patient" | "signuprequest");
    for event in events.iter().filter(|_| names_accounts) {
        if let Some(patient) = event
            .event
            .data
            .get("patient_id")
            .and_then(|p| p.as_str())
            .and_then(|p| uuid::Uuid::parse_str(p).ok())
        {
            let patient = Whose::account(patient);
            if !whose.contains(&patient) {
                whose.push(patient);
            }
        }
    }
    Ok(whose)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Auditors' queries.
#[derive(Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// A stream of your organization as it was written, oldest event first (auditors only). Streams are named
    /// `<category>-<id>`: `account-…`, `attendance-…`, `activity-…`, `appointment-…`; `streamsOf` lists a
    /// person's.
    async fn stream_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The stream, `<category>-<uuid>` (for example `account-…`).")]
        stream: String,
        #[graphql(default = 50, desc = "Page size.")] first: i32,
        #[graphql(desc = "Cursor of the last item of the previous page (`pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> Result<HistoryConnection> {
        let principal = auditor(ctx).await?;
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::new(
                "PAGE_SIZE_INVALID",
                format!("first must be between 1 and {MAX_PAGE}"),
            )
            .on("first")
            .into());
        }
        let after_version = match &after {
            None => 0,
            Some(cursor) => cursor.parse::<u64>().map_err(|_| {
                ApiError::new("CURSOR_INVALID", "this is not a cursor of this history").on("after")
            })?,
        };
        let state = ctx.data_unchecked::<AppState>();
        let stream = StreamId::from_stored(stream);
        let mut events = history::stream_page(
            &state.store,
            principal.organization.0,
            &stream,
            after_version,
            first as usize + 1,
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
        let has_next_page = events.len() > first as usize;
        events.truncate(first as usize);
        let whose = whose_history(state, principal.organization.0, &stream, &events).await?;
        audited(ctx, &principal, "history", "streamHistory", &whose).await?;
        let edges: Vec<HistoryEdge> = events
            .into_iter()
            .map(|h| {
                let e = h.event;
                let m = e.metadata;
                HistoryEdge {
                    cursor: e.stream_version.to_string(),
                    node: HistoryEvent {
                        id: super::ids::derived("HistoryEvent", &[&e.position]),
                        position: LogPosition(e.position),
                        stream: e.stream.as_str().to_owned(),
                        version: e.stream_version as i64,
                        event_type: e.event_type,
                        schema_version: i32::from(e.schema_version),
                        recorded_at: e.recorded_at,
                        actor: m.actor,
                        on_behalf_of: m.on_behalf_of.map(|id| id.to_string()),
                        command: m.command,
                        command_id: m.command_id.map(|id| id.to_string()),
                        correlation_id: m.correlation_id.map(|id| id.to_string()),
                        causation_id: m.causation_id.map(|id| id.to_string()),
                        client_ip: m.client_ip,
                        user_agent: m.user_agent,
                        data: Json(e.data),
                        hash: hex(&h.hash),
                    },
                }
            })
            .collect();
        Ok(HistoryConnection {
            page_info: PageInfo::of(&edges, |e| &e.cursor, has_next_page, after.is_some()),
            edges,
        })
    }

    /// The streams about an account of your organization: its own, its attendances, appointments and wait-list
    /// entries, in the order they began (auditors only).
    async fn streams_of(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] account_id: ID,
    ) -> Result<Vec<String>> {
        let principal = auditor(ctx).await?;
        let account = super::query::account_id(&account_id, "accountId")?;
        let state = ctx.data_unchecked::<AppState>();
        let streams = state
            .store
            .log
            .streams_of(principal.organization.0, account)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(streams.into_iter().map(|s| s.as_str().to_owned()).collect())
    }

    /// An account of your organization as it stood at a past time or log position, replayed from its events
    /// (auditors only); null if it did not exist yet.
    async fn account_as_of(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] account_id: ID,
        #[graphql(desc = "Where the replay stops: a time or a log position.")] as_of: AsOfInput,
    ) -> Result<Option<AccountAsOf>> {
        let principal = auditor(ctx).await?;
        let cutoff = cutoff(as_of)?;
        let account = super::query::account_id(&account_id, "accountId")?;
        let state = ctx.data_unchecked::<AppState>();
        let replayed =
            history::account_as_of(&state.store, principal.organization.0, account, cutoff)
                .await
                .map_err(|e| ApiError::internal(&e))?;
        if replayed
            .state
            .profile()
            .is_some_and(|p| p.role == Role::Patient)
        {
            audited(
                ctx,
                &principal,
                "history",
                "accountAsOf",
                &[Whose::account(account)],
            )
            .await?;
        }
        Ok(account_as_of(&account_id, replayed))
    }

    /// A learner's transcript as it stood at a past time or log position, replayed from the activities' and the
    /// attendances' events (auditors only), in the order of `transcript`.
    async fn transcript_as_of(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The learner.")] learner_id: ID,
        #[graphql(desc = "Where the replay stops: a time or a log position.")] as_of: AsOfInput,
    ) -> Result<Vec<TranscriptEntry>> {
        let principal = auditor(ctx).await?;
        let cutoff = cutoff(as_of)?;
        let learner = account_id(&learner_id, "learnerId")?;
        let state = ctx.data_unchecked::<AppState>();
        let lines = transcript::as_of(&state.store, principal.organization.0, learner, cutoff)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        // A past entry is another object than today's: its own id keeps a client's cache from mixing them.
        let moment = match cutoff {
            Cutoff::At(at) => at.to_rfc3339(),
            Cutoff::Position(position) => position.to_string(),
        };
        Ok(lines
            .into_iter()
            .filter_map(entry)
            .map(|mut e| {
                e.id = super::ids::derived("TranscriptEntryAsOf", &[&e.id.as_str(), &moment]);
                e
            })
            .collect())
    }
}
