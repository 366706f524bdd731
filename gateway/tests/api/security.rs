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

const SET_TEMPLATE: &str =
    "mutation($input: MessageTemplateInput!) { setMessageTemplate(input: $input) { position } }";
const REQUEST_RESET: &str = "mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { message } }";

fn reset_request(email: &str) -> Value {
    json!({ "input": { "organizationCode": "acme", "email": email } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_templates_keep_links_and_codes_in_the_body_and_cannot_stall_the_server() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let staff = app.staff("acme", "dana@example.org").await;
    let template = |subject: &str, text: &str| json!({ "input": { "kind": "PASSWORD_RESET", "subject": subject, "text": text } });

    let in_subject = app
        .graphql(
            SET_TEMPLATE,
            template("R {{ link }}", "{{ link }}"),
            Some(&staff.token),
        )
        .await;
    assert_eq!(in_subject.error_code(), "MESSAGE_TEMPLATE_INVALID");
    assert_eq!(
        in_subject.body["errors"][0]["extensions"]["field"],
        "input.subject"
    );
    let without = app
        .graphql(SET_TEMPLATE, template("Reset", "x"), Some(&staff.token))
        .await;
    assert_eq!(without.error_code(), "MESSAGE_TEMPLATE_INVALID");
    assert_eq!(
        without.body["errors"][0]["extensions"]["field"],
        "input.text"
    );
    let endless = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}{{ link }}";
    let started = std::time::Instant::now();
    let stalled = app
        .graphql(SET_TEMPLATE, template("Reset", endless), Some(&staff.token))
        .await;
    assert_eq!(stalled.error_code(), "MESSAGE_TEMPLATE_INVALID");
    assert!(started.elapsed() < portal_commands::templates::RENDER_TIME_LIMIT);

    // A template saved before the rule (written here past the check) is not used for a secret-bearing message:
    // the default goes out, and staff never see the link in the deliveries.
    let store = &app.state().store;
    let code = portal_domain::values::OrganizationCode::parse("acme").unwrap();
    let organization = portal_commands::organizations::find_by_code(store, &code)
        .await
        .unwrap()
        .unwrap();
    let leaky = portal_domain::values::MessageTemplate::new(
        portal_domain::values::MessageKind::PasswordReset,
        "R {{ link }}",
        "{{ link }}",
        None,
    )
    .unwrap();
    portal_commands::handler::execute::<_, portal_domain::organization::Organization>(
        store,
        &portal_commands::log::StreamId::new("organization", organization.id.0),
        None,
        &portal_commands::handler::CommandContext::system(),
        "SetMessageTemplate",
        vec![],
        |_| {
            Ok(portal_commands::handler::Plan::command(
                organization.id.0,
                portal_domain::organization::OrganizationCommand::SetMessageTemplate {
                    kind: portal_domain::values::MessageKind::PasswordReset,
                    template: Some(leaky.clone()),
                    by: None,
                },
            ))
        },
    )
    .await
    .unwrap();
    app.learner("acme", "ada@example.org").await;
    app.graphql(REQUEST_RESET, reset_request("ada@example.org"), None)
        .await
        .assert_ok();
    let token = app
        .link_token("ada@example.org", "Reset your", "/reset-password", &[])
        .await;
    let deliveries = app
        .graphql(
            "{ deliveries { kind subject status } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    let text = deliveries.assert_ok().to_string();
    assert!(text.contains("PASSWORD_RESET"), "{text}");
    assert!(!text.contains(&token), "{text}");
    assert!(!text.contains("token="), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_holds_no_working_link_once_sent_and_forgets_one_past_its_expiry() {
    let app = TestApp::spawn_with(|args| args.no_delivery = true).await;
    app.create_organization("acme").await;
    app.register("acme", "ada@example.org").await.assert_ok();
    let client = app.state().pool.get().await.unwrap();
    let row = |email: &'static str| {
        let client = &client;
        async move {
            let row = client
                .query_one(
                    "SELECT status, data, o::text FROM outbox o WHERE recipient = $1 AND kind = 'activation'",
                    &[&email],
                )
                .await
                .unwrap();
            (
                row.get::<_, String>(0),
                row.get::<_, Value>(1),
                row.get::<_, String>(2),
            )
        }
    };
    let (status, data, whole) = row("ada@example.org").await;
    assert_eq!(status, "pending");
    assert!(data["link"]["$sealed"].is_string(), "{data}");
    assert!(!whole.contains("token="), "{whole}");

    let state = app.state();
    let clock = state.clone();
    let settings = portal_gateway::cli::DeliveryArgs {
        mail_dir: app.mail_dir.clone(),
        ..Default::default()
    };
    let worker = portal_gateway::app::delivery(
        &app.database.config,
        &state.store,
        &settings,
        std::sync::Arc::new(move || clock.now()),
    )
    .unwrap();
    assert!(worker.deliver_one().await.unwrap());
    let token = app.activation_token("acme", "ada@example.org").await;
    let (status, data, whole) = row("ada@example.org").await;
    assert_eq!(status, "sent");
    assert_eq!(data["link"], json!({ "$spent": true }));
    assert!(!whole.contains(&token));
    app.activate(&token).await.assert_ok();

    // A message still waiting when its link expires forgets the link, and is given up rather than sent broken.
    app.register("acme", "grace@example.org").await.assert_ok();
    state.advance_clock(chrono::Duration::hours(73));
    let forgotten = portal_commands::outbox::forget_expired(&state.pool, state.now())
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    let (_, data, _) = row("grace@example.org").await;
    assert_eq!(data["link"], json!({ "$spent": true }));
    assert!(worker.deliver_one().await.unwrap());
    let (status, _, _) = row("grace@example.org").await;
    assert_eq!(status, "dead");
}

const SIGN_IN: &str =
    "mutation($input: SignInInput!) { signIn(input: $input) { token accountId } }";

fn sign_in_input(email: &str, password: &str, command_id: Option<&str>) -> Value {
    json!({ "input": { "organizationCode": "acme", "email": email, "password": password, "commandId": command_id } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_emails_have_a_budget_per_client_network_and_per_address_and_only_trusted_proxies_name_the_client(
) {
    let app = TestApp::spawn_with(|args| {
        args.no_delivery = true;
        args.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    app.create_organization("acme").await;
    let app = &app;
    // Per address: five an hour, from whatever network they come.
    for i in 0..5 {
        app.graphql_from(
            &format!("198.51.100.{i}"),
            REQUEST_RESET,
            reset_request("ada@example.org"),
            None,
        )
        .await
        .assert_ok();
    }
    let sixth = app
        .graphql_from(
            "203.0.113.50",
            REQUEST_RESET,
            reset_request("ada@example.org"),
            None,
        )
        .await;
    assert_eq!(sixth.error_code(), "RATE_LIMITED");
    // Per client network: twenty a minute, whatever the address; an IPv6 client is its /64.
    // (At once: each answer takes its floor, and the budget refills as time passes.)
    let answers = futures_util::future::join_all((0..20).map(|i| async move {
        let client = format!("2001:db8:1:2::{i:x}");
        app.graphql_from(
            &client,
            REQUEST_RESET,
            reset_request(&format!("person{i}@example.org")),
            None,
        )
        .await
    }))
    .await;
    answers.iter().for_each(|a| {
        a.assert_ok();
    });
    let same_64 = app
        .graphql_from(
            "2001:db8:1:2:ffff::1",
            REQUEST_RESET,
            reset_request("fresh@example.org"),
            None,
        )
        .await;
    assert_eq!(same_64.error_code(), "RATE_LIMITED");
    app.graphql_from(
        "2001:db8:1:3::1",
        REQUEST_RESET,
        reset_request("fresh@example.org"),
        None,
    )
    .await
    .assert_ok();
    // A client that is not a trusted proxy cannot pick its address: X-Forwarded-For from it is ignored.
    let untrusted = TestApp::spawn_with(|args| args.no_delivery = true).await;
    untrusted.create_organization("acme").await;
    let untrusted = &untrusted;
    let answers = futures_util::future::join_all((0..20).map(|i| async move {
        let client = format!("192.0.2.{i}");
        untrusted
            .graphql_from(
                &client,
                REQUEST_RESET,
                reset_request(&format!("p{i}@example.org")),
                None,
            )
            .await
    }))
    .await;
    answers.iter().for_each(|a| {
        a.assert_ok();
    });
    let spoofed = untrusted
        .graphql_from(
            "192.0.2.99",
            REQUEST_RESET,
            reset_request("q@example.org"),
            None,
        )
        .await;
    assert_eq!(spoofed.error_code(), "RATE_LIMITED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_is_checked_before_any_hashing_and_resets_are_budgeted() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let learner = app.learner("acme", "ada@example.org").await;
    let hashes = || app.state().store.passwords.runs();
    let before = hashes();
    // Well formed, for the right account, but not a link that was ever sent.
    let (forged, _) = portal_commands::credentials::new_token(
        uuid::Uuid::parse_str(&learner.account_id).unwrap(),
    );
    let refused = app
        .graphql(
            "mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { position } }",
            json!({ "t": forged, "p": NEW_PASSWORD }),
            None,
        )
        .await;
    assert!(
        refused.error_code().starts_with("RESET_TOKEN_"),
        "{}",
        refused.body
    );
    assert_eq!(hashes(), before, "a wrong link cost argon2id work");
    for _ in 0..9 {
        app.graphql(
            "mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { position } }",
            json!({ "t": forged, "p": NEW_PASSWORD }),
            None,
        )
        .await;
    }
    let eleventh = app
        .graphql(
            "mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { position } }",
            json!({ "t": forged, "p": NEW_PASSWORD }),
            None,
        )
        .await;
    assert_eq!(eleventh.error_code(), "RATE_LIMITED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_current_passwords_count_towards_the_lockout_and_end_the_session() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let learner = app.learner("acme", "ada@example.org").await;
    const CHANGE: &str = "mutation($c: String!, $n: String!) { changePassword(input: { currentPassword: $c, newPassword: $n }) { position } }";
    for _ in 0..2 {
        let wrong = app
            .graphql(
                CHANGE,
                json!({ "c": "not the password at all", "n": NEW_PASSWORD }),
                Some(&learner.token),
            )
            .await;
        assert_eq!(wrong.error_code(), "CURRENT_PASSWORD_INVALID");
    }
    let email_change = app
        .graphql(
            "mutation($input: RequestEmailChangeInput!) { requestEmailChange(input: $input) { message } }",
            json!({ "input": { "currentPassword": "still not it", "newEmail": "ada2@example.org" } }),
            Some(&learner.token),
        )
        .await;
    assert_eq!(email_change.error_code(), "CURRENT_PASSWORD_INVALID");
    for _ in 0..2 {
        let two_step = app
            .graphql(
                "mutation($p: String!) { disableTwoStep(currentPassword: $p) { position } }",
                json!({ "p": "nor this one" }),
                Some(&learner.token),
            )
            .await;
        assert_eq!(two_step.error_code(), "CURRENT_PASSWORD_INVALID");
    }
    // The fifth wrong password locked the account and ended the session it came from.
    let me = app
        .graphql("{ me { id } }", json!({}), Some(&learner.token))
        .await;
    assert_eq!(me.error_code(), "UNAUTHENTICATED");
    let right = app
        .graphql(
            SIGN_IN,
            sign_in_input("ada@example.org", PASSWORD, None),
            None,
        )
        .await;
    assert_eq!(right.error_code(), "ACCOUNT_LOCKED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_past_the_password_queue_is_refused_at_once() {
    let app = TestApp::spawn_with(|args| args.sign_in_per_minute = 100_000).await;
    app.create_organization("acme").await;
    app.learner("acme", "ada@example.org").await;
    let answers = futures_util::future::join_all((0..80).map(|_| {
        app.graphql(
            SIGN_IN,
            sign_in_input("ada@example.org", "a wrong password here", None),
            None,
        )
    }))
    .await;
    let codes: Vec<&str> = answers.iter().map(|a| a.error_code()).collect();
    let busy = codes.iter().filter(|c| **c == "RATE_LIMITED").count();
    assert!(busy > 0, "{codes:?}");
    assert!(codes
        .iter()
        .all(|c| *c == "RATE_LIMITED" || *c == "INVALID_CREDENTIALS" || *c == "ACCOUNT_LOCKED"));
    // Once the burst is over, sign-in works again.
    let later = app
        .graphql(
            SIGN_IN,
            sign_in_input("grace@example.org", PASSWORD, None),
            None,
        )
        .await;
    assert_eq!(later.error_code(), "INVALID_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_looks_like_a_link_is_refused_at_registration() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let answer = app
        .graphql(
            "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
            json!({ "input": { "organizationCode": "acme", "firstName": "www.claim-your-prize.example",
                               "lastName": "Lovelace", "email": "ada@example.org", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(
        answer.error_code(),
        "NAME_LOOKS_LIKE_LINK",
        "{}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_retried_with_its_command_id_checks_the_password_again() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    app.learner("acme", "ada@example.org").await;
    let id = uuid::Uuid::new_v4().to_string();
    let first = app
        .graphql(
            SIGN_IN,
            sign_in_input("ada@example.org", PASSWORD, Some(&id)),
            None,
        )
        .await;
    let token = first.assert_ok()["signIn"]["token"].clone();
    let same = app
        .graphql(
            SIGN_IN,
            sign_in_input("ada@example.org", PASSWORD, Some(&id)),
            None,
        )
        .await;
    assert_eq!(same.assert_ok()["signIn"]["token"], token);
    // A wrong password with the known id gets no token and no quicker "key reused" answer: it is a wrong password.
    let guess = app
        .graphql(
            SIGN_IN,
            sign_in_input("ada@example.org", "a guess at the password", Some(&id)),
            None,
        )
        .await;
    assert_eq!(guess.error_code(), "INVALID_CREDENTIALS");
    let attempts = app
        .state()
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM events WHERE event_type = 'SignInFailed'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(attempts, 1, "the guess was recorded against the account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_about_an_address_take_the_same_floor_whether_an_account_uses_it_or_not() {
    let app = TestApp::spawn_with(|args| args.no_delivery = true).await;
    app.create_organization("acme").await;
    app.register("acme", "known@example.org").await.assert_ok();
    let floor = portal_commands::accounts::ANSWER_FLOOR;
    for query in [
        "mutation($input: ResendActivationInput!) { resendActivation(input: $input) { message } }",
        REQUEST_RESET,
    ] {
        for email in ["known@example.org", "unknown@example.org"] {
            let started = std::time::Instant::now();
            app.graphql(query, reset_request(email), None)
                .await
                .assert_ok();
            assert!(started.elapsed() >= floor, "{query} for {email}");
        }
    }
    for email in ["known@example.org", "other@example.org"] {
        let started = std::time::Instant::now();
        app.register("acme", email).await.assert_ok();
        assert!(started.elapsed() >= floor, "registering {email}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_sign_up_says_nothing_about_the_address_or_username_before_the_date_of_birth_matched(
) {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let staff = app.staff("acme", "desk@example.org").await;
    for (number, email) in [("MC-1", "grace@example.org"), ("MC-2", "alan@example.org")] {
        app.graphql(
            "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { patientId } }",
            json!({ "input": { "clinicNumber": number, "firstName": "Grace", "lastName": "Hopper",
                               "dateOfBirth": "1956-12-09", "email": email } }),
            Some(&staff.token),
        )
        .await
        .assert_ok();
    }
    const SIGN_UP: &str =
        "mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { message } }";
    let sign_up = |number: &str, born: &str, username: &str, email: &str| {
        json!({ "input": { "organizationCode": "acme", "clinicNumber": number, "dateOfBirth": born,
                           "username": username, "email": email, "password": PASSWORD } })
    };
    app.graphql(
        SIGN_UP,
        sign_up("MC-1", "1956-12-09", "grace", "grace@example.org"),
        None,
    )
    .await
    .assert_ok();
    // The second record with the first one's username and address, and the wrong date of birth: the same refusal
    // as any mismatch.
    for (username, email) in [("grace", "alan@example.org"), ("alan", "grace@example.org")] {
        let answer = app
            .graphql(
                SIGN_UP,
                sign_up("MC-2", "1970-01-01", username, email),
                None,
            )
            .await;
        assert_eq!(answer.error_code(), "SIGN_UP_REFUSED", "{}", answer.body);
    }
    let taken = app
        .graphql(
            SIGN_UP,
            sign_up("MC-2", "1956-12-09", "grace", "alan@example.org"),
            None,
        )
        .await;
    assert_eq!(taken.error_code(), "USERNAME_TAKEN");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A patient of the clinic "acme" registered by `staff`, signed up and signed in; the session token.
async fn patient(app: &TestApp, staff: &str) -> String {
    app.graphql(
        "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { patientId } }",
        json!({ "input": { "clinicNumber": "MC-1", "firstName": "Grace", "lastName": "Hopper",
                           "dateOfBirth": "1956-12-09", "email": "grace@example.org" } }),
        Some(staff),
    )
    .await
    .assert_ok();
    app.graphql(
        "mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { message } }",
        json!({ "input": { "organizationCode": "acme", "clinicNumber": "MC-1", "dateOfBirth": "1956-12-09",
                           "username": "grace", "email": "grace@example.org", "password": PASSWORD } }),
        None,
    )
    .await
    .assert_ok();
    let activation = app.activation_token("acme", "grace@example.org").await;
    app.activate(&activation).await.assert_ok();
    let signed_in = app
        .graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
            json!({ "input": { "organizationCode": "acme", "username": "grace", "password": PASSWORD } }),
            None,
        )
        .await;
    app.caught_up("accounts").await;
    signed_in.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A socket speaking graphql-transport-ws that sent `connection_init` with `token`.
async fn socket(app: &TestApp, token: &str) -> Socket {
    let mut socket = app.ws_connect().await;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            message.to_string().into(),
        ))
        .await
        .unwrap();
}

/// The next text message, or the close code, within `seconds`.
async fn next(socket: &mut Socket, seconds: u64) -> Result<Value, u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(seconds), socket.next())
            .await
            .expect("a message in time");
        match message {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or(1005, |f| u16::from(f.code)))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(1006),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_follows_its_session_and_holds_bounded_subscriptions_connections_and_messages() {
    let app = TestApp::spawn().await;
    app.create_organization("acme").await;
    let staff = app.staff("acme", "desk@example.org").await;
    let token = patient(&app, &staff.token).await;

    let mut first = socket(&app, &token).await;
    assert_eq!(
        next(&mut first, 10).await.unwrap()["type"],
        "connection_ack"
    );
    for id in 1..=portal_gateway::ws::MAX_SUBSCRIPTIONS {
        send(
            &mut first,
            json!({ "id": id.to_string(), "type": "subscribe",
                                  "payload": { "query": "subscription { unreadMessages }" } }),
        )
        .await;
    }
    send(
        &mut first,
        json!({ "id": "one too many", "type": "subscribe",
                              "payload": { "query": "subscription { unreadMessages }" } }),
    )
    .await;
    let mut refused = None;
    for _ in 0..=portal_gateway::ws::MAX_SUBSCRIPTIONS {
        let message = next(&mut first, 10).await.unwrap();
        if message["type"] == "error" {
            refused = Some(message);
            break;
        }
    }
    let refused = refused.expect("the extra subscription is refused");
    assert_eq!(refused["id"], "one too many");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );

    // Four sockets per session; the fifth is closed with 4429.
    let mut others = vec![];
    for _ in 1..portal_gateway::ws::MAX_CONNECTIONS_PER_SESSION {
        let mut other = socket(&app, &token).await;
        assert_eq!(
            next(&mut other, 10).await.unwrap()["type"],
            "connection_ack"
        );
        others.push(other);
    }
    let mut fifth = socket(&app, &token).await;
    assert_eq!(next(&mut fifth, 10).await, Err(4429));

    // A message larger than the HTTP body limit closes the socket (1009, message too big).
    let mut big = others.pop().unwrap();
    send(&mut big, json!({ "id": "x", "type": "subscribe",
                            "payload": { "query": "x".repeat(portal_gateway::app::MAX_BODY_BYTES + 1) } }))
    .await;
    let closed = loop {
        match next(&mut big, 10).await {
            Ok(_) => continue,
            Err(code) => break code,
        }
    };
    assert!(closed == 1009 || closed == 1006, "{closed}");

    // Signing out closes every socket of the session with 4401, and the token opens no new one (4403).
    app.graphql("mutation { signOut { position } }", json!({}), Some(&token))
        .await
        .assert_ok();
    let recheck = portal_gateway::ws::RECHECK.as_secs() + 10;
    let closed = loop {
        match next(&mut first, recheck).await {
            Ok(_) => continue,
            Err(code) => break code,
        }
    };
    assert_eq!(closed, 4401);
    let mut late = socket(&app, &token).await;
    assert_eq!(next(&mut late, 10).await, Err(4403));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_may_only_read_and_append_the_audit_trail_and_staff_reads_of_patients_are_logged(
) {
    let key = portal_commands::secrets::MasterKey::generate();
    let key_text = key.to_base64();
    let app = TestApp::spawn_on(
        portal_commands::testing::TestDatabase::empty().await,
        key,
        |_| {},
    )
    .await;
    app.create_organization("acme").await;
    let staff = app.staff("acme", "desk@example.org").await;
    patient(&app, &staff.token).await;
    for _ in 0..5 {
        app.graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "acme", "username": "grace", "password": "not her password" } }),
            None,
        )
        .await;
    }
    app.caught_up("lockout").await;

    // Staff read the locked patient and her sign-in attempts: both reads are in the access log.
    let locked = app
        .graphql(
            "{ lockedAccounts { edges { node { accountId } } } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    let grace = locked.assert_ok()["lockedAccounts"]["edges"][0]["node"]["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.graphql(
        "query($id: ID!) { signInAttempts(accountId: $id) { outcome } }",
        json!({ "id": grace }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let client = app.state().pool.get().await.unwrap();
    let logged: Vec<String> = client
        .query(
            "SELECT field FROM access_log WHERE patient_account_id = $1 ORDER BY id",
            &[&uuid::Uuid::parse_str(&grace).unwrap()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(logged, ["lockedAccounts", "signInAttempts"]);

    // The server's connections act as portal_app, which may not change the audit trail or create anything.
    let role: String = client
        .query_one("SELECT current_user::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, "portal_app");
    for statement in [
        "UPDATE events SET data = data",
        "DELETE FROM events",
        "TRUNCATE events",
        "UPDATE access_log SET field = field",
        "DELETE FROM access_log",
        "UPDATE log_checkpoints SET signature = signature",
        "DELETE FROM log_checkpoints",
        "UPDATE server_settings SET value = value",
        "CREATE TABLE smuggled (x int)",
    ] {
        let refused = client.batch_execute(statement).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {refused}"
        );
    }

    // `portal log verify` checks the access log's chain, and names a row someone with the owner's rights changed.
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
            .args(["log", "verify"])
            .env("DATABASE_URL", &app.database.url)
            .env("PORTAL_MASTER_KEY", &key_text)
            .output()
            .expect("portal runs")
    };
    let clean = verify();
    assert!(clean.status.success(), "{clean:?}");
    assert!(String::from_utf8_lossy(&clean.stderr).contains("checked 2 access-log row(s)"));
    let owner = app.database.pool.get().await.unwrap();
    owner
        .batch_execute(
            "ALTER TABLE access_log DISABLE TRIGGER access_log_no_update_or_delete;
             UPDATE access_log SET field = 'nothing to see' WHERE id = (SELECT min(id) FROM access_log);
             ALTER TABLE access_log ENABLE TRIGGER access_log_no_update_or_delete;",
        )
        .await
        .unwrap();
    let tampered = verify();
    assert_eq!(tampered.status.code(), Some(1), "{tampered:?}");
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("access-log row"));
}
