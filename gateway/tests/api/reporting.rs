//! The transcript as CSV and board reporting for learners who consented (issue 4).

use reqwest::StatusCode;
use serde_json::json;

use super::support::{course, TestApp};

const CONSENT: &str = "mutation($input: BoardReportingInput!) { consentToBoardReporting(input: $input) { position } }";
const COMPLETIONS: &str = "query($at: LogPosition) { boardCompletions(atLeast: $at) { board boardId firstName lastName birthMonth birthDay activityTitle creditType amount } }";

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, String) {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_of_consenting_learners_are_exported_for_pars() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.schedule(&staff.token, course("=Sepsis Update", "SEPSIS", -5, 55))
        .await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    let grace = app.learner("umncpd", "grace@example.org").await;
    for learner in [&ada, &grace] {
        app.complete_profile(&learner.token).await;
        app.graphql(
            "mutation { recordAttendance(input: { code: \"SEPSIS\" }) { status } }",
            json!({}),
            Some(&learner.token),
        )
        .await
        .assert_ok();
    }
    let invalid = app
        .graphql(
            CONSENT,
            json!({ "input": { "board": "ABIM", "boardId": "no spaces" } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(invalid.error_code(), "BOARD_ID_INVALID");
    let consent = app
        .graphql(
            CONSENT,
            json!({ "input": { "board": "ABIM", "boardId": "ab-1234" } }),
            Some(&ada.token),
        )
        .await;
    let at = consent.assert_ok()["consentToBoardReporting"]["position"].clone();
    app.caught_up("transcript").await;

    let completions = app
        .graphql(COMPLETIONS, json!({ "at": at }), Some(&staff.token))
        .await;
    assert_eq!(
        completions.assert_ok()["boardCompletions"],
        json!([{ "board": "ABIM", "boardId": "AB-1234", "firstName": "Ada", "lastName": "Lovelace",
                 "birthMonth": 2, "birthDay": 29, "activityTitle": "=Sepsis Update",
                 "creditType": "AMA_PRA_CATEGORY_1", "amount": "1.00" }])
    );
    let learner_asks = app.graphql(COMPLETIONS, json!({}), Some(&ada.token)).await;
    assert_eq!(learner_asks.error_code(), "FORBIDDEN");

    let (status, csv) = get(&app, "/reports/board-completions.csv", Some(&staff.token)).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(
        lines[0],
        "Board,Board ID,First Name,Last Name,Birth Month,Birth Day,Activity ID,Activity Title,Completion Date,Credit Type,Credits"
    );
    assert!(
        lines[1].starts_with("ABIM,AB-1234,Ada,Lovelace,02,29,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",'=Sepsis Update,"),
        "a formula-like title stays text: {}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",AMA PRA Category 1 Credit,1.00"),
        "{}",
        lines[1]
    );
    assert_eq!(
        get(&app, "/reports/board-completions.csv", Some(&ada.token))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, "/reports/board-completions.csv", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(
            &app,
            "/reports/board-completions.csv?from=yesterday",
            Some(&staff.token)
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    let withdrawn = app
        .graphql(
            "mutation { withdrawBoardReporting { position } }",
            json!({}),
            Some(&ada.token),
        )
        .await;
    let at = withdrawn.assert_ok()["withdrawBoardReporting"]["position"].clone();
    let none = app
        .graphql(COMPLETIONS, json!({ "at": at }), Some(&staff.token))
        .await;
    assert_eq!(none.assert_ok()["boardCompletions"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcript_downloads_as_csv_with_yearly_totals() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let mut input = course("Pharmacology", "PHARM1", -5, 55);
    input["credits"] = json!([{ "type": "ACPE", "amount": "2.5" }, { "type": "AMA_PRA_CATEGORY_1", "amount": "1" }]);
    app.schedule(&staff.token, input).await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;
    app.graphql(
        "mutation { recordAttendance(input: { code: \"PHARM1\" }) { status } }",
        json!({}),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.caught_up("transcript").await;

    let (status, csv) = get(&app, "/transcript.csv", Some(&ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "header, two credits, two totals: {csv}");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(
        lines[1].starts_with(&format!("credit,{year},")),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",Pharmacology,ACPE Contact Hours,2.50,awarded,,web,"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[3],
        format!("total,{year},,,ACPE Contact Hours,2.50,awarded,,,,")
    );
    assert_eq!(
        lines[4],
        format!("total,{year},,,AMA PRA Category 1 Credit,1.00,awarded,,,,")
    );

    let (status, _) = get(
        &app,
        &format!("/transcript.csv?learnerId={}", ada.account_id),
        Some(&staff.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let grace = app.learner("umncpd", "grace@example.org").await;
    let (status, _) = get(
        &app,
        &format!("/transcript.csv?learnerId={}", ada.account_id),
        Some(&grace.token),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
