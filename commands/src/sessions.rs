//! Checking bearer tokens and signing out.

use portal_domain::session::{EndReason, Principal, Session, SessionCommand, SessionError};
use portal_domain::{Decider, SessionId};

use crate::credentials;
use crate::handler::{execute, CommandContext, CommandError, Plan};
use crate::log::{EventLog, ExpectedVersion, StreamId, StreamWrite};
use crate::store::{LoadError, Store};

/// The stream of a session.
pub fn stream(id: SessionId) -> StreamId {
    StreamId::new(Session::CATEGORY, id.0)
}

/// Who a bearer token speaks for, read from the session's own stream (never stale), if the session has not sat
/// idle too long; records the use.
pub async fn authenticate<L: EventLog>(
    store: &Store<L>,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Principal, CommandError<SessionError>> {
    let (principal, last_seen) = check_at(store, token, now).await?;
    // The use is recorded at most every TOUCH_EVERY_SECONDS; the time just read says whether this one is due, which
    // spares most requests a round trip.
    if crate::session_activity::touch_due(last_seen, now) {
        store.activity.touch(principal.session, now).await?;
    }
    Ok(principal)
}

/// Whether the session still stands at `now`, without counting this as a use of it: for what watches a session
/// rather than uses it (an open WebSocket re-checks its session on a timer, and must not keep it from idling out).
pub async fn check<L: EventLog>(
    store: &Store<L>,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Principal, CommandError<SessionError>> {
    check_at(store, token, now)
        .await
        .map(|(principal, _)| principal)
}

async fn check_at<L: EventLog>(
    store: &Store<L>,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Principal, Option<chrono::DateTime<chrono::Utc>>), CommandError<SessionError>> {
    let (id, hash) =
        credentials::parse_token(token).ok_or(CommandError::Rejected(SessionError::Invalid))?;
    let session = SessionId(id);
    // Two reads on two connections at once: one round trip of waiting instead of two.
    let session_stream = stream(session);
    let (loaded, last_seen) = tokio::join!(
        store.load::<Session>(&session_stream),
        store.activity.last_seen(session)
    );
    let ((state, _), last_seen) = (loaded?, last_seen?);
    let principal = state
        .authenticate(&hash, now, last_seen)
        .map_err(CommandError::Rejected)?;
    Ok((principal, last_seen))
}

/// The write that opens a new session stream for `principal`, and its bearer token (only the token's hash is
/// recorded).
pub async fn opening<L: EventLog, E>(
    store: &Store<L>,
    principal: Principal,
    expires_at: chrono::DateTime<chrono::Utc>,
    idle_minutes: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(StreamWrite, String), CommandError<E>> {
    let session = principal.session;
    let (token, token_hash) = credentials::new_token(session.0);
    let events = Session::decide(
        &Default::default(),
        SessionCommand::Start {
            principal,
            token_hash,
            expires_at,
            idle_minutes,
        },
        now,
    )
    .map_err(|e| CommandError::Internal(e.to_string()))?;
    let write = StreamWrite {
        stream: stream(session),
        expected: ExpectedVersion::NoStream,
        events: store.encode(None, &events).await?,
    };
    Ok((write, token))
}

/// Ends the session; signing out of an app's session signs its device out (so its refresh token stops working too).
/// Signing out twice is not an error; the position is None when nothing changed.
pub async fn sign_out<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<SessionError>> {
    let as_session = |_| SessionError::Invalid;
    if let Some(device) = crate::devices::of_session(store, principal, ctx.now)
        .await
        .map_err(|e| e.map_rejected(as_session))?
    {
        return crate::devices::sign_out(store, principal, device, ctx)
            .await
            .map(Some)
            .map_err(|e| e.map_rejected(as_session));
    }
    let fingerprint = store
        .secrets
        .fingerprint("SignOut", &[principal.session.0.as_bytes()]);
    let tenant = principal.organization.0;
    let executed = execute::<L, Session>(
        store,
        &stream(principal.session),
        None,
        ctx,
        "SignOut",
        fingerprint,
        |_| {
            Ok(Plan::command(
                tenant,
                SessionCommand::End {
                    reason: EndReason::SignedOut,
                },
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// The writes that end `sessions` (those still open), each at its stream's version, to go in the commit of the
/// event that revoked them.
pub async fn end_writes<L: EventLog>(
    store: &Store<L>,
    sessions: &[SessionId],
    ctx: &CommandContext,
) -> Result<Vec<StreamWrite>, LoadError> {
    let mut writes = Vec::new();
    for session in sessions {
        let stream = stream(*session);
        let (state, version) = store.load::<Session>(&stream).await?;
        // Ending is never refused; a session that is not open yields no event.
        let ended = Session::decide(
            &state,
            SessionCommand::End {
                reason: EndReason::Revoked,
            },
            ctx.now,
        )
        .unwrap_or_default();
        if !ended.is_empty() {
            writes.push(StreamWrite {
                stream,
                expected: ExpectedVersion::Exact(version),
                events: store.encode(None, &ended).await?,
            });
        }
    }
    Ok(writes)
}
