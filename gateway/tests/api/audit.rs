//! Auditors and analysts (issue 6): a restored export, replayed history, the analyst role.

use portal_commands::log::integrity;
use portal_commands::log::portability::{self, Scope};
use portal_commands::secrets::{MasterKey, Secrets};
use portal_commands::testing::TestDatabase;
use serde_json::json;

use super::support::{complete_profile, course, TestApp};

/// Every read-model table, by projection.
const READ_MODELS: &[(&str, &[&str])] = &[
    ("accounts", &["accounts", "account_phones"]),
    ("organizations", &["organizations", "organization_terms"]),
    ("lockout", &["account_lockouts", "sign_in_attempts"]),
    ("calendar", &["calendar_activities"]),
    ("patients", &["patients", "signup_requests"]),
    (
        "schedule",
        &[
            "catalogue_entries",
            "slots",
            "appointments",
            "waitlist_entries",
        ],
    ),
    (
        "transcript",
        &["transcript_activities", "transcript_entries"],
    ),
];

async fn rows(app: &TestApp, table: &str) -> Vec<String> {
    let client = app
        .running
        .as_ref()
        .unwrap()
        .state
        .pool
        .get()
        .await
        .unwrap();
    client
        .query(&format!("SELECT t::text FROM {table} t ORDER BY 1"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Waits until no event is above the oldest running transaction of the server (tests beside this one share
/// transaction ids), so that readers of the whole log see every event.
pub async fn settled(pool: &deadpool_postgres::Pool) {
    let client = pool.get().await.unwrap();
    for _ in 0..2_000 {
        let above: i64 = client
            .query_one(
                "SELECT count(*) FROM events WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot())",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if above == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("events stayed above the horizon for 20 s");
}

async fn all_caught_up(app: &TestApp) {
    for (projection, _) in READ_MODELS {
        app.caught_up(projection).await;
    }
}

/// A learner with a completed profile and awarded credit, a staff member, a failed sign-in.
async fn some_history(app: &TestApp) -> String {
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.schedule(&staff.token, course("Sepsis Update", "SEPSIS", -5, 55))
        .await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.graphql(
        "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { missingFields } }",
        complete_profile(),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.graphql(
        "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { status } }",
        json!({ "input": { "code": "sepsis" } }),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.sign_in("umncpd", "ada@example.org", "not the password")
        .await;
    ada.account_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imported_elsewhere_rebuilds_the_same_read_models_and_verifies() {
    let key = MasterKey::generate();
    let source = TestApp::spawn_on(
        TestDatabase::empty().await,
        MasterKey::from_base64(&key.to_base64()).unwrap(),
        |_| {},
    )
    .await;
    some_history(&source).await;
    all_caught_up(&source).await;
    let pool = &source.running.as_ref().unwrap().state.pool;
    let secrets = Secrets::derive(&key);
    settled(pool).await;
    integrity::seal_all(pool, &secrets).await.unwrap();
    let mut file = Vec::new();
    let exported = portability::export(pool, &Scope::All, &mut file)
        .await
        .unwrap();

    let target = TestDatabase::migrated().await;
    let imported = portability::import(&target.pool, &mut file.as_slice())
        .await
        .unwrap();
    let restored = TestApp::spawn_on(target, key, |_| {}).await;
    all_caught_up(&restored).await;

    assert_eq!(exported, imported);
    settled(&restored.running.as_ref().unwrap().state.pool).await;
    let report = integrity::verify(&restored.running.as_ref().unwrap().state.pool, &secrets)
        .await
        .unwrap();
    assert_eq!(report.finding, None);
    assert_eq!(report.events, exported.events);
    for (_, tables) in READ_MODELS {
        for table in *tables {
            assert_eq!(
                rows(&restored, table).await,
                rows(&source, table).await,
                "read model {table}"
            );
        }
    }
    assert!(!rows(&restored, "transcript_entries").await.is_empty());
}
