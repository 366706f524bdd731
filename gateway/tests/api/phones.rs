//! Phone numbers in the portal (issue 4): add, verify by a texted code, remove.

use serde_json::json;

use super::support::TestApp;

const ADD: &str =
    "mutation($number: String!) { addPhone(input: { number: $number }) { number position } }";
const VERIFY: &str = "mutation($number: String!, $code: String!) { verifyPhone(input: { number: $number, code: $code }) { number } }";
const REMOVE: &str =
    "mutation($number: String!) { removePhone(input: { number: $number }) { position } }";
const PHONES: &str = "query($at: LogPosition) { myPhones(atLeast: $at) { number verified } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_added_in_the_portal_is_verified_by_the_code_texted_to_it() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.configure_sms(&staff.token).await;
    let ada = app.learner("umncpd", "ada@example.org").await;

    let invalid = app
        .graphql(ADD, json!({ "number": "12345" }), Some(&ada.token))
        .await;
    assert_eq!(invalid.error_code(), "PHONE_NUMBER_INVALID");
    assert_eq!(
        invalid.body["errors"][0]["extensions"]["field"],
        "input.number"
    );

    let added = app
        .graphql(ADD, json!({ "number": "(612) 555-0199" }), Some(&ada.token))
        .await;
    let data = added.assert_ok()["addPhone"].clone();
    assert_eq!(data["number"], "+16125550199");
    let phones = app
        .graphql(PHONES, json!({ "at": data["position"] }), Some(&ada.token))
        .await;
    assert_eq!(
        phones.assert_ok()["myPhones"],
        json!([{ "number": "+16125550199", "verified": false }])
    );
    let again = app
        .graphql(ADD, json!({ "number": "+16125550199" }), Some(&ada.token))
        .await;
    assert_eq!(again.error_code(), "PHONE_CODE_RATE_LIMITED");

    let text = app.sms_to("+16125550199").await;
    let body = text
        .split_once("\n\n")
        .map(|(_, body)| body)
        .unwrap_or_default();
    assert!(
        body.contains("is your umncpd CE verification code"),
        "{body}"
    );
    let code: String = body.chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{body}");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = app
        .graphql(
            VERIFY,
            json!({ "number": "+16125550199", "code": wrong }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(refused.error_code(), "PHONE_CODE_INVALID");
    app.graphql(
        VERIFY,
        json!({ "number": "+16125550199", "code": code }),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.mail_to(
        "ada@example.org",
        "A phone number was added to your account",
    )
    .await;
    let at = app.caught_up("accounts").await;
    let phones = app
        .graphql(PHONES, json!({ "at": at }), Some(&ada.token))
        .await;
    assert_eq!(
        phones.assert_ok()["myPhones"],
        json!([{ "number": "+16125550199", "verified": true }])
    );

    let (_, _) = app
        .schedule(
            &staff.token,
            super::support::course("Sepsis", "SEPSIS", -5, 55),
        )
        .await;
    let reply = app.text("+16125550199", "SEPSIS", "SM1").await;
    assert!(
        reply.message().starts_with("Thank you Ada"),
        "{}",
        reply.body
    );

    let removed = app
        .graphql(
            REMOVE,
            json!({ "number": "+16125550199" }),
            Some(&ada.token),
        )
        .await;
    let at = removed.assert_ok()["removePhone"]["position"].clone();
    let phones = app
        .graphql(PHONES, json!({ "at": at }), Some(&ada.token))
        .await;
    assert_eq!(phones.assert_ok()["myPhones"], json!([]));
    let unpaired = app.text("+16125550199", "SEPSIS", "SM2").await;
    assert!(
        unpaired.message().starts_with("User not found"),
        "{}",
        unpaired.body
    );
}
