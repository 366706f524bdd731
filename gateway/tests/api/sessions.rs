//! Session lifetime (issue 3): 30 minutes idle and 12 hours in all by default, configurable per organization.

use chrono::Duration;
use serde_json::json;

use super::support::{TestApp, PASSWORD};

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

/// A browser's request: the session cookie, an Origin, a GraphQL body.
async fn in_browser(
    app: &TestApp,
    cookie: Option<&str>,
    origin: Option<&str>,
    query: &str,
    variables: serde_json::Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

const COOKIE_SIGN_IN: &str =
    "mutation($input: SignInInput!) { signIn(input: $input) { token accountId expiresAt } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_session_lives_in_an_httponly_cookie_that_other_sites_cannot_use() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let sign_in = |password: &'static str| {
        let app = &app;
        async move {
            in_browser(
                app,
                None,
                Some(&app.base),
                COOKIE_SIGN_IN,
                json!({ "input": { "organizationCode": "umncpd", "email": "ada@example.org",
                                   "password": password, "setCookie": true } }),
            )
            .await
        }
    };
    let signed_in = sign_in(PASSWORD).await;
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "portal_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain HTTP on loopback: {set_cookie}"
    );
    let body: serde_json::Value = signed_in.json().await.unwrap();
    assert_eq!(
        body["data"]["signIn"]["token"],
        serde_json::Value::Null,
        "no token for scripts"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let me = in_browser(
        &app,
        Some(&cookie),
        Some(&app.base),
        "{ me { id } }",
        json!({}),
    )
    .await;
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["data"]["me"]["id"], learner.account_id.as_str());

    // Another site's page, or a request that says no origin at all, cannot ride on the cookie.
    for origin in [Some("https://evil.example"), None] {
        let forged = in_browser(
            &app,
            Some(&cookie),
            origin,
            "mutation { signOut { position } }",
            json!({}),
        )
        .await;
        assert_eq!(forged.status(), 403, "{origin:?}");
        let body: serde_json::Value = forged.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "CROSS_SITE_REQUEST_REFUSED"
        );
    }
    // Nor open a WebSocket with it.
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        request
            .headers_mut()
            .insert("origin", "https://evil.example".parse().unwrap());
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        assert!(tokio_tungstenite::connect_async(request).await.is_err());
    }
    // From the portal's own page, the cookie signs the socket in (an empty connection_init payload).
    {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Message;
        let mut request = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        request
            .headers_mut()
            .insert("origin", app.base.parse().unwrap());
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
            .send(Message::Text(
                json!({ "type": "connection_init" }).to_string().into(),
            ))
            .await
            .unwrap();
        let ack = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");
        socket
            .send(Message::Text(
                json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { unreadMessages }" } })
                    .to_string()
                    .into(),
            ))
            .await
            .unwrap();
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        // A learner is signed in (not refused as UNAUTHENTICATED): patients only, so FORBIDDEN.
        assert!(
            answer.to_text().unwrap().contains("FORBIDDEN"),
            "{answer:?}"
        );
    }
    // Apps and scripts keep using bearer tokens, with no Origin.
    app.graphql("{ me { id } }", json!({}), Some(&learner.token))
        .await
        .assert_ok();

    // Signing out from the browser ends the session and removes the cookie.
    let out = in_browser(
        &app,
        Some(&cookie),
        Some(&app.base),
        "mutation { signOut { position } }",
        json!({}),
    )
    .await;
    assert!(out.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let after: serde_json::Value = in_browser(
        &app,
        Some(&cookie),
        Some(&app.base),
        "{ me { id } }",
        json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(after["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // A lock ends a cookie session as it ends a bearer one.
    let again = sign_in(PASSWORD).await;
    let cookie = again.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for _ in 0..5 {
        sign_in("not the password at all").await;
    }
    let locked: serde_json::Value = in_browser(
        &app,
        Some(&cookie),
        Some(&app.base),
        "{ me { id } }",
        json!({}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(locked["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}
