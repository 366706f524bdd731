//! The patient portal's care features under load over HTTP: a real `portal serve` process (release build) on a fresh
//! database, with a clinic, 40 patients who each booked a visit and started a conversation with the provider's care
//! team, and a provider on that team.
//!
//! For each workload it measures the most the server does with 16 requests in flight, then a fixed rate of half that
//! (latency from each request's scheduled time). Workloads: replyToConversation by patients, and by the provider (a
//! reply also picks the conversation up once and writes the patient's notices to the outbox), recordTestResult by
//! staff, the patient's conversations (with unread counts), the care team's inbox (40 open conversations), and
//! myAppointments read by the patient and by a proxy through `X-Acting-For` (the proxy's grant and the patient's age
//! band are checked on each request, and the read goes to the access log): the proxy's ratio to the patient's own is
//! the cost of acting for someone.
//!
//! Run: `cargo bench -p portal-gateway --bench care`. BENCH_SECONDS per measurement (default 5), BENCH_DATABASE_URL
//! (default postgres://postgres@127.0.0.1:5432/postgres). Results: a table on stdout, JSON in target/bench-care.json.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Instant;

use portal_commands::credentials::BreachedPasswords;
use portal_commands::testing::bench::{self, BenchDatabase};
use portal_domain::account::Role;
use portal_domain::values::{EmailAddress, NamePart, OrganizationCode, Password, PersonName};
use portal_gateway::demo::{DEMO_CODE, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD};
use serde_json::{json, Value};
use uuid::Uuid;

mod common;
use common::{caught_up, max_then_half, serve, sign_in, Client, Op, Row, PASSWORD};

/// Patients, each with a visit and a conversation.
const PATIENTS: usize = 40;

#[tokio::main]
async fn main() {
    if !bench::measuring() {
        return;
    }
    let seconds: f64 = bench::setting("BENCH_SECONDS", 5.0);
    let database = BenchDatabase::create(8).await;
    let dir = std::env::temp_dir().join(format!("portal-care-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let server = serve(&database.url, &dir);
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("http client"),
        base: server.base.clone(),
    });
    let mail = dir.join("mail");

    let setup = Instant::now();
    caught_up(&database.pool).await;
    let staff = sign_in(
        &client,
        json!({ "organizationCode": DEMO_CODE, "email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD }),
    )
    .await;
    let id = |data: Value, field: &str| data[field]["id"].as_str().expect("id").to_owned();
    let common::Catalogue {
        location,
        provider,
        reason,
    } = common::catalogue(&client, &staff).await;
    let hours = common::every_day("08:00", "18:00");
    let from = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive();
    client
        .must(
            "mutation($input: PublishSlotsInput!) { publishSlots(input: $input) { created } }",
            json!({ "input": { "providerId": provider, "locationId": location, "from": from,
                               "to": from + chrono::Duration::days(4), "slotMinutes": 15, "hours": hours } }),
            Some(&staff),
        )
        .await;

    // The provider, added as `portal staff add --role provider` does, and the care team.
    let key =
        portal_gateway::app::load_master_key(None, &dir.join("master.key")).expect("master key");
    let (_, store) = portal_gateway::app::prepare(&database.config, 4, &key, "http://localhost")
        .await
        .expect("store");
    let organization = portal_commands::organizations::find_by_code(
        &store,
        &OrganizationCode::parse(DEMO_CODE).expect("code"),
    )
    .await
    .expect("organization")
    .expect("the demo organization");
    let provider_email = "doctor@care.example";
    let doctor_id = portal_gateway::staff::add_active(
        &store,
        &organization,
        portal_commands::accounts::NewAccount {
            name: PersonName {
                title: None,
                first: NamePart::parse("Ada").expect("name"),
                middle: None,
                last: NamePart::parse("Lovelace").expect("name"),
            },
            email: EmailAddress::parse(provider_email).expect("e-mail"),
            password: Password::parse(PASSWORD, &BreachedPasswords).expect("password"),
            role: Role::Provider,
        },
    )
    .await
    .expect("provider");
    let doctor = sign_in(
        &client,
        json!({ "organizationCode": DEMO_CODE, "email": provider_email, "password": PASSWORD }),
    )
    .await;
    client
        .must(
            "mutation($t: ID!, $m: [ID!]!) { setCareTeamMembers(teamId: $t, memberIds: $m) { position } }",
            json!({ "t": provider, "m": [doctor_id.0.to_string()] }),
            Some(&staff),
        )
        .await;

    // Patients: signed up, signed in, a visit booked, a conversation started.
    caught_up(&database.pool).await;
    let slots: Vec<Uuid> = database
        .pool
        .get()
        .await
        .expect("connection")
        .query(
            "SELECT id FROM slots WHERE status = 'open' ORDER BY starts_at",
            &[],
        )
        .await
        .expect("slots")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut patients = Vec::new();
    for (n, slot) in slots.iter().take(PATIENTS).enumerate() {
        let account = common::patient(&client, &mail, &staff, ("CR", "care"), n).await;
        let token = sign_in(
            &client,
            json!({ "organizationCode": DEMO_CODE, "username": format!("carepatient{n}"), "password": PASSWORD }),
        )
        .await;
        client
            .must(
                "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }",
                json!({ "input": { "slotId": slot, "reasonId": reason } }),
                Some(&token),
            )
            .await;
        patients.push((account, token));
    }
    caught_up(&database.pool).await;
    let mut conversations = Vec::new();
    for (_, token) in &patients {
        let started = client
            .must(
                "mutation($t: ID!) { startConversation(input: { teamId: $t, subject: \"A question\", body: \"Hello\" }) { id } }",
                json!({ "t": provider }),
                Some(token),
            )
            .await;
        conversations.push(id(started, "startConversation"));
    }
    // Patient 0 acts for patient 1 with full access.
    client
        .must(
            "mutation($input: GrantProxyAccessInput!) { grantProxyAccess(input: $input) { position } }",
            json!({ "input": { "patientId": patients[1].0, "proxyId": patients[0].0, "scope": "ALL",
                               "endsOn": from + chrono::Duration::days(365) } }),
            Some(&staff),
        )
        .await;
    caught_up(&database.pool).await;
    println!(
        "setup: {PATIENTS} patients, each with a visit and a conversation, in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let patients = Arc::new(patients);
    let conversations = Arc::new(conversations);
    let mut rows: Vec<Row> = Vec::new();
    let counter = Arc::new(AtomicUsize::new(0));
    let ok = |answer: Result<Value, Value>| answer.is_ok();

    let op: Op = {
        let (client, patients, conversations) =
            (client.clone(), patients.clone(), conversations.clone());
        Arc::new(move |n| {
            let (client, patients, conversations) =
                (client.clone(), patients.clone(), conversations.clone());
            Box::pin(async move {
                let i = n % PATIENTS;
                ok(client
                    .graphql(
                        "mutation($c: ID!) { replyToConversation(input: { conversationId: $c, body: \"One more question\" }) { position } }",
                        json!({ "c": conversations[i] }),
                        Some(&patients[i].1),
                    )
                    .await)
            })
        })
    };
    max_then_half(
        &mut rows,
        "replyToConversation (patient)",
        &op,
        seconds,
        &counter,
    )
    .await;

    let op: Op = {
        let (client, conversations, doctor) =
            (client.clone(), conversations.clone(), doctor.clone());
        Arc::new(move |n| {
            let (client, conversations, doctor) =
                (client.clone(), conversations.clone(), doctor.clone());
            Box::pin(async move {
                ok(client
                    .graphql(
                        "mutation($c: ID!) { replyToConversation(input: { conversationId: $c, body: \"Thank you, noted.\" }) { position } }",
                        json!({ "c": conversations[n % PATIENTS] }),
                        Some(&doctor),
                    )
                    .await)
            })
        })
    };
    max_then_half(
        &mut rows,
        "replyToConversation (care team)",
        &op,
        seconds,
        &counter,
    )
    .await;

    let op: Op = {
        let (client, patients, staff, provider) = (
            client.clone(),
            patients.clone(),
            staff.clone(),
            provider.clone(),
        );
        Arc::new(move |n| {
            let (client, patients, staff, provider) = (
                client.clone(),
                patients.clone(),
                staff.clone(),
                provider.clone(),
            );
            Box::pin(async move {
                ok(client
                    .graphql(
                        "mutation($input: RecordTestResultInput!) { recordTestResult(input: $input) { position } }",
                        json!({ "input": { "patientId": patients[n % PATIENTS].0, "testCode": "HBA1C",
                                           "testName": "Hemoglobin A1c", "value": "6.1", "unit": "%", "flag": "HIGH",
                                           "orderingProviderId": provider,
                                           "observedAt": chrono::Utc::now() - chrono::Duration::hours(1) } }),
                        Some(&staff),
                    )
                    .await)
            })
        })
    };
    max_then_half(&mut rows, "recordTestResult", &op, seconds, &counter).await;
    caught_up(&database.pool).await;

    let op: Op = {
        let (client, patients) = (client.clone(), patients.clone());
        Arc::new(move |n| {
            let (client, patients) = (client.clone(), patients.clone());
            Box::pin(async move {
                ok(client
                    .graphql(
                        "{ conversations { id unreadCount } }",
                        json!({}),
                        Some(&patients[n % PATIENTS].1),
                    )
                    .await)
            })
        })
    };
    max_then_half(&mut rows, "conversations (patient)", &op, seconds, &counter).await;

    let op: Op = {
        let (client, doctor) = (client.clone(), doctor.clone());
        Arc::new(move |_| {
            let (client, doctor) = (client.clone(), doctor.clone());
            Box::pin(async move {
                ok(client
                    .graphql(
                        "{ careTeamInbox { id unreadCount } }",
                        json!({}),
                        Some(&doctor),
                    )
                    .await)
            })
        })
    };
    max_then_half(&mut rows, "careTeamInbox (40 open)", &op, seconds, &counter).await;

    // The cost of acting for someone: the same read by the patient and by their proxy, at the same fixed rate.
    let own: Op = {
        let (client, patients) = (client.clone(), patients.clone());
        Arc::new(move |_| {
            let (client, patients) = (client.clone(), patients.clone());
            Box::pin(async move {
                ok(client
                    .graphql("{ myAppointments { id } }", json!({}), Some(&patients[1].1))
                    .await)
            })
        })
    };
    let proxy: Op = {
        let (client, patients) = (client.clone(), patients.clone());
        Arc::new(move |_| {
            let (client, patients) = (client.clone(), patients.clone());
            Box::pin(async move {
                client
                    .ok_acting_for(
                        "{ myAppointments { id } }",
                        json!({}),
                        &patients[0].1,
                        &patients[1].0,
                    )
                    .await
            })
        })
    };
    let own_max = common::closed_loop(Arc::clone(&own), seconds, Arc::clone(&counter)).await;
    let proxy_max = common::closed_loop(Arc::clone(&proxy), seconds, Arc::clone(&counter)).await;
    // Both at half the lower of the two maxima, so that neither queues and the ratio is the cost of one request.
    let rate = own_max.per_second.min(proxy_max.per_second) / 2.0;
    let mine = common::open_loop(own, rate, seconds, Arc::clone(&counter)).await;
    let acting = common::open_loop(proxy, rate, seconds, Arc::clone(&counter)).await;
    for (workload, mode, stats, reference) in [
        (
            "myAppointments (patient)",
            "max, 16 in flight",
            own_max,
            None,
        ),
        (
            "myAppointments (proxy, X-Acting-For)",
            "max, 16 in flight",
            proxy_max,
            None,
        ),
        (
            "myAppointments (patient)",
            "fixed rate, half of the lower max",
            mine,
            None,
        ),
        (
            "myAppointments (proxy, X-Acting-For)",
            "same rate; ratio to the patient's",
            acting,
            Some(mine),
        ),
    ] {
        rows.push(Row {
            workload: workload.to_owned(),
            mode,
            stats,
            reference,
        });
    }

    println!("\nthe care features over HTTP, {seconds} s per measurement");
    let results = common::table(&rows);
    drop(server);
    database.drop_database().await;
    let _ = std::fs::remove_dir_all(&dir);
    let target = bench::write_results(
        "bench-care.json",
        &json!({ "seconds": seconds, "rows": results }),
    );
    println!("results written to {}", target.display());
}
