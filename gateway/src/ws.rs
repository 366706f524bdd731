//! `GET /graphql/ws`: GraphQL subscriptions over a WebSocket (the graphql-transport-ws protocol, or the older
//! graphql-ws). The session token goes in the `connection_init` payload as `{"Authorization": "Bearer <token>"}`
//! (or `{"token": "<token>"}`), since browsers cannot set headers on a WebSocket.
//!
//! A socket follows its session. The token is checked at `connection_init` (a dead session is closed with 4403),
//! again by every `subscribe` (as any request), and every [`RECHECK`] while the socket is open, without counting
//! as a use, so the idle timeout still runs: once the session has ended (sign-out, lock, reset, erasure, idle or
//! absolute timeout, staff), the socket is closed with 4401. A session holds at most
//! [`MAX_CONNECTIONS_PER_SESSION`] sockets (4429 past it), a socket at most [`MAX_SUBSCRIPTIONS`] subscriptions
//! (a further `subscribe` is answered with an error), and a message is at most the HTTP body limit.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use portal_domain::SessionId;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::app::AppState;

/// How often an open socket checks that its session still stands.
pub const RECHECK: Duration = Duration::from_secs(5);
/// Subscriptions one socket may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 16;
/// Sockets one session may hold at once (a few tabs and devices' worth).
pub const MAX_CONNECTIONS_PER_SESSION: usize = 4;

/// Close codes of graphql-transport-ws.
const UNAUTHORIZED: u16 = 4401;
const FORBIDDEN: u16 = 4403;
const TOO_MANY: u16 = 4429;

/// The open sockets of each session, so that one session cannot hold an unbounded number of them.
#[derive(Default)]
pub struct SocketSlots {
    open: Mutex<HashMap<SessionId, usize>>,
}

/// One socket's place in [`SocketSlots`]; dropping it gives the place back.
pub struct SocketSlot {
    slots: Arc<SocketSlots>,
    session: SessionId,
}

impl SocketSlots {
    /// A place for one more socket of `session`, unless it holds the most already.
    pub fn take(self: &Arc<Self>, session: SessionId) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(session).or_insert(0);
        if *count >= MAX_CONNECTIONS_PER_SESSION {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            slots: Arc::clone(self),
            session,
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.session) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}

/// What a socket knows of itself: its session once accepted, why it was refused, its open subscriptions.
#[derive(Default)]
struct Connection {
    token: Option<String>,
    slot: Option<SocketSlot>,
    refused: Option<(u16, &'static str)>,
    subscriptions: HashSet<String>,
}

type Shared = Arc<Mutex<Connection>>;

fn lock(connection: &Shared) -> std::sync::MutexGuard<'_, Connection> {
    connection.lock().unwrap_or_else(|p| p.into_inner())
}

/// Upgrades to a WebSocket speaking the protocol the client asked for.
pub async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Browsers send cookies with a WebSocket handshake from any site: one that would be signed in by the session
    // cookie must come from the portals' own pages (cross-site WebSocket hijacking).
    if state.session_cookie().read(&headers).is_some()
        && !crate::cookies::from_allowed_origin(&headers, state.allowed_origins())
    {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "a connection signed in by the session cookie must come from the portal's own pages",
        )
            .into_response();
    }
    let protocol = headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        })
        .unwrap_or(WebSocketProtocols::GraphQLWS);
    upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .max_message_size(crate::app::MAX_BODY_BYTES)
        .max_frame_size(crate::app::MAX_BODY_BYTES)
        .on_upgrade(move |socket| serve(state, socket, protocol, headers, peer))
        .into_response()
}

/// Counts a client's `subscribe` (or `start`) against the cap and forgets a `complete` (or `stop`); a subscription
/// past the cap is held back from the engine and answered with an error for its id.
fn admit(connection: &Shared, refusals: &mpsc::UnboundedSender<String>, raw: &[u8]) -> bool {
    let Ok(message) = serde_json::from_slice::<Value>(raw) else {
        return true;
    };
    let (Some(kind), Some(id)) = (
        message.get("type").and_then(Value::as_str),
        message.get("id").and_then(Value::as_str),
    ) else {
        return true;
    };
    let mut connection = lock(connection);
    match kind {
        "subscribe" | "start" => {
            if connection.subscriptions.len() >= MAX_SUBSCRIPTIONS
                && !connection.subscriptions.contains(id)
            {
                let _ = refusals.send(
                    json!({ "id": id, "type": "error", "payload": [{
                        "message": format!("a connection holds at most {MAX_SUBSCRIPTIONS} subscriptions; complete one first"),
                        "extensions": { "code": "TOO_MANY_SUBSCRIPTIONS" } }] })
                    .to_string(),
                );
                return false;
            }
            connection.subscriptions.insert(id.to_owned());
        }
        "complete" | "stop" => {
            connection.subscriptions.remove(id);
        }
        _ => {}
    }
    true
}

/// Forgets a subscription the server ended (`complete` or `error` for its id).
fn ended(connection: &Shared, text: &str) {
    if !(text.contains("complete") || text.contains("error")) {
        return;
    }
    if let Ok(message) = serde_json::from_str::<Value>(text) {
        if let (Some("complete" | "error"), Some(id)) = (
            message.get("type").and_then(Value::as_str),
            message.get("id").and_then(Value::as_str),
        ) {
            lock(connection).subscriptions.remove(id);
        }
    }
}

async fn close(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &str,
) {
    let _ = sink
        .send(Message::Close(Some(axum::extract::ws::CloseFrame {
            code,
            reason: reason.to_owned().into(),
        })))
        .await;
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    headers: HeaderMap,
    peer: SocketAddr,
) {
    let connection: Shared = Arc::default();
    let (refusals, mut refused) = mpsc::unbounded_channel::<String>();
    let (mut sink, stream) = socket.split();
    let counted = Arc::clone(&connection);
    let incoming = stream
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(move |message| {
            let raw = match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            };
            let admitted = raw.filter(|raw| admit(&counted, &refusals, raw));
            async move { admitted }
        });
    let init_state = state.clone();
    let init_connection = Arc::clone(&connection);
    let mut outgoing = GraphQLWebSocket::new(state.schema().clone(), incoming, protocol)
        .on_connection_init(move |payload| async move {
            let mut context = init_state.request_context(&headers, Some(peer));
            context.long_lived = true;
            let token = payload
                .get("Authorization")
                .or_else(|| payload.get("authorization"))
                .and_then(|v| v.as_str())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .or_else(|| payload.get("token").and_then(|v| v.as_str()))
                .map(|token| token.trim().to_owned())
                // A browser's socket is signed in by its session cookie (read with the handshake).
                .or_else(|| context.bearer.clone());
            if let Some(token) = token {
                let refuse = |code, reason: &'static str| {
                    lock(&init_connection).refused = Some((code, reason));
                    Err(async_graphql::Error::new(reason))
                };
                let principal = match portal_commands::sessions::check(
                    &init_state.store,
                    &token,
                    init_state.now(),
                )
                .await
                {
                    Ok(principal) => principal,
                    Err(_) => return refuse(FORBIDDEN, "the session is not valid; sign in again"),
                };
                let Some(slot) = init_state.socket_slots().take(principal.session) else {
                    return refuse(TOO_MANY, "too many open connections for this session");
                };
                let mut accepted = lock(&init_connection);
                accepted.token = Some(token.clone());
                accepted.slot = Some(slot);
                context.bearer = Some(token);
            }
            let mut data = Data::default();
            data.insert(context);
            Ok(data)
        })
        .boxed();
    let mut stopping = state.stopping();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let message = tokio::select! {
            message = outgoing.next() => message,
            Some(refusal) = refused.recv() => {
                if sink.send(Message::Text(refusal.into())).await.is_err() {
                    break;
                }
                continue;
            }
            _ = recheck.tick() => {
                let token = lock(&connection).token.clone();
                if let Some(token) = token {
                    if let Err(portal_commands::CommandError::Rejected(_)) =
                        portal_commands::sessions::check(&state.store, &token, state.now()).await
                    {
                        close(&mut sink, UNAUTHORIZED, "the session ended; sign in again").await;
                        break;
                    }
                }
                continue;
            }
            // The server is shutting down: tell the client to go away (1001), so that it reconnects elsewhere.
            _ = async { stopping.wait_for(|stopped| *stopped).await.is_ok() } => {
                close(&mut sink, axum::extract::ws::close_code::AWAY, "the server is shutting down").await;
                break;
            }
        };
        let Some(message) = message else {
            break;
        };
        let sent = match message {
            WsMessage::Text(text) => {
                ended(&connection, &text);
                sink.send(Message::Text(text.into())).await
            }
            WsMessage::Close(code, reason) => {
                // The engine closes a refused connection_init as a protocol error (1002); the protocol's own code
                // says why.
                let refused = lock(&connection).refused;
                match refused {
                    Some((code, reason)) => close(&mut sink, code, reason).await,
                    None => close(&mut sink, code, &reason).await,
                }
                break;
            }
        };
        if sent.is_err() {
            break;
        }
    }
}
