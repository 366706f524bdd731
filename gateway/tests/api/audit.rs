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
    // The owner's connection: it also reads the tables of a rebuild, which the application's role does not.
    let client = app.database.pool.get().await.unwrap();
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
pub async fn some_history(app: &TestApp) -> String {
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
    let pool = &source.state().pool;
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
    settled(&restored.state().pool).await;
    let report = integrity::verify(&restored.state().pool, &secrets)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_read_the_views_and_read_models_but_never_the_log_keys_or_personal_data() {
    use super::scheduling::{clinic, open_slots, patient, BOOK, CANCEL};
    let c = clinic().await;
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    let mut appointments = Vec::new();
    for slot in &slots[..3] {
        let booked = c
            .app
            .graphql(
                BOOK,
                json!({ "input": { "slotId": slot["id"], "reasonId": c.reason } }),
                Some(&token),
            )
            .await;
        appointments.push(booked.assert_ok()["bookAppointment"]["id"].clone());
    }
    c.app
        .graphql(CANCEL, json!({ "a": appointments[1] }), Some(&token))
        .await
        .assert_ok();
    const NO_SHOW: &str = "mutation($a: ID!) { recordNoShow(appointmentId: $a) { position } }";
    let early = c
        .app
        .graphql(NO_SHOW, json!({ "a": appointments[0] }), Some(&c.staff))
        .await;
    assert_eq!(early.error_code(), "APPOINTMENT_NOT_BEGUN");
    let refused = c
        .app
        .graphql(NO_SHOW, json!({ "a": appointments[0] }), Some(&token))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    c.app.state().advance_clock(chrono::Duration::days(6));
    // Six days on, the desk signs in again (sessions do not last that long).
    let again = c
        .app
        .sign_in("mayo", "desk@example.org", super::support::PASSWORD)
        .await;
    let staff = again.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    c.app
        .graphql(NO_SHOW, json!({ "a": appointments[0] }), Some(&staff))
        .await
        .assert_ok();
    c.app.caught_up("schedule").await;

    let per_department = c.app.as_analyst("SELECT department, sum(appointments) AS appointments, sum(booked) AS booked, sum(cancelled) AS cancelled,
                sum(no_shows) AS no_shows
         FROM analytics.appointments_per_department GROUP BY department",
    )
    .await
    .unwrap();
    assert_eq!(per_department, vec!["(Cardiology,3,1,1,1)"]);
    assert_eq!(
        c.app
            .as_analyst("SELECT status FROM appointments ORDER BY status")
            .await
            .unwrap(),
        vec!["(booked)", "(cancelled)", "(no_show)"]
    );
    assert_eq!(
        c.app
            .as_analyst("SELECT count(*) FROM accounts WHERE role = 'patient'")
            .await
            .unwrap(),
        vec!["(1)"]
    );
    for forbidden in [
        "SELECT * FROM events",
        "SELECT * FROM subject_keys",
        "SELECT * FROM commands",
        "SELECT * FROM outbox",
        "SELECT * FROM log_checkpoints",
        "SELECT email FROM accounts",
        "SELECT first_name FROM patients",
        "SELECT date_of_birth FROM signup_requests",
        "SELECT client_ip FROM sign_in_attempts",
    ] {
        assert_eq!(
            c.app.as_analyst(forbidden).await,
            Err("42501".to_owned()),
            "{forbidden}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_credit_and_attendance_views_count_what_the_transcript_holds() {
    let app = TestApp::spawn().await;
    some_history(&app).await;
    all_caught_up(&app).await;

    let credits = app.as_analyst("SELECT credit_type, learners, awards, credits FROM analytics.credits_awarded_per_month",
    )
    .await
    .unwrap();
    let attendance = app
        .as_analyst(
            "SELECT title, attendees, by_text, on_the_web, by_staff, awarded, pending
         FROM analytics.attendance_per_activity",
        )
        .await
        .unwrap();

    assert_eq!(credits, vec!["(ama_pra_category_1,1,1,1.00)"]);
    assert_eq!(attendance, vec!["(\"Sepsis Update\",1,0,1,0,1,0)"]);
}

const ME: &str = "{ me { id role status title firstName middleName lastName email registeredAt activatedAt disabled twoStepEnabled username } }";
const AS_OF: &str = "query($id: ID!, $asOf: AsOfInput!) { accountAsOf(accountId: $id, asOf: $asOf) { accountId role status title firstName middleName lastName email registeredAt activatedAt disabled twoStepEnabled username version position } }";

/// The fields `me` and `accountAsOf` share.
fn shared(account: &serde_json::Value) -> serde_json::Value {
    let mut fields = account.as_object().unwrap().clone();
    fields.retain(|k, _| k != "version" && k != "position");
    // A past state is its own object; the account it is of is `accountId`.
    if let Some(id) = fields.remove("accountId") {
        fields.insert("id".to_owned(), id);
    }
    serde_json::Value::Object(fields)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_state_as_of_a_past_time_is_what_the_api_answered_then() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let auditor = app.auditor("umncpd", "auditor@example.org").await;
    let registered = app.register("umncpd", "ada@example.org").await;
    let registered_at = registered.assert_ok()["registerAccount"]["position"].clone();
    let ada = {
        let token = app.activation_token("umncpd", "ada@example.org").await;
        app.activate(&token).await.assert_ok();
        let signed_in = app
            .sign_in("umncpd", "ada@example.org", super::support::PASSWORD)
            .await;
        signed_in.assert_ok()["signIn"].clone()
    };
    let ada_token = ada["token"].as_str().unwrap().to_owned();
    let ada_id = ada["accountId"].as_str().unwrap().to_owned();
    app.caught_up("accounts").await;
    let then = app.graphql(ME, json!({}), Some(&ada_token)).await;
    let answered_then = then.assert_ok()["me"].clone();
    let t1 = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // Later: staff disable the account.
    app.graphql(
        "mutation($id: ID!) { setAccountDisabled(input: { accountId: $id, disabled: true }) { position } }",
        json!({ "id": ada_id }),
        Some(&staff.token),
    )
    .await
    .assert_ok();

    let as_of_then = app
        .graphql(
            AS_OF,
            json!({ "id": ada_id, "asOf": { "at": t1.to_rfc3339() } }),
            Some(&auditor.token),
        )
        .await;
    let as_of_now = app
        .graphql(
            AS_OF,
            json!({ "id": ada_id, "asOf": { "at": chrono::Utc::now().to_rfc3339() } }),
            Some(&auditor.token),
        )
        .await;
    let at_registration = app
        .graphql(
            AS_OF,
            json!({ "id": ada_id, "asOf": { "position": registered_at } }),
            Some(&auditor.token),
        )
        .await;

    assert_eq!(
        shared(&as_of_then.assert_ok()["accountAsOf"]),
        answered_then
    );
    assert_eq!(answered_then["disabled"], false);
    assert_eq!(as_of_now.assert_ok()["accountAsOf"]["disabled"], true);
    let first = &at_registration.assert_ok()["accountAsOf"];
    assert_eq!(
        (&first["status"], &first["activatedAt"], &first["position"]),
        (&json!("PENDING"), &serde_json::Value::Null, &registered_at)
    );
    let before = app
        .graphql(
            AS_OF,
            json!({ "id": ada_id, "asOf": { "at": "2000-01-01T00:00:00Z" } }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(before.assert_ok()["accountAsOf"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_auditors_read_history_and_auditors_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let auditor = app.auditor("umncpd", "auditor@example.org").await;
    let stream = format!("account-{}", staff.account_id);

    let by_staff = app
        .graphql(
            "query($s: String!) { streamHistory(stream: $s) { edges { cursor } } }",
            json!({ "s": stream }),
            Some(&staff.token),
        )
        .await;
    let invalid = app
        .graphql(
            AS_OF,
            json!({ "id": staff.account_id, "asOf": {} }),
            Some(&auditor.token),
        )
        .await;
    let mutation = app
        .graphql(
            "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { status } }",
            json!({ "input": { "code": "sepsis" } }),
            Some(&auditor.token),
        )
        .await;
    let sign_out = app
        .graphql(
            "mutation { signOut { position } }",
            json!({}),
            Some(&auditor.token),
        )
        .await;

    assert_eq!(by_staff.error_code(), "FORBIDDEN");
    assert_eq!(invalid.error_code(), "AS_OF_INVALID");
    assert_eq!(mutation.error_code(), "FORBIDDEN");
    assert!(sign_out.body.get("errors").is_none(), "{}", sign_out.body);
}

const HISTORY: &str = "query($s: String!, $after: String) { streamHistory(stream: $s, first: 2, after: $after) { edges { cursor node { position stream version eventType schemaVersion recordedAt actor command commandId correlationId data hash } } pageInfo { hasNextPage endCursor } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_pages_through_a_stream_as_it_was_written_within_their_organization() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.create_organization("mayo").await;
    let auditor = app.auditor("umncpd", "auditor@example.org").await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    let elsewhere = app.learner("mayo", "grace@example.org").await;
    let stream = format!("account-{}", ada.account_id);

    let first = app
        .graphql(HISTORY, json!({ "s": stream }), Some(&auditor.token))
        .await;
    let page = first.assert_ok()["streamHistory"].clone();
    let mut all: Vec<serde_json::Value> = page["edges"].as_array().unwrap().clone();
    let mut cursor = page["pageInfo"].clone();
    while cursor["hasNextPage"] == true {
        let next = app
            .graphql(
                HISTORY,
                json!({ "s": stream, "after": cursor["endCursor"] }),
                Some(&auditor.token),
            )
            .await;
        let next = next.assert_ok()["streamHistory"].clone();
        all.extend(next["edges"].as_array().unwrap().iter().cloned());
        cursor = next["pageInfo"].clone();
    }
    let streams = app
        .graphql(
            "query($id: ID!) { streamsOf(accountId: $id) }",
            json!({ "id": ada.account_id }),
            Some(&auditor.token),
        )
        .await;
    let other = app
        .graphql(
            HISTORY,
            json!({ "s": format!("account-{}", elsewhere.account_id) }),
            Some(&auditor.token),
        )
        .await;

    assert_eq!(page["edges"].as_array().unwrap().len(), 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let versions: Vec<i64> = all
        .iter()
        .map(|e| e["node"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, (1..=all.len() as i64).collect::<Vec<_>>());
    let types: Vec<&str> = all
        .iter()
        .map(|e| e["node"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types.first(), Some(&"AccountRegistered"));
    assert_eq!(types.last(), Some(&"SignInSucceeded"));
    assert!(types.contains(&"AccountActivated"), "{types:?}");
    let registered = &all[0]["node"];
    assert_eq!(registered["command"], "RegisterAccount");
    assert_eq!(registered["actor"], "anonymous");
    assert_eq!(registered["hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        registered["data"]["email"],
        json!({ "$pii": "ada@example.org" }),
        "personal fields are marked as such"
    );
    assert_eq!(streams.assert_ok()["streamsOf"], json!([stream]));
    assert_eq!(other.assert_ok()["streamHistory"]["edges"], json!([]));
}

const TRANSCRIPT: &str = "query($at: LogPosition) { transcript(atLeast: $at) { entries { activityId title date creditType creditLabel amount status pendingReasons channel recordedAt awardedAt evaluationRequired evaluatedAt } } }";
const TRANSCRIPT_AS_OF: &str = "query($id: ID!, $asOf: AsOfInput!) { transcriptAsOf(learnerId: $id, asOf: $asOf) { activityId title date creditType creditLabel amount status pendingReasons channel recordedAt awardedAt evaluationRequired evaluatedAt } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_transcript_as_of_a_past_position_is_what_the_transcript_showed_then() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let auditor = app.auditor("umncpd", "auditor@example.org").await;
    app.schedule(&staff.token, course("Sepsis Update", "SEPSIS", -5, 55))
        .await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    let recorded = app
        .graphql(
            "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { status position } }",
            json!({ "input": { "code": "sepsis" } }),
            Some(&ada.token),
        )
        .await;
    let held_at = recorded.assert_ok()["recordAttendance"]["position"].clone();
    let then = app
        .graphql(TRANSCRIPT, json!({ "at": held_at }), Some(&ada.token))
        .await;
    let answered_then = then.assert_ok()["transcript"]["entries"].clone();
    let completed = app
        .graphql(
            "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { position creditAwardedFor } }",
            complete_profile(),
            Some(&ada.token),
        )
        .await;
    completed.assert_ok();
    // The award follows the profile's commit in a commit of its own: wait for the transcript to hold it.
    let awarded_at = app.caught_up("transcript").await;
    let now = app
        .graphql(TRANSCRIPT, json!({ "at": awarded_at }), Some(&ada.token))
        .await;
    let answered_now = now.assert_ok()["transcript"]["entries"].clone();

    let replayed_then = app
        .graphql(
            TRANSCRIPT_AS_OF,
            json!({ "id": ada.account_id, "asOf": { "position": held_at } }),
            Some(&auditor.token),
        )
        .await;
    let replayed_now = app
        .graphql(
            TRANSCRIPT_AS_OF,
            json!({ "id": ada.account_id, "asOf": { "at": chrono::Utc::now().to_rfc3339() } }),
            Some(&auditor.token),
        )
        .await;

    assert_eq!(answered_then[0]["status"], "PENDING");
    assert_eq!(answered_now[0]["status"], "AWARDED");
    assert_eq!(replayed_then.assert_ok()["transcriptAsOf"], answered_then);
    assert_eq!(replayed_now.assert_ok()["transcriptAsOf"], answered_now);
}

/// Everything the tests' patient 1 typed or was given: none of it may survive an erasure anywhere.
const PATIENT_ONE: &[&str] = &[
    "patient1@example.org",
    "Number1",
    "MC000001",
    "1970-01-01",
    // The contact given for one appointment only.
    "pat.mobile@example.net",
    "+16125550177",
];

fn assert_clean(what: &str, text: &str) {
    for value in PATIENT_ONE {
        assert!(
            !text.contains(value),
            "{what} still holds {value:?}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_erasure_no_read_model_export_or_replay_holds_the_persons_data_and_the_log_verifies(
) {
    use super::scheduling::{clinic, open_slots, patient, BOOK};
    use portal_projections::accounts::Accounts;
    use portal_projections::patients::Patients;
    use portal_projections::runner::rebuild_into;
    use portal_projections::Source;

    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    // Reminders of this one go to an address and a number given for it alone.
    app.graphql(
        BOOK,
        json!({ "input": { "slotId": slots[0]["id"], "reasonId": c.reason,
                           "contactEmail": "pat.mobile@example.net", "contactPhone": "612-555-0177" } }),
        Some(&token),
    )
    .await
    .assert_ok();
    // A cancellation in the patient's own words, which may name anything about them.
    let second = app
        .graphql(
            BOOK,
            json!({ "input": { "slotId": slots[1]["id"], "reasonId": c.reason } }),
            Some(&token),
        )
        .await;
    app.graphql(
        "mutation($a: ID!) { cancelAppointment(appointmentId: $a, reason: \"MC000001 is moving away\") { position } }",
        json!({ "a": second.assert_ok()["bookAppointment"]["id"] }),
        Some(&token),
    )
    .await
    .assert_ok();
    let auditor = app.auditor("mayo", "auditor@example.org").await;
    app.caught_up("accounts").await;
    let me = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    let patient_id = me.assert_ok()["me"]["id"].as_str().unwrap().to_owned();
    let before = app
        .graphql(
            HISTORY,
            json!({ "s": format!("account-{patient_id}") }),
            Some(&auditor.token),
        )
        .await;
    assert!(before.body.to_string().contains("patient1@example.org"));

    const ERASE: &str =
        "mutation($id: ID!) { erasePersonalData(input: { accountId: $id }) { position } }";
    let by_patient = app
        .graphql(ERASE, json!({ "id": patient_id }), Some(&token))
        .await;
    assert_eq!(by_patient.error_code(), "FORBIDDEN");
    let erased = app
        .graphql(ERASE, json!({ "id": patient_id }), Some(&c.staff))
        .await;
    assert!(erased.assert_ok()["erasePersonalData"]["position"].is_i64());
    let again = app
        .graphql(ERASE, json!({ "id": patient_id }), Some(&c.staff))
        .await;
    assert_eq!(
        again.assert_ok()["erasePersonalData"]["position"],
        serde_json::Value::Null
    );
    all_caught_up(app).await;
    let state = app.state();

    // Read models.
    for (_, tables) in READ_MODELS {
        for table in *tables {
            assert_clean(table, &rows(app, table).await.join("\n"));
        }
    }
    let record = rows(app, "patients").await;
    assert_eq!(record.len(), 1, "the record stays, without its data");

    // Read models rebuilt from the log.
    let source = Source {
        log: state.store.log.clone(),
        keys: state.store.keys.clone(),
    };
    rebuild_into(
        &Accounts,
        &source,
        &app.database.pool,
        "erased_accounts",
        50,
    )
    .await
    .unwrap();
    rebuild_into(
        &Patients,
        &source,
        &app.database.pool,
        "erased_patients",
        50,
    )
    .await
    .unwrap();
    for table in [
        "erased_accounts.accounts",
        "erased_accounts.account_phones",
        "erased_patients.patients",
        "erased_patients.signup_requests",
    ] {
        assert_clean(table, &rows(app, table).await.join("\n"));
    }

    // Replays.
    for stream in app
        .graphql(
            "query($id: ID!) { streamsOf(accountId: $id) }",
            json!({ "id": patient_id }),
            Some(&auditor.token),
        )
        .await
        .assert_ok()["streamsOf"]
        .as_array()
        .unwrap()
    {
        let history = app
            .graphql(
                "query($s: String!) { streamHistory(stream: $s, first: 500) { edges { node { eventType data } } } }",
                json!({ "s": stream }),
                Some(&auditor.token),
            )
            .await;
        assert_clean(stream.as_str().unwrap(), &history.assert_ok().to_string());
    }
    let as_of = app
        .graphql(
            AS_OF,
            json!({ "id": patient_id, "asOf": { "at": chrono::Utc::now().to_rfc3339() } }),
            Some(&auditor.token),
        )
        .await;
    let account = as_of.assert_ok()["accountAsOf"].clone();
    assert_eq!(
        (
            &account["email"],
            &account["lastName"],
            &account["disabled"]
        ),
        (
            &serde_json::Value::Null,
            &serde_json::Value::Null,
            &json!(true)
        )
    );

    // The export, the outbox, and the log's integrity.
    settled(&state.pool).await;
    integrity::seal_all(&state.pool, &state.store.secrets)
        .await
        .unwrap();
    let mut file = Vec::new();
    portability::export(&state.pool, &Scope::All, &mut file)
        .await
        .unwrap();
    assert_clean("the export", &String::from_utf8(file).unwrap());
    let outbox = rows(app, "outbox").await.join("\n");
    assert_clean("the outbox", &outbox);
    let report = integrity::verify(&state.pool, &state.store.secrets)
        .await
        .unwrap();
    assert_eq!(report.finding, None);

    // The person can no longer sign in; the address is free for a new registration.
    let signed_in = app
        .graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
            json!({ "input": { "organizationCode": "mayo", "username": "patient1", "password": super::support::PASSWORD } }),
            None,
        )
        .await;
    assert!(signed_in.body.get("errors").is_some(), "{}", signed_in.body);
    let stale = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    assert_eq!(stale.error_code(), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_never_activated_are_erased_by_the_retention_rule() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.register("umncpd", "late@example.org").await.assert_ok();
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.caught_up("accounts").await;
    let state = app.state();

    let too_soon = portal_gateway::retention::erase_unactivated(state, 30).await;
    state.advance_clock(chrono::Duration::days(31));
    let erased = portal_gateway::retention::erase_unactivated(state, 30).await;
    app.caught_up("accounts").await;

    assert_eq!((too_soon, erased), (0, 1));
    let accounts = rows(&app, "accounts").await.join("\n");
    assert!(!accounts.contains("late@example.org"), "{accounts}");
    assert!(
        accounts.contains("ada@example.org"),
        "activated accounts stay"
    );
    let client = state.pool.get().await.unwrap();
    let erased_at: Option<chrono::DateTime<chrono::Utc>> = client
        .query_one(
            "SELECT erased_at FROM accounts WHERE id <> $1::text::uuid AND role = 'learner'",
            &[&ada.account_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(erased_at.is_some());
    let by: String = client
        .query_one(
            "SELECT data->'by'->>'rule' FROM events WHERE event_type = 'PersonalDataErased'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(by, "unactivated_registration");
}

const ACCESS_LOG: &str = "query($p: ID) { accessLog(patientId: $p) { edges { node { actorId actorRole patientAccountId patientRecordId resource field clientIp correlationId } } pageInfo { hasNextPage } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_of_a_patients_data_by_staff_or_auditors_is_in_the_access_log() {
    use super::scheduling::{clinic, open_slots, patient, BOOK};
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    let booked = app
        .graphql(
            BOOK,
            json!({ "input": { "slotId": slots[0]["id"], "reasonId": c.reason } }),
            Some(&token),
        )
        .await;
    let at = booked.assert_ok()["bookAppointment"]["position"].clone();
    let auditor = app.auditor("mayo", "auditor@example.org").await;
    app.caught_up("accounts").await;
    app.caught_up("patients").await;
    let me = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    let patient_id = me.assert_ok()["me"]["id"].as_str().unwrap().to_owned();
    let nobody_yet = app
        .graphql(ACCESS_LOG, json!({ "p": patient_id }), Some(&auditor.token))
        .await;
    assert_eq!(
        nobody_yet.assert_ok()["accessLog"]["edges"],
        json!([]),
        "the patient's own reads are not recorded"
    );

    let found = app
        .graphql(
            "{ patients(search: \"Number1\") { id accountId } }",
            json!({}),
            Some(&c.staff),
        )
        .await;
    let record_id = found.assert_ok()["patients"][0]["id"].clone();
    let date = slots[0]["startsAt"].as_str().unwrap()[..10].to_owned();
    app.graphql(
        "query($p: ID!, $d: NaiveDate!, $at: LogPosition) { providerDay(providerId: $p, date: $d, atLeast: $at) { patientId } }",
        json!({ "p": c.provider, "d": date, "at": at }),
        Some(&c.staff),
    )
    .await
    .assert_ok();
    app.graphql(
        "query($id: ID!) { account(id: $id) { email } }",
        json!({ "id": patient_id }),
        Some(&c.staff),
    )
    .await
    .assert_ok();
    app.graphql(
        "query($s: String!) { streamHistory(stream: $s) { edges { cursor } } }",
        json!({ "s": format!("account-{patient_id}") }),
        Some(&auditor.token),
    )
    .await
    .assert_ok();

    let by_account = app
        .graphql(ACCESS_LOG, json!({ "p": patient_id }), Some(&auditor.token))
        .await;
    let by_record = app
        .graphql(ACCESS_LOG, json!({ "p": record_id }), Some(&auditor.token))
        .await;
    let by_staff = app
        .graphql(ACCESS_LOG, json!({ "p": patient_id }), Some(&c.staff))
        .await;

    let entries: Vec<(String, String, String)> = by_account.assert_ok()["accessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["actorRole"].as_str().unwrap().to_owned(),
                n["resource"].as_str().unwrap().to_owned(),
                n["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        entries,
        vec![
            expect("staff", "patient_record", "patients"),
            expect("staff", "appointment", "providerDay"),
            expect("staff", "account", "account"),
            expect("auditor", "history", "streamHistory"),
        ]
    );
    let first = &by_account.assert_ok()["accessLog"]["edges"][0]["node"];
    assert_eq!(first["patientRecordId"], record_id);
    assert_eq!(first["clientIp"], "127.0.0.1");
    assert!(first["correlationId"].is_string());
    assert_eq!(
        by_record.assert_ok()["accessLog"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        4,
        "a patient is found by their record id as by their account id"
    );
    assert_eq!(by_staff.error_code(), "FORBIDDEN");

    let client = app.state().pool.get().await.unwrap();
    let tampering = client
        .batch_execute("UPDATE access_log SET actor_role = 'nobody'")
        .await;
    assert!(tampering.is_err(), "the access log is append-only");
}
