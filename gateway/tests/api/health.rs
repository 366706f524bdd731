//! Health endpoints and the activation page.

use super::support::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_up() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn the_activation_page_changes_nothing_by_itself() {
    let app = TestApp::spawn().await;
    // The web portals' page: it activates only when the person presses its button (web/e2e/register.spec.ts).
    let response = app
        .client
        .get(format!("{}/o/umncpd/activate?token=abc", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("<div id=\"root\"></div>"), "{page}");
    let client = app.database.pool.get().await.unwrap();
    let events: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(events, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_starting_while_migrations_wait_and_ready_once_they_are_applied() {
    use portal_commands::testing::TestDatabase;
    use portal_gateway::app;
    use portal_gateway::cli::ServeArgs;

    let database = TestDatabase::empty().await;
    // Another process is migrating: this server must wait for it.
    let holder = database.pool.get().await.unwrap();
    holder
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&portal_commands::db::MIGRATION_LOCK],
        )
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = ServeArgs {
        listen: ([127, 0, 0, 1], port).into(),
        no_delivery: true,
        ..ServeArgs::default()
    };
    let mail = std::env::temp_dir().join(format!(
        "portal-test-mail-{}",
        uuid::Uuid::new_v4().simple()
    ));
    args.delivery.mail_dir = mail.clone();
    let config = database.config.clone();
    let starting = tokio::spawn(async move {
        app::start(
            config,
            4,
            portal_commands::secrets::MasterKey::generate(),
            &args,
        )
        .await
    });
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let ready = loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            break response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server never answered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["code"], "STARTING", "{body}");
    let alive = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), 200);
    let graphql = client
        .post(format!("{base}/graphql"))
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(graphql.status(), 503);

    holder
        .execute(
            "SELECT pg_advisory_unlock($1)",
            &[&portal_commands::db::MIGRATION_LOCK],
        )
        .await
        .unwrap();
    let running = tokio::time::timeout(std::time::Duration::from_secs(30), starting)
        .await
        .expect("the server finished starting")
        .unwrap()
        .expect("the server started");
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    running.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(mail);
}
