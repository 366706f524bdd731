//! Fuzzing what comes from outside, over HTTP against the real app: GraphQL variables into the domain's value types,
//! the SMS webhook's form and signature, and tokens. Whatever arrives, the server never answers 500, every GraphQL
//! error carries a code, and a refused mutation writes nothing.
//!
//! proptest generates the inputs: `FUZZ_CASES` cases per property (default 256 here), a fixed budget for CI.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::support::{in_minutes, TestApp, SMS_NUMBER, SMS_TOKEN};

fn config() -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Runs `check` on inputs from `strategy` (on the test's runtime), and fails with the smallest failing input.
fn fuzz<S: Strategy>(
    strategy: S,
    check: impl Fn(S::Value) -> futures_util::future::BoxFuture<'static, Result<(), TestCaseError>>,
) where
    S::Value: 'static,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        let mut runner = TestRunner::new(config());
        if let Err(failure) = runner.run(&strategy, |value| handle.block_on(check(value))) {
            panic!("{failure}");
        }
    });
}

/// Any text, or text near a valid shape, with noise around it, or with a NUL (which PostgreSQL cannot store) inside.
fn text(near: &'static str) -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        near,
        (near, "[ \t\n\u{0}\u{200b}é'\"<>%\\\\]{0,3}").prop_map(|(a, b)| format!("{b}{a}{b}")),
        (near, 0usize..8).prop_map(|(a, at)| {
            let at = a.char_indices().nth(at).map_or(a.len(), |(i, _)| i);
            format!("{}\u{0}{}", &a[..at], &a[at..])
        }),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

async fn events(app: &TestApp) -> i64 {
    let client = app.database.pool.get().await.unwrap();
    client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
}

/// How many fuzzed requests were accepted, and refused by the resolvers (rather than by the type checks).
#[derive(Default)]
struct Tally {
    accepted: AtomicUsize,
    refused_by_rules: AtomicUsize,
}

impl Tally {
    /// Both kinds happened: the inputs reached the domain's rules, not only the schema's types.
    fn assert_reached_the_domain(&self) {
        let accepted = self.accepted.load(Ordering::SeqCst);
        let refused = self.refused_by_rules.load(Ordering::SeqCst);
        assert!(
            accepted > 0 && refused > 0,
            "accepted {accepted}, refused by the rules {refused}"
        );
    }
}

/// The answer is no server error, every error has a code other than INTERNAL, and a refusal wrote nothing.
async fn well_refused(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let before = events(app).await;
    let answer = app.graphql(query, variables, token).await;
    prop_assert!(
        answer.status.as_u16() < 500,
        "status {} for {}",
        answer.status,
        answer.body
    );
    if let Some(errors) = answer.body.get("errors").and_then(Value::as_array) {
        for error in errors {
            let code = error["extensions"]["code"].as_str().unwrap_or_default();
            prop_assert!(
                !code.is_empty() && code != "INTERNAL",
                "error without a clear code: {}",
                error
            );
        }
        prop_assert_eq!(events(app).await, before, "a refused request wrote events");
        let code = answer.error_code();
        if code != "GRAPHQL_VALIDATION_FAILED" && code != "ARGUMENT_INVALID" {
            tally.refused_by_rules.fetch_add(1, Ordering::SeqCst);
        }
    } else {
        tally.accepted.fetch_add(1, Ordering::SeqCst);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_registration_input_is_accepted_or_refused_with_a_code() {
    let app = std::sync::Arc::new(TestApp::spawn_with(|args| args.no_delivery = true).await);
    app.create_organization("acme").await;
    let strategy = (
        prop_oneof![3 => Just("acme".to_owned()), 1 => text("[a-z-]{0,20}")],
        proptest::option::of(text("(Dr|Ms)\\.?")),
        prop_oneof![3 => "[A-Z][a-z]{1,12}", 1 => text("[A-Za-z '-]{0,40}")],
        prop_oneof![3 => "[A-Z][a-z]{1,12}", 1 => text("[A-Za-z '-]{0,40}")],
        prop_oneof![3 => "[a-z]{1,12}@[a-z]{1,8}\\.[a-z]{2,4}", 1 => text("[a-z0-9.+]{1,12}@[a-z]{1,8}\\.[a-z]{2,4}")],
        prop_oneof![3 => "[a-z]{6} [a-z]{6} [a-z]{6}", 1 => text(".{10,20}")],
        proptest::option::of("[0-9a-f-]{0,40}"),
    );
    let fuzzed = std::sync::Arc::clone(&app);
    let tally = Arc::new(Tally::default());
    let counted = Arc::clone(&tally);
    fuzz(
        strategy,
        move |(org, title, first, last, email, password, command)| {
            let app = std::sync::Arc::clone(&fuzzed);
            let tally = Arc::clone(&counted);
            Box::pin(async move {
                well_refused(
                &app,
                "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message } }",
                json!({ "input": { "organizationCode": org, "title": title, "firstName": first, "lastName": last,
                                   "email": email, "password": password, "commandId": command } }),
                None,
                &tally,
            )
            .await
            })
        },
    );
    tally.assert_reached_the_domain();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_activity_input_or_variables_shape_is_accepted_or_refused_with_a_code() {
    let app = std::sync::Arc::new(TestApp::spawn_with(|args| args.no_delivery = true).await);
    app.create_organization("acme").await;
    let staff = app.staff("acme", "staff@acme.example").await.token;
    let strategy = (
        // Each part valid three times in four, so that whole valid inputs come up too (and reach the domain).
        prop_oneof![3 => "[A-Z][a-z]{3,12} rounds", 1 => text("[A-Za-z ]{0,30}")],
        prop_oneof![3 => "[A-Z]{3}[0-9]{8}", 1 => text("[A-Z0-9]{0,18}")],
        prop_oneof![
            3 => Just(in_minutes(60)),
            1 => text("20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")
        ],
        prop_oneof![
            3 => Just(in_minutes(120)),
            1 => text("20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")
        ],
        prop_oneof![
            3 => Just("AMA_PRA_CATEGORY_1".to_owned()),
            1 => text("[A-Z_0-9]{0,20}")
        ],
        prop_oneof![3 => "[1-9](\\.[0-9]{1,2})?", 1 => text("[0-9]{0,3}(\\.[0-9]{0,3})?")],
        prop_oneof![3 => proptest::option::of(0i32..1440), 1 => proptest::option::of(-2000i32..3000)],
        json_value(),
    );
    let fuzzed = std::sync::Arc::clone(&app);
    let tally = Arc::new(Tally::default());
    let counted = Arc::clone(&tally);
    let shapes = Arc::new(Tally::default());
    fuzz(
        strategy,
        move |(title, code, starts, ends, credit, amount, before, wild)| {
            let app = std::sync::Arc::clone(&fuzzed);
            let staff = staff.clone();
            let tally = Arc::clone(&counted);
            let wild_tally = Arc::clone(&shapes);
            Box::pin(async move {
                let query = "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }";
                well_refused(
                    &app,
                    query,
                    json!({ "input": { "title": title, "code": code, "startsAt": starts, "endsAt": ends,
                                       "minutesBefore": before,
                                       "credits": [{ "type": credit, "amount": amount }] } }),
                    Some(&staff),
                    &tally,
                )
                .await?;
                // Variables of any shape: refused before execution, with a code.
                well_refused(
                    &app,
                    query,
                    json!({ "input": wild }),
                    Some(&staff),
                    &wild_tally,
                )
                .await
            })
        },
    );
    tally.assert_reached_the_domain();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_string_argument_of_a_query_inline_or_as_a_variable_is_answered_or_refused_with_a_code()
{
    let app = std::sync::Arc::new(TestApp::spawn_with(|args| args.no_delivery = true).await);
    app.create_organization("acme").await;
    let fuzzed = std::sync::Arc::clone(&app);
    let tally = Arc::new(Tally::default());
    let counted = Arc::clone(&tally);
    fuzz(
        (
            prop_oneof![3 => Just("acme".to_owned()), 1 => text("[a-z]{0,12}")],
            any::<bool>(),
        ),
        move |(code, inline)| {
            let app = std::sync::Arc::clone(&fuzzed);
            let tally = Arc::clone(&counted);
            Box::pin(async move {
                // JSON's string escapes are GraphQL's, so the code goes inline as a JSON string.
                let (query, variables) = if inline {
                    (
                        format!("{{ organization(code: {}) {{ name }} }}", json!(code)),
                        json!({}),
                    )
                } else {
                    (
                        "query($c: String!) { organization(code: $c) { name } }".to_owned(),
                        json!({ "c": code }),
                    )
                };
                well_refused(&app, &query, variables, None, &tally).await?;
                if code.contains('\u{0}') {
                    let answer = app.graphql(&query, json!({ "c": code }), None).await;
                    prop_assert_eq!(answer.error_code(), "TEXT_INVALID");
                }
                Ok(())
            })
        },
    );
    assert!(tally.accepted.load(Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_token_is_refused_with_a_code() {
    // Hundreds of resets from one address: the budgets are raised so that the tokens, not the throttle, are tried.
    let app = std::sync::Arc::new(
        TestApp::spawn_with(|args| {
            args.no_delivery = true;
            args.throttle_factor = 1_000;
        })
        .await,
    );
    app.create_organization("acme").await;
    // Header values must be visible ASCII; anything else never leaves the client.
    let strategy = (
        prop_oneof!["[!-~]{0,200}", "[A-Za-z0-9_-]{43}", "[A-Za-z0-9+/=]{0,64}"],
        any::<String>(),
    );
    let fuzzed = std::sync::Arc::clone(&app);
    fuzz(strategy, move |(bearer, token)| {
        let app = std::sync::Arc::clone(&fuzzed);
        Box::pin(async move {
            let before = events(&app).await;
            let answer = app.graphql("{ me { id } }", json!({}), Some(&bearer)).await;
            prop_assert_eq!(answer.status.as_u16(), 200);
            prop_assert_eq!(answer.error_code(), "UNAUTHENTICATED");
            for mutation in [
                "mutation($t: String!) { activateAccount(input: { token: $t }) { accountId } }",
                "mutation($t: String!) { confirmEmailChange(input: { token: $t }) { position } }",
                "mutation($t: String!) { resetPassword(input: { token: $t, newPassword: \"violet tractor sings at noon\" }) { position } }",
            ] {
                // The resolver itself refuses the token: the document is valid, so this is not a request error.
                let answer = app.graphql(mutation, json!({ "t": token }), None).await;
                prop_assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
                let code = answer.error_code();
                prop_assert!(
                    code.ends_with("TOKEN_INVALID") || code.ends_with("TOKEN_EXPIRED") || code == "UNAUTHENTICATED",
                    "{} refused with {}",
                    mutation,
                    answer.body
                );
            }
            prop_assert_eq!(events(&app).await, before, "a refused token wrote events");
            let page = app
                .client
                .get(format!("{}/activate", app.base))
                .query(&[("token", &token)])
                .send()
                .await
                .unwrap();
            prop_assert_eq!(page.status().as_u16(), 200);
            Ok(())
        })
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_sms_webhook_request_is_answered_without_a_server_error() {
    let app = std::sync::Arc::new(TestApp::spawn_with(|args| args.no_delivery = true).await);
    app.create_organization("acme").await;
    let staff = app.staff("acme", "staff@acme.example").await.token;
    app.configure_sms(&staff).await;
    let params = proptest::collection::vec(
        (
            prop_oneof![
                Just("From".to_owned()),
                Just("To".to_owned()),
                Just("Body".to_owned()),
                Just("MessageSid".to_owned()),
                "[A-Za-z]{0,12}"
            ],
            any::<String>(),
        ),
        0..8,
    );
    let strategy = (
        text("\\+1[0-9]{10}"),
        text("[A-Za-z0-9 ]{0,40}"),
        params,
        0u8..4,
        proptest::collection::vec(any::<u8>(), 0..400),
    );
    let fuzzed = std::sync::Arc::clone(&app);
    fuzz(strategy, move |(from, body, extra, signing, raw)| {
        let app = std::sync::Arc::clone(&fuzzed);
        Box::pin(async move {
            let url = format!("{}/sms/inbound", app.base);
            let mut params: Vec<(String, String)> = vec![
                ("From".into(), from),
                ("To".into(), SMS_NUMBER.into()),
                ("Body".into(), body),
                ("MessageSid".into(), "SMfuzz".into()),
            ];
            params.extend(extra);
            let request = app.client.post(&url);
            let response = match signing {
                // Signed as the provider would: a well-formed request, whatever the values.
                0 => request
                    .header(
                        "x-twilio-signature",
                        portal_gateway::sms::signature(SMS_TOKEN, &url, &params),
                    )
                    .form(&params),
                // Signed with another token, or not at all: refused.
                1 => request
                    .header(
                        "x-twilio-signature",
                        portal_gateway::sms::signature("not the token", &url, &params),
                    )
                    .form(&params),
                2 => request.form(&params),
                // Any bytes as the body.
                _ => request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", "AAAA")
                    .body(raw),
            }
            .send()
            .await
            .unwrap();
            let status = response.status().as_u16();
            prop_assert!(status < 500, "status {}", status);
            if signing == 0 {
                // Well signed: answered (a reply, or nothing to say), never refused as forged.
                prop_assert_eq!(status, 200);
            } else {
                prop_assert!(
                    status == 403 || status == 400 || status == 415 || status == 422,
                    "an unsigned or badly signed request got {}",
                    status
                );
            }
            Ok(())
        })
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_statement_or_test_result_input_is_accepted_or_refused_with_a_code() {
    let c = super::scheduling::clinic().await;
    let token = super::scheduling::patient(&c.app, &c.staff, 1).await;
    let at = c.app.caught_up("accounts").await;
    let patient = c
        .app
        .graphql(
            "query($at: LogPosition) { me(atLeast: $at) { id } }",
            json!({ "at": at }),
            Some(&token),
        )
        .await
        .assert_ok()["me"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let due = (chrono::Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .to_string();
    let observed = in_minutes(-60);
    let strategy = (
        any::<bool>(),
        prop_oneof![3 => Just(patient), 1 => text("[0-9a-f-]{36}")],
        prop_oneof![3 => "[A-Z][a-z]{3,12} visit", 1 => text(".{0,210}")],
        prop_oneof![3 => "[1-9][0-9]{0,3}(\\.[0-9]{1,2})?", 1 => text("-?[0-9]{0,9}([.,][0-9]{0,3})?")],
        prop_oneof![3 => Just(due), 1 => text("20[0-9]{2}-[0-9]{2}-[0-9]{2}")],
        prop_oneof![3 => "[A-Z0-9]{2,8}", 1 => text("[A-Za-z0-9.:_ ;-]{0,45}")],
        prop_oneof![3 => Just(observed), 1 => text("20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z")],
        prop_oneof![3 => Just("HIGH".to_owned()), 1 => text("[A-Z]{0,10}")],
    );
    let app = Arc::new(c);
    let fuzzed = Arc::clone(&app);
    let tally = Arc::new(Tally::default());
    let counted = Arc::clone(&tally);
    fuzz(
        strategy,
        move |(statement, patient, description, amount, due, code, observed, flag)| {
            let c = Arc::clone(&fuzzed);
            let tally = Arc::clone(&counted);
            Box::pin(async move {
                let (query, variables) = if statement {
                    (
                        "mutation($input: IssueStatementInput!) { issueStatement(input: $input) { id } }",
                        json!({ "input": { "patientId": patient, "dueOn": due,
                                           "items": [{ "description": description, "amount": amount }] } }),
                    )
                } else {
                    (
                        "mutation($input: RecordTestResultInput!) { recordTestResult(input: $input) { id } }",
                        json!({ "input": { "patientId": patient, "testCode": code, "testName": description,
                                           "value": amount, "flag": flag, "orderingProviderId": c.provider,
                                           "observedAt": observed } }),
                    )
                };
                well_refused(&c.app, query, variables, Some(&c.staff), &tally).await
            })
        },
    );
    tally.assert_reached_the_domain();
}
