//! The patient portal beyond scheduling (issue 10, seed 001): messages with the care team, test results, bills,
//! prescription renewals and proxy access, through the HTTP API.

use serde_json::{json, Value};

use super::scheduling::{clinic, open_slots, patient, patient_born, Clinic, BOOK};
use super::support::{Learner, TestApp, PASSWORD};

async fn account_id(app: &TestApp, token: &str) -> String {
    let at = app.caught_up("accounts").await;
    app.graphql(
        "query($at: LogPosition) { me(atLeast: $at) { id } }",
        json!({ "at": at }),
        Some(token),
    )
    .await
    .assert_ok()["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Signs patient `n` in again (after the clock moved past their session).
async fn sign_in_again(app: &TestApp, n: usize) -> String {
    app.graphql(
        "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
        json!({ "input": { "organizationCode": "mayo", "username": format!("patient{n}"), "password": PASSWORD } }),
        None,
    )
    .await
    .assert_ok()["signIn"]["token"]
    .as_str()
    .unwrap()
    .to_owned()
}

fn position(answer: &Value, field: &str) -> i64 {
    answer[field]["position"].as_i64().unwrap()
}

fn id(answer: &Value, field: &str) -> String {
    answer[field]["id"].as_str().unwrap().to_owned()
}

/// Books the clinic's provider's first open slot for the patient (`acting_for`: as their proxy).
async fn book(c: &Clinic, token: &str, acting_for: Option<&str>) -> Value {
    let slots = open_slots(c, token).await;
    let input = json!({ "input": { "slotId": slots[0]["id"], "reasonId": c.reason } });
    let answer = match acting_for {
        Some(patient) => c.app.graphql_for(BOOK, input, token, patient).await,
        None => c.app.graphql(BOOK, input, Some(token)).await,
    };
    answer.assert_ok()["bookAppointment"].clone()
}

/// A provider account on the clinic's provider's care team, with `others` (staff or providers) beside them.
async fn care_team(c: &Clinic, email: &str, others: &[&Learner]) -> Learner {
    let provider = c.app.provider("mayo", email).await;
    let mut members = vec![provider.account_id.clone()];
    members.extend(others.iter().map(|m| m.account_id.clone()));
    c.app
        .graphql(
            "mutation($t: ID!, $m: [ID!]!) { setCareTeamMembers(teamId: $t, memberIds: $m) { position } }",
            json!({ "t": c.provider, "m": members }),
            Some(&c.staff),
        )
        .await
        .assert_ok();
    provider
}

const START: &str = "mutation($input: StartConversationInput!) { startConversation(input: $input) { id position } }";
const REPLY: &str =
    "mutation($input: ReplyInput!) { replyToConversation(input: $input) { id position } }";
const READ: &str = "mutation($c: ID!) { markConversationRead(conversationId: $c) { position } }";
const CONVERSATION: &str =
    "query($id: ID!, $at: LogPosition) { conversation(id: $id, atLeast: $at) {
    status assigneeId unreadCount messageCount messages { from body readAt authorId } } }";
const INBOX: &str =
    "query($pool: Boolean, $at: LogPosition) { careTeamInbox(poolOnly: $pool, atLeast: $at) {
    id subject unreadCount assigneeId patientName } }";
const CONVERSATIONS: &str =
    "query($at: LogPosition) { conversations(atLeast: $at) { id subject unreadCount status } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_with_the_care_team_counts_unread_messages_and_receipts_and_closes_when_idle(
) {
    let c = clinic().await;
    let app = &c.app;
    let patient = patient(app, &c.staff, 1).await;
    let nurse = app.provider("mayo", "nurse@example.org").await;
    let doctor = care_team(&c, "doctor@example.org", &[&nurse]).await;
    let outsider = app.provider("mayo", "outsider@example.org").await;
    let ids = |answer: &Value, field: &str| {
        let mut ids: Vec<String> = answer[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let team = app
        .graphql(
            "query($t: ID!) { careTeamMembers(teamId: $t) { id } careTeamCandidates { id role } }",
            json!({ "t": c.provider }),
            Some(&c.staff),
        )
        .await;
    let mut on_team = vec![doctor.account_id.clone(), nurse.account_id.clone()];
    on_team.sort();
    assert_eq!(ids(team.assert_ok(), "careTeamMembers"), on_team);
    let candidates = ids(team.assert_ok(), "careTeamCandidates");
    assert!(
        on_team
            .iter()
            .chain([&outsider.account_id])
            .all(|id| candidates.contains(id)),
        "every provider of the organization may be put on the team"
    );
    let refused = app
        .graphql(
            "query($t: ID!) { careTeamMembers(teamId: $t) { id } }",
            json!({ "t": c.provider }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN", "staff only");
    let input = |team: &str| json!({ "input": { "teamId": team, "subject": "My new tablets", "body": "Should I take them with food?" } });

    let not_seen = app.graphql(START, input(&c.provider), Some(&patient)).await;
    assert_eq!(
        not_seen.error_code(),
        "PROVIDER_NOT_SEEN",
        "no appointment with the provider yet"
    );
    book(&c, &patient, None).await;
    app.caught_up("schedule").await;
    let started = app.graphql(START, input(&c.provider), Some(&patient)).await;
    let conversation = id(started.assert_ok(), "startConversation");
    let at = position(started.assert_ok(), "startConversation");

    let pool = app
        .graphql(
            INBOX,
            json!({ "pool": true, "at": at }),
            Some(&doctor.token),
        )
        .await;
    let pool = pool.assert_ok()["careTeamInbox"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(pool.len(), 1, "the conversation waits in the team's pool");
    assert_eq!(pool[0]["unreadCount"], 1);
    assert_eq!(pool[0]["subject"], "My new tablets");
    assert_eq!(
        pool[0]["patientName"], "Pat Number1",
        "the care team sees whose it is"
    );
    let outside = app
        .graphql(
            CONVERSATION,
            json!({ "id": conversation }),
            Some(&outsider.token),
        )
        .await;
    assert_eq!(outside.error_code(), "NOT_ON_CARE_TEAM");

    let reply = |text: &str| json!({ "input": { "conversationId": conversation, "body": text } });
    let answered = app
        .graphql(REPLY, reply("Yes, with breakfast."), Some(&doctor.token))
        .await;
    let at = position(answered.assert_ok(), "replyToConversation");
    let taken = app
        .graphql(
            "mutation($c: ID!) { pickUpConversation(conversationId: $c) { position } }",
            json!({ "c": conversation }),
            Some(&nurse.token),
        )
        .await;
    assert_eq!(
        taken.error_code(),
        "PICKED_UP_BY_ANOTHER",
        "answering picked it up"
    );
    let mine = app
        .graphql(
            INBOX,
            json!({ "pool": false, "at": at }),
            Some(&doctor.token),
        )
        .await;
    let mine = mine.assert_ok()["careTeamInbox"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["assigneeId"], doctor.account_id.as_str());
    assert_eq!(mine[0]["unreadCount"], 0, "writing is reading");

    let listed = app
        .graphql(CONVERSATIONS, json!({ "at": at }), Some(&patient))
        .await;
    assert_eq!(listed.assert_ok()["conversations"][0]["unreadCount"], 1);
    let mail = app
        .mail_to("patient1@example.org", "A message from your care team")
        .await;
    assert!(
        !mail.contains("breakfast") && !mail.contains("tablets"),
        "the notice never carries the message: {mail}"
    );

    let seen = app
        .graphql(
            CONVERSATION,
            json!({ "id": conversation, "at": at }),
            Some(&patient),
        )
        .await;
    let seen = seen.assert_ok()["conversation"].clone();
    assert_eq!(seen["messageCount"], 2);
    assert_eq!(seen["messages"][1]["from"], "care_team");
    assert_eq!(seen["messages"][1]["authorId"], doctor.account_id.as_str());
    assert!(seen["messages"][1]["readAt"].is_null(), "not read yet");
    let read = app
        .graphql(READ, json!({ "c": conversation }), Some(&patient))
        .await;
    let at = position(read.assert_ok(), "markConversationRead");
    let seen = app
        .graphql(
            CONVERSATION,
            json!({ "id": conversation, "at": at }),
            Some(&patient),
        )
        .await;
    let seen = seen.assert_ok()["conversation"].clone();
    assert_eq!(seen["unreadCount"], 0);
    assert!(
        seen["messages"][1]["readAt"].is_string(),
        "the doctor's read receipt"
    );
    let again = app
        .graphql(READ, json!({ "c": conversation }), Some(&patient))
        .await;
    assert!(
        again.assert_ok()["markConversationRead"]["position"].is_null(),
        "nothing was unread: nothing recorded"
    );

    let followed = app
        .graphql(REPLY, reply("Thank you! And at night?"), Some(&patient))
        .await;
    let at = position(followed.assert_ok(), "replyToConversation");
    let team_view = app
        .graphql(
            CONVERSATION,
            json!({ "id": conversation, "at": at }),
            Some(&nurse.token),
        )
        .await;
    assert_eq!(team_view.assert_ok()["conversation"]["unreadCount"], 1);
    let read = app
        .graphql(READ, json!({ "c": conversation }), Some(&nurse.token))
        .await;
    let at = position(read.assert_ok(), "markConversationRead");
    let team_view = app
        .graphql(
            CONVERSATION,
            json!({ "id": conversation, "at": at }),
            Some(&doctor.token),
        )
        .await;
    let team_view = team_view.assert_ok()["conversation"].clone();
    assert_eq!(team_view["unreadCount"], 0);
    assert!(team_view["messages"][2]["readAt"].is_string());

    let logged: i64 = app
        .state()
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM access_log WHERE actor_id = $1::text::uuid AND resource = 'conversation'",
            &[&doctor.account_id],
        )
        .await
        .unwrap()
        .get(0);
    assert!(logged >= 2, "the care team's reads are in the access log");

    // An auditor reading a later page of the conversation's history is in the access log as reading the patient.
    let patient_id = account_id(app, &patient).await;
    let auditor = app.auditor("mayo", "audit@example.org").await;
    let page = app
        .graphql(
            "query($s: String!) { streamHistory(stream: $s, after: \"2\") { edges { node { eventType } } } }",
            json!({ "s": format!("conversation-{conversation}") }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(
        page.assert_ok()["streamHistory"]["edges"][0]["node"]["eventType"],
        "ConversationPickedUp"
    );
    let logged: i64 = app
        .state()
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM access_log WHERE actor_id = $1::text::uuid AND patient_account_id = $2::text::uuid",
            &[&auditor.account_id, &patient_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(logged, 1, "the page names no patient; the stream does");

    app.state().advance_clock(chrono::Duration::days(15));
    // The server's own sweep runs every 30 seconds too: whichever runs first closes it, once.
    portal_gateway::care_timers::sweep(app.state()).await;
    // Sessions did not last the fortnight: the patient signs in again.
    let patient = sign_in_again(app, 1).await;
    let late = app
        .graphql(REPLY, reply("Hello again"), Some(&patient))
        .await;
    assert_eq!(late.error_code(), "CONVERSATION_CLOSED");
    let at = app.caught_up("care").await;
    let closings: i64 = app
        .state()
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM events WHERE event_type = 'ConversationClosed' AND data->>'by' IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        closings, 1,
        "closed once, for inactivity (quiet longer than the default 14 days)"
    );
    let listed = app
        .graphql(CONVERSATIONS, json!({ "at": at }), Some(&patient))
        .await;
    assert_eq!(listed.assert_ok()["conversations"][0]["status"], "closed");
}

const RECORD: &str =
    "mutation($input: RecordTestResultInput!) { recordTestResult(input: $input) { id position } }";
const RESULTS: &str =
    "query($code: String, $at: LogPosition) { testResults(testCode: $code, atLeast: $at) {
    id testCode testName value unit flag referenceRange orderingProvider releasedAt } }";

fn result(c: &Clinic, patient: &str, value: &str, hours_ago: i64) -> Value {
    json!({ "input": {
        "patientId": patient, "testCode": "hba1c", "testName": "Hemoglobin A1c", "value": value, "unit": "%",
        "referenceRange": "4.0-5.6 %", "flag": "HIGH", "orderingProviderId": c.provider,
        "observedAt": chrono::Utc::now() - chrono::Duration::hours(hours_ago),
    } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_is_held_back_until_released_and_the_patient_keeps_each_tests_history() {
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let patient_id = account_id(app, &token).await;
    let doctor = app.provider("mayo", "doctor@example.org").await;

    let recorded = app
        .graphql(RECORD, result(&c, &patient_id, "6.1", 3), Some(&c.staff))
        .await;
    let first = id(recorded.assert_ok(), "recordTestResult");
    let at = position(recorded.assert_ok(), "recordTestResult");
    let held = app
        .graphql(RESULTS, json!({ "at": at }), Some(&token))
        .await;
    assert_eq!(held.assert_ok()["testResults"], json!([]), "held back");
    let waiting = app
        .graphql(
            "query($at: LogPosition) { heldTestResults(atLeast: $at) { id patientName } }",
            json!({ "at": at }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(
        waiting.assert_ok()["heldTestResults"],
        json!([{ "id": first, "patientName": "Pat Number1" }]),
        "the care team sees whose result waits"
    );
    let review = app
        .graphql(
            "query($p: ID!) { patientTestResults(patientId: $p) { id releasedAt } }",
            json!({ "p": patient_id }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(
        review.assert_ok()["patientTestResults"][0]["id"],
        first.as_str()
    );
    assert!(review.assert_ok()["patientTestResults"][0]["releasedAt"].is_null());

    let release = "mutation($r: ID!) { releaseTestResult(resultId: $r) { position } }";
    let by_staff = app
        .graphql(release, json!({ "r": first }), Some(&c.staff))
        .await;
    assert_eq!(
        by_staff.error_code(),
        "FORBIDDEN",
        "providers release results"
    );
    let released = app
        .graphql(release, json!({ "r": first }), Some(&doctor.token))
        .await;
    let at = position(released.assert_ok(), "releaseTestResult");
    let seen = app
        .graphql(RESULTS, json!({ "at": at }), Some(&token))
        .await;
    let seen = seen.assert_ok()["testResults"][0].clone();
    assert_eq!(
        (
            seen["testCode"].as_str(),
            seen["value"].as_str(),
            seen["flag"].as_str()
        ),
        (Some("HBA1C"), Some("6.1"), Some("high"))
    );
    assert_eq!(seen["orderingProvider"], "Dr. Ada Lovelace");
    let mail = app
        .mail_to("patient1@example.org", "A new test result")
        .await;
    assert!(
        !mail.contains("6.1") && !mail.contains("Hemoglobin"),
        "{mail}"
    );

    let refused = app
        .graphql(
            "mutation { setCarePolicy(conversationIdleDays: 0) { position } }",
            json!({}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(refused.error_code(), "POLICY_INVALID");
    assert_eq!(
        refused.body["errors"][0]["extensions"]["field"],
        "conversationIdleDays"
    );
    // A delay for the test: the next result is released by itself a day after it is recorded.
    app.graphql(
        "mutation { setCarePolicy(conversationIdleDays: 14, releaseDelays: [{ testCode: \"HBA1C\", hours: 24 }]) { position } }",
        json!({}),
        Some(&c.staff),
    )
    .await
    .assert_ok();
    let second = app
        .graphql(RECORD, result(&c, &patient_id, "5.9", 1), Some(&c.staff))
        .await;
    let at = position(second.assert_ok(), "recordTestResult");
    let still = app
        .graphql(RESULTS, json!({ "at": at }), Some(&token))
        .await;
    assert_eq!(
        still.assert_ok()["testResults"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        portal_gateway::care_timers::sweep(app.state())
            .await
            .released,
        0,
        "not due yet"
    );
    app.state().advance_clock(chrono::Duration::hours(25));
    // The server's own sweep may release it first: either way it is released.
    portal_gateway::care_timers::sweep(app.state()).await;
    let token = sign_in_again(app, 1).await;
    let at = app.caught_up("care").await;
    let history = app
        .graphql(RESULTS, json!({ "code": "hba1c", "at": at }), Some(&token))
        .await;
    let values: Vec<&str> = history.assert_ok()["testResults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["5.9", "6.1"], "the test's history, latest first");

    let by_patient = app
        .graphql(RECORD, result(&c, &patient_id, "5.0", 1), Some(&token))
        .await;
    assert_eq!(by_patient.error_code(), "FORBIDDEN");
    let mut bad = result(&c, &patient_id, "high-ish", 1);
    bad["input"]["testCode"] = json!("A1C; DROP");
    let staff = app.sign_in("mayo", "desk@example.org", PASSWORD).await;
    let staff = staff.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app.graphql(RECORD, bad, Some(&staff)).await;
    let fields: Vec<&str> = refused.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default())
        .collect();
    assert!(
        fields.contains(&"input.testCode") && fields.contains(&"input.value"),
        "{}",
        refused.body
    );
}

const BILLING: &str = "query($at: LogPosition) { billing(atLeast: $at) { balance paperless
    statements { id total balance status items { description amount } payments { amount processorReference } } } }";
const PAY: &str =
    "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { id position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bill_is_paid_in_two_payments_recorded_by_the_processors_references() {
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let patient_id = account_id(app, &token).await;
    let due = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let issue =
        "mutation($input: IssueStatementInput!) { issueStatement(input: $input) { id position } }";
    let issued = app
        .graphql(
            issue,
            json!({ "input": { "patientId": patient_id, "dueOn": due, "items": [
                { "description": "Office visit", "amount": "100.00" },
                { "description": "Lab work", "amount": "25.5" } ] } }),
            Some(&c.staff),
        )
        .await;
    let statement = id(issued.assert_ok(), "issueStatement");
    let at = position(issued.assert_ok(), "issueStatement");
    let billing = app
        .graphql(BILLING, json!({ "at": at }), Some(&token))
        .await;
    let billing = billing.assert_ok()["billing"].clone();
    assert_eq!(billing["balance"], "125.50");
    assert_eq!(billing["statements"][0]["items"][1]["amount"], "25.50");
    assert_eq!(billing["statements"][0]["status"], "open");

    let pay = |amount: &str, reference: &str| {
        json!({ "input": { "statementId": statement, "amount": amount, "processorReference": reference,
                           "paidAt": chrono::Utc::now() } })
    };
    let first = app
        .graphql(PAY, pay("100.00", "ch_1"), Some(&c.staff))
        .await;
    let at = position(first.assert_ok(), "recordPayment");
    let billing = app
        .graphql(BILLING, json!({ "at": at }), Some(&token))
        .await;
    assert_eq!(billing.assert_ok()["billing"]["balance"], "25.50");
    let over = app.graphql(PAY, pay("30.00", "ch_2"), Some(&c.staff)).await;
    assert_eq!(over.error_code(), "OVERPAYMENT");
    assert_eq!(
        over.body["errors"][0]["extensions"]["field"],
        "input.amount"
    );
    let malformed = app.graphql(PAY, pay("1.234", "ch_2"), Some(&c.staff)).await;
    assert_eq!(malformed.error_code(), "AMOUNT_INVALID");
    let by_patient = app.graphql(PAY, pay("25.50", "ch_2"), Some(&token)).await;
    assert_eq!(
        by_patient.error_code(),
        "FORBIDDEN",
        "payments are recorded by staff or the billing system"
    );
    let second = app.graphql(PAY, pay("25.50", "ch_2"), Some(&c.staff)).await;
    let at = position(second.assert_ok(), "recordPayment");
    let told_twice = app.graphql(PAY, pay("25.50", "ch_2"), Some(&c.staff)).await;
    assert!(
        told_twice.assert_ok()["recordPayment"]["position"].is_null(),
        "the processor's reference makes a second notice of one payment a no-op"
    );
    let billing = app
        .graphql(BILLING, json!({ "at": at }), Some(&token))
        .await;
    let billing = billing.assert_ok()["billing"].clone();
    assert_eq!(billing["balance"], "0.00");
    assert_eq!(billing["statements"][0]["status"], "paid");
    let references: Vec<&str> = billing["statements"][0]["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["processorReference"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["ch_1", "ch_2"]);

    let paperless = app
        .graphql(
            "mutation { setPaperlessBilling(paperless: true) { position } }",
            json!({}),
            Some(&token),
        )
        .await;
    let at = position(paperless.assert_ok(), "setPaperlessBilling");
    let billing = app
        .graphql(BILLING, json!({ "at": at }), Some(&token))
        .await;
    assert_eq!(billing.assert_ok()["billing"]["paperless"], true);
    app.graphql(
        issue,
        json!({ "input": { "patientId": patient_id, "dueOn": due, "items": [{ "description": "Follow-up", "amount": "40" }] } }),
        Some(&c.staff),
    )
    .await
    .assert_ok();
    let mail = app.mail_to("patient1@example.org", "A new statement").await;
    assert!(
        mail.contains(&due.to_string()) && !mail.contains("Follow-up"),
        "{mail}"
    );
}

const MEDICATIONS: &str =
    "query($at: LogPosition) { medications(atLeast: $at) { id medication active
    renewals { id status declineReason } } }";
const RENEW: &str =
    "mutation($m: ID!) { requestRenewal(medicationId: $m, note: \"Running low\") { id position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_approves_one_renewal_and_declines_another_with_a_reason() {
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let patient_id = account_id(app, &token).await;
    let doctor = app.provider("mayo", "doctor@example.org").await;
    let prescribe = |name: &str| {
        json!({ "input": { "patientId": patient_id, "medication": name, "instructions": "1 tablet by mouth daily",
                           "prescriberId": c.provider } })
    };
    let mut medications = vec![];
    for name in ["Lisinopril 10 mg tablet", "Atorvastatin 20 mg tablet"] {
        let answer = app
            .graphql(
                "mutation($input: PrescribeMedicationInput!) { prescribeMedication(input: $input) { id } }",
                prescribe(name),
                Some(&doctor.token),
            )
            .await;
        medications.push(id(answer.assert_ok(), "prescribeMedication"));
    }
    let first = app
        .graphql(RENEW, json!({ "m": medications[0] }), Some(&token))
        .await;
    let first = id(first.assert_ok(), "requestRenewal");
    let again = app
        .graphql(RENEW, json!({ "m": medications[0] }), Some(&token))
        .await;
    assert_eq!(again.error_code(), "RENEWAL_PENDING");
    let second = app
        .graphql(RENEW, json!({ "m": medications[1] }), Some(&token))
        .await;
    let second = id(second.assert_ok(), "requestRenewal");
    let at = app.caught_up("care").await;
    let pending = app
        .graphql(
            "query($at: LogPosition) { pendingRenewals(atLeast: $at) { id medication patientName } }",
            json!({ "at": at }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(
        pending.assert_ok()["pendingRenewals"],
        json!([
            { "id": first, "medication": "Lisinopril 10 mg tablet", "patientName": "Pat Number1" },
            { "id": second, "medication": "Atorvastatin 20 mg tablet", "patientName": "Pat Number1" },
        ]),
        "oldest first, with what and whose"
    );

    let approve = "mutation($m: ID!, $r: ID!) { approveRenewal(medicationId: $m, requestId: $r) { position } }";
    let by_staff = app
        .graphql(
            approve,
            json!({ "m": medications[0], "r": first }),
            Some(&c.staff),
        )
        .await;
    assert_eq!(
        by_staff.error_code(),
        "FORBIDDEN",
        "providers decide renewals"
    );
    app.graphql(
        approve,
        json!({ "m": medications[0], "r": first }),
        Some(&doctor.token),
    )
    .await
    .assert_ok();
    let decline = "mutation($m: ID!, $r: ID!, $why: String!) { declineRenewal(medicationId: $m, requestId: $r, reason: $why) { position } }";
    let no_reason = app
        .graphql(
            decline,
            json!({ "m": medications[1], "r": second, "why": "  " }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(no_reason.error_code(), "REASON_INVALID");
    let declined = app
        .graphql(
            decline,
            json!({ "m": medications[1], "r": second, "why": "Please book a visit first: we need a new blood test." }),
            Some(&doctor.token),
        )
        .await;
    let at = position(declined.assert_ok(), "declineRenewal");
    let twice = app
        .graphql(
            approve,
            json!({ "m": medications[1], "r": second }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(twice.error_code(), "RENEWAL_NOT_PENDING");

    let mine = app
        .graphql(MEDICATIONS, json!({ "at": at }), Some(&token))
        .await;
    let mine = mine.assert_ok()["medications"].as_array().unwrap().clone();
    let status = |id: &str| {
        let m = mine.iter().find(|m| m["id"] == id).unwrap();
        (
            m["renewals"][0]["status"].as_str().unwrap().to_owned(),
            m["renewals"][0]["declineReason"]
                .as_str()
                .map(str::to_owned),
        )
    };
    assert_eq!(status(&medications[0]), ("approved".to_owned(), None));
    assert_eq!(
        status(&medications[1]),
        (
            "declined".to_owned(),
            Some("Please book a visit first: we need a new blood test.".to_owned())
        )
    );
    let mail = app
        .mail_to("patient1@example.org", "Your prescription renewal request")
        .await;
    assert!(!mail.contains("blood test"), "{mail}");
    let pending = app
        .graphql("{ pendingRenewals { id } }", json!({}), Some(&doctor.token))
        .await;
    assert_eq!(pending.assert_ok()["pendingRenewals"], json!([]));
}

const GRANT: &str =
    "mutation($input: GrantProxyAccessInput!) { grantProxyAccess(input: $input) { position } }";
const MY_APPOINTMENTS: &str =
    "query($at: LogPosition) { myAppointments(atLeast: $at) { id patientId } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_with_a_scheduling_grant_books_for_a_child_but_cannot_read_the_childs_messages() {
    let c = clinic().await;
    let app = &c.app;
    let parent = patient(app, &c.staff, 1).await;
    let parent_id = account_id(app, &parent).await;
    let child = patient_born(app, &c.staff, 2, "2016-05-01").await;
    let child_id = account_id(app, &child).await;
    let ends_on = (chrono::Utc::now() + chrono::Duration::days(365)).date_naive();

    let refused = app
        .graphql_for(MY_APPOINTMENTS, json!({}), &parent, &child_id)
        .await;
    assert_eq!(
        refused.error_code(),
        "PROXY_NOT_ALLOWED",
        "nothing granted yet"
    );
    let granted = app
        .graphql(
            GRANT,
            json!({ "input": { "patientId": child_id, "proxyId": parent_id, "scope": "SCHEDULING", "endsOn": ends_on } }),
            Some(&c.staff),
        )
        .await;
    let at = position(granted.assert_ok(), "grantProxyAccess");
    let told = app
        .mail_to(
            "patient2@example.org",
            "Someone can now use your patient portal",
        )
        .await;
    assert!(told.contains(&ends_on.to_string()), "{told}");
    let people = app
        .graphql(
            "query($at: LogPosition) { proxyPatients(atLeast: $at) { patientId grantedScope scope endsOn } }",
            json!({ "at": at }),
            Some(&parent),
        )
        .await;
    let people = people.assert_ok()["proxyPatients"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["patientId"], child_id.as_str());
    assert_eq!(people[0]["scope"], "SCHEDULING");

    let booked = book(&c, &parent, Some(&child_id)).await;
    let appointment = booked["id"].as_str().unwrap().to_owned();
    let at = booked["position"].as_i64().unwrap();
    let childs = app
        .graphql(MY_APPOINTMENTS, json!({ "at": at }), Some(&child))
        .await;
    assert_eq!(
        childs.assert_ok()["myAppointments"][0]["id"],
        appointment.as_str(),
        "booked for the child"
    );
    let as_proxy = app
        .graphql_for(MY_APPOINTMENTS, json!({ "at": at }), &parent, &child_id)
        .await;
    assert_eq!(
        as_proxy.assert_ok()["myAppointments"][0]["patientId"],
        child_id.as_str()
    );
    let own = app
        .graphql(MY_APPOINTMENTS, json!({ "at": at }), Some(&parent))
        .await;
    assert_eq!(
        own.assert_ok()["myAppointments"],
        json!([]),
        "without the header, the parent's own"
    );

    let joined = app
        .graphql_for(
            "mutation($p: ID!, $r: ID!) { joinWaitList(input: { providerId: $p, reasonId: $r }) { id position } }",
            json!({ "p": c.provider, "r": c.reason }),
            &parent,
            &child_id,
        )
        .await;
    let at = joined.assert_ok()["joinWaitList"]["position"]
        .as_i64()
        .unwrap();
    let waiting = app
        .graphql(
            "query($at: LogPosition) { myWaitList(atLeast: $at) { id status } }",
            json!({ "at": at }),
            Some(&child),
        )
        .await;
    assert_eq!(
        waiting.assert_ok()["myWaitList"][0]["status"],
        "waiting",
        "the child waits, by the parent's hand"
    );

    let messages = app
        .graphql_for(CONVERSATIONS, json!({}), &parent, &child_id)
        .await;
    assert_eq!(messages.error_code(), "OUTSIDE_PROXY_SCOPE");
    let start = app
        .graphql_for(
            START,
            json!({ "input": { "teamId": c.provider, "subject": "About my child", "body": "Hello" } }),
            &parent,
            &child_id,
        )
        .await;
    assert_eq!(start.error_code(), "OUTSIDE_PROXY_SCOPE");
    let results = app
        .graphql_for(RESULTS, json!({}), &parent, &child_id)
        .await;
    assert_eq!(results.error_code(), "OUTSIDE_PROXY_SCOPE");

    // Who acted for whom: in the log and in the access log.
    let client = app.state().pool.get().await.unwrap();
    let booked = client
        .query_one(
            "SELECT metadata->>'actor', metadata->>'on_behalf_of', data->'by'->>'who', data->'by'->>'by'
             FROM events WHERE event_type = 'AppointmentBooked'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        booked.get::<_, Option<String>>(0),
        Some(format!("account:{parent_id}"))
    );
    assert_eq!(booked.get::<_, Option<String>>(1), Some(child_id.clone()));
    assert_eq!(booked.get::<_, Option<String>>(2).as_deref(), Some("proxy"));
    assert_eq!(booked.get::<_, Option<String>>(3), Some(parent_id.clone()));
    let auditor = app.auditor("mayo", "audit@example.org").await;
    let history = app
        .graphql(
            "query($s: String!) { streamHistory(stream: $s) { edges { node { eventType actor onBehalfOf } } } }",
            json!({ "s": format!("appointment-{appointment}") }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(
        history.assert_ok()["streamHistory"]["edges"][0]["node"],
        json!({ "eventType": "AppointmentBooked", "actor": format!("account:{parent_id}"), "onBehalfOf": child_id }),
        "auditors see who acted for whom"
    );
    let read = client
        .query_one(
            "SELECT count(*) FROM access_log
             WHERE actor_id = $1::text::uuid AND actor_role = 'proxy' AND patient_account_id = $2::text::uuid",
            &[&parent_id, &child_id],
        )
        .await
        .unwrap();
    assert!(
        read.get::<_, i64>(0) >= 1,
        "the proxy's reads are in the access log"
    );

    // The child's portal is no longer the parent's once the grant is revoked.
    app.graphql(
        "mutation($p: ID!) { revokeProxyAccess(proxyId: $p) { position } }",
        json!({ "p": parent_id }),
        Some(&child),
    )
    .await
    .assert_ok();
    let ended = app
        .graphql_for(MY_APPOINTMENTS, json!({}), &parent, &child_id)
        .await;
    assert_eq!(ended.error_code(), "PROXY_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parents_full_access_narrows_to_scheduling_and_messages_once_the_child_is_13() {
    let c = clinic().await;
    let app = &c.app;
    let parent = patient(app, &c.staff, 1).await;
    let parent_id = account_id(app, &parent).await;
    let fourteen_ago = (chrono::Utc::now() - chrono::Duration::days(365 * 14)).date_naive();
    let teen = patient_born(app, &c.staff, 2, &fourteen_ago.to_string()).await;
    let teen_id = account_id(app, &teen).await;
    let ends_on = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    // The teenager grants it themselves.
    let granted = app
        .graphql(
            GRANT,
            json!({ "input": { "proxyId": parent_id, "scope": "ALL", "endsOn": ends_on } }),
            Some(&teen),
        )
        .await;
    let at = position(granted.assert_ok(), "grantProxyAccess");
    let people = app
        .graphql(
            "query($at: LogPosition) { proxyPatients(atLeast: $at) { grantedScope scope } }",
            json!({ "at": at }),
            Some(&parent),
        )
        .await;
    assert_eq!(
        people.assert_ok()["proxyPatients"][0],
        json!({ "grantedScope": "ALL", "scope": "SCHEDULING_AND_MESSAGES" })
    );
    let results = app.graphql_for(RESULTS, json!({}), &parent, &teen_id).await;
    assert_eq!(
        results.error_code(),
        "OUTSIDE_PROXY_SCOPE",
        "results are the teenager's own"
    );
    let messages = app
        .graphql_for(CONVERSATIONS, json!({}), &parent, &teen_id)
        .await;
    assert_eq!(messages.assert_ok()["conversations"], json!([]));
    let self_grant = app
        .graphql(
            GRANT,
            json!({ "input": { "proxyId": teen_id, "scope": "ALL", "endsOn": ends_on } }),
            Some(&teen),
        )
        .await;
    assert_eq!(self_grant.error_code(), "PROXY_IS_PATIENT");
}

/// A digest of each care table's rows.
async fn care_rows(app: &TestApp) -> Vec<String> {
    let client = app.state().pool.get().await.unwrap();
    let mut digests = vec![];
    for table in [
        "conversations",
        "conversation_messages",
        "test_results",
        "statements",
        "payments",
        "medications",
        "renewal_requests",
        "proxy_grants",
        "care_team_members",
    ] {
        let row = client
            .query_one(
                &format!("SELECT count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {table} x"),
                &[],
            )
            .await
            .unwrap();
        digests.push(format!("{table} {}", row.get::<_, String>(0)));
    }
    digests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_care_read_model_rebuilds_the_same_and_erasing_the_patient_blanks_their_care_data() {
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let patient_id = account_id(app, &token).await;
    let doctor = care_team(&c, "doctor@example.org", &[]).await;
    book(&c, &token, None).await;
    app.caught_up("schedule").await;
    let started = app
        .graphql(
            START,
            json!({ "input": { "teamId": c.provider, "subject": "My knee", "body": "It still hurts", "attachment": "scans/knee-1.png" } }),
            Some(&token),
        )
        .await;
    let conversation = id(started.assert_ok(), "startConversation");
    app.graphql(
        REPLY,
        json!({ "input": { "conversationId": conversation, "body": "Come and see us" } }),
        Some(&doctor.token),
    )
    .await
    .assert_ok();
    app.graphql(RECORD, result(&c, &patient_id, "6.1", 2), Some(&c.staff))
        .await
        .assert_ok();
    app.graphql(
        "mutation($input: PrescribeMedicationInput!) { prescribeMedication(input: $input) { id } }",
        json!({ "input": { "patientId": patient_id, "medication": "Ibuprofen 400 mg", "instructions": "As needed",
                           "prescriberId": c.provider } }),
        Some(&doctor.token),
    )
    .await
    .assert_ok();
    app.caught_up("care").await;
    let before = care_rows(app).await;
    assert!(before[0].starts_with("conversations 1:"), "{before:?}");

    let state = app.state();
    let source = portal_projections::Source {
        log: state.store.log.clone(),
        keys: state.store.keys.clone(),
    };
    let rebuilt = portal_projections::rebuild_named("care", &source, &app.database.pool, 3)
        .await
        .unwrap()
        .unwrap();
    assert!(rebuilt.events > 5, "{rebuilt:?}");
    assert_eq!(care_rows(app).await, before, "the same rows from the log");
    assert_eq!(
        app.as_analyst("SELECT count(*) FROM conversations WHERE status = 'open'")
            .await,
        Ok(vec!["(1)".to_owned()]),
        "analysts count conversations, also after a rebuild"
    );
    for personal in [
        "SELECT subject FROM conversations",
        "SELECT body FROM conversation_messages",
        "SELECT value FROM test_results",
        "SELECT items FROM statements",
        "SELECT name FROM medications",
    ] {
        assert_eq!(
            app.as_analyst(personal).await,
            Err("42501".to_owned()),
            "{personal}: personal columns are not the analysts'"
        );
    }

    app.graphql(
        "mutation($id: ID!) { erasePersonalData(input: { accountId: $id }) { position } }",
        json!({ "id": patient_id }),
        Some(&c.staff),
    )
    .await
    .assert_ok();
    app.caught_up("care").await;
    let client = state.pool.get().await.unwrap();
    let left = client
        .query_one(
            "SELECT (SELECT count(*) FROM conversations WHERE subject IS NOT NULL)
                  + (SELECT count(*) FROM conversation_messages WHERE body IS NOT NULL OR attachment IS NOT NULL)
                  + (SELECT count(*) FROM test_results WHERE value IS NOT NULL OR test_name IS NOT NULL)
                  + (SELECT count(*) FROM medications WHERE name IS NOT NULL OR instructions IS NOT NULL)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(left.get::<_, i64>(0), 0, "every personal column blanked");
    let rebuilt = portal_projections::rebuild_named("care", &source, &app.database.pool, 100)
        .await
        .unwrap()
        .unwrap();
    assert!(rebuilt.events > 5);
    let left = client
        .query_one(
            "SELECT count(*) FROM conversation_messages WHERE body IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        left.get::<_, i64>(0),
        0,
        "a rebuild after the erasure reads nothing back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_patient_sees_their_unread_count_change_as_the_care_team_answers() {
    use super::scheduling::receive;

    let c = clinic().await;
    let app = &c.app;
    let patient = patient(app, &c.staff, 1).await;
    let doctor = care_team(&c, "doctor@example.org", &[]).await;
    book(&c, &patient, None).await;
    app.caught_up("schedule").await;
    let started = app
        .graphql(
            START,
            json!({ "input": { "teamId": c.provider, "subject": "Dizziness", "body": "Since Monday" } }),
            Some(&patient),
        )
        .await;
    let conversation = id(started.assert_ok(), "startConversation");

    let mut socket = app
        .subscribe(&patient, "subscription { unreadMessages }")
        .await;
    let count = |message: Value| {
        message["payload"]["data"]["unreadMessages"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(count(receive(&mut socket, "next").await), 0, "sent at once");

    app.graphql(
        REPLY,
        json!({ "input": { "conversationId": conversation, "body": "Please call us today." } }),
        Some(&doctor.token),
    )
    .await
    .assert_ok();
    assert_eq!(
        count(receive(&mut socket, "next").await),
        1,
        "a reply arrived"
    );
    app.graphql(READ, json!({ "c": conversation }), Some(&patient))
        .await
        .assert_ok();
    assert_eq!(count(receive(&mut socket, "next").await), 0, "read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_staff_and_providers_reach_none_of_a_patients_care() {
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    let patient_id = account_id(app, &token).await;
    care_team(&c, "doctor@example.org", &[]).await;
    book(&c, &token, None).await;
    app.caught_up("schedule").await;
    let started = app
        .graphql(
            START,
            json!({ "input": { "teamId": c.provider, "subject": "Private", "body": "Only for my clinic" } }),
            Some(&token),
        )
        .await;
    let conversation = id(started.assert_ok(), "startConversation");
    app.graphql(RECORD, result(&c, &patient_id, "6.1", 2), Some(&c.staff))
        .await
        .assert_ok();
    app.caught_up("care").await;

    app.create_organization("acme").await;
    let staff = app.staff("acme", "desk@acme.example").await;
    let doctor = app.provider("acme", "doctor@acme.example").await;
    let read = app
        .graphql(
            CONVERSATION,
            json!({ "id": conversation }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(read.error_code(), "CONVERSATION_NOT_FOUND");
    let results = app
        .graphql(
            "query($p: ID!) { patientTestResults(patientId: $p) { id } }",
            json!({ "p": patient_id }),
            Some(&doctor.token),
        )
        .await;
    assert_eq!(results.assert_ok()["patientTestResults"], json!([]));
    let recorded = app
        .graphql(
            RECORD,
            result(&c, &patient_id, "5.0", 1),
            Some(&staff.token),
        )
        .await;
    assert_eq!(recorded.error_code(), "PATIENT_NOT_FOUND");
    let granted = app
        .graphql(
            GRANT,
            json!({ "input": { "patientId": patient_id, "proxyId": doctor.account_id, "scope": "ALL",
                               "endsOn": "2030-01-01" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(granted.error_code(), "PATIENT_NOT_FOUND");
    let members = app
        .graphql(
            "mutation($t: ID!, $m: [ID!]!) { setCareTeamMembers(teamId: $t, memberIds: $m) { position } }",
            json!({ "t": c.provider, "m": [doctor.account_id] }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        members.error_code(),
        "PROVIDER_NOT_FOUND",
        "another clinic's care team"
    );
}
