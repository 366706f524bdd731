//! Graceful shutdown: stop accepting, answer what is in flight, close subscriptions, stop the background tasks.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use super::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_requests_in_flight_closes_subscriptions_and_then_refuses_connections() {
    let mut app = TestApp::spawn_with(|args| args.no_delivery = true).await;
    app.create_organization("acme").await;
    let staff = app.staff("acme", "staff@acme.example").await.token;
    // The request in flight below reads the organization from its read model.
    app.caught_up("organizations").await;

    // A subscriber, connected and acknowledged.
    let mut socket = app.ws_connect().await;
    socket
        .send(Message::Text(
            json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {staff}") } })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let ack = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"));

    // A request in flight: its body has only half arrived when the shutdown begins.
    let body = json!({ "query": "{ organization(code: \"acme\") { code } }" }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    connection
        .write_all(
            format!(
                "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let running = app.running.take().expect("the app runs");
    let base = app.base.clone();
    let shutdown = tokio::spawn(running.shutdown());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !shutdown.is_finished(),
        "the server waits for the request in flight"
    );
    // New connections are no longer accepted meanwhile.
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
    connection.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    connection.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""code":"acme""#), "{answer}");
    tokio::time::timeout(Duration::from_secs(20), shutdown)
        .await
        .expect("shutdown finished within 20 s")
        .unwrap()
        .expect("the server stopped cleanly");

    // The subscriber was told to go away, and the socket is closed.
    let mut closed = false;
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_secs(5), socket.next()).await
    {
        match message {
            Ok(Message::Close(frame)) => {
                let frame: Option<Value> = frame.map(|f| json!({ "code": u16::from(f.code) }));
                assert_eq!(frame, Some(json!({ "code": 1001 })));
                closed = true;
            }
            Ok(_) => continue,
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the subscription was closed");
}
