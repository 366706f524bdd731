//! GraphQL over HTTP, to the letter: media types, status codes, GET without mutations, limits.

use serde_json::json;

use super::support::TestApp;

const GQL: &str = "application/graphql-response+json";

#[tokio::test]
async fn the_response_media_type_follows_accept() {
    let app = TestApp::spawn().await;
    let body = r#"{"query":"{ __typename }"}"#;
    let preferred = app
        .post_raw(Some("application/json"), Some(GQL), body)
        .await;
    assert_eq!(preferred.status, 200);
    assert!(
        preferred.content_type.starts_with(GQL),
        "{}",
        preferred.content_type
    );
    assert_eq!(preferred.body, json!({ "data": { "__typename": "Query" } }));
    let legacy = app
        .post_raw(Some("application/json"), Some("application/json"), body)
        .await;
    assert!(legacy.content_type.starts_with("application/json"));
    let none = app.post_raw(Some("application/json"), None, body).await;
    assert!(none.content_type.starts_with("application/json"));
    let any = app
        .post_raw(Some("application/json"), Some("*/*"), body)
        .await;
    assert!(any.content_type.starts_with("application/json"));
    let refused = app
        .post_raw(Some("application/json"), Some("text/html"), body)
        .await;
    assert_eq!(refused.status, 406);
}

#[tokio::test]
async fn post_bodies_must_be_json_objects_with_a_string_query() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.post_raw(None, Some(GQL), r#"{"query":"{ __typename }"}"#)
            .await
            .status,
        415
    );
    assert_eq!(
        app.post_raw(
            Some("text/plain"),
            Some(GQL),
            r#"{"query":"{ __typename }"}"#
        )
        .await
        .status,
        415
    );
    assert_eq!(
        app.post_raw(Some("application/json; charset=latin1"), Some(GQL), "{}")
            .await
            .status,
        415
    );
    for body in [
        "{",
        "[]",
        "{}",
        r#"{"query":1}"#,
        r#"{"query":"{ __typename }","variables":[]}"#,
        r#"{"query":"{ __typename }","operationName":3}"#,
        r#"{"query":"{ __typename }","extensions":"x"}"#,
    ] {
        for accept in [GQL, "application/json"] {
            let answer = app
                .post_raw(Some("application/json"), Some(accept), body)
                .await;
            assert_eq!(answer.status, 400, "{body} with {accept}");
            assert!(answer.body.get("data").is_none());
        }
    }
    let with_charset = app
        .post_raw(
            Some("application/json; charset=utf-8"),
            Some(GQL),
            r#"{"query":"{ __typename }"}"#,
        )
        .await;
    assert_eq!(with_charset.status, 200);
}

#[tokio::test]
async fn documents_that_do_not_parse_or_validate_are_request_errors() {
    let app = TestApp::spawn().await;
    for query in ["{", "{ noSuchField }", "query($x: Int!) { __typename }"] {
        let body = json!({ "query": query }).to_string();
        let strict = app
            .post_raw(Some("application/json"), Some(GQL), &body)
            .await;
        assert_eq!(strict.status, 400, "{query}");
        assert!(
            strict.body.get("data").is_none(),
            "{query}: {}",
            strict.body
        );
        assert!(strict.body["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty()));
        assert_eq!(
            strict.body["errors"][0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        let legacy = app
            .post_raw(Some("application/json"), Some("application/json"), &body)
            .await;
        assert_eq!(legacy.status, 200, "{query}");
    }
}

#[tokio::test]
async fn get_runs_queries_but_refuses_mutations() {
    let app = TestApp::spawn().await;
    let (answer, _) = app
        .get_query(&[("query", "{ __typename }")], Some(GQL))
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({ "data": { "__typename": "Query" } }));
    let (refused, allow) = app
        .get_query(&[("query", "mutation { signOut { position } }")], Some(GQL))
        .await;
    assert_eq!(refused.status, 405);
    assert_eq!(allow.as_deref(), Some("POST"));
    let (bad_variables, _) = app
        .get_query(
            &[("query", "{ __typename }"), ("variables", "[1]")],
            Some(GQL),
        )
        .await;
    assert_eq!(bad_variables.status, 400);
}

#[tokio::test]
async fn field_errors_are_answered_200_with_data() {
    let app = TestApp::spawn().await;
    let answer = app.graphql("{ me { id } }", json!({}), None).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.get("data").is_some());
    assert_eq!(answer.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn deep_and_complex_queries_are_refused_before_execution() {
    let app = TestApp::spawn().await;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(12),
        "} ".repeat(12)
    );
    let answer = app.graphql(&deep, json!({}), None).await;
    assert_eq!(answer.status, 400);
    let wide = format!(
        "{{ {} }}",
        (0..150)
            .map(|i| format!("a{i}: organization(code: \"x\") {{ id code }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let answer = app.graphql(&wide, json!({}), None).await;
    assert_eq!(answer.status, 400);
}

#[tokio::test]
async fn introspection_is_off_unless_enabled() {
    let app = TestApp::spawn().await;
    let answer = app
        .graphql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert_eq!(
        answer.body["data"]["__schema"],
        serde_json::Value::Null,
        "{}",
        answer.body
    );
    let on = TestApp::spawn_with(|args| args.introspection = true).await;
    on.graphql("{ __schema { queryType { name } } }", json!({}), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_batch_is_refused_with_its_own_code() {
    let app = TestApp::spawn().await;
    let answer = app
        .post_raw(
            Some("application/json"),
            Some(GQL),
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"}]"#,
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.error_code(),
        "BATCH_NOT_SUPPORTED",
        "{}",
        answer.body
    );
    assert!(answer.body.get("data").is_none());
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = TestApp::spawn().await;
    let body =
        json!({ "query": format!("{{ __typename }} # {}", "x".repeat(70 * 1024)) }).to_string();
    assert_eq!(
        app.post_raw(Some("application/json"), Some(GQL), &body)
            .await
            .status,
        413
    );
}

#[tokio::test]
async fn graphiql_is_served_to_browsers() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"));
    let page = response.text().await.unwrap();
    assert!(page.to_lowercase().contains("graphiql"));
    assert!(!page.contains("https://"), "nothing from a CDN: {page}");
    assert!(!page.contains("<script>"), "no inline script: {page}");
    for file in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "start.js",
    ] {
        let asset = app
            .client
            .get(format!("{}/graphiql/{file}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{file}");
    }
}

/// Debian's chromium, which `.ci/run` installs: a browser test fails clearly without it, never skips.
fn chromium() -> std::path::PathBuf {
    let path = std::path::PathBuf::from(
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
    );
    assert!(
        path.exists(),
        "{} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) or set CHROMIUM",
        path.display()
    );
    path
}

/// Runs headless chromium on `url` with `what` (`--dump-dom`, `--screenshot=…`), JavaScript given ten seconds.
fn headless(url: &str, what: &str) -> std::process::Output {
    let profile =
        std::env::temp_dir().join(format!("portal-chromium-{}", uuid::Uuid::new_v4().simple()));
    let output = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,900",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(what)
        .arg(url)
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(profile);
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_from_the_binary_in_a_real_browser_and_documents_the_schema() {
    let app = TestApp::spawn_with(|args| args.introspection = true).await;
    let url = format!("{}/graphql", app.base);
    let page = tokio::task::spawn_blocking({
        let url = url.clone();
        move || headless(&url, "--dump-dom")
    })
    .await
    .unwrap();
    assert!(page.status.success(), "{page:?}");
    let dom = String::from_utf8_lossy(&page.stdout);
    // The explorer rendered (its own files only: the policy allows nothing else) and read the schema by
    // introspection: the documentation lists the root types and the API's own types.
    assert!(!dom.contains("Loading GraphiQL…"), "GraphiQL did not start");
    for text in ["Root Types", "Mutation", "RegisterAccountInput"] {
        assert!(
            dom.contains(text),
            "{text} not in the documentation explorer"
        );
    }
    // A picture of it, for people (target/graphiql.png).
    let shot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/graphiql.png");
    let taken = tokio::task::spawn_blocking(move || {
        headless(&url, &format!("--screenshot={}", shot.display()))
    })
    .await
    .unwrap();
    assert!(taken.status.success(), "{taken:?}");
}

/// The committed `schema.graphql` is the contract clients generate code from: it is what the server serves, and what
/// `portal schema` prints. After a change of the API, regenerate it with `portal schema > schema.graphql`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_schema_is_the_one_the_server_serves_and_portal_schema_prints() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .expect("schema.graphql at the repository's root");
    let app = TestApp::spawn().await;
    assert!(
        app.state().schema().sdl() == committed,
        "schema.graphql differs from the server's schema: run `portal schema > schema.graphql`"
    );
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("schema")
        .output()
        .expect("portal runs");
    assert!(printed.status.success(), "{printed:?}");
    assert!(String::from_utf8(printed.stdout).unwrap() == committed);
}

/// graphql-js 16.15.0's `getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable:
/// true, schemaDescription: true, inputValueDeprecation: true })`, as GraphiQL, GraphQL Codegen and Apollo's codegen
/// send it, to the letter.
const INTROSPECTION: &str = include_str!("fixtures/introspection.graphql");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_introspection_query_is_answered_in_full_when_introspection_is_on() {
    let app = TestApp::spawn_with(|args| args.introspection = true).await;
    let answer = app.graphql(INTROSPECTION, json!({}), None).await;
    let schema = &answer.assert_ok()["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription");
    let types = schema["types"].as_array().unwrap();
    let named = |name: &str| types.iter().find(|t| t["name"] == name).cloned();
    let mutation = named("Mutation").expect("the Mutation type");
    assert!(mutation["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "signIn"));
    assert!(
        named("RegisterAccountInput").unwrap()["inputFields"]
            .as_array()
            .unwrap()
            .len()
            > 3
    );
    // Every type the schema prints is in the answer.
    let sdl = app.state().schema().sdl();
    for line in sdl.lines() {
        if let Some(rest) = [
            "type ",
            "input ",
            "enum ",
            "scalar ",
            "interface ",
            "union ",
        ]
        .iter()
        .find_map(|kind| line.strip_prefix(kind))
        {
            let name = rest.split([' ', '{', '@']).next().unwrap();
            assert!(
                named(name).is_some(),
                "{name} missing from the introspection answer"
            );
        }
    }
    // Off, nothing of the schema is answered.
    let off = TestApp::spawn().await;
    let hidden = off.graphql(INTROSPECTION, json!({}), None).await;
    assert_eq!(
        hidden.body["data"]["__schema"],
        serde_json::Value::Null,
        "{}",
        hidden.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_trusted_documents_only_registered_operations_run() {
    use portal_gateway::graphql::trusted::document_hash;
    const ORGANIZATION: &str =
        "query Organization($c: String!) { organization(code: $c) { name } }";
    const SIGN_OUT: &str = "mutation SignOut { signOut { position } }";
    let dir =
        std::env::temp_dir().join(format!("portal-trusted-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("persisted-documents.json");
    std::fs::write(
        &manifest,
        json!({ document_hash(ORGANIZATION): ORGANIZATION, document_hash(SIGN_OUT): SIGN_OUT })
            .to_string(),
    )
    .unwrap();
    let path = manifest.clone();
    let app = TestApp::spawn_with(move |args| {
        args.trusted_documents = Some(path);
        args.introspection = true;
    })
    .await;
    app.create_organization("acme").await;
    app.caught_up("organizations").await;
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.post_raw(
                Some("application/json"),
                Some("application/graphql-response+json"),
                &body.to_string(),
            )
            .await
        }
    };
    let variables = json!({ "c": "acme" });
    let by_document_id = post(json!({ "documentId": format!("sha256:{}", document_hash(ORGANIZATION)), "variables": variables })).await;
    assert_eq!(
        by_document_id.assert_ok()["organization"]["name"],
        "acme CE"
    );
    let by_apollo_hash = post(json!({ "variables": variables,
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": document_hash(ORGANIZATION) } } }))
    .await;
    assert_eq!(
        by_apollo_hash.assert_ok()["organization"]["name"],
        "acme CE"
    );
    let by_text = post(json!({ "query": ORGANIZATION, "variables": variables })).await;
    by_text.assert_ok();

    let other = post(json!({ "query": "{ organization(code: \"acme\") { name } }" })).await;
    assert_eq!(other.status, 400);
    assert_eq!(other.error_code(), "TRUSTED_DOCUMENT_REQUIRED");
    let unknown = post(json!({ "documentId": "ab".repeat(32) })).await;
    assert_eq!(unknown.error_code(), "PERSISTED_QUERY_NOT_FOUND");
    let introspection = post(json!({ "query": "{ __schema { queryType { name } } }" })).await;
    assert_eq!(introspection.error_code(), "TRUSTED_DOCUMENT_REQUIRED");
    // A registered mutation is still a mutation: not over GET.
    let get = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("documentId", document_hash(SIGN_OUT))])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);

    // A manifest whose ids are not the hashes of their documents stops the server from starting.
    std::fs::write(
        &manifest,
        json!({ "0".repeat(64): ORGANIZATION }).to_string(),
    )
    .unwrap();
    let database = portal_commands::testing::TestDatabase::empty().await;
    let args = portal_gateway::cli::ServeArgs {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        trusted_documents: Some(manifest),
        ..Default::default()
    };
    let refused = portal_gateway::app::start(
        database.config.clone(),
        2,
        portal_commands::secrets::MasterKey::generate(),
        &args,
    )
    .await;
    assert!(refused.is_err());
    let _ = std::fs::remove_dir_all(dir);
}
