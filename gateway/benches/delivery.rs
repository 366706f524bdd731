//! Delivering the outbox: how many messages a second the delivery worker sends to an SMTP server on loopback, with
//! 1, 4 and 16 lanes, against the same SMTP client sending the same messages without the outbox (no claim, no
//! row lock, no organization read, no template, no outcome written): the difference is what delivering from the
//! database costs. Measured twice: with a server that answers at once, and with one that takes 20 ms per message
//! (a remote relay), where lanes matter.
//!
//! Run: `cargo bench -p portal-gateway --bench delivery`. BENCH_MESSAGES per measurement (default 2000),
//! BENCH_LANES (default 1,4,16), BENCH_DATABASE_URL. Results: a table on stdout, JSON in target/bench-delivery.json.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portal_commands::templates;
use portal_commands::testing::bench::{self, BenchDatabase};
use portal_commands::testing::pg_store_on;
use portal_domain::values::{MessageKind, OrganizationCode, OrganizationName};
use portal_gateway::cli::DeliveryArgs;
use portal_gateway::delivery::{email, EmailTransport};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

/// An SMTP server that accepts everything, counts the messages, and waits `delay` before accepting each.
async fn sink(delay: Duration) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let _ = socket.set_nodelay(true);
                let mut stream = BufReader::new(socket);
                let _ = stream.get_mut().write_all(b"220 sink\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper == "DATA" {
                        let _ = stream.get_mut().write_all(b"354 go on\r\n").await;
                        loop {
                            line.clear();
                            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                        }
                        tokio::time::sleep(delay).await;
                        counter.fetch_add(1, Ordering::SeqCst);
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = stream.get_mut().write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if stream.get_mut().write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, count)
}

/// The outbox worker with `lanes` lanes sends `n` messages; messages a second.
async fn through_the_outbox(
    database: &BenchDatabase,
    store: &portal_commands::Store<portal_commands::log::PgEventLog>,
    tenant: Uuid,
    port: u16,
    lanes: usize,
    n: usize,
) -> f64 {
    let client = database.pool.get().await.unwrap();
    client.execute("DELETE FROM outbox", &[]).await.unwrap();
    client
        .execute(
            "INSERT INTO outbox (id, tenant_id, channel, recipient, subject, body, due_at, kind, data)
             SELECT gen_random_uuid(), $1, 'email', 'person' || i || '@example.org', '', '', now(), 'password_changed',
                    '{\"salutation\": \"Ada\"}'::jsonb
             FROM generate_series(1, $2::int) AS i",
            &[&tenant, &(n as i32)],
        )
        .await
        .unwrap();
    let args = DeliveryArgs {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        delivery_lanes: lanes,
        ..DeliveryArgs::default()
    };
    let worker =
        portal_gateway::app::delivery(&database.config, store, &args, Arc::new(chrono::Utc::now))
            .unwrap();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let running = tokio::spawn(worker.run(Arc::new(tokio::sync::Notify::new()), stop_rx));
    loop {
        let left: i64 = client
            .query_one("SELECT count(*) FROM outbox WHERE status <> 'sent'", &[])
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    running.await.unwrap();
    n as f64 / elapsed
}

/// The same SMTP client sends `n` rendered messages from `lanes` tasks, without the outbox; messages a second.
async fn smtp_alone(port: u16, lanes: usize, n: usize) -> f64 {
    let transport = EmailTransport::smtp(&format!("smtp://127.0.0.1:{port}"), None).unwrap();
    let from: lettre::message::Mailbox = "portal <no-reply@portal.localhost>".parse().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..lanes)
        .map(|_| {
            let (transport, from, next) = (transport.clone(), from.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        return;
                    }
                    let data = json!({ "organization": "Bench", "salutation": "Ada" });
                    let rendered =
                        templates::render(MessageKind::PasswordChanged, None, &data).unwrap();
                    let id = Uuid::new_v4();
                    let message = email::build(
                        id,
                        &from,
                        &format!("person{i}@example.org"),
                        &rendered,
                        chrono::Utc::now(),
                    )
                    .unwrap();
                    transport.send(id, message).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let n: usize = bench::setting("BENCH_MESSAGES", 2000);
    let lanes = bench::list("BENCH_LANES", &[1, 4, 16]);
    let database = BenchDatabase::create(4).await;
    let store = pg_store_on(&database.pool);
    let (tenant, _) = portal_commands::organizations::create(
        &store,
        OrganizationCode::parse("bench").unwrap(),
        OrganizationName::parse("Bench").unwrap(),
        &portal_commands::handler::CommandContext::system(),
    )
    .await
    .unwrap();

    println!("delivery of {n} e-mails to an SMTP server on loopback (messages/s)");
    println!(
        "{:<22} {:>6} {:>12} {:>12} {:>7}",
        "server", "lanes", "outbox", "SMTP alone", "ratio"
    );
    let mut rows: Vec<Value> = vec![];
    for (label, delay) in [
        ("answers at once", Duration::ZERO),
        ("20 ms per message", Duration::from_millis(20)),
    ] {
        let (port, _) = sink(delay).await;
        // With a slow server the small counts suffice: each message takes at least 20 ms whatever sends it.
        let count = if delay.is_zero() { n } else { (n / 10).max(50) };
        for &l in &lanes {
            let outbox = through_the_outbox(&database, &store, tenant.0, port, l, count).await;
            let alone = smtp_alone(port, l, count).await;
            println!(
                "{label:<22} {l:>6} {outbox:>12.0} {alone:>12.0} {:>7.2}",
                outbox / alone
            );
            rows.push(json!({
                "server": label, "delay_ms": delay.as_millis() as u64, "lanes": l, "messages": count,
                "outbox_per_s": outbox, "smtp_alone_per_s": alone, "ratio": outbox / alone,
            }));
        }
    }
    println!("(ratio: through the outbox against the SMTP client alone at the same concurrency)");
    let path = bench::write_results("bench-delivery.json", &json!({ "rows": rows }));
    println!("results written to {}", path.display());
    database.drop_database().await;
}
