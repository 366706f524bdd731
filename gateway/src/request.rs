//! What the gateway knows about the HTTP request behind a GraphQL operation.

use std::net::SocketAddr;

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use portal_commands::handler::{Actor, CommandContext};
use uuid::Uuid;

/// Longest user agent kept; the rest is cut (it goes into event metadata).
const MAX_USER_AGENT: usize = 256;

/// The caller of one request: the bearer token presented (not yet checked), and where the request came from.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The token after `Authorization: Bearer`, if any.
    pub bearer: Option<String>,
    /// The peer's address.
    pub client_ip: Option<String>,
    /// The `User-Agent` header, cut to 256 characters.
    pub user_agent: Option<String>,
    /// `X-Correlation-Id` when it is a UUID, else a new one.
    pub correlation_id: Uuid,
    /// The time the request is decided at (the server's clock when it arrived).
    pub now: DateTime<Utc>,
    /// `X-Acting-For`: the patient a proxy acts for (not yet checked).
    pub acting_for: Option<String>,
}

impl RequestContext {
    /// Reads the request's headers and peer address.
    pub fn from_parts(headers: &HeaderMap, peer: Option<SocketAddr>, now: DateTime<Utc>) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let bearer = header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        Self {
            bearer,
            client_ip: peer.map(|p| p.ip().to_string()),
            user_agent: header("user-agent").map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
            correlation_id: header("x-correlation-id")
                .and_then(|v| Uuid::parse_str(v).ok())
                .unwrap_or_else(Uuid::new_v4),
            now,
            acting_for: header("x-acting-for")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        }
    }

    /// The context of a command issued by this request; `command_id` is the client's idempotency key if it sent one.
    pub fn command(&self, actor: Actor, command_id: Option<Uuid>) -> CommandContext {
        CommandContext {
            command_id: command_id.unwrap_or_else(Uuid::new_v4),
            correlation_id: self.correlation_id,
            causation_id: None,
            actor,
            client_ip: self.client_ip.clone(),
            user_agent: self.user_agent.clone(),
            now: self.now,
        }
    }
}
