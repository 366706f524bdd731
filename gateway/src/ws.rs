//! `GET /graphql/ws`: GraphQL subscriptions over a WebSocket (the graphql-transport-ws protocol, or the older
//! graphql-ws). The session token goes in the `connection_init` payload as `{"Authorization": "Bearer <token>"}`
//! (or `{"token": "<token>"}`), since browsers cannot set headers on a WebSocket.

use std::net::SocketAddr;

use async_graphql::http::{WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};

use crate::app::AppState;

/// Upgrades to a WebSocket speaking the protocol the client asked for.
pub async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
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
        .on_upgrade(move |socket| serve(state, socket, protocol, headers, peer))
        .into_response()
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    headers: HeaderMap,
    peer: SocketAddr,
) {
    let (mut sink, stream) = socket.split();
    let incoming = stream
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| async move {
            match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            }
        });
    let init_state = state.clone();
    let mut outgoing = GraphQLWebSocket::new(state.schema().clone(), incoming, protocol)
        .on_connection_init(move |payload| async move {
            let mut context = init_state.request_context(&headers, Some(peer));
            let token = payload
                .get("Authorization")
                .or_else(|| payload.get("authorization"))
                .and_then(|v| v.as_str())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .or_else(|| payload.get("token").and_then(|v| v.as_str()));
            if let Some(token) = token {
                context.bearer = Some(token.trim().to_owned());
            }
            let mut data = Data::default();
            data.insert(context);
            Ok(data)
        })
        .boxed();
    let mut stopping = state.stopping();
    loop {
        let message = tokio::select! {
            message = outgoing.next() => message,
            // The server is shutting down: tell the client to go away (1001), so that it reconnects elsewhere.
            _ = async { stopping.wait_for(|stopped| *stopped).await.is_ok() } => {
                let _ = sink
                    .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                        code: axum::extract::ws::close_code::AWAY,
                        reason: "the server is shutting down".into(),
                    })))
                    .await;
                break;
            }
        };
        let Some(message) = message else {
            break;
        };
        let sent = match message {
            WsMessage::Text(text) => sink.send(Message::Text(text.into())).await,
            WsMessage::Close(code, reason) => {
                let _ = sink
                    .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await;
                break;
            }
        };
        if sent.is_err() {
            break;
        }
    }
}
