//! Password reset (issue 3): the same answer for every address, a link that works once and for an hour.

use serde_json::json;

use super::support::{TestApp, PASSWORD};

const REQUEST: &str = "mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { message } }";
const RESET: &str = "mutation($token: String!, $p: String!) { resetPassword(input: { token: $token, newPassword: $p }) { accountId position } }";
const NEW_PASSWORD: &str = "a brand new passphrase for ada";

async fn request(app: &TestApp, email: &str) -> super::support::Answer {
    app.graphql(
        REQUEST,
        json!({ "input": { "organizationCode": "umncpd", "email": email } }),
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_and_registration_answer_the_same_for_known_and_unknown_addresses() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.learner("umncpd", "ada@example.org").await;
    let known = request(&app, "ada@example.org").await;
    let unknown = request(&app, "nobody@example.org").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    // The unknown address is told, by e-mail only, that no account uses it.
    let notice = app
        .mail_to(
            "nobody@example.org",
            "No umncpd CE account uses this address",
        )
        .await;
    assert!(notice.contains("/o/umncpd/register"));
    app.mail_to("ada@example.org", "Reset your umncpd CE password")
        .await;

    let taken = app.register("umncpd", "ada@example.org").await;
    let fresh = app.register("umncpd", "grace@example.org").await;
    assert_eq!(
        taken.assert_ok()["registerAccount"]["message"],
        fresh.assert_ok()["registerAccount"]["message"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_works_once_signs_out_everywhere_and_the_new_password_works() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    request(&app, "ada@example.org").await.assert_ok();
    let token = app
        .link_token("ada@example.org", "Reset your", "/reset-password", &[])
        .await;

    let weak = app
        .graphql(RESET, json!({ "token": token, "p": "short" }), None)
        .await;
    assert_eq!(weak.error_code(), "PASSWORD_TOO_SHORT");
    assert_eq!(
        weak.body["errors"][0]["extensions"]["field"],
        "input.newPassword"
    );

    app.graphql(RESET, json!({ "token": token, "p": NEW_PASSWORD }), None)
        .await
        .assert_ok();
    assert_eq!(
        app.graphql("{ me { id } }", json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", PASSWORD)
            .await
            .error_code(),
        "INVALID_CREDENTIALS"
    );
    app.sign_in("umncpd", "ada@example.org", NEW_PASSWORD)
        .await
        .assert_ok();

    let again = app
        .graphql(
            RESET,
            json!({ "token": token, "p": "yet another passphrase" }),
            None,
        )
        .await;
    assert_eq!(again.error_code(), "RESET_TOKEN_USED");
    let forged = app
        .graphql(RESET, json!({ "token": "forged", "p": NEW_PASSWORD }), None)
        .await;
    assert_eq!(forged.error_code(), "RESET_TOKEN_INVALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_does_not_work_after_an_hour() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.learner("umncpd", "ada@example.org").await;
    request(&app, "ada@example.org").await.assert_ok();
    let token = app
        .link_token("ada@example.org", "Reset your", "/reset-password", &[])
        .await;
    app.running
        .as_ref()
        .unwrap()
        .state
        .advance_clock(chrono::Duration::minutes(61));
    let late = app
        .graphql(RESET, json!({ "token": token, "p": NEW_PASSWORD }), None)
        .await;
    assert_eq!(late.error_code(), "RESET_TOKEN_EXPIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_lifts_a_cool_down_lock_but_not_a_staff_lock() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.learner("umncpd", "ada@example.org").await;
    for _ in 0..5 {
        app.sign_in("umncpd", "ada@example.org", "not my password at all")
            .await;
    }
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", PASSWORD)
            .await
            .error_code(),
        "ACCOUNT_LOCKED"
    );
    request(&app, "ada@example.org").await.assert_ok();
    let token = app
        .link_token("ada@example.org", "Reset your", "/reset-password", &[])
        .await;
    app.graphql(RESET, json!({ "token": token, "p": NEW_PASSWORD }), None)
        .await
        .assert_ok();
    app.sign_in("umncpd", "ada@example.org", NEW_PASSWORD)
        .await
        .assert_ok();

    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.graphql(
        "mutation { setSecurityPolicy(input: { lockoutThreshold: 5, lockoutMode: UNTIL_STAFF_UNLOCK }) { position } }",
        json!({}),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    for _ in 0..5 {
        app.sign_in("umncpd", "ada@example.org", "not my password at all")
            .await;
    }
    request(&app, "ada@example.org").await.assert_ok();
    let second = app
        .link_token(
            "ada@example.org",
            "Reset your",
            "/reset-password",
            &[&token],
        )
        .await;
    app.graphql(
        RESET,
        json!({ "token": second, "p": "the third passphrase here" }),
        None,
    )
    .await
    .assert_ok();
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", "the third passphrase here")
            .await
            .error_code(),
        "ACCOUNT_LOCKED"
    );
}

const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) { position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_needs_the_current_one_ends_other_sessions_and_tells_the_person() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let first = app.learner("umncpd", "ada@example.org").await;
    let second = app.sign_in("umncpd", "ada@example.org", PASSWORD).await;
    let second_token = second.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let wrong = app
        .graphql(
            CHANGE,
            json!({ "c": "not my password at all", "n": NEW_PASSWORD }),
            Some(&second_token),
        )
        .await;
    assert_eq!(wrong.error_code(), "CURRENT_PASSWORD_INVALID");
    assert_eq!(
        wrong.body["errors"][0]["extensions"]["field"],
        "input.currentPassword"
    );
    let breached = app
        .graphql(
            CHANGE,
            json!({ "c": PASSWORD, "n": "password1234" }),
            Some(&second_token),
        )
        .await;
    assert_eq!(breached.error_code(), "PASSWORD_BREACHED");

    app.graphql(
        CHANGE,
        json!({ "c": PASSWORD, "n": NEW_PASSWORD }),
        Some(&second_token),
    )
    .await
    .assert_ok();
    assert_eq!(
        app.graphql("{ me { id } }", json!({}), Some(&first.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
    app.graphql("{ me { id } }", json!({}), Some(&second_token))
        .await
        .assert_ok();
    app.mail_to("ada@example.org", "Your password was changed")
        .await;
    app.sign_in("umncpd", "ada@example.org", NEW_PASSWORD)
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_end_a_users_sessions_and_only_in_their_organization() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.create_organization("other").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let other = app.staff("other", "coordinator@example.org").await;
    let end = "mutation($id: ID!) { endSessions(input: { accountId: $id }) { position } }";

    assert_eq!(
        app.graphql(
            end,
            json!({ "id": learner.account_id }),
            Some(&learner.token)
        )
        .await
        .error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        app.graphql(end, json!({ "id": learner.account_id }), Some(&other.token))
            .await
            .error_code(),
        "ACCOUNT_NOT_FOUND"
    );
    app.graphql("{ me { id } }", json!({}), Some(&learner.token))
        .await
        .assert_ok();

    let ended = app
        .graphql(end, json!({ "id": learner.account_id }), Some(&staff.token))
        .await;
    assert!(ended.assert_ok()["endSessions"]["position"]
        .as_i64()
        .is_some());
    assert_eq!(
        app.graphql("{ me { id } }", json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
    let again = app
        .graphql(end, json!({ "id": learner.account_id }), Some(&staff.token))
        .await;
    assert_eq!(
        again.assert_ok()["endSessions"]["position"],
        serde_json::Value::Null
    );
}

const CHANGE_EMAIL: &str = "mutation($c: String!, $e: String!) { requestEmailChange(input: { currentPassword: $c, newEmail: $e }) { message } }";
const CONFIRM_EMAIL: &str =
    "mutation($t: String!) { confirmEmailChange(input: { token: $t }) { accountId position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_email_address_takes_effect_once_confirmed_and_the_old_address_is_told() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let wrong = app
        .graphql(
            CHANGE_EMAIL,
            json!({ "c": "not my password at all", "e": "ada@new.example" }),
            Some(&learner.token),
        )
        .await;
    assert_eq!(wrong.error_code(), "CURRENT_PASSWORD_INVALID");

    app.graphql(
        CHANGE_EMAIL,
        json!({ "c": PASSWORD, "e": "ada@new.example" }),
        Some(&learner.token),
    )
    .await
    .assert_ok();
    app.mail_to(
        "ada@example.org",
        "A change of your e-mail address was requested",
    )
    .await;
    let token = app
        .link_token(
            "ada@new.example",
            "Confirm your new e-mail address",
            "/o/umncpd/confirm-email",
            &[],
        )
        .await;
    // Until confirmed, the old address still signs in.
    app.sign_in("umncpd", "ada@example.org", PASSWORD)
        .await
        .assert_ok();

    let confirmed = app
        .graphql(CONFIRM_EMAIL, json!({ "t": token }), None)
        .await;
    let position = confirmed.assert_ok()["confirmEmailChange"]["position"].clone();
    app.mail_to("ada@example.org", "Your e-mail address was changed")
        .await;
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", PASSWORD)
            .await
            .error_code(),
        "INVALID_CREDENTIALS"
    );
    app.sign_in("umncpd", "ada@new.example", PASSWORD)
        .await
        .assert_ok();
    let me = app
        .graphql(
            "query($at: LogPosition) { me(atLeast: $at) { email } }",
            json!({ "at": position }),
            Some(&learner.token),
        )
        .await;
    assert_eq!(me.assert_ok()["me"]["email"], "ada@new.example");
    // The old address is free for someone else now.
    app.register("umncpd", "ada@example.org").await.assert_ok();
    let activation_mails = || {
        app.mails()
            .iter()
            .filter(|m| m.contains("To: ada@example.org") && m.contains("Subject: Activate"))
            .count()
    };
    for _ in 0..200 {
        if activation_mails() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        activation_mails(),
        2,
        "a second account was created with the released address"
    );
    assert_eq!(
        app.graphql(CONFIRM_EMAIL, json!({ "t": token }), None)
            .await
            .error_code(),
        "EMAIL_CHANGE_TOKEN_INVALID"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_an_address_another_account_uses_answers_the_same_and_tells_that_address() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.learner("umncpd", "grace@example.org").await;
    let taken = app
        .graphql(
            CHANGE_EMAIL,
            json!({ "c": PASSWORD, "e": "grace@example.org" }),
            Some(&ada.token),
        )
        .await;
    let free = app
        .graphql(
            CHANGE_EMAIL,
            json!({ "c": PASSWORD, "e": "ada@new.example" }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(taken.assert_ok(), free.assert_ok());
    app.mail_to("grace@example.org", "This address already has an account")
        .await;
    let same = app
        .graphql(
            CHANGE_EMAIL,
            json!({ "c": PASSWORD, "e": "ADA@example.org" }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(same.error_code(), "EMAIL_UNCHANGED");
    assert_eq!(
        same.body["errors"][0]["extensions"]["field"],
        "input.newEmail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_tells_the_person_their_password_changed() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.learner("umncpd", "ada@example.org").await;
    request(&app, "ada@example.org").await.assert_ok();
    let token = app
        .link_token("ada@example.org", "Reset your", "/reset-password", &[])
        .await;
    app.graphql(RESET, json!({ "token": token, "p": NEW_PASSWORD }), None)
        .await
        .assert_ok();
    app.mail_to("ada@example.org", "Your password was changed")
        .await;
}
