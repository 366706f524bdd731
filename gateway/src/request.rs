//! What the gateway knows about the HTTP request behind a GraphQL operation.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use portal_commands::handler::{Actor, CommandContext};
use uuid::Uuid;

/// Longest user agent kept; the rest is cut (it goes into event metadata).
const MAX_USER_AGENT: usize = 256;

/// The caller of one request: the bearer token presented (not yet checked), and where the request came from.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The token after `Authorization: Bearer`, if any.
    pub bearer: Option<String>,
    /// The client's address: the peer's, or, when the peer is a trusted proxy, the one it forwarded.
    pub client_ip: Option<String>,
    /// The `User-Agent` header, cut to 256 characters.
    pub user_agent: Option<String>,
    /// `X-Correlation-Id` when it is a UUID, else a new one.
    pub correlation_id: Uuid,
    /// The time the request is decided at (the server's clock when it arrived).
    pub now: DateTime<Utc>,
    /// `X-Acting-For`: the patient a proxy acts for (not yet checked).
    pub acting_for: Option<String>,
    /// A WebSocket: its operations are decided at the time they arrive, not at the time it opened.
    pub long_lived: bool,
    /// The token came from the browser's session cookie, not an `Authorization` header.
    pub cookie_session: bool,
}

impl RequestContext {
    /// Reads the request's headers and peer address; `X-Forwarded-For` counts only from a peer in `trusted`.
    pub fn from_parts(
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        trusted: &[IpNet],
        now: DateTime<Utc>,
    ) -> Self {
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
            client_ip: peer
                .map(|p| client_address(headers, p.ip(), trusted))
                .map(|ip| ip.to_string()),
            user_agent: header("user-agent").map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
            correlation_id: header("x-correlation-id")
                .and_then(|v| Uuid::parse_str(v).ok())
                .unwrap_or_else(Uuid::new_v4),
            now,
            acting_for: header("x-acting-for")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            long_lived: false,
            cookie_session: false,
        }
    }

    /// The client's address, parsed.
    pub fn client_address(&self) -> Option<IpAddr> {
        self.client_ip.as_deref().and_then(|ip| ip.parse().ok())
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

/// The client behind a chain of trusted proxies.
///
/// Each proxy appends the address it received the request from to `X-Forwarded-For`, so the list is read from the
/// right: the first address that is not one of our trusted proxies is the client. Addresses further left were
/// written by the client itself and prove nothing. A peer that is not trusted is the client, whatever it sends.
fn client_address(headers: &HeaderMap, peer: IpAddr, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let ip = client_address(&forwarded("1.2.3.4"), "203.0.113.9".parse().unwrap(), &[]);
        assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let ip = client_address(
            &forwarded("6.6.6.6, 198.51.100.7, 10.1.1.1"),
            "10.0.0.2".parse().unwrap(),
            &trusted,
        );
        assert_eq!(ip, "198.51.100.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_in_the_chain_stops_at_the_last_trusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        let ip = client_address(
            &forwarded("198.51.100.7, not-an-address"),
            "10.0.0.2".parse().unwrap(),
            &trusted,
        );
        assert_eq!(ip, "10.0.0.2".parse::<IpAddr>().unwrap());
    }
}
