//! Security review (issue 19): what auditors, staff and open sockets can reach, and the costly requests.

use serde_json::{json, Value};

use super::support::{TestApp, PASSWORD};

const HISTORY: &str = "query($s: String!) { streamHistory(stream: $s, first: 500) { edges { node { eventType data } } } }";
const NEW_PASSWORD: &str = "a brand new passphrase for dana";

/// Every event of a stream as the auditor reads it.
async fn history(app: &TestApp, auditor: &str, stream: &str) -> Vec<(String, Value)> {
    let answer = app
        .graphql(HISTORY, json!({ "s": stream }), Some(auditor))
        .await;
    answer.assert_ok()["streamHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["eventType"].as_str().unwrap().to_owned(),
                e["node"]["data"].clone(),
            )
        })
        .collect()
}

/// The streams of the organization's log whose name starts with `category-`.
async fn streams(app: &TestApp, category: &str) -> Vec<String> {
    let client = app.state().pool.get().await.unwrap();
    client
        .query(
            "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE $1 || '-%'",
            &[&category],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn field<'a>(events: &'a [(String, Value)], event_type: &str, name: &str) -> &'a Value {
    let (_, data) = events
        .iter()
        .find(|(t, _)| t == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {events:?}"));
    &data[name]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_reads_every_secret_of_the_log_as_a_marker_never_its_value() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let staff = app.staff("acme", "dana@example.org").await;
    let auditor = app.auditor("acme", "audrey@example.org").await;
    app.configure_sms(&staff.token).await;

    let started = app
        .graphql(
            "mutation { startTotpEnrollment { secret } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    let totp_secret = started.assert_ok()["startTotpEnrollment"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.graphql(
        "mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) { position } }",
        json!({ "c": PASSWORD, "n": NEW_PASSWORD }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    app.graphql(
        "mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { message } }",
        json!({ "input": { "organizationCode": "acme", "email": "dana@example.org" } }),
        None,
    )
    .await
    .assert_ok();
    let reset = app
        .link_token("dana@example.org", "Reset your", "/reset-password", &[])
        .await;
    app.graphql(
        "mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { position } }",
        json!({ "t": reset, "p": PASSWORD }),
        None,
    )
    .await
    .assert_ok();

    let account = history(
        &app,
        &auditor.token,
        &format!("account-{}", staff.account_id),
    )
    .await;
    let secret = json!({ "$secret": true });
    let personal_secret = json!({ "$pii": { "$secret": true } });
    for event in ["AccountRegistered", "PasswordChanged", "PasswordReset"] {
        assert_eq!(
            field(&account, event, "password_hash"),
            &personal_secret,
            "{event}"
        );
    }
    assert_eq!(
        field(&account, "TotpEnrollmentStarted", "secret"),
        &personal_secret
    );
    assert_eq!(
        field(&account, "PasswordResetRequested", "token_hash"),
        &secret
    );
    let sessions = streams(&app, "session").await;
    assert!(!sessions.is_empty());
    for session in &sessions {
        let events = history(&app, &auditor.token, session).await;
        assert_eq!(field(&events, "SessionStarted", "token_hash"), &secret);
    }
    let organization = history(
        &app,
        &auditor.token,
        &streams(&app, "organization").await[0],
    )
    .await;
    assert_eq!(
        field(&organization, "SmsChannelConfigured", "channel")["sealed_auth_token"],
        secret
    );

    // Nothing anywhere in those answers holds a hash, a seed or a sealed value.
    let mut everything = account;
    everything.extend(organization);
    let text = serde_json::to_string(&everything).unwrap();
    assert!(!text.contains("argon2"), "{text}");
    assert!(!text.contains(&totp_secret));
    let client = app.state().pool.get().await.unwrap();
    for row in client
        .query(
            "SELECT data->>'token_hash' FROM events WHERE data ? 'token_hash'",
            &[],
        )
        .await
        .unwrap()
    {
        let hash: String = row.get(0);
        assert!(!text.contains(&hash));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_postgresql_cannot_store_is_refused_with_a_code_naming_the_argument() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let inline = app
        .graphql(
            r#"{ organization(code: "a\u0000b") { name } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(inline.error_code(), "TEXT_INVALID", "{}", inline.body);
    assert_eq!(inline.body["errors"][0]["extensions"]["field"], "code");
    let variable = app
        .graphql(
            "query($c: String!) { organization(code: $c) { name } }",
            json!({ "c": "acme\u{0}" }),
            None,
        )
        .await;
    assert_eq!(variable.error_code(), "TEXT_INVALID");
    assert_eq!(variable.body["errors"][0]["extensions"]["field"], "c");
    let events = app.state().pool.get().await.unwrap();
    let before: i64 = events
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    let nested = app
        .graphql(
            "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
            json!({ "input": { "organizationCode": "acme", "firstName": "Ada\u{0}", "lastName": "Lovelace",
                               "email": "ada@example.org", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(nested.error_code(), "TEXT_INVALID");
    assert_eq!(
        nested.body["errors"][0]["extensions"]["field"],
        "input.firstName"
    );
    let after: i64 = events
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(before, after);
}
