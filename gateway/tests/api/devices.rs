//! Apps that stay signed in (issue 20, item 5): device sessions with short access tokens and a refresh token that
//! rotates on every use; a reused refresh token ends the device session (RFC 9700, 4.14.2).

use chrono::Duration;
use serde_json::{json, Value};
use uuid::Uuid;

use super::support::{Answer, TestApp, PASSWORD};

const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) { token expiresAt refreshToken deviceId deviceExpiresAt secondStepRequired challengeToken } }";
const REFRESH: &str = "mutation($input: RefreshSessionInput!) { refreshSession(input: $input) { token expiresAt refreshToken deviceId deviceExpiresAt } }";
const ME: &str = "{ me { id } }";
const DEVICES: &str = "{ devices { id name current startedAt lastRefreshedAt expiresAt } }";

async fn sign_in_from_app(app: &TestApp, email: &str, device: Value) -> Value {
    let answer = app
        .graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "umncpd", "email": email, "password": PASSWORD, "device": device } }),
            None,
        )
        .await;
    answer.assert_ok()["signIn"].clone()
}

async fn refresh(app: &TestApp, refresh_token: &Value, command_id: Uuid) -> Answer {
    app.graphql(
        REFRESH,
        json!({ "input": { "organizationCode": "umncpd", "refreshToken": refresh_token, "commandId": command_id } }),
        None,
    )
    .await
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_stays_signed_in_by_rotating_its_refresh_token_and_a_reused_one_signs_the_device_out(
) {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let state = &app.running.as_ref().unwrap().state;
    let signed_in =
        sign_in_from_app(&app, "ada@example.org", json!({ "name": "Ada's phone" })).await;
    let (first_token, first_refresh) = (
        signed_in["token"].clone(),
        signed_in["refreshToken"].clone(),
    );
    assert!(first_refresh.is_string() && signed_in["deviceId"].is_string());
    let access_ends = chrono::DateTime::parse_from_rfc3339(text(&signed_in["expiresAt"])).unwrap();
    let device_ends =
        chrono::DateTime::parse_from_rfc3339(text(&signed_in["deviceExpiresAt"])).unwrap();
    assert_eq!(
        (device_ends - access_ends).num_days(),
        89,
        "90 days by default, the access token 30 minutes"
    );
    app.graphql(ME, json!({}), Some(text(&first_token)))
        .await
        .assert_ok();

    state.advance_clock(Duration::minutes(31));
    assert_eq!(
        app.graphql(ME, json!({}), Some(text(&first_token)))
            .await
            .error_code(),
        "UNAUTHENTICATED",
        "the access token is short-lived"
    );
    let command = Uuid::new_v4();
    let refreshed = refresh(&app, &first_refresh, command).await;
    let refreshed = refreshed.assert_ok()["refreshSession"].clone();
    assert_ne!(
        refreshed["refreshToken"], first_refresh,
        "the refresh token rotates"
    );
    assert_eq!(refreshed["deviceId"], signed_in["deviceId"]);
    assert_eq!(
        refreshed["deviceExpiresAt"], signed_in["deviceExpiresAt"],
        "a refresh does not extend the device's life"
    );
    let retried = refresh(&app, &first_refresh, command).await;
    assert_eq!(
        retried.assert_ok()["refreshSession"],
        refreshed,
        "a retry after a lost answer gets the same tokens"
    );
    let token = text(&refreshed["token"]).to_owned();
    app.graphql(ME, json!({}), Some(&token)).await.assert_ok();
    let devices = app.graphql(DEVICES, json!({}), Some(&token)).await;
    let devices = devices.assert_ok()["devices"].clone();
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(devices[0]["name"], "Ada's phone");
    assert_eq!(devices[0]["current"], true);
    assert!(devices[0]["lastRefreshedAt"].is_string());

    let auditor = app.auditor("umncpd", "auditor@example.org").await;
    let history = app
        .graphql(
            "query($s: String!) { streamHistory(stream: $s, first: 100) { edges { node { eventType data } } } }",
            json!({ "s": format!("account-{}", learner.account_id) }),
            Some(&auditor.token),
        )
        .await;
    let history = history.assert_ok()["streamHistory"]["edges"].clone();
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| text(&e["node"]["eventType"]))
        .collect();
    assert!(
        kinds.contains(&"DeviceSessionStarted") && kinds.contains(&"DeviceSessionRefreshed"),
        "{kinds:?}"
    );
    assert!(
        !history
            .to_string()
            .contains(text(&refreshed["refreshToken"])),
        "auditors never see a token"
    );

    let reused = refresh(&app, &first_refresh, Uuid::new_v4()).await;
    assert_eq!(reused.error_code(), "REFRESH_TOKEN_REUSED");
    assert_eq!(
        app.graphql(ME, json!({}), Some(&token)).await.error_code(),
        "UNAUTHENTICATED",
        "reuse ends the device's access session"
    );
    assert_eq!(
        refresh(&app, &refreshed["refreshToken"], Uuid::new_v4())
            .await
            .error_code(),
        "REFRESH_TOKEN_INVALID",
        "and its newest refresh token"
    );
    let history = app
        .graphql(
            "query($s: String!) { streamHistory(stream: $s, first: 100) { edges { node { eventType } } } }",
            json!({ "s": format!("account-{}", learner.account_id) }),
            Some(&auditor.token),
        )
        .await;
    assert!(history
        .assert_ok()
        .to_string()
        .contains("RefreshTokenReused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_sign_a_device_out_and_a_password_change_or_staff_end_the_others() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let phone = sign_in_from_app(&app, "ada@example.org", json!({ "name": "phone" })).await;
    let tablet = sign_in_from_app(&app, "ada@example.org", json!({ "name": "tablet" })).await;
    let devices = app
        .graphql(DEVICES, json!({}), Some(text(&tablet["token"])))
        .await;
    let devices = devices.assert_ok()["devices"].clone();
    assert_eq!(devices[0]["name"], "tablet", "newest first");
    assert_eq!(devices[1]["current"], false);

    let signed_out = app
        .graphql(
            "mutation($id: ID!) { signOutDevice(input: { deviceId: $id }) { position } }",
            json!({ "id": phone["deviceId"] }),
            Some(text(&tablet["token"])),
        )
        .await;
    signed_out.assert_ok();
    assert_eq!(
        refresh(&app, &phone["refreshToken"], Uuid::new_v4())
            .await
            .error_code(),
        "REFRESH_TOKEN_INVALID"
    );
    assert_eq!(
        app.graphql(ME, json!({}), Some(text(&phone["token"])))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );

    let changed = app
        .graphql(
            "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { position } }",
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": "amber kettle hums at dusk" } }),
            Some(&learner.token),
        )
        .await;
    changed.assert_ok();
    assert_eq!(
        refresh(&app, &tablet["refreshToken"], Uuid::new_v4())
            .await
            .error_code(),
        "REFRESH_TOKEN_INVALID",
        "a password change from the browser ends the app's device session"
    );

    let watch = app
        .graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "umncpd", "email": "ada@example.org", "password": "amber kettle hums at dusk", "device": { "name": "watch" } } }),
            None,
        )
        .await;
    let watch = watch.assert_ok()["signIn"].clone();
    app.graphql(
        "mutation($id: ID!) { endSessions(input: { accountId: $id }) { position } }",
        json!({ "id": learner.account_id }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    assert_eq!(
        refresh(&app, &watch["refreshToken"], Uuid::new_v4())
            .await
            .error_code(),
        "REFRESH_TOKEN_INVALID",
        "staff end device sessions too"
    );

    let in_cookie = app
        .graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "umncpd", "email": "ada@example.org", "password": "amber kettle hums at dusk", "setCookie": true, "device": { "name": "watch" } } }),
            None,
        )
        .await;
    assert_eq!(in_cookie.error_code(), "DEVICE_WITH_COOKIE");
    assert_eq!(
        in_cookie.body["errors"][0]["extensions"]["field"],
        "input.device"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organization_sets_the_device_life_and_whether_renewing_asks_for_the_second_step() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let state = &app.running.as_ref().unwrap().state;
    const POLICY: &str = "mutation($days: Int!, $again: Boolean!) { setDevicePolicy(input: { maxDays: $days, twoStepAgain: $again }) { maxDays twoStepAgain } }";
    let refused = app
        .graphql(
            POLICY,
            json!({ "days": 0, "again": false }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(refused.error_code(), "POLICY_INVALID");
    let not_staff = app
        .graphql(
            POLICY,
            json!({ "days": 7, "again": false }),
            Some(&learner.token),
        )
        .await;
    assert_eq!(not_staff.error_code(), "FORBIDDEN");
    app.graphql(
        POLICY,
        json!({ "days": 7, "again": false }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let policy = app
        .graphql(
            "{ devicePolicy { maxDays twoStepAgain } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        policy.assert_ok()["devicePolicy"],
        json!({ "maxDays": 7, "twoStepAgain": false })
    );
    app.graphql(
        "mutation { enableTwoStepCodes(channel: EMAIL) { recoveryCodes } }",
        json!({}),
        Some(&learner.token),
    )
    .await
    .assert_ok();

    let challenged = sign_in_from_app(&app, "ada@example.org", json!({ "name": "phone" })).await;
    assert_eq!(challenged["secondStepRequired"], true);
    let code = sign_in_code(&app).await;
    let completed = app
        .graphql(
            "mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { token refreshToken deviceExpiresAt } }",
            json!({ "input": { "organizationCode": "umncpd", "challengeToken": challenged["challengeToken"], "code": code, "device": { "name": "phone" } } }),
            None,
        )
        .await;
    let completed = completed.assert_ok()["completeSignIn"].clone();
    assert!(completed["refreshToken"].is_string());

    state.advance_clock(Duration::days(7) + Duration::minutes(1));
    let expired = refresh(&app, &completed["refreshToken"], Uuid::new_v4()).await;
    assert_eq!(expired.error_code(), "DEVICE_SESSION_EXPIRED");
    let renewed = sign_in_from_app(
        &app,
        "ada@example.org",
        json!({ "name": "phone", "renewRefreshToken": completed["refreshToken"] }),
    )
    .await;
    assert_eq!(
        renewed["secondStepRequired"], false,
        "the organization does not ask again"
    );
    assert!(renewed["refreshToken"].is_string());
    let devices = app
        .graphql(DEVICES, json!({}), Some(text(&renewed["token"])))
        .await;
    assert_eq!(
        devices.assert_ok()["devices"].as_array().unwrap().len(),
        1,
        "the renewal replaces the old device session"
    );

    let staff = app
        .sign_in("umncpd", "coordinator@example.org", PASSWORD)
        .await;
    let staff = text(&staff.assert_ok()["signIn"]["token"]).to_owned();
    app.graphql(POLICY, json!({ "days": 7, "again": true }), Some(&staff))
        .await
        .assert_ok();
    state.advance_clock(Duration::days(7) + Duration::minutes(1));
    let asked = sign_in_from_app(
        &app,
        "ada@example.org",
        json!({ "name": "phone", "renewRefreshToken": renewed["refreshToken"] }),
    )
    .await;
    assert_eq!(asked["secondStepRequired"], true, "now it asks again");
    assert!(asked["token"].is_null());
}

/// The code of the sign-in code e-mail to ada.
async fn sign_in_code(app: &TestApp) -> String {
    let mail = app
        .mail_to("ada@example.org", "Your umncpd CE sign-in code")
        .await;
    mail.split("Your sign-in code is ")
        .nth(1)
        .expect("a code in the e-mail")
        .chars()
        .take(6)
        .collect()
}
