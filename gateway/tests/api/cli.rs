//! The `portal` binary itself, as a newcomer and an operator run it.

use std::process::Command;
use std::time::{Duration, Instant};

use portal_commands::testing::TestDatabase;
use serde_json::json;
use uuid::Uuid;

fn portal(
    database: &TestDatabase,
    key_file: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", key_file)
        .env_remove("PORTAL_MASTER_KEY")
        .output()
        .expect("portal runs")
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portal-cli-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn migrate_org_create_and_projections_status_work_on_a_database_that_did_not_exist() {
    let database = TestDatabase::not_yet_created();
    let dir = temp_dir();
    let key = dir.join("master.key");

    let migrated = portal(&database, &key, &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("migration(s) applied"));

    let created = portal(
        &database,
        &key,
        &["org", "create", "--code", "UMNCPD", "--name", "UMN CPD"],
    );
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("created organization umncpd"));
    assert!(key.exists(), "a development master key was created");

    let settings = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "org",
            "settings",
            "--code",
            "umncpd",
            "--time-zone",
            "America/Chicago",
            "--sms-number",
            "(833) 616-1157",
        ])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", &key)
        .env("PORTAL_SMS_AUTH_TOKEN", "an-auth-token-of-the-provider")
        .output()
        .unwrap();
    assert!(settings.status.success(), "{settings:?}");
    let said = String::from_utf8_lossy(&settings.stdout);
    assert!(
        said.contains("umncpd shows its calendar in America/Chicago"),
        "{said}"
    );
    assert!(
        said.contains("umncpd receives texts at +18336161157"),
        "{said}"
    );
    let account = portal(
        &database,
        &key,
        &[
            "org",
            "settings",
            "--code",
            "umncpd",
            "--sms-account-sid",
            "AC0123456789abcdef0123456789abcdef",
        ],
    );
    assert!(account.status.success(), "{account:?}");
    assert!(String::from_utf8_lossy(&account.stdout)
        .contains("umncpd sends texts from its SMS account"));
    let bad_account = portal(
        &database,
        &key,
        &[
            "org",
            "settings",
            "--code",
            "umncpd",
            "--sms-account-sid",
            "AC12",
        ],
    );
    assert!(!bad_account.status.success());
    assert!(String::from_utf8_lossy(&bad_account.stderr).contains("--sms-account-sid"));
    let no_token = portal(
        &database,
        &key,
        &[
            "org",
            "settings",
            "--code",
            "umncpd",
            "--sms-number",
            "+18336161157",
        ],
    );
    assert!(!no_token.status.success());
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("PORTAL_SMS_AUTH_TOKEN"));

    let again = portal(
        &database,
        &key,
        &["org", "create", "--code", "umncpd", "--name", "Other"],
    );
    assert!(!again.status.success(), "a taken code is refused");

    let invalid = portal(
        &database,
        &key,
        &["org", "create", "--code", "no spaces", "--name", "X"],
    );
    assert!(!invalid.status.success());
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("--code"));

    let staff = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "staff",
            "add",
            "--org",
            "umncpd",
            "--email",
            "dana@example.org",
            "--first-name",
            "Dana",
        ])
        .args(["--last-name", "Coordinator"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", &key)
        .env("PORTAL_STAFF_PASSWORD", "a coordinator's long passphrase")
        .output()
        .unwrap();
    assert!(staff.status.success(), "{staff:?}");
    assert!(String::from_utf8_lossy(&staff.stdout).contains("added staff account"));
    let twice = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args([
            "staff",
            "add",
            "--org",
            "umncpd",
            "--email",
            "DANA@example.org",
            "--first-name",
            "Dana",
        ])
        .args(["--last-name", "Coordinator"])
        .env("DATABASE_URL", &database.url)
        .env("PORTAL_MASTER_KEY_FILE", &key)
        .env("PORTAL_STAFF_PASSWORD", "a coordinator's long passphrase")
        .output()
        .unwrap();
    assert!(
        !twice.status.success(),
        "the address already has an account"
    );

    // The organization and the staff account's events, plus the zone, the SMS number and the SMS account.
    let status = portal(&database, &key, &["projections", "status"]);
    assert!(status.status.success(), "{status:?}");
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("log head position: 7"),
        "{status:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_creates_its_database_prints_how_to_sign_in_and_stops_cleanly_on_sigterm() {
    let database = TestDatabase::not_yet_created();
    let dir = temp_dir();
    let (mut child, lines_rx) = super::support::spawn_printing(
        Command::new(env!("CARGO_BIN_EXE_portal"))
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--mail-dir"])
            .arg(dir.join("mail"))
            .env("DATABASE_URL", &database.url)
            .env("PORTAL_MASTER_KEY_FILE", dir.join("master.key"))
            .env_remove("PORTAL_MASTER_KEY"),
    );
    let mut address = None;
    let mut demo_printed = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && !(address.is_some() && demo_printed) {
        if let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(rest) = line.strip_prefix("portal listening on http://") {
                address = rest.split_whitespace().next().map(str::to_owned);
            }
            demo_printed |= line.contains("staff@demo.example");
        }
    }
    let address = address.expect("the server printed its address");
    assert!(demo_printed, "the server printed how to sign in");

    let client = reqwest::Client::new();
    let answer: serde_json::Value = client
        .post(format!("http://{address}/graphql"))
        .json(&json!({ "query": "mutation { signIn(input: { organizationCode: \"demo\", email: \"staff@demo.example\", password: \"portal demo staff password\" }) { token } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["data"]["signIn"]["token"].is_string(), "{answer}");

    // The demo receives texts: an unpaired number texting the demo activity's code is told to pair first.
    let url = format!("http://{address}/sms/inbound");
    let params: Vec<(String, String)> = [
        ("From", "+16125550100"),
        ("To", portal_gateway::demo::DEMO_SMS_NUMBER),
        ("Body", portal_gateway::demo::DEMO_ACTIVITY_CODE),
        ("MessageSid", "SMdemo"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let signature =
        portal_gateway::sms::signature(portal_gateway::demo::DEMO_SMS_TOKEN, &url, &params);
    let reply = client
        .post(&url)
        .header("x-twilio-signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reply.contains("User not found in system"), "{reply}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "portal did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "portal exited with {status}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_verify_names_a_tampered_row_and_an_export_imports_elsewhere() {
    let database = TestDatabase::migrated().await;
    let dir = temp_dir();
    let key = dir.join("master.key");
    let created = portal(
        &database,
        &key,
        &["org", "create", "--code", "umncpd", "--name", "UMN CPD"],
    );
    assert!(created.status.success(), "{created:?}");
    // Readers of the whole log stop below the server's oldest running transaction (tests beside this one share it).
    super::audit::settled(&database.pool).await;
    let sealed = portal(&database, &key, &["log", "checkpoint"]);
    assert!(sealed.status.success(), "{sealed:?}");
    let verified = portal(&database, &key, &["log", "verify"]);
    assert!(verified.status.success(), "{verified:?}");
    assert!(String::from_utf8_lossy(&verified.stderr).contains("verify OK"));

    // The export, imported into a database that does not exist yet.
    let file = dir.join("log.ndjson");
    let exported = portal(
        &database,
        &key,
        &["log", "export", "-o", file.to_str().unwrap()],
    );
    assert!(exported.status.success(), "{exported:?}");
    let copy = TestDatabase::not_yet_created();
    let imported = portal(
        &copy,
        &key,
        &["log", "import", "-i", file.to_str().unwrap()],
    );
    assert!(imported.status.success(), "{imported:?}");
    let said = String::from_utf8_lossy(&imported.stderr);
    assert!(
        said.contains("imported 1 event(s)") && said.contains("verify OK"),
        "{said}"
    );

    // Someone with the owner's rights sets the trigger aside and edits the organization's name.
    let client = database.pool.get().await.unwrap();
    let position: i64 = client
        .query_one("SELECT min(position) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    client
        .batch_execute(&format!(
            "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete;
             UPDATE events SET data = jsonb_set(data, '{{name}}', '\"Evil CPD\"') WHERE position = {position};
             ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete;"
        ))
        .await
        .unwrap();
    let tampered = portal(&database, &key, &["log", "verify"]);

    assert_eq!(tampered.status.code(), Some(1), "{tampered:?}");
    let said = String::from_utf8_lossy(&tampered.stderr);
    assert!(
        said.contains(&format!("verify FAILED: event at position {position} ")),
        "{said}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
