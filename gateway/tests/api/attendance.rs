//! Attendance on the web and by staff, credit held for an evaluation or an incomplete profile (issue 4).

use serde_json::{json, Value};

use super::support::{course, TestApp};

const RECORD: &str = "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { activityTitle status pendingReasons missingProfileFields credits { type amount } position } }";
const RECORD_FOR: &str = "mutation($input: RecordAttendanceForInput!) { recordAttendanceFor(input: $input) { status pendingReasons position } }";
const EVALUATE: &str = "mutation($input: SubmitEvaluationInput!) { submitEvaluation(input: $input) { status pendingReasons position } }";
const CLAIM: &str =
    "mutation($id: ID!) { claimCredit(activityId: $id) { status pendingReasons position } }";
const TRANSCRIPT: &str = "query($learner: ID, $at: LogPosition) { transcript(learnerId: $learner, atLeast: $at) { learnerId entries { title status pendingReasons channel amount } } }";

fn record(code: &str) -> Value {
    json!({ "input": { "code": code } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_profile_holds_the_credit_until_it_is_completed() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let (activity, _) = app
        .schedule(&staff.token, course("Sepsis Update", "SEPSIS", -5, 55))
        .await;
    let ada = app.learner("umncpd", "ada@example.org").await;

    let held = app
        .graphql(RECORD, record("sepsis"), Some(&ada.token))
        .await;
    let data = held.assert_ok()["recordAttendance"].clone();
    assert_eq!(data["status"], "PENDING");
    assert_eq!(data["pendingReasons"], json!(["PROFILE_INCOMPLETE"]));
    assert_eq!(data["missingProfileFields"].as_array().unwrap().len(), 7);

    let still = app
        .graphql(CLAIM, json!({ "id": activity }), Some(&ada.token))
        .await;
    assert_eq!(still.assert_ok()["claimCredit"]["status"], "PENDING");

    // Completing the profile releases the held credit at once.
    let completed = app
        .graphql(
            "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { missingFields creditAwardedFor } }",
            super::support::complete_profile(),
            Some(&ada.token),
        )
        .await;
    assert_eq!(
        completed.assert_ok()["updateProfile"]["creditAwardedFor"],
        json!([activity])
    );
    let claimed = app
        .graphql(CLAIM, json!({ "id": activity }), Some(&ada.token))
        .await;
    let data = claimed.assert_ok()["claimCredit"].clone();
    assert_eq!(
        data["status"], "AWARDED",
        "claiming again answers with the award"
    );
    // The claim appended nothing (no position): wait for the transcript to apply everything so far.
    let at = app.caught_up("transcript").await;
    let transcript = app
        .graphql(TRANSCRIPT, json!({ "at": at }), Some(&ada.token))
        .await;
    assert_eq!(
        transcript.assert_ok()["transcript"]["entries"],
        json!([{ "title": "Sepsis Update", "status": "AWARDED", "pendingReasons": [], "channel": "web", "amount": "1.00" }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_evaluation_holds_the_credit_until_it_is_submitted() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let mut input = course("Journal Club", "JCLUB1", -5, 55);
    input["evaluationRequired"] = json!(true);
    let (activity, _) = app.schedule(&staff.token, input).await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;

    let held = app
        .graphql(RECORD, record("JCLUB1"), Some(&ada.token))
        .await;
    assert_eq!(
        held.assert_ok()["recordAttendance"]["pendingReasons"],
        json!(["EVALUATION_REQUIRED"])
    );

    let invalid = app
        .graphql(
            EVALUATE,
            json!({ "input": { "activityId": activity, "rating": 9, "objectivesMet": true } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(invalid.error_code(), "EVALUATION_INVALID");
    assert_eq!(
        invalid.body["errors"][0]["extensions"]["field"],
        "input.rating"
    );

    let evaluation = json!({ "input": { "activityId": activity, "rating": 5, "objectivesMet": true, "comments": "Useful" } });
    let awarded = app
        .graphql(EVALUATE, evaluation.clone(), Some(&ada.token))
        .await;
    assert_eq!(awarded.assert_ok()["submitEvaluation"]["status"], "AWARDED");
    let again = app.graphql(EVALUATE, evaluation, Some(&ada.token)).await;
    assert_eq!(again.error_code(), "EVALUATION_ALREADY_SUBMITTED");

    let repeat = app
        .graphql(RECORD, record("JCLUB1"), Some(&ada.token))
        .await;
    let data = repeat.assert_ok()["recordAttendance"].clone();
    assert_eq!(
        data["status"], "AWARDED",
        "a repeat answers with the attendance as it stands"
    );
    assert_eq!(data["position"], Value::Null, "and records nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_enter_a_sign_in_sheet_after_the_window_closed() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let (past, _) = app
        .schedule(
            &staff.token,
            course(
                "Last Week's Course",
                "PAST01",
                -7 * 24 * 60,
                -7 * 24 * 60 + 60,
            ),
        )
        .await;
    let (future, _) = app
        .schedule(
            &staff.token,
            course("Next Month", "NEXT01", 30 * 24 * 60, 30 * 24 * 60 + 60),
        )
        .await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;

    let too_late = app
        .graphql(RECORD, record("PAST01"), Some(&ada.token))
        .await;
    assert_eq!(too_late.error_code(), "ATTENDANCE_TOO_LATE");
    let too_early = app
        .graphql(RECORD, record("NEXT01"), Some(&ada.token))
        .await;
    assert_eq!(too_early.error_code(), "ATTENDANCE_TOO_EARLY");
    let unknown = app
        .graphql(RECORD, record("NOPE99"), Some(&ada.token))
        .await;
    assert_eq!(unknown.error_code(), "ACTIVITY_NOT_FOUND");
    assert_eq!(
        unknown.body["errors"][0]["extensions"]["field"],
        "input.code"
    );

    let forbidden = app
        .graphql(
            RECORD_FOR,
            json!({ "input": { "learnerId": ada.account_id, "activityId": past } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(forbidden.error_code(), "FORBIDDEN");
    let sheet = app
        .graphql(
            RECORD_FOR,
            json!({ "input": { "learnerId": ada.account_id, "activityId": past } }),
            Some(&staff.token),
        )
        .await;
    let data = sheet.assert_ok()["recordAttendanceFor"].clone();
    assert_eq!(data["status"], "AWARDED");
    let early_sheet = app
        .graphql(
            RECORD_FOR,
            json!({ "input": { "learnerId": ada.account_id, "activityId": future } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(early_sheet.error_code(), "ATTENDANCE_TOO_EARLY");

    let for_staff = app
        .graphql(
            TRANSCRIPT,
            json!({ "learner": ada.account_id, "at": data["position"] }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        for_staff.assert_ok()["transcript"]["entries"][0]["channel"],
        "staff"
    );
    let grace = app.learner("umncpd", "grace@example.org").await;
    let nosy = app
        .graphql(
            TRANSCRIPT,
            json!({ "learner": ada.account_id }),
            Some(&grace.token),
        )
        .await;
    assert_eq!(nosy.error_code(), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activity_for_affiliates_refuses_other_learners() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let mut input = course("Department M&M", "MM0001", -5, 55);
    input["audience"] = json!("AFFILIATES");
    app.schedule(&staff.token, input).await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;
    let refused = app
        .graphql(RECORD, record("MM0001"), Some(&ada.token))
        .await;
    assert_eq!(refused.error_code(), "NOT_IN_AUDIENCE");
    app.graphql(
        "mutation { updateProfile(input: { employedByCareNetwork: true }) { missingFields } }",
        json!({}),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    let accepted = app
        .graphql(RECORD, record("MM0001"), Some(&ada.token))
        .await;
    assert_eq!(
        accepted.assert_ok()["recordAttendance"]["status"],
        "AWARDED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_the_learners_of_a_sign_in_sheet_by_name_or_address_in_their_organization_only()
{
    const LEARNERS: &str = "query($s: String!) { learners(search: $s) { id email lastName } }";
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.create_organization("mayo").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.learner("umncpd", "grace@example.org").await;
    app.learner("mayo", "ada.elsewhere@example.org").await;
    app.caught_up("accounts").await;

    let found = app
        .graphql(LEARNERS, json!({ "s": "ADA@" }), Some(&staff.token))
        .await;
    let learners = found.assert_ok()["learners"].as_array().unwrap().clone();
    assert_eq!(learners.len(), 1, "{learners:?}");
    assert_eq!(learners[0]["id"], ada.account_id.as_str());
    // A wildcard is searched as itself.
    let none = app
        .graphql(LEARNERS, json!({ "s": "%_" }), Some(&staff.token))
        .await;
    assert_eq!(none.assert_ok()["learners"], json!([]));

    let short = app
        .graphql(LEARNERS, json!({ "s": " a " }), Some(&staff.token))
        .await;
    assert_eq!(short.error_code(), "SEARCH_TOO_SHORT");
    let learner = app
        .graphql(LEARNERS, json!({ "s": "grace" }), Some(&ada.token))
        .await;
    assert_eq!(learner.error_code(), "FORBIDDEN");
}
