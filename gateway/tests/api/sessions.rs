//! Session lifetime (issue 3): 30 minutes idle and 12 hours in all by default, configurable per organization.

use chrono::Duration;
use serde_json::json;

use super::support::TestApp;

const ME: &str = "{ me { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_after_thirty_idle_minutes_but_use_keeps_it_alive() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let state = &app.running.as_ref().unwrap().state;
    for _ in 0..3 {
        state.advance_clock(Duration::minutes(20));
        app.graphql(ME, json!({}), Some(&learner.token))
            .await
            .assert_ok();
    }
    state.advance_clock(Duration::minutes(31));
    assert_eq!(
        app.graphql(ME, json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_the_organizations_lifetime_however_busy() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.graphql(
        "mutation { setSecurityPolicy(input: { lockoutThreshold: 5, lockoutMode: COOL_DOWN, sessionHours: 1, sessionIdleMinutes: 45 }) { position } }",
        json!({}),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let learner = app.learner("umncpd", "ada@example.org").await;
    let state = &app.running.as_ref().unwrap().state;
    for _ in 0..2 {
        state.advance_clock(Duration::minutes(25));
        app.graphql(ME, json!({}), Some(&learner.token))
            .await
            .assert_ok();
    }
    state.advance_clock(Duration::minutes(11));
    assert_eq!(
        app.graphql(ME, json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
}
