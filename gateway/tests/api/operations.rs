//! Operating the projections: rebuild and switch over under load, status, and failover between two processes.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use portal_commands::testing::TestDatabase;
use serde_json::json;
use uuid::Uuid;

use super::support::{course, TestApp};

const CALENDAR: &str = "query { calendar(first: 100) { edges { node { id title } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_under_steady_queries_never_answers_empty_or_partial() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    for n in 0..12 {
        app.schedule(
            &staff.token,
            course(
                &format!("Grand Rounds {n}"),
                &format!("GR{n:02}"),
                60 * 24 + n * 90,
                60 * 24 + n * 90 + 60,
            ),
        )
        .await;
    }
    app.caught_up("calendar").await;
    let state = app.state().clone();
    let source = portal_projections::Source {
        log: state.store.log.clone(),
        keys: state.store.keys.clone(),
    };

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let base = app.base.clone();
    let token = staff.token.clone();
    let load = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        while !*stopped.borrow() {
            let answer: serde_json::Value = client
                .post(format!("{base}/graphql"))
                .bearer_auth(&token)
                .json(&json!({ "query": CALENDAR }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answers.push(answer["data"]["calendar"]["edges"].as_array().map(Vec::len));
        }
        answers
    });
    // Small batches make the rebuild take a while, so that many queries run during it.
    let first = portal_projections::rebuild_named("calendar", &source, &app.database.pool, 1)
        .await
        .unwrap()
        .unwrap();
    let second = portal_projections::rebuild_named("calendar", &source, &app.database.pool, 2)
        .await
        .unwrap()
        .unwrap();
    let third = portal_projections::rebuild_named("calendar", &source, &app.database.pool, 1)
        .await
        .unwrap()
        .unwrap();
    stop.send(true).unwrap();
    let answers = load.await.unwrap();

    assert!(first.events > 12, "{first:?}");
    assert_eq!(first.cursor, second.cursor);
    assert_eq!(second.cursor, third.cursor);
    eprintln!("{} queries ran during the rebuilds", answers.len());
    assert!(answers.len() >= 10, "only {} queries ran", answers.len());
    assert!(
        answers.iter().all(|a| *a == Some(12)),
        "a query saw an empty or partial calendar: {answers:?}"
    );
    // The projection goes on from where the rebuild left it.
    app.schedule(
        &staff.token,
        course("After the rebuild", "AFTER", 60 * 48, 60 * 49),
    )
    .await;
    app.caught_up("calendar").await;
    let after = app.graphql(CALENDAR, json!({}), Some(&staff.token)).await;
    assert_eq!(
        after.assert_ok()["calendar"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        13
    );
    let leftovers: i64 = state
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%' OR nspname LIKE 'retired_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0, "the rebuild leaves no schema behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analysts_views_follow_a_rebuilt_projection() {
    let app = TestApp::spawn().await;
    super::audit::some_history(&app).await;
    app.caught_up("transcript").await;
    let state = app.state().clone();
    let source = portal_projections::Source {
        log: state.store.log.clone(),
        keys: state.store.keys.clone(),
    };
    let query = "SELECT title, attendees, pending FROM analytics.attendance_per_activity";
    let before = app.as_analyst(query).await.unwrap();

    portal_projections::rebuild_named("transcript", &source, &app.database.pool, 100)
        .await
        .unwrap()
        .unwrap();
    portal_projections::rebuild_named("calendar", &source, &app.database.pool, 100)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(before, vec!["(\"Sepsis Update\",1,0)"]);
    assert_eq!(app.as_analyst(query).await.unwrap(), before);
}

/// A `portal serve` process named `name` (its database sessions carry it as application name).
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failing test must not leave a server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_application_name(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

fn serve(database: &TestDatabase, dir: &std::path::Path, name: &str) -> Server {
    let (mut child, lines_rx) = super::support::spawn_printing(
        Command::new(env!("CARGO_BIN_EXE_portal"))
            .args(["serve", "--listen", "127.0.0.1:0", "--mail-dir"])
            .arg(dir.join(format!("mail-{name}")))
            .env("DATABASE_URL", with_application_name(&database.url, name))
            .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
            .env_remove("PORTAL_MASTER_KEY"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.strip_prefix("portal listening on http://") {
                let address = rest.split_whitespace().next().unwrap().to_owned();
                return Server { child, address };
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("portal {name} did not start");
}

/// For each projection, the application name of the process holding its runner's lock.
async fn runners(database: &TestDatabase) -> Vec<(String, Option<String>)> {
    let (head, statuses) = portal_projections::status::status(&database.pool)
        .await
        .unwrap();
    let _ = head;
    statuses
        .into_iter()
        .filter(|s| portal_projections::NAMES.contains(&s.name.as_str()))
        .map(|s| {
            let holder = s
                .runner
                .map(|r| r.split(' ').next().unwrap_or_default().to_owned());
            (s.name, holder)
        })
        .collect()
}

async fn wait_until_all_run_in(database: &TestDatabase, name: &str, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let all = runners(database).await;
        if all.len() == portal_projections::NAMES.len()
            && all
                .iter()
                .all(|(_, holder)| holder.as_deref() == Some(name))
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the projections did not all run in {name} within {within:?}: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn register(address: &str, n: usize) {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&json!({
            "query": "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
            "variables": { "input": {
                "organizationCode": "umncpd", "email": format!("learner{n}@example.org"),
                "password": super::support::PASSWORD, "firstName": "Ada", "lastName": format!("Learner{n}")
            } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("errors").is_none(), "{answer}");
}

async fn accounts_applied(database: &TestDatabase, want: i64) {
    let client = database.pool.get().await.unwrap();
    for _ in 0..200 {
        let count: i64 = client
            .query_one("SELECT count(*) FROM accounts", &[])
            .await
            .unwrap()
            .get(0);
        if count == want {
            // And no more: each registration applied once.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let again: i64 = client
                .query_one("SELECT count(*) FROM accounts", &[])
                .await
                .unwrap()
                .get(0);
            assert_eq!(again, want);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the accounts read model never held {want} accounts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_run_each_projection_once_and_the_survivor_takes_over_when_one_is_killed() {
    let database = TestDatabase::migrated().await;
    let dir = std::env::temp_dir().join(format!("portal-failover-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let created = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["org", "create", "--code", "umncpd", "--name", "UMN CPD"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
        .env_remove("PORTAL_MASTER_KEY")
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");

    let mut a = serve(&database, &dir, "portal-a");
    wait_until_all_run_in(&database, "portal-a", Duration::from_secs(20)).await;
    let b = serve(&database, &dir, "portal-b");
    // B is up and answering, yet every projection still runs in A alone.
    for n in 0..3 {
        register(&b.address, n).await;
    }
    accounts_applied(&database, 3).await;
    wait_until_all_run_in(&database, "portal-a", Duration::from_secs(1)).await;

    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let took = wait_until_all_run_in(&database, "portal-b", Duration::from_secs(15)).await;
    for n in 3..5 {
        register(&b.address, n).await;
    }
    accounts_applied(&database, 5).await;

    let status = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["projections", "status"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(status.status.success(), "{status:?}");
    let accounts_line = printed
        .lines()
        .find(|l| l.starts_with("accounts "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(accounts_line.contains("running"), "{printed}");
    assert!(accounts_line.contains("portal-b"), "{printed}");

    let rebuilt = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["projections", "rebuild", "accounts"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
        .output()
        .unwrap();
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    assert!(String::from_utf8_lossy(&rebuilt.stdout).contains("rebuilt accounts from"));
    accounts_applied(&database, 5).await;
    let unknown = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["projections", "rebuild", "nothing"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no projection is called"));

    drop(b);
    let _ = std::fs::remove_dir_all(dir);
    assert!(took < Duration::from_secs(10), "failover took {took:?}");
}
