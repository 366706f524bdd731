//! The first slice, as a clinician lives it: create an account, activate it from the e-mail, sign in, see it.

use serde_json::json;

use super::support::{TestApp, PASSWORD};

const ME: &str = "query($at: LogPosition) { me(atLeast: $at) { id email title firstName lastName status role } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clinician_registers_activates_from_the_emailed_link_signs_in_and_reads_their_account() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let registered = app.register("umncpd", "ada@example.org").await;
    assert_eq!(registered.status, 200);
    assert!(
        registered.assert_ok()["registerAccount"]["position"]
            .as_i64()
            .unwrap()
            > 0
    );

    let token = app.activation_token("umncpd", "ada@example.org").await;
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", PASSWORD)
            .await
            .error_code(),
        "ACCOUNT_NOT_ACTIVATED"
    );
    let activated = app.activate(&token).await;
    assert!(activated.assert_ok()["activateAccount"]["position"]
        .as_i64()
        .is_some());

    let signed_in = app.sign_in("umncpd", "ADA@example.org", PASSWORD).await;
    let data = signed_in.assert_ok()["signIn"].clone();
    let session = data["token"].as_str().unwrap();
    let me = app
        .graphql(ME, json!({ "at": data["position"] }), Some(session))
        .await;
    assert_eq!(
        me.assert_ok()["me"],
        json!({ "id": data["accountId"], "email": "ada@example.org", "title": "Dr.", "firstName": "Ada",
                "lastName": "Lovelace", "status": "ACTIVE", "role": "LEARNER" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_tokens_are_refused_with_distinct_codes() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.register("umncpd", "ada@example.org").await.assert_ok();
    let token = app.activation_token("umncpd", "ada@example.org").await;
    app.activate(&token).await.assert_ok();
    let used = app.activate(&token).await;
    assert_eq!(used.error_code(), "ACTIVATION_TOKEN_USED");
    assert_eq!(used.body["errors"][0]["extensions"]["field"], "input.token");
    assert_eq!(
        app.activate("not-a-token").await.error_code(),
        "ACTIVATION_TOKEN_INVALID"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_taken_address_answers_the_same_and_tells_the_owner_by_email() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let first = app.register("umncpd", "ada@example.org").await;
    let second = app.register("umncpd", "Ada@Example.org").await;
    assert_eq!(
        first.assert_ok()["registerAccount"]["message"],
        second.assert_ok()["registerAccount"]["message"]
    );
    let notice = app.mail_to("ada@example.org", "You already have").await;
    assert!(notice.contains("nothing was created"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_every_field_and_rule_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let answer = app
        .graphql(
            "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { position } }",
            json!({ "input": { "organizationCode": "umncpd", "firstName": " ", "lastName": "Lovelace",
                               "email": "ada@", "password": "password1234" } }),
            None,
        )
        .await;
    assert_eq!(answer.error_code(), "NAME_REQUIRED");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["field"],
        "input.firstName"
    );
    let fields: Vec<(String, String)> = answer.body["errors"][0]["extensions"]["fields"]
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
            ("input.firstName".to_owned(), "NAME_REQUIRED".to_owned()),
            ("input.email".to_owned(), "EMAIL_INVALID".to_owned()),
            ("input.password".to_owned(), "PASSWORD_BREACHED".to_owned()),
        ]
    );
    let client = app.database.pool.get().await.unwrap();
    let accounts: i64 = client
        .query_one(
            "SELECT count(*) FROM events WHERE stream_id LIKE 'account-%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(accounts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_organization_is_named_as_the_offending_field() {
    let app = TestApp::spawn().await;
    let answer = app.register("nowhere", "ada@example.org").await;
    assert_eq!(answer.error_code(), "ORGANIZATION_NOT_FOUND");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["field"],
        "input.organizationCode"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_address_look_the_same() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.learner("umncpd", "ada@example.org").await;
    let wrong = app
        .sign_in("umncpd", "ada@example.org", "not my password at all")
        .await;
    let unknown = app.sign_in("umncpd", "nobody@example.org", PASSWORD).await;
    assert_eq!(wrong.error_code(), "INVALID_CREDENTIALS");
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_needs_a_valid_session_and_sign_out_ends_it() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    assert_eq!(
        app.graphql(ME, json!({}), None).await.error_code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.graphql(ME, json!({}), Some("forged-token"))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
    let me = app
        .graphql(ME, json!({ "at": learner.position }), Some(&learner.token))
        .await;
    assert_eq!(me.assert_ok()["me"]["id"], learner.account_id);
    let out = app
        .graphql(
            "mutation { signOut { position } }",
            json!({}),
            Some(&learner.token),
        )
        .await;
    assert!(out.assert_ok()["signOut"]["position"].as_i64().is_some());
    assert_eq!(
        app.graphql(ME, json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_of_one_organization_are_invisible_to_another() {
    let app = TestApp::spawn().await;
    app.create_organization("alpha").await;
    app.create_organization("beta").await;
    let alpha = app.learner("alpha", "ada@example.org").await;
    // The same address may have an account in each organization.
    let beta = app.learner("beta", "ada@example.org").await;
    assert_ne!(alpha.account_id, beta.account_id);
    assert_eq!(
        app.sign_in("beta", "ada@example.org", PASSWORD)
            .await
            .assert_ok()["signIn"]["accountId"],
        beta.account_id
    );
    let me = app
        .graphql(ME, json!({ "at": beta.position }), Some(&beta.token))
        .await;
    assert_eq!(me.assert_ok()["me"]["id"], beta.account_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_mutation_with_the_same_command_id_is_applied_once() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let query =
        "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { position } }";
    let variables = json!({ "input": {
        "organizationCode": "umncpd", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org",
        "password": PASSWORD, "commandId": "6f1d1c2e-1f0a-4c1b-9d55-3f3c1d2b4a10" } });
    let first = app.graphql(query, variables.clone(), None).await;
    let again = app.graphql(query, variables, None).await;
    assert_eq!(first.assert_ok(), again.assert_ok());
    let client = app.database.pool.get().await.unwrap();
    let registered: i64 = client
        .query_one(
            "SELECT count(*) FROM events WHERE event_type = 'AccountRegistered'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(registered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_activation_answers_the_same_for_any_address() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.register("umncpd", "ada@example.org").await.assert_ok();
    let query =
        "mutation($input: ResendActivationInput!) { resendActivation(input: $input) { message } }";
    let known = app
        .graphql(
            query,
            json!({ "input": { "organizationCode": "umncpd", "email": "ada@example.org" } }),
            None,
        )
        .await;
    let unknown = app
        .graphql(
            query,
            json!({ "input": { "organizationCode": "umncpd", "email": "nobody@example.org" } }),
            None,
        )
        .await;
    assert_eq!(known.assert_ok(), unknown.assert_ok());
    // Two links now work; the newest is in the second e-mail.
    for _ in 0..200 {
        if app
            .mails()
            .iter()
            .filter(|m| m.contains("Subject: Activate"))
            .count()
            == 2
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the second activation e-mail never came");
}
