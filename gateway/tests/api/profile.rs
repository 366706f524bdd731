//! Profile completion (issue 3, seed 000 step 6).

use serde_json::json;

use super::support::TestApp;

const UPDATE: &str = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { position missingFields } }";
const ME: &str = "query($at: LogPosition) { me(atLeast: $at) { profileComplete missingProfileFields profile { prefix employedByCareNetwork dateOfBirth address { type city country } specialNeeds { none needs } enrollmentType stateLicense { state holds number } creditEligibility } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_says_what_is_missing_until_it_is_complete() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let fresh = app
        .graphql(ME, json!({ "at": learner.position }), Some(&learner.token))
        .await;
    let me = fresh.assert_ok()["me"].clone();
    assert_eq!(me["profileComplete"], false);
    assert_eq!(
        me["profile"]["employedByCareNetwork"], false,
        "defaults to no"
    );
    assert_eq!(me["missingProfileFields"].as_array().unwrap().len(), 7);

    let partial = app
        .graphql(UPDATE, json!({ "input": { "prefix": "DR", "dateOfBirth": "1980-02-29", "specialNeeds": { "none": true, "needs": [] } } }), Some(&learner.token))
        .await;
    assert_eq!(
        partial.assert_ok()["updateProfile"]["missingFields"],
        json!([
            "address",
            "enrollmentType",
            "stateLicense",
            "creditEligibility"
        ])
    );

    let rest = json!({ "input": {
        "address": { "type": "WORK", "line1": "200 First St SW", "city": "Rochester", "state": "MN", "postalCode": "55905", "country": "us" },
        "enrollmentType": "PHYSICIAN",
        "stateLicense": { "state": "fl", "holds": true, "number": "me-123456" },
        "creditEligibility": "AMA_PRA_CATEGORY_1" } });
    let done = app
        .graphql(UPDATE, rest.clone(), Some(&learner.token))
        .await;
    let position = done.assert_ok()["updateProfile"]["position"].clone();
    assert_eq!(
        done.assert_ok()["updateProfile"]["missingFields"],
        json!([])
    );
    let me = app
        .graphql(ME, json!({ "at": position }), Some(&learner.token))
        .await
        .assert_ok()["me"]
        .clone();
    assert_eq!(me["profileComplete"], true);
    assert_eq!(me["profile"]["prefix"], "DR");
    assert_eq!(me["profile"]["dateOfBirth"], "1980-02-29");
    assert_eq!(
        me["profile"]["address"],
        json!({ "type": "WORK", "city": "Rochester", "country": "US" })
    );
    assert_eq!(
        me["profile"]["stateLicense"],
        json!({ "state": "FL", "holds": true, "number": "ME-123456" })
    );
    assert_eq!(
        me["profile"]["specialNeeds"],
        json!({ "none": true, "needs": [] })
    );

    // The same answers again change nothing.
    let same = app.graphql(UPDATE, rest, Some(&learner.token)).await;
    assert_eq!(
        same.assert_ok()["updateProfile"]["position"],
        serde_json::Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_profile_input_names_each_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let bad = app
        .graphql(
            UPDATE,
            json!({ "input": {
                "dateOfBirth": "2999-01-01",
                "address": { "type": "HOME", "line1": "1 Main St", "city": " ", "state": "MN", "postalCode": "55901", "country": "US" },
                "specialNeeds": { "none": true, "needs": ["VISION"] },
                "stateLicense": { "state": "FL", "holds": true } } }),
            Some(&learner.token),
        )
        .await;
    let fields: Vec<(String, String)> = bad.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            (
                "input.address.city".to_owned(),
                "ADDRESS_INVALID".to_owned()
            ),
            (
                "input.dateOfBirth".to_owned(),
                "DATE_OF_BIRTH_INVALID".to_owned()
            ),
            (
                "input.specialNeeds".to_owned(),
                "SPECIAL_NEEDS_INVALID".to_owned()
            ),
            (
                "input.stateLicense.licenseNumber".to_owned(),
                "LICENSE_INVALID".to_owned()
            ),
        ]
    );
    assert_eq!(
        app.graphql(UPDATE, json!({ "input": {} }), None)
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
}
