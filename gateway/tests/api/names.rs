//! A change of name (issue 23, item 6): transcripts and board reports give the name in force on each activity's
//! date, and auditors still see the old name in the history.

use serde_json::{json, Value};

use super::support::{course, TestApp};

const CHANGE: &str = "mutation($input: ChangeNameInput!) { changeName(input: $input) {
    position account { id firstName lastName } } }";
const TRANSCRIPT: &str =
    "query($learner: ID) { transcript(learnerId: $learner) { entries { title learnerName } } }";
const COMPLETIONS: &str = "query { boardCompletions { activityTitle firstName lastName } }";

fn day(offset: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset))
        .date_naive()
        .to_string()
}

fn titles_and_names(entries: &Value, name_field: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let title = e["title"].as_str().or(e["activityTitle"].as_str());
            (
                title.unwrap().to_owned(),
                match name_field {
                    "learnerName" => e["learnerName"].as_str().unwrap().to_owned(),
                    _ => format!(
                        "{} {}",
                        e["firstName"].as_str().unwrap(),
                        e["lastName"].as_str().unwrap()
                    ),
                },
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_name_shows_from_its_day_on_and_earlier_credit_keeps_the_old_name() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let auditor = app.auditor("umncpd", "auditor@example.org").await;
    let (earlier, _) = app
        .schedule(
            &staff.token,
            course("Grand Rounds", "ROUNDS", -3 * 24 * 60, -3 * 24 * 60 + 55),
        )
        .await;
    app.schedule(&staff.token, course("Sepsis Update", "SEPSIS", -5, 55))
        .await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;
    app.graphql(
        "mutation($input: BoardReportingInput!) { consentToBoardReporting(input: $input) { position } }",
        json!({ "input": { "board": "ABIM", "boardId": "ab-1234" } }),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.graphql(
        "mutation($input: RecordAttendanceForInput!) { recordAttendanceFor(input: $input) { status } }",
        json!({ "input": { "learnerId": ada.account_id, "activityId": earlier } }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let before_change = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let future = app
        .graphql(
            CHANGE,
            json!({ "input": { "firstName": "Ada", "lastName": "King", "effectiveOn": day(3) } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(future.error_code(), "NAME_CHANGE_DATE_INVALID");
    assert_eq!(
        future.body["errors"][0]["extensions"]["field"],
        "input.effectiveOn"
    );
    let not_hers = app
        .graphql(
            CHANGE,
            json!({ "input": { "accountId": staff.account_id, "firstName": "Eve", "lastName": "Mallory" } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(not_hers.error_code(), "FORBIDDEN");
    let blank = app
        .graphql(
            CHANGE,
            json!({ "input": { "firstName": "Ada", "lastName": " " } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(
        blank.body["errors"][0]["extensions"]["field"],
        "input.lastName"
    );

    let changed = app
        .graphql(
            CHANGE,
            json!({ "input": { "firstName": "Ada", "lastName": "King", "effectiveOn": day(-1) } }),
            Some(&ada.token),
        )
        .await;
    let changed = changed.assert_ok()["changeName"].clone();
    assert!(changed["position"].is_i64());
    assert_eq!(changed["account"]["lastName"], "King");
    let again = app
        .graphql(
            CHANGE,
            json!({ "input": { "accountId": ada.account_id, "firstName": "Ada", "lastName": "King" } }),
            Some(&staff.token),
        )
        .await;
    assert!(
        again.assert_ok()["changeName"]["position"].is_null(),
        "the same name again changes nothing"
    );
    // Credit earned under the new name.
    app.graphql(
        "mutation { recordAttendance(input: { code: \"SEPSIS\" }) { status } }",
        json!({}),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.caught_up("transcript").await;
    app.caught_up("accounts").await;

    let expected = vec![
        ("Grand Rounds".to_owned(), "Ada Lovelace".to_owned()),
        ("Sepsis Update".to_owned(), "Ada King".to_owned()),
    ];
    let transcript = app.graphql(TRANSCRIPT, json!({}), Some(&ada.token)).await;
    assert_eq!(
        titles_and_names(
            &transcript.assert_ok()["transcript"]["entries"],
            "learnerName"
        ),
        expected
    );
    let completions = app
        .graphql(COMPLETIONS, json!({}), Some(&staff.token))
        .await;
    assert_eq!(
        titles_and_names(&completions.assert_ok()["boardCompletions"], "names"),
        expected
    );
    let csv = app
        .client
        .get(format!("{}/reports/board-completions.csv", app.base))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("ABIM,AB-1234,Ada,Lovelace,") && l.contains("Grand Rounds"))
            && csv
                .lines()
                .any(|l| l.starts_with("ABIM,AB-1234,Ada,King,") && l.contains("Sepsis Update")),
        "{csv}"
    );

    // The auditor: the account and the transcript as they stood before the change, and the change in the history.
    let as_of = app
        .graphql(
            "query($id: ID!, $asOf: AsOfInput!) { accountAsOf(accountId: $id, asOf: $asOf) { lastName } }",
            json!({ "id": ada.account_id, "asOf": { "at": before_change.to_rfc3339() } }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(as_of.assert_ok()["accountAsOf"]["lastName"], "Lovelace");
    let replayed = app
        .graphql(
            "query($id: ID!, $asOf: AsOfInput!) { transcriptAsOf(learnerId: $id, asOf: $asOf) { title learnerName } }",
            json!({ "id": ada.account_id, "asOf": { "at": chrono::Utc::now().to_rfc3339() } }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(
        titles_and_names(&replayed.assert_ok()["transcriptAsOf"], "learnerName"),
        expected
    );
    let history = app
        .graphql(
            "query($s: String!) { streamHistory(stream: $s) { edges { node { eventType data } } } }",
            json!({ "s": format!("account-{}", ada.account_id) }),
            Some(&auditor.token),
        )
        .await;
    let events: Vec<Value> = history.assert_ok()["streamHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let of_type = |kind: &str| {
        events
            .iter()
            .find(|e| e["eventType"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {events:?}"))
            .clone()
    };
    let registered = of_type("AccountRegistered");
    let renamed = of_type("NameChanged");
    assert_eq!(registered["data"]["name"]["$pii"]["last"], "Lovelace");
    assert_eq!(
        renamed["data"]["name"]["$pii"],
        json!({ "title": "Dr.", "first": "Ada", "middle": null, "last": "King" }),
        "a title left out stays"
    );
    assert_eq!(renamed["data"]["effective_on"], day(-1));
}
