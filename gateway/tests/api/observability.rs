//! Metrics at /metrics, the correlation id, and structured logs.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use uuid::Uuid;

use super::support::TestApp;

const REGISTER: &str =
    "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }";

fn registration(email: &str) -> Value {
    json!({ "input": { "organizationCode": "acme", "firstName": "Ada", "lastName": "Lovelace",
                       "email": email, "password": "violet tractor sings at noon" } })
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.client.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// The value of the sample whose name and labels start with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_commands_and_appends_and_read_lag_backlog_and_pool() {
    let app = TestApp::spawn_with(|args| args.no_delivery = true).await;
    app.create_organization("acme").await;
    app.graphql(REGISTER, registration("ada@example.org"), None)
        .await
        .assert_ok();
    let refused = app
        .graphql(REGISTER, registration("not an address"), None)
        .await;
    let code = refused.error_code().to_owned();
    app.caught_up("accounts").await;

    let (status, content_type, text) = scrape(&app, None).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    let requests = sample(
        &text,
        r#"portal_http_requests_total{method="POST",route="/graphql",status="200"}"#,
    );
    assert!(requests.is_some_and(|n| n >= 2.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"portal_commands_total{command="registerAccount",outcome="ok"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"portal_commands_total{{command="registerAccount",outcome="{code}"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"portal_command_duration_seconds_count{command="registerAccount"}"#
        ) == Some(2.0),
        "{text}"
    );
    // Commits are counted per process (other tests' apps share it): at least ours.
    assert!(
        sample(
            &text,
            r#"portal_append_duration_seconds_count{outcome="appended"}"#
        )
        .is_some_and(|n| n >= 2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"portal_projection_lag_events{projection="accounts"}"#
        ),
        Some(0.0),
        "{text}"
    );
    // The activation e-mail waits in the outbox: nobody delivers in this app.
    assert_eq!(
        sample(
            &text,
            r#"portal_outbox_messages{channel="email",state="pending"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"portal_outbox_messages{channel="sms",state="dead"}"#
        ),
        Some(0.0),
        "{text}"
    );
    assert!(
        sample(&text, "portal_log_head_position").is_some_and(|p| p >= 2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "portal_db_pool_max_connections"),
        Some(8.0),
        "{text}"
    );
    assert!(
        sample(&text, r#"portal_db_pool_connections{state="idle"}"#).is_some(),
        "{text}"
    );
    assert_eq!(sample(&text, "portal_database_up"), Some(1.0), "{text}");
    assert!(!text.contains("ada@example.org"));
}

#[tokio::test]
async fn a_metrics_token_keeps_scrapers_without_it_out() {
    let app =
        TestApp::spawn_with(|args| args.metrics_token = Some("scrape-me-please".into())).await;
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("scrape-me-not")).await.0, 401);
    assert_eq!(scrape(&app, Some("scrape-me-please")).await.0, 200);
}

#[tokio::test]
async fn the_correlation_id_comes_back_and_reaches_the_events() {
    let app = TestApp::spawn_with(|args| args.no_delivery = true).await;
    app.create_organization("acme").await;
    let given = Uuid::new_v4();
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-correlation-id", given.to_string())
        .json(&json!({ "query": REGISTER, "variables": registration("ada@example.org") }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["x-correlation-id"],
        given.to_string().as_str()
    );
    // Without one (or with one that is not a UUID), the server makes one, and the events carry that one.
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-correlation-id", "not a uuid")
        .json(&json!({ "query": REGISTER, "variables": registration("grace@example.org") }))
        .send()
        .await
        .unwrap();
    let made: Uuid = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(made, given);
    let client = app.database.pool.get().await.unwrap();
    for id in [given, made] {
        let events: i64 = client
            .query_one(
                "SELECT count(*) FROM events WHERE event_type = 'AccountRegistered' AND metadata->>'correlation_id' = $1",
                &[&id.to_string()],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(events, 1, "correlation id {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_and_command_spans_with_the_correlation_id_and_no_personal_data() {
    let database = portal_commands::testing::TestDatabase::not_yet_created();
    let dir = std::env::temp_dir().join(format!("portal-test-{}", Uuid::new_v4().simple()));
    let (mut child, lines) = super::support::spawn_printing(
        Command::new(env!("CARGO_BIN_EXE_portal"))
            .args([
                "--log-format",
                "json",
                "serve",
                "--demo",
                "--listen",
                "127.0.0.1:0",
            ])
            .arg("--mail-dir")
            .arg(dir.join("mail"))
            .env("DATABASE_URL", &database.url)
            .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
            .env_remove("PORTAL_MASTER_KEY")
            .env("RUST_LOG", "info"),
    );
    let mut printed = Vec::new();
    let mut address = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while address.is_none() && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.strip_prefix("portal listening on http://") {
                address = rest.split_whitespace().next().map(str::to_owned);
            }
            printed.push(line);
        }
    }
    let address = address.expect("the server printed its address");
    let email = "json-logs-person@example.org";
    let password = "violet tractor sings at noon";
    let mut correlation = Uuid::new_v4();
    let client = reqwest::Client::new();
    let mut answered = false;
    while !answered && Instant::now() < deadline {
        // A new id per attempt: the lines of the attempt that succeeded are the ones looked at.
        correlation = Uuid::new_v4();
        let answer: Value = client
            .post(format!("http://{address}/graphql"))
            .header("x-correlation-id", correlation.to_string())
            .json(&json!({ "query": REGISTER, "variables": { "input": {
                "organizationCode": "demo", "firstName": "Jay", "lastName": "Son",
                "email": email, "password": password } } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // The demo organization is made just after the server listens.
        answered = answer.get("errors").is_none();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered, "registerAccount never succeeded");
    let mut command_line = None;
    let mut request_line = None;
    while (command_line.is_none() || request_line.is_none()) && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                let for_us = entry["spans"].as_array().is_some_and(|spans| {
                    spans
                        .iter()
                        .any(|s| s["correlation_id"] == correlation.to_string())
                });
                if for_us && entry["fields"]["message"] == "command finished" {
                    command_line = Some(entry.clone());
                }
                if for_us && entry["fields"]["message"] == "answered" {
                    request_line = Some(entry.clone());
                }
            }
            printed.push(line);
        }
    }
    let command_line = command_line.expect("a log line for the command");
    assert_eq!(command_line["span"]["name"], "command");
    assert_eq!(command_line["span"]["command"], "registerAccount");
    assert_eq!(command_line["fields"]["outcome"], "ok");
    let request_line = request_line.expect("a log line for the request");
    assert_eq!(request_line["span"]["route"], "/graphql");
    assert_eq!(request_line["fields"]["status"], 200);

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        printed.push(line);
    }
    for line in &printed {
        assert!(!line.contains(email), "personal data in the log: {line}");
        assert!(!line.contains(password), "a password in the log: {line}");
        if line.starts_with('{') {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
